'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent, type ReactNode } from 'react';
import { Alert, Button, Field, TextInput } from '@/components/form';
import { fieldErrorOf } from '@/components/field-error';
import { Card, PageHeader } from '@/components/page-header';
import { QuotaMeter } from '@/components/quota-meter';
import { useTRPC } from '@/components/trpc-provider';
import { ReceiptsSection } from '../../privacy/receipts-section';
import { RemoveDataPanel } from '../../privacy/remove-data-panel';
import { UserRow } from './user-row';
import { AddUserForm } from './add-user-form';

const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium' });

function Detail({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
      <dd className="mt-1 text-sm text-slate-900 [overflow-wrap:anywhere]">{children}</dd>
    </div>
  );
}

export function OrganizationPage({
  id,
  currentUserId,
  back,
  isAdmin = false,
}: {
  id: string;
  currentUserId: string;
  back: { href: string; label: string } | null;
  /** Admins remove a customer's personal data here (its own users do it on their Privacy page). */
  isAdmin?: boolean;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const detail = useQuery(trpc.manage.organization.queryOptions({ id }));
  const [notice, setNotice] = useState<{ tone: 'success' | 'info'; text: ReactNode } | null>(null);
  const [adding, setAdding] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.manage.organization.queryKey({ id }) });

  if (detail.isLoading) return <p className="py-12 text-center text-sm text-slate-500">Loading…</p>;
  if (detail.error || !detail.data) return <Alert>{detail.error?.message ?? 'This organization could not be loaded.'}</Alert>;
  const org = detail.data;
  const kindLabel = org.kind === 'reseller' ? 'Reseller' : 'Customer';

  return (
    <>
      {back ? (
        <Link href={back.href} className="mb-3 inline-block text-sm font-medium text-brand-700 hover:text-brand-800">
          ← {back.label}
        </Link>
      ) : null}
      <PageHeader
        title={org.name}
        description={
          <>
            {kindLabel}
            {org.reseller ? <> · via {org.reseller.name}</> : null} · created {dateFormat.format(org.createdAt)}
          </>
        }
      />
      {notice ? (
        <div className="mb-4">
          <Alert tone={notice.tone}>{notice.text}</Alert>
        </div>
      ) : null}

      <div className="grid gap-6 lg:grid-cols-3">
        <div className="space-y-6 lg:col-span-2">
          <Card>
            <div className="border-b border-slate-200 px-4 py-4 sm:px-6">
              <h2 className="text-base font-semibold text-slate-900">Details</h2>
            </div>
            <div className="space-y-6 p-4 sm:p-6">
              <RenameForm
                id={org.id}
                name={org.name}
                onRenamed={(name) => {
                  setNotice({ tone: 'success', text: `The organization is now called ${name}.` });
                  void refresh();
                  router.refresh();
                }}
              />
              <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4">
                <Detail label="Type">{kindLabel}</Detail>
                {org.quota ? <Detail label="Mode">{org.quota.mode === 'free' ? 'Free evaluation' : 'Commercial'}</Detail> : null}
                {org.kind === 'customer' ? (
                  <>
                    <Detail label="Licences">{org.licences === 0 ? 'None installed' : `${org.licences} installed`}</Detail>
                    <Detail label="Migrations">
                      <span data-testid="migrations-count">
                        {org.migrations.total} · {org.migrations.active} active
                      </span>
                    </Detail>
                  </>
                ) : (
                  <Detail label="Customers">{org._count.customers}</Detail>
                )}
              </dl>
            </div>
          </Card>

          <Card>
            <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-200 px-4 py-4 sm:px-6">
              <div>
                <h2 className="text-base font-semibold text-slate-900">Users</h2>
                <p className="mt-0.5 text-sm text-slate-500">Everyone who signs in for {org.name}.</p>
              </div>
              {!adding ? (
                <Button variant="secondary" onClick={() => { setAdding(true); setNotice(null); }}>
                  Add user
                </Button>
              ) : null}
            </div>
            {adding ? (
              <div className="border-b border-slate-200 bg-slate-50/60">
                <AddUserForm
                  organizationId={org.id}
                  onCancel={() => setAdding(false)}
                  onAdded={(email) => {
                    setAdding(false);
                    setNotice({ tone: 'success', text: `${email} was added and can sign in now.` });
                    void refresh();
                  }}
                />
              </div>
            ) : null}
            <ul className="divide-y divide-slate-100" aria-label="Users">
              {org.users.map((user) => (
                <UserRow
                  key={user.id}
                  user={user}
                  isSelf={user.id === currentUserId}
                  isOnly={org.users.length === 1}
                  onChanged={(text) => {
                    setNotice(text ? { tone: 'success', text } : null);
                    void refresh();
                  }}
                />
              ))}
            </ul>
          </Card>

          {isAdmin && org.kind === 'customer' ? (
            <div data-testid="personal-data">
              <RemoveDataPanel organizationId={org.id} title="Personal data" />
              <div className="mt-6">
                <ReceiptsSection organizationId={org.id} />
              </div>
            </div>
          ) : null}
        </div>

        <div className="space-y-6">
          {org.quota ? <QuotaMeter quota={org.quota} showLicenceLink={false} /> : null}
          {org.issuedKeys ? (
            <Card className="p-4 sm:p-6">
              <h2 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Keys issued</h2>
              <p className="mt-3 text-sm text-slate-700">
                <span className="text-2xl font-semibold tabular-nums text-slate-900">{org.issuedKeys.unused}</span> unused
                {org.unusedKeyCap !== null ? ` of at most ${org.unusedKeyCap}` : ''} · {org.issuedKeys.registered} installed by customers
              </p>
            </Card>
          ) : (
            <Card className="p-4 sm:p-6">
              <h2 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Usage</h2>
              <p className="mt-3 text-sm text-slate-700">
                <span className="text-2xl font-semibold tabular-nums text-slate-900">{org.usage.migrationsDone}</span> migration
                {org.usage.migrationsDone === 1 ? '' : 's'} run so far
              </p>
              <p className="mt-1 text-xs text-slate-500">
                {org.usage.freeUnits} free and {org.usage.commercialUnits} licensed migration{org.usage.commercialUnits === 1 ? '' : 's'} used or held.
              </p>
            </Card>
          )}
          {org.can.setKeyCap ? <KeyCapForm resellerId={org.id} cap={org.unusedKeyCap} onSaved={(text) => { setNotice({ tone: 'success', text }); void refresh(); }} /> : null}
          {org.can.delete ? (
            <DeleteOrganization
              id={org.id}
              name={org.name}
              activeMigrations={org.migrations.active}
              deletion={org.deletion}
              onDeleted={() => router.push(back?.href ?? '/')}
            />
          ) : null}
        </div>
      </div>
    </>
  );
}

