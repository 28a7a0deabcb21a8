import type { ImapFlow } from 'imapflow';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ALLOWED_PORTS, type NetworkPolicy } from '@/server/accounts/network/host-policy';
import { parseHostRules } from '@/server/accounts/network/host-rules';
import { connectBodyFetcher, type FetchedMessage } from '@/server/engine/body-fetcher';
import { AppendRejectedError, connectPipelinedAppender } from '@/server/engine/pipelined-appender';
import { planFolders, readNamespace } from '@/server/engine/folder-plan';
import { RawFolderSession } from '@/server/engine/raw-folders';
import { startDovecot, type DovecotServer } from './helpers/dovecot';
import { fillMailbox, makeMessage, openImap } from './helpers/mailbox';

const password = 'raw-Test-pw';
let dovecot: DovecotServer;
let userCount = 0;

async function newUser(): Promise<string> {
  const username = `raw${++userCount}-${Date.now()}@example.test`;
  await dovecot.addUser({ username, password });
  return username;
}

function endpoint(user: string, pass = password) {
  const policy: NetworkPolicy = { allow: parseHostRules('127.0.0.0/8').rules, insecure: parseHostRules('127.0.0.1').rules, extraCaPem: null, allowedPorts: [...DEFAULT_ALLOWED_PORTS, dovecot.port] };
  return { server: { host: '127.0.0.1', port: dovecot.port, security: 'starttls' as const }, auth: { user, pass }, policy };
}

