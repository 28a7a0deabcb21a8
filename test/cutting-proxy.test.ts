import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCuttingProxy } from './helpers/cutting-proxy';
import { startDovecot, type DovecotServer } from './helpers/dovecot';

/** Everything a client receives until the connection ends, and how it ended. */
function readUntilClosed(port: number): Promise<{ bytes: Buffer; errorCode: string | undefined }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let errorCode: string | undefined;
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      errorCode = error.code;
    });
    socket.on('close', () => resolve({ bytes: Buffer.concat(chunks), errorCode }));
  });
}

describe('cutting proxy over raw TCP', () => {
  const payload = randomBytes(256 * 1024);
  let origin: Server;
  let originPort: number;

  beforeAll(async () => {
    origin = createServer((socket) => {
      socket.on('error', () => {});
      socket.end(payload);
    });
    await new Promise<void>((resolve) => origin.listen({ host: '127.0.0.1', port: 0 }, resolve));
    originPort = (origin.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => origin.close(() => resolve()));
  });

  it('delivers exactly N server bytes on the cut connections, then everything', async () => {
    const proxy = await startCuttingProxy({ targetHost: '127.0.0.1', targetPort: originPort, cutAfterServerBytes: 10_000, cuts: 2 });
    try {
      const first = await readUntilClosed(proxy.port);
      const second = await readUntilClosed(proxy.port);
      const third = await readUntilClosed(proxy.port);
      expect(first.bytes.equals(payload.subarray(0, 10_000))).toBe(true);
      expect(second.bytes.length).toBe(10_000);
      expect(third.bytes.equals(payload)).toBe(true);
      expect(proxy.connections).toBe(3);
      expect(proxy.cutCount).toBe(2);
    } finally {
      await proxy.stop();
    }
  });

  it("with choose 'first-to-reach', cuts the first connections that carry enough bytes, whichever they are", async () => {
    // The first connection of this origin sends only 1 KB; the later ones the whole payload.
    let served = 0;
    const mixed = createServer((socket) => {
      socket.on('error', () => {});
      socket.end(served++ === 0 ? payload.subarray(0, 1024) : payload);
    });
    await new Promise<void>((resolve) => mixed.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const proxy = await startCuttingProxy({ targetHost: '127.0.0.1', targetPort: (mixed.address() as { port: number }).port, cutAfterServerBytes: 10_000, cuts: 1, choose: 'first-to-reach' });
    try {
      const small = await readUntilClosed(proxy.port);
      const cut = await readUntilClosed(proxy.port);
      const whole = await readUntilClosed(proxy.port);
      expect(small.bytes.length).toBe(1024);
      expect(cut.bytes.equals(payload.subarray(0, 10_000))).toBe(true);
      expect(whole.bytes.equals(payload)).toBe(true);
      expect(proxy.cutCount).toBe(1);
    } finally {
      await proxy.stop();
      await new Promise<void>((resolve) => mixed.close(() => resolve()));
    }
  });

  it('passes everything through without a cut size', async () => {
    const proxy = await startCuttingProxy({ targetHost: '127.0.0.1', targetPort: originPort });
    try {
      expect((await readUntilClosed(proxy.port)).bytes.equals(payload)).toBe(true);
      expect(proxy.cutCount).toBe(0);
    } finally {
      await proxy.stop();
    }
  });
});

describe('cutting proxy in front of Dovecot', () => {
  const user = { username: 'cut', password: 'cut-secret' };
  let dovecot: DovecotServer;
  let large: Buffer;

  const session = (port: number) => {
    const client = new ImapFlow({
      host: '127.0.0.1',
      port,
      secure: false,
      auth: { user: user.username, pass: user.password },
      logger: false,
      disableAutoIdle: true,
    });
    // A dropped socket must fail the pending command, not crash the worker.
    client.on('error', () => {});
    return client;
  };

  beforeAll(async () => {
    dovecot = await startDovecot({ users: [user], tls: 'none' });
    const attachment = randomBytes(1024 * 1024).toString('base64').replace(/.{76}/g, '$&\r\n');
    large = Buffer.from(
      [
        'From: Big <big@example.test>',
        'To: Cut <cut@example.test>',
        'Subject: large message',
        'Message-ID: <large@example.test>',
        'MIME-Version: 1.0',
        'Content-Type: application/octet-stream',
        'Content-Transfer-Encoding: base64',
        '',
        attachment,
      ].join('\r\n'),
    );
    const client = session(dovecot.port);
    await client.connect();
    await client.append('INBOX', large);
    await client.logout();
  });

  afterAll(async () => {
    await dovecot?.stop();
  });

  it('drops the first session mid-FETCH of a large message; the next one completes', async () => {
    // Greeting, LOGIN and SELECT are a few KB; 200 KB lands inside the 1.4 MB FETCH literal.
    const cutAt = 200 * 1024;
    const proxy = await startCuttingProxy({ targetHost: dovecot.host, targetPort: dovecot.port, cutAfterServerBytes: cutAt, cuts: 1 });
    try {
      const cut = session(proxy.port);
      let closed = false;
      cut.on('close', () => {
        closed = true;
      });
      await cut.connect();
      await cut.mailboxOpen('INBOX');
      await expect(cut.fetchOne('*', { source: true })).rejects.toThrow();
      expect(closed).toBe(true);
      expect(proxy.cutCount).toBe(1);

      const whole = session(proxy.port);
      await whole.connect();
      await whole.mailboxOpen('INBOX');
      const fetched = await whole.fetchOne('*', { source: true });
      await whole.logout();
      const sha = (b: Buffer | undefined) => createHash('sha256').update(b ?? Buffer.alloc(0)).digest('hex');
      expect(fetched && sha(fetched.source)).toBe(sha(large));
      expect(proxy.connections).toBe(2);
      expect(proxy.cutCount).toBe(1);
    } finally {
      await proxy.stop();
    }
  });
});
