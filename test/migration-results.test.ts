/**
 * What a migration's result says, against real Dovecot servers run by the portal's own phase
 * runner: a loss ends it `incomplete` (never `finished`) with every item listed; a resync after
 * the target (or the source) was changed leaves the target complete, nothing doubled; renamed
 * folders, notices and messages gone from the target reach the migration's detail.
 */
import type { ImapFlow } from 'imapflow';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyRing } from '@/server/crypto/runtime';
import type { Db } from '@/server/db';
import { emptyCheckpoint } from '@/server/engine/state';
import { createMigration } from '@/server/migrations/create-migration';
import type { MigrationDetail } from '@/server/migrations/migration-detail';
import { runMigrationPhase } from '@/server/migrations/run-migration';
import { DbStateStore } from '@/server/migrations/state-store';
import { verifyCopy, type VerifyReport } from '../scripts/bench/verify';
import { recreateDovecotAccount } from './helpers/corpus';
import type { DovecotServer } from './helpers/dovecot';
import { startImapServer, type ImapTestServer } from './helpers/imap-server';
import { isolatedDb, seedOrganization } from './helpers/database';
import { phaseHarness } from './helpers/phase-harness';
import { fillMailbox, makeMessage, type TestMessage } from './helpers/mailbox';
import { callerFor } from './helpers/trpc';

// A database of its own: no worker of another test file takes this file's migration jobs.
const database = isolatedDb();
let db: Db;
beforeAll(() => {
  db = database.db();
});
const password = 'Results;"pass 7';
const harness = phaseHarness(() => db, password);
const { policy, deps, account, open, newUser, migrationOf } = harness;
let dovecot: DovecotServer;
let limited: DovecotServer;
beforeAll(() => {
  ({ dovecot, limited } = harness);
});

/** Lets the waiting resync run now. */
async function resyncNow(id: string) {
  await db.migration.update({ where: { id }, data: { resyncAt: new Date(Date.now() - 10) } });
  return runMigrationPhase(db, id, 'resync', await deps());
}

/** Copied + skipped + failed = total, for every folder and for the migration. */
function expectCountsAddUp(detail: MigrationDetail) {
  for (const folder of detail.folders) {
    expect(folder.copied + folder.skipped + folder.failed, folder.sourcePath).toBe(folder.total);
  }
  const sum = (key: 'copied' | 'skipped' | 'failed' | 'total') => detail.folders.reduce((n, f) => n + f[key], 0);
  expect(detail.totals).toMatchObject({ copied: sum('copied'), skipped: sum('skipped'), failed: sum('failed'), total: sum('total') });
  expect(detail.totals.copied + detail.totals.skipped + detail.totals.failed).toBe(detail.totals.total);
  // What the list and the header show is what the folders add up to.
  expect(detail.messages).toEqual({ copied: detail.totals.copied, total: detail.totals.total });
}

/** Every source message is on the target exactly once, in its folder; nothing else is there. */
function expectComplete(report: VerifyReport) {
  expect(report.folders.missing, 'folders missing on the target').toEqual([]);
  expect(report.missingList, 'source messages missing on the target').toEqual([]);
  expect(report.messages.duplicates, 'messages on the target twice').toBe(0);
  expect(report.messages.extra, 'target messages the source does not have').toBe(0);
  expect(report.messages.matched).toBe(report.source.messages);
  expect(report.target.messages).toBe(report.source.messages);
}

const verify = (source: string, target: string) =>
  verifyCopy({ host: '127.0.0.1', port: dovecot.port, user: source, password }, { host: '127.0.0.1', port: dovecot.port, user: target, password });

/** 4 folders with 26 messages, some read, some flagged, with dates spread over two years. */
function mailboxContents(): TestMessage[] {
  const folders = ['INBOX', 'Archive', 'Projects/2026', 'Sent'];
  return Array.from({ length: 26 }, (_, i) => ({
    folder: folders[i % folders.length]!,
    raw: makeMessage({ subject: `Message ${i + 1}`, bodyBytes: 400 + i * 37, date: new Date(Date.UTC(2025, i % 12, 1 + i)) }),
    flags: i % 3 === 0 ? ['\\Seen'] : i % 5 === 0 ? ['\\Flagged'] : [],
    date: new Date(Date.UTC(2025, i % 12, 1 + i)),
  }));
}

