import { randomUUID } from 'node:crypto';
import type { AccountInput } from '../accounts/schemas';
import type { KeyRing } from '../crypto/keyring';
import type { Db } from '../db';
import { enqueueJob } from '../jobs/enqueue';
import { sealAccount } from './accounts';
import { migrationJobKey, migrationRunJob } from './jobs';

export interface NewMigration {
  organizationId: string;
  createdByUserId: string | null;
  source: AccountInput;
  target: AccountInput;
  startAt: Date;
  resyncAt: Date | null;
}

/**
 * Stores a migration with its sealed credentials and schedules its first job in the same
 * transaction: the row and its job exist together or not at all. Credentials must have been
 * checked before (network calls never run inside the transaction).
 */
export async function createMigration(db: Db, ring: KeyRing, input: NewMigration): Promise<{ id: string }> {
  if (input.resyncAt && input.resyncAt <= input.startAt) throw new Error('The resync date must be after the start date.');
  const id = randomUUID();
  await db.$transaction(async (tx) => {
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
    await enqueueJob(tx, migrationRunJob, { migrationId: id }, { runAt: input.startAt, jobKey: migrationJobKey(id) });
  });
  return { id };
}
