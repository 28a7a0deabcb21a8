import type { Metadata } from 'next';
import Link from 'next/link';
import { Card, PageHeader } from '@/components/page-header';
import { requirePageUser } from '@/server/auth/page-guard';
import { getServerCaller } from '@/server/trpc/server-caller';
import { serverTimeZone } from '@/server/portal/time-zone';
import { Microsoft365Card } from './microsoft365-card';

export const metadata: Metadata = { title: 'Information' };

const accountTypes = [
  ['IMAP', 'Mail over IMAP', '—'],
  ['Zimbra', 'Mail over IMAP', 'CalDAV / CardDAV'],
  ['Kolab (Plesk)', 'Mail over IMAP', 'CalDAV / CardDAV'],
  ['Open-Xchange', 'Mail over IMAP', 'CalDAV / CardDAV'],
  ['Exchange (on-premise)', 'Mail over IMAP', 'Exchange Web Services'],
  ['Microsoft 365', 'IMAP with OAuth 2.0', 'Microsoft Graph'],
] as const;

export default async function InformationPage() {
  const user = await requirePageUser();
  const zone = serverTimeZone();
  const quota = user.role === 'customer' && user.organization ? await (await getServerCaller()).licensing.quota() : null;
  return (
    <>
      <PageHeader title="Information" description="How Mailferry moves a mailbox, and what it needs from you." />
      <div className="grid gap-6 lg:grid-cols-3">
        <Card className="p-6 lg:col-span-2">
          <h2 className="text-base font-semibold text-slate-900">How a migration runs</h2>
          <ol className="mt-4 space-y-3 text-sm text-slate-600">
            <li><span className="font-medium text-slate-800">1. Check.</span> You enter the source and target accounts. Both logins are checked live before the migration is accepted; the answer says which side failed and why.</li>
            <li><span className="font-medium text-slate-800">2. Copy.</span> At the start time every folder and message is copied with its flags and date. Between groupware systems, calendars, contacts and tasks move too.</li>
            <li><span className="font-medium text-slate-800">3. Resync.</span> At the optional resync date, whatever arrived since the first pass is copied. Nothing is copied twice.</li>
            <li><span className="font-medium text-slate-800">4. Forget.</span> When the migration ends, the stored passwords are deleted.</li>
          </ol>
        </Card>
        <Card className="p-6">
          <h2 className="text-base font-semibold text-slate-900">This installation</h2>
          <dl className="mt-4 space-y-3 text-sm">
            <div>
              <dt className="text-slate-500">Server time zone</dt>
              <dd className="font-medium text-slate-800">{zone.name} (UTC{zone.offset})</dd>
            </div>
            <div>
              <dt className="text-slate-500">Signed in as</dt>
              <dd className="font-medium text-slate-800">{user.email}</dd>
            </div>
            {user.organization ? (
              <div>
                <dt className="text-slate-500">Organization</dt>
                <dd className="font-medium text-slate-800">{user.organization.name}</dd>
              </div>
            ) : null}
            {quota ? (
              <div>
                <dt className="text-slate-500">Licence</dt>
                <dd className="font-medium text-slate-800">
                  {quota.mode === 'free' ? 'Free mode' : 'Commercial mode'} · {quota.remaining} / {quota.total} migrations
                  remaining
                </dd>
                <dd className="mt-0.5">
                  <Link href={quota.mode === 'free' ? '/migrations/new' : '/licenses'} className="text-sm font-medium text-brand-700 hover:text-brand-900">
                    {quota.mode === 'free' ? 'Install a licence key →' : 'License list →'}
                  </Link>
                </dd>
              </div>
            ) : null}
          </dl>
          <p className="mt-4 text-xs text-slate-500">Start and resync dates are entered in the server time zone.</p>
        </Card>
        <Card className="overflow-hidden lg:col-span-3">
          <h2 className="px-6 pt-6 text-base font-semibold text-slate-900">Supported account types</h2>
          {/* A table from sm up; on a phone each type stacks (explicit roles keep the table semantics). */}
          <table role="table" className="mt-4 block w-full text-left text-sm sm:table">
            <thead role="rowgroup" className="hidden border-y border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500 sm:table-header-group">
              <tr role="row">
                <th role="columnheader" scope="col" className="px-6 py-2 font-medium">Type</th>
                <th role="columnheader" scope="col" className="px-6 py-2 font-medium">Mail</th>
                <th role="columnheader" scope="col" className="px-6 py-2 font-medium">Calendars, contacts, tasks</th>
              </tr>
            </thead>
            <tbody role="rowgroup" className="block divide-y divide-slate-100 border-t border-slate-200 sm:table-row-group sm:border-t-0">
              {accountTypes.map(([type, mail, groupware]) => (
                <tr role="row" key={type} className="block px-6 py-3 sm:table-row sm:p-0">
                  <td role="cell" className="block font-medium text-slate-800 sm:table-cell sm:px-6 sm:py-2.5">{type}</td>
                  <td role="cell" className="block text-slate-600 sm:table-cell sm:px-6 sm:py-2.5">
                    <span className="text-slate-500 sm:hidden">Mail: </span>
                    {mail}
                  </td>
                  <td role="cell" className="block text-slate-600 sm:table-cell sm:px-6 sm:py-2.5">
                    <span className="text-slate-500 sm:hidden">Calendars, contacts, tasks: </span>
                    {groupware}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="px-6 py-4 text-xs text-slate-500">Calendars, contacts and tasks move only when both the source and the target support them.</p>
        </Card>
        {user.role === 'customer' ? <Microsoft365Card /> : null}
      </div>
    </>
  );
}
