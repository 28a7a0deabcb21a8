'use client';

import { keepPreviousData, useInfiniteQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useState, type ReactNode } from 'react';
import type { AccountType } from '@/server/accounts/types';
import type { FinishedPage, ListVerdict, MigrationListItem } from '@/server/migrations/list-migrations';
import { ACCOUNT_TYPE_LABELS } from './account-types';
import { Alert, Button } from './form';
import { ArchiveIcon, CheckCircleIcon, DownloadIcon, AlertIcon, InfoIcon } from './icons';
import { EmptyState } from './page-header';
import { DetailsRemovedSummary, GroupwareLine } from './migration-list';
import { ProgressBar, shareOf, StateBadge } from './migration-state';
import { useTRPC } from './trpc-provider';

type Sort = 'newest' | 'oldest';

const PAGE_SIZE = 25;
const SEARCH_PAUSE_MS = 300;

const typeLabel = (type: string) => ACCOUNT_TYPE_LABELS[type as AccountType] ?? type;
const number = (n: number) => n.toLocaleString('en-GB');

/** `value`, once it has stopped changing for `ms`. */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/** The export of what the list shows: same search, same order. */
export function exportHref(search: string, sort: Sort): string {
  const params = new URLSearchParams();
  if (search) params.set('search', search);
  if (sort !== 'newest') params.set('sort', sort);
  const query = params.toString();
  return `/api/migrations/finished/export${query ? `?${query}` : ''}`;
}

const verdictStyle: Record<ListVerdict['tone'], { className: string; icon: ReactNode }> = {
  verified: { className: 'text-emerald-700', icon: <CheckCircleIcon className="h-4 w-4 shrink-0" /> },
  gap: { className: 'font-medium text-orange-800', icon: <AlertIcon className="h-4 w-4 shrink-0" /> },
  none: { className: 'text-slate-500', icon: <InfoIcon className="h-4 w-4 shrink-0 text-slate-400" /> },
};

function Verdict({ verdict }: { verdict: ListVerdict }) {
  const style = verdictStyle[verdict.tone];
  return (
    <span data-testid="migration-verdict" data-tone={verdict.tone} className={`flex items-start gap-1.5 text-sm ${style.className}`}>
      <span className="mt-0.5">{style.icon}</span>
      <span>{verdict.text}</span>
    </span>
  );
}

function Cell({ label, children, className = '' }: { label: string; children: ReactNode; className?: string }) {
  return (
    <div className={`min-w-0 ${className}`}>
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-400 md:sr-only">{label}</dt>
      <dd className="mt-0.5 text-sm text-slate-700 md:mt-0">{children}</dd>
    </div>
  );
}

const COLUMNS = 'md:grid-cols-[minmax(0,2.4fr)_minmax(0,1.1fr)_minmax(0,1.3fr)_minmax(0,1.6fr)_minmax(0,1.1fr)]';

