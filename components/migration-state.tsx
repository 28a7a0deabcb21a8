import type { MigrationState } from '@/server/generated/prisma/enums';

const STATES: Record<MigrationState, { label: string; tone: string; dot: string; bar: string }> = {
  scheduled: { label: 'Scheduled', tone: 'bg-slate-100 text-slate-700 ring-slate-200', dot: 'bg-slate-400', bar: 'bg-brand-600' },
  running: { label: 'Running', tone: 'bg-brand-50 text-brand-700 ring-brand-100', dot: 'bg-brand-500 animate-pulse', bar: 'bg-brand-600' },
  waiting_resync: { label: 'Waiting for resync', tone: 'bg-indigo-50 text-indigo-700 ring-indigo-100', dot: 'bg-indigo-400', bar: 'bg-brand-600' },
  resyncing: { label: 'Resyncing', tone: 'bg-brand-50 text-brand-700 ring-brand-100', dot: 'bg-brand-500 animate-pulse', bar: 'bg-brand-600' },
  finished: { label: 'Finished', tone: 'bg-emerald-50 text-emerald-700 ring-emerald-200', dot: 'bg-emerald-500', bar: 'bg-emerald-500' },
  // Ended, but something was not copied: never shown as a plain "Finished".
  incomplete: { label: 'Incomplete', tone: 'bg-orange-50 text-orange-800 ring-orange-200', dot: 'bg-orange-500', bar: 'bg-orange-400' },
  failed: { label: 'Failed', tone: 'bg-red-50 text-red-700 ring-red-200', dot: 'bg-red-500', bar: 'bg-red-400' },
  cancelled: { label: 'Cancelled', tone: 'bg-amber-50 text-amber-800 ring-amber-200', dot: 'bg-amber-500', bar: 'bg-slate-300' },
};

export function StateBadge({ state }: { state: MigrationState }) {
  const { label, tone, dot } = STATES[state];
  return (
    <span data-testid="migration-state" className={`inline-flex items-center gap-1.5 whitespace-nowrap rounded-full px-2.5 py-0.5 text-xs font-medium ring-1 ${tone}`}>
      <span aria-hidden="true" className={`h-1.5 w-1.5 rounded-full ${dot}`} />
      {label}
    </span>
  );
}

/** A thin bar of `share` (0..1) in the state's colour. */
export function ProgressBar({ share, state, className = 'max-w-40' }: { share: number; state: MigrationState; className?: string }) {
  return (
    <div className={`h-1.5 w-full overflow-hidden rounded-full bg-slate-100 ${className}`} aria-hidden="true">
      <div className={`h-full rounded-full ${STATES[state].bar}`} style={{ width: `${Math.round(Math.min(1, Math.max(0, share)) * 100)}%` }} />
    </div>
  );
}

/** How much of the total is done; an ended migration with nothing to copy is done. */
export function shareOf(copied: number, total: number, state: MigrationState): number {
  if (total > 0) return Math.min(1, copied / total);
  return state === 'finished' || state === 'incomplete' ? 1 : 0;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * The time left in words, as rough as an estimate deserves: "less than a minute",
 * "about 12 minutes", "about 1 hour 20 minutes", "about 14 hours", "about 3 days". Null without
 * an estimate.
 */
export function formatEta(seconds: number | null | undefined): string | null {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return null;
  if (seconds < 45) return 'less than a minute';
  const minutes = Math.max(1, Math.round(seconds / 60));
  if (minutes < 60) return `about ${plural(minutes, 'minute', 'minutes')}`;
  if (minutes < 10 * 60) {
    const rounded = Math.round(minutes / 10) * 10;
    const hours = Math.floor(rounded / 60);
    const rest = rounded % 60;
    return rest === 0 ? `about ${plural(hours, 'hour', 'hours')}` : `about ${plural(hours, 'hour', 'hours')} ${rest} minutes`;
  }
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `about ${hours} hours`;
  return `about ${Math.round(hours / 24)} days`;
}
