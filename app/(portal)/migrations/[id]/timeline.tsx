import type { MigrationDetail } from '@/server/migrations/migration-detail';

type Item = MigrationDetail['timeline'][number];

const tones: Partial<Record<Item['kind'], string>> = {
  finished: 'bg-emerald-500 ring-emerald-100',
  incomplete: 'bg-orange-500 ring-orange-100',
  verification_gap: 'bg-orange-500 ring-orange-100',
  failed: 'bg-red-500 ring-red-100',
  cancelled: 'bg-amber-500 ring-amber-100',
  credentials_deleted: 'bg-slate-400 ring-slate-100',
};

/** What happened when, oldest first; what is planned comes last, drawn hollow. */
export function Timeline({ items, zone }: { items: Item[]; zone: string }) {
  return (
    <section data-testid="timeline" className="rounded-xl border border-slate-200 bg-white p-5 shadow-sm sm:p-6">
      <h2 className="text-base font-semibold text-slate-900">Timeline</h2>
      <p className="mt-1 text-xs text-slate-500">Times in {zone}</p>
      <ol className="mt-4">
        {items.map((item, index) => (
          <li key={`${item.kind}-${item.at}-${index}`} data-testid="timeline-entry" className="relative flex gap-3 pb-4 last:pb-0">
            {index < items.length - 1 ? <span aria-hidden="true" className="absolute left-[5px] top-4 h-full w-px bg-slate-200" /> : null}
            <span
              aria-hidden="true"
              className={`relative mt-1 h-[11px] w-[11px] shrink-0 rounded-full ring-4 ${item.isPlanned ? 'border-2 border-slate-300 bg-white ring-white' : (tones[item.kind] ?? 'bg-brand-500 ring-brand-50')}`}
            />
            <div className="min-w-0">
              <p className={`text-sm font-medium ${item.isPlanned ? 'text-slate-500' : 'text-slate-900'}`}>{item.label}</p>
              <p className="text-xs tabular-nums text-slate-500">
                <time dateTime={item.at}>{item.local}</time>
              </p>
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}
