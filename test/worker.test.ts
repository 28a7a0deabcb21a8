import { inject, describe, expect, it } from 'vitest';
import { enqueueJob } from '@/server/jobs/enqueue';
import { maintenanceCleanupJob } from '@/server/jobs/jobs';
import { hit, peek } from '@/server/rate-limit/rate-limit';
import { startWorker } from '@/workers/runner';
import { testDb } from './helpers/database';

const db = testDb();

async function pendingJobs(task: string): Promise<number> {
  const rows = await db.$queryRaw<{ count: bigint }[]>`SELECT count(*) AS count FROM graphile_worker.jobs WHERE task_identifier = ${task}`;
  return Number(rows[0]!.count);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('job queue', () => {
  it('adds a job only when its transaction commits, and a worker runs it', async () => {
    const stale = `test:stale:${Date.now()}`;
    await db.$executeRaw`INSERT INTO rate_limit_buckets (key, window_start, count) VALUES (${stale}, now() - interval '3 days', 9)`;

    await db
      .$transaction(async (tx) => {
        await enqueueJob(tx, maintenanceCleanupJob, {}, { jobKey: 'test-rolled-back' });
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(await db.$queryRaw<unknown[]>`SELECT 1 FROM graphile_worker.jobs WHERE key = 'test-rolled-back'`).toHaveLength(0);

    await db.$transaction(async (tx) => enqueueJob(tx, maintenanceCleanupJob, {}, { jobKey: 'test-committed' }));
    expect(await db.$queryRaw<unknown[]>`SELECT 1 FROM graphile_worker.jobs WHERE key = 'test-committed'`).toHaveLength(1);

    const worker = await startWorker({ connectionString: inject('databaseUrl'), concurrency: 1 });
    try {
      await waitFor(async () => (await pendingJobs('maintenance__cleanup')) === 0);
    } finally {
      await worker.stop();
    }
    expect(await db.rateLimitBucket.findUnique({ where: { key: stale } })).toBeNull();
  });

  it('refuses to enqueue a payload that does not match the job schema', async () => {
    await expect(enqueueJob(db, maintenanceCleanupJob, { organizationId: 'x' } as never)).rejects.toThrow();
  });

  it('drops a job whose payload is malformed instead of retrying it forever', async () => {
    await db.$executeRaw`SELECT graphile_worker.add_job('maintenance__cleanup', '{"unexpected": true}'::json, job_key => 'test-malformed')`;
    const worker = await startWorker({ connectionString: inject('databaseUrl'), concurrency: 1 });
    try {
      await waitFor(async () => (await db.$queryRaw<unknown[]>`SELECT 1 FROM graphile_worker.jobs WHERE key = 'test-malformed'`).length === 0);
    } finally {
      await worker.stop();
    }
  });
});

describe('rate limits', () => {
  it('count concurrent events exactly, across connections', async () => {
    const key = `test:concurrent:${Date.now()}`;
    const rule = { limit: 10, windowSeconds: 60 };
    const states = await Promise.all(Array.from({ length: 25 }, () => hit(db, key, rule)));
    expect(states.map((s) => s.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(states.filter((s) => !s.isLimited)).toHaveLength(10);
    expect(await peek(db, key, rule)).toMatchObject({ count: 25, isLimited: true });
  });

  it('start a new window once the old one has passed', async () => {
    const key = `test:window:${Date.now()}`;
    await db.$executeRaw`INSERT INTO rate_limit_buckets (key, window_start, count) VALUES (${key}, now() - interval '2 minutes', 50)`;
    expect(await peek(db, key, { limit: 3, windowSeconds: 60 })).toMatchObject({ count: 0, isLimited: false });
    expect(await hit(db, key, { limit: 3, windowSeconds: 60 })).toMatchObject({ count: 1, isLimited: false });
  });
});
