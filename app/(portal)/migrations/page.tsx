import type { Metadata } from 'next';
import Link from 'next/link';
import { InboxIcon } from '@/components/icons';
import { MigrationList } from '@/components/migration-list';
import { EmptyState, PageHeader } from '@/components/page-header';
import { requireCustomerPage } from '@/server/auth/page-guard';
import { serverTimeZone } from '@/server/portal/time-zone';
import { getServerCaller } from '@/server/trpc/server-caller';

export const metadata: Metadata = { title: 'Migrations' };

/** The list and when it was read, so the browser's copy can tell which one is newer. */
async function load(list: 'all' | 'active') {
  const caller = await getServerCaller();
  const [migrations, quota] = await Promise.all([caller.migrations.list({ list }), caller.licensing.quota()]);
  return { migrations, quota, fetchedAt: Date.now() };
}

/** Free mode: "Migration status" (active and finished together). Commercial mode: "Active migrations". */
export default async function MigrationStatusPage({ searchParams }: { searchParams: Promise<{ created?: string }> }) {
  const { mode } = await requireCustomerPage();
  const list = mode === 'free' ? 'all' : 'active';
  const { migrations, quota, fetchedAt } = await load(list);
  const { created } = await searchParams;
  return (
    <>
      <PageHeader
        title={mode === 'free' ? 'Migration status' : 'Active migrations'}
        description={
          mode === 'free'
            ? 'Scheduled, running and finished migrations of your organization.'
            : 'Scheduled and running migrations, and those waiting for their resync. Finished ones move to Finished migrations.'
        }
        actions={
          <div className="flex items-center gap-3">
            <span className="text-sm text-slate-600" data-testid="list-quota">
              <span className="font-semibold tabular-nums text-slate-900">
                {quota.remaining} / {quota.total}
              </span>{' '}
              remaining
            </span>
            {quota.remaining > 0 ? (
              <Link
                href="/migrations/new"
                className="inline-flex items-center justify-center rounded-md bg-brand-600 px-4 py-2 text-sm font-medium text-white shadow-sm transition hover:bg-brand-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500 focus-visible:ring-offset-2"
              >
                New migration
              </Link>
            ) : null}
          </div>
        }
      />
      <MigrationList
        list={list}
        initial={migrations}
        fetchedAt={fetchedAt}
        zone={serverTimeZone()}
        createdId={created}
        empty={
          <EmptyState title={mode === 'free' ? 'No migrations yet' : 'No active migrations'} icon={<InboxIcon />}>
            {mode === 'free'
              ? 'Migrations you schedule appear here with their progress: messages transferred, and anything that could not be copied.'
              : 'Migrations you schedule appear here with their progress. When they end they move to Finished migrations.'}
          </EmptyState>
        }
      />
    </>
  );
}
