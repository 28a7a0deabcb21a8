import { connect, createServer, type Socket } from 'node:net';

export interface CuttingProxyOptions {
  targetHost: string;
  targetPort: number;
  /**
   * Cut a connection once the server has sent this many bytes on it: the client receives
   * exactly these bytes, then the connection drops. Inside a FETCH literal this is a
   * mid-message cut. Without it every connection passes through untouched.
   */
  cutAfterServerBytes?: number;
  /** How many connections to cut. Default 1. */
  cuts?: number;
  /**
   * 'accept-order' (default): the first `cuts` connections accepted. 'first-to-reach': the
   * first `cuts` connections whose server bytes reach the limit, whichever they are (the
   * connections that carry message bodies, in a copy).
   */
  choose?: 'accept-order' | 'first-to-reach';
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Pass the server's bytes on at about this rate (a slow server), for copies that must take a while. */
  serverBytesPerSecond?: number;
}

export interface CuttingProxy {
  host: string;
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections cut so far. */
  readonly cutCount: number;
  /** Closes the listener and every open connection. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * A loopback TCP proxy for failure tests: forwards bytes both ways (the server's throttled if
 * asked), and for the first `cuts` connections drops both sides after the server has sent
 * `cutAfterServerBytes` bytes. The
 * server side sees its peer vanish, the client a connection that ends mid-response.
 */
export async function startCuttingProxy(options: CuttingProxyOptions): Promise<CuttingProxy> {
  const host = options.host ?? '127.0.0.1';
  const cuts = options.cuts ?? 1;
  const limit = options.cutAfterServerBytes;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new Error('cutAfterServerBytes must be an integer >= 0');
  let connections = 0;
  let cutCount = 0;
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    connections += 1;
    const byOrder = options.choose !== 'first-to-reach';
    const isCut = limit !== undefined && (byOrder ? connections <= cuts : true);
    const upstream = connect({ host: options.targetHost, port: options.targetPort });
    sockets.add(client);
    sockets.add(upstream);
    // Unhandled socket errors would crash the test process; a reset peer is expected here.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => {
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      // Let the client read what is already on its way, then see the end.
      client.end();
    });

    client.on('data', (chunk: Buffer) => {
      if (!upstream.destroyed && !upstream.write(chunk)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
    });
    client.on('end', () => upstream.end());

    let sent = 0;
    let isDone = false;
    const cut = () => {
      isDone = true;
      cutCount += 1;
      upstream.destroy();
      // A FIN after exactly N bytes, not a RST: keep reading (and discarding) what the client
      // still sends, because closing a socket with unread input makes the kernel reset it and
      // drop bytes in flight; and libuv reports a RST that arrives with the last bytes as a
      // plain EOF anyway, so a reset would not be observable reliably.
      client.removeAllListeners('data');
      client.on('data', () => {});
      client.resume();
      client.end(() => client.destroy());
    };
    upstream.on('data', (chunk: Buffer) => {
      if (isDone) return;
      let out = chunk;
      if (isCut && !byOrder && cutCount >= cuts) {
        // Enough connections were cut: this one passes through.
      } else if (isCut && sent + chunk.length >= limit) {
        out = chunk.subarray(0, limit - sent);
      }
      sent += out.length;
      if (out.length > 0 && options.serverBytesPerSecond !== undefined) {
        client.write(out);
        upstream.pause();
        setTimeout(() => upstream.resume(), (out.length / options.serverBytesPerSecond) * 1000);
      } else if (out.length > 0 && !client.write(out)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
      if (isCut && sent >= limit && (byOrder || cutCount < cuts)) cut();
    });
    if (isCut && byOrder && limit === 0) upstream.once('connect', cut);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('cutting proxy has no address');

  let stopping: Promise<void> | undefined;
  return {
    host,
    port: address.port,
    get connections() {
      return connections;
    },
    get cutCount() {
      return cutCount;
    },
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return stopping;
    },
  };
}