describe('raw IMAP connections for the copy', () => {
  const clients: ImapFlow[] = [];
  const open = async (user: string) => {
    const client = await openImap(dovecot.port, user, password);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    dovecot = await startDovecot({ users: [], tls: 'none' });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.logout().catch(() => c.close())));
  });
  afterAll(async () => dovecot?.stop());

  it('appends several messages in one MULTIAPPEND, and when the server refuses one only that one fails', async () => {
    const user = await newUser();
    const appender = await connectPipelinedAppender(endpoint(user));
    expect(appender).not.toBeNull();
    const bodies = ['a', 'b', '', 'c', 'd'].map((s) => Buffer.from(s ? makeMessage({ subject: `m-${s}` }) : ''));
    // All in one turn of the event loop: one command on the wire.
    // Pieces as a read delivers them: the message goes out whole.
    const pieces = (body: Buffer) => (body.length > 20 ? [body.subarray(0, 20), body.subarray(20)] : [body]);
    const results = await Promise.allSettled(bodies.map((body, i) => appender!.append('INBOX', pieces(body), i === 1 ? ['\\Seen', '$Label1'] : [], new Date(Date.UTC(2011, 1, 3 + i)))));
    await appender!.close();
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const refusal = (results[2] as PromiseRejectedResult).reason as AppendRejectedError;
    expect(refusal).toBeInstanceOf(AppendRejectedError);
    expect(refusal.responseStatus).toBe('NO');

    const client = await open(user);
    await client.mailboxOpen('INBOX');
    const stored = [];
    for await (const message of client.fetch('1:*', { uid: true, flags: true, internalDate: true, source: true })) stored.push(message);
    expect(stored.map((m) => m.source!.toString())).toEqual([bodies[0], bodies[1], bodies[3], bodies[4]].map((b) => b!.toString()));
    expect([...stored[1]!.flags!].filter((f) => f !== '\\Recent').sort()).toEqual(['$Label1', '\\Seen']);
    expect(new Date(stored[2]!.internalDate!).toISOString()).toBe('2011-02-06T00:00:00.000Z');
  });

  it('fetches exact bytes, flags and dates, also for messages cut across reads, and reads sizes and folder state', async () => {
    const user = await newUser();
    const client = await open(user);
    const messages = [
      { folder: 'INBOX', raw: makeMessage({ bodyBytes: 10 }), flags: ['\\Seen'], date: new Date(Date.UTC(2006, 0, 2, 3, 4, 5)) },
      { folder: 'INBOX', raw: makeMessage({ bodyBytes: 700_000 }), flags: ['\\Flagged', '$Label1'], date: new Date(Date.UTC(2019, 11, 31, 23, 59, 59)) },
      ...Array.from({ length: 40 }, (_, i) => ({ folder: 'INBOX', raw: makeMessage({ bodyBytes: 900 + i * 311 }), flags: [] as string[], date: new Date(Date.UTC(2015, 5, 1 + i)) })),
    ];
    await fillMailbox(client, messages);
    await client.mailboxCreate(['Projekte', 'Größe & "Co"']);
    const fetcher = await connectBodyFetcher(endpoint(user));
    expect(fetcher).not.toBeNull();
    const listed = await fetcher!.listFolders();
    expect(listed.map((f) => f.path)).toEqual(expect.arrayContaining(['INBOX', 'Projekte', 'Projekte/Größe & "Co"']));
    expect(listed.find((f) => f.path === 'Projekte')?.flags.has('\\haschildren')).toBe(true);
    const info = await fetcher!.examine('INBOX');
    expect(info).toMatchObject({ exists: messages.length, uidNext: messages.length + 1 });
    expect(info.uidValidity).toMatch(/^\d+$/);
    // A refused folder in the middle leaves the others where they belong.
    const statuses = await fetcher!.statuses(['INBOX', 'No such folder', 'Sent']);
    expect(statuses.get('INBOX')).toEqual(info);
    expect(statuses.get('Sent')).toMatchObject({ exists: 0, uidNext: 1 });
    expect(statuses.has('No such folder')).toBe(false);
    // The same STATUS in one LIST (LIST-STATUS), for every folder that can be opened.
    const withStatus = await fetcher!.listFolders({ withStatus: true });
    expect(withStatus.find((f) => f.path === 'INBOX')!.status).toEqual(info);
    expect(withStatus.find((f) => f.path === 'Sent')!.status).toEqual(statuses.get('Sent'));
    expect(withStatus.find((f) => f.path === 'Projekte/Größe & "Co"')!.status).toMatchObject({ exists: 0 });
    // Several folders opened and read at once; a refused one is left out, the others stay right.
    const scanned = await fetcher!.scanMany([
      { path: 'INBOX', from: 3 },
      { path: 'No such folder', from: 1 },
      { path: 'Projekte/Größe & "Co"', from: 1 },
      { path: 'Sent', from: 1 },
    ]);
    expect([...scanned.keys()]).toEqual(['INBOX', 'Projekte/Größe & "Co"', 'Sent']);
    expect(scanned.get('INBOX')!.mailbox).toEqual(info);
    expect(scanned.get('INBOX')!.sizes.map((s) => s.uid)).toEqual(messages.slice(2).map((_, i) => i + 3));
    expect(scanned.get('Projekte/Größe & "Co"')!.sizes.length).toBe(scanned.get('Projekte/Größe & "Co"')!.mailbox.exists);
    expect(scanned.get('Sent')).toMatchObject({ mailbox: { exists: 0, uidNext: 1 }, sizes: [] });
    await fetcher!.examine('INBOX');
    const sizes = await fetcher!.sizes('1:*');
    expect(sizes.map((s) => s.size)).toEqual(messages.map((m) => Buffer.byteLength(m.raw)));

    const received: FetchedMessage[] = [];
    // The consumer is slow now and then: reading pauses meanwhile and nothing is lost.
    await fetcher!.fetch('1:*', (message) => {
      received.push(message);
      return received.length % 7 === 0 ? new Promise((resolve) => setTimeout(resolve, 20)) : undefined;
    });
    expect(received.map((m) => m.uid)).toEqual(messages.map((_, i) => i + 1));
    received.forEach((message, i) => {
      expect(Buffer.concat(message.body).toString()).toBe(messages[i]!.raw);
      expect(message.size).toBe(Buffer.byteLength(messages[i]!.raw));
      expect([...message.flags].filter((f) => f !== '\\Recent').sort()).toEqual([...messages[i]!.flags].sort());
      expect(message.internalDate?.toISOString()).toBe(messages[i]!.date.toISOString());
    });
    await fetcher!.close();
  });

  it('lists, plans, creates and selects folders as imapflow sees them', async () => {
    const [sourceUser, targetUser] = [await newUser(), await newUser()];
    const source = await open(sourceUser);
    await fillMailbox(source, [
      { folder: 'INBOX', raw: makeMessage(), flags: ['\\Seen'] },
      { folder: 'Projekte/Größe & "Co"', raw: makeMessage() },
      { folder: 'Archiv', raw: makeMessage() },
    ]);
    await source.mailboxCreate('Nicht abonniert');
    await source.mailboxUnsubscribe('Nicht abonniert');
    const target = await open(targetUser);

    const raw = (await RawFolderSession.open(endpoint(sourceUser)))!;
    const rawTarget = (await RawFolderSession.open(endpoint(targetUser)))!;
    try {
      const shape = (folders: { path: string; delimiter?: string | null; subscribed?: boolean; flags: ReadonlySet<string> | readonly string[] }[]) =>
        folders
          .map((f) => ({ path: f.path, delimiter: f.delimiter, subscribed: f.subscribed === true, flags: [...f.flags].filter((flag) => flag !== '\\Subscribed').sort() }))
          .sort((a, b) => a.path.localeCompare(b.path));
      const listed = await raw.list();
      // imapflow reports INBOX as subscribed whatever the server says.
      expect(shape(listed).map((f) => (f.path === 'INBOX' ? { ...f, subscribed: true } : f))).toEqual(shape(await source.list()));
      expect(listed.find((f) => f.path === 'Nicht abonniert')?.subscribed).toBe(false);
      expect(readNamespace(raw, listed)).toEqual(readNamespace(source, await source.list()));
      // The same plan, whatever the order the folders were listed in.
      const byPath = <T extends { sourcePath: string }>(folders: T[]) => [...folders].sort((a, b) => a.sourcePath.localeCompare(b.sourcePath));
      const [rawPlan, flowPlan] = [await planFolders(raw, rawTarget), await planFolders(source, target)];
      // Except INBOX's subscription, which only the raw list reports as the server has it.
      const inboxAsFlow = <T extends { sourcePath: string; isSubscribed: boolean }>(folders: T[]) => folders.map((f) => (f.sourcePath === 'INBOX' ? { ...f, isSubscribed: true } : f));
      expect({ ...rawPlan, folders: inboxAsFlow(byPath(rawPlan.folders)) }).toEqual({ ...flowPlan, folders: byPath(flowPlan.folders) });

      expect(await rawTarget.mailboxCreate('Neu/Unter')).toEqual({ created: true });
      expect(await rawTarget.mailboxCreate('Neu/Unter')).toEqual({ created: false });
      expect((await target.list()).find((f) => f.path === 'Neu/Unter')?.subscribed).toBe(true);
      expect(await rawTarget.mailboxUnsubscribe('Neu/Unter')).toBe(true);
      const after = (await target.list()).find((f) => f.path === 'Neu/Unter');
      expect(after && Boolean(after.subscribed)).toBe(false);
      await expect(rawTarget.mailboxCreate('')).rejects.toMatchObject({ responseStatus: expect.stringMatching(/NO|BAD/) });

      const selected = await raw.selectMany(['INBOX', 'No such folder', 'Archiv']);
      expect([...selected.keys()]).toEqual(['INBOX', 'Archiv']);
      const opened = await source.mailboxOpen('INBOX');
      expect(selected.get('INBOX')).toEqual({ uidValidity: String(opened.uidValidity), uidNext: opened.uidNext, exists: opened.exists, permanentFlags: opened.permanentFlags });
    } finally {
      raw.close();
      rawTarget.close();
    }
  });

  it('gives null (imapflow takes over) for a wrong password instead of a half-open connection', async () => {
    const user = await newUser();
    expect(await connectBodyFetcher(endpoint(user, 'wrong'))).toBeNull();
  });
});
