/**
 * "Remove my data" and retention against real PostgreSQL (a database of the file's own: the
 * scan reads every table, and retention touches every organization's migrations): refused while
 * migrations are active, then after cancelling them; nothing of the removed strings left in any
 * text, JSON or text-array column of the public and graphile_worker schemas, while a control
 * organization keeps all of its own; retention by the maintenance job with the clock moved.
 */
import { randomBytes } from 'node:crypto';
import Papa from 'papaparse';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@/server/db';
import { EnvError, parseEnv } from '@/server/env';
import type { MigrationState } from '@/server/generated/prisma/enums';
import { enqueueJob } from '@/server/jobs/enqueue';
import { runMaintenance } from '@/server/jobs/maintenance';
import { reserveUnits, usageCounts } from '@/server/licensing/quota';
import { listAllMigrations } from '@/server/migrations/admin-list';
import { recordMigrationEvent } from '@/server/migrations/events';
import { migrationJobKey, migrationRunJob } from '@/server/migrations/jobs';
import { listMigrations } from '@/server/migrations/list-migrations';
import { notificationJobKey } from '@/server/notifications/jobs';
import { getMigrationDetail } from '@/server/migrations/migration-detail';
import { getMigrationReport, reportCsv } from '@/server/migrations/report';
import {
  cancelActiveMigrations,
  migrationCountsBefore,
  MigrationStillActiveError,
  OrganizationHasActiveMigrationsError,
  removeMigrationPersonalData,
  removeOrganizationPersonalData,
} from '@/server/privacy/remove-personal-data';
import { isolatedDb, seedOrganization } from './helpers/database';

const isolated = isolatedDb();
const zone = 'Europe/Berlin';
const DAY = 86_400_000;

/** Every personal string of one seeded migration holds its tag, so the tag alone finds a leftover. */
function personal(tag: string) {
  return {
    tag,
    sourceEmail: `anna.${tag}@old-${tag}.example`,
    targetEmail: `anna.${tag}@new-${tag}.example`,
    sourceUsername: `login-${tag}`,
    targetUsername: `login-${tag}-t`,
    sourceServer: `imap.old-${tag}.example:993`,
    targetHost: `imap.new-${tag}.example`,
    groupwareUrl: `https://dav.old-${tag}.example/dav/`,
    folder: `Projekte ${tag}`,
    targetFolder: `Archiv ${tag}`,
    collection: `Kalender ${tag}`,
    itemUid: `event-${tag}`,
  };
}
type Personal = ReturnType<typeof personal>;

const newTag = () => `zq${randomBytes(5).toString('hex')}`;

