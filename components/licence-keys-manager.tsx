'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { KEY_SIZES, MAX_KEYS_PER_ISSUE, issueKeysSchema, type KeySize, type KeyState } from '@/server/licensing/schemas';
import { Alert, Button } from './form';
import { CheckIcon, CopyIcon, DownloadIcon, KeyIcon } from './icons';
import { Card, EmptyState, PageHeader } from './page-header';
import { useTRPC } from './trpc-provider';

const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium' });
const INSTALLATION = 'installation';

interface IssuedKeys {
  size: number;
  issuedAt: Date;
  reseller: { id: string; name: string } | null;
  keys: { id: string; key: string }[];
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Without clipboard permission (or outside a secure context) the old way still works.
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

function CopyButton({ text, label, children }: { text: string; label: string; children?: ReactNode }) {
  const [copied, setCopied] = useState(false);
  return (
    <Button
      type="button"
      variant="secondary"
      aria-label={label}
      className="px-3 py-1.5"
      onClick={async () => {
        if (await copyText(text)) {
          setCopied(true);
          setTimeout(() => setCopied(false), 2000);
        }
      }}
    >
      {copied ? <CheckIcon className="h-4 w-4 text-emerald-600" /> : <CopyIcon />}
      <span>{copied ? 'Copied' : (children ?? 'Copy')}</span>
    </Button>
  );
}

function csvOf(issued: IssuedKeys): string {
  const issuer = issued.reseller?.name ?? 'Installation';
  const quote = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  const rows = issued.keys.map((k) => [k.key, String(issued.size), issued.issuedAt.toISOString(), quote(issuer)].join(','));
  return `${['key,migrations,issued_at,issued_by', ...rows].join('\r\n')}\r\n`;
}

function downloadCsv(issued: IssuedKeys) {
  saveFile(`mailferry-keys-${issued.size}x${issued.keys.length}-${issued.issuedAt.toISOString().slice(0, 10)}.csv`, csvOf(issued));
}

function saveFile(filename: string, csv: string) {
  const blob = new Blob([csv], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The plain keys, shown this once, with copy and CSV download. */
function IssuedPanel({ issued, onDone }: { issued: IssuedKeys; onDone: () => void }) {
  const all = issued.keys.map((k) => k.key).join('\n');
  const plural = issued.keys.length === 1 ? '' : 's';
  return (
    <section aria-labelledby="issued-title" data-testid="issued-keys" className="mb-6 overflow-hidden rounded-xl border border-emerald-200 bg-white shadow-sm">
      <div className="flex flex-wrap items-start justify-between gap-4 border-b border-emerald-100 bg-emerald-50 px-6 py-4">
        <div className="flex gap-3">
          <span className="mt-0.5 flex h-8 w-8 flex-none items-center justify-center rounded-full bg-emerald-100 text-emerald-700">
            <CheckIcon />
          </span>
          <div>
            <h2 id="issued-title" className="text-base font-semibold text-emerald-950">
              {issued.keys.length} key{plural} issued for {issued.size} migrations each
            </h2>
            <p className="mt-0.5 text-sm text-emerald-800">
              Copy or download {issued.keys.length === 1 ? 'it' : 'them'} now: Mailferry keeps only a fingerprint of each key and cannot show{' '}
              {issued.keys.length === 1 ? 'it' : 'them'} again.
            </p>
          </div>
        </div>
        <div className="flex flex-wrap gap-2">
          <CopyButton text={all} label={`Copy all ${issued.keys.length} key${plural}`}>
            Copy all
          </CopyButton>
          <Button type="button" variant="secondary" className="px-3 py-1.5" onClick={() => downloadCsv(issued)}>
            <DownloadIcon />
            <span>Download CSV</span>
          </Button>
          <Button type="button" className="px-3 py-1.5" onClick={onDone}>
            Done
          </Button>
        </div>
      </div>
      <ul className="divide-y divide-slate-100">
        {issued.keys.map((k) => (
          <li key={k.id} className="flex flex-wrap items-center justify-between gap-3 px-6 py-2.5">
            <code data-testid="issued-key" className="select-all font-mono text-[15px] font-medium tracking-wider text-slate-900">
              {k.key}
            </code>
            <CopyButton text={k.key} label={`Copy ${k.key}`} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function IssueForm({
  isAdmin,
  resellers,
  pending,
  serverError,
  onSubmit,
  onCancel,
}: {
  isAdmin: boolean;
  resellers: { id: string; name: string }[];
  pending: boolean;
  serverError: string | null;
  onSubmit: (input: { size: KeySize; count: number; resellerId?: string | null }) => void;
  onCancel: () => void;
}) {
  const [size, setSize] = useState<KeySize>(10);
  const [count, setCount] = useState('1');
  const [issuer, setIssuer] = useState(INSTALLATION);
  const [error, setError] = useState<string | null>(null);

  function submit(event: FormEvent) {
    event.preventDefault();
    const parsed = issueKeysSchema.safeParse({ size, count: Number(count) });
    if (!parsed.success) {
      setError(parsed.error.issues[0]?.message ?? 'Check the form');
      return;
    }
    setError(null);
    onSubmit({ ...parsed.data, resellerId: isAdmin ? (issuer === INSTALLATION ? null : issuer) : undefined });
  }

  const n = Number(count);
  return (
    <form onSubmit={submit} noValidate className="space-y-5 p-6" aria-labelledby="issue-title">
      <div>
        <h2 id="issue-title" className="text-base font-semibold text-slate-900">
          Issue keys
        </h2>
        <p className="mt-1 text-sm text-slate-600">Each key is good for one organization and the number of migrations you choose.</p>
      </div>
      {serverError ? <Alert>{serverError}</Alert> : null}
      <fieldset>
        <legend className="mb-2 text-sm font-medium text-slate-700">Migrations per key</legend>
        <div className="grid grid-cols-5 gap-2 sm:max-w-xl">
          {KEY_SIZES.map((option) => (
            <label
              key={option}
              className={`relative flex cursor-pointer flex-col items-center rounded-lg border px-2 py-3 text-center transition has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-brand-500 ${
                size === option ? 'border-brand-500 bg-brand-50 text-brand-900 ring-1 ring-brand-500' : 'border-slate-200 bg-white text-slate-700 hover:border-slate-300'
              }`}
            >
              <input type="radio" name="size" value={option} checked={size === option} onChange={() => setSize(option)} className="absolute inset-0 cursor-pointer opacity-0" aria-label={`${option} migrations`} />
              <span className="text-xl font-semibold tabular-nums">{option}</span>
              <span className="text-xs text-slate-500">migrations</span>
            </label>
          ))}
        </div>
      </fieldset>
      <div className="grid gap-4 sm:grid-cols-2 sm:max-w-xl">
        <label className="block">
          <span className="mb-1 block text-sm font-medium text-slate-700">Number of keys</span>
          <input
            type="number"
            name="count"
            min={1}
            max={MAX_KEYS_PER_ISSUE}
            value={count}
            onChange={(e) => setCount(e.target.value)}
            aria-invalid={error ? true : undefined}
            className="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm outline-none focus:border-brand-500 focus:ring-2 focus:ring-brand-100"
          />
          <span className="mt-1 block text-xs text-slate-500">1 to {MAX_KEYS_PER_ISSUE} at once.</span>
        </label>
        {isAdmin ? (
          <label className="block">
            <span className="mb-1 block text-sm font-medium text-slate-700">Issued by</span>
            <select
              name="issuer"
              value={issuer}
              onChange={(e) => setIssuer(e.target.value)}
              className="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-brand-500 focus:outline-none focus:ring-2 focus:ring-brand-100"
            >
              <option value={INSTALLATION}>This installation (direct sale)</option>
              {resellers.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name}
                </option>
              ))}
            </select>
            <span className="mt-1 block text-xs text-slate-500">The reseller sees the keys and who installs them.</span>
          </label>
        ) : null}
      </div>
      {error ? <Alert>{error}</Alert> : null}
      <div className="flex items-center justify-between gap-4 border-t border-slate-100 pt-4">
        <p className="text-sm text-slate-600">
          {Number.isInteger(n) && n > 0 ? (
            <>
              <span className="font-semibold text-slate-900 tabular-nums">{n * size}</span> migrations in total
            </>
          ) : null}
        </p>
        <div className="flex gap-2">
          <Button type="button" variant="ghost" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" disabled={pending}>
            {pending ? 'Issuing…' : `Issue ${Number.isInteger(n) && n > 0 ? n : ''} key${n === 1 ? '' : 's'}`.replace('  ', ' ')}
          </Button>
        </div>
      </div>
    </form>
  );
}

const stateStyle: Record<KeyState, string> = {
  unused: 'bg-sky-50 text-sky-700 ring-sky-200',
  registered: 'bg-emerald-50 text-emerald-700 ring-emerald-200',
  revoked: 'bg-slate-100 text-slate-600 ring-slate-200',
};
const stateLabel: Record<KeyState, string> = { unused: 'Unused', registered: 'Registered', revoked: 'Revoked' };

function Stat({ label, value, detail }: { label: string; value: ReactNode; detail: string }) {
  return (
    <div className="rounded-xl border border-slate-200 bg-white px-5 py-4 shadow-sm">
      <p className="text-xs font-semibold uppercase tracking-wide text-slate-500">{label}</p>
      <p className="mt-1.5 text-2xl font-semibold tabular-nums tracking-tight text-slate-900">{value}</p>
      <p className="mt-0.5 text-xs text-slate-500">{detail}</p>
    </div>
  );
}

type Filter = 'all' | KeyState;

/** Licence keys of a reseller (its own) or of the whole installation (admin). */
export function LicenceKeysManager({ isAdmin }: { isAdmin: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [issued, setIssued] = useState<IssuedKeys | null>(null);
  const [filter, setFilter] = useState<Filter>('all');
  const [issuerFilter, setIssuerFilter] = useState('');
  const [confirming, setConfirming] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const listInput = isAdmin && issuerFilter ? { resellerId: issuerFilter === INSTALLATION ? null : issuerFilter } : undefined;
  const list = useQuery(trpc.licenceKeys.list.queryOptions(listInput));
  const resellers = useQuery({ ...trpc.admin.listOrganizations.queryOptions({ kind: 'reseller' }), enabled: isAdmin });
  const resellerOptions = (resellers.data ?? []).map((r) => ({ id: r.id, name: r.name }));
  const allowance = useQuery({ ...trpc.licenceKeys.allowance.queryOptions(), enabled: !isAdmin });
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: trpc.licenceKeys.list.pathKey() }),
      queryClient.invalidateQueries({ queryKey: trpc.licenceKeys.allowance.pathKey() }),
    ]);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  async function exportCsv() {
    setExporting(true);
    setExportError(null);
    try {
      const file = await queryClient.fetchQuery({ ...trpc.licenceKeys.exportCsv.queryOptions(), staleTime: 0 });
      saveFile(file.filename, file.csv);
    } catch (error) {
      setExportError(error instanceof Error ? error.message : 'The export failed. Please try again.');
    } finally {
      setExporting(false);
    }
  }

  const issue = useMutation(
    trpc.licenceKeys.issue.mutationOptions({
      onSuccess: (result) => {
        setIssued(result);
        setOpen(false);
        setNotice(null);
        void refresh();
      },
    }),
  );
  const revoke = useMutation(
    trpc.licenceKeys.revoke.mutationOptions({
      onSuccess: () => {
        setConfirming(null);
        setNotice('The key was revoked. It can no longer be installed.');
        void refresh();
      },
      onError: () => setConfirming(null),
    }),
  );

  const keys = list.data?.keys ?? [];
  const shown = filter === 'all' ? keys : keys.filter((k) => k.state === filter);
  const summary = list.data?.summary;
  const counts: Record<Filter, number> = {
    all: summary ? summary.unused + summary.registered + summary.revoked : 0,
    unused: summary?.unused ?? 0,
    registered: summary?.registered ?? 0,
    revoked: summary?.revoked ?? 0,
  };

  return (
    <>
      <PageHeader
        title="Licence keys"
        description={
          isAdmin
            ? 'Every activation key of this installation. Issue keys for a reseller, or sell them directly to customers.'
            : 'Activation keys you sell to your customers. A customer installs a key once; its migrations add to the customer’s total.'
        }
        actions={
          <>
            <Button variant="secondary" onClick={() => void exportCsv()} disabled={exporting} title="Every key with its state and usage, for billing">
              <DownloadIcon className="h-4 w-4" />
              {exporting ? 'Exporting…' : 'Export CSV'}
            </Button>
            <Button
              onClick={() => {
                setOpen(true);
                setIssued(null);
                setNotice(null);
                issue.reset();
              }}
            >
              <KeyIcon className="h-4 w-4" />
              Issue keys
            </Button>
          </>
        }
      />
      {exportError ? (
        <div className="mb-4">
          <Alert>{exportError}</Alert>
        </div>
      ) : null}
      {allowance.data?.cap != null ? (
        <div className="mb-4" data-testid="key-allowance">
          <Alert tone="info">
            You may hold at most {allowance.data.cap} unused key{allowance.data.cap === 1 ? '' : 's'} at once and hold {allowance.data.unused} now
            {allowance.data.room === 0 ? ', so no more can be issued until customers install some or you revoke unused ones.' : `: up to ${allowance.data.room} more can be issued.`}
          </Alert>
        </div>
      ) : null}
      {issued ? <IssuedPanel issued={issued} onDone={() => setIssued(null)} /> : null}
      {open ? (
        <Card className="mb-6">
          <IssueForm
            isAdmin={isAdmin}
            resellers={resellerOptions}
            pending={issue.isPending}
            serverError={issue.error?.message ?? null}
            onSubmit={(input) => issue.mutate(input)}
            onCancel={() => setOpen(false)}
          />
        </Card>
      ) : null}
      {notice ? (
        <div className="mb-4">
          <Alert tone="success">{notice}</Alert>
        </div>
      ) : null}
      {revoke.error ? (
        <div className="mb-4">
          <Alert>{revoke.error.message}</Alert>
        </div>
      ) : null}

      <div className="mb-6 grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Stat label="Unused keys" value={summary?.unused ?? '–'} detail="ready to hand out" />
        <Stat label="Registered" value={summary?.registered ?? '–'} detail="installed by a customer" />
        <Stat label="Migrations sold" value={summary?.registeredUnits ?? '–'} detail="in registered keys" />
        <Stat label="Migrations used" value={summary ? `${summary.usedUnits} / ${summary.registeredUnits}` : '–'} detail="of those sold" />
      </div>

      <Card className="overflow-hidden">
        <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-200 px-4 py-3 sm:px-6">
          <div role="group" aria-label="Show keys" className="flex flex-wrap gap-1">
            {(['all', 'unused', 'registered', 'revoked'] as const).map((option) => (
              <button
                key={option}
                type="button"
                aria-pressed={filter === option}
                onClick={() => setFilter(option)}
                className={`rounded-md px-3 py-1.5 text-sm font-medium transition focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500 ${
                  filter === option ? 'bg-slate-900 text-white' : 'text-slate-600 hover:bg-slate-100 hover:text-slate-900'
                }`}
              >
                {option === 'all' ? 'All' : stateLabel[option]}
                <span className={`ml-1.5 tabular-nums ${filter === option ? 'text-slate-300' : 'text-slate-400'}`}>{counts[option]}</span>
              </button>
            ))}
          </div>
          {isAdmin ? (
            <label className="flex items-center gap-2 text-sm text-slate-600">
              <span>Issued by</span>
              <select
                value={issuerFilter}
                onChange={(e) => setIssuerFilter(e.target.value)}
                className="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm shadow-sm focus:border-brand-500 focus:outline-none focus:ring-2 focus:ring-brand-100"
              >
                <option value="">Everyone</option>
                <option value={INSTALLATION}>This installation</option>
                {resellerOptions.map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.name}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
        </div>
        {list.isLoading ? (
          <p className="px-6 py-12 text-center text-sm text-slate-500">Loading…</p>
        ) : list.error ? (
          <div className="p-6">
            <Alert>{list.error.message}</Alert>
          </div>
        ) : shown.length === 0 ? (
          <EmptyState title={keys.length === 0 ? 'No keys yet' : `No ${stateLabel[filter as KeyState].toLowerCase()} keys`} icon={<KeyIcon />}>
            {keys.length === 0 ? 'Issue keys for 5, 10, 25, 50 or 100 migrations and hand them to your customers.' : null}
          </EmptyState>
        ) : (
          // Positioned, so the visually hidden column label stays inside the scrolling box and
          // does not widen the page on a phone.
          <div className="relative overflow-x-auto">
            <table className="w-full min-w-[56rem] text-left text-sm">
              <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
                <tr>
                  <th scope="col" className="px-6 py-2.5 font-medium">Key</th>
                  <th scope="col" className="px-4 py-2.5 text-right font-medium">Migrations</th>
                  <th scope="col" className="px-4 py-2.5 font-medium">State</th>
                  <th scope="col" className="min-w-[13rem] px-4 py-2.5 font-medium">Registered by</th>
                  <th scope="col" className="px-4 py-2.5 font-medium">Used</th>
                  <th scope="col" className="px-4 py-2.5 font-medium">{isAdmin ? 'Issued by' : 'Issued'}</th>
                  <th scope="col" className="px-6 py-2.5 text-right font-medium">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {shown.map((key) => (
                  <tr key={key.id} data-testid="key-row" className="transition-colors hover:bg-slate-50/60">
                    <td className={`whitespace-nowrap px-6 py-3 font-mono text-[13px] tracking-wide ${key.state === 'revoked' ? 'text-slate-400 line-through' : 'text-slate-800'}`}>
                      {key.maskedKey}
                    </td>
                    <td className="px-4 py-3 text-right font-medium tabular-nums text-slate-900">{key.size}</td>
                    <td className="px-4 py-3">
                      <span className={`inline-flex rounded-full px-2 py-0.5 text-xs font-medium ring-1 ${stateStyle[key.state]}`}>{stateLabel[key.state]}</span>
                    </td>
                    <td className="px-4 py-3">
                      {key.state === 'registered' ? (
                        <>
                          <div className="font-medium text-slate-800">
                            {key.organization?.name ?? 'Deleted organization'}
                            {key.organization?.deletedAt ? <span className="font-normal text-slate-500"> (deleted)</span> : null}
                          </div>
                          <div className="text-xs text-slate-500">{dateFormat.format(key.registeredAt!)}</div>
                        </>
                      ) : key.state === 'revoked' ? (
                        <span className="text-xs text-slate-500">Revoked {dateFormat.format(key.revokedAt!)}</span>
                      ) : (
                        <span className="text-slate-400">—</span>
                      )}
                    </td>
                    <td className="px-4 py-3">
                      {key.state === 'registered' ? (
                        <div className="flex items-center gap-2.5">
                          <div className="h-1.5 w-16 overflow-hidden rounded-full bg-slate-100" aria-hidden="true">
                            <div className="h-full rounded-full bg-brand-600" style={{ width: `${Math.round((key.used / key.size) * 100)}%` }} />
                          </div>
                          <span className="whitespace-nowrap tabular-nums text-slate-600">
                            {key.used} / {key.size}
                          </span>
                        </div>
                      ) : (
                        <span className="text-slate-400">—</span>
                      )}
                    </td>
                    <td className="px-4 py-3 text-slate-500">
                      {isAdmin ? <div className="font-medium text-slate-700">{key.reseller?.name ?? 'This installation'}</div> : null}
                      <div className={`whitespace-nowrap ${isAdmin ? 'text-xs text-slate-500' : ''}`}>{dateFormat.format(key.createdAt)}</div>
                    </td>
                    <td className="whitespace-nowrap px-6 py-3 text-right">
                      {key.state !== 'unused' ? null : confirming === key.id ? (
                        <span className="inline-flex items-center gap-1">
                          <span className="mr-1 text-xs text-slate-600">Revoke this key?</span>
                          <button
                            type="button"
                            className="rounded-md bg-red-600 px-2.5 py-1 text-sm font-medium text-white shadow-sm transition hover:bg-red-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500 focus-visible:ring-offset-2 disabled:opacity-60"
                            disabled={revoke.isPending}
                            onClick={() => revoke.mutate({ id: key.id })}
                          >
                            Revoke
                          </button>
                          <button
                            type="button"
                            className="rounded-md px-2.5 py-1 text-sm font-medium text-slate-600 transition hover:bg-slate-100 hover:text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
                            onClick={() => setConfirming(null)}
                          >
                            Keep
                          </button>
                        </span>
                      ) : (
                        <button
                          type="button"
                          className="rounded-md px-2.5 py-1 text-sm font-medium text-red-700 transition hover:bg-red-50 hover:text-red-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500"
                          aria-label={`Revoke ${key.maskedKey}`}
                          onClick={() => {
                            revoke.reset();
                            setConfirming(key.id);
                          }}
                        >
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}
