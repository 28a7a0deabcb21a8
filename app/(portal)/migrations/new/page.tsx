import type { Metadata } from 'next';
import { ArrowsIcon } from '@/components/icons';
import { Card, EmptyState, PageHeader } from '@/components/page-header';
import { QuotaExhaustedNotice, QuotaMeter } from '@/components/quota-meter';
import { requireCustomerPage } from '@/server/auth/page-guard';
import { getServerCaller } from '@/server/trpc/server-caller';
import { UpgradeCard } from '@/components/upgrade-card';

export const metadata: Metadata = { title: 'New migration' };

export default async function NewMigrationPage() {
  const { mode } = await requireCustomerPage();
  const quota = await (await getServerCaller()).licensing.quota();
  return (
    <>
      <PageHeader
        title={mode === 'free' ? 'Free migration' : 'Migration'}
        description={
          mode === 'free'
            ? 'Move one mailbox from a source server to a target server. Free mode includes 2 migrations to evaluate Mailferry.'
            : 'Move one mailbox from a source server to a target server. Each migration uses one of your purchased migrations.'
        }
      />
      <QuotaExhaustedNotice quota={quota} />
      <div className="grid items-start gap-6 lg:grid-cols-3">
        <Card className="lg:col-span-2">
          <EmptyState title="Migrations are not available on this installation yet" icon={<ArrowsIcon />}>
            When they are, you enter a source and a target account here, and a start date; both logins are checked before the
            migration is accepted.
          </EmptyState>
        </Card>
        <div className="space-y-6">
          <QuotaMeter quota={quota} />
          {mode === 'free' ? <UpgradeCard /> : null}
        </div>
      </div>
    </>
  );
}
