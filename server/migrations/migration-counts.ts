import type { Db } from '../db';
import type { MigrationState } from '../generated/prisma/enums';
import { organizationsVisibleTo, type TenantScope } from '../organizations/tenant-scope';
import { isActiveState } from './lifecycle';

/** How many migrations a customer has, by what became of them. Counts only, nothing else. */
export interface MigrationCounts {
  active: number;
  /** Finished, including those that ended incomplete. */
  finished: number;
  failed: number;
}

export const NO_MIGRATIONS: MigrationCounts = { active: 0, finished: 0, failed: 0 };

function bucketOf(state: MigrationState): keyof MigrationCounts | null {
  if (isActiveState(state)) return 'active';
  if (state === 'finished' || state === 'incomplete') return 'finished';
  if (state === 'failed') return 'failed';
  return null;
}

/** Adds grouped (organization, state, count) rows into counts per organization. */
export function tallyCounts(groups: readonly { organizationId: string; state: MigrationState; count: number }[]): Record<string, MigrationCounts> {
  const counts: Record<string, MigrationCounts> = {};
  for (const group of groups) {
    const bucket = bucketOf(group.state);
    if (!bucket) continue;
    const entry = (counts[group.organizationId] ??= { ...NO_MIGRATIONS });
    entry[bucket] += group.count;
  }
  return counts;
}

/**
 * Migrations per customer organization the caller may see (a reseller: its own customers; an
 * admin: every customer), in one grouped query. Customers without any are absent.
 */
export async function migrationCountsByCustomer(db: Db, scope: TenantScope): Promise<Record<string, MigrationCounts>> {
  const groups = await db.migration.groupBy({
    by: ['organizationId', 'state'],
    where: { organization: { AND: [organizationsVisibleTo(scope), { kind: 'customer' }] } },
    _count: { _all: true },
  });
  return tallyCounts(groups.map((g) => ({ organizationId: g.organizationId, state: g.state, count: g._count._all })));
}
