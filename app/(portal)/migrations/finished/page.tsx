import type { Metadata } from 'next';
import { FinishedMigrations } from '@/components/finished-migrations';
import { PageHeader } from '@/components/page-header';
import { requireCustomerPage } from '@/server/auth/page-guard';
import { serverTimeZone } from '@/server/portal/time-zone';
import { getServerCaller } from '@/server/trpc/server-caller';

export const metadata: Metadata = { title: 'Finished migrations' };

/** The first page and when it was read, so the browser's copy can tell which one is newer. */
async function load() {
  const initial = await (await getServerCaller()).migrations.finished({});
  return { initial, fetchedAt: Date.now() };
}

export default async function FinishedMigrationsPage() {
  await requireCustomerPage('commercial');
  const { initial, fetchedAt } = await load();
  return (
    <>
      <PageHeader
        title="Finished migrations"
        description="Migrations that ended: finished, incomplete (something could not be copied), failed or cancelled, with what the verification found on the target. Their stored passwords were deleted when they ended."
      />
      <FinishedMigrations initial={initial} fetchedAt={fetchedAt} zone={serverTimeZone()} />
    </>
  );
}
