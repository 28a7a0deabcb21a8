/**
 * The downloadable report of an ended migration, from the rows a run leaves behind (folders,
 * issues, verification), against real PostgreSQL: both formats, formula escaping, nothing of the
 * accounts but address and type, another organization's id not found, an active one refused.
 */
import Papa from 'papaparse';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSessionUser, type SessionUser } from '@/server/auth/session-user';
import type { MigrationState } from '@/server/generated/prisma/enums';
import { DbGroupwareStateStore } from '@/server/migrations/groupware-state';
import { getMigrationDetail } from '@/server/migrations/migration-detail';
import { REPORT_CSV_COLUMNS, reportResponse, type MigrationReport } from '@/server/migrations/report';
import { seedOrganization, testDb } from './helpers/database';

const db = testDb();
const zone = 'Europe/Berlin';
const USERNAME = 'login-name-7731';
const SEALED = 'sealed-secret-value-4410';

let customer: SessionUser;
let stranger: SessionUser;
let reseller: SessionUser;

async function sessionOf(userId: string) {
  const user = await loadSessionUser(db, userId);
  if (!user) throw new Error('seeded user not found');
  return user;
}

/** A migration as a run leaves it: two folders, a refused message, a folder not created, a verification with a gap. */
async function seedMigration(organizationId: string, state: MigrationState) {
  const migration = await db.migration.create({
    data: {
      organizationId,
      state,
      startAt: new Date('2027-01-12T09:00:00.000Z'),
      resyncAt: new Date('2027-01-13T09:00:00.000Z'),
      startedAt: new Date('2027-01-12T09:00:05.000Z'),
      finishedAt: state === 'running' ? null : new Date('2027-01-13T09:12:00.000Z'),
      totalMessages: 13,
      copiedMessages: 11,
      failedMessages: 1,
      skippedMessages: 1,
      totalBytes: 40_960n,
      copiedBytes: 30_720n,
      accounts: {
        create: [
          { side: 'source', type: 'imap', email: 'anna@old.example', username: USERNAME, server: 'imap.old.example', passwordSealed: SEALED },
          { side: 'target', type: 'imap', email: 'anna@new.example', username: `${USERNAME}-t`, server: 'imap.new.example', passwordSealed: SEALED },
        ],
      },
      folders: {
        create: [
          { sourcePath: 'INBOX', targetPath: 'INBOX', messagesCopied: 9, messagesSkipped: 1, messagesFailed: 1, bytesCopied: 20_480n },
          { sourcePath: '=SUM(A1:A9)', targetPath: 'Archiv, "alt"', messagesCopied: 2, bytesCopied: 10_240n },
        ],
      },
      issues: {
        create: [
          { folder: 'INBOX', uid: 7, size: 52_428_800n, messageDate: new Date('2026-11-03T08:15:00Z'), reason: '+Too large for the target (limit 25 MB)' },
          { folder: 'INBOX', uid: 7, size: 52_428_800n, messageDate: new Date('2026-11-03T08:15:00Z'), reason: '+Too large for the target (limit 25 MB)' },
          { folder: '@Spam', uid: null, reason: 'The target refused to create the folder: [CANNOT] not allowed' },
        ],
      },
      verifications: {
        create: [
          { sourcePath: 'INBOX', targetPath: 'INBOX', pass: 'resync', sourceMessages: 11, presentMessages: 9, missingMessages: 2, missingReported: 1, missingUids: [7, 12], verifiedAt: new Date('2027-01-13T09:11:00.000Z') },
          { sourcePath: '@Spam', targetPath: null, pass: 'resync', sourceMessages: 0, presentMessages: 0, missingMessages: 0, missingReported: 0, missingUids: [], unverifiedReason: '-Folder not on the target', verifiedAt: new Date('2027-01-13T09:11:30.000Z') },
        ],
      },
    },
    select: { id: true },
  });
  return migration.id;
}

beforeAll(async () => {
  const mine = await seedOrganization(db, 'customer');
  const other = await seedOrganization(db, 'customer');
  const partner = await seedOrganization(db, 'reseller');
  customer = await sessionOf(mine.user.id);
  stranger = await sessionOf(other.user.id);
  reseller = await sessionOf(partner.user.id);
});