/** An ended migration as runs leave it: every table that can hold its names has a row naming them. */
async function seedEnded(db: Db, organizationId: string, userId: string, p: Personal, state: MigrationState, finishedAt: Date, ip: string): Promise<string> {
  const migration = await db.migration.create({
    data: {
      organizationId,
      createdByUserId: userId,
      state,
      startAt: new Date(finishedAt.getTime() - DAY),
      startedAt: new Date(finishedAt.getTime() - DAY),
      finishedAt,
      failureReason: state === 'failed' ? `The server ${p.targetHost} refused the login of ${p.targetEmail}` : null,
      totalMessages: 40,
      copiedMessages: 37,
      skippedMessages: 1,
      failedMessages: 2,
      totalBytes: 4_096_000n,
      copiedBytes: 4_000_000n,
      // Left behind by a pass that ended abruptly.
      liveFolders: { folders: [{ path: p.folder, total: 3 }] },
      accounts: {
        create: [
          { side: 'source', type: 'imap', email: p.sourceEmail, username: p.sourceUsername, server: p.sourceServer, groupwareUrl: p.groupwareUrl, passwordSealed: `sealed-${p.tag}` },
          { side: 'target', type: 'imap', email: p.targetEmail, username: p.targetUsername, server: p.targetHost, passwordSealed: null },
        ],
      },
      folders: {
        create: [
          { sourcePath: 'INBOX', targetPath: 'INBOX', messagesCopied: 30, bytesCopied: 3_000_000n },
          { sourcePath: p.folder, targetPath: p.targetFolder, targetNote: `Renamed: the target refused “${p.folder}”`, sourceUidValidity: '77', highestModseq: '901', messagesCopied: 7, messagesSkipped: 1, messagesFailed: 2, bytesCopied: 1_000_000n },
        ],
      },
      issues: {
        create: [
          { folder: p.folder, uid: 12, size: 70_000_000n, reason: `Too large for the target (limit 50 MB) in ${p.folder}` },
          { folder: `${p.folder}/Old`, uid: null, reason: `The target refused to create the folder ${p.folder}/Old` },
        ],
      },
      notices: { create: [{ folder: p.folder, text: `The folder ${p.targetFolder} was deleted on the target and created again` }] },
      verifications: {
        create: [{ sourcePath: p.folder, targetPath: p.targetFolder, pass: 'run', sourceMessages: 10, presentMessages: 8, missingMessages: 2, missingReported: 2, missingUids: [12, 13], unverifiedReason: null, sourceState: '77/14/10', verifiedAt: finishedAt }],
      },
      groupwareCollections: {
        create: [{ sourceId: `${p.groupwareUrl}calendars/${p.tag}/`, kind: 'calendar', sourceName: p.collection, targetName: `${p.collection} (2)`, targetNote: `A calendar named ${p.collection} exists`, checkpoint: { items: { [p.itemUid]: { etag: `"${p.tag}"` } } }, items: 5, present: 4, copied: 4, failed: 1 }],
      },
      groupwareIssues: { create: [{ kind: 'calendar', collection: p.collection, uid: p.itemUid, size: 2048, reason: `The target refused ${p.itemUid}` }] },
      groupwareChanges: { create: [{ kind: 'calendar', collection: p.collection, uid: p.itemUid, component: 'VEVENT', property: 'X-TAG', reason: `Not kept for ${p.collection}` }] },
    },
    select: { id: true },
  });
  const id = migration.id;
  // The end's e-mail (a notification row and its job), which failed naming the address.
  const eventId = await recordMigrationEvent(db, id, state === 'failed' ? 'failed' : 'finished', finishedAt);
  await db.migrationNotification.updateMany({ where: { eventId }, data: { state: 'failed', lastError: `550 5.1.1 <${p.targetEmail}>: Recipient address rejected` } });
  await db.$executeRaw`UPDATE graphile_worker._private_jobs SET last_error = ${`SMTP said: ${p.targetEmail} unknown`} WHERE key = ${notificationJobKey(eventId)}`;
  // A run job that failed for good, its error naming the server.
  await enqueueJob(db, migrationRunJob, { migrationId: id }, { jobKey: migrationJobKey(id) });
  await db.$executeRaw`UPDATE graphile_worker._private_jobs SET last_error = ${`connect ECONNREFUSED ${p.targetHost}:993`}, attempts = max_attempts WHERE key = ${migrationJobKey(id)}`;
  // The check service's windows and a lease that expired.
  await db.rateLimitBucket.createMany({
    data: [
      { key: `check:account:imap:${p.sourceUsername}@imap.old-${p.tag}.example`, windowStart: new Date(), count: 1 },
      { key: `check:host:${p.targetHost}`, windowStart: new Date(), count: 1 },
    ],
    skipDuplicates: true,
  });
  await db.connectionLease.create({ data: { host: p.targetHost, connections: 1, expiresAt: new Date(Date.now() - 60_000) } });
  // A mass submission's line that became this migration, and one whose login failed.
  const submission = await db.massSubmission.create({ data: { organizationId, createdByUserId: userId, state: 'done', records: 2, checked: 2, created: 1, failed: 1, createdAt: finishedAt, finishedAt } });
  const line = (n: number, extra: object) => ({
    submissionId: submission.id,
    line: n,
    startAt: finishedAt,
    sourceType: 'imap',
    sourceEmail: p.sourceEmail,
    sourceUsername: p.sourceUsername,
    sourceServer: p.sourceServer,
    targetType: 'imap',
    targetEmail: p.targetEmail,
    targetUsername: p.targetUsername,
    targetServer: p.targetHost,
    ...extra,
  });
  await db.massRecord.create({ data: line(1, { state: 'created', migrationId: id, sourceVerdict: { ok: true }, targetVerdict: { ok: true } }) });
  await db.massRecord.create({ data: line(2, { state: 'failed', failedSide: 'target', targetVerdict: { ok: false, reason: 'auth', message: `${p.targetHost} refused ${p.targetUsername}` }, message: `The target ${p.targetEmail} refused the login` }) });
  await db.auditEvent.create({ data: { action: 'migration.create', actorUserId: userId, organizationId, targetType: 'migration', targetId: id, details: { pool: 'free' }, ip } });
  return id;
}

