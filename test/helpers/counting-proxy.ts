import { connect, createServer, type Socket } from 'node:net';

export interface CountingProxy {
  host: string;
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections open right now. */
  readonly open: number;
  /** The most connections that were open at the same time. */
  readonly peak: number;
  /** Starts counting `peak` afresh (from the connections open now). */
  resetPeak(): void;
  stop(): Promise<void>;
}

/**
 * A loopback TCP proxy in front of a real server that counts connections, and how many were
 * open at once: what a mail server sees of Mailferry's concurrency, measured at its door.
 */
export async function startCountingProxy(options: { targetHost: string; targetPort: number; host: string }): Promise<CountingProxy> {
  let connections = 0;
  let open = 0;
  let peak = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    connections += 1;
    open += 1;
    peak = Math.max(peak, open);
    const upstream = connect({ host: options.targetHost, port: options.targetPort });
    sockets.add(client);
    sockets.add(upstream);
    let isClosed = false;
    const close = () => {
      if (isClosed) return;
      isClosed = true;
      open -= 1;
      client.destroy();
      upstream.destroy();
    };
    // A reset peer is expected; unhandled socket errors would crash the test process.
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', () => {
      sockets.delete(client);
      close();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.end();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host, () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the proxy has no port');
  let stopping: Promise<void> | undefined;
  return {
    host: options.host,
    port: address.port,
    get connections() {
      return connections;
    },
    get open() {
      return open;
    },
    get peak() {
      return peak;
    },
    resetPeak() {
      peak = open;
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
