import type { ImapFlow } from 'imapflow';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ALLOWED_PORTS, type NetworkPolicy } from '@/server/accounts/network/host-policy';
import { parseHostRules } from '@/server/accounts/network/host-rules';
import { copyMailbox, type MailboxEndpoint } from '@/server/engine/copy-mailbox';
import type { GroupwareFolderOption } from '@/server/engine/folder-plan-types';
import { MemoryStateStore } from '@/server/engine/state';
import { verifyMailbox } from '@/server/engine/verify-mailbox';
import { startDovecot, type DovecotServer } from './helpers/dovecot';
import { makeMessage, openImap } from './helpers/mailbox';
import { expectOk, openRawImap, quoteImap } from './helpers/raw-imap-session';

/**
 * A Kolab-like source on Dovecot with IMAP METADATA: folders typed by
 * /vendor/kolab/folder-type hold groupware objects as messages. When groupware moves by its own
 * path they are left out of the mail copy and named in the notices; without the option every
 * folder is copied as before.
 */
const password = 'groupware-folders-pw';
const users = ['kolab-source@example.test', 'target-one@example.test', 'target-two@example.test', 'zimbra-source@example.test', 'target-three@example.test'] as const;
const [kolabSource, targetWith, targetWithout, zimbraSource, zimbraTarget] = users;
let dovecot: DovecotServer;
const clients: ImapFlow[] = [];

/** Source folders, their messages and the Kolab type set on them (entry, value). */
const KOLAB_FOLDERS: { path: string; messages: number; type?: [string, string] }[] = [
  { path: 'INBOX', messages: 2 },
  { path: 'Work', messages: 2 },
  { path: 'Projects', messages: 1, type: ['/shared/vendor/kolab/folder-type', 'mail'] },
  { path: 'Calendar', messages: 3, type: ['/shared/vendor/kolab/folder-type', 'event.default'] },
  { path: 'Calendar/Team', messages: 1, type: ['/shared/vendor/kolab/folder-type', 'event'] },
  { path: 'Contacts', messages: 2, type: ['/private/vendor/kolab/folder-type', 'contact.default'] },
  { path: 'Tasks', messages: 1, type: ['/shared/vendor/kolab/folder-type', 'task'] },
  { path: 'Notes', messages: 1, type: ['/shared/vendor/kolab/folder-type', 'note'] },
  { path: 'Configuration', messages: 1, type: ['/private/vendor/kolab/folder-type', 'configuration.default'] },
];
// Dovecot gives every mailbox Drafts, Sent, Trash and Junk (empty).
const MAIL_FOLDERS = ['Drafts', 'INBOX', 'Junk', 'Projects', 'Sent', 'Trash', 'Work'];
const GROUPWARE = ['Calendar', 'Calendar/Team', 'Contacts', 'Tasks', 'Notes', 'Configuration'];

async function open(user: string): Promise<ImapFlow> {
  const client = await openImap(dovecot.port, user, password);
  clients.push(client);
  return client;
}

async function folderCounts(user: string): Promise<Map<string, number>> {
  const client = await open(user);
  const counts = new Map<string, number>();
  for (const folder of await client.list()) {
    if (folder.flags.has('\\Noselect') || folder.flags.has('\\NonExistent')) continue;
    const status = await client.status(folder.path, { messages: true });
    counts.set(folder.path, status ? (status.messages ?? 0) : 0);
  }
  return counts;
}

