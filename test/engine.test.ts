import type { ImapFlow } from 'imapflow';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ALLOWED_PORTS, type NetworkPolicy } from '@/server/accounts/network/host-policy';
import { parseHostRules } from '@/server/accounts/network/host-rules';
import { copyMailbox, type CopyMailboxOptions } from '@/server/engine/copy-mailbox';
import { MemoryStateStore, type FolderCheckpoint } from '@/server/engine/state';
import { startDovecot, type DovecotServer } from './helpers/dovecot';
import { fillMailbox, makeMessage, openImap, snapshotMailbox, type TestMessage } from './helpers/mailbox';

const password = 'engine-Test-pw';
let dovecot: DovecotServer;
let userCount = 0;

function policy(ports: number[]): NetworkPolicy {
  return { allow: parseHostRules('127.0.0.0/8').rules, insecure: parseHostRules('127.0.0.1').rules, extraCaPem: null, allowedPorts: [...DEFAULT_ALLOWED_PORTS, ...ports] };
}

async function newUser(): Promise<string> {
  const username = `user${++userCount}-${Date.now()}@example.test`;
  await dovecot.addUser({ username, password });
  return username;
}

function options(source: string, target: string, state: MemoryStateStore, port = dovecot.port): CopyMailboxOptions {
  const server = { host: '127.0.0.1', port, security: 'starttls' as const };
  return {
    source: { server, auth: () => ({ user: source, pass: password }) },
    target: { server: { ...server, port: dovecot.port }, auth: () => ({ user: target, pass: password }) },
    policy: policy([port, dovecot.port]),
    state,
  };
}

/** A corpus with the awkward cases: duplicates, no Message-ID, keywords, old dates, nesting, non-ASCII names. */
function corpus(): TestMessage[] {
  const messages: TestMessage[] = [];
  const duplicate = makeMessage({ subject: 'twice' });
  const noId = makeMessage({ messageId: null, subject: 'no id' });
  for (let i = 0; i < 30; i++) messages.push({ folder: 'INBOX', raw: makeMessage({ bodyBytes: 200 + i * 37 }), flags: i % 3 === 0 ? ['\\Seen'] : [], date: new Date(Date.UTC(2009, i % 12, 1 + i)) });
  messages.push({ folder: 'INBOX', raw: duplicate, flags: ['\\Seen'] }, { folder: 'INBOX', raw: duplicate, flags: ['\\Seen'] });
  messages.push({ folder: 'INBOX', raw: noId, flags: ['\\Flagged', '$Label1'] });
  messages.push({ folder: 'Drafts', raw: makeMessage({ messageId: null }), flags: ['\\Draft'] });
  messages.push({ folder: 'Archiv/2023/Q4', raw: makeMessage({ bodyBytes: 300_000 }), flags: ['\\Answered', '\\Seen'], date: new Date(Date.UTC(2005, 5, 6)) });
  messages.push({ folder: 'Entwürfe', raw: makeMessage({ subject: 'Grüße' }) });
  messages.push({ folder: 'Old Mail', raw: duplicate });
  return messages;
}