function RenameForm({ id, name, onRenamed }: { id: string; name: string; onRenamed: (name: string) => void }) {
  const trpc = useTRPC();
  const [value, setValue] = useState(name);
  const rename = useMutation(trpc.manage.rename.mutationOptions({ onSuccess: (org) => onRenamed(org.name) }));
  const fieldError = fieldErrorOf(rename.error, 'name');
  function submit(event: FormEvent) {
    event.preventDefault();
    rename.mutate({ id, name: value });
  }
  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-2 sm:flex-row sm:items-end">
      <div className="min-w-0 flex-1">
        <Field label="Organization name" error={fieldError ?? (rename.error && !fieldError ? rename.error.message : undefined)}>
          <TextInput value={value} onChange={(e) => setValue(e.target.value)} invalid={!!rename.error} />
        </Field>
      </div>
      <Button type="submit" variant="secondary" disabled={rename.isPending || value.trim() === name} className={rename.error ? 'sm:mb-6' : ''}>
        {rename.isPending ? 'Saving…' : 'Rename'}
      </Button>
    </form>
  );
}

function KeyCapForm({ resellerId, cap, onSaved }: { resellerId: string; cap: number | null; onSaved: (text: string) => void }) {
  const trpc = useTRPC();
  const [value, setValue] = useState(cap === null ? '' : String(cap));
  const save = useMutation(
    trpc.manage.setUnusedKeyCap.mutationOptions({
      onSuccess: (result) =>
        onSaved(result.unusedKeyCap === null ? 'This reseller may now hold any number of unused keys.' : `This reseller may now hold at most ${result.unusedKeyCap} unused keys.`),
    }),
  );
  const [error, setError] = useState<string | null>(null);
  function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = value.trim();
    if (trimmed !== '' && !/^\d+$/.test(trimmed)) {
      setError('Enter a whole number, or leave it empty for no cap.');
      return;
    }
    setError(null);
    save.mutate({ resellerId, cap: trimmed === '' ? null : Number(trimmed) });
  }
  return (
    <Card className="p-4 sm:p-6">
      <form onSubmit={submit} noValidate className="space-y-3">
        <h2 className="text-base font-semibold text-slate-900">Unused key cap</h2>
        <p className="text-sm text-slate-600">How many keys this reseller may hold that no customer installed yet. Empty: no cap.</p>
        <Field label="Most unused keys" error={error ?? save.error?.message}>
          <TextInput inputMode="numeric" value={value} onChange={(e) => setValue(e.target.value)} placeholder="No cap" invalid={!!(error ?? save.error)} />
        </Field>
        <Button type="submit" variant="secondary" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save cap'}
        </Button>
      </form>
    </Card>
  );
}

