import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectImap } from '@/server/accounts/imap/imap-connector';
import { imapflowAppender } from '@/server/engine/appender-pool';
import { DEFAULT_ALLOWED_PORTS, type NetworkPolicy } from '@/server/accounts/network/host-policy';
import { parseHostRules } from '@/server/accounts/network/host-rules';
import { connectBodyFetcher, type BodyFetcher } from '@/server/engine/body-fetcher';
import { AppendRejectedError, connectPipelinedAppender, type Appender } from '@/server/engine/pipelined-appender';
import { RawFolderSession } from '@/server/engine/raw-folders';
import { openRawImap } from '@/server/engine/raw-imap';
import { startDovecot, type DovecotServer } from './helpers/dovecot';
import { startImapServer, type ImapTestServer } from './helpers/imap-server';
import { makeMessage } from './helpers/mailbox';
import { atomMailboxArguments, startWireProxy, type WireProxy } from './helpers/wire-proxy';

/*
 * The protocol layer against servers other than a stock Dovecot: what goes on the wire, seen
 * through a recording proxy. Dovecot stands in for Courier by announcing Courier's capabilities
 * (no LITERAL+, UNSELECT, CONDSTORE, SPECIAL-USE, LIST-EXTENDED, LIST-STATUS, MOVE), and the
 * proxy refuses what such a server cannot take: literal bytes before the continuation.
 */

const password = 'proto-Test-pw';
const STOCK_CAPABILITIES =
  'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE';
/** What Courier-IMAP 5 announces after login, near enough. */
const COURIER_LIKE = 'IMAP4rev1 CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE ACL ACL2=UNION ENABLE UIDPLUS';

/** Names that break an atom, a careless quoting or a modified UTF-7 encoder. */
const NAMES = [
  'Tilde~Name',
  'Percent%Name',
  'Star*Name',
  'Quote"Name',
  'Back\\slash',
  'Space Name',
  ' Leading space',
  'Trailing space ',
  'Größe & Co',
  'Emoji 📬 post',
  `Long ${'x'.repeat(120)}`,
  'Paren (x) {3} ]',
  'NIL',
];

function policyFor(port: number): NetworkPolicy {
  return { allow: parseHostRules('127.0.0.0/8').rules, insecure: parseHostRules('127.0.0.1').rules, extraCaPem: null, allowedPorts: [...DEFAULT_ALLOWED_PORTS, port] };
}

function endpoint(port: number, user: string) {
  return { server: { host: '127.0.0.1', port, security: 'starttls' as const }, auth: { user, pass: password }, policy: policyFor(port) };
}

let users = 0;
async function newUser(server: DovecotServer): Promise<string> {
  const username = `proto${++users}-${Date.now()}@example.test`;
  await server.addUser({ username, password });
  return username;
}

/** Commands that sent a mailbox name as an atom, with the atoms. */
function atomNames(proxy: WireProxy): string[] {
  return proxy.commands().flatMap((command) => (atomMailboxArguments(command).length > 0 ? [command] : []));
}

