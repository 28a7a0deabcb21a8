import type { Db } from '../db';

export interface RateLimitRule {
  /** Most events allowed per window. */
  limit: number;
  windowSeconds: number;
}

export interface RateLimitState {
  count: number;
  isLimited: boolean;
  /** Until the current window ends. */
  retryAfterSeconds: number;
}

interface BucketRow {
  count: number;
  retry_after: number;
}

/**
 * Counts one event for `key` in a fixed window held in PostgreSQL, so the limit holds across
 * every web and worker process. Atomic: concurrent calls never lose a count.
 */
export async function hit(db: Db, key: string, rule: RateLimitRule): Promise<RateLimitState> {
  const rows = await db.$queryRaw<BucketRow[]>`
    INSERT INTO rate_limit_buckets (key, window_start, count) VALUES (${key}, now(), 1)
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN rate_limit_buckets.window_start <= now() - make_interval(secs => ${rule.windowSeconds})
                   THEN 1 ELSE rate_limit_buckets.count + 1 END,
      window_start = CASE WHEN rate_limit_buckets.window_start <= now() - make_interval(secs => ${rule.windowSeconds})
                   THEN now() ELSE rate_limit_buckets.window_start END
    RETURNING count,
      GREATEST(1, CEIL(EXTRACT(EPOCH FROM (window_start + make_interval(secs => ${rule.windowSeconds}) - now()))))::int AS retry_after`;
  return toState(rows[0], rule, 'hit');
}

/** Whether one more event for `key` would be refused, without counting one. */
export async function peek(db: Db, key: string, rule: RateLimitRule): Promise<RateLimitState> {
  const rows = await db.$queryRaw<BucketRow[]>`
    SELECT count,
      GREATEST(1, CEIL(EXTRACT(EPOCH FROM (window_start + make_interval(secs => ${rule.windowSeconds}) - now()))))::int AS retry_after
    FROM rate_limit_buckets
    WHERE key = ${key} AND window_start > now() - make_interval(secs => ${rule.windowSeconds})`;
  return toState(rows[0], rule, 'peek');
}

export async function reset(db: Db, key: string): Promise<void> {
  await db.$executeRaw`DELETE FROM rate_limit_buckets WHERE key = ${key}`;
}

/** Removes windows that ended long ago; run by the maintenance job. */
export async function pruneExpired(db: Db, olderThanSeconds = 86_400): Promise<number> {
  return db.$executeRaw`DELETE FROM rate_limit_buckets WHERE window_start < now() - make_interval(secs => ${olderThanSeconds})`;
}

// After `hit`, the event just counted is refused when it went over the limit; for `peek`, the
// next event would be refused once the limit is reached.
function toState(row: BucketRow | undefined, rule: RateLimitRule, mode: 'hit' | 'peek'): RateLimitState {
  const count = row?.count ?? 0;
  const isLimited = mode === 'hit' ? count > rule.limit : count >= rule.limit;
  return { count, isLimited, retryAfterSeconds: row?.retry_after ?? 0 };
}
