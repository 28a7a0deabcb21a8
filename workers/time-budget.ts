import { env } from '@/server/env';

/**
 * How long one job copies before it checkpoints and re-enqueues itself: well below the four
 * hours after which graphile-worker takes a locked job for dead.
 */
export function jobTimeBudgetMs(): number {
  return env().MAILFERRY_JOB_TIME_BUDGET_SECONDS * 1000;
}