describe('mail copy engine against a real Dovecot', () => {
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

  it('copies every message exactly once, with bytes, flags, keywords and dates, and a second run copies nothing', async () => {
    const [source, target] = [await newUser(), await newUser()];
    await fillMailbox(await open(source), corpus());
    const state = new MemoryStateStore();

    const first = await copyMailbox(options(source, target, state));
    expect(first).toMatchObject({ isComplete: true, messages: { copied: 37, skipped: 0, failed: 0 } });
    const expected = await snapshotMailbox(await open(source));
    const actual = await snapshotMailbox(await open(target));
    for (const [folder, messages] of expected) expect(actual.get(folder), folder).toEqual(messages);
    // Each checkpoint's floor is where the target's next message will go: a later run reads
    // nothing of what this one stored.
    const targetClient = await open(target);
    for (const checkpoint of (await state.loadCheckpoints()).values()) {
      const status = await targetClient.status(checkpoint.targetPath, { uidNext: true });
      expect(checkpoint.targetUidFloor, checkpoint.targetPath).toBe(status && status.uidNext);
    }

    // Nothing new: the pass is settled from one LIST-STATUS on each side (the target's folders
    // must still be the ones the checkpoints describe), one login to the target.
    let targetLogins = 0;
    const idle = options(source, target, state);
    const second = await copyMailbox({ ...idle, syncFlags: true, target: { ...idle.target, auth: () => (targetLogins++, { user: target, pass: password }) } });
    expect(second.messages).toEqual({ total: 0, copied: 0, skipped: 0, failed: 0 });
    expect(second.folders).toBe(expected.size);
    expect(targetLogins).toBe(1);
    expect(await snapshotMailbox(await open(target))).toEqual(actual);
  });

  it('without a checkpoint, recognises what the target already holds and counts copies', async () => {
    const [source, target] = [await newUser(), await newUser()];
    await fillMailbox(await open(source), corpus());
    await copyMailbox(options(source, target, new MemoryStateStore()));
    // A new run with no state at all (another tool, a lost state file): nothing is duplicated.
    const again = await copyMailbox(options(source, target, new MemoryStateStore()));
    expect(again.messages).toEqual({ total: 37, copied: 0, skipped: 37, failed: 0 });
    expect(await snapshotMailbox(await open(target))).toEqual(await snapshotMailbox(await open(source)));
  });

  it('copies new messages and carries flag changes on the resync', async () => {
    const [source, target] = [await newUser(), await newUser()];
    const sourceClient = await open(source);
    await fillMailbox(sourceClient, corpus());
    const state = new MemoryStateStore();
    await copyMailbox(options(source, target, state));

    await fillMailbox(sourceClient, [{ folder: 'INBOX', raw: makeMessage({ subject: 'arrived later' }) }, { folder: 'Old Mail', raw: makeMessage() }]);
    const lock = await sourceClient.getMailboxLock('INBOX');
    try {
      await sourceClient.messageFlagsAdd('1:3', ['\\Flagged', '$Label1']);
      await sourceClient.messageFlagsRemove('1', ['\\Seen']);
    } finally {
      lock.release();
    }
    const resync = await copyMailbox({ ...options(source, target, state), syncFlags: true });
    expect(resync.messages).toEqual({ total: 2, copied: 2, skipped: 0, failed: 0 });
    expect(await snapshotMailbox(await open(target))).toEqual(await snapshotMailbox(await open(source)));
  });

  it('keeps every checkpoint exact when the target refuses a message inside a group of appends', async () => {
    // A target that refuses messages over 20 KB: the refusal comes from the server, in the
    // middle of a MULTIAPPEND, while the next batch is already being stored.
    const limited = await startDovecot({ users: [], tls: 'none', maxMessageBytes: 20_000 });
    try {
      const source = await newUser();
      const target = `limited-${Date.now()}@example.test`;
      await limited.addUser({ username: target, password });
      const refused = new Set([4, 11, 12, 25]);
      await fillMailbox(
        await open(source),
        Array.from({ length: 40 }, (_, i) => ({ folder: 'INBOX', raw: makeMessage({ subject: `n${i + 1}`, bodyBytes: refused.has(i + 1) ? 40_000 : 300 + i * 50 }) })),
      );
      const saved: FolderCheckpoint[] = [];
      const state = new (class extends MemoryStateStore {
        override async saveCheckpoint(checkpoint: FolderCheckpoint) {
          saved.push({ ...checkpoint });
          await super.saveCheckpoint(checkpoint);
        }
      })();
      const server = { host: '127.0.0.1', security: 'starttls' as const };
      const result = await copyMailbox({
        source: { server: { ...server, port: dovecot.port }, auth: () => ({ user: source, pass: password }) },
        target: { server: { ...server, port: limited.port }, auth: () => ({ user: target, pass: password }) },
        policy: policy([dovecot.port, limited.port]),
        state,
        batchMessages: 3,
      });
      expect(result.messages).toEqual({ total: 40, copied: 36, skipped: 0, failed: 4 });
      expect(state.issues.map((issue) => issue.uid).sort((a, b) => a! - b!)).toEqual([...refused]);

      // Everything below a checkpoint's floor on the target comes from source messages the
      // checkpoint covers, and everything it covers is below the floor: a run resumed from
      // any of them matches exactly the rest by identity.
      const client = await openImap(limited.port, target, password);
      clients.push(client);
      await client.mailboxOpen('INBOX');
      const stored: { uid: number; sourceUid: number }[] = [];
      for await (const message of client.fetch('1:*', { uid: true, envelope: true })) stored.push({ uid: message.uid, sourceUid: Number(message.envelope!.subject!.slice(1)) });
      expect(stored.map((m) => m.sourceUid).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1).filter((uid) => !refused.has(uid)));
      const inbox = saved.filter((c) => c.sourcePath === 'INBOX');
      expect(inbox.length).toBeGreaterThan(5);
      for (const checkpoint of inbox) {
        const beyond = stored.filter((m) => m.uid < checkpoint.targetUidFloor && m.sourceUid > checkpoint.lastUid);
        expect(beyond, `checkpoint at source UID ${checkpoint.lastUid}, floor ${checkpoint.targetUidFloor}`).toEqual([]);
        const above = stored.filter((m) => m.uid >= checkpoint.targetUidFloor && m.sourceUid <= checkpoint.lastUid);
        expect(above, `checkpoint at source UID ${checkpoint.lastUid}, floor ${checkpoint.targetUidFloor}`).toEqual([]);
      }
    } finally {
      await limited.stop();
    }
  });

  it('reports a message over the size limit with folder, UID and size, and copies the rest', async () => {
    const [source, target] = [await newUser(), await newUser()];
    await fillMailbox(await open(source), [
      { folder: 'INBOX', raw: makeMessage({ bodyBytes: 400_000 }) },
      { folder: 'INBOX', raw: makeMessage({ bodyBytes: 500 }) },
    ]);
    const state = new MemoryStateStore();
    const result = await copyMailbox({ ...options(source, target, state), maxMessageBytes: 100_000 });
    expect(result.messages).toEqual({ total: 2, copied: 1, skipped: 0, failed: 1 });
    expect(state.issues).toHaveLength(1);
    expect(state.issues[0]).toMatchObject({ folder: 'INBOX', uid: 1, reason: 'The message is larger than the size limit of 0.1 MB.' });
    expect(state.issues[0]!.size).toBeGreaterThan(400_000);
  });
});
