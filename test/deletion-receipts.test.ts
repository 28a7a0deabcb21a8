/**
 * Deletion receipts against real PostgreSQL and Dovecot: a migration that runs to its end, one
 * cancelled and one whose credentials cannot be opened each leave a receipt of their passwords
 * (and a second wipe none); removing an organization's data and the retention period leave
 * receipts of what went, counts only; the chain verifies, and an edited, removed or relinked
 * receipt, a removed tail, or a rewritten chain against a kept digest is found, by the domain
 * function and by `ferry receipts verify`; the API shows a customer only its own receipts.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { receiptsCommand } from '@/server/cli/receipts-command';
import type { Db } from '@/server/db';
import { parseEnv } from '@/server/env';
import { runMaintenance } from '@/server/jobs/maintenance';
import { inTransaction } from '@/server/licensing/transaction';
import { wipeCredentials } from '@/server/migrations/accounts';
import { cancelMigration } from '@/server/migrations/cancel-migration';
import { runMigrationPhase } from '@/server/migrations/run-migration';
import { receiptsDocument } from '@/server/privacy/receipt-views';
import { allReceipts, deletedInWords, receiptDigest, recordDeletionReceipt, verifyReceiptChain, type ReceiptEvent } from '@/server/privacy/receipts';
import { removeOrganizationPersonalData } from '@/server/privacy/remove-personal-data';
import { isolatedDb, seedOrganization, seedUser } from './helpers/database';
import { fillMailbox, makeMessage } from './helpers/mailbox';
import { phaseHarness } from './helpers/phase-harness';
import { callerFor, codeOf } from './helpers/trpc';

// A database of its own: retention touches every organization, and no worker takes the jobs.
const database = isolatedDb();
let db: Db;
let databaseUrl: string;
beforeAll(async () => {
  db = database.db();
  const [row] = await db.$queryRaw<{ name: string }[]>`SELECT current_database() AS name`;
  // The CLI opens its own client: the same database, by name on the same server.
  databaseUrl = inject('adminDatabaseUrl').replace(/\/postgres$/, `/${row!.name}`);
});
const password = 'Receipt;"pass 7';
const harness = phaseHarness(() => db, password);
const DAY = 86_400_000;

async function ferry(args: string[], options: Record<string, string | true> = {}) {
  const out: string[] = [];
  const code = await receiptsCommand.run({ env: parseEnv({ DATABASE_URL: databaseUrl, MAILFERRY_TIMEZONE: 'UTC' }), args, options, out: (line) => out.push(line) });
  return { code, out: out.join('\n') };
}

/** A migration from one Dovecot account to another, due now, with two messages in its source. */
async function newMigration(organizationId: string) {
  const source = await harness.newUser(harness.dovecot, 'rc-src');
  const target = await harness.newUser(harness.dovecot, 'rc-dst');
  await fillMailbox(await harness.open(harness.dovecot, source), [
    { folder: 'INBOX', raw: makeMessage({ subject: 'One', bodyBytes: 500 }) },
    { folder: 'Projects', raw: makeMessage({ subject: 'Two', bodyBytes: 500 }) },
  ]);
  const id = await harness.migrationOf(organizationId, { user: source, server: harness.dovecot }, { user: target, server: harness.dovecot }, null);
  return { id, source, target };
}

async function record(organizationId: string, event: ReceiptEvent, deleted: Record<string, number>, at: Date) {
  return inTransaction(db, (tx) => recordDeletionReceipt(tx, { organizationId, event, trigger: 'customer', deleted, at }));
}

