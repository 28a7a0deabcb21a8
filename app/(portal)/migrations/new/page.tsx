import type { Metadata } from 'next';
import { Card, PageHeader } from '@/components/page-header';
import { QuotaExhaustedNotice, QuotaMeter } from '@/components/quota-meter';
import { UpgradeCard } from '@/components/upgrade-card';
import { requireCustomerPage } from '@/server/auth/page-guard';
import { serverTimeZone } from '@/server/portal/time-zone';
import { getServerCaller } from '@/server/trpc/server-caller';
import { MigrationForm } from './migration-form';

export const metadata: Metadata = { title: 'New migration' };

export default async function NewMigrationPage() {
  const { mode } = await requireCustomerPage();
  const quota = await (await getServerCaller()).licensing.quota();
  const isUsedUp = quota.remaining === 0;
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
      {/* Remaining / total comes first: beside the form on wide screens, above it on phones. */}
      <div className="grid items-start gap-6 lg:grid-cols-3 lg:grid-rows-[auto_1fr]">
        <QuotaMeter quota={quota} className="lg:col-start-3 lg:row-start-1" />
        <div className="min-w-0 lg:col-span-2 lg:col-start-1 lg:row-span-2 lg:row-start-1">
          {isUsedUp ? (
            <QuotaExhaustedNotice quota={quota} />
          ) : (
            <Card>
              <MigrationForm zone={serverTimeZone()} />
            </Card>
          )}
        </div>
        {mode === 'free' ? (
          <div className="lg:col-start-3 lg:row-start-2">
            <UpgradeCard quota={quota} />
          </div>
        ) : null}
      </div>
    </>
  );
}
