import { appendFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ImapFlow } from 'imapflow';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyCopy } from '@/scripts/bench/verify';
import { DEFAULT_ALLOWED_PORTS, type NetworkPolicy } from '@/server/accounts/network/host-policy';
import { parseHostRules } from '@/server/accounts/network/host-rules';
import { copyMailbox } from '@/server/engine/copy-mailbox';
import { MemoryStateStore } from '@/server/engine/state';
import { doveadm, dovecotConfigPath } from './helpers/corpus';
import { startDovecot, type DovecotServer } from './helpers/dovecot';
import { makeMessage, openImap } from './helpers/mailbox';

/**
 * A Gmail-style source: "[Gmail]/All Mail" (\All) shows every message, including those that
 * live in another folder too; "Starred" (\Flagged) and "Important" (\Important) are views.
 * The copy brings every message once: All Mail last, with only what no other folder holds
 * (archived mail), into the target's Archive.
 */
const password = 'all-mail-pw';
let dovecot: DovecotServer;
const clients: ImapFlow[] = [];
const [source, target] = ['gmail-like@example.test', 'new-home@example.test'];

async function open(user: string): Promise<ImapFlow> {
  const client = await openImap(dovecot.port, user, password);
  clients.push(client);
  return client;
}

function message(id: string, subject: string): string {
  return makeMessage({ subject, messageId: `<${id}@example.test>`, date: new Date('2024-03-01T10:00:00Z') });
}

describe("a source with Gmail's All Mail, Starred and Important", () => {
  beforeAll(async () => {
    dovecot = await startDovecot({ users: [{ username: source, password }, { username: target, password }], tls: 'none' });
    // What Gmail's IMAP announces, on ordinary folders of the test server: the attributes are
    // all the copy goes by.
    await appendFile(
      dovecotConfigPath(dovecot),
      ['namespace inbox {', '  mailbox "[Gmail]/All Mail" {\n    special_use = \\All\n  }', '  mailbox "[Gmail]/Starred" {\n    special_use = \\Flagged\n  }', '  mailbox "[Gmail]/Important" {\n    special_use = \\Important\n  }', '}', ''].join('\n'),
    );
    await doveadm(dovecot, ['reload']);
    await sleep(500);
    const client = await open(source);
    for (const folder of ['[Gmail]/All Mail', '[Gmail]/Starred', '[Gmail]/Important', 'Receipts']) await client.mailboxCreate(folder);
    // Two in INBOX, one in Receipts, two only in All Mail (archived); All Mail shows all five.
    const inbox = [message('in-1', 'Inbox one'), message('in-2', 'Inbox two')];
    const receipts = [message('rc-1', 'Receipt')];
    const archived = [message('ar-1', 'Archived one'), message('ar-2', 'Archived two')];
    for (const m of inbox) await client.append('INBOX', m, ['\\Seen']);
    for (const m of receipts) await client.append('Receipts', m);
    for (const m of [...inbox, ...receipts, ...archived]) await client.append('[Gmail]/All Mail', m, ['\\Seen']);
    await client.append('[Gmail]/Starred', inbox[0]!, ['\\Flagged']);
    await client.append('[Gmail]/Important', receipts[0]!);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.logout().catch(() => c.close())));
  });
  afterAll(async () => {
    await dovecot?.stop();
  });

  it('copies archived mail once into Archive, skips the views and says so', async () => {
    const listed = await (await open(source)).list();
    expect(listed.find((f) => f.path === '[Gmail]/All Mail')?.specialUse).toBe('\\All');

    const policy: NetworkPolicy = { allow: parseHostRules('127.0.0.0/8').rules, insecure: parseHostRules('127.0.0.1').rules, extraCaPem: null, allowedPorts: [...DEFAULT_ALLOWED_PORTS, dovecot.port] };
    const server = { host: '127.0.0.1', port: dovecot.port, security: 'starttls' as const };
    const state = new MemoryStateStore();
    const run = () => copyMailbox({ source: { server, auth: () => ({ user: source, pass: password }) }, target: { server, auth: () => ({ user: target, pass: password }) }, policy, state, syncFlags: true });

    const first = await run();
    // 2 + 1 + 2 archived copied; the 3 All Mail also holds elsewhere are counted as skipped.
    expect(first.messages).toEqual({ total: 8, copied: 5, skipped: 3, failed: 0 });
    expect(first.folderReports.find((f) => f.sourcePath === '[Gmail]/All Mail')).toMatchObject({ targetPath: 'Archive', total: 5, copied: 2, skipped: 3, failed: 0 });
    const texts = first.notices.map((n) => n.text);
    expect(texts).toContain('"[Gmail]/Starred" was not copied: it is a virtual folder of flagged messages (\\Flagged): copying it would duplicate them.');
    expect(texts.some((t) => t.startsWith('"[Gmail]/Important" was not copied'))).toBe(true);

    const account = (user: string) => ({ host: '127.0.0.1', port: dovecot.port, user, password });
    const report = await verifyCopy(account(source), account(target), {
      targetServer: 'dovecot',
      excludeSourceFolders: ['[Gmail]/All Mail', '[Gmail]/Starred', '[Gmail]/Important', '[Gmail]'],
    });
    expect(report.messages).toMatchObject({ missing: 0, duplicates: 0 });
    const archive = await open(target);
    await archive.mailboxOpen('Archive', { readOnly: true });
    const subjects: string[] = [];
    for await (const m of archive.fetch('1:*', { envelope: true })) subjects.push(m.envelope?.subject ?? '');
    expect(subjects.sort()).toEqual(['Archived one', 'Archived two']);

    // A later pass: something archived arrives, something new in INBOX shows in All Mail too.
    const client = await open(source);
    await client.append('INBOX', message('in-3', 'Inbox three'));
    await client.append('[Gmail]/All Mail', message('in-3', 'Inbox three'));
    await client.append('[Gmail]/All Mail', message('ar-3', 'Archived three'));
    const second = await run();
    expect(second.messages).toEqual({ total: 3, copied: 2, skipped: 1, failed: 0 });
    const third = await run();
    expect(third.messages.copied).toBe(0);
  });
});
