import type { Metadata } from 'next';
import Link from 'next/link';
import { Card, PageHeader } from '@/components/page-header';
import { requirePageUser } from '@/server/auth/page-guard';
import { env } from '@/server/env';
import type { SessionUser } from '@/server/auth/session-user';
import { FREE_MIGRATIONS, KEY_SIZES } from '@/server/licensing/schemas';
import { isMailConfigured } from '@/server/notifications/config';
import { serverTimeZone } from '@/server/portal/time-zone';
import { getServerCaller } from '@/server/trpc/server-caller';
import { Code, Facts, InfoCard, Points } from './info-parts';
import { Microsoft365Card } from './microsoft365-card';

export const metadata: Metadata = { title: 'Information' };

const link = 'font-medium text-brand-700 hover:text-brand-900';

/** Each role's Information page speaks to that role: what it runs, sells or migrates, and where things are. */
export default async function InformationPage() {
  const user = await requirePageUser();
  const zone = serverTimeZone();
  const zoneText = `${zone.name} (UTC${zone.offset})`;
  switch (user.role) {
    case 'admin':
      return <AdminInformation user={user} zone={zoneText} />;
    case 'reseller':
      return <ResellerInformation user={user} zone={zoneText} />;
    case 'customer':
      return <CustomerInformation user={user} zone={zoneText} />;
  }
}

function AdminInformation({ user, zone }: { user: SessionUser; zone: string }) {
  return (
    <>
      <PageHeader title="Information" description="What this installation runs, where each part is managed, and what to set up before customers start." />
      <div className="grid gap-6 lg:grid-cols-3">
        <InfoCard title="Where things are" className="lg:col-span-2" testId="info-where">
          <Points
            items={[
              ['Organizations:', 'resellers and customer organizations, their users and their licences. Customers of a reseller are managed by that reseller too.'],
              ['Hosted mailboxes:', 'mailboxes hosted on your servers, offered to customers as a quick selection (address, username and server filled in; the password is always typed).'],
              ['Licence keys:', `keys of ${KEY_SIZES.join(', ')} migrations, issued by resellers; each registers once, to one organization.`],
              [
                'Settings:',
                <>
                  the private mail servers Mailferry may reach (<em>Allowed private hosts</em>), hosts where unencrypted connections are accepted, and private certificate
                  authorities. A private host on a port other than 143 or 993 must be named with its port, e.g. <Code>10.0.0.5:10143</Code>.
                </>,
              ],
            ]}
          />
        </InfoCard>
        <InfoCard title="This installation" testId="info-installation">
          <Facts
            items={[
              ['Server time zone', zone],
              ['Signed in as', `${user.email} (administrator)`],
              ['Free mode', `${FREE_MIGRATIONS} evaluation migrations per organization, until its first licence`],
              [
                'Migration e-mails',
                isMailConfigured()
                  ? 'On: customers get an e-mail when a migration they created ends or its verification finds a gap'
                  : 'None are sent: no SMTP server is set up (MAILFERRY_SMTP_URL and MAILFERRY_MAIL_FROM)',
              ],
            ]}
          />
          <p className="mt-4 text-xs text-slate-500">Customers enter start and resync dates in the server time zone (MAILFERRY_TIMEZONE).</p>
        </InfoCard>
        <InfoCard title="What runs here" className="lg:col-span-2" testId="info-runs">
          <Points
            items={[
              ['The portal', 'and at least one worker: migrations are jobs on a queue in PostgreSQL, so more workers on this or other machines share the work (npm run worker).'],
              ['The database:', 'the embedded PostgreSQL under the data folder, or the server DATABASE_URL names. The README says how to reach it with psql.'],
              ['Stored passwords', 'are encrypted with the sealing keys (data folder or MAILFERRY_SEALING_KEYS) and deleted when a migration ends. Keep a copy of the keys: without them, scheduled migrations cannot log in.'],
              [
                'The command line',
                <>
                  checks a login exactly as the portal does, with the same host rules: <Code>npm run ferry -- check imaps://user%40example.com@mail.example.com</Code>. Its answers
                  say which rule to add when a server is refused.
                </>,
              ],
            ]}
          />
        </InfoCard>
        <InfoCard title="When a customer cannot connect" testId="info-support">
          <p>
            The customer is told what happened and to ask you; you see the full reason when you check the same server with the command line. Servers on private networks need an
            entry under{' '}
            <Link href="/admin/settings" className={link}>
              Settings
            </Link>
            .
          </p>
        </InfoCard>
      </div>
    </>
  );
}

