import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeWorkerUtils, type WorkerUtils } from 'graphile-worker';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '@/test/helpers/database';
import { migrateDatabase } from '../database/migrate';
import { createPool } from '../database/pool';
import { FENCE_BEATS, startHeartbeat, sweepDeadWorkers } from './heartbeat';
import { currentJobHolder, runAsJobHolder } from './job-holder';
import { createJobLocks } from './job-lock';

// A database of its own: the sweep looks at every job and heartbeat of its database.
let database: Awaited<ReturnType<typeof freshDatabase>>;
let pool: pg.Pool;
let utils: WorkerUtils;

beforeAll(async () => {
  database = await freshDatabase();
  await migrateDatabase(database.url);
  pool = createPool(database.url, 6);
  utils = await makeWorkerUtils({ pgPool: pool });
});
afterAll(async () => {
  await utils?.release();
  await pool?.end();
  await database?.drop();
});

async function lockedJob(workerId: string, lockedSecondsAgo: number): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(`SELECT id FROM graphile_worker.add_job('maintenance__cleanup', '{}'::json, job_key => $1)`, [`test:${randomUUID()}`]);
  const id = rows[0]!.id;
  await pool.query(`UPDATE graphile_worker._private_jobs SET locked_by = $2, locked_at = now() - make_interval(secs => $3), attempts = 1 WHERE id = $1`, [id, workerId, lockedSecondsAgo]);
  return id;
}

async function lockOf(jobId: string): Promise<{ locked_by: string | null; attempts: number } | undefined> {
  const { rows } = await pool.query<{ locked_by: string | null; attempts: number }>('SELECT locked_by, attempts FROM graphile_worker._private_jobs WHERE id = $1', [jobId]);
  return rows[0];
}

async function heartbeatRow(workerIds: string[], beatSecondsAgo: number): Promise<string> {
  const id = randomUUID();
  await pool.query(`INSERT INTO worker_heartbeats (id, worker_ids, pid, host_name, beat_at) VALUES ($1, $2, 4242, 'elsewhere', now() - make_interval(secs => $3))`, [id, workerIds, beatSecondsAgo]);
  return id;
}

async function lease(holder: string): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(`INSERT INTO connection_leases (id, host, connections, expires_at, holder) VALUES ($1, 'imap.example.test', 5, now() + interval '1 hour', $2) RETURNING id`, [randomUUID(), holder]);
  return rows[0]!.id;
}

async function exists(table: 'worker_heartbeats' | 'connection_leases', id: string): Promise<boolean> {
  return (await pool.query(`SELECT 1 FROM ${table} WHERE id = $1`, [id])).rowCount === 1;
}

describe('the sweep for dead workers', () => {
  it('hands back the jobs and removes the leases of a worker whose beat is stale, and of a lock without any heartbeat, and nothing else', async () => {
    const dead = `pool-dead-${randomUUID()}`;
    const alive = `pool-alive-${randomUUID()}`;
    const preUpgrade = `pool-old-${randomUUID()}`;
    const justStarted = `pool-new-${randomUUID()}`;
    const deadRow = await heartbeatRow([dead], 120);
    const aliveRow = await heartbeatRow([alive], 5);
    const deadJob = await lockedJob(dead, 30);
    const aliveJob = await lockedJob(alive, 3600);
    const preUpgradeJob = await lockedJob(preUpgrade, 300);
    const justStartedJob = await lockedJob(justStarted, 10);
    const deadLease = await lease(dead);
    const aliveLease = await lease(alive);

    const result = await sweepDeadWorkers(pool, (ids) => utils.forceUnlockWorkers(ids), { staleSeconds: 60 });
    expect(result.workerIds.sort()).toEqual([dead, preUpgrade].sort());
    expect(result).toMatchObject({ jobs: 2, leases: 1 });

    // Back in the queue, its attempt counted as graphile-worker counts it (25 allowed by default).
    expect(await lockOf(deadJob)).toEqual({ locked_by: null, attempts: 1 });
    expect(await lockOf(preUpgradeJob)).toEqual({ locked_by: null, attempts: 1 });
    // A live worker's job stays with it however long it runs; a lock younger than the limit too.
    expect((await lockOf(aliveJob))?.locked_by).toBe(alive);
    expect((await lockOf(justStartedJob))?.locked_by).toBe(justStarted);
    expect(await exists('worker_heartbeats', deadRow)).toBe(false);
    expect(await exists('worker_heartbeats', aliveRow)).toBe(true);
    expect(await exists('connection_leases', deadLease)).toBe(false);
    expect(await exists('connection_leases', aliveLease)).toBe(true);

    // Nothing is left to do the second time.
    expect(await sweepDeadWorkers(pool, (ids) => utils.forceUnlockWorkers(ids), { staleSeconds: 60 })).toEqual({ workerIds: [], jobs: 0, leases: 0 });
  });
});