async function resyncScenario(change: (context: { source: ImapFlow; target: ImapFlow; targetUser: string; contents: TestMessage[] }) => Promise<void>) {
  const { organization, user } = await seedOrganization(db, 'customer');
  const [source, target] = [await newUser(dovecot, 'rs-src'), await newUser(dovecot, 'rs-dst')];
  const contents = mailboxContents();
  await fillMailbox(await open(dovecot, source), contents);
  const id = await migrationOf(organization.id, { user: source, server: dovecot }, { user: target, server: dovecot }, new Date(Date.now() + 3_600_000));
  expect(await runMigrationPhase(db, id, 'run', await deps())).toBe('waiting_resync');
  expectComplete(await verify(source, target));

  await change({ source: await open(dovecot, source), target: await open(dovecot, target), targetUser: target, contents });
  // And something new on the source, which the resync brings too.
  await fillMailbox(await open(dovecot, source), [{ folder: 'INBOX', raw: makeMessage({ subject: 'After the first pass' }) }]);

  const outcome = await resyncNow(id);
  const report = await verify(source, target);
  expectComplete(report);
  expect(outcome).toBe('finished');
  const detail = await (await callerFor(db, user.id)).migrations.detail({ id });
  expect(detail.state).toBe('finished');
  expect(detail.statusLine).toBeNull();
  expect(detail.notCopied).toEqual([]);
  expectCountsAddUp(detail);
  return { id, detail, report };
}

