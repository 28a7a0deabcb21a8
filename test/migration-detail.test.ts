/**
 * The migration detail against real Dovecot servers and PostgreSQL: the items not copied come
 * page by page with their reasons and the messages' dates, the verification's verdict is what
 * the target holds (read here with a session of the test's own), and the live fields (rate,
 * folders with their state) are written while a pass runs, honest across chunks, and cleared
 * when it ends.
 */
import type { ImapFlow } from 'imapflow';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@/server/db';
import { readLiveProgress } from '@/server/migrations/live-progress';
import { runMigrationPhase } from '@/server/migrations/run-migration';
import type { DovecotServer } from './helpers/dovecot';
import { isolatedDb, seedOrganization } from './helpers/database';
import { fillMailbox, makeMessage } from './helpers/mailbox';
import { phaseHarness } from './helpers/phase-harness';
import { callerFor } from './helpers/trpc';

// A database of its own: no worker of another test file takes this file's migration jobs.
const database = isolatedDb();
let db: Db;
beforeAll(() => {
  db = database.db();
});
const password = 'Detail;"pass 4';
const harness = phaseHarness(() => db, password);
const { deps, open, newUser, migrationOf } = harness;
let dovecot: DovecotServer;
let limited: DovecotServer;
beforeAll(() => {
  ({ dovecot, limited } = harness);
});

/** Message-IDs of a folder, read without the engine. */
async function messageIds(client: ImapFlow, folder: string): Promise<string[]> {
  const opened = await client.mailboxOpen(folder, { readOnly: true });
  if (opened.exists === 0) return [];
  const ids: string[] = [];
  for await (const m of client.fetch('1:*', { uid: true, envelope: true }, { uid: true })) ids.push(m.envelope?.messageId ?? '');
  return ids;
}

