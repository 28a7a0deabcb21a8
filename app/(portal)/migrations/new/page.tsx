import type { Metadata } from 'next';
import { ArrowsIcon } from '@/components/icons';
import { Card, EmptyState, PageHeader } from '@/components/page-header';
import { requirePageUser } from '@/server/auth/page-guard';

export const metadata: Metadata = { title: 'New migration' };

export default async function NewMigrationPage() {
  await requirePageUser(['customer']);
  return (
    <>
      <PageHeader
        title="Free migration"
        description="Move one mailbox from a source server to a target server. Free mode includes 2 migrations to evaluate Mailferry."
      />
      <Card>
        <EmptyState title="Migrations are not available on this installation yet" icon={<ArrowsIcon />}>
          When they are, you enter a source and a target account here, and a
          start date; both logins are checked before the migration is accepted.
        </EmptyState>
      </Card>
    </>
  );
}
