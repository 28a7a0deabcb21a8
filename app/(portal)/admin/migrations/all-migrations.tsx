'use client';

import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { ACCOUNT_TYPE_LABELS } from '@/components/account-types';
import { Alert, Button } from '@/components/form';
import { InboxIcon } from '@/components/icons';
import { GroupwareLine } from '@/components/migration-list';
import { ProgressBar, shareOf, StateBadge } from '@/components/migration-state';
import { EmptyState, PageHeader } from '@/components/page-header';
import { useTRPC } from '@/components/trpc-provider';
import type { AccountType } from '@/server/accounts/types';
import type { AdminMigrationItem, AdminStateFilter } from '@/server/migrations/admin-list';

const STATE_OPTIONS: { value: AdminStateFilter | ''; label: string }[] = [
  { value: '', label: 'All states' },
  { value: 'active', label: 'Active (scheduled to resyncing)' },
  { value: 'ended', label: 'Ended (any outcome)' },
  { value: 'scheduled', label: 'Scheduled' },
  { value: 'running', label: 'Running' },
  { value: 'waiting_resync', label: 'Waiting for resync' },
  { value: 'resyncing', label: 'Resyncing' },
  { value: 'finished', label: 'Finished' },
  { value: 'incomplete', label: 'Incomplete' },
  { value: 'failed', label: 'Failed' },
  { value: 'cancelled', label: 'Cancelled' },
];

const typeLabel = (type: string) => ACCOUNT_TYPE_LABELS[type as AccountType] ?? type;
const number = (n: number) => n.toLocaleString('en-GB');
const COLUMNS = 'md:grid-cols-[minmax(0,1.3fr)_minmax(0,2.2fr)_minmax(0,1.2fr)_minmax(0,1.3fr)_minmax(0,1.3fr)]';
const selectClass =
  'block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm outline-none transition focus:border-brand-500 focus:ring-2 focus:ring-brand-100';

function Cell({ label, children, className = '' }: { label: string; children: ReactNode; className?: string }) {
  return (
    <div className={`min-w-0 ${className}`}>
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-400 md:sr-only">{label}</dt>
      <dd className="mt-0.5 text-sm text-slate-700 md:mt-0">{children}</dd>
    </div>
  );
}

/** One migration's facts, inline: admins do not open a customer's migration page. */
function Row({ m }: { m: AdminMigrationItem }) {
  return (
    <li data-testid="admin-migration-row" data-state={m.state} className={`grid gap-3 px-5 py-4 sm:px-6 md:items-start md:gap-4 ${COLUMNS} md:grid`}>
      <div className="min-w-0">
        <p className="truncate text-sm font-medium text-slate-900" data-testid="admin-migration-organization" title={m.organization.name}>
          {m.organization.name}
        </p>
        <p className="mt-0.5 text-xs text-slate-500">Created {m.createdLocal}</p>
      </div>
      <div className="min-w-0">
        <p className="truncate text-sm text-slate-800" title={m.source.email || m.detailsRemoved?.text}>
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
        <Cell label="State">
          <StateBadge state={m.state} />
          {m.failureReason ? <span className="mt-1 block text-xs text-red-700">{m.failureReason}</span> : null}
        </Cell>
        <Cell label="Messages">
          <span className="whitespace-nowrap tabular-nums">
            {number(m.messages.copied)} / {number(m.messages.total)}
          </span>
          <ProgressBar share={shareOf(m.messages.copied, m.messages.total, m.state)} state={m.state} className="mt-1.5 max-w-32" />
          {m.messages.notCopied > 0 ? <span className="mt-1 block text-xs font-medium text-orange-800">{number(m.messages.notCopied)} not copied</span> : null}
        </Cell>
        <Cell label="Start / end" className="col-span-2 md:col-span-1">
          <span className="block whitespace-nowrap">{m.startLocal}</span>
          <span className="block whitespace-nowrap text-xs text-slate-500">{m.finishedLocal ? `Ended ${m.finishedLocal}` : 'Not ended'}</span>
        </Cell>
      </dl>
      {m.groupwareRow ? <GroupwareLine row={m.groupwareRow} className="md:col-span-4 md:col-start-2 md:-mt-1" /> : null}
    </li>
  );
}