describe('migration report', () => {
  it('JSON: the facts, folders, verification and every item not copied, once each', async () => {
    const id = await seedMigration(customer.organization!.id, 'incomplete');
    const response = await reportResponse(db, customer, id, 'json', zone);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="mailferry-migration-${id.slice(0, 8)}-report.json"`);
    const text = await response.text();
    const report = JSON.parse(text) as MigrationReport;

    expect(report.reportVersion).toBe(1);
    expect(report.timeZone).toBe(zone);
    expect(report.migration).toMatchObject({
      id,
      state: 'incomplete',
      source: { email: 'anna@old.example', type: 'imap' },
      target: { email: 'anna@new.example', type: 'imap' },
      startAt: '2027-01-12T09:00:00.000Z',
      resyncAt: '2027-01-13T09:00:00.000Z',
      startedAt: '2027-01-12T09:00:05.000Z',
      finishedAt: '2027-01-13T09:12:00.000Z',
      local: { startAt: '12 Jan 2027, 10:00', resyncAt: '13 Jan 2027, 10:00', startedAt: '12 Jan 2027, 10:00', finishedAt: '13 Jan 2027, 10:12' },
      messages: { total: 13, copied: 11, skipped: 1, failed: 1 },
      bytes: { copied: 30_720, total: 40_960 },
      failureReason: null,
    });
    expect(report.migration.stateLine).toMatch(/not copied|missing/i);
    expect(report.folders.map((f) => [f.sourcePath, f.targetPath, f.copied, f.total, f.skipped, f.failed])).toEqual([
      ['INBOX', 'INBOX', 9, 11, 1, 1],
      ['@Spam', '', 0, 0, 0, 0],
      ['=SUM(A1:A9)', 'Archiv, "alt"', 2, 2, 0, 0],
    ]);
    expect(report.folders[1]!.problem).toBe('Could not be created on the target');
    expect(report.verification).toMatchObject({ pass: 'resync', verifiedAt: '2027-01-13T09:11:30.000Z', totals: { sourceMessages: 11, present: 9, missing: 2, unverifiedFolders: 1 } });
    expect(report.verification!.folders[0]).toEqual({ sourcePath: 'INBOX', targetPath: 'INBOX', sourceMessages: 11, present: 9, missing: 2, missingUids: [7, 12], unverifiedReason: null });
    // The message reported by two passes is listed once.
    expect(report.notCopied).toEqual([
      { folder: 'INBOX', uid: 7, size: 52_428_800, date: '2026-11-03T08:15:00.000Z', reason: '+Too large for the target (limit 25 MB)' },
      { folder: '@Spam', uid: null, size: null, date: null, reason: 'The target refused to create the folder: [CANNOT] not allowed' },
    ]);
    expect(text).not.toContain(USERNAME);
    expect(text).not.toContain(SEALED);
    expect(text).not.toContain('imap.old.example');
  });

  it('CSV: BOM, CRLF, one header, a section column, formulas escaped, quotes doubled', async () => {
    const id = await seedMigration(customer.organization!.id, 'incomplete');
    const response = await reportResponse(db, customer, id, 'csv', zone);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="mailferry-migration-${id.slice(0, 8)}-report.csv"`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
    expect(text.charCodeAt(0)).toBe(0xfeff);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.replaceAll('\r\n', '')).not.toContain('\n');
    expect(text).toContain(`"Archiv, ""alt"""`);

    const parsed = Papa.parse<Record<string, string>>(text.slice(1).trimEnd(), { header: true });
    expect(parsed.errors).toEqual([]);
    expect(parsed.meta.fields).toEqual([...REPORT_CSV_COLUMNS]);
    const rows = parsed.data;
    const fact = (field: string) => rows.find((r) => r.section === 'migration' && r.field === field)?.value;
    expect(fact('id')).toBe(id);
    expect(fact('source_email')).toBe('anna@old.example');
    expect(fact('target_email')).toBe('anna@new.example');
    expect(fact('finished_at_utc')).toBe('2027-01-13T09:12:00.000Z');
    expect(fact('finished_at_local')).toBe('13 Jan 2027, 10:12');
    expect(fact('messages_copied')).toBe('11');
    expect(fact('bytes_total')).toBe('40960');

    const folders = rows.filter((r) => r.section === 'folder');
    expect(folders.map((r) => [r.source_folder, r.target_folder, r.copied, r.total])).toEqual([
      ['INBOX', 'INBOX', '9', '11'],
      // Folders named like a formula stay text in a spreadsheet.
      ["'@Spam", '', '0', '0'],
      ["'=SUM(A1:A9)", 'Archiv, "alt"', '2', '2'],
    ]);
    const verification = rows.filter((r) => r.section === 'verification');
    expect(verification.map((r) => [r.source_folder, r.source_messages, r.present, r.missing, r.missing_uids, r.unverified_reason])).toEqual([
      ['INBOX', '11', '9', '2', '7 12', ''],
      ["'@Spam", '0', '0', '0', '', "'-Folder not on the target"],
    ]);
    const notCopied = rows.filter((r) => r.section === 'not_copied');
    expect(notCopied.map((r) => [r.source_folder, r.uid, r.size, r.date, r.reason])).toEqual([
      ['INBOX', '7', '52428800', '2026-11-03T08:15:00.000Z', "'+Too large for the target (limit 25 MB)"],
      ["'@Spam", '', '', '', 'The target refused to create the folder: [CANNOT] not allowed'],
    ]);
    expect(text).not.toContain(USERNAME);
    expect(text).not.toContain(SEALED);
  });

  it("another organization's migration, an unknown id and a malformed one are all not found", async () => {
    const id = await seedMigration(customer.organization!.id, 'finished');
    const theirs = await reportResponse(db, stranger, id, 'json', zone);
    expect(theirs.status).toBe(404);
    expect(await theirs.text()).not.toContain('anna@');
    expect((await reportResponse(db, customer, '00000000-0000-4000-8000-000000000000', 'csv', zone)).status).toBe(404);
    expect((await reportResponse(db, customer, 'not-an-id', 'csv', zone)).status).toBe(404);
    expect((await reportResponse(db, customer, id, 'json', zone)).status).toBe(200);
  });

  it('an active migration is refused with a plain message; no session, another role or format too', async () => {
    const id = await seedMigration(customer.organization!.id, 'running');
    const active = await reportResponse(db, customer, id, 'csv', zone);
    expect(active.status).toBe(409);
    expect(active.headers.get('content-disposition')).toBeNull();
    expect(await active.text()).toMatch(/has not ended yet/);
    expect((await reportResponse(db, null, id, 'csv', zone)).status).toBe(401);
    expect((await reportResponse(db, reseller, id, 'csv', zone)).status).toBe(403);
    const ended = await seedMigration(customer.organization!.id, 'cancelled');
    expect((await reportResponse(db, customer, ended, 'xlsx', zone)).status).toBe(400);
    expect((await reportResponse(db, customer, ended, null, zone)).headers.get('content-type')).toBe('text/csv; charset=utf-8');
  });
});

