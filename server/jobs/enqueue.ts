import type { Db } from '../db';
import type { JobDefinition, JobPayload } from './define';

type SqlClient = Pick<Db, '$executeRaw'>;

export interface EnqueueOptions {
  runAt?: Date;
  /** Replaces a pending job with the same key instead of adding a second one. */
  jobKey?: string;
  maxAttempts?: number;
  queueName?: string;
}

/**
 * Adds a job with SQL, so that inside a Prisma transaction the job exists exactly when the
 * row it belongs to does. The payload is validated against the job's schema first.
 */
export async function enqueueJob<J extends JobDefinition>(
  db: SqlClient,
  job: J,
  payload: JobPayload<J>,
  options: EnqueueOptions = {},
): Promise<void> {
  const parsed: unknown = job.payload.parse(payload);
  await db.$executeRaw`SELECT graphile_worker.add_job(
    ${job.name}::text,
    payload => ${JSON.stringify(parsed)}::json,
    queue_name => ${options.queueName ?? null}::text,
    run_at => ${options.runAt ?? null}::timestamptz,
    max_attempts => ${options.maxAttempts ?? null}::int,
    job_key => ${options.jobKey ?? null}::text
  )`;
}
