import { EventEmitter } from 'node:events';
import { Logger, makeWorkerUtils, parseCronItems, run, type Runner, type Task, type TaskList, type WorkerEvents } from 'graphile-worker';
import { createPool } from '@/server/database/pool';
import { createDb, type Db } from '@/server/db';
import { env } from '@/server/env';
import { startHeartbeat } from '@/server/jobs/heartbeat';
import { runAsJobHolder } from '@/server/jobs/job-holder';
import { createJobLocks, type JobLocks } from '@/server/jobs/job-lock';
import { createLogger } from '@/server/logger';
import type { TaskImplementation } from './task';
import { maintenanceCleanup } from './tasks/maintenance-cleanup';
import { massSubmissionCheck } from './tasks/mass-submission-check';
import { migrationNotify } from './tasks/migration-notify';
import { migrationResync, migrationRun } from './tasks/migration-run';

const log = createLogger('worker');

export const tasks: TaskImplementation[] = [maintenanceCleanup, migrationRun, migrationResync, massSubmissionCheck, migrationNotify];

export function taskList(db: Db, implementations: TaskImplementation[] = tasks): TaskList {
  return Object.fromEntries(implementations.map((t) => [t.name, t.task(db)]));
}

/** Leaving it for later: the same job again in 30 s, under its key. */
const RETRY_BUSY_MS = 30_000;

/**
 * Each job runs as its worker's (so what it takes is marked with the worker id) and, when it
 * has a key, holding that key's lock: two jobs of one migration never run at once.
 */
function guarded(task: Task, locks: JobLocks): Task {
  return (payload, helpers) => {
    const { job } = helpers;
    return runAsJobHolder(job.locked_by, () =>
      locks.run(
        job.key,
        async () => task(payload, helpers),
        async () => {
          await helpers.addJob(job.task_identifier, payload, { jobKey: job.key!, runAt: new Date(Date.now() + RETRY_BUSY_MS), maxAttempts: job.max_attempts });
        },
      ),
    );
  };
}

const workerLogger = new Logger((scope) => (level, message) => {
  const fields = scope.taskIdentifier ? { task: scope.taskIdentifier, job: scope.jobId } : undefined;
  if (level === 'error') log.error(message, fields);
  else if (level === 'warning') log.warn(message, fields);
  else if (level === 'info') log.info(message, fields);
  else log.debug(message, fields);
});

export interface WorkerHandle {
  stop(): Promise<void>;
  /** Resolves when the worker stops, for whatever reason. */
  done: Promise<void>;
}

export interface WorkerOptions {
  connectionString: string;
  concurrency: number;
  /** Default MAILFERRY_WORKER_HEARTBEAT_SECONDS. */
  heartbeatSeconds?: number;
  /**
   * This worker must take itself for dead (see server/jobs/heartbeat.ts): its jobs may be
   * running elsewhere already. By default the process ends at once.
   */
  onLost?: (reason: string) => void;
}

function endProcess(reason: string): void {
  log.error(`this worker stops at once: ${reason}. Its jobs go to another worker; start it again.`);
  process.exit(1);
}

/**
 * One worker process's runner. Any number of them, on any machine that reaches the
 * database, share the queue. Signals are handled by the caller, which calls stop().
 * Each beats in the database and hands back the jobs of workers that stopped beating.
 */
export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const onLost = options.onLost ?? endProcess;
  const pool = createPool(options.connectionString, options.concurrency + 2);
  // Connections of their own: the heartbeat must not wait for the queue's, and each running
  // keyed job holds one for its lock.
  const heartbeatPool = createPool(options.connectionString, 2);
  const lockPool = createPool(options.connectionString, options.concurrency);
  // Tasks use this client, not the process-wide one: inside `npm start` the database's URL is
  // known to the start script but not in this process's environment.
  const db = createDb(options.connectionString);
  const closeAll = () => Promise.all([pool.end(), heartbeatPool.end(), lockPool.end(), db.$disconnect()]).then(() => undefined, () => undefined);
  let utils: Awaited<ReturnType<typeof makeWorkerUtils>> | undefined;
  let heartbeat: Awaited<ReturnType<typeof startHeartbeat>> | undefined;
  let runner: Runner;
  const events: WorkerEvents = new EventEmitter();
  try {
    utils = await makeWorkerUtils({ pgPool: heartbeatPool, logger: workerLogger });
    heartbeat = await startHeartbeat({
      pool: heartbeatPool,
      unlock: (ids) => utils!.forceUnlockWorkers(ids),
      beatSeconds: options.heartbeatSeconds ?? env().MAILFERRY_WORKER_HEARTBEAT_SECONDS,
      onLost,
    });
    // Emitted before the pool takes its first job: the jobs' locked_by is this id.
    events.on('pool:create', ({ workerPool }) => heartbeat!.addWorkerId(workerPool.id));
    const locks = createJobLocks({ pool: lockPool, onLost });
    runner = await run({
      pgPool: pool,
      concurrency: options.concurrency,
      noHandleSignals: true,
      pollInterval: 2000,
      logger: workerLogger,
      events,
      taskList: Object.fromEntries(tasks.map((t) => [t.name, guarded(t.task(db), locks)])),
      parsedCronItems: parseCronItems([{ task: 'maintenance__cleanup', match: '17 * * * *', identifier: 'maintenance__cleanup' }]),
    });
  } catch (error) {
    await heartbeat?.stop();
    await utils?.release();
    await closeAll();
    throw error;
  }
  log.info('worker started', { concurrency: options.concurrency, tasks: tasks.map((t) => t.name), heartbeat: heartbeat.id });
  let ended: Promise<void> | undefined;
  // The row goes only once the runner released its jobs' locks: until then they are this worker's.
  const end = () => (ended ??= heartbeat.stop().then(() => utils.release()).then(closeAll, closeAll));
  let stopping: Promise<void> | undefined;
  return {
    done: runner.promise.then(() => undefined).finally(end),
    stop() {
      // Lets running jobs finish their current step; graphile-worker releases their locks.
      stopping ??= runner
        .stop()
        .then(end)
        .then(() => log.info('worker stopped'));
      return stopping;
    },
  };
}