function Row({ m }: { m: MigrationListItem }) {
  const notCopied = m.loss.messages;
  return (
    <li data-testid="finished-row" data-state={m.state} className={`relative grid gap-3 px-5 py-4 transition-colors hover:bg-slate-50 has-[a:focus-visible]:bg-slate-50 sm:px-6 md:items-start md:gap-4 ${COLUMNS} md:grid`}>
      <div className="min-w-0">
        <p className="truncate text-sm font-medium text-slate-900" title={m.source.email || m.detailsRemoved?.text}>
          {/* The whole row opens the detail: this link's box is stretched over the row. */}
          <Link
            href={`/migrations/finished/${m.id}`}
            aria-label={`Details of the migration of ${m.source.email || m.detailsRemoved?.text}`}
            className="after:absolute after:inset-0 after:content-[''] hover:text-brand-700 focus:outline-none focus-visible:underline"
          >
            {m.source.email || m.detailsRemoved?.text}
          </Link>
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
        <Cell label="Finished">
          <span className="whitespace-nowrap" data-testid="finished-at">
            {m.finishedLocal ?? '—'}
          </span>
        </Cell>
        <Cell label="Messages">
          <span className="whitespace-nowrap tabular-nums" data-testid="migration-messages">
            {number(m.messages.copied)} / {number(m.messages.total)} <span className="text-slate-500">copied</span>
          </span>
          <ProgressBar share={shareOf(m.messages.copied, m.messages.total, m.state)} state={m.state} className="mt-1.5 max-w-32" />
          {notCopied > 0 ? <span className="mt-1 block text-xs font-medium text-orange-800">{number(notCopied)} not copied</span> : null}
        </Cell>
        <Cell label="Verification" className="col-span-2 md:col-span-1">
          <Verdict verdict={m.verdict} />
        </Cell>
        <Cell label="State" className="col-span-2 md:col-span-1">
          <StateBadge state={m.state} />
          {m.state === 'failed' && m.failureReason ? (
            <span data-testid="failure-reason" className="mt-1 block text-xs text-red-700">
              {m.failureReason}
            </span>
          ) : m.statusLine ? (
            <span data-testid="migration-status-line" className="mt-1 block text-xs text-slate-600">
              {m.statusLine}
            </span>
          ) : null}
        </Cell>
      </dl>
      {m.groupwareRow ? <GroupwareLine row={m.groupwareRow} className="md:col-span-full md:-mt-1" /> : null}
    </li>
  );
}

function SearchIcon() {
  return (
    <svg aria-hidden="true" viewBox="0 0 20 20" fill="currentColor" className="h-4 w-4">
      <path fillRule="evenodd" d="M9 3.5a5.5 5.5 0 1 0 0 11 5.5 5.5 0 0 0 0-11ZM2 9a7 7 0 1 1 12.45 4.39l3.58 3.58a.75.75 0 1 1-1.06 1.06l-3.58-3.58A7 7 0 0 1 2 9Z" clipRule="evenodd" />
    </svg>
  );
}

/**
 * The organization's ended migrations, newest or oldest first, searched by the start of an
 * address, a page at a time ("Load more"), with the CSV of exactly what is listed.
 */
