import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type pg from 'pg';
import { createLogger } from '../logger';

const log = createLogger('worker');

/*
 * graphile-worker keeps the jobs of a worker killed outright (SIGKILL, out of memory, a machine
 * that rebooted) locked for four hours. Here every worker process says in the database that it
 * is alive, and every worker hands the jobs of dead ones back with graphile-worker's own
 * forceUnlockWorkers, so another worker continues them within about five beats.
 *
 * All times are compared with the database's now(): the machines' clocks may differ, the
 * database's is the one clock every worker shares.
 *
 * The rule for a worker that is alive but cannot reach the database (or is too slow to beat):
 * others take it for dead once its last beat is STALE_BEATS old. Before that, at FENCE_BEATS
 * without a successful beat (measured on its own monotonic clock from the moment it sent the
 * last beat that succeeded, which is no later than that beat's database time), it takes itself
 * for dead and stops at once; so does a worker that finds its row removed (it was swept). It
 * does not finish its running jobs: another worker may hold them already, and a copy cannot be
 * stopped half-way from outside it, so only ending the process is sure to stop it. Its jobs go
 * back like those of any dead worker, and whatever supervises it (systemd, Docker, npm start)
 * starts a fresh one. The job locks of server/jobs/job-lock.ts are the second guard: a job of
 * the same key never starts while a live connection still holds its lock.
 */

/** A worker whose last beat is older than this many beats is dead. */
export const STALE_BEATS = 4;
/** A worker that has not beaten for this many beats stops itself, one beat before the others would sweep it. */
export const FENCE_BEATS = 3;
/** How often each worker looks for dead ones. */
export const SWEEP_EVERY_BEATS = 2;

/** graphile-worker's schema (the default; the runner does not change it). */
const QUEUE_SCHEMA = 'graphile_worker';
// Any constant: it only has to be the same in every worker, so two sweeps do not interleave.
const SWEEP_LOCK = 7_264_581_117;

export interface SweepResult {
  /** The worker ids whose jobs were handed back. */
  workerIds: string[];
  /** Jobs they held. */
  jobs: number;
  /** Connection slots they held, removed with their jobs. */
  leases: number;
}

/**
 * Hands back the jobs of dead workers: those whose heartbeat is older than `staleSeconds`, and
 * worker ids that hold a job locked longer than that without any heartbeat (a worker from
 * before heartbeats, or one that died before its first beat). Their heartbeat rows and
 * connection leases are removed. `unlock` is graphile-worker's forceUnlockWorkers.
 */
export async function sweepDeadWorkers(
  pool: pg.Pool,
  unlock: (workerIds: string[]) => Promise<void>,
  options: { staleSeconds: number; selfId?: string },
): Promise<SweepResult> {
  const client = await pool.connect();
  let dead: { worker_ids: string[]; pid: number; host_name: string }[];
  let orphans: string[];
  try {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [SWEEP_LOCK]);
      // Removed first and committed before any job is unlocked: a worker that was only slow finds
      // its row gone at its next beat and stops (see above) instead of running on beside the new holder.
      dead = (
        await client.query<{ worker_ids: string[]; pid: number; host_name: string }>(
          `DELETE FROM worker_heartbeats WHERE beat_at < now() - make_interval(secs => $1) AND id IS DISTINCT FROM $2::uuid
           RETURNING worker_ids, pid, host_name`,
          [options.staleSeconds, options.selfId ?? null],
        )
      ).rows;
      orphans = (
        await client.query<{ locked_by: string }>(
          `SELECT DISTINCT locked_by FROM (
             SELECT locked_by, locked_at FROM ${QUEUE_SCHEMA}._private_jobs WHERE locked_by IS NOT NULL
             UNION ALL
             SELECT locked_by, locked_at FROM ${QUEUE_SCHEMA}._private_job_queues WHERE locked_by IS NOT NULL
           ) AS locks
           WHERE locked_at < now() - make_interval(secs => $1)
             AND NOT EXISTS (SELECT 1 FROM worker_heartbeats AS h WHERE locks.locked_by = ANY (h.worker_ids))`,
          [options.staleSeconds],
        )
      ).rows.map((r) => r.locked_by);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    const workerIds = [...new Set([...dead.flatMap((d) => d.worker_ids), ...orphans])];
    if (workerIds.length === 0) return { workerIds, jobs: 0, leases: 0 };
    const held = await client.query<{ count: string }>(`SELECT count(*) AS count FROM ${QUEUE_SCHEMA}._private_jobs WHERE locked_by = ANY ($1::text[])`, [workerIds]);
    await unlock(workerIds);
    const leases = await client.query('DELETE FROM connection_leases WHERE holder = ANY ($1::text[])', [workerIds]);
    const result = { workerIds, jobs: Number(held.rows[0]?.count ?? 0), leases: leases.rowCount ?? 0 };
    log.warn('handed back the jobs of dead workers', {
      workers: workerIds,
      processes: dead.map((d) => `${d.host_name}:${d.pid}`),
      jobs: result.jobs,
      leases: result.leases,
    });
    return result;
  } finally {
    client.release();
  }
}

