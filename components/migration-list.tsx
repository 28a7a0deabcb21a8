'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { Fragment, useState, type ReactNode } from 'react';
import type { AccountType } from '@/server/accounts/types';
import type { MigrationListItem } from '@/server/migrations/list-migrations';
import type { MigrationList as ListName } from '@/server/migrations/schemas';
import type { GroupwareRow } from '@/server/migrations/state-sentence';
import { ACCOUNT_TYPE_LABELS } from './account-types';
import { Alert } from './form';
import { InfoIcon } from './icons';
import { formatEta, ProgressBar, shareOf, StateBadge } from './migration-state';
import { useTRPC } from './trpc-provider';

function Progress({ m }: { m: MigrationListItem }) {
  const eta = formatEta(m.etaSeconds);
  return (
    <div className="min-w-0">
      <p className="whitespace-nowrap text-sm tabular-nums text-slate-700" data-testid="migration-messages">
        {m.messages.copied.toLocaleString('en-GB')} / {m.messages.total.toLocaleString('en-GB')} <span className="text-slate-500">messages</span>
      </p>
      <ProgressBar share={shareOf(m.messages.copied, m.messages.total, m.state)} state={m.state} className="mt-1.5 max-w-40" />
      {eta ? (
        <p className="mt-1 whitespace-nowrap text-xs text-slate-500" data-testid="migration-eta">
          {eta} left
        </p>
      ) : null}
    </div>
  );
}

function Detail({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-400 md:sr-only">{label}</dt>
      <dd className="text-sm text-slate-700">{children}</dd>
    </div>
  );
}

const typeLabel = (type: string) => ACCOUNT_TYPE_LABELS[type as AccountType] ?? type;

function CalendarIcon() {
  return (
    <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.6" className="h-4 w-4 shrink-0 text-slate-400" aria-hidden="true">
      <path
        strokeLinecap="round"
        strokeLinejoin="round"
        d="M6.75 3v2.25M17.25 3v2.25M3 18.75V7.5a2.25 2.25 0 0 1 2.25-2.25h13.5A2.25 2.25 0 0 1 21 7.5v11.25m-18 0A2.25 2.25 0 0 0 5.25 21h13.5A2.25 2.25 0 0 0 21 18.75m-18 0v-7.5A2.25 2.25 0 0 1 5.25 9h13.5A2.25 2.25 0 0 1 21 11.25v7.5"
      />
    </svg>
  );
}

/**
 * Calendars, contacts and tasks of a migration that copies them, one chip per kind
 * ("Calendars 2/2 · events 518/520") and the items not copied; chips wrap whole on a phone.
 */
export function GroupwareLine({ row, className = '' }: { row: GroupwareRow; className?: string }) {
  return (
    <div data-testid="row-groupware" title={row.line} className={`flex min-w-0 flex-wrap items-center gap-1.5 text-xs ${className}`}>
      <CalendarIcon />
      {row.parts.map((part) => (
        // The spaces between the chips keep the line's text readable as one (copy, screen readers); flex does not draw them.
        <Fragment key={part}>
          <span className={row.hasCounts ? 'whitespace-nowrap rounded-md bg-slate-50 px-2 py-0.5 tabular-nums text-slate-700 ring-1 ring-inset ring-slate-200' : 'text-slate-500'}>{part}</span>{' '}
        </Fragment>
      ))}
      {row.notCopied > 0 ? (
        <span className="whitespace-nowrap rounded-md bg-orange-50 px-2 py-0.5 font-medium tabular-nums text-orange-800 ring-1 ring-inset ring-orange-200">
          {row.notCopied.toLocaleString('en-GB')} not copied
        </span>
      ) : null}
    </div>
  );
}

/**
 * "4 migrations done before 5 Dec 2026; their details were removed on 8 Dec 2026", above a
 * customer's lists once any migration's personal data was removed (by the customer, an admin or
 * the retention period); nothing while there is none.
 */
export function DetailsRemovedSummary({ className = '' }: { className?: string }) {
  const trpc = useTRPC();
  const summary = useQuery(trpc.privacy.countsBefore.queryOptions());
  if (!summary.data?.text) return null;
  return (
    <div data-testid="details-removed-summary" className={`flex items-start gap-2 rounded-lg border border-slate-200 bg-slate-50 px-4 py-3 text-sm text-slate-700 ${className}`}>
      <InfoIcon className="mt-0.5 h-4 w-4 shrink-0 text-slate-400" />
      <p className="min-w-0">
        {summary.data.text}.{' '}
        <Link href="/privacy" className="whitespace-nowrap font-medium text-brand-700 hover:text-brand-900">
          Privacy →
        </Link>
      </p>
    </div>
  );
}

