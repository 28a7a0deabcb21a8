import type { MigrationDetail } from '@/server/migrations/migration-detail';
import { formatBytes, number } from './format';

type Folder = MigrationDetail['folders'][number];

const th = 'px-3 py-2.5 text-left text-xs font-medium uppercase tracking-wide text-slate-500 first:pl-5 last:pr-5 sm:first:pl-6 sm:last:pr-6';
const td = 'px-3 py-3 align-top first:pl-5 last:pr-5 sm:first:pl-6 sm:last:pr-6';
const num = 'text-right tabular-nums';

function FolderState({ folder: f, isResync }: { folder: Folder; isResync: boolean }) {
  if (f.problem) return <Pill tone="bg-orange-50 text-orange-800 ring-orange-200" dot="bg-orange-500" label="Not copied" />;
  if (f.state === 'working') return <Pill tone="bg-brand-50 text-brand-700 ring-brand-100" dot="bg-brand-500 animate-pulse" label={isResync ? 'Resyncing' : 'Copying'} />;
  if (f.state === 'waiting') return <Pill tone="bg-slate-100 text-slate-600 ring-slate-200" dot="bg-slate-400" label="Waiting" />;
  return <Pill tone="bg-emerald-50 text-emerald-700 ring-emerald-200" dot="bg-emerald-500" label="Done" />;
}

function Pill({ tone, dot, label }: { tone: string; dot: string; label: string }) {
  return (
    <span data-testid="folder-state" className={`inline-flex items-center gap-1.5 whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ${tone}`}>
      <span aria-hidden="true" className={`h-1.5 w-1.5 rounded-full ${dot}`} />
      {label}
    </span>
  );
}

function FolderName({ folder: f }: { folder: Folder }) {
  return (
    <>
      <span className="block font-medium text-slate-900 [overflow-wrap:anywhere]">{f.sourcePath}</span>
      {f.problem ? (
        <span className="mt-0.5 block text-xs font-medium text-orange-800">{f.problem}</span>
      ) : f.targetPath && f.targetPath !== f.sourcePath ? (
        <span className="mt-0.5 block text-xs text-slate-500 [overflow-wrap:anywhere]">→ {f.targetPath} on the target</span>
      ) : null}
      {f.note ? <span className="mt-0.5 block text-xs text-slate-600">{f.note}</span> : null}
      {f.gone > 0 ? <span className="mt-0.5 block text-xs text-brand-900/80">{number(f.gone)} no longer in the target</span> : null}
    </>
  );
}

function MiniBar({ folder: f }: { folder: Folder }) {
  const share = f.total > 0 ? Math.min(1, f.done / f.total) : f.state === 'done' ? 1 : 0;
  const colour = f.failed > 0 ? 'bg-orange-400' : f.state === 'done' ? 'bg-emerald-500' : 'bg-brand-600';
  return (
    <div className="mt-1.5 h-1 w-full overflow-hidden rounded-full bg-slate-100" aria-hidden="true">
      <div className={`h-full rounded-full transition-[width] duration-700 ${colour}`} style={{ width: `${Math.round(share * 100)}%` }} />
    </div>
  );
}

const sizeOf = (f: Folder) => (f.bytesTotal !== null && f.bytesTotal > f.bytesCopied ? `${formatBytes(f.bytesCopied)} of ${formatBytes(f.bytesTotal)}` : formatBytes(f.bytesCopied));

/**
 * Every folder: source → target, where it stands, copied of total with a bar, size, already
 * there and not copied. Copied + already there + not copied = total once a folder is done.
 */