describe('deletion receipts', () => {
  it('a finished, a cancelled and a failed migration each record their passwords once; removal and retention record what went, counts only', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const finished = await newMigration(organization.id);
    expect(await runMigrationPhase(db, finished.id, 'run', await harness.deps())).toBe('finished');

    const cancelled = await newMigration(organization.id);
    await cancelMigration(db, { userId: user.id, organizationId: organization.id }, cancelled.id);

    // Credentials this installation cannot open: the run fails at once, and they go too.
    const failed = await newMigration(organization.id);
    await db.migrationAccount.updateMany({ where: { migrationId: failed.id, side: 'source' }, data: { passwordSealed: 'v1.not-a-sealed-value' } });
    expect(await runMigrationPhase(db, failed.id, 'run', await harness.deps())).toBe('failed');

    let receipts = await allReceipts(db, organization.id);
    expect(receipts.map((r) => [r.seq, r.migrationId, r.event, r.trigger, r.deleted])).toEqual([
      [1, finished.id, 'credentials_wiped', 'migration.finished', { passwords: 2 }],
      [2, cancelled.id, 'credentials_wiped', 'migration.cancelled', { passwords: 2 }],
      [3, failed.id, 'credentials_wiped', 'migration.failed', { passwords: 2 }],
    ]);
    expect(receipts[0]!.prevDigest).toBeNull();
    expect(receipts[1]!.prevDigest).toBe(receipts[0]!.digest);
    // Wiping nothing again is no event.
    await wipeCredentials(db, finished.id);
    expect(await db.deletionReceipt.count({ where: { organizationId: organization.id } })).toBe(3);

    // The customer removes the organization's data: one receipt per migration, one for the request.
    await db.auditEvent.create({ data: { action: 'auth.sign_in', actorUserId: user.id, organizationId: organization.id, ip: '198.51.100.23' } });
    const folders = await db.migrationFolder.count({ where: { migrationId: finished.id } });
    expect(folders).toBeGreaterThanOrEqual(2);
    await removeOrganizationPersonalData(db, organization.id, { actor: { userId: user.id, role: 'customer', organizationId: organization.id } });
    receipts = await allReceipts(db, organization.id);
    const removal = receipts.slice(3);
    expect(removal.map((r) => [r.event, r.trigger, r.migrationId])).toEqual([
      ['details_removed', 'customer', finished.id],
      ['details_removed', 'customer', cancelled.id],
      ['details_removed', 'customer', failed.id],
      ['organization_data_removed', 'customer', null],
    ]);
    // The finished one's folder records (as many as it had) and its two accounts went.
    expect(removal[0]!.deleted).toMatchObject({ accounts: 2, folders });
    expect(removal[0]!.deleted.migrations).toBeUndefined();
    expect(removal[3]!.deleted).toMatchObject({ migrations: 3, auditIpAddresses: expect.any(Number) });
    expect(removal[3]!.deleted.auditIpAddresses).toBeGreaterThanOrEqual(1);
    expect(deletedInWords(removal[0]!.deleted)).toMatch(new RegExp(`^2 accounts’ addresses, usernames and servers, ${folders} folder records`));
    expect(await verifyReceiptChain(db, organization.id)).toEqual({ ok: true, count: 7, headDigest: receipts[6]!.digest, problems: [] });

    // Counts and kinds only: no address, username, server, folder name or IP in any receipt.
    const stored = JSON.stringify(await db.$queryRaw`SELECT * FROM deletion_receipts WHERE organization_id = ${organization.id}::uuid`, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    for (const value of [finished.source, finished.target, cancelled.source, 'Projects', '127.0.0.1', '198.51.100.23', password]) expect(stored).not.toContain(value);
  });

  it('retention by the maintenance job, with the clock moved on, records the removal by the retention period', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const done = await newMigration(organization.id);
    expect(await runMigrationPhase(db, done.id, 'run', await harness.deps())).toBe('finished');
    await db.auditEvent.create({ data: { action: 'auth.sign_in', actorUserId: user.id, organizationId: organization.id, ip: '203.0.113.9' } });

    // 30 days of retention: not due tomorrow, due in 31 days.
    await runMaintenance(db, { now: new Date(Date.now() + DAY), retentionDays: 30 });
    expect(await db.deletionReceipt.count({ where: { organizationId: organization.id } })).toBe(1);
    const later = new Date(Date.now() + 31 * DAY);
    await runMaintenance(db, { now: later, retentionDays: 30 });
    const receipts = await allReceipts(db, organization.id);
    expect(receipts.map((r) => [r.event, r.trigger, r.migrationId])).toEqual([
      ['credentials_wiped', 'migration.finished', done.id],
      ['details_removed', 'retention', done.id],
      ['expired_data_removed', 'retention', null],
    ]);
    expect(receipts[1]!.createdAt).toEqual(later);
    expect(receipts[2]!.deleted).toMatchObject({ auditIpAddresses: expect.any(Number) });
    expect((await verifyReceiptChain(db, organization.id)).ok).toBe(true);
  });

  it('finds an edited receipt, a removed one, a relinked one, a removed tail and a rewritten chain; so does the command line', async () => {
    const { organization } = await seedOrganization(db, 'customer');
    const start = Date.UTC(2026, 11, 1, 9, 0, 0);
    for (let i = 0; i < 4; i += 1) await record(organization.id, 'details_removed', { accounts: 2, folders: i + 1 }, new Date(start + i * 60_000));
    expect(await verifyReceiptChain(db, organization.id)).toMatchObject({ ok: true, count: 4, problems: [] });
    expect(await ferry(['verify', organization.id])).toEqual({ code: 0, out: expect.stringMatching(new RegExp(`^Receipts of ${organization.name}: 4 receipts, chain intact`)) });
    // By its exact name too, and as JSON.
    expect((await ferry(['verify', organization.name])).code).toBe(0);
    const json = await ferry(['verify', organization.id], { json: true });
    expect(JSON.parse(json.out)).toMatchObject({ ok: true, count: 4, organization: { id: organization.id } });
    const anchor = (await allReceipts(db, organization.id))[1]!.digest;
    expect((await ferry(['verify', organization.id], { anchor })).code).toBe(0);

    // Edited: receipt 2 says fewer folder records went.
    await db.$executeRaw`UPDATE deletion_receipts SET deleted = '{"accounts": 2, "folders": 1}'::jsonb WHERE organization_id = ${organization.id}::uuid AND seq = 2`;
    let verdict = await verifyReceiptChain(db, organization.id);
    expect(verdict.ok).toBe(false);
    expect(verdict.problems).toEqual([{ seq: 2, problem: 'Receipt 2 was changed after it was recorded: its digest does not match its content.' }]);
    let cli = await ferry(['verify', organization.id]);
    expect(cli.code).toBe(1);
    expect(cli.out).toContain(`Receipts of ${organization.name}: 4 receipts, chain broken:\n  Receipt 2 was changed after it was recorded`);

    // Edited and its digest recomputed by someone who knows the algorithm: the next link breaks.
    const edited = (await allReceipts(db, organization.id))[1]!;
    await db.deletionReceipt.updateMany({ where: { organizationId: organization.id, seq: 2 }, data: { digest: receiptDigest(edited) } });
    verdict = await verifyReceiptChain(db, organization.id);
    expect(verdict.problems).toEqual([{ seq: 3, problem: 'Receipt 3 does not follow receipt 2: its link to the previous receipt does not match.' }]);

    // Rewritten from there on, head included: consistent again, but the digest written down is gone.
    const rewritten = await allReceipts(db, organization.id);
    let previous = rewritten[1]!.digest;
    for (const receipt of rewritten.slice(2)) {
      const digest = receiptDigest({ ...receipt, prevDigest: previous });
      await db.deletionReceipt.updateMany({ where: { organizationId: organization.id, seq: receipt.seq }, data: { prevDigest: previous, digest } });
      previous = digest;
    }
    await db.deletionReceiptHead.update({ where: { organizationId: organization.id }, data: { digest: previous } });
    expect((await verifyReceiptChain(db, organization.id)).ok).toBe(true);
    cli = await ferry(['verify', organization.id], { anchor });
    expect(cli.code).toBe(1);
    expect(cli.out).toContain(`No receipt has the digest ${anchor}`);

    // Removed from the middle.
    await db.deletionReceipt.deleteMany({ where: { organizationId: organization.id, seq: 3 } });
    verdict = await verifyReceiptChain(db, organization.id);
    expect(verdict.problems).toEqual([{ seq: 3, problem: 'Receipt 3 is missing.' }]);
    expect((await ferry(['verify', organization.id])).code).toBe(1);

    // Removed at the end (a chain that looks whole on its own): the head still counts it.
    const { organization: other } = await seedOrganization(db, 'customer');
    for (let i = 0; i < 3; i += 1) await record(other.id, 'credentials_wiped', { passwords: 2 }, new Date(start + i * 60_000));
    await db.deletionReceipt.deleteMany({ where: { organizationId: other.id, seq: 3 } });
    verdict = await verifyReceiptChain(db, other.id);
    expect(verdict).toMatchObject({ ok: false, count: 2 });
    expect(verdict.problems).toEqual([{ seq: 3, problem: 'Receipt 3 is missing. The chain ends at receipt 3.' }]);
    cli = await ferry(['verify', other.name], { json: true });
    expect(cli.code).toBe(1);
    expect(JSON.parse(cli.out)).toMatchObject({ ok: false, problems: [{ seq: 3 }] });

    // Unknown organizations and wrong usage say so.
    expect(await ferry(['verify', 'No such organization'])).toEqual({ code: 1, out: 'No organization has the id or the name No such organization.' });
    expect((await ferry(['verify'])).code).toBe(2);
    expect((await ferry(['verify', other.id], { anchor: 'abc' })).code).toBe(2);
  });

  it('the download holds every field needed to recompute each digest', async () => {
    const { organization } = await seedOrganization(db, 'customer');
    await record(organization.id, 'credentials_wiped', { passwords: 2 }, new Date(Date.UTC(2026, 11, 2, 8, 0, 0, 123)));
    await record(organization.id, 'details_removed', { folders: 14, accounts: 2 }, new Date(Date.UTC(2026, 11, 3, 8, 0, 0)));
    const document = await receiptsDocument(db, { id: organization.id, name: organization.name });
    expect(document.verdict).toEqual({ ok: true, count: 2, problems: [] });
    expect(document.head).toEqual({ count: 2, digest: document.receipts[1]!.digest });
    expect(document.receipts[0]!.createdAt).toBe('2026-12-02T08:00:00.123Z');
    // Recomputed from the file alone, by the algorithm it states: sorted keys, no whitespace.
    const { createHash } = await import('node:crypto');
    const sorted = (value: unknown): unknown =>
      value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sorted(v)])) : value;
    let previous: string | null = null;
    for (const receipt of document.receipts) {
      const { description: _d, digest, ...fields } = receipt;
      expect(fields.prevDigest).toBe(previous);
      expect(createHash('sha256').update(JSON.stringify(sorted(fields))).digest('hex')).toBe(digest);
      previous = digest;
    }
    expect(document.receipts[1]!.description).toBe('Migration details removed at the organization’s request: 2 accounts’ addresses, usernames and servers, 14 folder records');
  });

  it('a customer sees only its own organization’s receipts; another organization’s migration is NOT_FOUND; an admin names the organization', async () => {
    const mine = await seedOrganization(db, 'customer');
    const theirs = await seedOrganization(db, 'customer');
    const theirMigration = await newMigration(theirs.organization.id);
    await cancelMigration(db, { userId: theirs.user.id, organizationId: theirs.organization.id }, theirMigration.id);
    const myMigration = await newMigration(mine.organization.id);
    await cancelMigration(db, { userId: mine.user.id, organizationId: mine.organization.id }, myMigration.id);
    for (let i = 0; i < 3; i += 1) await record(mine.organization.id, 'details_removed', { folders: i + 1 }, new Date(Date.now() + i));

    const me = await callerFor(db, mine.user.id);
    const page = await me.receipts.list({ limit: 3 });
    expect(page.organization.id).toBe(mine.organization.id);
    expect(page.receipts.map((r) => r.seq)).toEqual([4, 3, 2]);
    expect(page.verdict).toMatchObject({ ok: true, count: 4 });
    const rest = await me.receipts.list({ limit: 3, cursor: page.nextCursor });
    expect(rest.receipts.map((r) => r.seq)).toEqual([1]);
    expect(rest.nextCursor).toBeNull();
    expect(rest.receipts[0]).toMatchObject({ migrationId: myMigration.id, what: 'Passwords deleted when the migration was cancelled', deletedWords: '2 passwords' });

    expect((await me.receipts.forMigration({ migrationId: myMigration.id })).map((r) => r.event)).toEqual(['credentials_wiped']);
    expect(await codeOf(me.receipts.forMigration({ migrationId: theirMigration.id }))).toBe('NOT_FOUND');
    expect(await codeOf(me.receipts.list({ organizationId: theirs.organization.id }))).toBe('NOT_FOUND');

    const admin = await callerFor(db, (await seedUser(db, 'admin', null)).id);
    expect((await admin.receipts.list({ organizationId: theirs.organization.id })).receipts.map((r) => r.migrationId)).toEqual([theirMigration.id]);
    expect(await codeOf(admin.receipts.list({}))).toBe('BAD_REQUEST');
    expect(await codeOf((await callerFor(db, null)).receipts.list({}))).toBe('UNAUTHORIZED');
  });
});
