import { Logger, parseCronItems, run, type Runner, type TaskList } from 'graphile-worker';
import { createPool } from '@/server/database/pool';
import { createDb, type Db } from '@/server/db';
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

/**
 * One worker process's runner. Any number of them, on any machine that reaches the
 * database, share the queue. Signals are handled by the caller, which calls stop().
 */
export async function startWorker(options: { connectionString: string; concurrency: number }): Promise<WorkerHandle> {
  const pool = createPool(options.connectionString, options.concurrency + 2);
  // Tasks use this client, not the process-wide one: inside `npm start` the database's URL is
  // known to the start script but not in this process's environment.
  const db = createDb(options.connectionString);
  const runner: Runner = await run({
    pgPool: pool,
    concurrency: options.concurrency,
    noHandleSignals: true,
    pollInterval: 2000,
    logger: workerLogger,
    taskList: taskList(db),
    parsedCronItems: parseCronItems([{ task: 'maintenance__cleanup', match: '17 * * * *', identifier: 'maintenance__cleanup' }]),
  });
  log.info('worker started', { concurrency: options.concurrency, tasks: tasks.map((t) => t.name) });
  let ended: Promise<void> | undefined;
  const endPool = () => (ended ??= Promise.all([pool.end(), db.$disconnect()]).then(() => undefined, () => undefined));
  let stopping: Promise<void> | undefined;
  return {
    done: runner.promise.then(() => undefined).finally(endPool),
    stop() {
      // Lets running jobs finish their current step; graphile-worker releases their locks.
      stopping ??= runner
        .stop()
        .then(endPool)
        .then(() => log.info('worker stopped'));
      return stopping;
    },
  };
}
