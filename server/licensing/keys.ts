import type { Db } from '../db';
import { recordAudit } from '../audit/audit';
import type { Prisma } from '../generated/prisma/client';
import { OrganizationNotFoundError, type Actor } from '../organizations/organizations';
import type { TenantScope } from '../organizations/tenant-scope';
import { formatKey, lastGroupOf, maskKey } from './key-format';
import { generateKeyBody, hashKeyBody } from './key-generation';
import type { KeySize, KeyState } from './schemas';
import { attributeUsage } from './usage';

export class LicenceKeyNotFoundError extends Error {
  constructor() {
    super('Licence key not found.');
    this.name = 'LicenceKeyNotFoundError';
  }
}

export class KeyNotRevocableError extends Error {
  constructor(organizationName: string | null) {
    super(
      organizationName
        ? `This key is already installed by ${organizationName} and can no longer be revoked.`
        : 'This key is already installed and can no longer be revoked.',
    );
    this.name = 'KeyNotRevocableError';
  }
}

/** Who may manage which keys: admins all, a reseller the keys it issued. Customers none. */
export function keysVisibleTo(scope: TenantScope): Prisma.LicenceKeyWhereInput {
  switch (scope.role) {
    case 'admin':
      return {};
    case 'reseller':
      return { resellerId: scope.organizationId };
    case 'customer':
      // Customers see their licences through listLicences, never the key stock.
      return { id: { in: [] } };
  }
}

export function keyState(key: { registeredAt: Date | null; revokedAt: Date | null }): KeyState {
  return key.revokedAt ? 'revoked' : key.registeredAt ? 'registered' : 'unused';
}

export interface IssuedKeys {
  size: KeySize;
  issuedAt: Date;
  reseller: { id: string; name: string } | null;
  /** The plain keys: returned this once, never stored. */
  keys: { id: string; key: string }[];
}

/**
 * Issues `count` keys for `size` migrations each, owned by a reseller (or, with
 * `resellerId: null`, by the installation itself). The caller decides whose keys it may issue.
 */
export async function issueKeys(db: Db, actor: Actor | null, input: { resellerId: string | null; size: KeySize; count: number }): Promise<IssuedKeys> {
  const reseller = input.resellerId
    ? await db.organization.findFirst({ where: { id: input.resellerId, kind: 'reseller' }, select: { id: true, name: true } })
    : null;
  if (input.resellerId && !reseller) throw new OrganizationNotFoundError();
  const bodies = Array.from({ length: input.count }, generateKeyBody);
  return db.$transaction(async (tx) => {
    const rows = await tx.licenceKey.createManyAndReturn({
      data: bodies.map((body) => ({ keyHash: hashKeyBody(body), lastGroup: lastGroupOf(body), size: input.size, resellerId: reseller?.id ?? null })),
      select: { id: true, keyHash: true, createdAt: true },
    });
    const idByHash = new Map(rows.map((row) => [row.keyHash, row.id]));
    await recordAudit(tx, {
      action: actor ? 'licence_key.issue' : 'licence_key.issue_cli',
      actorUserId: actor?.userId ?? null,
      organizationId: reseller?.id ?? null,
      targetType: 'licence_key',
      details: { size: input.size, count: input.count, lastGroups: bodies.map(lastGroupOf) },
      ip: actor?.ip,
    });
    return {
      size: input.size,
      issuedAt: rows[0]?.createdAt ?? new Date(),
      reseller,
      keys: bodies.map((body) => ({ id: idByHash.get(hashKeyBody(body))!, key: formatKey(body) })),
    };
  });
}

const keyListSelect = {
  id: true,
  lastGroup: true,
  size: true,
  createdAt: true,
  registeredAt: true,
  revokedAt: true,
  reseller: { select: { id: true, name: true } },
  organization: { select: { id: true, name: true } },
} satisfies Prisma.LicenceKeySelect;

