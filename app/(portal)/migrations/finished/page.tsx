import type { Metadata } from 'next';
import { ArchiveIcon } from '@/components/icons';
import { MigrationList } from '@/components/migration-list';
import { EmptyState, PageHeader } from '@/components/page-header';
import { requireCustomerPage } from '@/server/auth/page-guard';
import { serverTimeZone } from '@/server/portal/time-zone';
import { getServerCaller } from '@/server/trpc/server-caller';

export const metadata: Metadata = { title: 'Finished migrations' };

/** The list and when it was read, so the browser's copy can tell which one is newer. */
async function load() {
  const migrations = await (await getServerCaller()).migrations.list({ list: 'finished' });
  return { migrations, fetchedAt: Date.now() };
}

export default async function FinishedMigrationsPage() {
  await requireCustomerPage('commercial');
  const { migrations, fetchedAt } = await load();
  return (
    <>
      <PageHeader title="Finished migrations" description="Migrations that ended: finished, incomplete (something could not be copied), failed or cancelled. Their stored passwords were deleted when they ended." />
      <MigrationList
        list="finished"
        initial={migrations}
        fetchedAt={fetchedAt}
        zone={serverTimeZone()}
        empty={
          <EmptyState title="No finished migrations yet" icon={<ArchiveIcon />}>
            When a migration ends, it appears here with what was transferred. Its stored passwords are deleted at that moment.
          </EmptyState>
        }
      />
    </>
  );
}
