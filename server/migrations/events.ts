import type { MigrationEventKind } from '../generated/prisma/enums';
import { inTransaction, type DbOrTx } from '../licensing/transaction';
import { isNotifiedEvent } from '../notifications/message';
import { queueNotification } from '../notifications/queue';

/** The events that end a migration; exactly one of them per migration. */
export const END_EVENTS = ['finished', 'incomplete', 'failed', 'cancelled'] as const satisfies readonly MigrationEventKind[];

/**
 * Adds one entry to the migration's timeline, in the caller's transaction, so an entry exists
 * exactly when the change it tells of was committed. An end the customer is told about
 * (finished, incomplete, failed) and a verification gap also queue their e-mail there, one
 * per event. Returns the event's id.
 */
export async function recordMigrationEvent(db: DbOrTx, migrationId: string, kind: MigrationEventKind, at = new Date()): Promise<bigint> {
  if (!isNotifiedEvent(kind)) {
    const event = await db.migrationEvent.create({ data: { migrationId, kind, at }, select: { id: true } });
    return event.id;
  }
  return inTransaction(db, async (tx) => {
    const event = await tx.migrationEvent.create({ data: { migrationId, kind, at }, select: { id: true } });
    await queueNotification(tx, migrationId, event.id);
    return event.id;
  });
}

export interface TimelineEntry {
  kind: MigrationEventKind;
  at: Date;
}

/** The migration's timeline, oldest first. */
export async function loadTimeline(db: DbOrTx, migrationId: string): Promise<TimelineEntry[]> {
  return db.migrationEvent.findMany({ where: { migrationId }, select: { kind: true, at: true }, orderBy: [{ at: 'asc' }, { id: 'asc' }] });
}