function ResellerInformation({ user, zone }: { user: SessionUser; zone: string }) {
  return (
    <>
      <PageHeader title="Information" description="What you sell, how your customers use it, and where you manage both." />
      <div className="grid gap-6 lg:grid-cols-3">
        <InfoCard title="What you sell" className="lg:col-span-2" testId="info-sell">
          <Points
            items={[
              ['Licence keys', `of ${KEY_SIZES.join(', ')} migrations. A customer installs a key once; licences add up (10 + 5 = 15).`],
              ['Free mode:', `every new customer organization has ${FREE_MIGRATIONS} free migrations to try Mailferry. Its first licence switches it to commercial mode; unused free migrations do not carry over.`],
              ['A migration is used', 'only when both logins were checked and the migration was accepted. A failed check uses nothing.'],
              [
                'What moves:',
                'mail (every folder and message, with flags and dates), and between any two of Zimbra, Kolab, Open-Xchange, Exchange and Microsoft 365 also calendars, address books and task lists. Deletions of calendar, contact and task items are not carried over, and no attendee is notified.',
              ],
            ]}
          />
        </InfoCard>
        <InfoCard title="This installation" testId="info-installation">
          <Facts
            items={[
              ['Server time zone', zone],
              ['Signed in as', user.email],
              user.organization ? ['Reseller', user.organization.name] : null,
              ['Migration e-mails', isMailConfigured() ? 'On: customers are told when a migration ends or has a gap' : 'None are sent on this installation'],
            ]}
          />
        </InfoCard>
        <InfoCard title="Where things are" className="lg:col-span-2" testId="info-where">
          <Points
            items={[
              [
                'Customers:',
                <>
                  create customer organizations, manage their users (add, disable, set a new password when one is forgotten), and see each customer&apos;s licences and usage (
                  <Link href="/reseller/customers" className={link}>
                    Customers
                  </Link>
                  ).
                </>,
              ],
              [
                'Licence keys:',
                <>
                  issue keys, copy them to your customers, see which customer registered each key and how much of it is used, and revoke a key that is not registered yet (
                  <Link href="/reseller/keys" className={link}>
                    Licence keys
                  </Link>
                  ).
                </>,
              ],
            ]}
          />
        </InfoCard>
        <InfoCard title="When a customer asks" testId="info-support">
          <p>
            Most failed checks are a wrong password, IMAP switched off at the provider (Gmail and others need IMAP enabled and an app password), or a server on a private network,
            which the administrator of this installation must allow.
          </p>
        </InfoCard>
      </div>
    </>
  );
}

const accountTypes = [
  ['IMAP', 'IMAP', 'none: an IMAP account has no calendars or contacts'],
  ['Zimbra', 'IMAP', 'CalDAV / CardDAV'],
  ['Kolab (Plesk)', 'IMAP', 'CalDAV / CardDAV'],
  ['Open-Xchange', 'IMAP', 'CalDAV / CardDAV'],
  ['Exchange (on-premise)', 'IMAP', 'Exchange Web Services (EWS)'],
  ['Microsoft 365', 'IMAP with OAuth 2.0', 'Microsoft Graph'],
] as const;

const whatMoves = [
  ['Mail', 'Copied', 'Every folder and message, with its flags and date. At the resync, what arrived since.'],
  [
    'Calendars',
    'Copied',
    'Between any two of Zimbra, Kolab, Open-Xchange, Exchange and Microsoft 365: every calendar with its events (repeating ones with their exceptions and cancelled dates, reminders, attendees), after the mail, and at the resync what is new or changed. No attendee is notified: no invitation, update or cancellation is sent. Microsoft 365 would invite the attendees of every meeting it is given, so meetings go there without attendees: the attendees are written into the event’s text, and the migration’s page lists these events as copied with changes.',
  ],
  [
    'Contacts',
    'Copied',
    'Every address book with its contacts, photos included, and contact groups where the target has them (Microsoft 365 has none: groups are listed as not copied). What Exchange or Microsoft 365 has no field for (a fourth e-mail address, say) is listed as copied with changes.',
  ],
  ['Tasks', 'Copied', 'Every task list with due dates, status, repetition and checklists. Microsoft 365 keeps a priority only as low, normal or high, and due dates without a time of day: what changes is listed.'],
  [
    'Deletions',
    'Not carried over',
    'A calendar event, contact or task deleted on the source after the first pass stays on the target: the resync adds and updates items, it never deletes them. Delete it on the target yourself if it should go.',
  ],
] as const;

