import type { Db } from '../db';
import { recordAudit } from '../audit/audit';
import type { Prisma } from '../generated/prisma/client';
import { OrganizationNotFoundError, type Actor } from '../organizations/organizations';
import type { TenantScope } from '../organizations/tenant-scope';
import { formatKey, lastGroupOf, maskKey } from './key-format';
import { generateKeyBody, hashKeyBody } from './key-generation';
import type { KeySize, KeyState } from './schemas';
import { attributeUsage } from './usage';
import { DomainError } from '../users/errors';
import Papa from 'papaparse';

export class LicenceKeyNotFoundError extends Error {
  constructor() {
    super('Licence key not found.');
    this.name = 'LicenceKeyNotFoundError';
  }
}

/** A reseller at its cap of unused keys, told the numbers. */
export class UnusedKeyCapError extends DomainError {
  constructor(readonly cap: number, readonly unused: number, readonly requested: number) {
    const room = Math.max(0, cap - unused);
    super(
      'precondition',
      `You may hold at most ${cap} unused key${cap === 1 ? '' : 's'} and hold ${unused} now, so ${
        room === 0 ? 'no more can be issued' : `at most ${room} more can be issued`
      } (you asked for ${requested}). A key stops counting once a customer installs it; revoke unused keys you no longer need, or ask your administrator for a higher cap.`,
    );
    this.name = 'UnusedKeyCapError';
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
    ? await db.organization.findFirst({ where: { id: input.resellerId, kind: 'reseller', deletedAt: null }, select: { id: true, name: true } })
    : null;
  if (input.resellerId && !reseller) throw new OrganizationNotFoundError();
  const bodies = Array.from({ length: input.count }, generateKeyBody);
  return db.$transaction(async (tx) => {
    if (reseller) {
      // The reseller's row is the lock: two issues at once cannot both fit under the cap.
      const [row] = await tx.$queryRaw<{ unused_key_cap: number | null }[]>`SELECT unused_key_cap FROM organizations WHERE id = ${reseller.id}::uuid FOR UPDATE`;
      const cap = row?.unused_key_cap ?? null;
      if (cap !== null) {
        const unused = await tx.licenceKey.count({ where: { resellerId: reseller.id, registeredAt: null, revokedAt: null } });
        if (unused + input.count > cap) throw new UnusedKeyCapError(cap, unused, input.count);
      }
    }
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
  organization: { select: { id: true, name: true, deletedAt: true } },
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

/** A reseller's cap on unused keys it may hold at once (null: none). Admins only. */
export async function setUnusedKeyCap(db: Db, scope: TenantScope, actor: Actor, input: { resellerId: string; cap: number | null }) {
  if (scope.role !== 'admin') throw new OrganizationNotFoundError();
  const reseller = await db.organization.findFirst({ where: { id: input.resellerId, kind: 'reseller', deletedAt: null }, select: { id: true, unusedKeyCap: true } });
  if (!reseller) throw new OrganizationNotFoundError();
  return db.$transaction(async (tx) => {
    const updated = await tx.organization.update({ where: { id: reseller.id }, data: { unusedKeyCap: input.cap }, select: { id: true, unusedKeyCap: true } });
    await recordAudit(tx, {
      action: 'reseller.set_unused_key_cap',
      actorUserId: actor.userId,
      organizationId: reseller.id,
      targetType: 'organization',
      targetId: reseller.id,
      details: { from: reseller.unusedKeyCap, to: input.cap },
      ip: actor.ip,
    });
    return updated;
  });
}

/** The cap and how many unused keys a reseller holds, for its key page. */
export async function unusedKeyAllowance(db: Db, resellerId: string) {
  const [reseller, unused] = await Promise.all([
    db.organization.findUnique({ where: { id: resellerId }, select: { unusedKeyCap: true } }),
    db.licenceKey.count({ where: { resellerId, registeredAt: null, revokedAt: null } }),
  ]);
  const cap = reseller?.unusedKeyCap ?? null;
  return { cap, unused, room: cap === null ? null : Math.max(0, cap - unused) };
}

export const KEY_CSV_COLUMNS = ['Reseller', 'Key', 'Migrations', 'State', 'Issued', 'Registered to', 'Registered at', 'Migrations used', 'Revoked at'] as const;

/**
 * Every key the scope manages as CSV, for billing: what was sold and what was used. Keys are
 * masked because only a hash of each is stored; the masked form is what the portal shows too.
 * Dates are UTC (ISO 8601) so spreadsheets in any time zone read the same instant.
 */
export async function keysCsv(db: Db, scope: TenantScope): Promise<{ filename: string; csv: string; rows: number }> {
  if (scope.role === 'customer') throw new OrganizationNotFoundError();
  const rows: string[][] = [];
  let cursor: string | undefined;
  // Pages of keys, oldest first, so an export is complete however many keys there are.
  for (;;) {
    const page = await db.licenceKey.findMany({
      where: keysVisibleTo(scope),
      select: keyListSelect,
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: KEY_LIST_LIMIT,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
    });
    if (page.length === 0) break;
    const organizationIds = [...new Set(page.flatMap((r) => (r.organization && r.registeredAt ? [r.organization.id] : [])))];
    const shares = await usagePerKey(db, organizationIds);
    for (const key of page) {
      rows.push([
        key.reseller?.name ?? 'This installation',
        maskKey(key.lastGroup),
        String(key.size),
        keyState(key),
        key.createdAt.toISOString(),
        key.organization ? `${key.organization.name}${key.organization.deletedAt ? ' (deleted)' : ''}` : '',
        key.registeredAt?.toISOString() ?? '',
        key.registeredAt ? String(shares.get(key.id) ?? 0) : '',
        key.revokedAt?.toISOString() ?? '',
      ]);
    }
    cursor = page.at(-1)!.id;
    if (page.length < KEY_LIST_LIMIT) break;
  }
  const csv = Papa.unparse({ fields: [...KEY_CSV_COLUMNS], data: rows }, { newline: '\r\n', escapeFormulae: true });
  return { filename: `licence-keys-${new Date().toISOString().slice(0, 10)}.csv`, csv: `${csv}\r\n`, rows: rows.length };
}
