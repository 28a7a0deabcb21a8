import { randomUUID } from 'node:crypto';
import type { AccountInput } from '../accounts/schemas';
import type { KeyRing } from '../crypto/keyring';
import { enqueueJob } from '../jobs/enqueue';
import { inTransaction, type DbOrTx } from '../licensing/transaction';
import { sealAccount } from './accounts';
import { recordMigrationEvent } from './events';
import { migrationJobKey, migrationRunJob } from './jobs';

export interface NewMigration {
  organizationId: string;
  createdByUserId: string | null;
  source: AccountInput;
  target: AccountInput;
  startAt: Date;
  resyncAt: Date | null;
  /** The quota reservation whose unit this migration uses, reserved in the same transaction. */
  reservationId?: string;
}

/**
 * Stores a migration with its sealed credentials and schedules its first job in the same
 * transaction: the row and its job exist together or not at all. Pass an open transaction to
 * create it together with its quota reservation. Credentials must have been checked before
 * (network calls never run inside the transaction).
 */
export async function createMigration(db: DbOrTx, ring: KeyRing, input: NewMigration): Promise<{ id: string }> {
  if (input.resyncAt && input.resyncAt <= input.startAt) throw new Error('The resync date must be after the start date.');
  const id = randomUUID();
  await inTransaction(db, async (tx) => {
    await tx.migration.create({
      data: {
        id,
        organizationId: input.organizationId,
        createdByUserId: input.createdByUserId,
        startAt: input.startAt,
        resyncAt: input.resyncAt,
        accounts: { create: [sealAccount(ring, id, 'source', input.source), sealAccount(ring, id, 'target', input.target)] },
      },
    });
    await recordMigrationEvent(tx, id, 'scheduled');
    if (input.reservationId) {
      const linked = await tx.quotaReservation.updateMany({
        where: { id: input.reservationId, organizationId: input.organizationId, state: 'reserved', migrationId: null },
        data: { migrationId: id },
      });
      if (linked.count !== 1) throw new Error('The reservation is not free to hold this migration.');
    }
    await enqueueJob(tx, migrationRunJob, { migrationId: id }, { runAt: input.startAt, jobKey: migrationJobKey(id) });
  });
  return { id };
}
