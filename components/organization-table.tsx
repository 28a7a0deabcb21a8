import Link from 'next/link';
import type { ReactNode } from 'react';
import { BuildingIcon } from './icons';
import { EmptyState } from './page-header';

export interface OrganizationRow {
  id: string;
  name: string;
  kind: 'reseller' | 'customer';
  createdAt: Date;
  reseller: { id: string; name: string } | null;
  users: { id: string; email: string; name: string | null; lastLoginAt: Date | null; disabledAt?: Date | null }[];
  _count: { customers: number };
}

const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium' });

/**
 * Organizations with their users. A table from `md` up; below that each row stacks into a
 * card-like block, so nothing is cut off or scrolls sideways on a phone.
 */
export function OrganizationTable({
  rows,
  showKind,
  showReseller = showKind,
  empty,
}: {
  rows: OrganizationRow[];
  /** The Type column (admins see resellers and customers together). */
  showKind: boolean;
  /** "via <reseller>" under a customer; pointless in a reseller's own list. */
  showReseller?: boolean;
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
          <th role="columnheader" scope="col" className="px-6 py-2.5 font-medium">Organization</th>
          {showKind ? <th role="columnheader" scope="col" className="px-6 py-2.5 font-medium">Type</th> : null}
          <th role="columnheader" scope="col" className="px-6 py-2.5 font-medium">Users</th>
          <th role="columnheader" scope="col" className="px-6 py-2.5 font-medium">Created</th>
        </tr>
      </thead>
      <tbody role="rowgroup" className="block divide-y divide-slate-100 md:table-row-group">
        {rows.map((org) => (
          <tr role="row" key={org.id} data-testid="organization-row" className="flex flex-wrap items-start gap-x-3 gap-y-2 px-4 py-4 md:table-row md:p-0">
            <td role="cell" className="min-w-0 flex-1 md:px-6 md:py-3 md:align-top">
              <Link href={`/organizations/${org.id}`} className="font-medium text-slate-900 hover:text-brand-700 hover:underline">
                {org.name}
              </Link>
              {showReseller && org.kind === 'customer' && org.reseller ? <div className="text-xs text-slate-500">via {org.reseller.name}</div> : null}
              {org.kind === 'reseller' ? (
                <div className="text-xs text-slate-500">
                  {org._count.customers} customer{org._count.customers === 1 ? '' : 's'}
                </div>
              ) : null}
            </td>
            {showKind ? (
              <td role="cell" className="shrink-0 md:px-6 md:py-3 md:align-top">
                <span
                  className={`inline-flex rounded-full px-2 py-0.5 text-xs font-medium ring-1 ${
                    org.kind === 'reseller' ? 'bg-violet-50 text-violet-700 ring-violet-200' : 'bg-sky-50 text-sky-700 ring-sky-200'
                  }`}
                >
                  {org.kind === 'reseller' ? 'Reseller' : 'Customer'}
                </span>
              </td>
            ) : null}
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
