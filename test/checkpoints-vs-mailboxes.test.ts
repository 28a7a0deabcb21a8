import type { ImapFlow } from 'imapflow';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyCopy } from '@/scripts/bench/verify';
import { DEFAULT_ALLOWED_PORTS, type NetworkPolicy } from '@/server/accounts/network/host-policy';
import { parseHostRules } from '@/server/accounts/network/host-rules';
import { copyMailbox } from '@/server/engine/copy-mailbox';
import { MemoryStateStore } from '@/server/engine/state';
import { fillCorpus, recreateDovecotAccount } from './helpers/corpus';
import { startDovecot, type DovecotServer } from './helpers/dovecot';
import { openImap } from './helpers/mailbox';

/**
 * A re-run or resync never trusts its checkpoints over the mailboxes: whatever happened to
 * either side between two passes, the next pass leaves the target complete and says what it
 * found. Every case is verified message by message with the bench verifier.
 */
const password = 'checkpoint-pw';
let dovecot: DovecotServer;
let users = 0;
const clients: ImapFlow[] = [];

async function newUser(): Promise<string> {
  const username = `c${++users}-${Date.now()}@example.test`;
  await dovecot.addUser({ username, password });
  return username;
}

async function open(user: string): Promise<ImapFlow> {
  const client = await openImap(dovecot.port, user, password);
  clients.push(client);
  return client;
}

async function closeClients() {
  await Promise.all(clients.splice(0).map((c) => c.logout().catch(() => c.close())));
}

function copier(source: string, target: string, state = new MemoryStateStore()) {
  const policy: NetworkPolicy = { allow: parseHostRules('127.0.0.0/8').rules, insecure: parseHostRules('127.0.0.1').rules, extraCaPem: null, allowedPorts: [...DEFAULT_ALLOWED_PORTS, dovecot.port] };
  const server = { host: '127.0.0.1', port: dovecot.port, security: 'starttls' as const };
  return {
    state,
    run: (syncFlags = true) =>
      copyMailbox({ source: { server, auth: () => ({ user: source, pass: password }) }, target: { server, auth: () => ({ user: target, pass: password }) }, policy, state, syncFlags }),
  };
}

async function verify(source: string, target: string) {
  const account = (user: string) => ({ host: '127.0.0.1', port: dovecot.port, user, password });
  return verifyCopy(account(source), account(target), { targetServer: 'dovecot' });
}

/** A source and a target after a first copy of the bench corpus, verified exact. */
async function copied(count = 150) {
  const [source, target] = [await newUser(), await newUser()];
  const manifest = await fillCorpus(dovecot, source, { count, seed: users });
  const copy = copier(source, target);
  const first = await copy.run(false);
  expect(first.messages).toMatchObject({ failed: 0, copied: manifest.count });
  expect((await verify(source, target)).isExact).toBe(true);
  return { source, target, copy, manifest };
}

/** The corpus folders with messages and without subfolders, the largest first. */
function counts(manifest: Awaited<ReturnType<typeof fillCorpus>>) {
  const names = Object.keys(manifest.folders);
  return Object.entries(manifest.folders)
    .filter(([name, entry]) => entry.count > 0 && !names.some((other) => other.startsWith(`${name}/`)))
    .sort((a, b) => b[1].count - a[1].count);
}