describe('folders that hold groupware, seen over IMAP', () => {
  let policy: NetworkPolicy;
  let endpoint: (user: string) => MailboxEndpoint;

  beforeAll(async () => {
    dovecot = await startDovecot({ users: users.map((username) => ({ username, password })), tls: 'none', metadata: true });
    policy = { allow: parseHostRules('127.0.0.0/8').rules, insecure: parseHostRules('127.0.0.1').rules, extraCaPem: null, allowedPorts: [...DEFAULT_ALLOWED_PORTS, dovecot.port] };
    const server = { host: '127.0.0.1', port: dovecot.port, security: 'starttls' as const };
    endpoint = (user) => ({ server, auth: () => ({ user, pass: password }) });

    const client = await open(kolabSource);
    for (const folder of KOLAB_FOLDERS) {
      if (folder.path !== 'INBOX') await client.mailboxCreate(folder.path);
      for (let i = 0; i < folder.messages; i++) await client.append(folder.path, makeMessage({ subject: `${folder.path} ${i + 1}` }));
    }
    const raw = await openRawImap('127.0.0.1', dovecot.port, { username: kolabSource, password });
    try {
      expect((await expectOk(raw, 'CAPABILITY')).lines.join(' ')).toMatch(/\bMETADATA\b/);
      for (const { path, type } of KOLAB_FOLDERS) if (type) await expectOk(raw, `SETMETADATA ${quoteImap(path)} (${type[0]} ${quoteImap(type[1])})`);
      // What the server keeps is what a Kolab client reads back.
      expect((await expectOk(raw, 'GETMETADATA "Calendar" (/shared/vendor/kolab/folder-type)')).lines.join('\n')).toContain('event.default');
    } finally {
      raw.close();
    }

    // A Zimbra-like source: its Calendar shows up empty over IMAP, a "Contacts" holding mail
    // is the customer's mail whatever its name.
    const zimbra = await open(zimbraSource);
    for (const path of ['Calendar', 'Emailed Contacts', 'Contacts', 'Receipts']) await zimbra.mailboxCreate(path);
    await zimbra.append('INBOX', makeMessage({ subject: 'Zimbra inbox' }));
    await zimbra.append('Receipts', makeMessage({ subject: 'Receipt' }));
    await zimbra.append('Contacts', makeMessage({ subject: 'Filed in Contacts' }));
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.logout().catch(() => c.close())));
  });
  afterAll(async () => {
    await dovecot?.stop();
  });

  const kolab: GroupwareFolderOption = { kind: 'kolab' };

  it('leaves Kolab-typed folders out of the mail copy, reports them, and copies the rest exactly', async () => {
    const state = new MemoryStateStore();
    const run = () => copyMailbox({ source: endpoint(kolabSource), target: endpoint(targetWith), policy, state, groupwareFolders: kolab });
    const first = await run();

    // INBOX 2 + Work 2 + Projects 1 (typed "mail"): the 9 messages in typed folders are not mail to copy.
    expect(first.messages).toEqual({ total: 5, copied: 5, skipped: 0, failed: 0 });
    expect(first.hasLoss).toBe(false);
    expect(first.folderReports.map((f) => f.sourcePath).sort()).toEqual(MAIL_FOLDERS);

    const onTarget = await folderCounts(targetWith);
    for (const path of GROUPWARE) expect(onTarget.has(path), path).toBe(false);
    expect(Object.fromEntries([...onTarget].filter(([path]) => ['INBOX', 'Work', 'Projects'].includes(path)))).toEqual({ INBOX: 2, Work: 2, Projects: 1 });

    const texts = first.notices.map((n) => n.text);
    expect(texts).toContain('"Calendar" is not copied as mail: it holds calendar events (Kolab folder type "event.default"), moved as groupware.');
    expect(texts).toContain('"Calendar/Team" is not copied as mail: it holds calendar events (Kolab folder type "event"), moved as groupware.');
    expect(texts).toContain('"Contacts" is not copied as mail: it holds contacts (Kolab folder type "contact.default"), moved as groupware.');
    expect(texts).toContain('"Tasks" is not copied as mail: it holds tasks (Kolab folder type "task"), moved as groupware.');
    expect(texts).toContain('"Notes" is skipped: it holds notes (Kolab folder type "note"), which the groupware copy does not carry.');
    expect(texts).toContain('"Configuration" is skipped: it holds groupware settings (Kolab folder type "configuration.default"), which the groupware copy does not carry.');
    expect(state.notices.map((n) => n.folder)).toEqual(expect.arrayContaining(GROUPWARE));
    expect(state.issues).toEqual([]);

    // The verification goes by what the copy checkpointed: nothing of the groupware folders is missing.
    const checkpoints = [...(await state.loadCheckpoints()).values()];
    const verdict = await verifyMailbox({ source: endpoint(kolabSource), target: endpoint(targetWith), policy, folders: checkpoints.map((c) => ({ sourcePath: c.sourcePath, targetPath: c.targetPath })) });
    expect(verdict.missing).toBe(0);
    expect(verdict.folders.map((f) => f.sourcePath).sort()).toEqual(MAIL_FOLDERS);
    expect(verdict.folders.reduce((n, f) => n + f.present, 0)).toBe(5);

    // A second pass copies nothing and still says what it left out.
    const second = await run();
    expect(second.messages).toEqual({ total: 0, copied: 0, skipped: 0, failed: 0 });
    expect(second.notices.filter((n) => n.text.includes('moved as groupware')).map((n) => n.folder).sort()).toEqual(['Calendar', 'Calendar/Team', 'Contacts', 'Tasks']);
    expect(second.notices.filter((n) => n.text.includes('is skipped')).map((n) => n.folder).sort()).toEqual(['Configuration', 'Notes']);
    expect([...(await folderCounts(targetWith)).keys()].filter((path) => GROUPWARE.includes(path))).toEqual([]);
  });

  it('copies every folder as mail without the option, as before', async () => {
    const summary = await copyMailbox({ source: endpoint(kolabSource), target: endpoint(targetWithout), policy, state: new MemoryStateStore() });
    expect(summary.messages).toEqual({ total: 14, copied: 14, skipped: 0, failed: 0 });
    expect(summary.notices.some((n) => /groupware/.test(n.text))).toBe(false);
    const onTarget = await folderCounts(targetWithout);
    for (const { path, messages } of KOLAB_FOLDERS) expect(onTarget.get(path), path).toBe(messages);
  });

  it('knows Zimbra folders by name, and copies one that holds mail', async () => {
    const summary = await copyMailbox({ source: endpoint(zimbraSource), target: endpoint(zimbraTarget), policy, state: new MemoryStateStore(), groupwareFolders: { kind: 'zimbra' } });
    expect(summary.messages).toEqual({ total: 3, copied: 3, skipped: 0, failed: 0 });
    const onTarget = await folderCounts(zimbraTarget);
    expect(onTarget.has('Calendar')).toBe(false);
    expect(onTarget.has('Emailed Contacts')).toBe(false);
    expect(onTarget.get('Contacts')).toBe(1);
    expect(onTarget.get('Receipts')).toBe(1);
    const texts = summary.notices.map((n) => n.text);
    expect(texts).toContain('"Calendar" is not copied as mail: it holds calendar events (a Zimbra folder of calendar events), moved as groupware.');
    expect(texts).toContain('"Emailed Contacts" is not copied as mail: it holds contacts (a Zimbra folder of contacts), moved as groupware.');
    expect(texts).toContain('"Contacts" is copied as mail: on Zimbra a folder of this name holds contacts, but this one holds messages.');
  });
});
