'use client';

import { useInfiniteQuery } from '@tanstack/react-query';
import { Card } from '@/components/page-header';
import { Alert } from '@/components/form';
import { AlertIcon, CheckCircleIcon, DownloadIcon } from '@/components/icons';
import { useTRPC } from '@/components/trpc-provider';
import type { ChainVerdict } from '@/server/privacy/receipts';

const PAGE_SIZE = 10;

const receipt = (n: number) => `${n} ${n === 1 ? 'receipt' : 'receipts'}`;

/** Whether the chain holds: green with the count, or red with each problem in words. */
export function ChainVerdictLine({ verdict }: { verdict: Pick<ChainVerdict, 'ok' | 'count' | 'problems'> }) {
  if (verdict.ok) {
    return (
      <p data-testid="receipts-verdict" data-ok="true" className="flex items-center gap-1.5 text-sm font-medium text-emerald-700">
        <CheckCircleIcon className="h-4 w-4 shrink-0" />
        {verdict.count === 0 ? 'No receipts yet' : `Chain intact: ${receipt(verdict.count)}`}
      </p>
    );
  }
  return (
    <div data-testid="receipts-verdict" data-ok="false" role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2.5 text-sm text-red-800">
      <p className="flex items-center gap-1.5 font-semibold">
        <AlertIcon className="h-4 w-4 shrink-0" /> The chain of receipts is broken ({receipt(verdict.count)} stored)
      </p>
      <ul className="mt-1.5 list-disc space-y-0.5 pl-9">
        {verdict.problems.map((p, index) => (
          <li key={`${p.seq}-${index}`}>{p.problem}</li>
        ))}
      </ul>
    </div>
  );
}

/** The first characters of a digest, the whole one on hover and for screen readers. */
export function ShortDigest({ digest }: { digest: string }) {
  return (
    <code title={digest} aria-label={`Digest ${digest}`} className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-600">
      {digest.slice(0, 12)}…
    </code>
  );
}

/**
 * The organization's deletion receipts (newest first, a page at a time): when, what happened,
 * what was deleted as counts, and whether the digest chain over all of them holds; with the
 * JSON download. `organizationId` for an admin looking at an organization.
 */
export function ReceiptsSection({ organizationId }: { organizationId?: string }) {
  const trpc = useTRPC();
  const query = useInfiniteQuery(trpc.receipts.list.infiniteQueryOptions({ organizationId, limit: PAGE_SIZE }, { getNextPageParam: (page) => page.nextCursor }));
  const pages = query.data?.pages ?? [];
  const receipts = pages.flatMap((p) => p.receipts);
  const verdict = pages[0]?.verdict;
  const download = `/api/privacy/receipts${organizationId ? `?organizationId=${encodeURIComponent(organizationId)}` : ''}`;

  return (
    <Card className="overflow-hidden">
      <div className="flex flex-col gap-3 border-b border-slate-200 px-4 py-4 sm:flex-row sm:items-start sm:justify-between sm:px-6" data-testid="receipts-section">
        <div className="min-w-0">
          <h2 className="text-base font-semibold text-slate-900">Deletion receipts</h2>
          <p className="mt-0.5 max-w-2xl text-sm text-slate-500">
            Each time passwords or personal data are deleted, a receipt records what went (as counts, never the data itself), when and why. Every receipt carries a SHA-256 digest over
            itself and the one before, so a receipt changed or removed later shows.
          </p>
        </div>
        <a
          href={download}
          download
          className="inline-flex shrink-0 items-center gap-2 self-start rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium text-slate-700 shadow-sm transition hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
        >
          <DownloadIcon />
          Download receipts (JSON)
        </a>
      </div>
      <div className="flex flex-wrap items-center justify-between gap-x-4 gap-y-1 px-4 py-3 sm:px-6">
        {verdict ? <ChainVerdictLine verdict={verdict} /> : <p className="text-sm text-slate-500">{query.error ? '\u00a0' : 'Checking the chain…'}</p>}
        {pages[0] && receipts.length > 0 ? <p className="text-xs text-slate-500">Times in {pages[0].zone}</p> : null}
      </div>
      {query.error ? (
        <div className="px-4 pb-4 sm:px-6">
          <Alert>{query.error.message}</Alert>
        </div>
      ) : null}
      {receipts.length === 0 ? (
        query.isSuccess ? (
          <p className="border-t border-slate-200 px-4 py-8 text-center text-sm text-slate-500 sm:px-6">
            No receipts yet. The first one is recorded when a migration ends and its passwords are deleted.
          </p>
        ) : null
      ) : (
        <div className="border-t border-slate-200">
          <div className="hidden grid-cols-[10rem_minmax(0,1.2fr)_minmax(0,1.5fr)_8rem] gap-4 bg-slate-50 px-6 py-2.5 text-xs font-medium uppercase tracking-wide text-slate-500 md:grid" aria-hidden="true">
            <span>When</span>
            <span>What happened</span>
            <span>What was deleted</span>
            <span>Digest</span>
          </div>
          <ul className="divide-y divide-slate-100" aria-label="Deletion receipts">
            {receipts.map((r) => (
              <li key={r.seq} data-testid="receipt" className="grid gap-1 px-4 py-3 text-sm sm:px-6 md:grid-cols-[10rem_minmax(0,1.2fr)_minmax(0,1.5fr)_8rem] md:gap-4">
                <span className="tabular-nums text-slate-500">
                  <time dateTime={new Date(r.at).toISOString()}>{r.atLocal}</time>
                  <span className="ml-1.5 text-xs text-slate-400">#{r.seq}</span>
                </span>
                <span className="font-medium text-slate-900">{r.what}</span>
                <span className="text-slate-700">{r.deletedWords}</span>
                <span>
                  <ShortDigest digest={r.digest} />
                </span>
              </li>
            ))}
          </ul>
          {query.hasNextPage ? (
            <div className="border-t border-slate-200 px-4 py-3 text-center sm:px-6">
              <button
                type="button"
                onClick={() => void query.fetchNextPage()}
                disabled={query.isFetchingNextPage}
                className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 shadow-sm transition hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500 disabled:opacity-60"
              >
                {query.isFetchingNextPage ? 'Loading…' : 'Show older receipts'}
              </button>
            </div>
          ) : null}
        </div>
      )}
    </Card>
  );
}