/** Every text, varchar, json, jsonb and text[] column of every table (and view) of the two schemas. */
async function textColumns(db: Db) {
  return db.$queryRaw<{ table_schema: string; table_name: string; column_name: string }[]>`
    SELECT table_schema, table_name, column_name FROM information_schema.columns
    WHERE table_schema IN ('public', 'graphile_worker')
      AND (data_type IN ('text', 'character varying', 'character', 'json', 'jsonb') OR (data_type = 'ARRAY' AND udt_name IN ('_text', '_varchar')))
    ORDER BY 1, 2, 3`;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** "schema.table.column" for each column holding `needle` (case-insensitive) in any row. */
async function scan(db: Db, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const c of await textColumns(db)) {
    const rows = await db.$queryRawUnsafe<{ n: bigint }[]>(
      `SELECT count(*) AS n FROM ${quoteIdent(c.table_schema)}.${quoteIdent(c.table_name)} WHERE position(lower($1) IN lower(${quoteIdent(c.column_name)}::text)) > 0`,
      needle,
    );
    if (Number(rows[0]?.n ?? 0) > 0) hits.push(`${c.table_schema}.${c.table_name}.${c.column_name}`);
  }
  return hits;
}

const strings = (p: Personal) => [p.tag, p.sourceEmail, p.targetEmail, p.sourceUsername, p.targetUsername, p.sourceServer, p.targetHost, p.groupwareUrl, p.folder, p.targetFolder, p.collection, p.itemUid];

