'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Alert, Button } from '@/components/form';
import { StateBadge } from '@/components/migration-state';
import { Card } from '@/components/page-header';
import { useTRPC } from '@/components/trpc-provider';
import type { RemovalPreview, RemovedItem } from '@/server/privacy/removal-preview';

const number = (n: number) => n.toLocaleString('en-GB');
const plural = (n: number, one: string, many: string) => `${number(n)} ${n === 1 ? one : many}`;

const DANGER = 'bg-red-600 text-white shadow-sm hover:bg-red-700 disabled:bg-red-600/60 focus-visible:ring-red-500';

function ItemList({ items, testId }: { items: string[]; testId: string }) {
  return (
    <ul className="mt-1.5 space-y-1 text-sm text-slate-700" data-testid={testId}>
      {items.map((text) => (
        <li key={text} className="flex gap-2">
          <span aria-hidden="true" className="mt-2 h-1 w-1 shrink-0 rounded-full bg-slate-400" />
          <span className="min-w-0 [overflow-wrap:anywhere]">{text}</span>
        </li>
      ))}
    </ul>
  );
}

function keptItems(preview: RemovalPreview): string[] {
  const { keeps, organization } = preview;
  return [
    `${plural(keeps.migrations, 'migration', 'migrations')}, counted by month and state, with their dates and message counts`,
    `${plural(keeps.licences, 'licence key', 'licence keys')} and what was used (${plural(keeps.usage.migrationsDone, 'migration', 'migrations')} done)`,
    `The organization ${organization.name} and its ${plural(keeps.users, 'user', 'users')}`,
    'The receipts of what was deleted (kinds and counts, never the values)',
  ];
}

/** The one confirmation: what goes (with counts) and what stays. A modal <dialog>, so focus stays in it and Escape closes it. */
function ConfirmDialog({
  preview,
  isPending,
  error,
  onConfirm,
  onClose,
}: {
  preview: RemovalPreview;
  isPending: boolean;
  error: string | null;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    // No close() on cleanup: under React's development double effects it would close the dialog it just opened.
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog
      ref={ref}
      aria-labelledby="remove-data-title"
      aria-describedby="remove-data-description"
      onClose={onClose}
      className="m-auto w-[calc(100%-2rem)] max-w-lg rounded-xl border border-slate-200 bg-white p-0 text-left shadow-xl backdrop:bg-slate-900/50"
    >
      <div className="border-b border-slate-200 px-5 py-4 sm:px-6">
        <h2 id="remove-data-title" className="text-base font-semibold text-slate-900">
          Remove the personal data of {preview.organization.name}?
        </h2>
        <p id="remove-data-description" className="mt-1 text-sm text-slate-600">
          This cannot be undone. Nothing that stays names a migrated mailbox.
        </p>
      </div>
      <div className="max-h-[60vh] space-y-4 overflow-y-auto px-5 py-4 sm:px-6">
        <div>
          <h3 className="text-xs font-semibold uppercase tracking-wide text-red-700">Deleted</h3>
          <ItemList testId="dialog-deletes" items={preview.deletes.map((d) => d.text)} />
        </div>
        <div>
          <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Kept</h3>
          <ItemList testId="dialog-keeps" items={keptItems(preview)} />
        </div>
        {error ? <Alert>{error}</Alert> : null}
      </div>
      <div className="flex flex-col-reverse gap-2 border-t border-slate-200 bg-slate-50 px-5 py-3 sm:flex-row sm:justify-end sm:px-6">
        <Button type="button" variant="ghost" onClick={() => ref.current?.close()}>
          Keep the data
        </Button>
        <Button type="button" className={DANGER} disabled={isPending} onClick={onConfirm}>
          {isPending ? 'Removing…' : 'Remove personal data'}
        </Button>
      </div>
    </dialog>
  );
}

