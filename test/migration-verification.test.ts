/**
 * The verification at the end of each pass, against real Dovecot servers and PostgreSQL: its
 * verdict per folder is what the target really holds (checked here with a session of the
 * test's own), a message deleted on the target afterwards is found missing with its UID, and a
 * gap keeps the migration from a plain "finished" in its state line and list row.
 */
import type { ImapFlow } from 'imapflow';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseServer } from '@/server/accounts/server-address';
import type { Db } from '@/server/db';
import { connectBodyFetcher } from '@/server/engine/body-fetcher';
import type { MailboxEndpoint } from '@/server/engine/copy-mailbox';
import { readIdentities } from '@/server/engine/copy-folder';
import { identitiesOf } from '@/server/engine/verify-mailbox';
import { runMigrationPhase } from '@/server/migrations/run-migration';
import { verifyMigration } from '@/server/migrations/verification';
import { fillCorpus } from './helpers/corpus';
import type { DovecotServer } from './helpers/dovecot';
import { isolatedDb, seedOrganization } from './helpers/database';
import { phaseHarness } from './helpers/phase-harness';
import { fillMailbox, makeMessage } from './helpers/mailbox';
import { callerFor } from './helpers/trpc';

// A database of its own: no worker of another test file takes this file's migration jobs.
const database = isolatedDb();
let db: Db;
beforeAll(() => {
  db = database.db();
});
const password = 'Verify;"pass 9';
const harness = phaseHarness(() => db, password);
const { policy, deps, open, newUser, migrationOf } = harness;
let dovecot: DovecotServer;
let limited: DovecotServer;
beforeAll(() => {
  ({ dovecot, limited } = harness);
});

/** The same account as the engine reaches it: for verifying again after the credentials were wiped. */
const endpoint = (user: string, server: DovecotServer): MailboxEndpoint => ({ server: parseServer(`imap://127.0.0.1:${server.port}`).mail!, auth: () => ({ user, pass: password }) });

/** Message-IDs of a folder by UID, read with a session of the test's own. */
async function messageIds(client: ImapFlow, folder: string): Promise<Map<number, string>> {
  const opened = await client.mailboxOpen(folder, { readOnly: true });
  const ids = new Map<number, string>();
  if (opened.exists === 0) return ids;
  for await (const m of client.fetch('1:*', { uid: true, envelope: true }, { uid: true })) ids.set(m.uid, m.envelope?.messageId ?? '');
  return ids;
}

/** The source UIDs of `folder` whose message the target folder does not hold, found without the engine. */
async function missingOnTarget(source: ImapFlow, target: ImapFlow, folder: string): Promise<number[]> {
  const onSource = await messageIds(source, folder);
  const onTarget = new Set((await messageIds(target, folder)).values());
  return [...onSource].filter(([, id]) => !onTarget.has(id)).map(([uid]) => uid).sort((a, b) => a - b);
}

const sources = (n: number, folder: string, bodyBytes: (i: number) => number = () => 600) =>
  Array.from({ length: n }, (_, i) => ({ folder, raw: makeMessage({ subject: `${folder} ${i + 1}`, bodyBytes: bodyBytes(i) }) }));