export function FinishedMigrations({ initial, fetchedAt, zone }: { initial: FinishedPage; fetchedAt: number; zone: { name: string; offset: string } }) {
  const trpc = useTRPC();
  const [typed, setTyped] = useState('');
  const [sort, setSort] = useState<Sort>('newest');
  const search = useSettled(typed.trim(), SEARCH_PAUSE_MS);
  const isDefault = search === '' && sort === 'newest';
  const query = useInfiniteQuery(
    trpc.migrations.finished.infiniteQueryOptions(
      { search: search || undefined, sort, limit: PAGE_SIZE },
      {
        getNextPageParam: (page) => page.nextCursor,
        placeholderData: keepPreviousData,
        ...(isDefault ? { initialData: { pages: [initial], pageParams: [null] }, initialDataUpdatedAt: fetchedAt } : {}),
      },
    ),
  );
  const pages = query.data?.pages ?? [];
  const items = pages.flatMap((p) => p.items);
  const count = pages[0]?.count ?? null;
  const isSearching = search !== '';
  const isStale = query.isPlaceholderData || typed.trim() !== search;

  return (
    <>
      <DetailsRemovedSummary className="mb-4" />
      <section className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm">
        <div className="flex flex-col gap-3 border-b border-slate-200 px-5 py-4 sm:px-6 lg:flex-row lg:items-center lg:justify-between">
          <div className="relative w-full lg:max-w-sm">
            <label htmlFor="finished-search" className="sr-only">
              Search by address
            </label>
            <span className="pointer-events-none absolute inset-y-0 left-3 flex items-center text-slate-400">
              <SearchIcon />
            </span>
            <input
              id="finished-search"
              type="search"
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              placeholder="Search by source or target address"
              autoComplete="off"
              spellCheck={false}
              maxLength={254}
              className="block w-full rounded-md border border-slate-300 bg-white py-2 pl-9 pr-3 text-sm shadow-sm outline-none transition placeholder:text-slate-400 focus:border-brand-500 focus:ring-2 focus:ring-brand-100"
            />
          </div>
          <div className="flex flex-wrap items-center gap-3">
            <div role="group" aria-label="Sort by finished date" className="inline-flex rounded-md border border-slate-300 bg-white p-0.5 shadow-sm">
              {(['newest', 'oldest'] as const).map((option) => (
                <button
                  key={option}
                  type="button"
                  aria-pressed={sort === option}
                  onClick={() => setSort(option)}
                  className={`rounded px-3 py-1.5 text-sm font-medium transition focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500 ${
                    sort === option ? 'bg-slate-900 text-white' : 'text-slate-600 hover:bg-slate-100 hover:text-slate-900'
                  }`}
                >
                  {option === 'newest' ? 'Newest first' : 'Oldest first'}
                </button>
              ))}
            </div>
            <a
              href={exportHref(search, sort)}
              download
              className="inline-flex items-center gap-2 rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium text-slate-700 shadow-sm transition hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
            >
              <DownloadIcon />
              Download CSV
            </a>
          </div>
        </div>
        <div className="flex flex-wrap items-baseline justify-between gap-x-4 gap-y-1 px-5 pb-2 pt-3 sm:px-6">
          <p className="text-sm text-slate-600" data-testid="finished-count" aria-live="polite">
            {count === null ? (
              '\u00a0'
            ) : isSearching ? (
              <>
                <span className="font-semibold tabular-nums text-slate-900">{number(count)}</span> {count === 1 ? 'migration matches' : 'migrations match'} “{search}”
              </>
            ) : (
              <>
                <span className="font-semibold tabular-nums text-slate-900">{number(count)}</span> finished {count === 1 ? 'migration' : 'migrations'}
              </>
            )}
          </p>
          <p className="text-xs text-slate-500">
            Times in {zone.name} (UTC{zone.offset})
          </p>
        </div>
        {query.error ? (
          <div className="px-5 pb-4 sm:px-6">
            <Alert>{query.error.message}</Alert>
          </div>
        ) : null}
        {items.length === 0 && !query.isFetching ? (
          isSearching ? (
            <EmptyState title={`No migration matches “${search}”`} icon={<ArchiveIcon />}>
              The search looks at the start of the source and the target address, e.g. “anna” or “anna.meier@”.
            </EmptyState>
          ) : (
            <EmptyState title="No finished migrations yet" icon={<ArchiveIcon />}>
              When a migration ends, it appears here with what was transferred and what the verification found. Its stored passwords are deleted at that moment.
            </EmptyState>
          )
        ) : (
          <div className={isStale ? 'opacity-60 transition-opacity' : 'transition-opacity'}>
            <div className={`hidden gap-4 border-y border-slate-200 bg-slate-50 px-6 py-2.5 text-xs font-medium uppercase tracking-wide text-slate-500 md:grid ${COLUMNS}`}>
              <span>Source → target</span>
              <span>Finished</span>
              <span>Messages</span>
              <span>Verification</span>
              <span>State</span>
            </div>
            <ul className="divide-y divide-slate-100 border-t border-slate-200 md:border-t-0">
              {items.map((m) => (
                <Row key={m.id} m={m} />
              ))}
            </ul>
          </div>
        )}
        {items.length > 0 ? (
          <div className="flex flex-col items-center gap-2 border-t border-slate-200 px-5 py-4 sm:flex-row sm:justify-between sm:px-6">
            <p className="text-xs text-slate-500" data-testid="finished-shown">
              Showing {number(items.length)}
              {count !== null ? ` of ${number(count)}` : ''}
            </p>
            {query.hasNextPage ? (
              <Button variant="secondary" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
                {query.isFetchingNextPage ? 'Loading…' : 'Load more'}
              </Button>
            ) : (
              <p className="text-xs text-slate-400">End of the list</p>
            )}
          </div>
        ) : null}
      </section>
    </>
  );
}
