import Link from 'next/link';
import type { ReactNode } from 'react';
import { BuildingIcon } from '@/components/icons';
import type { OrganizationRow } from '@/components/organization-table';
import { EmptyState } from '@/components/page-header';
import type { MigrationCounts } from '@/server/migrations/migration-counts';
import { CustomerMigrationCounts } from './customer-migration-counts';

const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium' });

/**
 * The reseller's customers with their users and how many migrations each has active, finished
 * and failed. A table from `md` up; below that each row stacks into a block.
 */
export function CustomerTable({
  rows,
  counts,
  empty,
}: {
  rows: OrganizationRow[];
  /** Per customer id; absent while loading or for a customer without migrations. */
  counts: Record<string, MigrationCounts> | undefined;
  empty: { title: string; description: ReactNode; action?: ReactNode };
}) {
  if (rows.length === 0) {
    return (
      <EmptyState title={empty.title} icon={<BuildingIcon />}>
        {empty.description}
        {empty.action ? <div className="mt-5">{empty.action}</div> : null}
      </EmptyState>
    );
  }
  return (
    // Explicit roles: browsers drop table semantics from a table whose display is changed (mobile layout).
    <table role="table" className="block w-full text-left text-sm md:table">
      <thead role="rowgroup" className="hidden border-b border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500 md:table-header-group">
        <tr role="row">
          <th role="columnheader" scope="col" className="px-6 py-2.5 font-medium">Customer</th>
          <th role="columnheader" scope="col" className="px-6 py-2.5 font-medium">Migrations</th>
          <th role="columnheader" scope="col" className="px-6 py-2.5 font-medium">Users</th>
          <th role="columnheader" scope="col" className="px-6 py-2.5 font-medium">Created</th>
        </tr>
      </thead>
      <tbody role="rowgroup" className="block divide-y divide-slate-100 md:table-row-group">
        {rows.map((org) => (
          <tr role="row" key={org.id} data-testid="organization-row" className="flex flex-wrap items-start gap-x-3 gap-y-2 px-4 py-4 md:table-row md:p-0">
            <td role="cell" className="w-full min-w-0 md:w-auto md:px-6 md:py-3 md:align-top">
              <Link href={`/organizations/${org.id}`} className="font-medium text-slate-900 hover:text-brand-700 hover:underline">
                {org.name}
              </Link>
            </td>
            <td role="cell" className="w-full md:w-auto md:px-6 md:py-3 md:align-top">
              {counts ? <CustomerMigrationCounts name={org.name} counts={counts[org.id]} /> : <span className="text-slate-400">…</span>}
            </td>
            <td role="cell" className="w-full md:w-auto md:px-6 md:py-3 md:align-top">
              <ul className="space-y-1.5">
                {org.users.map((u) => (
                  <li key={u.id}>
                    <div className="text-slate-700 [overflow-wrap:anywhere]">
                      {u.name ? (
                        <>
                          {u.name} <span className="text-slate-500">· {u.email}</span>
                        </>
                      ) : (
                        u.email
                      )}
                    </div>
                    <div className="text-xs text-slate-500">
                      {u.disabledAt ? <span className="font-medium text-red-700">Disabled · </span> : null}
                      {u.lastLoginAt ? `Last sign-in ${dateFormat.format(u.lastLoginAt)}` : 'Never signed in'}
                    </div>
                  </li>
                ))}
              </ul>
            </td>
            <td role="cell" className="w-full whitespace-nowrap text-xs text-slate-500 md:w-auto md:px-6 md:py-3 md:align-top md:text-sm">
              <span className="md:hidden">Created </span>
              {dateFormat.format(org.createdAt)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