describe('IMAP protocol for servers other than Dovecot', () => {
  let stock: DovecotServer;
  let courierLike: DovecotServer;
  let multiAppendOnly: DovecotServer;

  beforeAll(async () => {
    [stock, courierLike, multiAppendOnly] = await Promise.all([
      // UTF8=ACCEPT announced, so a client that would enable it shows it on the wire.
      startDovecot({ users: [], tls: 'none', imapCapability: `${STOCK_CAPABILITIES} UTF8=ACCEPT` }),
      startDovecot({ users: [], tls: 'none', imapCapability: COURIER_LIKE, maxMessageBytes: 100_000 }),
      startDovecot({ users: [], tls: 'none', imapCapability: 'IMAP4rev1 ENABLE IDLE NAMESPACE CHILDREN UIDPLUS MULTIAPPEND LITERAL-', maxMessageBytes: 100_000 }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([stock?.stop(), courierLike?.stop(), multiAppendOnly?.stop()]);
  });

  it('sends every mailbox name quoted, on raw sessions and imapflow alike, and both find the same folders', async () => {
    const user = await newUser(stock);
    const proxy = await startWireProxy({ targetPort: stock.port });
    const at = endpoint(proxy.port, user);
    let flow: ImapFlow | null = null;
    try {
      const folders = (await RawFolderSession.open(at))!;
      const created: string[] = [];
      for (const name of NAMES) {
        const result = await folders.mailboxCreate(name).catch(() => null);
        if (result?.created) created.push(name);
      }
      // Dovecot takes every one of them.
      expect(created).toEqual(NAMES);
      for (const name of created) {
        expect(await folders.mailboxUnsubscribe(name)).toBe(true);
        expect(await folders.mailboxSubscribe(name)).toBe(true);
      }
      const listed = await folders.list();
      expect(listed.filter((f) => created.includes(f.path)).map((f) => [f.path, f.subscribed])).toEqual(expect.arrayContaining(created.map((name) => [name, true])));
      const selected = await folders.selectMany(created);
      expect([...selected.keys()]).toEqual(created);
      folders.close();

      const appender = (await connectPipelinedAppender(at))!;
      const appended = await Promise.all(created.map((name) => appender.append(name, [Buffer.from(makeMessage({ subject: name }))], ['\\Seen'])));
      expect(appended.every((uid) => uid === 1)).toBe(true);
      await appender.close();

      const fetcher = (await connectBodyFetcher(at))!;
      const statuses = await fetcher.statuses(created);
      expect(created.map((name) => statuses.get(name)?.exists)).toEqual(created.map(() => 1));
      for (const name of created) expect((await fetcher.examine(name)).exists).toBe(1);
      const scanned = await fetcher.scanMany(created.map((path) => ({ path, from: 1 })));
      expect([...scanned.keys()]).toEqual(created);
      expect((await fetcher.listFolders({ withStatus: true })).filter((f) => created.includes(f.path)).map((f) => f.status?.exists)).toEqual(created.map(() => 1));
      await fetcher.close();

      // imapflow through the engine's connector: every command that names a mailbox.
      flow = await connectImap(at);
      const flowPaths = (await flow.list()).map((f) => f.path);
      expect(flowPaths).toEqual(expect.arrayContaining(created));
      for (const name of created) {
        expect(await flow.status(name, { messages: true })).toMatchObject({ messages: 1 });
        await flow.append(name, makeMessage({ subject: `flow ${name}` }), []);
        expect((await flow.mailboxOpen(name, { readOnly: true })).exists).toBe(2);
        expect((await flow.mailboxOpen(name)).exists).toBe(2);
        await flow.messageCopy('1', created[0]!, { uid: true });
        await flow.mailboxSubscribe(name);
        await flow.mailboxUnsubscribe(name);
      }
      await flow.mailboxOpen('INBOX');
      for (const name of created) {
        await flow.mailboxCreate(`${name} new`);
        await flow.mailboxRename(`${name} new`, `${name} renamed`);
        await flow.mailboxDelete(`${name} renamed`);
      }
      expect(await flow.status(created[0]!, { messages: true })).toMatchObject({ messages: 2 + created.length });
    } finally {
      await flow?.logout().catch(() => flow?.close());
      await proxy.stop();
    }
    const commands = proxy.commands();
    // Each kind of command was seen with the hardest name, so the check below covers it.
    for (const verb of ['CREATE', 'SUBSCRIBE', 'UNSUBSCRIBE', 'SELECT', 'EXAMINE', 'STATUS', 'APPEND', 'RENAME', 'DELETE', 'UID COPY']) {
      expect(commands.filter((c) => c.includes(` ${verb} `) && c.includes('Tilde~Name')).length, verb).toBeGreaterThan(0);
    }
    expect(commands.some((c) => / SELECT "Tilde~Name"/.test(c))).toBe(true);
    expect(atomNames(proxy)).toEqual([]);
    // Non-ASCII as modified UTF-7 in a quoted string, never UTF-8.
    expect(commands.filter((c) => c.includes('"Gr&APYA3w-e &- Co"'))).not.toHaveLength(0);
    expect(commands.filter((c) => /[^\x20-\x7e]/.test(c))).toEqual([]);
    // The engine never enables UTF8=ACCEPT (on Courier that drops every later session without it).
    expect(commands.filter((c) => /ENABLE/i.test(c))).toEqual([expect.stringMatching(/ENABLE CONDSTORE$/)]);
  });

  it('reads folder names the server sends as literals on the raw path, as imapflow does', async () => {
    const user = await newUser(stock);
    const proxy = await startWireProxy({ targetPort: stock.port, namesAsLiterals: true });
    const direct = endpoint(stock.port, user);
    try {
      const setup = (await RawFolderSession.open(direct))!;
      const names = ['Tilde~Name', 'Quote"Name', 'Back\\slash', 'Größe & Co', ' Leading space', `Long ${'x'.repeat(120)}`];
      for (const name of names) await setup.mailboxCreate(name);
      await setup.mailboxUnsubscribe('Quote"Name');
      const expected = await setup.list();
      setup.close();

      const viaLiterals = (await RawFolderSession.open(endpoint(proxy.port, user)))!;
      const listed = await viaLiterals.list();
      viaLiterals.close();
      expect(listed).toEqual(expected);
      expect(listed.find((f) => f.path === 'Quote"Name')?.subscribed).toBe(false);
      expect(listed.map((f) => f.path)).toEqual(expect.arrayContaining(names));

      const fetcher = (await connectBodyFetcher(endpoint(proxy.port, user)))!;
      const withStatus = await fetcher.listFolders({ withStatus: true });
      await fetcher.close();
      expect(withStatus.map((f) => f.path).sort()).toEqual(expected.map((f) => f.path).sort());
      // The STATUS of each folder came with a literal name too, and found its folder.
      expect(withStatus.filter((f) => !f.status).map((f) => f.path)).toEqual([]);
    } finally {
      await proxy.stop();
    }
    // The proxy did turn names into literals (else this test proves nothing).
    expect(proxy.events.length).toBeGreaterThan(0);
  });

  it('appends over synchronizing literals with one round trip per message, and goes on after a refusal', async () => {
    const user = await newUser(courierLike);
    const proxy = await startWireProxy({ targetPort: courierLike.port });
    let flow: ImapFlow | null = null;
    try {
      const appender = (await connectPipelinedAppender(endpoint(proxy.port, user)))!;
      expect(appender).not.toBeNull();
      const bodies = Array.from({ length: 120 }, (_, i) => Buffer.from(makeMessage({ subject: `sync ${i}`, bodyBytes: 100 + ((i * 977) % 9000) })));
      bodies[7] = Buffer.alloc(0);
      bodies[50] = Buffer.from(makeMessage({ subject: 'too large', bodyBytes: 150_000 }));
      const results = await Promise.allSettled(
        bodies.map((body, i) => appender.append(i === 90 ? 'No such folder' : 'INBOX', [body.subarray(0, 10), body.subarray(10)], i % 3 === 0 ? ['\\Seen'] : [], new Date(Date.UTC(2012, 0, 1 + i)))),
      );
      await appender.close();
      const refused = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
      expect(refused).toEqual([7, 50, 90]);
      for (const i of refused) expect((results[i] as PromiseRejectedResult).reason).toBeInstanceOf(AppendRejectedError);
      expect(results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))).toEqual(Array.from({ length: 117 }, (_, i) => i + 1));

      flow = await connectImap(endpoint(courierLike.port, user));
      await flow.mailboxOpen('INBOX');
      const stored: string[] = [];
      for await (const message of flow.fetch('1:*', { source: true })) stored.push(message.source!.toString());
      expect(stored).toEqual(bodies.filter((_, i) => !refused.includes(i)).map((b) => b.toString()));
    } finally {
      await flow?.logout().catch(() => flow?.close());
      await proxy.stop();
    }
    expect(proxy.violations).toEqual([]);
    const own = proxy.events.filter((e) => e.connection === 1);
    expect(own.filter((e) => e.kind === 'command' && / APPEND .*\{\d+\+\}/.test(e.text))).toEqual([]);
    // The next APPEND was announced before the answer to the one before: a round trip per
    // message, not two (imapflow waits for each tagged answer before the next command).
    const position = (kind: string, tag: string) => own.findIndex((e) => e.kind === kind && e.text.startsWith(`${tag} `));
    const tags = own.filter((e) => e.kind === 'announce' && / APPEND /.test(e.text)).map((e) => e.text.split(' ', 1)[0]!);
    expect(tags).toHaveLength(120);
    let early = 0;
    for (let i = 1; i < tags.length; i++) if (position('announce', tags[i]!) < position('answer', tags[i - 1]!)) early++;
    expect(early).toBeGreaterThan(100);
  });

  it('sends MULTIAPPEND literals one continuation at a time, and a refused group again message by message', async () => {
    const user = await newUser(multiAppendOnly);
    const proxy = await startWireProxy({ targetPort: multiAppendOnly.port });
    let flow: ImapFlow | null = null;
    try {
      const appender = (await connectPipelinedAppender(endpoint(proxy.port, user)))!;
      // Small ones go as LITERAL- (non-synchronizing up to 4 KB), the others wait for `+`.
      const bodies = Array.from({ length: 40 }, (_, i) => Buffer.from(makeMessage({ subject: `multi ${i}`, bodyBytes: i % 2 ? 200 : 6000 + i })));
      bodies[13] = Buffer.from(makeMessage({ subject: 'too large', bodyBytes: 150_000 }));
      bodies[21] = Buffer.alloc(0);
      const results = await Promise.allSettled(bodies.map((body) => appender.append('INBOX', [body], [])));
      appender.flush();
      await appender.close();
      expect(results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []))).toEqual([13, 21]);
      flow = await connectImap(endpoint(multiAppendOnly.port, user));
      await flow.mailboxOpen('INBOX');
      const stored: string[] = [];
      for await (const message of flow.fetch('1:*', { source: true })) stored.push(message.source!.toString());
      expect(stored.sort()).toEqual(bodies.filter((_, i) => i !== 13 && i !== 21).map((b) => b.toString()).sort());
    } finally {
      await flow?.logout().catch(() => flow?.close());
      await proxy.stop();
    }
    expect(proxy.violations).toEqual([]);
    const multi = proxy.commands().filter((c) => / APPEND "INBOX" \(\) \{\d+\+?\} \(\)/.test(c));
    expect(multi.length).toBeGreaterThan(0);
    expect(proxy.commands().filter((c) => /\{[0-9]{5,}\+\}/.test(c) || /\{(?:[5-9]\d{3})\+\}/.test(c))).toEqual([]);
  });

  it('plans and reads without LIST-EXTENDED, SPECIAL-USE, LIST-STATUS, CONDSTORE and UNSELECT', async () => {
    const user = await newUser(courierLike);
    const proxy = await startWireProxy({ targetPort: courierLike.port });
    let fetcher: BodyFetcher | null = null;
    let appender: Appender | null = null;
    try {
      const folders = (await RawFolderSession.open(endpoint(proxy.port, user)))!;
      await folders.mailboxCreate('Archiv');
      await folders.mailboxCreate('Alt');
      await folders.mailboxUnsubscribe('Alt');
      const listed = await folders.list();
      folders.close();
      expect(listed.find((f) => f.path === 'Archiv')?.subscribed).toBe(true);
      expect(listed.find((f) => f.path === 'Alt')?.subscribed).toBe(false);
      appender = (await connectPipelinedAppender(endpoint(proxy.port, user)))!;
      await appender.append('Archiv', [Buffer.from(makeMessage())], []);
      await appender.close();
      fetcher = (await connectBodyFetcher(endpoint(proxy.port, user)))!;
      const withStatus = await fetcher.listFolders({ withStatus: true });
      expect(withStatus.every((f) => f.status === undefined)).toBe(true);
      const statuses = await fetcher.statuses(['INBOX', 'Archiv', 'Alt']);
      expect(statuses.get('Archiv')).toMatchObject({ exists: 1, uidNext: 2, highestModseq: null });
      // Folder after folder, each EXAMINE replacing the one before: no UNSELECT or CLOSE needed.
      const scanned = await fetcher.scanMany(['INBOX', 'Archiv', 'Alt'].map((path) => ({ path, from: 1 })));
      expect(scanned.get('Archiv')?.sizes).toHaveLength(1);
      expect((await fetcher.examine('Alt')).highestModseq).toBeNull();
    } finally {
      await fetcher?.close();
      await proxy.stop();
    }
    const commands = proxy.commands();
    expect(commands.filter((c) => /RETURN|CONDSTORE|HIGHESTMODSEQ|UNSELECT| CLOSE|ENABLE/i.test(c))).toEqual([]);
    expect(commands.some((c) => / LSUB "" "\*"$/.test(c))).toBe(true);
    expect(proxy.violations).toEqual([]);
  });

  it('keeps the listeners of a raw connection constant over thousands of lines', async () => {
    const user = await newUser(stock);
    const connection = (await openRawImap(endpoint(stock.port, user)))!;
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const socket = connection.socket;
      const before = { close: socket.listenerCount('close'), error: socket.listenerCount('error'), data: socket.listenerCount('data') };
      for (let i = 0; i < 300; i++) expect((await connection.command('NOOP')).status).toBe('OK');
      const answers = await connection.commands(Array.from({ length: 3000 }, () => 'NOOP'));
      expect(answers.every((a) => a.status === 'OK')).toBe(true);
      expect({ close: socket.listenerCount('close'), error: socket.listenerCount('error'), data: socket.listenerCount('data') }).toEqual(before);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      connection.end();
    }
  });
});