export function FolderTable({ folders, totals, isResync }: { folders: Folder[]; totals: MigrationDetail['totals']; isResync: boolean }) {
  const blank = (f: Folder) => f.problem !== null && f.total === 0;
  return (
    <>
      <ul className="divide-y divide-slate-100 border-t border-slate-200 sm:hidden">
        {folders.map((f) => (
          <li key={f.sourcePath} data-testid="folder-card" className={`px-5 py-3 text-sm ${f.problem ? 'bg-orange-50/40' : ''}`}>
            <div className="flex items-start justify-between gap-3">
              <div className="min-w-0">
                <FolderName folder={f} />
              </div>
              <FolderState folder={f} isResync={isResync} />
            </div>
            {blank(f) ? null : (
              <>
                <MiniBar folder={f} />
                <p className="mt-1.5 text-xs tabular-nums text-slate-600">
                  <span className="font-medium text-slate-900">{number(f.copied)}</span> of {number(f.total)} copied · {sizeOf(f)}
                  {f.skipped > 0 ? ` · ${number(f.skipped)} already there` : ''}
                  {f.failed > 0 ? <span className="font-semibold text-orange-800"> · {number(f.failed)} not copied</span> : null}
                </p>
              </>
            )}
          </li>
        ))}
        <li className="bg-slate-50 px-5 py-3 text-sm">
          <p className="font-semibold text-slate-900">All folders</p>
          <p className="mt-1 text-xs tabular-nums text-slate-600">
            <span className="font-semibold text-slate-900">{number(totals.copied)}</span> copied · {number(totals.skipped)} already there ·{' '}
            <span className={totals.failed > 0 ? 'font-semibold text-orange-800' : ''}>{number(totals.failed)} not copied</span> · {number(totals.total)} total
          </p>
        </li>
      </ul>
      <div className="hidden overflow-x-auto border-t border-slate-200 sm:block">
        <table className="w-full text-sm">
          <thead className="bg-slate-50">
            <tr>
              <th className={`${th} w-[34%]`}>Folder</th>
              <th className={th}>State</th>
              <th className={`${th} ${num}`}>Copied</th>
              <th className={`${th} ${num}`}>Already there</th>
              <th className={`${th} ${num}`}>Not copied</th>
              <th className={`${th} ${num}`}>Total</th>
              <th className={`${th} ${num}`}>Size</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {folders.map((f) => (
              <tr key={f.sourcePath} data-testid="folder-row" data-state={f.state} className={f.problem ? 'bg-orange-50/40' : f.state === 'working' ? 'bg-brand-50/30' : undefined}>
                <td className={`${td} min-w-0`}>
                  <FolderName folder={f} />
                </td>
                <td className={`${td} whitespace-nowrap`}>
                  <FolderState folder={f} isResync={isResync} />
                </td>
                <td className={`${td} ${num} min-w-24 text-slate-700`}>
                  {blank(f) ? (
                    '—'
                  ) : (
                    <>
                      <span data-testid="folder-copied">{number(f.copied)}</span>
                      <MiniBar folder={f} />
                    </>
                  )}
                </td>
                <td className={`${td} ${num} text-slate-500`}>{blank(f) ? '—' : number(f.skipped)}</td>
                <td className={`${td} ${num} ${f.failed > 0 ? 'font-semibold text-orange-800' : 'text-slate-500'}`}>{blank(f) ? '—' : number(f.failed)}</td>
                <td className={`${td} ${num} font-medium text-slate-900`}>{blank(f) ? '—' : number(f.total)}</td>
                <td className={`${td} ${num} whitespace-nowrap text-slate-500`}>{blank(f) ? '—' : sizeOf(f)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot className="border-t border-slate-200 bg-slate-50">
            <tr data-testid="folder-totals">
              <td className={`${td} font-semibold text-slate-900`}>All folders</td>
              <td className={td} />
              <td className={`${td} ${num} font-semibold text-slate-900`}>{number(totals.copied)}</td>
              <td className={`${td} ${num} font-semibold text-slate-700`}>{number(totals.skipped)}</td>
              <td className={`${td} ${num} font-semibold ${totals.failed > 0 ? 'text-orange-800' : 'text-slate-700'}`}>{number(totals.failed)}</td>
              <td className={`${td} ${num} font-semibold text-slate-900`}>{number(totals.total)}</td>
              <td className={`${td} ${num} font-semibold text-slate-700`}>{formatBytes(folders.reduce((n, f) => n + f.bytesCopied, 0))}</td>
            </tr>
          </tfoot>
        </table>
      </div>
    </>
  );
}
