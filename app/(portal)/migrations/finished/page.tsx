import type { Metadata } from 'next';
import { ArchiveIcon } from '@/components/icons';
import { Card, EmptyState, PageHeader } from '@/components/page-header';
import { requireCustomerPage } from '@/server/auth/page-guard';

export const metadata: Metadata = { title: 'Finished migrations' };

export default async function FinishedMigrationsPage() {
  await requireCustomerPage('commercial');
  return (
    <>
      <PageHeader title="Finished migrations" description="Migrations that finished, failed or were cancelled, with their final report." />
      <Card>
        <EmptyState title="No finished migrations yet" icon={<ArchiveIcon />}>
          When a migration ends, it appears here with what was transferred and a list of anything that could not be copied. Its
          stored passwords are deleted at that moment.
        </EmptyState>
      </Card>
    </>
  );
}
