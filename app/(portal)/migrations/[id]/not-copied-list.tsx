'use client';

import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '@/components/trpc-provider';
import { formatBytes, formatLocal, number } from './format';

export const NOT_COPIED_PAGE = 50;

const th = 'px-3 py-2.5 text-left text-xs font-medium uppercase tracking-wide text-slate-500 first:pl-5 last:pr-5 sm:first:pl-6 sm:last:pr-6';
const td = 'px-3 py-3 align-top first:pl-5 last:pr-5 sm:first:pl-6 sm:last:pr-6';
const num = 'text-right tabular-nums';
const pageButton =
  'inline-flex items-center gap-1 rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 shadow-sm transition hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500 disabled:cursor-not-allowed disabled:opacity-50';

/**
 * The items not copied, 50 at a time (keyset pages from migrations.notCopied): folder, UID,
 * size, date, reason; never a subject or sender. Refreshed with the page while the migration runs.
 */
export function NotCopiedList({ id, count, zone, isActive }: { id: string; count: number; zone: string; isActive: boolean }) {
  const trpc = useTRPC();
  // The cursors of the pages before the current one: "Previous" goes back without counting offsets.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors.at(-1) ?? null;
  const query = useQuery(
    trpc.migrations.notCopied.queryOptions(
      { id, cursor, limit: NOT_COPIED_PAGE },
      { placeholderData: keepPreviousData, refetchInterval: isActive ? 5_000 : false },
    ),
  );
  const items = query.data?.items ?? [];
  const page = cursors.length;
  const first = (page - 1) * NOT_COPIED_PAGE + 1;
  const last = first + items.length - 1;

  if (query.isError) {
    return <p className="border-t border-slate-200 px-5 py-6 text-sm text-red-700 sm:px-6">The list could not be loaded. {query.error.message}</p>;
  }
  return (
    <div data-testid="not-copied-list" aria-busy={query.isFetching}>
      <ul className="divide-y divide-slate-100 border-t border-slate-200 sm:hidden">
        {items.map((item) => (
          <li key={`${item.folder}-${item.uid ?? 'folder'}`} data-testid="not-copied-item" className="px-5 py-3 text-sm">
            <p className="font-medium text-slate-900 [overflow-wrap:anywhere]">{item.folder}</p>
            <p className="text-xs tabular-nums text-slate-500">
              {item.uid !== null ? `UID ${item.uid}` : 'Whole folder'}
              {item.size !== null ? ` · ${formatBytes(item.size)}` : ''}
              {item.date ? ` · ${formatLocal(item.date, zone)}` : ''}
            </p>
            <p className="mt-1 text-slate-700">{item.reason}</p>
          </li>
        ))}
      </ul>
      <div className="hidden overflow-x-auto border-t border-slate-200 sm:block">
        <table className="w-full text-sm">
          <thead className="bg-slate-50">
            <tr>
              <th className={th}>Folder</th>
              <th className={`${th} ${num}`}>UID</th>
              <th className={`${th} ${num}`}>Size</th>
              <th className={th}>Date</th>
              <th className={th}>Reason</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {items.map((item) => (
              <tr key={`${item.folder}-${item.uid ?? 'folder'}`} data-testid="not-copied-row">
                <td className={`${td} font-medium text-slate-900 [overflow-wrap:anywhere]`}>{item.folder}</td>
                <td className={`${td} ${num} whitespace-nowrap text-slate-600`}>{item.uid ?? <span className="text-slate-400">whole folder</span>}</td>
                <td className={`${td} ${num} whitespace-nowrap text-slate-600`}>{item.size !== null ? formatBytes(item.size) : '—'}</td>
                <td data-testid="not-copied-date" className={`${td} whitespace-nowrap tabular-nums text-slate-600`}>
                  {item.date ? formatLocal(item.date, zone) : <span className="text-slate-400">—</span>}
                </td>
                <td className={`${td} text-slate-700`}>{item.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {count > NOT_COPIED_PAGE || page > 1 ? (
        <nav aria-label="Pages of the items not copied" className="flex flex-wrap items-center justify-between gap-3 border-t border-slate-200 bg-slate-50 px-5 py-3 sm:px-6">
          <p data-testid="not-copied-range" className="text-sm tabular-nums text-slate-600">
            {items.length > 0 ? `${number(first)}–${number(last)} of ${number(count)}` : `${number(count)} in all`}
          </p>
          <div className="flex gap-2">
            <button type="button" className={pageButton} disabled={page === 1 || query.isFetching} onClick={() => setCursors((c) => c.slice(0, -1))}>
              <span aria-hidden="true">←</span> Previous
            </button>
            <button
              type="button"
              className={pageButton}
              disabled={!query.data?.nextCursor || query.isPlaceholderData}
              onClick={() => {
                const next = query.data?.nextCursor;
                if (next) setCursors((c) => [...c, next]);
              }}
            >
              Next <span aria-hidden="true">→</span>
            </button>
          </div>
        </nav>
      ) : null}
    </div>
  );
}
