import type { Metadata } from 'next';
import { InboxIcon } from '@/components/icons';
import { Card, EmptyState, PageHeader } from '@/components/page-header';
import { requireCustomerPage } from '@/server/auth/page-guard';

export const metadata: Metadata = { title: 'Migrations' };

/** Free mode: "Migration status" (active and finished together). Commercial mode: "Active migrations". */
export default async function MigrationStatusPage() {
  const { mode } = await requireCustomerPage();
  return mode === 'free' ? (
    <>
      <PageHeader title="Migration status" description="Scheduled, running and finished migrations of your organization." />
      <Card>
        <EmptyState title="No migrations yet" icon={<InboxIcon />}>
          Migrations you schedule appear here with their progress: messages and bytes transferred, folders, and anything that
          could not be copied.
        </EmptyState>
      </Card>
    </>
  ) : (
    <>
      <PageHeader title="Active migrations" description="Scheduled and running migrations, and those waiting for their resync." />
      <Card>
        <EmptyState title="No active migrations" icon={<InboxIcon />}>
          Migrations you schedule appear here with their progress: messages and bytes transferred, folders, and groupware items.
          When they end they move to Finished migrations.
        </EmptyState>
      </Card>
    </>
  );
}
