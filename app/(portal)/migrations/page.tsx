import type { Metadata } from 'next';
import { InboxIcon } from '@/components/icons';
import { Card, EmptyState, PageHeader } from '@/components/page-header';
import { requirePageUser } from '@/server/auth/page-guard';

export const metadata: Metadata = { title: 'Migration status' };

export default async function MigrationStatusPage() {
  await requirePageUser(['customer']);
  return (
    <>
      <PageHeader title="Migration status" description="Scheduled, running and finished migrations of your organization." />
      <Card>
        <EmptyState title="No migrations yet" icon={<InboxIcon />}>
          Migrations you schedule appear here with their progress: messages and bytes transferred, folders, and anything that
          could not be copied.
        </EmptyState>
      </Card>
    </>
  );
}
