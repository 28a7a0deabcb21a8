import { TRPCError } from '@trpc/server';
import { notFound, redirect } from 'next/navigation';
import { requireCustomerPage } from '@/server/auth/page-guard';
import { serverTimeZone } from '@/server/portal/time-zone';
import { getServerCaller } from '@/server/trpc/server-caller';
import { MigrationDetailView } from './migration-detail';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The migration and when it was read, so the browser's copy can tell which one is newer. */
async function load(id: string) {
  const caller = await getServerCaller();
  const detail = await caller.migrations.detail({ id }).catch((error: unknown) => {
    if (error instanceof TRPCError && error.code === 'NOT_FOUND') notFound();
    throw error;
  });
  return { detail, fetchedAt: Date.now() };
}

/**
 * One migration under the tab of the list it is in: in commercial mode an ended one lives
 * under Finished migrations (/migrations/finished/ID), the others under Active migrations
 * (/migrations/ID); free mode has one list for both.
 */
export async function MigrationPage({ id, under }: { id: string; under: 'active' | 'finished' }) {
  const { mode } = await requireCustomerPage(under === 'finished' ? 'commercial' : undefined);
  if (!UUID.test(id)) notFound();
  const { detail, fetchedAt } = await load(id);
  const belongs = mode === 'free' || detail.isActive ? 'active' : 'finished';
  if (belongs !== under) redirect(belongs === 'finished' ? `/migrations/finished/${id}` : `/migrations/${id}`);
  const back = mode === 'free' ? { href: '/migrations', label: 'Migration status' } : under === 'active' ? { href: '/migrations', label: 'Active migrations' } : { href: '/migrations/finished', label: 'Finished migrations' };
  return <MigrationDetailView initial={detail} fetchedAt={fetchedAt} zone={serverTimeZone()} back={back} />;
}
