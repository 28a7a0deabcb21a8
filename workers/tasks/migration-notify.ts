import { mailConfig, type MailConfig } from '@/server/notifications/config';
import { migrationNotifyJob } from '@/server/notifications/jobs';
import { deliverMigrationNotification } from '@/server/notifications/notify';
import { implementJob } from '../task';

/**
 * The e-mail of one migration event. An SMTP error throws (NotificationRetry), so graphile-worker
 * retries with its backoff; the last attempt records the failure instead.
 */
export function migrationNotifyTask(config: () => MailConfig | null = () => mailConfig()) {
  return implementJob(migrationNotifyJob, async ({ eventId }, { db, helpers }) => {
    await deliverMigrationNotification(db, BigInt(eventId), { config: config(), isLastAttempt: helpers.job.attempts >= helpers.job.max_attempts });
  });
}

export const migrationNotify = migrationNotifyTask();
