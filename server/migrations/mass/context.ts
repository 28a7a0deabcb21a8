import { formatHostRule } from '../../accounts/network/host-rules';
import { loadNetworkPolicy } from '../../accounts/network-settings';
import type { Db } from '../../db';
import { env } from '../../env';
import { ACTIVE_STATES } from '../lifecycle';
import type { ActivePair, MassCheckContext } from './types';

/**
 * The organization's active migrations as source/target addresses, for "already being migrated",
 * and the records of its submissions still being checked: they become migrations any moment.
 */
export async function activePairs(db: Db, organizationId: string): Promise<ActivePair[]> {
  const [migrations, records] = await Promise.all([
    db.migration.findMany({
      where: { organizationId, state: { in: [...ACTIVE_STATES] } },
      select: { accounts: { select: { side: true, email: true } } },
    }),
    db.massRecord.findMany({
      where: { state: { in: ['pending', 'checking'] }, submission: { organizationId } },
      select: { sourceEmail: true, targetEmail: true },
    }),
  ]);
  const pairs = migrations.flatMap((row) => {
    const source = row.accounts.find((a) => a.side === 'source')?.email;
    const target = row.accounts.find((a) => a.side === 'target')?.email;
    return source && target ? [{ source, target }] : [];
  });
  return [...pairs, ...records.map((r) => ({ source: r.sourceEmail, target: r.targetEmail }))];
}

/**
 * Everything the formal check needs besides the text: the organization's active pairs,
 * whether office365 lines may leave the password empty, and the host policy as text (the
 * check runs in the browser too, where rule objects and DNS are not at hand).
 */
export async function massCheckContext(db: Db, organizationId: string, options: { zone: string; now: Date }): Promise<MassCheckContext> {
  const [active, connection, policy] = await Promise.all([
    activePairs(db, organizationId),
    db.microsoft365Connection.findUnique({ where: { organizationId }, select: { organizationId: true } }),
    loadNetworkPolicy(db, env()),
  ]);
  return {
    zone: options.zone,
    now: options.now,
    active,
    microsoft365: connection !== null,
    hosts: { allow: policy.allow.map(formatHostRule), allowedPorts: [...policy.allowedPorts] },
  };
}
