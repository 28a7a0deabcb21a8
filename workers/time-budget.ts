/**
 * How long one job copies before it checkpoints and re-enqueues itself: well below the four
 * hours after which graphile-worker takes a locked job for dead.
 */
export function jobTimeBudgetMs(): number {
  const seconds = Number(process.env.MAILFERRY_JOB_TIME_BUDGET_SECONDS ?? 600);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : 600) * 1000;
}
