/**
 * Loopback servers for the browser tests: a proxy that paces what a server sends, so a copy takes
 * long enough to be watched, and the admin's network rules that let the portal reach them.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Db } from '@/server/db';

/** A TCP proxy to a server whose answers reach the client at `bytesPerSecond` in all (requests pass at once). */
export async function startPacedProxy(target: { host: string; port: number }, bytesPerSecond: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const TICK_MS = 50;
  const perTick = Math.max(1, Math.round((bytesPerSecond * TICK_MS) / 1000));
  const queues: { client: Socket; upstream: Socket; chunks: Buffer[]; queued: number }[] = [];
  const timer = setInterval(() => {
    let budget = perTick;
    // Round robin over the connections with something waiting, so parallel folders share the rate.
    for (const q of queues) {
      if (budget <= 0) break;
      while (budget > 0 && q.chunks.length > 0) {
        const chunk = q.chunks[0]!;
        const part = chunk.subarray(0, budget);
        if (part.length === chunk.length) q.chunks.shift();
        else q.chunks[0] = chunk.subarray(part.length);
        q.queued -= part.length;
        budget -= part.length;
        if (!q.client.destroyed) q.client.write(part);
      }
      if (q.queued < 64 * 1024 && q.upstream.isPaused()) q.upstream.resume();
    }
  }, TICK_MS);
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const q = { client, upstream, chunks: [] as Buffer[], queued: 0 };
    queues.push(q);
    upstream.on('data', (chunk: Buffer) => {
      q.chunks.push(chunk);
      q.queued += chunk.length;
      if (q.queued > 256 * 1024) upstream.pause();
    });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      const index = queues.indexOf(q);
      if (index >= 0) queues.splice(index, 1);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', () => {
      // What the server said last still reaches the client, at the same pace.
      const drain = setInterval(() => {
        if (q.chunks.length === 0 || client.destroyed) {
          clearInterval(drain);
          end();
        }
      }, TICK_MS);
    });
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    async close() {
      clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type RuleList = 'allowedHosts' | 'insecureHosts';

/**
 * Adds a line to one of the admin's network rule lists (allowed private hosts, or hosts where
 * plain http is accepted); returns how to take it back.
 */
export async function addNetworkRule(db: Db, list: RuleList, rule: string): Promise<() => Promise<void>> {
  const row = await db.networkSettings.findUnique({ where: { id: 1 } });
  const value = [row?.[list] ?? '', rule].filter(Boolean).join('\n');
  await db.networkSettings.upsert({ where: { id: 1 }, create: { id: 1, [list]: value }, update: { [list]: value } });
  return async () => {
    const now = (await db.networkSettings.findUnique({ where: { id: 1 } }))?.[list] ?? '';
    const rest = now
      .split('\n')
      .filter((line) => line.trim() !== rule)
      .join('\n');
    await db.networkSettings.update({ where: { id: 1 }, data: { [list]: rest } });
  };
}

/** Lets the portal reach a loopback host (an admin's allowed host); returns how to take it back. */
export const allowHost = (db: Db, rule: string) => addNetworkRule(db, 'allowedHosts', rule);