/** Units each registered key has been used for (see attributeUsage), for keys of many organizations. */
async function usagePerKey(db: Db, organizationIds: string[]): Promise<Map<string, number>> {
  if (organizationIds.length === 0) return new Map();
  const [licences, usage] = await Promise.all([
    // Every licence of those organizations, whoever issued it: the order of registration decides.
    db.licenceKey.findMany({
      where: { organizationId: { in: organizationIds }, registeredAt: { not: null } },
      select: { id: true, size: true, registeredAt: true, organizationId: true },
    }),
    db.organizationUsage.findMany({ where: { organizationId: { in: organizationIds } }, select: { organizationId: true, commercialUnits: true } }),
  ]);
  const used = new Map(usage.map((u) => [u.organizationId, u.commercialUnits]));
  const shares = new Map<string, number>();
  for (const organizationId of organizationIds) {
    const own = licences.filter((l) => l.organizationId === organizationId);
    for (const [id, share] of attributeUsage(own, used.get(organizationId) ?? 0)) shares.set(id, share);
  }
  return shares;
}

export const KEY_LIST_LIMIT = 2000;

/** The keys a reseller (or an admin) manages, newest first, with state, registering organization and usage. */
export async function listKeys(db: Db, scope: TenantScope, filter: { resellerId?: string | null } = {}) {
  const where: Prisma.LicenceKeyWhereInput = {
    AND: [keysVisibleTo(scope), scope.role === 'admin' && filter.resellerId !== undefined ? { resellerId: filter.resellerId } : {}],
  };
  const [rows, unused, registered, revoked] = await Promise.all([
    db.licenceKey.findMany({ where, select: keyListSelect, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], take: KEY_LIST_LIMIT }),
    db.licenceKey.count({ where: { AND: [where, { registeredAt: null, revokedAt: null }] } }),
    db.licenceKey.count({ where: { AND: [where, { registeredAt: { not: null } }] } }),
    db.licenceKey.count({ where: { AND: [where, { revokedAt: { not: null } }] } }),
  ]);
  const organizationIds = [...new Set(rows.flatMap((r) => (r.organization && r.registeredAt ? [r.organization.id] : [])))];
  const shares = await usagePerKey(db, organizationIds);
  const keys = rows.map(({ lastGroup, ...row }) => ({
    ...row,
    maskedKey: maskKey(lastGroup),
    state: keyState(row),
    used: shares.get(row.id) ?? 0,
  }));
  const registeredKeys = keys.filter((k) => k.state === 'registered');
  return {
    keys,
    summary: {
      unused,
      registered,
      revoked,
      registeredUnits: registeredKeys.reduce((sum, k) => sum + k.size, 0),
      usedUnits: registeredKeys.reduce((sum, k) => sum + k.used, 0),
    },
  };
}

/** Revokes a key nobody has registered yet. Another tenant's key answers not found. */
export async function revokeKey(db: Db, scope: TenantScope, actor: Actor, id: string) {
  return db.$transaction(async (tx) => {
    const key = await tx.licenceKey.findFirst({ where: { AND: [{ id }, keysVisibleTo(scope)] }, select: { id: true, resellerId: true, lastGroup: true } });
    if (!key) throw new LicenceKeyNotFoundError();
    // Conditional update: a registration that commits first wins, and this one then changes nothing.
    const changed = await tx.licenceKey.updateMany({ where: { id, registeredAt: null, revokedAt: null }, data: { revokedAt: new Date() } });
    const current = await tx.licenceKey.findUniqueOrThrow({
      where: { id },
      select: { id: true, revokedAt: true, registeredAt: true, organization: { select: { name: true } } },
    });
    if (current.registeredAt) throw new KeyNotRevocableError(current.organization?.name ?? null);
    if (changed.count > 0) {
      await recordAudit(tx, {
        action: 'licence_key.revoke',
        actorUserId: actor.userId,
        organizationId: key.resellerId,
        targetType: 'licence_key',
        targetId: key.id,
        details: { lastGroup: key.lastGroup },
        ip: actor.ip,
      });
    }
    return { id: current.id, state: keyState(current), revokedAt: current.revokedAt };
  });
}