describe('verification of a migration', () => {
  it("reads each message's identity as the copy does (Message-ID + Date, else the header block), from the header fields alone", async () => {
    const user = await newUser(dovecot, 'v-ids');
    // Nested and non-ASCII folders, duplicates, messages without Message-ID, folded headers.
    await fillCorpus(dovecot, user, { count: 300, seed: 7 });
    const client = await open(dovecot, user);
    const reader = (await connectBodyFetcher({ server: endpoint(user, dovecot).server, auth: { user, pass: password }, policy: policy() }))!;
    try {
      let compared = 0;
      for (const folder of await client.list()) {
        if (folder.flags.has('\\Noselect')) continue;
        const opened = await client.mailboxOpen(folder.path, { readOnly: true });
        const { exists } = await reader.examine(folder.path);
        const copys = opened.exists === 0 ? new Map<number, string>() : new Map([...(await readIdentities(client, '1:*', 1))].map(([uid, e]) => [uid, e.identity]));
        expect(await identitiesOf(reader, exists), folder.path).toEqual(copys);
        compared += copys.size;
      }
      expect(compared).toBe(300);
    } finally {
      await reader.close();
    }
  }, 60_000);

  it('verifies a clean migration complete, and finds a message deleted on the target afterwards by its UID', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const [source, target] = [await newUser(dovecot, 'v-src'), await newUser(dovecot, 'v-dst')];
    // A message without Message-ID is matched by its header block, as the copy matches it.
    await fillMailbox(await open(dovecot, source), [...sources(6, 'INBOX'), ...sources(3, 'Sent'), { folder: 'Sent', raw: makeMessage({ subject: 'no id', messageId: null }) }]);
    const id = await migrationOf(organization.id, { user: source, server: dovecot }, { user: target, server: dovecot }, null);
    expect(await runMigrationPhase(db, id, 'run', await deps())).toBe('finished');

    const caller = await callerFor(db, user.id);
    const detail = await caller.migrations.detail({ id });
    expect(detail.statusLine).toBeNull();
    expect(detail.verificationGap).toBeNull();
    expect(detail.verification?.pass).toBe('run');
    // Dovecot's own empty folders (Drafts, Junk, Trash) are verified too: 0 of 0.
    expect(detail.verification?.folders.filter((f) => f.sourceMessages === 0).every((f) => f.present === 0 && f.missing === 0 && f.unverified === null)).toBe(true);
    expect(detail.verification?.folders.filter((f) => f.sourceMessages > 0).map((f) => [f.sourcePath, f.present, f.sourceMessages, f.missing, f.unverified])).toEqual([
      ['INBOX', 6, 6, 0, null],
      ['Sent', 4, 4, 0, null],
    ]);
    expect(detail.verification?.totals).toEqual({ sourceMessages: 10, present: 10, missing: 0, unverifiedFolders: 0 });

    // Verified again with nothing changed: the same verdict, from the folders' states alone.
    const stored = await db.migrationVerification.findMany({ where: { migrationId: id }, orderBy: { sourcePath: 'asc' } });
    expect(stored.every((r) => r.sourceState !== null && r.targetState !== null)).toBe(true);
    const unchanged = await verifyMigration(db, id, 'run', { source: endpoint(source, dovecot), target: endpoint(target, dovecot), policy: policy() });
    expect(unchanged.folders.filter((f) => f.sourceMessages > 0).map((f) => [f.sourcePath, f.present, f.missing])).toEqual([
      ['INBOX', 6, 0],
      ['Sent', 4, 0],
    ]);

    // Someone deletes the source's UID 4 from the target after the migration ended.
    const [sourceIds, targetClient] = [await messageIds(await open(dovecot, source), 'INBOX'), await open(dovecot, target)];
    const targetIds = await messageIds(targetClient, 'INBOX');
    const victim = [...targetIds].find(([, messageId]) => messageId === sourceIds.get(4))![0];
    await targetClient.mailboxOpen('INBOX');
    await targetClient.messageDelete(String(victim), { uid: true });

    const verdict = await verifyMigration(db, id, 'run', { source: endpoint(source, dovecot), target: endpoint(target, dovecot), policy: policy() });
    expect(verdict.missing).toBe(1);
    expect(await missingOnTarget(await open(dovecot, source), await open(dovecot, target), 'INBOX')).toEqual([4]);
    const after = await caller.migrations.detail({ id });
    expect(after.verification?.folders.find((f) => f.sourcePath === 'INBOX')).toMatchObject({ sourceMessages: 6, present: 5, missing: 1, missingUids: [4], missingReported: 0 });
    expect(after.verification?.folders.find((f) => f.sourcePath === 'Sent')).toMatchObject({ present: 4, missing: 0 });
    // No longer a plain "finished", in the detail and in the list row.
    expect(after.state).toBe('incomplete');
    expect(after.verificationGap).toEqual({ missing: 1, unverifiedFolders: 0 });
    expect(after.statusLine).toBe('Finished, but verification found 1 message missing on the target');
    const row = (await caller.migrations.list({ list: 'finished' })).find((m) => m.id === id);
    expect([row?.state, row?.statusLine]).toEqual(['incomplete', 'Finished, but verification found 1 message missing on the target']);
  }, 60_000);

  it('counts a message the target refused and one too large as missing with their reasons, matching what the target holds', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const source = await newUser(dovecot, 'vl-src');
    const target = await newUser(limited, 'vl-dst');
    // UID 3 (40 KB) is refused by the target (its limit is 20 KB); UID 5 (100 KB) is over the
    // migration's own limit of 60 KB and never sent.
    await fillMailbox(await open(dovecot, source), [...sources(5, 'INBOX', (i) => (i === 2 ? 40_000 : i === 4 ? 100_000 : 600)), ...sources(2, 'Archive')]);
    const id = await migrationOf(organization.id, { user: source, server: dovecot }, { user: target, server: limited }, null);
    expect(await runMigrationPhase(db, id, 'run', await deps({ maxMessageBytes: 60_000 }))).toBe('incomplete');

    // What the target holds, read by the test itself.
    expect(await missingOnTarget(await open(dovecot, source), await open(limited, target), 'INBOX')).toEqual([3, 5]);
    expect(await missingOnTarget(await open(dovecot, source), await open(limited, target), 'Archive')).toEqual([]);

    const detail = await (await callerFor(db, user.id)).migrations.detail({ id });
    expect(detail.verification?.folders.filter((f) => f.sourceMessages > 0).map((f) => [f.sourcePath, f.sourceMessages, f.present, f.missing, f.missingUids, f.missingReported])).toEqual([
      ['INBOX', 5, 3, 2, [3, 5], 2],
      ['Archive', 2, 2, 0, [], 0],
    ]);
    // Both reasons are known: they are the copy's own items, not a gap beyond them.
    expect(detail.verificationGap).toBeNull();
    expect(detail.notCopied.map((i) => [i.uid, i.reason])).toEqual([
      [3, expect.stringMatching(/refused the message/)],
      [5, expect.stringMatching(/larger than the size limit/)],
    ]);
    expect(detail.statusLine).toBe('Finished with 2 messages not copied');

    // Deleted on the target after the end: found by verifying again, beside the known two.
    const client = await open(limited, target);
    await client.mailboxOpen('Archive');
    await client.messageDelete('1', { uid: true });
    await verifyMigration(db, id, 'run', { source: endpoint(source, dovecot), target: endpoint(target, limited), policy: policy() });
    const again = await (await callerFor(db, user.id)).migrations.detail({ id });
    expect(again.verification?.folders.find((f) => f.sourcePath === 'Archive')).toMatchObject({ present: 1, missing: 1, missingUids: [1], missingReported: 0 });
    expect(again.statusLine).toBe('Finished with 2 messages not copied; verification found 1 message missing on the target');
  }, 60_000);

  it('verifies at the end of the resync too: a message deleted on the target between the passes is missing, and the migration ends incomplete', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const [source, target] = [await newUser(dovecot, 'vr-src'), await newUser(dovecot, 'vr-dst')];
    await fillMailbox(await open(dovecot, source), sources(4, 'INBOX'));
    const id = await migrationOf(organization.id, { user: source, server: dovecot }, { user: target, server: dovecot }, new Date(Date.now() + 3_600_000));
    expect(await runMigrationPhase(db, id, 'run', await deps())).toBe('waiting_resync');
    const caller = await callerFor(db, user.id);
    expect((await caller.migrations.detail({ id })).verification?.folders[0]).toMatchObject({ present: 4, missing: 0 });

    const client = await open(dovecot, target);
    await client.mailboxOpen('INBOX');
    await client.messageDelete('2', { uid: true });
    await db.migration.update({ where: { id }, data: { resyncAt: new Date(Date.now() - 10) } });
    expect(await runMigrationPhase(db, id, 'resync', await deps())).toBe('incomplete');

    const gone = await missingOnTarget(await open(dovecot, source), await open(dovecot, target), 'INBOX');
    expect(gone).toHaveLength(1);
    const detail = await caller.migrations.detail({ id });
    expect(detail.verification).toMatchObject({ pass: 'resync', totals: { sourceMessages: 4, present: 3, missing: 1, unverifiedFolders: 0 } });
    expect(detail.verification?.folders[0]?.missingUids).toEqual(gone);
    expect(detail.statusLine).toBe('Finished, but verification found 1 message missing on the target');
  }, 60_000);

  it('names a folder it could not verify, with the reason, and does not call the migration finished', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const [source, target] = [await newUser(dovecot, 'vu-src'), await newUser(dovecot, 'vu-dst')];
    await fillMailbox(await open(dovecot, source), [...sources(2, 'INBOX'), ...sources(2, 'Projects')]);
    const id = await migrationOf(organization.id, { user: source, server: dovecot }, { user: target, server: dovecot }, null);
    expect(await runMigrationPhase(db, id, 'run', await deps())).toBe('finished');

    // The source folder is gone when the verification runs again: nothing says what it held.
    await (await open(dovecot, source)).mailboxDelete('Projects');
    const verdict = await verifyMigration(db, id, 'run', { source: endpoint(source, dovecot), target: endpoint(target, dovecot), policy: policy() });
    expect(verdict.unverified).toBe(1);
    const detail = await (await callerFor(db, user.id)).migrations.detail({ id });
    expect(detail.verification?.folders.find((f) => f.sourcePath === 'Projects')).toMatchObject({ unverified: expect.stringMatching(/^The source folder could not be read/), present: 0, missing: 0 });
    expect(detail.verification?.folders.find((f) => f.sourcePath === 'INBOX')).toMatchObject({ present: 2, missing: 0, unverified: null });
    expect(detail.state).toBe('incomplete');
    expect(detail.statusLine).toBe('Finished, but 1 folder could not be verified');
  }, 60_000);
});