describe('removing an organization’s personal data', () => {
  let db: Db;
  let removed: Awaited<ReturnType<typeof seedOrganization>>;
  let control: Awaited<ReturnType<typeof seedOrganization>>;
  const mine = personal(newTag());
  const theirs = personal(newTag());
  const myIp = '203.0.113.71';
  const theirIp = '198.51.100.93';
  const ids: string[] = [];
  let controlId = '';
  const endedAt = new Date(Date.now() - 3 * DAY);

  beforeAll(async () => {
    db = isolated.db();
    removed = await seedOrganization(db, 'customer');
    control = await seedOrganization(db, 'customer');
    ids.push(await seedEnded(db, removed.organization.id, removed.user.id, mine, 'incomplete', endedAt, myIp));
    ids.push(await seedEnded(db, removed.organization.id, removed.user.id, mine, 'failed', new Date(endedAt.getTime() + 60_000), myIp));
    controlId = await seedEnded(db, control.organization.id, control.user.id, theirs, 'finished', endedAt, theirIp);
  });

  it('is refused while migrations are active, lists them, and succeeds once they are cancelled (an unstarted one’s unit back)', async () => {
    const org = removed.organization.id;
    const reserved = await reserveUnits(db, org, 2);
    if (!reserved.ok) throw new Error(reserved.message);
    const [forScheduled, forRunning] = reserved.reservations;
    const scheduled = await db.migration.create({
      data: { organizationId: org, createdByUserId: removed.user.id, state: 'scheduled', startAt: new Date(Date.now() + DAY), reservation: { connect: { id: forScheduled!.id } }, accounts: { create: [{ side: 'source', type: 'imap', email: mine.sourceEmail, username: mine.sourceUsername, server: mine.sourceServer, passwordSealed: 'sealed' }, { side: 'target', type: 'imap', email: mine.targetEmail, username: mine.targetUsername, server: mine.targetHost, passwordSealed: 'sealed' }] } },
    });
    await enqueueJob(db, migrationRunJob, { migrationId: scheduled.id }, { jobKey: migrationJobKey(scheduled.id), runAt: new Date(Date.now() + DAY) });
    const running = await db.migration.create({
      data: { organizationId: org, createdByUserId: removed.user.id, state: 'running', startAt: new Date(), startedAt: new Date(), reservation: { connect: { id: forRunning!.id } }, accounts: { create: [{ side: 'source', type: 'imap', email: `b.${mine.sourceEmail}`, username: mine.sourceUsername, server: mine.sourceServer }, { side: 'target', type: 'imap', email: `b.${mine.targetEmail}`, username: mine.targetUsername, server: mine.targetHost }] } },
    });
    await db.quotaReservation.update({ where: { id: forRunning!.id }, data: { state: 'used' } });
    const before = await usageCounts(db, org);

    const actor = { userId: removed.user.id, role: 'customer' as const, organizationId: org };
    const refusal = await removeOrganizationPersonalData(db, org, { actor }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(OrganizationHasActiveMigrationsError);
    expect((refusal as OrganizationHasActiveMigrationsError).migrations).toEqual([
      { id: scheduled.id, source: mine.sourceEmail, state: 'scheduled', isStopping: false },
      { id: running.id, source: `b.${mine.sourceEmail}`, state: 'running', isStopping: false },
    ]);
    // Refused means untouched.
    expect(await db.migrationAccount.count({ where: { migrationId: ids[0], email: mine.sourceEmail } })).toBe(1);
    await expect(removeMigrationPersonalData(db, running.id, { reason: 'admin' })).rejects.toBeInstanceOf(MigrationStillActiveError);
    // Another customer cannot remove this organization's data.
    await expect(removeOrganizationPersonalData(db, org, { actor: { ...actor, organizationId: control.organization.id } })).rejects.toThrow(/own organization/);

    const cancelled = await cancelActiveMigrations(db, org, { userId: removed.user.id });
    expect(cancelled.map((c) => [c.id, c.was, c.isUnitReturned])).toEqual([
      [scheduled.id, 'scheduled', true],
      [running.id, 'running', false],
    ]);
    expect((await usageCounts(db, org)).freeUnits).toBe(before.freeUnits - 1);
    ids.push(scheduled.id, running.id);

    const at = new Date();
    const counts = await removeOrganizationPersonalData(db, org, { actor, at });
    expect(counts).toMatchObject({ migrations: 4, accounts: 8, folders: 4, issues: 4, notices: 2, verifications: 2, groupwareCollections: 2, groupwareIssues: 2, groupwareChanges: 2, auditIpAddresses: 2, hostedMailboxes: 0 });
    // Two mass lines per seeded migration: the one that became it, and the failed one.
    expect(counts.massRecords).toBe(4);
    expect(counts.jobs).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(counts)).not.toContain(mine.tag);

    const rows = await db.migration.findMany({ where: { organizationId: org }, select: { state: true, detailsRemovedAt: true, detailsRemovedReason: true, totalMessages: true, organizationId: true } });
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toMatchObject({ detailsRemovedAt: at, detailsRemovedReason: 'customer' });
    // What stays: the counts, the licence usage, the organization and its users.
    expect(rows.filter((r) => r.totalMessages === 40)).toHaveLength(2);
    expect((await usageCounts(db, org)).migrationsDone).toBe(before.migrationsDone);
    expect(await db.user.count({ where: { organizationId: org } })).toBe(1);
    const audit = await db.auditEvent.findFirst({ where: { organizationId: org, action: 'organization.remove_personal_data' }, select: { details: true, ip: true } });
    expect(audit).toMatchObject({ ip: null, details: { migrations: 4 } });
  });

  it('waits for a cancelled migration whose job a worker still holds: it could write a checkpoint after the removal', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const p = personal(newTag());
    const id = await seedEnded(db, organization.id, user.id, p, 'cancelled', new Date(), '192.0.2.44');
    await enqueueJob(db, migrationRunJob, { migrationId: id }, { jobKey: `${migrationJobKey(id)}:held` });
    await db.$executeRaw`UPDATE graphile_worker._private_jobs SET locked_at = now(), locked_by = 'worker-still-copying' WHERE key = ${`${migrationJobKey(id)}:held`}`;

    const refused = await removeMigrationPersonalData(db, id, { reason: 'admin' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MigrationStillActiveError);
    expect((refused as MigrationStillActiveError).isStopping).toBe(true);
    const actor = { userId: null, role: 'admin' as const };
    const listed = await removeOrganizationPersonalData(db, organization.id, { actor }).catch((error: unknown) => error);
    expect((listed as OrganizationHasActiveMigrationsError).migrations).toEqual([{ id, source: p.sourceEmail, state: 'cancelled', isStopping: true }]);
    // Nothing to cancel there.
    expect(await cancelActiveMigrations(db, organization.id, { userId: user.id })).toEqual([]);

    // The worker lets go (the job ends): now it goes, and nothing of it is left.
    await db.$executeRaw`DELETE FROM graphile_worker._private_jobs WHERE key = ${`${migrationJobKey(id)}:held`}`;
    expect((await removeOrganizationPersonalData(db, organization.id, { actor })).migrations).toBe(1);
    expect((await db.migration.findUniqueOrThrow({ where: { id }, select: { detailsRemovedReason: true } })).detailsRemovedReason).toBe('admin');
    expect(await scan(db, p.tag)).toEqual([]);
  });

  it('leaves none of the removed strings in any text, JSON or array column of any table', async () => {
    for (const needle of [...strings(mine), myIp]) expect({ needle, hits: await scan(db, needle) }).toEqual({ needle, hits: [] });
  });

  it('the scan finds what is left: the control organization keeps every one of its strings, untouched', async () => {
    const hits = await scan(db, theirs.tag);
    for (const column of [
      'public.migration_accounts.email',
      'public.migration_accounts.username',
      'public.migration_accounts.server',
      'public.migration_accounts.groupware_url',
      'public.migration_folders.source_path',
      'public.migration_issues.reason',
      'public.migration_notices.text',
      'public.migration_verifications.target_path',
      'public.migration_groupware_collections.source_name',
      'public.migration_groupware_collections.checkpoint',
      'public.migration_groupware_issues.collection',
      'public.migration_groupware_changes.collection',
      'public.migration_notifications.last_error',
      'public.mass_records.source_email',
      'public.rate_limit_buckets.key',
      'public.connection_leases.host',
      'graphile_worker._private_jobs.last_error',
      'public.migrations.live_folders',
    ]) {
      expect(hits).toContain(column);
    }
    expect(await scan(db, theirIp)).toEqual(['public.audit_events.ip']);
    for (const needle of strings(theirs)) expect((await scan(db, needle)).length).toBeGreaterThan(0);
    const row = await db.migration.findUniqueOrThrow({ where: { id: controlId }, select: { detailsRemovedAt: true, accounts: { select: { email: true }, orderBy: { side: 'asc' } } } });
    expect(row).toEqual({ detailsRemovedAt: null, accounts: [{ email: theirs.sourceEmail }, { email: theirs.targetEmail }] });
  });

  it('lists, detail, report and admin list of a removed migration show counts and no personal text', async () => {
    const org = removed.organization.id;
    const [incompleteId] = ids;
    const all = await listMigrations(db, org, 'all', zone);
    expect(all).toHaveLength(4);
    for (const item of all) {
      expect(item.detailsRemoved?.text).toMatch(/^Details removed on \d{1,2} [A-Z][a-z]{2} \d{4}$/);
      expect(item.source.email).toBe('');
      expect(item.verdict).toEqual({ tone: 'none', text: item.detailsRemoved!.text });
    }
    const listed = all.find((i) => i.id === incompleteId)!;
    expect(listed).toMatchObject({ state: 'incomplete', messages: { copied: 37, total: 40 }, source: { type: 'imap', email: '' } });

    const detail = await getMigrationDetail(db, org, incompleteId!, zone);
    expect(detail.totals).toEqual({ total: 40, copied: 37, skipped: 1, failed: 2, gone: 0 });
    expect(detail).toMatchObject({ folders: [], notCopied: [], notCopiedCount: 0, notices: [], renamed: [], groupwareCollections: [], verification: null, bytes: { copied: 4_000_000, total: 4_096_000 } });
    expect(detail.timeline.length).toBeGreaterThan(0);

    const report = await getMigrationReport(db, org, incompleteId!, zone);
    expect(report.migration).toMatchObject({ state: 'incomplete', messages: { total: 40, copied: 37, skipped: 1, failed: 2 }, detailsRemoved: detail.detailsRemoved!.text, detailsRemovedAt: detail.detailsRemoved!.at.toISOString(), source: { email: '', type: 'imap' } });
    const csv = reportCsv(report);
    const facts = Papa.parse<string[]>(csv.replace(/^\uFEFF/, '').trim()).data;
    expect(facts.some((r) => r[1] === 'details_removed_at_utc' && r[2] === detail.detailsRemoved!.at.toISOString())).toBe(true);
    for (const text of [JSON.stringify(all), JSON.stringify(detail), JSON.stringify(report), csv]) expect(text).not.toContain(mine.tag);

    const failed = await getMigrationReport(db, org, ids[1]!, zone);
    expect(failed.migration).toMatchObject({ state: 'failed', failureReason: null });

    const admin = await listAllMigrations(db, { organizationId: org }, zone);
    expect(admin.items).toHaveLength(4);
    for (const item of admin.items) expect(item).toMatchObject({ source: { email: '' }, target: { email: '' }, detailsRemoved: { text: expect.stringMatching(/^Details removed on /) } });
    expect(JSON.stringify(admin)).not.toContain(mine.tag);

    const counts = await migrationCountsBefore(db, org);
    expect(counts.count).toBe(4);
    expect(counts.removedAt).toEqual(all[0]!.detailsRemoved!.at);
    expect(counts.byMonth.reduce((n, m) => n + m.count, 0)).toBe(4);
    expect(new Set(counts.byMonth.map((m) => m.state))).toEqual(new Set(['incomplete', 'failed', 'cancelled']));
    expect(await migrationCountsBefore(db, control.organization.id)).toEqual({ count: 0, doneBefore: null, removedAt: null, byMonth: [] });
  });
});

