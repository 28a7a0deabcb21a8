'use client';

import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Alert, Button } from '@/components/form';
import { InboxIcon } from '@/components/icons';
import { EmptyState, PageHeader } from '@/components/page-header';
import { useTRPC } from '@/components/trpc-provider';

const selectClass =
  'block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm outline-none transition focus:border-brand-500 focus:ring-2 focus:ring-brand-100';

/** The installation's audit log for its admins: who did what, when, from where; never a secret. */
export function AuditLog({ zone }: { zone: { name: string; offset: string } }) {
  const trpc = useTRPC();
  const [organizationId, setOrganizationId] = useState('');
  const [action, setAction] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [page, setPage] = useState<{ cursor: string | null; direction: 'older' | 'newer' }>({ cursor: null, direction: 'older' });
  const organizations = useQuery(trpc.audit.organizations.queryOptions());
  const actions = useQuery(trpc.audit.actions.queryOptions());
  const query = useQuery(
    trpc.audit.list.queryOptions(
      { organizationId: organizationId || undefined, action: action || undefined, from: from || undefined, to: to || undefined, cursor: page.cursor, direction: page.direction, limit: 25 },
      { placeholderData: keepPreviousData },
    ),
  );
  const reset = () => setPage({ cursor: null, direction: 'older' });
  const entries = query.data?.entries ?? [];
  const isFiltered = organizationId !== '' || action !== '' || from !== '' || to !== '';

  return (
    <>
      <PageHeader title="Audit log" description="Sign-ins, licence keys, migrations, data removal and settings changes, newest first. Entries never hold a password or a key; IP addresses go when an organization's data is removed or after the retention period." />
      <section className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm">
        <div className="grid gap-3 border-b border-slate-200 px-5 py-4 sm:grid-cols-2 sm:px-6 lg:grid-cols-4 lg:items-end">
          <label className="block">
            <span className="mb-1 block text-sm font-medium text-slate-700">Organization</span>
            <select className={selectClass} value={organizationId} onChange={(e) => (setOrganizationId(e.target.value), reset())}>
              <option value="">All organizations</option>
              {(organizations.data ?? []).map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                  {o.isDeleted ? ' (deleted)' : ''}
                </option>
              ))}
            </select>
          </label>
          <label className="block">
            <span className="mb-1 block text-sm font-medium text-slate-700">Action</span>
            <select className={selectClass} value={action} onChange={(e) => (setAction(e.target.value), reset())}>
              <option value="">All actions</option>
              {(actions.data ?? []).map((g) => (
                <optgroup key={g.label} label={g.label}>
                  {g.prefix ? <option value={g.prefix}>All: {g.label}</option> : null}
                  {g.actions.map((a) => (
                    <option key={a.action} value={a.action}>
                      {a.label}
                    </option>
                  ))}
                </optgroup>
              ))}
            </select>
          </label>
          <label className="block">
            <span className="mb-1 block text-sm font-medium text-slate-700">From</span>
            <input type="datetime-local" className={selectClass} value={from} onChange={(e) => (setFrom(e.target.value), reset())} />
          </label>
          <label className="block">
            <span className="mb-1 block text-sm font-medium text-slate-700">To</span>
            <input type="datetime-local" className={selectClass} value={to} onChange={(e) => (setTo(e.target.value), reset())} />
          </label>
          <p className="text-xs text-slate-500 sm:col-span-2 lg:col-span-4">
            Times in {zone.name} (UTC{zone.offset})
          </p>
        </div>
        {query.error ? (
          <div className="p-5 sm:p-6">
            <Alert>{query.error.message}</Alert>
          </div>
        ) : query.isLoading ? (
          <p className="px-6 py-12 text-center text-sm text-slate-500">Loading…</p>
        ) : entries.length === 0 ? (
          <EmptyState title={isFiltered ? 'No entry matches these filters' : 'No entries yet'} icon={<InboxIcon />}>
            {isFiltered ? 'Choose another organization, action or period.' : 'Entries appear here with the first sign-in.'}
          </EmptyState>
        ) : (
          <div className={query.isPlaceholderData ? 'opacity-60 transition-opacity' : 'transition-opacity'}>
            <div className="overflow-x-auto">
              <table className="min-w-full divide-y divide-slate-200 text-sm">
                <thead className="bg-slate-50 text-left text-xs font-medium uppercase tracking-wide text-slate-500">
                  <tr>
                    <th scope="col" className="px-4 py-2.5 sm:pl-6">When</th>
                    <th scope="col" className="px-4 py-2.5">Who</th>
                    <th scope="col" className="px-4 py-2.5">Organization</th>
                    <th scope="col" className="px-4 py-2.5">Action</th>
                    <th scope="col" className="px-4 py-2.5">Details</th>
                    <th scope="col" className="px-4 py-2.5 sm:pr-6">IP address</th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {entries.map((e) => (
                    <tr key={e.id} data-testid="audit-entry" data-action={e.action} className="align-top">
                      <td className="whitespace-nowrap px-4 py-3 text-slate-600 sm:pl-6">{e.atLocal}</td>
                      <td className="px-4 py-3">
                        <span className="block font-medium text-slate-800">{e.actorText}</span>
                        {e.actor ? <span className="block text-xs text-slate-500">{e.actor.name ? `${e.actor.email} · ` : ''}{e.actor.role}</span> : null}
                      </td>
                      <td className="px-4 py-3 text-slate-700">{e.organization ? `${e.organization.name}${e.organization.isDeleted ? ' (deleted)' : ''}` : '—'}</td>
                      <td className="px-4 py-3">
                        <span className="block font-medium text-slate-800">{e.label}</span>
                        {e.target ? <span className="block text-xs text-slate-500" title={e.target.id ?? undefined}>{e.target.text}</span> : null}
                      </td>
                      <td className="max-w-md px-4 py-3 text-slate-600 [overflow-wrap:anywhere]">{e.details || '—'}</td>
                      <td className="whitespace-nowrap px-4 py-3 text-slate-600 sm:pr-6">
                        {e.ip ?? (e.ipState === 'removed' ? <span className="italic text-slate-400">removed</span> : '—')}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="flex items-center justify-between gap-2 border-t border-slate-200 px-5 py-4 sm:px-6">
              <Button variant="secondary" disabled={!query.data?.newerCursor} onClick={() => setPage({ cursor: query.data!.newerCursor, direction: 'newer' })}>
                Newer
              </Button>
              <Button variant="secondary" disabled={!query.data?.olderCursor} onClick={() => setPage({ cursor: query.data!.olderCursor, direction: 'older' })}>
                Older
              </Button>
            </div>
          </div>
        )}
      </section>
    </>
  );
}
