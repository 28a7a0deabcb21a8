import type { Db } from '../db';
import { inTransaction, type DbOrTx } from '../licensing/transaction';
import { recordDeletionReceipt } from '../privacy/receipts';
import { recordMigrationEvent } from './events';
import type { KeyRing } from '../crypto/keyring';
import { seal, unseal } from '../crypto/seal';
import type { AccountInput } from '../accounts/schemas';
import type { MigrationSide } from '../generated/prisma/enums';

/** Bound to the migration and side: a sealed password copied elsewhere does not open. */
export const passwordContext = (migrationId: string, side: MigrationSide) => `migration:${migrationId}:${side}`;

export function sealAccount(ring: KeyRing, migrationId: string, side: MigrationSide, account: AccountInput) {
  return {
    side,
    type: account.type,
    email: account.email,
    username: account.username,
    server: account.server,
    groupwareUrl: account.groupwareUrl || null,
    passwordSealed: account.password ? seal(ring, account.password, passwordContext(migrationId, side)) : null,
  };
}

export interface OpenedAccount {
  type: AccountInput['type'];
  email: string;
  username: string;
  server: string;
  /** Where its CalDAV/CardDAV is, when the customer gave it; else found from the server. */
  groupwareUrl: string | null;
  password: string;
}

/** For the worker only: never returned to a browser, never logged, never in a job payload. */
export async function openAccounts(db: Db, ring: KeyRing, migrationId: string): Promise<Record<MigrationSide, OpenedAccount>> {
  const rows = await db.migrationAccount.findMany({ where: { migrationId } });
  const open = (side: MigrationSide): OpenedAccount => {
    const row = rows.find((r) => r.side === side);
    if (!row) throw new Error(`The migration has no ${side} account.`);
    return {
      type: row.type as AccountInput['type'],
      email: row.email,
      username: row.username,
      server: row.server,
      groupwareUrl: row.groupwareUrl,
      password: row.passwordSealed ? unseal(ring, row.passwordSealed, passwordContext(migrationId, side)) : '',
    };
  };
  return { source: open('source'), target: open('target') };
}

/**
 * When a migration ends its credentials go: the rows keep no ciphertext. Called in the ending
 * transaction after the state is set, so the receipt names the state it ended in; a second wipe
 * (nothing left to wipe) records no receipt.
 */
export async function wipeCredentials(db: DbOrTx, migrationId: string): Promise<void> {
  await inTransaction(db, async (tx) => {
    const wiped = await tx.migrationAccount.updateMany({ where: { migrationId, passwordSealed: { not: null } }, data: { passwordSealed: null } });
    await recordMigrationEvent(tx, migrationId, 'credentials_deleted');
    if (wiped.count === 0) return;
    const migration = await tx.migration.findUnique({ where: { id: migrationId }, select: { organizationId: true, state: true } });
    if (!migration) return;
    await recordDeletionReceipt(tx, {
      organizationId: migration.organizationId,
      migrationId,
      event: 'credentials_wiped',
      trigger: `migration.${migration.state}`,
      deleted: { passwords: wiped.count },
    });
  });
}
