import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildFolderPlan,
  ensureTargetFolders,
  planFolders,
  readNamespace,
  type FolderClient,
  type ListedFolder,
} from '../server/engine/folder-plan';
import { RawFolderSession } from '../server/engine/raw-folders';
import { DEFAULT_ALLOWED_PORTS } from '../server/accounts/network/host-policy';
import { parseHostRules } from '../server/accounts/network/host-rules';
import type { FolderPlan } from '../server/engine/folder-plan-types';
import { startDovecot, type DovecotServer, type DovecotUser } from './helpers/dovecot';

const user = (username: string): DovecotUser => ({ username, password: `${username}-secret` });
// One server per separator; each scenario has its own pair of accounts.
const slashUsers = [user('source-slash'), user('target-of-dot'), user('source-refused'), user('source-slash-raw'), user('target-of-dot-raw')];
const dotUsers = [user('target-of-slash'), user('source-dot'), user('target-refused'), user('target-of-slash-raw'), user('source-dot-raw')];

let slash: DovecotServer;
let dot: DovecotServer;
const clients: ImapFlow[] = [];
const sessions: RawFolderSession[] = [];

beforeAll(async () => {
  [slash, dot] = await Promise.all([
    startDovecot({ users: slashUsers, tls: 'none', separator: '/' }),
    startDovecot({ users: dotUsers, tls: 'none', separator: '.' }),
  ]);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.logout().catch(() => client.close())));
  for (const session of sessions) session.close();
  await Promise.all([slash?.stop(), dot?.stop()]);
});

async function connect(server: DovecotServer, account: DovecotUser): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: server.host,
    port: server.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: account.username, pass: account.password },
    logger: false,
  });
  // A socket error without a listener would crash the test worker.
  client.on('error', () => {});
  await client.connect();
  clients.push(client);
  return client;
}

/** The copy's own planning session: raw IMAP. */
async function openRaw(server: DovecotServer, account: DovecotUser): Promise<RawFolderSession> {
  const policy = { allow: parseHostRules('127.0.0.0/8').rules, insecure: parseHostRules('127.0.0.1').rules, extraCaPem: null, allowedPorts: [...DEFAULT_ALLOWED_PORTS, server.port] };
  const session = await RawFolderSession.open({ server: { host: server.host, port: server.port, security: 'starttls' }, auth: { user: account.username, pass: account.password }, policy });
  if (!session) throw new Error('no raw session');
  sessions.push(session);
  return session;
}

function message(subject: string): string {
  return [
    'From: Sender <sender@example.test>',
    'To: someone@example.test',
    `Subject: ${subject}`,
    'Date: Mon, 02 Mar 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Body.',
    '',
  ].join('\r\n');
}

/** The source account the issue describes: nested, non-ASCII, spaces, empty, look-alike special, unsubscribed. */
async function seedSource(client: ImapFlow, sep: string): Promise<void> {
  for (const path of ['Archiv', `Archiv${sep}2023${sep}Q4`, 'Entwürfe', `Projekte${sep}Größe & Co`, 'Old Mail', 'Leer', 'Sent Items', 'Nicht abonniert']) {
    await client.mailboxCreate(path);
  }
  await client.mailboxUnsubscribe('Nicht abonniert');
  // As mail programs do; a new Dovecot account has nothing subscribed.
  await client.mailboxSubscribe('INBOX');
  for (const path of [`Archiv${sep}2023${sep}Q4`, `Projekte${sep}Größe & Co`, 'Old Mail', 'Sent Items', 'Nicht abonniert']) {
    await client.append(path, message(`in ${path}`));
  }
}

interface TargetFolder {
  path: string;
  /** As the server sent it: modified UTF-7 on Dovecot 2.3, which has no UTF8=ACCEPT. */
  wire: string;
  isSubscribed: boolean;
  isPlaceholder: boolean;
}