/** What each real server refuses of NAMES (Cyrus: `" % ; < > \\ ^ { | }`; Courier: names outside the BMP). */
const REFUSED: Record<'cyrus' | 'courier', RegExp> = { cyrus: /["%;<>\\^{|}!]/, courier: /\p{Extended_Pictographic}/u };

describe.each(['cyrus', 'courier'] as const)('IMAP protocol on %s', (kind) => {
  let server: ImapTestServer;
  let count = 0;
  const addUser = async () => {
    const username = `proto${++count}`;
    await server.addUser({ username, password });
    return username;
  };

  beforeAll(async () => {
    server = await startImapServer(kind, { users: [] });
  });
  afterAll(async () => server?.stop());

  it('creates, selects, reads and appends to every name it takes, named quoted by both kinds of connection', async () => {
    const user = await addUser();
    const proxy = await startWireProxy({ targetPort: server.port });
    const at = endpoint(proxy.port, user);
    const names = NAMES.map((name) => `${server.personalPrefix}${name}`);
    let flow: ImapFlow | null = null;
    try {
      const folders = (await RawFolderSession.open(at))!;
      const created: string[] = [];
      for (const name of names) if ((await folders.mailboxCreate(name).catch(() => null))?.created) created.push(name);
      expect(created).toEqual(names.filter((name) => !REFUSED[kind].test(name.slice(server.personalPrefix.length))));
      expect(created).toContain(`${server.personalPrefix}Tilde~Name`);
      expect((await folders.list()).map((f) => f.path)).toEqual(expect.arrayContaining(created));
      // Courier's SELECT names no UIDNEXT: it comes from STATUS, so no folder is left to imapflow.
      expect([...(await folders.selectMany(created)).entries()].map(([path, m]) => [path, m.uidNext])).toEqual(created.map((path) => [path, 1]));
      folders.close();

      const appender = (await connectPipelinedAppender(at))!;
      // An 8-bit header: Courier answers with an untagged [ALERT], which is no refusal.
      const eightBit = Buffer.from('From: a@example.test\r\nSubject: Gr\xfc\xdfe\r\n\r\nbody\r\n', 'latin1');
      const results = await Promise.all(created.flatMap((name) => [appender.append(name, [Buffer.from(makeMessage({ subject: name }))], ['\\Seen']), appender.append(name, [eightBit], [])]));
      expect(results).toEqual(created.flatMap(() => [1, 2]));
      await appender.close();

      const fetcher = (await connectBodyFetcher(at))!;
      const statuses = await fetcher.statuses(created);
      expect(created.map((name) => statuses.get(name)?.exists)).toEqual(created.map(() => 2));
      const scanned = await fetcher.scanMany(created.map((path) => ({ path, from: 1 })));
      expect(created.map((name) => scanned.get(name)?.sizes.length)).toEqual(created.map(() => 2));
      await fetcher.close();

      flow = await connectImap(at);
      expect((await flow.list()).map((f) => f.path)).toEqual(expect.arrayContaining(created));
      const flowAppender = imapflowAppender(flow);
      for (const name of created) {
        expect(await flow.status(name, { messages: true })).toMatchObject({ messages: 2 });
        expect((await flow.mailboxOpen(name)).exists).toBe(2);
        // Open read-only, as the engine's source sessions are: the append still goes in.
        expect((await flow.mailboxOpen(name, { readOnly: true })).exists).toBe(2);
        await flowAppender.append(name, [Buffer.from(makeMessage())], [], undefined);
        expect(await flow.status(name, { messages: true })).toMatchObject({ messages: 3 });
      }
    } finally {
      await flow?.logout().catch(() => flow?.close());
      await proxy.stop();
    }
    expect(atomNames(proxy)).toEqual([]);
    expect(proxy.violations).toEqual([]);
    expect(proxy.commands().filter((c) => /ENABLE/i.test(c) && /UTF8/i.test(c))).toEqual([]);
    expect(proxy.commands().filter((c) => / (UNSELECT|EXPUNGE)\b/i.test(c))).toEqual([]);
  });

  it('appends many messages in one pass, refusing only what the server refuses', async () => {
    const user = await addUser();
    const proxy = await startWireProxy({ targetPort: server.port });
    let flow: ImapFlow | null = null;
    const inbox = 'INBOX';
    try {
      const appender = (await connectPipelinedAppender(endpoint(proxy.port, user)))!;
      const bodies = Array.from({ length: 150 }, (_, i) => Buffer.from(makeMessage({ subject: `bulk ${i}`, bodyBytes: 100 + ((i * 977) % 9000) })));
      bodies[20] = Buffer.alloc(0);
      const results = await Promise.allSettled(bodies.map((body, i) => appender.append(i === 40 ? `${server.personalPrefix}No such folder` : inbox, [body], [])));
      await appender.close();
      const refused = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
      // Cyrus refuses an empty message; Courier stores it.
      expect(refused).toEqual(kind === 'cyrus' ? [20, 40] : [40]);
      flow = await connectImap(endpoint(server.port, user));
      expect(await flow.status(inbox, { messages: true })).toMatchObject({ messages: 150 - refused.length });
    } finally {
      await flow?.logout().catch(() => flow?.close());
      await proxy.stop();
    }
    expect(proxy.violations).toEqual([]);
    // Courier announces no LITERAL+: every literal waited for its continuation.
    if (kind === 'courier') expect(proxy.commands().filter((c) => /\{\d+\+\}/.test(c))).toEqual([]);
  });
});