describe('a worker heartbeat', () => {
  it('beats with the database clock, sweeps a dead worker when it starts, and removes its row when it stops', async () => {
    const dead = `pool-dead-${randomUUID()}`;
    await heartbeatRow([dead], 3600);
    const job = await lockedJob(dead, 3600);
    const lost: string[] = [];
    const heartbeat = await startHeartbeat({ pool, unlock: (ids) => utils.forceUnlockWorkers(ids), beatSeconds: 1, onLost: (reason) => lost.push(reason) });
    try {
      heartbeat.addWorkerId('pool-mine');
      for (let i = 0; i < 50 && (await lockOf(job))?.locked_by; i++) await sleep(100);
      expect((await lockOf(job))?.locked_by).toBeNull();
      await sleep(1500);
      const { rows } = await pool.query<{ worker_ids: string[]; age: number }>('SELECT worker_ids, extract(epoch FROM now() - beat_at)::float AS age FROM worker_heartbeats WHERE id = $1', [heartbeat.id]);
      expect(rows[0]!.worker_ids).toEqual(['pool-mine']);
      expect(rows[0]!.age).toBeLessThan(1.5);
      expect(lost).toEqual([]);
    } finally {
      await heartbeat.stop();
    }
    expect(await exists('worker_heartbeats', heartbeat.id)).toBe(false);
  });

  it('takes itself for dead when another worker swept it', async () => {
    const lost: string[] = [];
    const heartbeat = await startHeartbeat({ pool, unlock: async () => undefined, beatSeconds: 60, onLost: (reason) => lost.push(reason) });
    try {
      await pool.query('DELETE FROM worker_heartbeats WHERE id = $1', [heartbeat.id]);
      expect(await heartbeat.beat()).toBe(false);
      expect(lost).toEqual(['another worker took this one for dead and handed its jobs back']);
    } finally {
      await heartbeat.stop();
    }
  });

  it(`takes itself for dead after ${FENCE_BEATS} beats without reaching the database, before others would sweep it`, async () => {
    const own = createPool(database.url, 2);
    let now = 0;
    const lost: string[] = [];
    const heartbeat = await startHeartbeat({ pool: own, unlock: async () => undefined, beatSeconds: 1, clock: () => now, onLost: (reason) => lost.push(reason) });
    try {
      now = 1000;
      expect(await heartbeat.beat()).toBe(true);
      // The database goes away: beats fail.
      await own.end();
      now = 1000 + (FENCE_BEATS - 0.5) * 1000;
      expect(await heartbeat.beat()).toBe(false);
      await sleep(400);
      expect(lost).toEqual([]);
      now = 1000 + FENCE_BEATS * 1000 + 10;
      await sleep(400);
      expect(lost).toEqual([`its heartbeat has not reached the database for ${FENCE_BEATS} s`]);
    } finally {
      await heartbeat.stop();
    }
    await pool.query('DELETE FROM worker_heartbeats WHERE id = $1', [heartbeat.id]);
  });
});

describe('job locks', () => {
  it('let one job of a key run at a time, and the next one in once it ends', async () => {
    const locks = createJobLocks({ pool, waitMs: 600, pollMs: 50, onLost: () => undefined });
    const order: string[] = [];
    let release!: () => void;
    const first = locks.run(
      'migration:one',
      () => new Promise<string>((resolve) => (release = () => resolve('first ran'))),
      async () => 'first busy',
    );
    await sleep(100);
    // While the first holds the key, a second waits and then is left for later.
    expect(await locks.run('migration:one', async () => 'second ran', async () => 'second busy')).toBe('second busy');
    // Another key is not held up.
    expect(await locks.run('migration:two', async () => 'other ran', async () => 'other busy')).toBe('other ran');
    const third = locks.run('migration:one', async () => 'third ran', async () => 'third busy');
    await sleep(100);
    release();
    order.push(await first, await third);
    expect(order).toEqual(['first ran', 'third ran']);
    // Jobs without a key take no lock.
    expect(await locks.run(null, async () => 'unkeyed', async () => 'busy')).toBe('unkeyed');
  });

  it('mark what a job does with its worker id', async () => {
    expect(currentJobHolder()).toBeNull();
    const seen = await runAsJobHolder('pool-x', async () => {
      await sleep(5);
      return currentJobHolder();
    });
    expect(seen).toBe('pool-x');
    expect(currentJobHolder()).toBeNull();
  });
});