describe('retention', () => {
  it('the maintenance job removes the details of migrations ended more than N days ago; 0 keeps everything', async () => {
    const db = isolated.db();
    const { organization, user } = await seedOrganization(db, 'customer');
    const now = new Date();
    const old = personal(newTag());
    const recent = personal(newTag());
    const oldId = await seedEnded(db, organization.id, user.id, old, 'finished', new Date(now.getTime() - 100 * DAY), '192.0.2.10');
    const recentId = await seedEnded(db, organization.id, user.id, recent, 'cancelled', new Date(now.getTime() - 10 * DAY), '192.0.2.11');
    // The audit entries' dates follow the migrations', so their IP addresses age with them.
    await db.auditEvent.updateMany({ where: { targetId: oldId }, data: { createdAt: new Date(now.getTime() - 100 * DAY) } });
    const removedAt = async (id: string) => (await db.migration.findUniqueOrThrow({ where: { id }, select: { detailsRemovedAt: true, detailsRemovedReason: true } }));

    const kept = await runMaintenance(db, { now, retentionDays: 0 });
    expect(kept).toMatchObject({ migrationDetailsRemoved: 0, auditIpAddressesRemoved: 0 });
    expect(await removedAt(oldId)).toEqual({ detailsRemovedAt: null, detailsRemovedReason: null });

    const first = await runMaintenance(db, { now, retentionDays: 30 });
    // Earlier tests' migrations ended 3 days ago: not due.
    expect(first.migrationDetailsRemoved).toBe(1);
    expect(first.auditIpAddressesRemoved).toBe(1);
    expect(await removedAt(oldId)).toEqual({ detailsRemovedAt: now, detailsRemovedReason: 'retention' });
    expect(await removedAt(recentId)).toEqual({ detailsRemovedAt: null, detailsRemovedReason: null });
    expect(await scan(db, old.tag)).toEqual([]);
    expect((await scan(db, recent.tag)).length).toBeGreaterThan(5);

    // Again: nothing more is due; 21 days later the recent one is.
    expect((await runMaintenance(db, { now, retentionDays: 30 })).migrationDetailsRemoved).toBe(0);
    const later = new Date(now.getTime() + 21 * DAY);
    await runMaintenance(db, { now: later, retentionDays: 30 });
    expect(await removedAt(recentId)).toEqual({ detailsRemovedAt: later, detailsRemovedReason: 'retention' });
    expect(await scan(db, recent.tag)).toEqual([]);
  });
});

describe('MAILFERRY_RETENTION_DAYS', () => {
  it('is 90 days unless set, 0 keeps forever, and refuses what is not a whole number of days', () => {
    expect(parseEnv({}).MAILFERRY_RETENTION_DAYS).toBe(90);
    expect(parseEnv({ MAILFERRY_RETENTION_DAYS: ' 0 ' }).MAILFERRY_RETENTION_DAYS).toBe(0);
    expect(parseEnv({ MAILFERRY_RETENTION_DAYS: '365' }).MAILFERRY_RETENTION_DAYS).toBe(365);
    for (const bad of ['-1', '1.5', 'forever']) expect(() => parseEnv({ MAILFERRY_RETENTION_DAYS: bad })).toThrow(EnvError);
  });
});
