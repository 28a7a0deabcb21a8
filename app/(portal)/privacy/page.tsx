import type { Metadata } from 'next';
import { PageHeader } from '@/components/page-header';
import { requireCustomerPage } from '@/server/auth/page-guard';
import { env } from '@/server/env';
import { ReceiptsSection } from './receipts-section';
import { RemoveDataPanel } from './remove-data-panel';
import { WhatWeKeep } from './what-we-keep';

export const metadata: Metadata = { title: 'Privacy' };

/** What Mailferry keeps about the customer's migrations, "Remove my data", and the receipts of what was deleted. */
export default async function PrivacyPage() {
  await requireCustomerPage();
  return (
    <>
      <PageHeader title="Privacy" description="What Mailferry stores about the mailboxes you migrate, how long it keeps it, and how to remove it now." />
      <div className="space-y-6">
        <WhatWeKeep retentionDays={env().MAILFERRY_RETENTION_DAYS} />
        <RemoveDataPanel />
        <ReceiptsSection />
      </div>
    </>
  );
}
