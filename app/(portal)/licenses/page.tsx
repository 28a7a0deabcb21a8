import type { Metadata } from 'next';
import { KeyIcon } from '@/components/icons';
import { InstallKeyForm } from '@/components/install-key-form';
import { Card, EmptyState, PageHeader } from '@/components/page-header';
import { QuotaMeter } from '@/components/quota-meter';
import { requireCustomerPage } from '@/server/auth/page-guard';
import { getServerCaller } from '@/server/trpc/server-caller';
import { WelcomeNotice } from './welcome-notice';

export const metadata: Metadata = { title: 'License list' };

const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });

export default async function LicenseListPage({ searchParams }: { searchParams: Promise<{ installed?: string }> }) {
  await requireCustomerPage('commercial');
  const { licences, totalPurchased, quota } = await (await getServerCaller()).licensing.licences();
  const installed = Number((await searchParams).installed);
  return (
    <>
      <PageHeader title="License list" description="Every licence key registered to your organization. Licences add up: each one adds its migrations to your total." />
      {installed > 0 && licences[0] ? <WelcomeNotice size={installed} licenceId={licences[0].id} /> : null}
      <div className="grid items-start gap-6 lg:grid-cols-3">
        <Card className="overflow-hidden lg:col-span-2">
          <div className="flex items-center justify-between gap-4 px-6 pb-3 pt-5">
            <h2 className="text-base font-semibold text-slate-900">Registered licences</h2>
            <span className="text-sm text-slate-500">
              {licences.length} licence{licences.length === 1 ? '' : 's'}
            </span>
          </div>
          {licences.length === 0 ? (
            <EmptyState title="No licences yet" icon={<KeyIcon />}>
              Install a licence key to add migrations.
            </EmptyState>
          ) : (
            <div className="overflow-x-auto">
              <table className="w-full text-left text-sm">
                <thead className="border-y border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
                  <tr>
                    <th scope="col" className="py-2.5 pl-6 pr-3 font-medium">Key</th>
                    <th scope="col" className="hidden px-3 py-2.5 text-right font-medium sm:table-cell">Migrations</th>
                    <th scope="col" className="hidden px-3 py-2.5 font-medium sm:table-cell">Registered</th>
                    <th scope="col" className="py-2.5 pl-3 pr-6 font-medium">Used</th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {licences.map((licence) => (
                    <tr key={licence.id} data-testid="licence-row">
                      <td className="whitespace-nowrap py-3 pl-6 pr-3 font-mono text-[13px] tracking-wide text-slate-800">{licence.maskedKey}</td>
                      <td className="hidden px-3 py-3 text-right font-medium tabular-nums text-slate-900 sm:table-cell">{licence.size}</td>
                      <td className="hidden whitespace-nowrap px-3 py-3 text-slate-600 sm:table-cell">{dateFormat.format(licence.registeredAt)}</td>
                      <td className="py-3 pl-3 pr-6">
                        <div className="flex items-center gap-2.5">
                          <div className="hidden h-1.5 w-12 overflow-hidden rounded-full bg-slate-100 sm:block" aria-hidden="true">
                            <div className="h-full rounded-full bg-brand-600" style={{ width: `${Math.round((licence.used / licence.size) * 100)}%` }} />
                          </div>
                          <span className="whitespace-nowrap tabular-nums text-slate-600">
                            {licence.used} / {licence.size}
                          </span>
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
                <tfoot className="border-t border-slate-200 bg-slate-50/70">
                  <tr data-testid="licence-total">
                    <th scope="row" className="py-3 pl-6 pr-3 text-left font-semibold text-slate-900">Total</th>
                    <td className="hidden px-3 py-3 text-right font-semibold tabular-nums text-slate-900 sm:table-cell">{totalPurchased}</td>
                    <td className="hidden px-3 py-3 sm:table-cell" />
                    <td className="whitespace-nowrap py-3 pl-3 pr-6 font-medium tabular-nums text-slate-700">
                      {quota.used} / {totalPurchased}
                    </td>
                  </tr>
                </tfoot>
              </table>
            </div>
          )}
        </Card>
        <div className="space-y-6">
          <QuotaMeter quota={quota} showLicenceLink={false} />
          <Card className="p-6">
            <h2 className="text-base font-semibold text-slate-900">Install key</h2>
            <p className="mb-4 mt-1 text-sm text-slate-600">Bought more migrations? Enter the new key; its migrations are added to your total.</p>
            <InstallKeyForm />
          </Card>
        </div>
      </div>
    </>
  );
}