describe('groupware copied with changes', () => {
  it('the detail groups them by property with distinct items, the report and the CSV list each item once', async () => {
    const id = await seedMigration(customer.organization!.id, 'finished');
    const store = new DbGroupwareStateStore(db, id);
    const attendees = { component: 'VEVENT', property: 'ATTENDEE', reason: "kept in the event's text: Microsoft 365 would send invitations" };
    const fax = { component: 'VCARD', property: 'TEL', reason: 'fax numbers have no place in a Microsoft 365 contact' };
    await store.recordChanges([
      { kind: 'calendar', collection: 'Calendar', uid: 'meeting-1', notMapped: [attendees, { component: 'VEVENT', property: 'ORGANIZER', reason: 'kept in the text' }] },
      { kind: 'calendar', collection: 'Calendar', uid: 'meeting-2', notMapped: [attendees] },
      { kind: 'contacts', collection: 'Contacts', uid: null, notMapped: [fax, { component: 'VALARM', property: null, reason: 'no reminders on contacts' }] },
    ]);
    // An item written again (updated by a later pass) keeps its rows once.
    await store.recordChanges([{ kind: 'calendar', collection: 'Calendar', uid: 'meeting-2', notMapped: [attendees] }]);

    const detail = await getMigrationDetail(db, customer.organization!.id, id, zone);
    expect(detail.groupwareChangedItems).toBe(3);
    expect(detail.groupwareChanged[0]).toEqual({ kind: 'calendar', ...attendees, items: 2 });
    expect(detail.groupwareChanged).toHaveLength(4);

    const report = JSON.parse(await (await reportResponse(db, customer, id, 'json', zone)).text()) as MigrationReport;
    expect(report.groupware.changed).toHaveLength(5);
    expect(report.groupware.changed).toContainEqual({ kind: 'contacts', collection: 'Contacts', uid: null, component: 'VALARM', property: null, reason: 'no reminders on contacts' });
    const csv = Papa.parse<string[]>((await (await reportResponse(db, customer, id, 'csv', zone)).text()).replace(/^\uFEFF/, ''), { skipEmptyLines: true }).data;
    const header = csv[0]!;
    const changed = csv.filter((row) => row[header.indexOf('section')] === 'groupware_changed');
    expect(changed).toHaveLength(5);
    expect(changed.map((row) => row[header.indexOf('field')])).toContain('VEVENT ATTENDEE');

    // Another organization sees nothing of it.
    await expect(getMigrationDetail(db, stranger.organization!.id, id, zone)).rejects.toThrow();
  });
});
