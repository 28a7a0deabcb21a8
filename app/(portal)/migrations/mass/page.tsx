import type { Metadata } from 'next';
import { StackIcon } from '@/components/icons';
import { Card, EmptyState, PageHeader } from '@/components/page-header';
import { QuotaExhaustedNotice, QuotaMeter } from '@/components/quota-meter';
import { requireCustomerPage } from '@/server/auth/page-guard';
import { getServerCaller } from '@/server/trpc/server-caller';

export const metadata: Metadata = { title: 'Mass migration' };

export default async function MassMigrationPage() {
  await requireCustomerPage('commercial');
  const quota = await (await getServerCaller()).licensing.quota();
  return (
    <>
      <PageHeader
        title="Mass migration"
        description="Many mailboxes at once: one line per migration, checked field by field before anything is submitted."
      />
      <QuotaExhaustedNotice quota={quota} />
      <div className="grid items-start gap-6 lg:grid-cols-3">
        <Card className="lg:col-span-2">
          <EmptyState title="Mass migration is not available on this installation yet" icon={<StackIcon />}>
            When it is, you paste or upload one record per line (source and target account, start and resync date). Lines with a
            problem are marked before submission, and every line&apos;s logins are checked before its migration is created.
          </EmptyState>
        </Card>
        <QuotaMeter quota={quota} />
      </div>
    </>
  );
}