function ActiveMigrations({ preview, organizationId, onCancelled }: { preview: RemovalPreview; organizationId?: string; onCancelled: (text: string) => void }) {
  const trpc = useTRPC();
  const cancellable = preview.active.filter((m) => !m.isStopping).length;
  const cancel = useMutation(
    trpc.privacy.cancelActive.mutationOptions({
      onSuccess: (result) =>
        onCancelled(
          `${plural(result.cancelled, 'migration was', 'migrations were')} cancelled.` +
            (result.unitsReturned > 0 ? ` ${plural(result.unitsReturned, 'had not started and counts', 'had not started and count')} as remaining again.` : ''),
        ),
    }),
  );
  return (
    <div className="rounded-lg border border-amber-200 bg-amber-50/60" data-testid="active-migrations">
      <div className="px-4 pt-3">
        <h3 className="text-sm font-semibold text-amber-900">
          {preview.active.length > 0 ? `First, ${plural(preview.active.length, 'migration has', 'migrations have')} to end` : 'First, the mass submissions have to be checked'}
        </h3>
        <p className="mt-0.5 text-sm text-amber-900/80">
          {preview.active.length > 0
            ? 'A migration needs its addresses while it runs. Cancel these, or wait until they end. Those that have not started yet count as remaining again; running ones stop at their next checkpoint and stay used.'
            : null}
          {preview.checkingSubmissions > 0
            ? ` ${plural(preview.checkingSubmissions, 'mass submission is', 'mass submissions are')} still having their logins checked; this takes a few minutes.`
            : null}
        </p>
      </div>
      {preview.active.length > 0 ? (
        <ul className="mt-3 divide-y divide-amber-100 border-y border-amber-100 bg-white/70" aria-label="Active migrations">
          {preview.active.map((m) => (
            <li key={m.id} className="flex flex-wrap items-center justify-between gap-x-4 gap-y-1 px-4 py-2.5">
              <span className="min-w-0 text-sm font-medium text-slate-900 [overflow-wrap:anywhere]">{m.source || 'Migration without an address'}</span>
              {m.isStopping ? (
                <span className="text-xs font-medium text-amber-800" data-testid="stopping">
                  stopping — try again in a minute
                </span>
              ) : (
                <StateBadge state={m.state} />
              )}
            </li>
          ))}
        </ul>
      ) : null}
      <div className="flex flex-wrap items-center gap-3 px-4 py-3">
        {cancellable > 0 ? (
          <Button type="button" className={DANGER} disabled={cancel.isPending} onClick={() => cancel.mutate(organizationId ? { organizationId } : undefined)}>
            {cancel.isPending ? 'Cancelling…' : `Cancel ${plural(cancellable, 'migration', 'migrations')}`}
          </Button>
        ) : null}
        {cancel.error ? <Alert>{cancel.error.message}</Alert> : null}
      </div>
    </div>
  );
}

