import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CourierServer } from './helpers/courier';
import type { CyrusServer } from './helpers/cyrus';
import { IMAP_SERVER_KINDS, startImapServer, type ImapTestServer, type ImapTestUser } from './helpers/imap-server';
import { openImap } from './helpers/mailbox';
import { openRawImap, quoteImap, type RawImapSession } from './helpers/raw-imap-session';

/*
 * The servers Mailferry copies into besides Dovecot. Besides proving the helpers work, these
 * tests pin down what each server really does, so that a package update that changes it shows
 * up here first instead of as lost mail in a migration.
 */

const alice: ImapTestUser = { username: 'alice', password: 'alice-secret' };
const bob: ImapTestUser = { username: 'bob@example.test', password: 'b:o "b" wörd\\1' };

function message(subject: string, extraHeaders: string[] = []): string {
  return [
    'From: Sender <sender@example.test>',
    'To: Alice <alice@example.test>',
    `Subject: ${subject}`,
    'Date: Mon, 02 Mar 2026 10:00:00 +0000',
    `Message-ID: <${subject.replace(/\W+/g, '-')}@example.test>`,
    ...extraHeaders,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Body of ${subject}.`,
    '',
  ].join('\r\n');
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

async function withImap<T>(server: ImapTestServer, user: ImapTestUser, body: (client: ImapFlow) => Promise<T>): Promise<T> {
  const client = await openImap(server.port, user.username, user.password, server.host);
  try {
    return await body(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

async function withRaw<T>(server: ImapTestServer, user: ImapTestUser, body: (session: RawImapSession) => Promise<T>): Promise<T> {
  const session = await openRawImap(server.host, server.port, user);
  try {
    return await body(session);
  } finally {
    session.close();
  }
}

async function fetchSource(client: ImapFlow, folder: string): Promise<Buffer[]> {
  const lock = await client.getMailboxLock(folder);
  try {
    if (client.mailbox === false || client.mailbox.exists === 0) return [];
    return (await client.fetchAll('1:*', { source: true })).map((m) => m.source ?? Buffer.alloc(0));
  } finally {
    lock.release();
  }
}

/** A `FETCH (BODY[])` answer line as the raw session returns it (literal inline). */
const fetchLine = (n: number, body: string) => `* ${n} FETCH (BODY[] {${Buffer.byteLength(body)}}\r\n${body})`;

/** The CAPABILITY words after LOGIN (some servers announce more once logged in). */
async function capabilities(session: RawImapSession): Promise<Set<string>> {
  const answer = await session.command('CAPABILITY');
  const line = answer.lines.find((l) => l.startsWith('* CAPABILITY ')) ?? '';
  return new Set(line.slice('* CAPABILITY '.length).split(' '));
}

describe.each(IMAP_SERVER_KINDS)('%s started by startImapServer', (kind) => {
  let server: ImapTestServer;

  beforeAll(async () => {
    server = await startImapServer(kind, { users: [alice, bob] });
  });

  afterAll(async () => {
    await server?.stop();
    // stop() twice is a no-op, not an error.
    await server?.stop();
  });

  it('logs in, lists the precreated folders, creates a nested folder and keeps an appended message', async () => {
    const p = server.personalPrefix;
    const s = server.separator;
    await withImap(server, alice, async (client) => {
      const paths = (await client.list()).map((folder) => folder.path);
      const expected = { dovecot: ['Drafts', 'Junk', 'Sent', 'Trash'], cyrus: ['Drafts', 'Sent', 'Spam', 'Trash'], courier: ['Drafts', 'Sent', 'Spam', 'Trash'] }[kind];
      expect(paths.sort()).toEqual(['INBOX', ...expected.map((name) => `${p}${name}`)].sort());

      const nested = `${p}Projects${s}2026`;
      await client.mailboxCreate(nested);
      const raw = message(`Nested on ${kind}`);
      await client.append(nested, raw, ['\\Seen']);
      const stored = await fetchSource(client, nested);
      expect(stored.map((b) => sha256(b))).toEqual([sha256(raw)]);
    });
  });

  it('keeps the mail of two users apart and adds a third one while running', async () => {
    await withImap(server, bob, async (client) => {
      expect(await fetchSource(client, 'INBOX')).toEqual([]);
      await client.append('INBOX', message('Only for Bob'));
    });
    const carol = { username: 'carol', password: 'carol-secret' };
    await server.addUser(carol);
    await withImap(server, carol, async (client) => {
      expect(await fetchSource(client, 'INBOX')).toEqual([]);
      expect((await client.list()).length).toBeGreaterThan(1);
    });
    // Each server's log names the users' sessions (Cyrus: its session transcripts).
    expect(await server.logs()).toContain(kind === 'cyrus' ? 'SELECT INBOX' : 'alice');
    // Courier's imaplogin sleeps 5 s before refusing a password (compiled in): left out to keep this file fast.
    if (kind !== 'courier') {
      await expect(openImap(server.port, alice.username, 'wrong', server.host)).rejects.toMatchObject({ authenticationFailed: true });
    }
  });
});

describe('Cyrus IMAP in Kolab configuration', () => {
  let server: CyrusServer;

  beforeAll(async () => {
    server = (await startImapServer('cyrus', { users: [alice, bob] })) as CyrusServer;
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('announces separator /, folders beside INBOX, and the extensions the engine relies on', async () => {
    await withRaw(server, alice, async (session) => {
      const caps = await capabilities(session);
      for (const cap of ['LITERAL+', 'MULTIAPPEND', 'UIDPLUS', 'LIST-EXTENDED', 'LIST-STATUS', 'SPECIAL-USE', 'CREATE-SPECIAL-USE', 'MOVE', 'UNSELECT', 'CONDSTORE', 'QRESYNC', 'METADATA']) {
        expect(caps, cap).toContain(cap);
      }
      const namespace = await session.command('NAMESPACE');
      expect(namespace.lines).toContain('* NAMESPACE (("" "/")) (("Other Users/" "/")) (("Shared Folders/" "/"))');

      // Kolab's folders carry their special-use attribute and are subscribed; INBOX is not.
      const list = await session.command('LIST "" "*" RETURN (SUBSCRIBED SPECIAL-USE)');
      expect(list.lines).toEqual(
        expect.arrayContaining([
          '* LIST (\\HasNoChildren) "/" INBOX',
          '* LIST (\\Subscribed \\HasNoChildren \\Sent) "/" Sent',
          '* LIST (\\Subscribed \\HasNoChildren \\Drafts) "/" Drafts',
          '* LIST (\\Subscribed \\HasNoChildren \\Trash) "/" Trash',
          '* LIST (\\Subscribed \\HasNoChildren \\Junk) "/" Spam',
        ]),
      );
    });
  });

  it('refuses names with % and the other reserved characters, and ! outside a virtual domain', async () => {
    await withRaw(server, alice, async (session) => {
      for (const name of ['a%b', 'a;b', 'a<b', 'a>b', 'a\\b', 'a^b', 'a{b', 'a|b', 'a}b', 'a"b', 'a&b']) {
        expect((await session.command(`CREATE ${quoteImap(name)}`)).status, name).toBe('NO Invalid mailbox name');
      }
      expect((await session.command('CREATE "a!b"')).status).toBe('NO Permission denied');
      // Raw UTF-8 is refused even after ENABLE UTF8=ACCEPT; modified UTF-7, emoji included, is not.
      expect((await session.command('CREATE "Täst"')).status).toBe('NO Invalid mailbox name');
      expect((await session.command('CREATE "T&AOQ-st"')).status).toMatch(/^OK/);
      expect((await session.command('CREATE "Emoji &2D3eAA-"')).status).toMatch(/^OK/);
      // A trailing separator is dropped rather than refused.
      expect((await session.command('CREATE "Trailing/"')).status).toMatch(/^OK/);
      expect((await session.command('LIST "" "Trailing*"')).lines).toEqual(['* LIST (\\HasNoChildren) "/" Trailing']);
    });
    // In a virtual domain (user@domain) the same name is allowed.
    await withRaw(server, bob, async (session) => {
      expect((await session.command('CREATE "a!b"')).status).toMatch(/^OK/);
    });
  });

  it('allows one folder per special-use attribute', async () => {
    await withRaw(server, alice, async (session) => {
      expect((await session.command('CREATE "Sent Items" (USE (\\Sent))')).status).toBe('NO [USEATTR] SPECIAL-USE flag conflict');
      expect((await session.command('CREATE "Archive" (USE (\\Archive))')).status).toMatch(/^OK/);
    });
  });

  it('rewrites 8-bit header bytes as X, keeps an 8-bit body and lone CRs, refuses bare LF and NUL', async () => {
    await withRaw(server, alice, async (session) => {
      await session.command('CREATE "Bytes"');
      const header8 = Buffer.from('Subject: caf\u00e9\r\nFrom: a@example.test\r\n\r\nbody \u00e4\r\n', 'utf8');
      expect((await session.append('Bytes', header8)).status).toMatch(/^OK \[APPENDUID \d+ 1\]/);
      expect((await session.append('Bytes', 'Subject: lf\r\n\r\nline 1\nline 2\r\n')).status).toBe('NO Message contains bare newlines');
      expect((await session.append('Bytes', 'Subject: nul\r\n\r\nbo\0dy\r\n')).status).toBe('NO Message contains NUL characters');
      expect((await session.append('Bytes', 'Subject: cr\r\n\r\nline 1\rline 2')).status).toMatch(/^OK/);
      await session.command('SELECT "Bytes"');
      const fetched = await session.command('FETCH 1:* (BODY.PEEK[])');
      expect(fetched.lines).toEqual([
        fetchLine(1, 'Subject: cafXX\r\nFrom: a@example.test\r\n\r\nbody \u00e4\r\n'),
        fetchLine(2, 'Subject: cr\r\n\r\nline 1\rline 2'),
      ]);
    });
  });
});

describe('Courier IMAP as Plesk ran it', () => {
  let server: CourierServer;

  beforeAll(async () => {
    server = (await startImapServer('courier', { users: [alice, bob] })) as CourierServer;
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('lacks LITERAL+, UNSELECT, MOVE, CONDSTORE, SPECIAL-USE, MULTIAPPEND and LIST-EXTENDED; has UIDPLUS', async () => {
    await withRaw(server, alice, async (session) => {
      const caps = await capabilities(session);
      for (const cap of ['LITERAL+', 'UNSELECT', 'MOVE', 'CONDSTORE', 'SPECIAL-USE', 'MULTIAPPEND', 'LIST-EXTENDED', 'LIST-STATUS', 'ESEARCH']) {
        expect(caps, cap).not.toContain(cap);
      }
      for (const cap of ['IMAP4rev1', 'UIDPLUS', 'NAMESPACE', 'CHILDREN', 'IDLE', 'UTF8=ACCEPT']) expect(caps, cap).toContain(cap);
      expect((await session.command('UNSELECT')).status).toBe('NO Error in IMAP command received by server.');
      expect((await session.command('LIST "" "*" RETURN (SPECIAL-USE)')).status).toBe('NO Error in IMAP command received by server.');
      expect((await session.command('NAMESPACE')).lines).toEqual(['* NAMESPACE (("INBOX." ".")) NIL (("#shared." ".")("shared." "."))']);
      // LIST-EXTENDED syntax is not refused: the selection option is ignored, so unsubscribed INBOX shows.
      expect((await session.command('LIST (SUBSCRIBED) "" "INBOX"')).lines).toEqual(['* LIST (\\Unmarked \\HasChildren) "." "INBOX"']);
      expect((await session.command('ID NIL')).status).toBe('NO Error in IMAP command received by server.');
    });
  });

  it('keeps folders below INBOX with separator . and subscribes the Plesk folders', async () => {
    await withRaw(server, alice, async (session) => {
      const lsub = (await session.command('LSUB "" "*"')).lines.sort();
      expect(lsub).toEqual(
        [
          '* LSUB (\\HasNoChildren) "." "INBOX.Drafts"',
          '* LSUB (\\HasNoChildren) "." "INBOX.Sent"',
          '* LSUB (\\HasNoChildren) "." "INBOX.Spam"',
          '* LSUB (\\HasNoChildren) "." "INBOX.Trash"',
          // INBOX appears because it has subscribed children, not because it is subscribed.
          '* LSUB (\\Noselect \\HasChildren) "." "INBOX"',
        ].sort(),
      );
      expect((await session.command('CREATE "Top"')).status).toBe('NO Invalid mailbox name.');
      expect((await session.command('CREATE "INBOX.a/b"')).status).toBe('NO Invalid mailbox name.');
      // What Cyrus refuses, Courier takes.
      for (const name of ['INBOX.a%b', 'INBOX.a!b', 'INBOX.a;b', 'INBOX.a"b']) {
        expect((await session.command(`CREATE ${quoteImap(name)}`)).status, name).toBe(`OK ${quoteImap(name)} created.`);
      }
    });
  });

  it('refuses an unquoted SELECT of a name with ~ but accepts it quoted', async () => {
    await withRaw(server, alice, async (session) => {
      expect((await session.command('CREATE "INBOX.Tilde~Name"')).status).toBe('OK "INBOX.Tilde~Name" created.');
      expect((await session.command('SELECT INBOX.Tilde~Name')).status).toBe('NO Mailbox does not exist, or must be subscribed to.');
      expect((await session.command('SELECT "INBOX.Tilde~Name"')).status).toBe('OK [READ-WRITE] Ok');
    });
  });

  it('refuses an emoji folder name without UTF8=ACCEPT', async () => {
    await withRaw(server, alice, async (session) => {
      expect((await session.command('CREATE "INBOX.Emoji &2D3eAA-"')).status).toBe('NO Error in IMAP command received by server.');
      expect((await session.command('CREATE "INBOX.T&AOQ-st"')).status).toBe('OK "INBOX.T&AOQ-st" created.');
    });
  });

  it('takes an emoji name after ENABLE UTF8=ACCEPT, and then drops every session that did not enable it', async () => {
    await withRaw(server, bob, async (session) => {
      expect((await session.command('ENABLE UTF8=ACCEPT')).status).toBe('OK Options enabled');
      expect((await session.command('CREATE "INBOX.Emoji \u{1F600}"')).status).toBe('OK "INBOX.Emoji \u{1F600}" created.');
    });
    // imapd cannot name that folder in modified UTF-7 and closes the connection on LIST.
    const session = await openRawImap(server.host, server.port, bob);
    try {
      await expect(session.command('LIST "" "*"')).rejects.toThrow(/closed the connection/);
    } finally {
      session.close();
    }
    expect(await server.logs()).toContain('ERR: imap_filename_to_foldername(INBOX.Emoji \u{1F600}) failed');
  });

  it('stores messages with LF, drops lone CRs, adds a final newline, and alerts on 8-bit headers', async () => {
    await withRaw(server, alice, async (session) => {
      await session.command('CREATE "INBOX.Bytes"');
      expect((await session.append('INBOX.Bytes', 'Subject: lf\r\n\r\nline 1\nline 2\r\n')).status).toMatch(/^OK \[APPENDUID \d+ 1\]/);
      expect((await session.append('INBOX.Bytes', 'Subject: cr\r\n\r\nline 1\rline 2')).status).toMatch(/^OK/);
      const header8 = await session.append('INBOX.Bytes', Buffer.from('Subject: caf\u00e9\r\n\r\nbody\r\n', 'utf8'));
      expect(header8.status).toMatch(/^OK/);
      expect(header8.lines.some((line) => line.startsWith('* OK [ALERT]'))).toBe(true);
      await session.command('SELECT "INBOX.Bytes"');
      const fetched = await session.command('FETCH 1:* (BODY.PEEK[])');
      expect(fetched.lines).toEqual([
        fetchLine(1, 'Subject: lf\r\n\r\nline 1\r\nline 2\r\n'),
        fetchLine(2, 'Subject: cr\r\n\r\nline 1line 2\r\n'),
        fetchLine(3, 'Subject: caf\u00e9\r\n\r\nbody\r\n'),
      ]);
    });
    // On disk: LF only.
    const cur = path.join(server.maildir(alice.username), '.Bytes', 'cur');
    const files = await readdir(cur);
    const onDisk = await Promise.all(files.map((file) => readFile(path.join(cur, file), 'latin1')));
    expect(onDisk.some((text) => text === 'Subject: lf\n\nline 1\nline 2\n')).toBe(true);
  });

  it('refuses APPEND to the mailbox it has EXAMINEd', async () => {
    await withRaw(server, alice, async (session) => {
      await session.command('EXAMINE INBOX');
      expect((await session.append('INBOX', message('Into examined'))).status).toBe('NO Current box is selected READ-ONLY.');
      expect((await session.append('INBOX.Sent', message('Elsewhere'))).status).toMatch(/^OK/);
    });
  });

  it('drops commands sent in the same packet as LOGIN', async () => {
    // imaplogin checks the password and then execs imapd, which starts with an empty buffer.
    const session = await openRawImap(server.host, server.port);
    try {
      const login = session.command(`LOGIN ${quoteImap(alice.username)} ${quoteImap(alice.password)}\r\npipelined NOOP`);
      expect((await login).status).toBe('OK LOGIN Ok.');
      // Had the pipelined NOOP been read, its answer would come before this one's.
      const after = await session.command('NOOP');
      expect(after.status).toMatch(/^OK/);
      expect(after.lines.filter((line) => line.startsWith('pipelined '))).toEqual([]);
    } finally {
      session.close();
    }
  });
});