function DeleteOrganization({
  id,
  name,
  activeMigrations,
  deletion,
  onDeleted,
}: {
  id: string;
  name: string;
  activeMigrations: number;
  deletion: { deletes: readonly string[]; keeps: readonly string[] };
  onDeleted: () => void;
}) {
  const trpc = useTRPC();
  const [open, setOpen] = useState(false);
  const [confirmName, setConfirmName] = useState('');
  const remove = useMutation(trpc.manage.deleteOrganization.mutationOptions({ onSuccess: onDeleted }));
  return (
    <Card className="border-red-200 p-4 sm:p-6">
      <h2 className="text-base font-semibold text-red-800">Delete organization</h2>
      {activeMigrations > 0 ? (
        <p className="mt-2 text-sm text-slate-600">
          {name} has {activeMigrations} active migration{activeMigrations === 1 ? '' : 's'}. It can be deleted once {activeMigrations === 1 ? 'it has' : 'they have'} ended or been cancelled.
        </p>
      ) : !open ? (
        <>
          <p className="mt-2 text-sm text-slate-600">Removes its users and personal data for good. Its counts stay for billing.</p>
          <Button variant="secondary" className="mt-4 border-red-300 text-red-700 hover:bg-red-50" onClick={() => setOpen(true)}>
            Delete organization…
          </Button>
        </>
      ) : (
        <form
          className="mt-3 space-y-3"
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            remove.mutate({ id, confirmName });
          }}
        >
          <div className="text-sm text-slate-700">
            <p className="font-medium">Deleted:</p>
            <ul className="mt-1 list-disc space-y-0.5 pl-5">
              {deletion.deletes.map((item) => (
                <li key={item}>{item}</li>
              ))}
            </ul>
            <p className="mt-3 font-medium">Kept:</p>
            <ul className="mt-1 list-disc space-y-0.5 pl-5">
              {deletion.keeps.map((item) => (
                <li key={item}>{item}</li>
              ))}
            </ul>
          </div>
          {remove.error && !fieldErrorOf(remove.error, 'confirmName') ? <Alert>{remove.error.message}</Alert> : null}
          <Field label={`Type ${name} to confirm`} error={fieldErrorOf(remove.error, 'confirmName')}>
            <TextInput value={confirmName} onChange={(e) => setConfirmName(e.target.value)} autoComplete="off" />
          </Field>
          <div className="flex flex-wrap gap-2">
            <Button type="submit" className="bg-red-600 hover:bg-red-700 disabled:bg-red-600/60" disabled={remove.isPending || confirmName.trim() !== name}>
              {remove.isPending ? 'Deleting…' : 'Delete for good'}
            </Button>
            <Button type="button" variant="ghost" onClick={() => { setOpen(false); setConfirmName(''); remove.reset(); }}>
              Cancel
            </Button>
          </div>
        </form>
      )}
    </Card>
  );
}
