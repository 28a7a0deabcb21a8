import { enqueueJob } from '../jobs/enqueue';
import type { Tx } from '../licensing/transaction';
import { migrationNotifyJob, notificationJobKey, NOTIFY_MAX_ATTEMPTS } from './jobs';

/**
 * In the transaction that records the event: its e-mail's row (one per event, the primary key
 * says so) and the job that sends it, so both exist exactly when the event does. The user is
 * who created the migration; whether it still wants e-mails is asked when the job runs.
 */
export async function queueNotification(tx: Tx, migrationId: string, eventId: bigint): Promise<void> {
  const migration = await tx.migration.findUnique({ where: { id: migrationId }, select: { createdByUserId: true } });
  const userId = migration?.createdByUserId ?? null;
  if (!userId) {
    await tx.migrationNotification.create({ data: { eventId, userId: null, state: 'skipped', lastError: 'No user to tell: the migration was created without one, or its creator was deleted.' } });
    return;
  }
  await tx.migrationNotification.create({ data: { eventId, userId } });
  await enqueueJob(tx, migrationNotifyJob, { eventId: String(eventId) }, { jobKey: notificationJobKey(eventId), maxAttempts: NOTIFY_MAX_ATTEMPTS });
}
