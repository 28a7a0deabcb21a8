import type { Metadata } from 'next';
import { MassFormatHelp } from '@/components/mass/mass-format-help';
import { MassMigration } from '@/components/mass/mass-migration';
import { PageHeader } from '@/components/page-header';
import { QuotaExhaustedNotice, QuotaMeter } from '@/components/quota-meter';
import { requireCustomerPage } from '@/server/auth/page-guard';
import { getServerCaller } from '@/server/trpc/server-caller';

export const metadata: Metadata = { title: 'Mass migration' };

export default async function MassMigrationPage() {
  await requireCustomerPage('commercial');
  const caller = await getServerCaller();
  const [quota, context, latest] = await Promise.all([caller.licensing.quota(), caller.mass.context(), caller.mass.latest()]);
  return (
    <>
      <PageHeader
        title="Mass migration"
        description="Many mailboxes at once: one line per migration, checked field by field before anything is submitted, and every login checked before its migration is created."
      />
      <QuotaExhaustedNotice quota={quota} />
      <MassMigration
        initialContext={context}
        initialLatest={latest}
        meter={<QuotaMeter quota={quota} />}
        help={<MassFormatHelp zone={{ name: context.zone, offset: context.zoneOffset }} microsoft365={context.microsoft365} />}
      />
    </>
  );
}