describe('migration detail', () => {
  it('lists a message refused by the target and one too large with reasons and dates, a page at a time, and verifies what the target holds', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const source = await newUser(dovecot, 'dt-src');
    const target = await newUser(limited, 'dt-dst');
    const dated = (day: number) => new Date(Date.UTC(2026, 2, day, 8, 30, 0));
    // INBOX UID 2 (40 KB) is refused by the target (its limit is 20 KB); UID 4 (100 KB) is over
    // the migration's own limit of 60 KB and never sent. Each message has its own INTERNALDATE.
    const inbox = [600, 40_000, 600, 100_000, 600].map((bodyBytes, i) => ({ folder: 'INBOX', raw: makeMessage({ subject: `Inbox ${i + 1}`, bodyBytes }), date: dated(i + 1) }));
    const archive = [600, 600].map((bodyBytes, i) => ({ folder: 'Archive', raw: makeMessage({ subject: `Archive ${i + 1}`, bodyBytes }), date: dated(20 + i) }));
    await fillMailbox(await open(dovecot, source), [...inbox, ...archive]);
    const id = await migrationOf(organization.id, { user: source, server: dovecot }, { user: target, server: limited }, null);
    expect(await runMigrationPhase(db, id, 'run', await deps({ maxMessageBytes: 60_000 }))).toBe('incomplete');

    const caller = await callerFor(db, user.id);
    // Pages of one: both items, each with its reason and its date, then no further page.
    const first = await caller.migrations.notCopied({ id, limit: 1 });
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).not.toBeNull();
    const second = await caller.migrations.notCopied({ id, limit: 1, cursor: first.nextCursor });
    expect(second.nextCursor).toBeNull();
    const items = [...first.items, ...second.items];
    expect(items.map((i) => [i.folder, i.uid, i.date])).toEqual([
      ['INBOX', 2, dated(2).toISOString()],
      ['INBOX', 4, dated(4).toISOString()],
    ]);
    expect(items[0]!.reason).toMatch(/refused the message/);
    expect(items[1]!.reason).toMatch(/larger than the size limit of/);
    expect(items[0]!.size).toBeGreaterThan(40_000);
    // Folder, UID, size, date, reason: never a subject or sender.
    for (const item of items) expect(Object.keys(item).sort()).toEqual(['date', 'folder', 'reason', 'size', 'uid']);
    expect(JSON.stringify(items)).not.toMatch(/Inbox \d|sender@/);
    // The whole list in one page is the same, and the report carries the same dates.
    expect((await caller.migrations.notCopied({ id })).items).toEqual(items);
    // A cursor that is not one of ours is refused, not misread.
    await expect(caller.migrations.notCopied({ id, cursor: 'bm90IGEgY3Vyc29y' })).rejects.toThrow(/out of date/);

    // The verdict is what the target holds, read with the test's own sessions.
    const sourceInbox = await messageIds(await open(dovecot, source), 'INBOX');
    const targetInbox = new Set(await messageIds(await open(limited, target), 'INBOX'));
    const targetArchive = await messageIds(await open(limited, target), 'Archive');
    const presentInInbox = sourceInbox.filter((m) => targetInbox.has(m)).length;
    expect(presentInInbox).toBe(3);
    expect(targetArchive).toHaveLength(2);
    const detail = await caller.migrations.detail({ id });
    expect(detail.verification?.folders.filter((f) => f.sourceMessages > 0).map((f) => [f.sourcePath, f.sourceMessages, f.present, f.missing, f.missingUids])).toEqual([
      ['INBOX', 5, presentInInbox, 5 - presentInInbox, [2, 4]],
      ['Archive', 2, targetArchive.length, 0, []],
    ]);
    expect(detail.notCopiedCount).toBe(2);
    expect(detail.sentence).toMatch(/^Finished on \d{1,2} \w{3} \d{4}, \d{2}:\d{2} \(UTC\)$/);
    expect(detail.groupwareLine).toBe('Both accounts are e-mail only (IMAP): there are no calendars, contacts or tasks to move.');
    expect(detail.groupware).toBeNull();
    expect(detail.timeline.map((t) => t.kind)).toEqual(['scheduled', 'started', 'incomplete', 'credentials_deleted']);
    expect(detail.folders.every((f) => f.state === 'done')).toBe(true);
    expect(detail.folders.filter((f) => f.total > 0).map((f) => [f.sourcePath, f.state, f.copied, f.failed, f.total])).toEqual([
      ['INBOX', 'done', 3, 2, 5],
      ['Archive', 'done', 2, 0, 2],
    ]);
  }, 60_000);

  it('writes the live folders and rate during a pass cut into jobs, with totals that stay honest, and clears them at the end', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const source = await newUser(dovecot, 'lv-src');
    const target = await newUser(dovecot, 'lv-dst');
    // 700 messages in INBOX: batches of 300, and a time budget that ends each job after its first batch.
    const messages = [
      ...Array.from({ length: 700 }, (_, i) => ({ folder: 'INBOX', raw: makeMessage({ subject: `Live ${i}`, bodyBytes: 300 }) })),
      ...Array.from({ length: 5 }, (_, i) => ({ folder: 'Notes', raw: makeMessage({ subject: `Note ${i}`, bodyBytes: 300 }) })),
    ];
    await fillMailbox(await open(dovecot, source), messages);
    const id = await migrationOf(organization.id, { user: source, server: dovecot }, { user: target, server: dovecot }, null);
    const caller = await callerFor(db, user.id);
    const chunk = await deps({ timeBudgetMs: 1 });

    expect(await runMigrationPhase(db, id, 'run', chunk)).toBe('continues');
    let row = await db.migration.findUniqueOrThrow({ where: { id }, select: { state: true, liveFolders: true, bytesPerSecond: true, copiedMessages: true, totalMessages: true } });
    expect(row.state).toBe('running');
    let live = readLiveProgress(row.liveFolders);
    expect(live).not.toBeNull();
    // Dovecot's own empty folders (Drafts, Sent, Trash …) are part of the pass too.
    const folderCount = live!.foldersTotal;
    expect(folderCount).toBeGreaterThan(2);
    expect(live!.foldersLeft).toBe(live!.folders.filter((f) => f.state !== 'done').length);
    let inbox = live!.folders.find((f) => f.path === 'INBOX')!;
    expect(inbox).toMatchObject({ targetPath: 'INBOX', total: 700, copied: 300, done: 300 });
    expect(inbox.state).not.toBe('done');
    expect(row.totalMessages).toBe(705);

    // The next job starts from the checkpoints: its folders still count 700 in INBOX, 600 of them copied.
    expect(await runMigrationPhase(db, id, 'run', chunk)).toBe('continues');
    row = await db.migration.findUniqueOrThrow({ where: { id }, select: { state: true, liveFolders: true, bytesPerSecond: true, copiedMessages: true, totalMessages: true } });
    live = readLiveProgress(row.liveFolders);
    inbox = live!.folders.find((f) => f.path === 'INBOX')!;
    expect(inbox).toMatchObject({ total: 700, copied: 600, done: 600 });
    expect(live!.folders.find((f) => f.path === 'Notes')).toMatchObject({ total: 5, copied: 5, state: 'done' });
    const left = live!.folders.filter((f) => f.state !== 'done').length;
    expect(live!.foldersLeft).toBe(left);
    expect(left).toBeGreaterThanOrEqual(1);
    expect(row.totalMessages).toBe(705);
    expect(row.copiedMessages).toBe(605);
    let detail = await caller.migrations.detail({ id });
    expect(detail.sentence).toBe(`Copying — ${left} ${left === 1 ? 'folder' : 'folders'} left`);
    expect(detail.folders).toHaveLength(folderCount);
    expect(detail.folders.filter((f) => f.total > 0).map((f) => [f.sourcePath, f.copied, f.total, f.state === 'done'])).toEqual([
      ['INBOX', 600, 700, false],
      ['Notes', 5, 5, true],
    ]);
    expect(detail.messages).toEqual({ copied: 605, total: 705 });

    // The last job ends the pass: the live fields are gone, every folder is done.
    expect(await runMigrationPhase(db, id, 'run', await deps())).toBe('finished');
    row = await db.migration.findUniqueOrThrow({ where: { id }, select: { state: true, liveFolders: true, bytesPerSecond: true, copiedMessages: true, totalMessages: true } });
    expect([row.liveFolders, row.bytesPerSecond]).toEqual([null, null]);
    detail = await caller.migrations.detail({ id });
    expect(detail.rate).toBeNull();
    expect(detail.etaSeconds).toBeNull();
    expect(detail.folders.every((f) => f.state === 'done')).toBe(true);
    expect(detail.folders.filter((f) => f.total > 0).map((f) => [f.sourcePath, f.copied, f.total, f.state])).toEqual([
      ['INBOX', 700, 700, 'done'],
      ['Notes', 5, 5, 'done'],
    ]);
    expect(detail.timeline.filter((t) => !t.isPlanned).map((t) => t.kind)).toEqual(['scheduled', 'started', 'finished', 'credentials_deleted']);
    expect((await messageIds(await open(dovecot, target), 'INBOX')).length).toBe(700);
  }, 90_000);
});
