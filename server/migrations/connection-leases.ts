import type { Db } from '../db';

/** Connections one worker may open to one mail server, over all migrations and machines. */
export const DEFAULT_CONNECTIONS_PER_HOST = 12;

/**
 * Takes `connections` slots for `host` if the total of live leases allows it. Leases expire
 * on their own, so a worker killed outright does not hold a server's slots forever.
 */
export async function acquireLease(db: Db, host: string, connections: number, ttlSeconds: number, limit = DEFAULT_CONNECTIONS_PER_HOST): Promise<string | null> {
  return db.$transaction(async (tx) => {
    // One host at a time: the sum and the insert must not interleave with another worker's.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`lease:${host}`}))`;
    const rows = await tx.$queryRaw<{ total: bigint | null }[]>`
      SELECT sum(connections) AS total FROM connection_leases WHERE host = ${host} AND expires_at > now()`;
    const held = Number(rows[0]?.total ?? 0);
    if (held + connections > limit) return null;
    const lease = await tx.connectionLease.create({
      data: { host, connections, expiresAt: new Date(Date.now() + ttlSeconds * 1000) },
      select: { id: true },
    });
    return lease.id;
  });
}

export async function releaseLease(db: Db, id: string): Promise<void> {
  await db.connectionLease.deleteMany({ where: { id } });
}

export async function pruneLeases(db: Db): Promise<number> {
  return (await db.connectionLease.deleteMany({ where: { expiresAt: { lt: new Date() } } })).count;
}
