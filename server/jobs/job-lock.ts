import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { createLogger } from '../logger';

const log = createLogger('worker');

/*
 * Two jobs of the same key (the same migration) never run at once. graphile-worker alone
 * allows it: a key added again while its job runs makes a second job, and a sweep hands back
 * the jobs of a worker that was only slow (server/jobs/heartbeat.ts). So each keyed job holds
 * a PostgreSQL advisory lock on its key, on a connection of its own, while it runs. A process
 * that dies loses its connection and with it the lock at once; a connection cut off by the
 * network is ended by the server's keepalive within about 25 s.
 */

export interface JobLocks {
  /**
   * Runs `fn` holding the lock of `key`. When another job holds it still after `waitMs` (a
   * job of a dead or stalled worker whose connection lives on), `busy` runs instead.
   */
  run<T>(key: string | null, fn: () => Promise<T>, busy: () => Promise<T>): Promise<T>;
}

export interface JobLockOptions {
  pool: pg.Pool;
  /** How long to wait for a lock held by another job; a job that hands over releases it within moments. */
  waitMs?: number;
  pollMs?: number;
  /** The lock's connection broke while the job ran: another worker may take the job over. */
  onLost: (reason: string) => void;
}

export function createJobLocks(options: JobLockOptions): JobLocks {
  const waitMs = options.waitMs ?? 15_000;
  const pollMs = options.pollMs ?? 250;
  return {
    async run(key, fn, busy) {
      if (!key) return fn();
      const client = await options.pool.connect();
      let isHeld = false;
      let isDone = false;
      let isBroken = false;
      const broken = () => {
        isBroken = true;
        if (isHeld && !isDone) options.onLost(`the database connection holding the lock of job ${key} broke while the job ran`);
      };
      client.on('error', broken);
      client.on('end', broken);
      try {
        const ask = async (text: string, values?: unknown[]) => {
          try {
            return await client.query<{ locked?: boolean }>(text, values);
          } catch (error) {
            isBroken = true;
            throw error;
          }
        };
        // The server ends a connection whose client vanished (a cut network) within ~25 s.
        await ask('SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3');
        const deadline = Date.now() + waitMs;
        for (;;) {
          const { rows } = await ask('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [`job:${key}`]);
          if (rows[0]?.locked) break;
          if (Date.now() + pollMs > deadline) {
            log.info('job left for later: another job of its key still runs', { key });
            return await busy();
          }
          await sleep(pollMs);
        }
        isHeld = true;
        try {
          return await fn();
        } finally {
          isDone = true;
          await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`job:${key}`]).catch(() => {
            isBroken = true;
          });
        }
      } finally {
        isDone = true;
        client.off('error', broken);
        client.off('end', broken);
        // A connection that failed is ended rather than reused (and whatever it held goes with it).
        client.release(isBroken ? new Error('job lock connection broke') : undefined);
      }
    },
  };
}