describe('checkpoints checked against both mailboxes at the start of every pass', () => {
  beforeAll(async () => {
    dovecot = await startDovecot({ users: [], tls: 'none' });
  });
  afterEach(closeClients);
  afterAll(async () => {
    await dovecot?.stop();
  });

  it('fills a target folder again that was deleted after the copy, and says so', async () => {
    const { source, target, copy, manifest } = await copied();
    // Sent, as a customer tidying the new mailbox might delete it.
    const [name, entry] = counts(manifest).find(([folder]) => folder === 'Sent')!;
    expect(entry.count).toBeGreaterThan(0);
    const client = await open(target);
    await client.mailboxDelete(name);
    await closeClients();

    const again = await copy.run();
    expect(again.messages).toEqual({ total: entry.count, copied: entry.count, skipped: 0, failed: 0 });
    // The test Dovecot creates its special folders again by itself (autocreate), as many servers do.
    expect(again.notices.map((n) => n.text)).toContain(`"${name}" on the target was re-created: matched again, ${entry.count} copied.`);
    expect((await verify(source, target)).isExact).toBe(true);
    // And then there is nothing left to do.
    expect((await copy.run()).messages.total).toBe(0);
  });

  it('creates a deleted plain folder again and fills it', async () => {
    const { source, target, copy, manifest } = await copied();
    const [name, entry] = counts(manifest).find(([folder]) => folder === 'Old Mail')!;
    const client = await open(target);
    await client.mailboxDelete(name);
    await closeClients();
    const again = await copy.run();
    expect(again.messages).toEqual({ total: entry.count, copied: entry.count, skipped: 0, failed: 0 });
    expect(again.notices.map((n) => n.text)).toContain(`"${name}" on the target was deleted and is created again: matched again, ${entry.count} copied.`);
    expect((await verify(source, target)).isExact).toBe(true);
  });

  it('fills a target that was emptied entirely (the account re-created) again', async () => {
    const { source, target, copy, manifest } = await copied();
    await recreateDovecotAccount(dovecot, target);

    const again = await copy.run();
    expect(again.messages).toMatchObject({ copied: manifest.count, failed: 0 });
    expect((await verify(source, target)).isExact).toBe(true);
  });

  it('copies nothing twice from a source folder deleted and re-created with the same messages', async () => {
    const { source, target, copy, manifest } = await copied();
    const [name, entry] = counts(manifest).find(([folder]) => folder !== 'INBOX')!;
    const client = await open(source);
    await client.mailboxOpen(name, { readOnly: true });
    const messages: { source: Buffer; flags: string[]; date: Date }[] = [];
    for await (const m of client.fetch('1:*', { source: true, flags: true, internalDate: true })) {
      messages.push({ source: m.source!, flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent'), date: new Date(m.internalDate!) });
    }
    await client.mailboxClose();
    await client.mailboxDelete(name);
    await client.mailboxCreate(name);
    await client.mailboxSubscribe(name);
    for (const m of messages) await client.append(name, m.source, m.flags, m.date);
    await closeClients();

    const again = await copy.run();
    expect(again.messages).toEqual({ total: entry.count, copied: 0, skipped: entry.count, failed: 0 });
    expect(again.notices.map((n) => n.text).join('\n')).toContain(`"${name}" on the source was re-created (its UIDs changed)`);
    const report = await verify(source, target);
    expect(report.messages.duplicates).toBe(0);
    expect(report.isExact).toBe(true);
  });

  it('does not bring back messages deleted on the target, but counts them', async () => {
    const { source, target, copy } = await copied();
    const client = await open(target);
    await client.mailboxOpen('INBOX');
    // A new message arrives in the target meanwhile (the MX already points there): it is not a loss.
    await client.append('INBOX', 'From: a@example.test\r\nSubject: arrived at the target\r\nMessage-ID: <new@example.test>\r\n\r\nhello\r\n');
    await client.messageDelete('1:3');
    await closeClients();

    const again = await copy.run();
    expect(again.messages.copied).toBe(0);
    expect(again.gone).toBe(3);
    expect(again.folderReports.find((f) => f.sourcePath === 'INBOX')?.gone).toBe(3);
    expect(again.notices.map((n) => n.text)).toContain('3 messages copied earlier are no longer in "INBOX" on the target (deleted there); they are not copied again.');
    const report = await verify(source, target);
    expect(report.messages.missing).toBe(3);
    expect(report.messages.extra).toBe(1);
    // Counted once: the next pass finds nothing new gone.
    const third = await copy.run();
    expect(third.gone).toBe(3);
    expect(third.notices.filter((n) => /no longer/.test(n.text))).toEqual([]);
  });
});
