import { AsyncLocalStorage } from 'node:async_hooks';

/*
 * Which worker runs the job whose code is executing now: graphile-worker's pool id, the value
 * of the job's `locked_by`. Whatever a job takes that must not outlive its worker (a mail
 * server's connection slots) is marked with it, so the sweep that hands a dead worker's jobs
 * back can remove those too (server/jobs/heartbeat.ts).
 */

const holder = new AsyncLocalStorage<string>();

/** Runs `fn` as part of a job held by `workerId` (everything it awaits included). */
export function runAsJobHolder<T>(workerId: string | null, fn: () => T): T {
  return workerId ? holder.run(workerId, fn) : fn();
}

/** The worker id of the job running here, or null outside a worker's job (web, command line, tests). */
export function currentJobHolder(): string | null {
  return holder.getStore() ?? null;
}