export interface HeartbeatOptions {
  /** A pool of the heartbeat's own, so a busy queue never delays a beat. */
  pool: pg.Pool;
  /** graphile-worker's forceUnlockWorkers. */
  unlock: (workerIds: string[]) => Promise<void>;
  beatSeconds: number;
  /** Called once when this worker must take itself for dead; it should end the process. */
  onLost: (reason: string) => void;
  /** Milliseconds of a monotonic clock; for tests. */
  clock?: () => number;
}

export interface Heartbeat {
  /** The row's id. */
  readonly id: string;
  /** A worker id (graphile-worker's pool id) of this process; beaten at once. */
  addWorkerId(workerId: string): void;
  /** One beat now; false when it did not succeed. */
  beat(): Promise<boolean>;
  sweep(): Promise<SweepResult>;
  /** Stops beating and removes the row: the worker stopped cleanly, its jobs are released. */
  stop(): Promise<void>;
}

/**
 * Starts this process's heartbeat: a row in worker_heartbeats beaten every `beatSeconds`, a
 * sweep for dead workers now and every SWEEP_EVERY_BEATS beats, and the watch that calls
 * `onLost` when this worker's own beat has failed for FENCE_BEATS beats or its row was removed.
 */
export async function startHeartbeat(options: HeartbeatOptions): Promise<Heartbeat> {
  const clock = options.clock ?? (() => performance.now());
  const beatMs = options.beatSeconds * 1000;
  const staleSeconds = options.beatSeconds * STALE_BEATS;
  const id = randomUUID();
  const workerIds: string[] = [];
  await options.pool.query('INSERT INTO worker_heartbeats (id, worker_ids, pid, host_name) VALUES ($1, $2, $3, $4)', [id, workerIds, process.pid, os.hostname()]);
  let lastBeatSentAt = clock();
  let isStopped = false;
  let isLost = false;
  let pendingBeat: Promise<boolean> | undefined;
  const timers: NodeJS.Timeout[] = [];

  const lose = (reason: string) => {
    if (isLost || isStopped) return;
    isLost = true;
    for (const timer of timers) clearInterval(timer);
    options.onLost(reason);
  };

  const beatOnce = async (): Promise<boolean> => {
    const sentAt = clock();
    try {
      const result = await options.pool.query('UPDATE worker_heartbeats SET beat_at = now(), worker_ids = $2 WHERE id = $1', [id, workerIds]);
      if (isStopped) return true;
      if (result.rowCount === 0) {
        lose('another worker took this one for dead and handed its jobs back');
        return false;
      }
      lastBeatSentAt = Math.max(lastBeatSentAt, sentAt);
      return true;
    } catch (error) {
      log.warn('heartbeat not saved', { error });
      return false;
    }
  };
  // One beat at a time: a beat that hangs on a dead connection must not pile up others.
  const beat = () => (pendingBeat ??= beatOnce().finally(() => (pendingBeat = undefined)));

  const sweep = () => sweepDeadWorkers(options.pool, options.unlock, { staleSeconds, selfId: id });
  const sweepQuietly = () => {
    if (isLost || isStopped) return;
    sweep().catch((error: Error) => log.warn('could not look for dead workers', { error }));
  };

  const watch = () => {
    const silentMs = clock() - lastBeatSentAt;
    if (silentMs > FENCE_BEATS * beatMs) lose(`its heartbeat has not reached the database for ${Math.round(silentMs / 1000)} s`);
  };

  const every = (ms: number, fn: () => void) => {
    const timer = setInterval(fn, ms);
    timer.unref();
    timers.push(timer);
  };
  every(beatMs, () => void beat());
  every(Math.max(100, beatMs / 4), watch);
  every(beatMs * SWEEP_EVERY_BEATS, sweepQuietly);
  // A worker started after a crash hands the dead one's jobs back at once.
  sweepQuietly();

  return {
    id,
    addWorkerId(workerId) {
      if (workerIds.includes(workerId)) return;
      workerIds.push(workerId);
      void beat();
    },
    beat,
    sweep,
    async stop() {
      if (isStopped) return;
      isStopped = true;
      for (const timer of timers) clearInterval(timer);
      await pendingBeat;
      await options.pool.query('DELETE FROM worker_heartbeats WHERE id = $1', [id]).catch((error: Error) => log.warn('heartbeat row not removed', { error }));
    },
  };
}