describe('migration results', () => {
  it('ends incomplete, not finished, when the target refuses a message, also after a clean resync, and lists it', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const source = await newUser(dovecot, 'loss-src');
    const target = await newUser(limited, 'loss-dst');
    await fillMailbox(
      await open(dovecot, source),
      Array.from({ length: 8 }, (_, i) => ({ folder: i < 5 ? 'INBOX' : 'Archive', raw: makeMessage({ subject: `m${i + 1}`, bodyBytes: i === 2 ? 40_000 : 600 }) })),
    );
    const id = await migrationOf(organization.id, { user: source, server: dovecot }, { user: target, server: limited }, new Date(Date.now() + 3_600_000));
    expect(await runMigrationPhase(db, id, 'run', await deps())).toBe('waiting_resync');
    // The resync finds nothing wrong of its own; the loss of the first pass still counts.
    await fillMailbox(await open(dovecot, source), [{ folder: 'Archive', raw: makeMessage({ subject: 'later', bodyBytes: 700 }) }]);
    expect(await resyncNow(id)).toBe('incomplete');

    const row = await db.migration.findUniqueOrThrow({ where: { id }, include: { accounts: true } });
    expect(row).toMatchObject({ state: 'incomplete', failedMessages: 1, copiedMessages: 8, totalMessages: 9 });
    expect(row.finishedAt).toBeInstanceOf(Date);
    // Ended: the credentials are gone, as with finished.
    expect(row.accounts.map((a) => a.passwordSealed)).toEqual([null, null]);

    const caller = await callerFor(db, user.id);
    const detail = await caller.migrations.detail({ id });
    expect(detail.statusLine).toBe('Finished with 1 message not copied');
    expect(detail.loss).toEqual({ messages: 1, foldersNotCreated: 0, foldersNotCopied: 0 });
    expect(detail.notCopiedCount).toBe(1);
    expect(detail.notCopied).toEqual([{ folder: 'INBOX', uid: 3, size: expect.any(Number), reason: expect.any(String) }]);
    expect(detail.notCopied[0]!.size).toBeGreaterThan(40_000);
    // The reason is the server's answer in words, never the message's content.
    expect(detail.notCopied[0]!.reason).not.toMatch(/Subject|m3/);
    expectCountsAddUp(detail);
    expect(detail.folders.find((f) => f.sourcePath === 'INBOX')).toMatchObject({ total: 5, copied: 4, failed: 1 });
    expect(detail.folders.find((f) => f.sourcePath === 'Archive')).toMatchObject({ total: 4, copied: 4, failed: 0 });

    // Listed among the ended ones, with the same words, and not cancellable.
    const finished = await caller.migrations.list({ list: 'finished' });
    expect(finished.map((m) => [m.id, m.state, m.statusLine, m.canCancel, m.isActive])).toEqual([[id, 'incomplete', 'Finished with 1 message not copied', false, false]]);
    expect(await caller.migrations.list({ list: 'active' })).toEqual([]);
    await expect(caller.migrations.cancel({ id })).rejects.toThrow(/already finished/);
    // A job that runs again finds nothing to do.
    expect(await runMigrationPhase(db, id, 'resync', await deps())).toBe('ignored');
  });

  it('says which folders the target could not create', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const id = await migrationOf(organization.id, { user: 'nobody@example.test', server: dovecot }, { user: 'nobody2@example.test', server: dovecot }, null);
    const store = new DbStateStore(db, id);
    await store.saveCheckpoint({ ...emptyCheckpoint('INBOX', 'INBOX'), lastUid: 7, messagesCopied: 7 });
    const refused = { uid: null, size: null, reason: 'The target server refused to create the folder: Invalid mailbox name. Its messages were not copied.' };
    // Refused again by the resync: still one folder.
    await store.recordIssues([{ folder: 'Kunden/Müller <alt>', ...refused }, { folder: 'Q3 | Q4', ...refused }]);
    await store.recordIssues([{ folder: 'Kunden/Müller <alt>', ...refused }]);
    await db.migration.update({ where: { id }, data: { state: 'incomplete', finishedAt: new Date(), copiedMessages: 7, totalMessages: 7 } });
    const caller = await callerFor(db, user.id);
    let detail = await caller.migrations.detail({ id });
    expect(detail.statusLine).toBe('Finished, but 2 folders could not be created');
    expect(detail.notCopied.map((i) => i.folder)).toEqual(['Kunden/Müller <alt>', 'Q3 | Q4']);
    expect(detail.notCopiedCount).toBe(2);
    expect(detail.folders.map((f) => [f.sourcePath, f.problem])).toEqual([
      ['INBOX', null],
      ['Kunden/Müller <alt>', 'Could not be created on the target'],
      ['Q3 | Q4', 'Could not be created on the target'],
    ]);
    expectCountsAddUp(detail);

    // A refused folder whose messages are counted as not copied keeps its reason, and its messages count.
    await store.saveCheckpoint({ ...emptyCheckpoint('Q3 | Q4', 'Q3 | Q4'), messagesFailed: 4 });
    await db.migration.update({ where: { id }, data: { failedMessages: 4, totalMessages: 11 } });
    detail = await caller.migrations.detail({ id });
    expect(detail.statusLine).toBe('Finished with 4 messages not copied and 2 folders could not be created');
    expect(detail.folders.find((f) => f.sourcePath === 'Q3 | Q4')).toMatchObject({ problem: 'Could not be created on the target', failed: 4, total: 4 });
    expect((await caller.migrations.list({ list: 'finished' })).find((m) => m.id === id)?.statusLine).toBe(detail.statusLine);
    expectCountsAddUp(detail);
  });

  it("shows a renamed folder's note, each notice once, and the messages gone from the target in the detail", async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const id = await migrationOf(organization.id, { user: 'a@example.test', server: dovecot }, { user: 'b@example.test', server: dovecot }, null);
    const store = new DbStateStore(db, id);
    const note = "'Projekte 50%' is called 'Projekte 50_' on the target: the server refused the name";
    await store.saveCheckpoint({ ...emptyCheckpoint('Projekte 50%', 'Projekte 50_'), lastUid: 30, messagesCopied: 29, messagesSkipped: 1, targetNote: note, targetMessages: 30, targetUidNext: 31 });
    await store.saveCheckpoint({ ...emptyCheckpoint('Sent', 'Sent'), lastUid: 308, messagesCopied: 308, messagesGone: 12, targetMessages: 296, targetUidNext: 309 });
    const notice = { folder: 'Sent', text: 'Sent on the target was re-created: matched again, 308 copied' };
    await store.recordNotices([notice]);
    // A later pass that says the same again adds nothing.
    await store.recordNotices([notice, { folder: null, text: 'All Mail was left out: it is a virtual folder' }]);
    // The checkpoint reads back whole.
    expect((await store.loadCheckpoints()).get('Projekte 50%')).toMatchObject({ targetNote: note, targetMessages: 30, targetUidNext: 31, messagesGone: 0 });
    await db.migration.update({ where: { id }, data: { state: 'finished', finishedAt: new Date(), copiedMessages: 337, totalMessages: 338, skippedMessages: 1 } });

    const detail = await (await callerFor(db, user.id)).migrations.detail({ id });
    expect(detail.renamed).toEqual([{ sourcePath: 'Projekte 50%', targetPath: 'Projekte 50_', note }]);
    expect(detail.folders.find((f) => f.sourcePath === 'Projekte 50%')).toMatchObject({ targetPath: 'Projekte 50_', note, total: 30, copied: 29, skipped: 1 });
    expect(detail.notices).toEqual([notice, { folder: null, text: 'All Mail was left out: it is a virtual folder' }]);
    expect(detail.totals.gone).toBe(12);
    expect(detail.goneLine).toBe('12 messages copied earlier are no longer in the target');
    expect(detail.statusLine).toBeNull();
    expectCountsAddUp(detail);
  });

  it("shows the note of a folder a real target renamed (Cyrus refuses '%' in names) in the detail", async () => {
    const cyrus: ImapTestServer = await startImapServer('cyrus', { users: [] });
    try {
      const { organization, user } = await seedOrganization(db, 'customer');
      const source = await newUser(dovecot, 'rn-src');
      const target = `rn-dst${Date.now()}`;
      await cyrus.addUser({ username: target, password });
      await fillMailbox(await open(dovecot, source), [
        { folder: 'INBOX', raw: makeMessage({ subject: 'inbox' }) },
        { folder: 'Projekte 50%', raw: makeMessage({ subject: 'half done' }) },
        { folder: 'Projekte 50%', raw: makeMessage({ subject: 'half done too' }) },
      ]);
      const { id } = await createMigration(db, await keyRing(), {
        organizationId: organization.id,
        createdByUserId: null,
        source: account(source, dovecot),
        target: { type: 'imap', email: `${target}@example.test`, username: target, password, server: `imap://127.0.0.1:${cyrus.port}` },
        startAt: new Date(Date.now() - 1000),
        resyncAt: null,
      });
      await db.$executeRaw`SELECT graphile_worker.remove_job(${`migration:${id}`}::text)`;
      const outcome = await runMigrationPhase(db, id, 'run', await deps({ policy: { ...policy(), allowedPorts: [...policy().allowedPorts, cyrus.port] } }));
      const detail = await (await callerFor(db, user.id)).migrations.detail({ id });
      expect(outcome, JSON.stringify(detail.notCopied)).toBe('finished');
      const renamed = detail.renamed.find((r) => r.sourcePath === 'Projekte 50%');
      expect(renamed, JSON.stringify(detail.folders)).toBeDefined();
      expect(renamed!.targetPath).not.toBe('Projekte 50%');
      expect(renamed!.note).toMatch(/Projekte 50%/);
      expect(detail.folders.find((f) => f.sourcePath === 'Projekte 50%')).toMatchObject({ copied: 2, total: 2, note: renamed!.note });
      expectCountsAddUp(detail);
    } finally {
      await cyrus.stop();
    }
  }, 90_000);

  describe('a resync after the target or the source changed leaves the target complete, nothing doubled', () => {
    it('(a) one target folder deleted', async () => {
      const { detail } = await resyncScenario(async ({ target }) => {
        await target.mailboxDelete('Archive');
      });
      // Someone should hear that the folder was made again.
      expect(detail.notices.some((n) => n.folder === 'Archive'), JSON.stringify(detail.notices)).toBe(true);
    }, 60_000);

    it('(b) the whole target account emptied (deleted and made again)', async () => {
      await resyncScenario(async ({ target, targetUser }) => {
        await target.logout();
        await recreateDovecotAccount(dovecot, targetUser);
      });
    }, 60_000);

    it('(c) a source folder deleted and made again with the same messages', async () => {
      await resyncScenario(async ({ source, contents }) => {
        await source.mailboxDelete('Archive');
        await source.mailboxCreate('Archive');
        await fillMailbox(source, contents.filter((m) => m.folder === 'Archive'));
      });
    }, 60_000);

    it('(d) messages deleted on the target are not brought back, but counted, shown and found missing by the verification', async () => {
      const { organization, user } = await seedOrganization(db, 'customer');
      const [source, target] = [await newUser(dovecot, 'gone-src'), await newUser(dovecot, 'gone-dst')];
      await fillMailbox(await open(dovecot, source), mailboxContents());
      const id = await migrationOf(organization.id, { user: source, server: dovecot }, { user: target, server: dovecot }, new Date(Date.now() + 3_600_000));
      expect(await runMigrationPhase(db, id, 'run', await deps())).toBe('waiting_resync');
      const client = await open(dovecot, target);
      await client.mailboxOpen('INBOX');
      await client.messageDelete('1:3');
      // The resync's verification finds them missing: no plain "finished".
      expect(await resyncNow(id)).toBe('incomplete');
      const detail = await (await callerFor(db, user.id)).migrations.detail({ id });
      expect(detail.statusLine).toBe('Finished, but verification found 3 messages missing on the target');
      expect(detail.verification?.folders.find((f) => f.sourcePath === 'INBOX')).toMatchObject({ missing: 3, missingReported: 0 });
      expect(detail.folders.find((f) => f.sourcePath === 'INBOX')?.gone).toBe(3);
      expect(detail.goneLine).toBe('3 messages copied earlier are no longer in the target');
      expect(detail.notices.some((n) => n.folder === 'INBOX' && /no longer/.test(n.text)), JSON.stringify(detail.notices)).toBe(true);
      expectCountsAddUp(detail);
    }, 60_000);
  });
});
