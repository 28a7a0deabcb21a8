import type { Db } from '../db';
import { recordAudit } from '../audit/audit';
import type { Actor } from '../organizations/organizations';
import { hit, peek, type RateLimitRule } from '../rate-limit/rate-limit';
import { maskKey, parseKey } from './key-format';
import { hashKeyBody } from './key-generation';
import { lockUsage, purchasedUnits, quotaOf, type Quota } from './quota';
import { attributeUsage } from './usage';

export type RegistrationFailure =
  | 'format'
  | 'check'
  | 'unknown'
  | 'revoked'
  | 'already_registered_here'
  | 'registered_elsewhere'
  | 'rate_limited';

/** Why a key could not be installed, in words for the customer. */
export class KeyRegistrationError extends Error {
  constructor(
    readonly reason: RegistrationFailure,
    message: string,
  ) {
    super(message);
    this.name = 'KeyRegistrationError';
  }
}

const messages: Record<Exclude<RegistrationFailure, 'format' | 'check' | 'rate_limited'>, string> = {
  unknown: 'This licence key does not exist. Please compare it with the key you received, or ask your provider.',
  revoked: 'This licence key was revoked by its provider and can no longer be installed. Please ask your provider for a new key.',
  already_registered_here: 'This licence key is already installed in your organization.',
  registered_elsewhere: 'This licence key has already been installed by another organization. Each key can be installed only once.',
};

/**
 * Lookups of well-formed keys that failed, per organization. Keys have ~92 random bits, so this
 * is not what keeps them safe; it keeps a script from using the form as an oracle at all.
 */
export const REGISTRATION_FAILURE_LIMIT: RateLimitRule = { limit: 10, windowSeconds: 900 };

export interface RegisteredLicence {
  id: string;
  maskedKey: string;
  size: number;
  registeredAt: Date;
}

export interface RegistrationResult {
  licence: RegisteredLicence;
  quota: Quota;
  /** The organization was in free mode until now. */
  becameCommercial: boolean;
}

/**
 * Installs a licence key in an organization, in one step: the format and check character are
 * checked without touching the database; then, in one transaction holding the organization's
 * usage lock, the key is claimed by a conditional update (exists, not revoked, not registered),
 * so of two organizations registering one key at the same moment exactly one succeeds.
 */
export async function registerKey(db: Db, caller: { organizationId: string; actor: Actor }, input: { key: string }): Promise<RegistrationResult> {
  const parsed = parseKey(input.key);
  if (!parsed.ok) throw new KeyRegistrationError(parsed.reason, parsed.message);

  const failureKey = `licence-register:${caller.organizationId}`;
  const limit = await peek(db, failureKey, REGISTRATION_FAILURE_LIMIT);
  if (limit.isLimited) {
    const minutes = Math.ceil(limit.retryAfterSeconds / 60);
    throw new KeyRegistrationError('rate_limited', `Too many keys that could not be installed. Please try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`);
  }

  const keyHash = hashKeyBody(parsed.body);
  try {
    return await db.$transaction(
      async (tx) => {
        await lockUsage(tx, caller.organizationId);
        const wasFree = (await purchasedUnits(tx, caller.organizationId)) === 0;
        const registeredAt = new Date();
        const claimed = await tx.licenceKey.updateMany({
          where: { keyHash, registeredAt: null, revokedAt: null },
          data: { organizationId: caller.organizationId, registeredAt },
        });
        const key = await tx.licenceKey.findUnique({
          where: { keyHash },
          select: { id: true, size: true, lastGroup: true, organizationId: true, registeredAt: true, revokedAt: true, resellerId: true },
        });
        if (!key) throw new KeyRegistrationError('unknown', messages.unknown);
        if (claimed.count === 0) {
          if (key.revokedAt) throw new KeyRegistrationError('revoked', messages.revoked);
          throw key.organizationId === caller.organizationId
            ? new KeyRegistrationError('already_registered_here', messages.already_registered_here)
            : new KeyRegistrationError('registered_elsewhere', messages.registered_elsewhere);
        }
        await recordAudit(tx, {
          action: 'licence_key.register',
          actorUserId: caller.actor.userId,
          organizationId: caller.organizationId,
          targetType: 'licence_key',
          targetId: key.id,
          details: { size: key.size, lastGroup: key.lastGroup, resellerId: key.resellerId },
          ip: caller.actor.ip,
        });
        return {
          licence: { id: key.id, maskedKey: maskKey(key.lastGroup), size: key.size, registeredAt },
          quota: await quotaOf(tx, caller.organizationId),
          becameCommercial: wasFree,
        };
      },
      { maxWait: 15_000, timeout: 20_000 },
    );
  } catch (error) {
    if (error instanceof KeyRegistrationError && error.reason !== 'already_registered_here') await hit(db, failureKey, REGISTRATION_FAILURE_LIMIT);
    throw error;
  }
}

/** The organization's registered licences, oldest first, with each one's share of the usage, and the quota. */
export async function listLicences(db: Db, organizationId: string) {
  const [rows, quota] = await Promise.all([
    db.licenceKey.findMany({
      where: { organizationId, registeredAt: { not: null } },
      select: { id: true, lastGroup: true, size: true, registeredAt: true },
      orderBy: [{ registeredAt: 'asc' }, { id: 'asc' }],
    }),
    quotaOf(db, organizationId),
  ]);
  const shares = attributeUsage(rows, quota.mode === 'commercial' ? quota.used : 0);
  return {
    licences: rows.map((row) => ({
      id: row.id,
      maskedKey: maskKey(row.lastGroup),
      size: row.size,
      registeredAt: row.registeredAt!,
      used: shares.get(row.id) ?? 0,
    })),
    totalPurchased: rows.reduce((sum, row) => sum + row.size, 0),
    quota,
  };
}