/** The migrations whose details were removed: the counts line and a table by month and state. */
export function RemovedCounts({ organizationId }: { organizationId?: string }) {
  const trpc = useTRPC();
  const counts = useQuery(trpc.privacy.countsBefore.queryOptions(organizationId ? { organizationId } : undefined));
  if (!counts.data || counts.data.count === 0) return null;
  return (
    <div className="space-y-3" data-testid="removed-counts">
      <p className="text-sm text-slate-700" data-testid="details-removed-summary">
        {counts.data.text}.
      </p>
      <div className="overflow-x-auto rounded-lg border border-slate-200">
        <table className="min-w-full text-sm">
          <caption className="sr-only">Migrations whose details were removed, by month and state</caption>
          <thead className="bg-slate-50 text-left text-xs font-medium uppercase tracking-wide text-slate-500">
            <tr>
              <th scope="col" className="px-3 py-2 sm:px-4">Month ended</th>
              <th scope="col" className="px-3 py-2 sm:px-4">State</th>
              <th scope="col" className="px-3 py-2 text-right sm:px-4">Count</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {counts.data.rows.map((r) => (
              <tr key={`${r.month}-${r.state}`}>
                <td className="whitespace-nowrap px-3 py-2 text-slate-700 sm:px-4">{r.monthLabel}</td>
                <td className="px-3 py-2 sm:px-4">
                  <StateBadge state={r.state} />
                </td>
                <td className="px-3 py-2 text-right tabular-nums text-slate-900 sm:px-4">{number(r.count)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/**
 * "Remove my data" for the customer's own organization, or (with `organizationId`) an admin's
 * "Personal data" of any: active migrations are listed to be cancelled first, then one
 * confirmation names what goes and what stays; afterwards what was removed, and the counts.
 */
export function RemoveDataPanel({ organizationId, title = 'Remove my data' }: { organizationId?: string; title?: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const target = organizationId ? { organizationId } : undefined;
  // A cancelled migration whose job is still stopping frees the way within a minute: look again meanwhile.
  const overview = useQuery(trpc.privacy.overview.queryOptions(target, { refetchInterval: (q) => (q.state.data?.active.some((m) => m.isStopping) ? 10_000 : false) }));
  const [confirming, setConfirming] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [removed, setRemoved] = useState<{ items: RemovedItem[] } | null>(null);
  const refresh = () => {
    void queryClient.invalidateQueries();
    router.refresh();
  };
  const remove = useMutation(
    trpc.privacy.remove.mutationOptions({
      onSuccess: (result) => {
        setConfirming(false);
        setNotice(null);
        setRemoved({ items: result.removed });
        refresh();
      },
    }),
  );

  let body: ReactNode;
  if (overview.isLoading) body = <p className="text-sm text-slate-500">Loading…</p>;
  else if (overview.error || !overview.data) body = <Alert>{overview.error?.message ?? 'This could not be loaded.'}</Alert>;
  else {
    const preview = overview.data;
    const isEmpty = preview.deletes.length === 0;
    body = (
      <>
        {removed ? (
          <Alert tone="success">
            <span data-testid="removal-result">
              <span className="font-medium">The personal data was removed.</span>{' '}
              {removed.items.length > 0 ? <>Removed: {removed.items.map((i) => i.text).join('; ')}.</> : 'There was nothing personal left to remove.'}
            </span>
          </Alert>
        ) : null}
        {notice ? <Alert tone="success">{notice}</Alert> : null}
        {preview.isBlocked ? (
          <ActiveMigrations
            preview={preview}
            organizationId={organizationId}
            onCancelled={(text) => {
              setNotice(text);
              setRemoved(null);
              refresh();
            }}
          />
        ) : null}
        <div>
          <h3 className="text-sm font-semibold text-slate-900">{isEmpty ? 'Nothing personal is stored' : 'What would be removed'}</h3>
          {isEmpty ? (
            <p className="mt-1 text-sm text-slate-600">None of the migrations of {preview.organization.name} holds an address, folder name or report.</p>
          ) : (
            <ItemList testId="removal-preview" items={preview.deletes.map((d) => d.text)} />
          )}
        </div>
        {isEmpty && !preview.isBlocked ? null : (
          <div className="flex flex-wrap items-center gap-3">
            <Button
              type="button"
              variant="secondary"
              className="border-red-300 text-red-700 hover:bg-red-50 disabled:border-slate-200"
              disabled={preview.isBlocked || isEmpty}
              onClick={() => {
                remove.reset();
                setConfirming(true);
              }}
            >
              Remove personal data…
            </Button>
            {preview.isBlocked ? <span className="text-xs text-slate-500">Possible once no migration is active.</span> : null}
          </div>
        )}
        {confirming ? (
          <ConfirmDialog
            preview={preview}
            isPending={remove.isPending}
            error={remove.error?.message ?? null}
            onConfirm={() => remove.mutate(target)}
            onClose={() => setConfirming(false)}
          />
        ) : null}
        <RemovedCounts organizationId={organizationId} />
      </>
    );
  }

  return (
    <Card>
      <div className="border-b border-slate-200 px-4 py-4 sm:px-6">
        <h2 className="text-base font-semibold text-slate-900">{title}</h2>
        <p className="mt-0.5 text-sm text-slate-500">
          Every migration’s addresses, usernames, servers, folder names, reports and verification details, and the IP addresses in the activity log. How many
          migrations were done stays.
        </p>
      </div>
      <div className="space-y-5 p-4 sm:p-6">{body}</div>
    </Card>
  );
}