/**
 * Migrations of the organization with their state and messages copied; scheduled and running
 * ones can be cancelled (after a confirmation). Refreshes itself while any is active.
 */
export function MigrationList({
  list,
  initial,
  fetchedAt,
  zone,
  createdId,
  empty,
}: {
  list: ListName;
  /** The list as the page loaded it, at `fetchedAt` (ms). */
  initial: MigrationListItem[];
  fetchedAt: number;
  zone: { name: string; offset: string };
  createdId?: string;
  empty: ReactNode;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const query = useQuery(
    trpc.migrations.list.queryOptions(
      { list },
      { initialData: initial, initialDataUpdatedAt: fetchedAt, refetchInterval: (q) => (q.state.data?.some((m) => m.isActive) ? 5_000 : false) },
    ),
  );
  const cancel = useMutation(
    trpc.migrations.cancel.mutationOptions({
      onSuccess: (result) => {
        setConfirming(null);
        setNotice(
          result.isUnitReturned
            ? 'The migration was cancelled before it started; it no longer counts against your migrations.'
            : 'The migration was cancelled. It stops copying at its next checkpoint; its stored passwords were deleted.',
        );
        void queryClient.invalidateQueries({ queryKey: trpc.migrations.pathKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.licensing.pathKey() });
        router.refresh();
      },
    }),
  );
  // A list cached from an earlier visit must not hide what the page has just loaded.
  const migrations = query.dataUpdatedAt >= fetchedAt ? query.data : initial;
  const created = createdId ? migrations.find((m) => m.id === createdId) : undefined;

  return (
    <div className="space-y-4">
      {created && !notice ? (
        <Alert tone="success">
          <span data-testid="created-notice">
            Migration accepted: both logins work. {created.source.email} → {created.target.email}, start {created.startLocal}.
          </span>
        </Alert>
      ) : null}
      {notice ? <Alert tone="success">{notice}</Alert> : null}
      {cancel.error ? <Alert>{cancel.error.message}</Alert> : null}
      <DetailsRemovedSummary />
      <section className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm">
        <div className="flex flex-wrap items-baseline justify-between gap-x-4 gap-y-1 px-5 pb-3 pt-5 sm:px-6">
          <h2 className="text-base font-semibold text-slate-900">
            {list === 'finished' ? 'Finished' : list === 'active' ? 'Scheduled and running' : 'All migrations'}
            <span className="ml-2 text-sm font-normal text-slate-500">{migrations.length}</span>
          </h2>
          <p className="text-xs text-slate-500">
            Times in {zone.name} (UTC{zone.offset})
          </p>
        </div>
        {migrations.length === 0 ? (
          empty
        ) : (
          <>
            <div className="hidden grid-cols-[minmax(0,2.2fr)_minmax(0,1.4fr)_minmax(0,1fr)_minmax(0,1.2fr)_10rem] gap-4 border-y border-slate-200 bg-slate-50 px-6 py-2.5 text-xs font-medium uppercase tracking-wide text-slate-500 md:grid">
              <span>Source → target</span>
              <span>Start / resync</span>
              <span>State</span>
              <span>Transferred</span>
              <span className="sr-only">Actions</span>
            </div>
            <ul className="divide-y divide-slate-100 border-t border-slate-200 md:border-t-0">
              {migrations.map((m) => (
                <li
                  key={m.id}
                  data-testid="migration-row"
                  data-state={m.state}
                  className={`relative grid gap-3 px-5 py-4 transition-colors hover:bg-slate-50 has-[a:focus-visible]:bg-slate-50 sm:px-6 md:grid-cols-[minmax(0,2.2fr)_minmax(0,1.4fr)_minmax(0,1fr)_minmax(0,1.2fr)_10rem] md:items-center md:gap-4 ${m.id === createdId ? 'bg-brand-50/50' : ''}`}
                >
                  <div className="min-w-0">
                    <p className="truncate text-sm font-medium text-slate-900" title={m.source.email || m.detailsRemoved?.text}>
                      {m.source.email || m.detailsRemoved?.text}
                    </p>
                    <p className="flex min-w-0 items-center gap-1.5 text-sm text-slate-600">
                      <span aria-label="to" className="text-slate-400">
                        →
                      </span>
                      <span className="truncate" title={m.target.email || m.detailsRemoved?.text}>
                        {m.target.email || '—'}
                      </span>
                    </p>
                    <p className="mt-0.5 text-xs text-slate-400">
                      {typeLabel(m.source.type)} → {typeLabel(m.target.type)}
                    </p>
                  </div>
                  <dl className="grid grid-cols-2 gap-3 md:contents">
                    <Detail label="Start / resync">
                      <span className="block whitespace-nowrap">{m.startLocal}</span>
                      <span className="block whitespace-nowrap text-xs text-slate-500">{m.resyncLocal ? `Resync ${m.resyncLocal}` : 'No resync'}</span>
                    </Detail>
                    <Detail label="State">
                      <StateBadge state={m.state} />
                      {m.state === 'failed' && m.failureReason ? <span className="mt-1 block text-xs text-red-700">{m.failureReason}</span> : null}
                      {m.statusLine ? (
                        <span data-testid="migration-status-line" className={`mt-1 block text-xs ${m.state === 'incomplete' || m.verificationGap ? 'font-medium text-orange-800' : 'text-slate-600'}`}>
                          {m.statusLine}
                        </span>
                      ) : null}
                      {m.finishedLocal && !m.isActive ? <span className="mt-1 block whitespace-nowrap text-xs text-slate-500">{m.finishedLocal}</span> : null}
                    </Detail>
                    <Detail label="Transferred">
                      <Progress m={m} />
                    </Detail>
                  </dl>
                  {/* Below the whole row on wide screens; on a phone above the row's buttons. */}
                  {m.groupwareRow ? <GroupwareLine row={m.groupwareRow} className="md:order-last md:col-span-full md:-mt-1" /> : null}
                  <div className="flex flex-wrap items-center gap-2 md:justify-end">
                    {confirming === m.id ? null : (
                      // The whole row opens the detail: this link's box is stretched over the row; the buttons sit above it.
                      <Link
                        href={list === 'finished' ? `/migrations/finished/${m.id}` : `/migrations/${m.id}`}
                        aria-label={`Details of the migration of ${m.source.email || m.detailsRemoved?.text}`}
                        className="-ml-2.5 rounded-md px-2.5 py-1.5 text-sm font-medium text-brand-700 transition after:absolute after:inset-0 after:content-[''] hover:text-brand-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500 md:ml-0"
                      >
                        Details <span aria-hidden="true">→</span>
                      </Link>
                    )}
                    {!m.canCancel ? null : confirming === m.id ? (
                      <div className="relative z-10 flex w-full flex-wrap items-center gap-2 rounded-lg bg-red-50 p-2 md:w-auto md:flex-col md:items-stretch md:bg-transparent md:p-0">
                        <span className="text-xs md:text-right">
                          <span className="block font-medium text-slate-800">Cancel this migration?</span>
                          <span className="block text-slate-600">{m.state === 'scheduled' ? 'It counts again as remaining.' : 'It stays used.'}</span>
                        </span>
                        <div className="flex gap-1.5 md:justify-end">
                          <button
                            type="button"
                            className="whitespace-nowrap rounded-md bg-red-600 px-2.5 py-1 text-sm font-medium text-white shadow-sm transition hover:bg-red-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500 focus-visible:ring-offset-2 disabled:opacity-60"
                            disabled={cancel.isPending}
                            onClick={() => cancel.mutate({ id: m.id })}
                          >
                            {cancel.isPending ? 'Cancelling…' : 'Yes, cancel'}
                          </button>
                          <button
                            type="button"
                            className="rounded-md px-2.5 py-1 text-sm font-medium text-slate-600 transition hover:bg-slate-100 hover:text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
                            onClick={() => setConfirming(null)}
                          >
                            Keep
                          </button>
                        </div>
                      </div>
                    ) : (
                      <button
                        type="button"
                        aria-label={`Cancel the migration of ${m.source.email || m.detailsRemoved?.text}`}
                        className="relative z-10 rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 shadow-sm transition hover:border-red-300 hover:bg-red-50 hover:text-red-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500"
                        onClick={() => {
                          cancel.reset();
                          setNotice(null);
                          setConfirming(m.id);
                        }}
                      >
                        Cancel
                      </button>
                    )}
                  </div>
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
      {list !== 'finished' ? (
        <p className="text-xs text-slate-500">
          A scheduled migration can be cancelled and counts again as remaining. Once it has started it stays used; cancelling stops it at its next
          checkpoint. <Link href="/migrations/new" className="font-medium text-brand-700 hover:text-brand-900">New migration →</Link>
        </p>
      ) : null}
    </div>
  );
}
