import type { Db } from '../db';
import { currentJobHolder } from '../jobs/job-holder';

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
      // The worker whose job this is: its leases go with its jobs when it dies (server/jobs/heartbeat.ts).
      data: { host, connections, expiresAt: new Date(Date.now() + ttlSeconds * 1000), holder: currentJobHolder() },
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

/** Requests in flight to one CalDAV/CardDAV server, over all migrations and machines; groupware servers throttle hard above a few. */
export const DEFAULT_DAV_CONNECTIONS_PER_HOST = 8;

export interface LeaseWait {
  ttlSeconds: number;
  /** Slots a host has over all workers: one figure for all, or per host (absent there: the default). */
  limit?: number | ReadonlyMap<string, number>;
  /** Until when (Date.now() ms) to wait for full hosts; then the answer is null. */
  until: number;
  /** Between two asks; a little is added at random, so waiting workers do not ask in step. */
  pollMs?: number;
  /** Runs between two asks; throws to stop waiting (the migration was cancelled). */
  onWait?: () => Promise<void>;
}

/**
 * Takes `connections` slots on every host of `hosts`, or none: while one is full, the slots
 * taken are given back and it asks again shortly, until `until`. Hosts are taken in one order,
 * so two workers that want the same two hosts do not keep one each.
 */
export async function acquireLeasesWhenFree(db: Db, hosts: Map<string, number>, wait: LeaseWait): Promise<string[] | null> {
  const ordered = [...hosts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const pollMs = wait.pollMs ?? 1000;
  for (;;) {
    const leases: string[] = [];
    for (const [host, connections] of ordered) {
      const limit = typeof wait.limit === 'number' ? wait.limit : wait.limit?.get(host);
      const lease = await acquireLease(db, host, connections, wait.ttlSeconds, limit);
      if (!lease) break;
      leases.push(lease);
    }
    if (leases.length === ordered.length) return leases;
    await Promise.all(leases.map((id) => releaseLease(db, id)));
    const pause = pollMs + Math.random() * pollMs * 0.5;
    if (Date.now() + pause > wait.until) return null;
    await new Promise((resolve) => setTimeout(resolve, pause));
    await wait.onWait?.();
  }
}
