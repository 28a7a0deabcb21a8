import type { Db } from '../db';
import type { QuotaPool, ReservationState } from '../generated/prisma/enums';
import { OrganizationNotFoundError } from '../organizations/organizations';
import { FREE_MIGRATIONS } from './schemas';
import { inTransaction, type DbOrTx, type Tx } from './transaction';

export type OrganizationMode = 'free' | 'commercial';

export interface Quota {
  mode: OrganizationMode;
  /** Free mode: 2. Commercial mode: the sum of the registered licences' sizes. */
  total: number;
  /** Units reserved or used in the mode's pool. Free usage never counts against purchased units. */
  used: number;
  remaining: number;
}

export interface Reservation {
  id: string;
  units: number;
  pool: QuotaPool;
}

export type ReserveResult =
  | { ok: true; pool: QuotaPool; reservations: Reservation[]; quota: Quota }
  | { ok: false; reason: 'not_enough_units'; requested: number; quota: Quota; message: string };

export class ReservationNotFoundError extends Error {
  constructor() {
    super('Reservation not found.');
    this.name = 'ReservationNotFoundError';
  }
}

/** A reservation that is used cannot be released, and a released one cannot be used. */
export class ReservationStateError extends Error {
  constructor(
    readonly state: ReservationState,
    readonly wanted: ReservationState,
  ) {
    super(`A reservation that is ${state} cannot become ${wanted}.`);
    this.name = 'ReservationStateError';
  }
}

/** For callers that would rather throw than branch on `ok`. */
export class QuotaExhaustedError extends Error {
  constructor(
    message: string,
    readonly quota: Quota,
  ) {
    super(message);
    this.name = 'QuotaExhaustedError';
  }
}

interface UsageRow {
  free_units: number;
  commercial_units: number;
}

/**
 * The organization's usage row, created on first use and locked until the transaction ends.
 * Everything that changes an organization's quota (reservations, licence registration) takes
 * this lock first, so two requests of one organization never decide on the same numbers.
 */
export async function lockUsage(tx: Tx, organizationId: string): Promise<UsageRow> {
  const organization = await tx.organization.findUnique({ where: { id: organizationId }, select: { id: true } });
  if (!organization) throw new OrganizationNotFoundError();
  await tx.$executeRaw`INSERT INTO organization_usage (organization_id) VALUES (${organizationId}::uuid) ON CONFLICT (organization_id) DO NOTHING`;
  // READ COMMITTED: statements after the lock see whatever the previous holder committed.
  const rows = await tx.$queryRaw<UsageRow[]>`
    SELECT free_units, commercial_units FROM organization_usage WHERE organization_id = ${organizationId}::uuid FOR UPDATE`;
  return rows[0]!;
}

/** Sum of the sizes of the licences registered to the organization. */
export async function purchasedUnits(db: DbOrTx, organizationId: string): Promise<number> {
  const sum = await db.licenceKey.aggregate({ where: { organizationId, registeredAt: { not: null } }, _sum: { size: true } });
  return sum._sum.size ?? 0;
}

function quotaFrom(purchased: number, usage: UsageRow | null): Quota {
  if (purchased === 0) {
    const used = usage?.free_units ?? 0;
    return { mode: 'free', total: FREE_MIGRATIONS, used, remaining: Math.max(0, FREE_MIGRATIONS - used) };
  }
  const used = usage?.commercial_units ?? 0;
  return { mode: 'commercial', total: purchased, used, remaining: Math.max(0, purchased - used) };
}

/** Free until the organization registers its first licence key. */
export async function organizationMode(db: DbOrTx, organizationId: string): Promise<OrganizationMode> {
  const licence = await db.licenceKey.findFirst({ where: { organizationId, registeredAt: { not: null } }, select: { id: true } });
  return licence ? 'commercial' : 'free';
}

/** Remaining / total of the organization's current mode. */
export async function quotaOf(db: DbOrTx, organizationId: string): Promise<Quota> {
  // One after the other: `db` may be a transaction, which runs one statement at a time anyway.
  const purchased = await purchasedUnits(db, organizationId);
  const usage = await db.organizationUsage.findUnique({ where: { organizationId }, select: { freeUnits: true, commercialUnits: true } });
  return quotaFrom(purchased, usage && { free_units: usage.freeUnits, commercial_units: usage.commercialUnits });
}

