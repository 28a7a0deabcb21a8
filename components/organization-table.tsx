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
    <table className="w-full text-left text-sm">
      <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
        <tr>
          <th className="px-6 py-2.5 font-medium">Organization</th>
          {showKind ? <th className="px-6 py-2.5 font-medium">Type</th> : null}
          <th className="px-6 py-2.5 font-medium">Users</th>
          <th className="px-6 py-2.5 font-medium">Created</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {rows.map((org) => (
          <tr key={org.id} data-testid="organization-row">
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
                  className={`rounded-full px-2 py-0.5 text-xs font-medium ring-1 ${
                    org.kind === 'reseller' ? 'bg-violet-50 text-violet-700 ring-violet-200' : 'bg-sky-50 text-sky-700 ring-sky-200'
                  }`}
                >
                  {org.kind === 'reseller' ? 'Reseller' : 'Customer'}
                </span>
              </td>
            ) : null}
            <td className="px-6 py-3 align-top text-slate-600">
              {org.users.map((u) => (
                <div key={u.id}>
                  {u.email}
                  <span className="ml-2 text-xs text-slate-400">{u.lastLoginAt ? `last sign-in ${dateFormat.format(u.lastLoginAt)}` : 'never signed in'}</span>
                </div>
              ))}
            </td>
            <td className="px-6 py-3 align-top text-slate-500">{dateFormat.format(org.createdAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