async function listTarget(client: ImapFlow): Promise<TargetFolder[]> {
  const folders = await client.list();
  return folders
    .map((f) => ({ path: f.path, wire: f.pathAsListed, isSubscribed: f.subscribed === true, isPlaceholder: f.flags.has('\\NonExistent') }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

function statuses(results: { targetPath: string; status: string }[]): Record<string, string> {
  return Object.fromEntries(results.map((r) => [r.targetPath, r.status]));
}

// The plan through imapflow and through the copy's raw sessions, which must agree.
const directions = [
  { source: () => slash, target: () => dot, sourceUser: slashUsers[0]!, targetUser: dotUsers[0]!, from: '/', to: '.', kind: 'imapflow' },
  { source: () => dot, target: () => slash, sourceUser: dotUsers[1]!, targetUser: slashUsers[1]!, from: '.', to: '/', kind: 'imapflow' },
  { source: () => slash, target: () => dot, sourceUser: slashUsers[3]!, targetUser: dotUsers[3]!, from: '/', to: '.', kind: 'raw' },
  { source: () => dot, target: () => slash, sourceUser: dotUsers[4]!, targetUser: slashUsers[4]!, from: '.', to: '/', kind: 'raw' },
];

describe.each(directions)('folder plan against Dovecot ($kind), separator $from to $to', ({ source, target, sourceUser, targetUser, from, to, kind }) => {
  let sourceClient: FolderClient;
  let targetClient: FolderClient;
  /** For seeding and checking, whatever plans. */
  let targetFlow: ImapFlow;
  let plan: FolderPlan;
  const s = (path: string) => path.replaceAll('/', from);
  const t = (path: string) => path.replaceAll('/', to);

  beforeAll(async () => {
    const sourceFlow = await connect(source(), sourceUser);
    targetFlow = await connect(target(), targetUser);
    await seedSource(sourceFlow, from);
    // No attribute: the target's Archive folder is found by its name, like "Sent" on a server
    // without SPECIAL-USE.
    await targetFlow.mailboxCreate('Archive');
    [sourceClient, targetClient] = kind === 'raw' ? [await openRaw(source(), sourceUser), await openRaw(target(), targetUser)] : [sourceFlow, targetFlow];
    plan = await planFolders(sourceClient, targetClient);
  });

  it('reads both namespaces', () => {
    expect(readNamespace(sourceClient)).toEqual({ delimiter: from, prefix: '', otherPrefixes: [] });
    expect(readNamespace(targetClient)).toEqual({ delimiter: to, prefix: '', otherPrefixes: [] });
  });

  it('maps every real source folder, special ones onto the target\u2019s', () => {
    const mapped = Object.fromEntries(plan.folders.map((f) => [f.sourcePath, [f.targetPath, f.specialUse, f.isSubscribed, f.isSelectable]]));
    expect(mapped).toEqual({
      INBOX: ['INBOX', null, true, true],
      Sent: ['Sent', '\\Sent', true, true],
      Drafts: ['Drafts', '\\Drafts', true, true],
      Junk: ['Junk', '\\Junk', true, true],
      Trash: ['Trash', '\\Trash', true, true],
      // German name on the source, English one on the target, neither with an attribute;
      // the child follows its parent's new name.
      Archiv: ['Archive', '\\Archive', true, true],
      [s('Archiv/2023/Q4')]: [t('Archive/2023/Q4'), null, true, true],
      // Named like Drafts, but the source's own Drafts carries the attribute and wins: a plain folder.
      Entwürfe: ['Entwürfe', null, true, true],
      [s('Projekte/Größe & Co')]: [t('Projekte/Größe & Co'), null, true, true],
      'Old Mail': ['Old Mail', null, true, true],
      Leer: ['Leer', null, true, true],
      // Dovecot creates an attributed Sent for every account, so "Sent Items" loses to it and
      // keeps its name as a plain folder instead of being merged into the target's Sent.
      'Sent Items': ['Sent Items', null, true, true],
      'Nicht abonniert': ['Nicht abonniert', null, false, true],
    });
    expect(plan.skipped).toEqual([
      { sourcePath: s('Archiv/2023'), reason: expect.stringMatching(/\\NonExistent/) },
      { sourcePath: 'Projekte', reason: expect.stringMatching(/\\NonExistent/) },
    ]);
  });

  it('creates what is missing, keeps subscriptions, and finds everything on a second run', async () => {
    const first = await ensureTargetFolders(targetClient, plan);
    expect(statuses(first)).toEqual({
      INBOX: 'existed',
      Sent: 'existed',
      Drafts: 'existed',
      Junk: 'existed',
      Trash: 'existed',
      Archive: 'existed',
      [t('Archive/2023/Q4')]: 'created',
      Entwürfe: 'created',
      [t('Projekte/Größe & Co')]: 'created',
      'Old Mail': 'created',
      Leer: 'created',
      'Sent Items': 'created',
      'Nicht abonniert': 'created',
    });
    expect(first.every((r) => r.reason === undefined)).toBe(true);

    expect(await listTarget(targetFlow)).toEqual(
      [
        { path: 'Archive', wire: 'Archive', isSubscribed: true, isPlaceholder: false },
        // Dovecot's maildir++ layout creates no folder for the intermediate level.
        { path: t('Archive/2023'), wire: t('Archive/2023'), isSubscribed: false, isPlaceholder: true },
        { path: t('Archive/2023/Q4'), wire: t('Archive/2023/Q4'), isSubscribed: true, isPlaceholder: false },
        { path: 'Drafts', wire: 'Drafts', isSubscribed: true, isPlaceholder: false },
        { path: 'Entwürfe', wire: 'Entw&APw-rfe', isSubscribed: true, isPlaceholder: false },
        { path: 'INBOX', wire: 'INBOX', isSubscribed: true, isPlaceholder: false },
        { path: 'Junk', wire: 'Junk', isSubscribed: true, isPlaceholder: false },
        { path: 'Leer', wire: 'Leer', isSubscribed: true, isPlaceholder: false },
        { path: 'Nicht abonniert', wire: 'Nicht abonniert', isSubscribed: false, isPlaceholder: false },
        { path: 'Old Mail', wire: 'Old Mail', isSubscribed: true, isPlaceholder: false },
        { path: 'Projekte', wire: 'Projekte', isSubscribed: false, isPlaceholder: true },
        { path: t('Projekte/Größe & Co'), wire: t('Projekte/Gr&APYA3w-e &- Co'), isSubscribed: true, isPlaceholder: false },
        { path: 'Sent', wire: 'Sent', isSubscribed: true, isPlaceholder: false },
        { path: 'Sent Items', wire: 'Sent Items', isSubscribed: true, isPlaceholder: false },
        { path: 'Trash', wire: 'Trash', isSubscribed: true, isPlaceholder: false },
      ].sort((a, b) => a.path.localeCompare(b.path)),
    );

    const second = await ensureTargetFolders(targetClient, plan);
    expect(second.map((r) => r.status)).toEqual(plan.folders.map(() => 'existed'));
    // A resync plans the same paths, now that the first run's folders are on the target.
    expect(await planFolders(sourceClient, targetClient)).toEqual(plan);
  });
});

describe('folders the target refuses', () => {
  let sourceClient: ImapFlow;
  let targetClient: ImapFlow;

  beforeAll(async () => {
    sourceClient = await connect(slash, slashUsers[2]!);
    targetClient = await connect(dot, dotUsers[2]!);
    await sourceClient.mailboxCreate('Kunden/Müller');
  });

  it('reports the refused ones with the server\u2019s answer and creates the rest', async () => {
    const listed = await sourceClient.list();
    // Dovecot's maildir++ layout cannot hold '.' in a '/' namespace, nor '~' or 300-byte names,
    // so these stand for folders from a server that allows them (Exchange allows all three).
    const foreign = (path: string): ListedFolder => ({ path, name: path.split('/').pop(), delimiter: '/', flags: new Set(['\\HasNoChildren']), subscribed: true });
    const tooLong = 'Sehr lang '.repeat(30).trim();
    const sourceFolders = [...listed, foreign('v1.2 Release'), foreign('~Privat'), foreign('~Privat/Kinder'), foreign(tooLong)];
    const targetFolders = await targetClient.list();
    const plan = buildFolderPlan(sourceFolders, targetFolders, readNamespace(sourceClient, listed), readNamespace(targetClient, targetFolders));

    expect(plan.renamed).toEqual([
      { sourcePath: 'v1.2 Release', targetPath: 'v1\u20242 Release', reason: expect.stringMatching(/hierarchy delimiter/) },
    ]);
    const results = await ensureTargetFolders(targetClient, plan);
    const byPath = Object.fromEntries(results.map((r) => [r.targetPath, r]));
    expect(byPath['v1\u20242 Release']).toEqual({ sourcePath: 'v1.2 Release', targetPath: 'v1\u20242 Release', status: 'created' });
    expect(byPath['Kunden.Müller']).toEqual({ sourcePath: 'Kunden/Müller', targetPath: 'Kunden.Müller', status: 'created' });
    // Refused names are renamed, never dropped, and the folders below follow.
    const privat = results.find((r) => r.sourcePath === '~Privat')!;
    expect(privat).toEqual({ sourcePath: '~Privat', targetPath: '_Privat', refusedPath: '~Privat', status: 'created', reason: "[CANNOT] Invalid mailbox name: Begins with '~'." });
    expect(results.find((r) => r.sourcePath === '~Privat/Kinder')).toEqual({ sourcePath: '~Privat/Kinder', targetPath: '_Privat.Kinder', status: 'created' });
    // Too long under every stand-in: a name of letters and digits.
    expect(results.find((r) => r.sourcePath === tooLong)).toEqual({ sourcePath: tooLong, targetPath: expect.stringMatching(/^Folder [0-9a-f]{8}$/), refusedPath: tooLong, status: 'created', reason: '[CANNOT] Mailbox name too long.' });

    const names = (await targetClient.list()).map((f) => f.path);
    expect(names).toContain('v1\u20242 Release');
    expect(names).toContain('Kunden.Müller');
    expect(names).toContain('_Privat.Kinder');
    // The '.' in the name made no hierarchy, and nothing was created under a refused name.
    expect(names.filter((n) => n.startsWith('v1') || n.startsWith('~') || n.startsWith('Sehr'))).toEqual(['v1\u20242 Release']);
  });
});
