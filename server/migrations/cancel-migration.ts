import { recordAudit } from '../audit/audit';
import type { Db } from '../db';
import { Prisma } from '../generated/prisma/client';
import type { MigrationState } from '../generated/prisma/enums';
import { releaseReservation } from '../licensing/quota';
import { inTransaction } from '../licensing/transaction';
import { wipeCredentials } from './accounts';
import { recordMigrationEvent } from './events';
import { MigrationNotCancellableError, MigrationNotFoundError } from './errors';
import { migrationJobKey } from './jobs';
import { CANCELLABLE_STATES } from './lifecycle';

export interface CancelResult {
  id: string;
  /** The state it was cancelled from. */
  was: MigrationState;
  /** Whether its unit came back (only when it had not started yet). */
  isUnitReturned: boolean;
}

/**
 * Cancels a migration of the caller's organization. A scheduled one loses its queued job and
 * gets its unit back; one that started keeps its unit spent, and its running job stops at its
 * next checkpoint when it sees the state (server/migrations/run-migration.ts). Either way the
 * stored passwords are wiped now.
 */
export async function cancelMigration(db: Db, caller: { userId: string; organizationId: string; ip?: string | null }, id: string): Promise<CancelResult> {
  return inTransaction(db, async (tx) => {
    // The row lock orders this against the job's move to running (same row, same lock): the
    // migration is either still scheduled here, or started there, never both.
    const rows = await tx.$queryRaw<{ state: MigrationState }[]>`
      SELECT state FROM migrations WHERE id = ${id}::uuid AND organization_id = ${caller.organizationId}::uuid FOR UPDATE`;
    const state = rows[0]?.state;
    if (!state) throw new MigrationNotFoundError();
    if (!CANCELLABLE_STATES.includes(state)) throw new MigrationNotCancellableError(state);

    // A queued job (the start, the next chunk, the resync) is deleted; one a worker holds
    // right now loses its key and its retries, and finds the state on its next checkpoint.
    await tx.$executeRaw`SELECT graphile_worker.remove_job(${migrationJobKey(id)}::text)`;
    await tx.migration.update({ where: { id }, data: { state: 'cancelled', finishedAt: new Date(), etaSeconds: null, bytesPerSecond: null, liveFolders: Prisma.DbNull } });
    await recordMigrationEvent(tx, id, 'cancelled');
    await wipeCredentials(tx, id);

    let isUnitReturned = false;
    if (state === 'scheduled') {
      const reservation = await tx.quotaReservation.findUnique({ where: { migrationId: id }, select: { id: true, state: true } });
      if (reservation?.state === 'reserved') isUnitReturned = await releaseReservation(tx, reservation.id);
    }
    await recordAudit(tx, {
      action: 'migration.cancel',
      actorUserId: caller.userId,
      organizationId: caller.organizationId,
      targetType: 'migration',
      targetId: id,
      details: { from: state, unitReturned: isUnitReturned },
      ip: caller.ip,
    });
    return { id, was: state, isUnitReturned };
  });
}
