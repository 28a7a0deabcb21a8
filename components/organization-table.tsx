export interface OrganizationRow {
  id: string;
  name: string;
  kind: 'reseller' | 'customer';
  createdAt: Date;
  reseller: { id: string; name: string } | null;
  users: { id: string; email: string; name: string | null; lastLoginAt: Date | null }[];
  _count: { customers: number };
}

const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium' });

export function OrganizationTable({ rows, showKind, emptyText }: { rows: OrganizationRow[]; showKind: boolean; emptyText: string }) {
  if (rows.length === 0) return <p className="px-6 py-12 text-center text-sm text-slate-500">{emptyText}</p>;
  return (
    // Scrolls sideways inside its card on a narrow screen instead of being cut off.
    <div className="overflow-x-auto">
      <table className="w-full min-w-[36rem] text-left text-sm">
        <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
          <tr>
            <th scope="col" className="px-6 py-2.5 font-medium">Organization</th>
            {showKind ? <th scope="col" className="px-6 py-2.5 font-medium">Type</th> : null}
            <th scope="col" className="px-6 py-2.5 font-medium">Users</th>
            <th scope="col" className="px-6 py-2.5 font-medium">Created</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {rows.map((org) => (
            <tr key={org.id} data-testid="organization-row" className="transition-colors hover:bg-slate-50/60">
              <td className="px-6 py-3 align-top">
                <div className="font-medium text-slate-900">{org.name}</div>
                {org.kind === 'customer' && org.reseller ? <div className="text-xs text-slate-500">via {org.reseller.name}</div> : null}
                {org.kind === 'reseller' ? (
                  <div className="text-xs text-slate-500">
                    {org._count.customers} customer{org._count.customers === 1 ? '' : 's'}
                  </div>
                ) : null}
              </td>
              {showKind ? (
                <td className="px-6 py-3 align-top">
                  <span
                    className={`inline-flex rounded-full px-2 py-0.5 text-xs font-medium ring-1 ${
                      org.kind === 'reseller' ? 'bg-violet-50 text-violet-700 ring-violet-200' : 'bg-sky-50 text-sky-700 ring-sky-200'
                    }`}
                  >
                    {org.kind === 'reseller' ? 'Reseller' : 'Customer'}
                  </span>
                </td>
              ) : null}
              <td className="px-6 py-3 align-top">
                <ul className="space-y-1.5">
                  {org.users.map((u) => (
                    <li key={u.id}>
                      <div className="text-slate-700">{u.name ? `${u.name} · ${u.email}` : u.email}</div>
                      <div className="text-xs text-slate-500">
                        {u.lastLoginAt ? `Last sign-in ${dateFormat.format(u.lastLoginAt)}` : 'Never signed in'}
                      </div>
                    </li>
                  ))}
                </ul>
              </td>
              <td className="whitespace-nowrap px-6 py-3 align-top text-slate-500">{dateFormat.format(org.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
