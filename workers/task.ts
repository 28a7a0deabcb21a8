import type { JobHelpers, Task } from 'graphile-worker';
import type { Db } from '@/server/db';
import type { JobDefinition, JobPayload } from '@/server/jobs/define';
import { createLogger } from '@/server/logger';

const log = createLogger('worker');

export interface JobContext {
  /** The worker's own client, on the database its queue is in. */
  db: Db;
  helpers: JobHelpers;
}

export interface TaskImplementation {
  name: string;
  task(db: Db): Task;
}

/** Binds a handler to a job definition; the payload is parsed with the job's schema first. */
export function implementJob<J extends JobDefinition>(
  job: J,
  handler: (payload: JobPayload<J>, context: JobContext) => Promise<void>,
): TaskImplementation {
  return {
    name: job.name,
    task: (db) => async (raw, helpers) => {
      const parsed = job.payload.safeParse(raw);
      if (!parsed.success) {
        // Retrying cannot fix a malformed payload; record it and let the job complete.
        log.error('dropping job with an invalid payload', { job: job.name, id: helpers.job.id, issues: parsed.error.issues.map((i) => i.message) });
        return;
      }
      await handler(parsed.data as JobPayload<J>, { db, helpers });
    },
  };
}