async function CustomerInformation({ user, zone }: { user: SessionUser; zone: string }) {
  const retentionDays = env().MAILFERRY_RETENTION_DAYS;
  const quota = user.organization ? await (await getServerCaller()).licensing.quota() : null;
  return (
    <>
      <PageHeader title="Information" description="How Mailferry moves a mailbox, what it needs from you, and what to check before you start." />
      <div className="grid gap-6 lg:grid-cols-3">
        <InfoCard title="How a migration runs" className="lg:col-span-2" testId="info-how">
          <ol className="space-y-3">
            <li><span className="font-medium text-slate-800">1. Check.</span> You enter the source and target accounts. Both logins are checked live before the migration is accepted; the answer says which side failed and why.</li>
            <li><span className="font-medium text-slate-800">2. Copy.</span> At the start time every folder and message is copied with its flags and date.</li>
            <li><span className="font-medium text-slate-800">3. Resync.</span> At the optional resync date, whatever arrived since the first pass is copied. Nothing is copied twice.</li>
            <li>
              <span className="font-medium text-slate-800">4. Forget.</span> When the migration ends, the stored passwords are deleted.{' '}
              {retentionDays > 0
                ? `${retentionDays} ${retentionDays === 1 ? 'day' : 'days'} after its end, its addresses, folder names and reports are removed as well; how many messages it moved, when and with what result stay.`
                : 'Its addresses, folder names and reports are kept until its organization’s data is removed.'}
            </li>
          </ol>
          <p className="mt-4 text-xs text-slate-500">The remaining time shown while a migration runs is an estimate: it depends on how fast both servers answer and how much they let one client do at once.</p>
        </InfoCard>
        <InfoCard title="This installation" testId="info-installation">
          <Facts
            items={[
              ['Server time zone', zone],
              ['Signed in as', user.email],
              user.organization ? ['Organization', user.organization.name] : null,
              quota
                ? [
                    'Licence',
                    <>
                      {quota.mode === 'free' ? 'Free mode' : 'Commercial mode'} · {quota.remaining} / {quota.total} migrations remaining
                      <Link href={quota.mode === 'free' ? '/migrations/new' : '/licenses'} className={`mt-0.5 block text-sm ${link}`}>
                        {quota.mode === 'free' ? 'Install a licence key →' : 'License list →'}
                      </Link>
                    </>,
                  ]
                : null,
              [
                'Migration e-mails',
                isMailConfigured() ? (
                  <>
                    On: an e-mail when a migration you created ends or its verification finds a gap
                    <Link href="/account" className={`mt-0.5 block text-sm ${link}`}>
                      Switch them off on your Account page →
                    </Link>
                  </>
                ) : (
                  'None are sent on this installation: follow your migrations in the lists'
                ),
              ],
            ]}
          />
          <p className="mt-4 text-xs text-slate-500">Start and resync dates are entered in the server time zone.</p>
        </InfoCard>

        <Card className="overflow-hidden lg:col-span-3">
          <div data-testid="info-what-moves">
            <h2 className="px-6 pt-6 text-base font-semibold text-slate-900">What is copied</h2>
            <ul className="mt-4 divide-y divide-slate-100 border-t border-slate-200">
              {whatMoves.map(([kind, state, note]) => (
                <li key={kind} data-testid="what-moves-row" className="flex flex-col gap-1 px-6 py-3 sm:flex-row sm:items-baseline sm:gap-4">
                  <span className="font-medium text-slate-800 sm:w-28">{kind}</span>
                  <span
                    className={`w-fit shrink-0 whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ${state === 'Copied' ? 'bg-emerald-50 text-emerald-800 ring-emerald-200' : 'bg-amber-50 text-amber-800 ring-amber-200'}`}
                  >
                    {state}
                  </span>
                  <span className="text-sm text-slate-600">{note}</span>
                </li>
              ))}
            </ul>
          </div>
        </Card>

        <InfoCard title="Before you start" className="lg:col-span-2" testId="info-tips">
          <Points
            items={[
              ['Both servers must be reachable from this installation,', 'not only from your own computer: a server inside a company network needs the administrator of this installation to allow it.'],
              ['Gmail and similar providers', 'need IMAP enabled in the mailbox settings, and an app password instead of the normal one when two-step sign-in is on.'],
              ['Exchange (on-premise)', 'needs IMAP and Exchange Web Services (EWS) switched on for the mailbox. EWS is found by autodiscover; where it is not, enter its address (https://mail.example.com/EWS/Exchange.asmx) as the groupware address. Basic and NTLM sign-in both work.'],
              ['Microsoft 365', "signs in through your organization's app connection (below), not with a mailbox password."],
              ['Do not change either password', 'between submitting the migration and its end, or the copy cannot log in. For extra safety, change both before the migration and again after it; the stored copies are deleted at the end anyway.'],
              ['Calendar names with spaces', 'are renamed by some systems (a space becomes an underscore, for example); check the names after moving calendars.'],
            ]}
          />
        </InfoCard>
        <InfoCard title="When the migrations run out" testId="info-quota">
          <p>
            Each accepted migration uses one; a failed check uses none. At 0 remaining the forms say so and accept no new migration, while the migrations already accepted run to
            their end, resync included.
          </p>
          <p className="mt-2">
            {quota?.mode === 'commercial'
              ? 'Buy another licence key from your hosting provider and install it in the License list; licences add up.'
              : `Free mode has ${FREE_MIGRATIONS} migrations. Buy a licence key from your hosting provider and install it on the Free migration page; unused free migrations do not carry over.`}
          </p>
        </InfoCard>

        <Card className="overflow-hidden lg:col-span-3">
          <h2 className="px-6 pt-6 text-base font-semibold text-slate-900">Supported account types</h2>
          {/* A table from sm up; on a phone each type stacks (explicit roles keep the table semantics). */}
          <table role="table" className="mt-4 block w-full text-left text-sm sm:table">
            <thead role="rowgroup" className="hidden border-y border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500 sm:table-header-group">
              <tr role="row">
                <th role="columnheader" scope="col" className="px-6 py-2 font-medium">Type</th>
                <th role="columnheader" scope="col" className="px-6 py-2 font-medium">Mail over</th>
                <th role="columnheader" scope="col" className="px-6 py-2 font-medium">Calendars and contacts over</th>
              </tr>
            </thead>
            <tbody role="rowgroup" className="block divide-y divide-slate-100 border-t border-slate-200 sm:table-row-group sm:border-t-0">
              {accountTypes.map(([type, mail, groupware]) => (
                <tr role="row" key={type} className="block px-6 py-3 sm:table-row sm:p-0">
                  <td role="cell" className="block font-medium text-slate-800 sm:table-cell sm:px-6 sm:py-2.5">{type}</td>
                  <td role="cell" className="block text-slate-600 sm:table-cell sm:px-6 sm:py-2.5">
                    <span className="text-slate-500 sm:hidden">Mail over: </span>
                    {mail}
                  </td>
                  <td role="cell" className="block text-slate-600 sm:table-cell sm:px-6 sm:py-2.5">
                    <span className="text-slate-500 sm:hidden">Calendars and contacts over: </span>
                    {groupware}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="px-6 py-4 text-xs text-slate-500">
            The login check signs in to calendars and contacts too, so a wrong groupware address shows before the migration starts. CalDAV / CardDAV is looked for on the server’s host; where a provider has it elsewhere (dav.example.com), enter that address as the account’s groupware address in the form. For Exchange, the groupware address is the EWS address, when autodiscover does not find it. Calendars, contacts and tasks are copied with the mail between any two groupware accounts, whatever protocol each side speaks.
          </p>
        </Card>
        {user.role === 'customer' ? <Microsoft365Card /> : null}
      </div>
    </>
  );
}
