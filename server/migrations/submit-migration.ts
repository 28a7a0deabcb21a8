import { checkPairForOrganization } from '../accounts/check-service';
import type { AccountCheck } from '../accounts/check';
import type { FailureReason } from '../accounts/types';
import { recordAudit } from '../audit/audit';
import type { KeyRing } from '../crypto/keyring';
import type { Role } from '../generated/prisma/enums';
import type { Db } from '../db';
import { quotaOf, QuotaExhaustedError, refusalMessage, requireUnits, type Quota } from '../licensing/quota';
import { inTransaction } from '../licensing/transaction';
import { createMigration } from './create-migration';
import { MigrationFieldError } from './errors';
import { getMigration, type MigrationListItem } from './list-migrations';
import type { MigrationInput } from './schemas';
import { resolveTiming } from './timing';

export interface Caller {
  userId: string;
  organizationId: string;
  ip?: string | null;
  /** Picks the wording of a failed check's messages (accounts/messages.ts). */
  role?: Role;
}

export type SideCheck = { ok: true } | { ok: false; reason: FailureReason; message: string };

export type SubmitResult =
  | { ok: true; migration: MigrationListItem; startsNow: boolean; notes: string[]; quota: Quota }
  | { ok: false; failed: 'source' | 'target' | 'both'; source: SideCheck; target: SideCheck; message: string };

// Only the verdict: the check's protocol reports (folders, capabilities) stay on the server.
const verdict = (check: AccountCheck): SideCheck => (check.ok ? { ok: true } : { ok: false, reason: check.reason, message: check.message });

/** The sentence for a pair whose logins did not both work, by the side that failed. */
export const FAILED_CHECK_MESSAGE = { source: 'The source account could not be used.', target: 'The target account could not be used.', both: 'Neither account could be used.' } as const;

/**
 * A customer's new migration: the dates resolved in the server's time zone, both logins
 * checked live (outside any transaction), and only when both work, one unit reserved, the
 * credentials sealed, the migration stored and its first job queued, all in one transaction.
 * A failed check uses no unit and stores nothing.
 */
export async function submitMigration(
  db: Db,
  ring: () => Promise<KeyRing>,
  caller: Caller,
  input: MigrationInput,
  options: { zone: string; now?: Date },
): Promise<SubmitResult> {
  const timing = resolveTiming(input, options.zone, options.now);
  if (!timing.ok) throw new MigrationFieldError(timing.errors);

  // Without a unit left there is no point in knocking on two mail servers.
  const quota = await quotaOf(db, caller.organizationId);
  if (quota.remaining < 1) throw new QuotaExhaustedError(refusalMessage(quota, 1), quota);

  const check = await checkPairForOrganization(db, caller, { source: input.source, target: input.target });
  if (!check.ok) {
    const failed = check.failed ?? 'both';
    await recordAudit(db, {
      action: 'migration.check_failed',
      actorUserId: caller.userId,
      organizationId: caller.organizationId,
      details: { failed, source: check.source.ok ? 'ok' : check.source.reason, target: check.target.ok ? 'ok' : check.target.reason },
      ip: caller.ip,
    });
    return { ok: false, failed, source: verdict(check.source), target: verdict(check.target), message: FAILED_CHECK_MESSAGE[failed] };
  }

  const keys = await ring();
  const id = await inTransaction(db, async (tx) => {
    const [reservation] = await requireUnits(tx, caller.organizationId, 1);
    const created = await createMigration(tx, keys, {
      organizationId: caller.organizationId,
      createdByUserId: caller.userId,
      source: input.source,
      target: input.target,
      startAt: timing.startAt,
      resyncAt: timing.resyncAt,
      reservationId: reservation!.id,
    });
    await recordAudit(tx, {
      action: 'migration.create',
      actorUserId: caller.userId,
      organizationId: caller.organizationId,
      targetType: 'migration',
      targetId: created.id,
      details: { startAt: timing.startAt.toISOString(), resyncAt: timing.resyncAt?.toISOString() ?? null, pool: reservation!.pool },
      ip: caller.ip,
    });
    return created.id;
  });
  return {
    ok: true,
    migration: await getMigration(db, caller.organizationId, id, options.zone),
    startsNow: timing.startsNow,
    notes: timing.notes,
    quota: await quotaOf(db, caller.organizationId),
  };
}