export function refusalMessage(quota: Quota, requested: number): string {
  if (quota.remaining === 0) {
    return quota.mode === 'free'
      ? `Both free migrations are used up. Install a licence key to migrate more mailboxes.`
      : `All ${quota.total} purchased migrations are used up. Install another licence key to migrate more mailboxes.`;
  }
  return `This needs ${requested} migrations, but only ${quota.remaining} of ${quota.total} remain.`;
}

/**
 * Reserves `units` migrations for an organization, all or nothing, from the pool of its mode:
 * one reservation of one unit per migration, so each migration can later point at its own and
 * release it alone. Concurrent calls for one organization queue on its usage row, so together
 * they never reserve more than remain. Pass an open transaction to reserve together with the
 * rows that use the units.
 */
export async function reserveUnits(db: DbOrTx, organizationId: string, units: number): Promise<ReserveResult> {
  if (!Number.isInteger(units) || units < 1) throw new RangeError('units must be a positive whole number');
  return inTransaction(db, async (tx) => {
    const usage = await lockUsage(tx, organizationId);
    const quota = quotaFrom(await purchasedUnits(tx, organizationId), usage);
    if (units > quota.remaining) {
      return { ok: false, reason: 'not_enough_units', requested: units, quota, message: refusalMessage(quota, units) } as const;
    }
    const pool: QuotaPool = quota.mode;
    const reservations = await tx.quotaReservation.createManyAndReturn({
      data: Array.from({ length: units }, () => ({ organizationId, units: 1, pool })),
      select: { id: true, units: true, pool: true },
    });
    await tx.organizationUsage.update({
      where: { organizationId },
      data: pool === 'free' ? { freeUnits: { increment: units } } : { commercialUnits: { increment: units } },
    });
    return { ok: true, pool, reservations, quota: { ...quota, used: quota.used + units, remaining: quota.remaining - units } } as const;
  });
}

/** Like `reserveUnits`, but a refusal throws QuotaExhaustedError (mapped to a clear message for the browser). */
export async function requireUnits(db: DbOrTx, organizationId: string, units: number): Promise<Reservation[]> {
  const result = await reserveUnits(db, organizationId, units);
  if (!result.ok) throw new QuotaExhaustedError(result.message, result.quota);
  return result.reservations;
}

async function transition(db: DbOrTx, reservationId: string, to: 'released' | 'used'): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    // The update locks the reservation row, so a concurrent release or use of the same
    // reservation waits and then finds it no longer `reserved`: its units move back once.
    const changed = await tx.quotaReservation.updateMany({ where: { id: reservationId, state: 'reserved' }, data: { state: to } });
    const reservation = await tx.quotaReservation.findUnique({
      where: { id: reservationId },
      select: { organizationId: true, units: true, pool: true, state: true },
    });
    if (!reservation) throw new ReservationNotFoundError();
    if (changed.count === 0) {
      // Jobs can run twice: repeating the same step is fine, the opposite step is a bug.
      if (reservation.state === to) return false;
      throw new ReservationStateError(reservation.state, to);
    }
    const counter = reservation.pool === 'free' ? 'freeUnits' : 'commercialUnits';
    await tx.organizationUsage.update({
      where: { organizationId: reservation.organizationId },
      data: to === 'released' ? { [counter]: { decrement: reservation.units } } : { migrationsDone: { increment: 1 } },
    });
    return true;
  });
}

/**
 * Gives a reservation's units back (credentials failed, or the migration was cancelled before
 * it started). True when it was released now, false when it already was; a used reservation
 * throws ReservationStateError.
 */
export function releaseReservation(db: DbOrTx, reservationId: string): Promise<boolean> {
  return transition(db, reservationId, 'released');
}

/**
 * The migration holding the reservation started: its units stay spent for good and the
 * organization's count of migrations done grows by one. Idempotent (false when already used).
 */
export function markReservationUsed(db: DbOrTx, reservationId: string): Promise<boolean> {
  return transition(db, reservationId, 'used');
}

/** Per-organization counts that hold no personal data; kept when an organization's data is removed. */
export async function usageCounts(db: Db, organizationId: string) {
  const usage = await db.organizationUsage.findUnique({
    where: { organizationId },
    select: { freeUnits: true, commercialUnits: true, migrationsDone: true },
  });
  return usage ?? { freeUnits: 0, commercialUnits: 0, migrationsDone: 0 };
}
