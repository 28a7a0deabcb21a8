import type { Db } from '../db';
import { passwordContext } from '../migrations/accounts';
import type { KeyRing } from './keyring';
import { seal, sealedKeyId, unseal } from './seal';

const microsoftContext = (organizationId: string) => `microsoft365:${organizationId}:client-secret`;

/**
 * Key rotation: every sealed value not under the current key is opened with its old key and
 * sealed again with the current one. Afterwards the old key can leave the key ring.
 */
export async function resealAll(db: Db, ring: KeyRing): Promise<{ resealed: number; current: number; unreadable: number }> {
  let resealed = 0;
  let current = 0;
  // Sealed under a key that is not in the ring: left alone and counted, never guessed at.
  let unreadable = 0;
  const accounts = await db.migrationAccount.findMany({
    where: { passwordSealed: { not: null } },
    select: { migrationId: true, side: true, passwordSealed: true },
  });
  for (const account of accounts) {
    if (sealedKeyId(account.passwordSealed!) === ring.current.id) {
      current++;
      continue;
    }
    if (!ring.all.has(sealedKeyId(account.passwordSealed!) ?? '')) {
      unreadable++;
      continue;
    }
    const context = passwordContext(account.migrationId, account.side);
    const fresh = seal(ring, unseal(ring, account.passwordSealed!, context), context);
    // Only if unchanged meanwhile (a migration may have ended and wiped it).
    await db.migrationAccount.updateMany({
      where: { migrationId: account.migrationId, side: account.side, passwordSealed: account.passwordSealed },
      data: { passwordSealed: fresh },
    });
    resealed++;
  }
  const connections = await db.microsoft365Connection.findMany({ select: { organizationId: true, clientSecretSealed: true } });
  for (const connection of connections) {
    if (sealedKeyId(connection.clientSecretSealed) === ring.current.id) {
      current++;
      continue;
    }
    if (!ring.all.has(sealedKeyId(connection.clientSecretSealed) ?? '')) {
      unreadable++;
      continue;
    }
    const context = microsoftContext(connection.organizationId);
    await db.microsoft365Connection.updateMany({
      where: { organizationId: connection.organizationId, clientSecretSealed: connection.clientSecretSealed },
      data: { clientSecretSealed: seal(ring, unseal(ring, connection.clientSecretSealed, context), context) },
    });
    resealed++;
  }
  return { resealed, current, unreadable };
}
