import { readdir, readFile, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { ImapFlow, type ImapFlowError, type ImapFlowOptions } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer, type DovecotUser } from './helpers/dovecot';

const alice: DovecotUser = { username: 'alice@example.test', password: 'alice-secret' };
// Colons, quotes and non-ASCII: the passwd-file must not mangle them, and IMAP must quote them.
const bob: DovecotUser = { username: 'bob', password: 'b:o "b" wörd\\1' };

type ConnectOptions = Omit<ImapFlowOptions, 'host' | 'port' | 'auth' | 'logger'> & { port?: number };

async function openSession(server: DovecotServer, user: DovecotUser, options: ConnectOptions = {}) {
  const { port = server.port, ...rest } = options;
  const client = new ImapFlow({
    host: server.host,
    port,
    secure: false,
    auth: { user: user.username, pass: user.password },
    logger: false,
    ...rest,
  });
  // A socket error without a listener would crash the test worker.
  client.on('error', () => {});
  await client.connect();
  return client;
}

async function withSession<T>(
  server: DovecotServer,
  user: DovecotUser,
  options: ConnectOptions,
  body: (client: ImapFlow) => Promise<T>,
): Promise<T> {
  const client = await openSession(server, user, options);
  try {
    return await body(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

function message(subject: string, to: string): string {
  return [
    'From: Sender <sender@example.test>',
    `To: ${to}`,
    `Subject: ${subject}`,
    'Date: Mon, 02 Mar 2026 10:00:00 +0000',
    `Message-ID: <${subject.replace(/\W+/g, '-')}@example.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Body of ${subject}.`,
    '',
  ].join('\r\n');
}

async function subjectsIn(client: ImapFlow, path: string): Promise<string[]> {
  const lock = await client.getMailboxLock(path);
  try {
    if (client.mailbox === false || client.mailbox.exists === 0) return [];
    const messages = await client.fetchAll('1:*', { envelope: true });
    return messages.map((entry) => entry.envelope?.subject ?? '');
  } finally {
    lock.release();
  }
}

async function rejection(promise: Promise<unknown>): Promise<ImapFlowError> {
  try {
    await promise;
  } catch (error) {
    return error as ImapFlowError;
  }
  throw new Error('expected the promise to reject');
}

describe('private Dovecot server', () => {
  let server: DovecotServer;

  beforeAll(async () => {
    server = await startDovecot({ users: [alice, bob] });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('serves INBOX and the special-use folders on the plain port', async () => {
    const folders = await withSession(server, alice, { doSTARTTLS: false }, async (client) => {
      expect(client.secureConnection).toBe(false);
      return client.list();
    });
    const byPath = new Map(folders.map((folder) => [folder.path, folder]));
    expect([...byPath.keys()].sort()).toEqual(['Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']);
    expect(byPath.get('Drafts')?.specialUse).toBe('\\Drafts');
    expect(byPath.get('Sent')?.specialUse).toBe('\\Sent');
    expect(byPath.get('Trash')?.specialUse).toBe('\\Trash');
    expect(byPath.get('Junk')?.specialUse).toBe('\\Junk');
    expect(byPath.get('Sent')?.specialUseSource).toBe('extension');
    expect(byPath.get('INBOX')?.delimiter).toBe('/');
  });

  it('stores an appended message and shows it again', async () => {
    await withSession(server, alice, { doSTARTTLS: false }, async (client) => {
      const appended = await client.append('INBOX', message('Hello Alice', alice.username), ['\\Seen']);
      expect(appended && appended.uid).toBeGreaterThan(0);
      await client.mailboxCreate('Projects/2026');
      await client.append('Projects/2026', message('Nested folder', alice.username));

      expect(await subjectsIn(client, 'INBOX')).toEqual(['Hello Alice']);
      expect(await subjectsIn(client, 'Projects/2026')).toEqual(['Nested folder']);
      const status = await client.status('INBOX', { messages: true, unseen: true });
      expect(status && status.messages).toBe(1);
      expect(status && status.unseen).toBe(0);
    });
  });

  it('keeps the mail of two users apart', async () => {
    await withSession(server, bob, { doSTARTTLS: false }, async (client) => {
      expect(await subjectsIn(client, 'INBOX')).toEqual([]);
      const paths = (await client.list()).map((folder) => folder.path);
      expect(paths).not.toContain('Projects/2026');
      await client.append('INBOX', message('Only for Bob', bob.username));
    });
    await withSession(server, alice, { doSTARTTLS: false }, async (client) => {
      expect(await subjectsIn(client, 'INBOX')).toEqual(['Hello Alice']);
    });
    await withSession(server, bob, { doSTARTTLS: false }, async (client) => {
      expect(await subjectsIn(client, 'INBOX')).toEqual(['Only for Bob']);
    });
  });

  it('refuses a wrong password with an authentication error', async () => {
    const error = await rejection(
      openSession(server, { username: alice.username, password: 'not-the-password' }, { doSTARTTLS: false }),
    );
    expect(error.authenticationFailed).toBe(true);
    expect(error.serverResponseCode).toBe('AUTHENTICATIONFAILED');

    const unknown = await rejection(openSession(server, { username: 'nobody-here', password: 'x' }, { doSTARTTLS: false }));
    expect(unknown.authenticationFailed).toBe(true);
  });

  it('speaks implicit TLS and STARTTLS with a certificate the test CA verifies', async () => {
    expect(server.tlsPort).not.toBeNull();
    const ca = server.caCertPem ?? '';
    const tls = { ca, servername: 'localhost', rejectUnauthorized: true };

    await withSession(server, alice, { port: server.tlsPort ?? 0, secure: true, tls }, async (client) => {
      expect(client.secureConnection).toBe(true);
      expect(await subjectsIn(client, 'INBOX')).toEqual(['Hello Alice']);
    });
    await withSession(server, bob, { doSTARTTLS: true, tls }, async (client) => {
      expect(client.tls).toBeTruthy();
      expect(await subjectsIn(client, 'INBOX')).toEqual(['Only for Bob']);
    });

    // Without the CA the self-signed chain must not verify.
    const untrusted = await rejection(
      openSession(server, alice, { port: server.tlsPort ?? 0, secure: true, tls: { rejectUnauthorized: true } }),
    );
    expect(untrusted.authenticationFailed).toBeFalsy();
  });

  it('accepts a user added while running', async () => {
    const carol = { username: 'carol', password: 'carol-secret' };
    await expect(openSession(server, carol, { doSTARTTLS: false })).rejects.toMatchObject({ authenticationFailed: true });
    await server.addUser(carol);
    await withSession(server, carol, { doSTARTTLS: false }, async (client) => {
      expect((await client.list()).map((folder) => folder.path)).toContain('Sent');
    });
  });
});

describe('Dovecot helper', () => {
  it('runs several instances at once, enforces STARTTLS and cleans up after stop()', async () => {
    const user = { username: 'dave', password: 'dave-secret' };
    const [plainOnly, starttlsOnly] = await Promise.all([
      startDovecot({ users: [user], tls: 'none', separator: '.' }),
      startDovecot({ users: [user], tls: 'starttls', requireStarttls: true }),
    ]);
    try {
      expect(plainOnly.port).not.toBe(starttlsOnly.port);
      expect(plainOnly.rootDir).not.toBe(starttlsOnly.rootDir);
      expect(plainOnly.tlsPort).toBeNull();
      expect(plainOnly.caCertPem).toBeNull();
      expect(starttlsOnly.tlsPort).toBeNull();

      // Keep a session open across stop() so that an imap process exists when it runs.
      const lingering = await openSession(plainOnly, user);
      expect(lingering.secureConnection).toBe(false);
      const inbox = (await lingering.list()).find((folder) => folder.path === 'INBOX');
      expect(inbox?.delimiter).toBe('.');

      expect(await capabilitiesBeforeLogin(starttlsOnly)).toEqual(expect.arrayContaining(['STARTTLS', 'LOGINDISABLED']));
      // imapflow reports LOGINDISABLED as a failed authentication without a server response code.
      const cleartext = await rejection(openSession(starttlsOnly, user, { doSTARTTLS: false }));
      expect(cleartext.message).toMatch(/login is disabled/i);
      expect(cleartext.serverResponseCode).toBeUndefined();
      const tls = { ca: starttlsOnly.caCertPem ?? '', servername: 'localhost' };
      await withSession(starttlsOnly, user, { doSTARTTLS: true, tls }, async (client) => {
        expect(client.tls).toBeTruthy();
      });

      const processesBefore = await processesUnder(plainOnly.rootDir, plainOnly.port);
      expect(processesBefore.length).toBeGreaterThan(2);
      await plainOnly.stop();
      lingering.close();
      expect(await processesUnder(plainOnly.rootDir, plainOnly.port)).toEqual([]);
      await expect(stat(plainOnly.rootDir)).rejects.toMatchObject({ code: 'ENOENT' });
      await plainOnly.stop();
    } finally {
      await Promise.all([plainOnly.stop(), starttlsOnly.stop()]);
    }
  });
});

/** CAPABILITY as announced on the plain port before STARTTLS, read without imapflow. */
async function capabilitiesBeforeLogin(server: DovecotServer): Promise<string[]> {
  const socket = connect({ host: server.host, port: server.port });
  socket.setEncoding('latin1');
  try {
    let received = '';
    for await (const chunk of socket) {
      received += chunk as string;
      if (received.startsWith('* OK') && !received.includes('a1 ')) socket.write('a1 CAPABILITY\r\n');
      const match = /^\* CAPABILITY (.*)\r\n/m.exec(received);
      if (match && received.includes('a1 OK')) return (match[1] ?? '').split(' ');
    }
    throw new Error(`connection closed after ${JSON.stringify(received)}`);
  } finally {
    socket.destroy();
  }
}

/** Pids of the master (its argv names the config under rootDir) and its children (titled by instance). */
async function processesUnder(rootDir: string, port: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const state = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (state.slice(state.lastIndexOf(')') + 2).startsWith('Z')) continue;
    if (cmdline.includes(rootDir) || cmdline.includes(`mailferry-test-${port}/`)) pids.push(Number(entry));
  }
  return pids;
}
