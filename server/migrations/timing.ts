import { resolveLocalTime } from '../portal/time-zone';

export type TimingField = 'startAt' | 'resyncAt';

export type Timing =
  | {
      ok: true;
      startAt: Date;
      resyncAt: Date | null;
      /** The start was in the past: the migration starts now. */
      startsNow: boolean;
      /** Remarks for the customer, e.g. a time that occurs twice when the clocks go back. */
      notes: string[];
    }
  | { ok: false; errors: Partial<Record<TimingField, string>> };

/**
 * Local start and resync times (server's time zone) → UTC. A time the clocks skip is refused
 * on its field; a start in the past means now; the resync must still be after the start.
 * Pure, so the form shows the same answer while the customer types.
 */
export function resolveTiming(input: { startAt: string; resyncAt?: string | null }, zone: string, now: Date = new Date()): Timing {
  const errors: Partial<Record<TimingField, string>> = {};
  const notes: string[] = [];
  const start = resolveLocalTime(input.startAt, zone);
  const resync = input.resyncAt ? resolveLocalTime(input.resyncAt, zone) : null;
  if (!start.ok) errors.startAt = start.message;
  else if (start.note) notes.push(start.note);
  if (resync && !resync.ok) errors.resyncAt = resync.message;
  else if (resync?.note) notes.push(resync.note);
  if (!start.ok || (resync && !resync.ok)) return { ok: false, errors };

  const startsNow = start.utc.getTime() <= now.getTime();
  const startAt = startsNow ? now : start.utc;
  const resyncAt = resync?.ok ? resync.utc : null;
  if (resyncAt && resyncAt.getTime() <= startAt.getTime()) {
    return { ok: false, errors: { resyncAt: startsNow ? 'The resync must be in the future: the start is in the past, so the migration starts now.' : 'The resync must be later than the start.' } };
  }
  return { ok: true, startAt, resyncAt, startsNow, notes };
}
