import type { MigrationCounts } from '@/server/migrations/migration-counts';

const number = (n: number) => n.toLocaleString('en-GB');

const KINDS: { key: keyof MigrationCounts; label: string; tone: string; dot: string }[] = [
  { key: 'active', label: 'active', tone: 'text-brand-700', dot: 'bg-brand-500' },
  { key: 'finished', label: 'finished', tone: 'text-emerald-700', dot: 'bg-emerald-500' },
  { key: 'failed', label: 'failed', tone: 'text-red-700', dot: 'bg-red-500' },
];

/** A customer's migrations in three numbers: "2 active · 14 finished · 1 failed". */
export function CustomerMigrationCounts({ name, counts }: { name: string; counts: MigrationCounts | undefined }) {
  const c = counts ?? { active: 0, finished: 0, failed: 0 };
  const total = c.active + c.finished + c.failed;
  return (
    <div data-testid="customer-migration-counts" aria-label={`Migrations of ${name}`} className="flex flex-wrap items-center gap-x-3 gap-y-1 text-sm">
      {total === 0 ? (
        <span className="text-slate-400">No migrations yet</span>
      ) : (
        KINDS.map((k) => (
          <span key={k.key} data-testid={`count-${k.key}`} className={`inline-flex items-center gap-1.5 whitespace-nowrap ${c[k.key] > 0 ? k.tone : 'text-slate-400'}`}>
            <span aria-hidden="true" className={`h-1.5 w-1.5 rounded-full ${c[k.key] > 0 ? k.dot : 'bg-slate-300'}`} />
            <span className="font-semibold tabular-nums">{number(c[k.key])}</span> {k.label}
          </span>
        ))
      )}
    </div>
  );
}