/**
 * Every customer's migrations for the installation's admins: which organization, the addresses
 * and types, the state and the counts. Never a login name, a server or a password.
 */
export function AllMigrations({ zone }: { zone: { name: string; offset: string } }) {
  const trpc = useTRPC();
  const [organizationId, setOrganizationId] = useState('');
  const [state, setState] = useState<AdminStateFilter | ''>('');
  const organizations = useQuery(trpc.admin.listOrganizations.queryOptions({ kind: 'customer' }));
  const query = useInfiniteQuery(
    trpc.admin.listMigrations.infiniteQueryOptions(
      { organizationId: organizationId || undefined, state: state || undefined, limit: 25 },
      { getNextPageParam: (page) => page.nextCursor, placeholderData: keepPreviousData },
    ),
  );
  const items = query.data?.pages.flatMap((p) => p.items) ?? [];
  const isFiltered = organizationId !== '' || state !== '';

  return (
    <>
      <PageHeader
        title="All migrations"
        description="Migrations of every customer organization, newest first. Addresses, state and counts only: logins, servers and passwords stay with the customer."
      />
      <section className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm">
        <div className="grid gap-3 border-b border-slate-200 px-5 py-4 sm:grid-cols-2 sm:px-6 lg:grid-cols-[minmax(0,18rem)_minmax(0,16rem)_1fr] lg:items-end">
          <label className="block">
            <span className="mb-1 block text-sm font-medium text-slate-700">Organization</span>
            <select className={selectClass} value={organizationId} onChange={(e) => setOrganizationId(e.target.value)}>
              <option value="">All organizations</option>
              {(organizations.data ?? []).map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          </label>
          <label className="block">
            <span className="mb-1 block text-sm font-medium text-slate-700">State</span>
            <select className={selectClass} value={state} onChange={(e) => setState(e.target.value as AdminStateFilter | '')}>
              {STATE_OPTIONS.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
          <p className="text-xs text-slate-500 lg:text-right">
            Times in {zone.name} (UTC{zone.offset})
          </p>
        </div>
        {query.error ? (
          <div className="p-5 sm:p-6">
            <Alert>{query.error.message}</Alert>
          </div>
        ) : query.isLoading ? (
          <p className="px-6 py-12 text-center text-sm text-slate-500">Loading…</p>
        ) : items.length === 0 ? (
          <EmptyState title={isFiltered ? 'No migration matches these filters' : 'No migrations yet'} icon={<InboxIcon />}>
            {isFiltered ? 'Choose another organization or state.' : 'Migrations appear here as soon as a customer schedules one.'}
          </EmptyState>
        ) : (
          <div className={query.isPlaceholderData ? 'opacity-60 transition-opacity' : 'transition-opacity'}>
            <div className={`hidden gap-4 border-b border-slate-200 bg-slate-50 px-6 py-2.5 text-xs font-medium uppercase tracking-wide text-slate-500 md:grid ${COLUMNS}`}>
              <span>Organization</span>
              <span>Source → target</span>
              <span>State</span>
              <span>Messages</span>
              <span>Start / end</span>
            </div>
            <ul className="divide-y divide-slate-100">
              {items.map((m) => (
                <Row key={m.id} m={m} />
              ))}
            </ul>
            <div className="flex flex-col items-center gap-2 border-t border-slate-200 px-5 py-4 sm:flex-row sm:justify-between sm:px-6">
              <p className="text-xs text-slate-500" data-testid="admin-migrations-shown">
                Showing {number(items.length)}
              </p>
              {query.hasNextPage ? (
                <Button variant="secondary" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
                  {query.isFetchingNextPage ? 'Loading…' : 'Load more'}
                </Button>
              ) : (
                <p className="text-xs text-slate-400">End of the list</p>
              )}
            </div>
          </div>
        )}
      </section>
    </>
  );
}
