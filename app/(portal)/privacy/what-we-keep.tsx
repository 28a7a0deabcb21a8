import type { ReactNode } from 'react';
import { Card } from '@/components/page-header';

function Point({ title, tone, children }: { title: string; tone: 'gone' | 'timed' | 'kept'; children: ReactNode }) {
  const dot = { gone: 'bg-emerald-500', timed: 'bg-amber-500', kept: 'bg-slate-400' }[tone];
  return (
    <li className="flex gap-3">
      <span aria-hidden="true" className={`mt-1.5 h-2 w-2 shrink-0 rounded-full ${dot}`} />
      <div className="min-w-0">
        <p className="text-sm font-medium text-slate-900">{title}</p>
        <p className="mt-0.5 text-sm text-slate-600 [overflow-wrap:anywhere]">{children}</p>
      </div>
    </li>
  );
}

/** In plain words, what Mailferry stores about an organization's migrations and for how long (MAILFERRY_RETENTION_DAYS). */
export function WhatWeKeep({ retentionDays }: { retentionDays: number }) {
  const period = `${retentionDays} ${retentionDays === 1 ? 'day' : 'days'}`;
  return (
    <Card>
      <div className="border-b border-slate-200 px-4 py-4 sm:px-6">
        <h2 className="text-base font-semibold text-slate-900">What Mailferry keeps</h2>
        <p className="mt-0.5 text-sm text-slate-500">About the mailboxes you migrate, and for how long.</p>
      </div>
      <ul className="space-y-4 p-4 sm:p-6" data-testid="what-we-keep">
        <Point title="Passwords: until the migration ends" tone="gone">
          The source and target passwords are stored sealed while a migration runs and deleted the moment it ends: finished, failed or cancelled.
        </Point>
        <Point title={retentionDays > 0 ? `Details of finished migrations: ${period}` : 'Details of finished migrations: until you remove them'} tone="timed">
          Addresses, usernames, servers, folder names and the reports of what was copied and verified
          {retentionDays > 0
            ? ` are kept for ${period} after a migration ends, then removed automatically.`
            : ' are kept until you remove them below; this installation removes none automatically.'}{' '}
          So are the IP addresses in the sign-in and activity log.
        </Point>
        <Point title="For good: counts, licences and users" tone="kept">
          How many migrations were done, by month and state, with their dates and message counts; your licences and their usage; your organization and its users. Nothing in them names a migrated mailbox.
        </Point>
      </ul>
    </Card>
  );
}
