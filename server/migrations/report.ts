import Papa from 'papaparse';
import { z } from 'zod';
import type { SessionUser } from '../auth/session-user';
import type { Db } from '../db';
import { MigrationNotFoundError } from './errors';
import { formatInZone } from './list-migrations';
import { getMigrationDetail } from './migration-detail';
import { allNotCopied } from './not-copied';

/**
 * The downloadable report of one ended migration: what the detail page shows, as one JSON
 * object or one CSV file. Nothing of the accounts but type and address; no message content.
 *
 * JSON keys (stable; `reportVersion` moves when one changes meaning):
 * - `migration`: id, state, stateLine, source/target {email, type}, startAt, resyncAt,
 *   startedAt, finishedAt (UTC ISO 8601, or null) and the same in `local` (server's zone),
 *   messages {total, copied, skipped, failed}, bytes {copied, total}, failureReason,
 *   detailsRemovedAt (UTC ISO 8601, or null): when its personal data was removed; then the
 *   addresses are empty, `detailsRemoved` says so in words, and folders, verification and
 *   the item lists are empty: the counts are all that is kept
 * - `folders[]`: sourcePath, targetPath, total, copied, skipped, failed, bytesCopied, problem
 * - `verification`: pass, verifiedAt, verifiedLocal, totals, folders[] {sourcePath, targetPath,
 *   sourceMessages, present, missing, missingUids, unverifiedReason}; null before any pass ended
 * - `notCopied[]`: folder, uid (null: the whole folder), size (bytes, or null), date (the
 *   message's date on the source, UTC ISO 8601, or null where it is not known), reason
 * - `groupware`: `collections[]` {kind (calendar, contacts, tasks), source, target, note (why
 *   the target's name differs, or null), items (on the source), copied (of those, on the
 *   target)}, `notCopied[]` {kind, collection, uid (or null), size (bytes, or null), reason}
 *   and `changed[]` {kind, collection, uid (or null), component, property (or null), reason}:
 *   items copied without something the target has no place for (Exchange, Microsoft 365);
 *   all empty for e-mail-only migrations. Never an item's summary or content.
 */
export interface MigrationReport {
  reportVersion: 1;
  generatedAt: string;
  timeZone: string;
  migration: {
    id: string;
    state: string;
    stateLine: string | null;
    source: { email: string; type: string };
    target: { email: string; type: string };
    startAt: string;
    resyncAt: string | null;
    startedAt: string | null;
    finishedAt: string | null;
    local: { startAt: string; resyncAt: string | null; startedAt: string | null; finishedAt: string | null };
    messages: { total: number; copied: number; skipped: number; failed: number };
    bytes: { copied: number; total: number };
    failureReason: string | null;
    detailsRemovedAt: string | null;
    /** "Details removed on 7 Dec 2026", or null. */
    detailsRemoved: string | null;
  };
  folders: { sourcePath: string; targetPath: string; total: number; copied: number; skipped: number; failed: number; bytesCopied: number; problem: string | null }[];
  verification: {
    pass: 'run' | 'resync';
    verifiedAt: string;
    verifiedLocal: string;
    totals: { sourceMessages: number; present: number; missing: number; unverifiedFolders: number };
    folders: { sourcePath: string; targetPath: string | null; sourceMessages: number; present: number; missing: number; missingUids: number[]; unverifiedReason: string | null }[];
  } | null;
  notCopied: { folder: string; uid: number | null; size: number | null; date: string | null; reason: string }[];
  groupware: {
    collections: { kind: string; source: string; target: string; note: string | null; items: number; copied: number }[];
    notCopied: { kind: string; collection: string; uid: string | null; size: number | null; reason: string }[];
    changed: { kind: string; collection: string; uid: string | null; component: string; property: string | null; reason: string }[];
  };
}

/** Asked for the report of a migration that is still running. */
export class MigrationNotEndedError extends Error {
  constructor() {
    super('This migration has not ended yet; its report can be downloaded once it has finished, failed or been cancelled.');
    this.name = 'MigrationNotEndedError';
  }
}

export async function getMigrationReport(db: Db, organizationId: string, id: string, zone: string, now = new Date()): Promise<MigrationReport> {
  const detail = await getMigrationDetail(db, organizationId, id, zone);
  if (detail.isActive) throw new MigrationNotEndedError();
  const [row, notCopied, verifiedAt, groupwareNotCopied, groupwareChanged] = await Promise.all([
    db.migration.findFirst({
      where: { id, organizationId },
      select: { startAt: true, resyncAt: true, startedAt: true, finishedAt: true, totalBytes: true, copiedBytes: true },
    }),
    // All of them, each once, in the page's order: the page shows them a page at a time, the report is the record.
    allNotCopied(db, organizationId, id),
    db.migrationVerification.aggregate({ where: { migrationId: id }, _max: { verifiedAt: true } }),
    // All of them, not only the first the page shows.
    db.migrationGroupwareIssue.findMany({ where: { migrationId: id }, select: { kind: true, collection: true, uid: true, size: true, reason: true }, orderBy: { id: 'asc' } }),
    db.migrationGroupwareChange.findMany({ where: { migrationId: id }, select: { kind: true, collection: true, uid: true, component: true, property: true, reason: true }, orderBy: { id: 'asc' } }),
  ]);
  if (!row) throw new MigrationNotFoundError();

  const iso = (at: Date | null) => (at ? at.toISOString() : null);
  const local = (at: Date | null) => (at ? formatInZone(at, zone) : null);

  const v = detail.verification;
  return {
    reportVersion: 1,
    generatedAt: now.toISOString(),
    timeZone: zone,
    migration: {
      id: detail.id,
      state: detail.state,
      stateLine: detail.statusLine,
      source: detail.source,
      target: detail.target,
      startAt: row.startAt.toISOString(),
      resyncAt: iso(row.resyncAt),
      startedAt: iso(row.startedAt),
      finishedAt: iso(row.finishedAt),
      local: { startAt: formatInZone(row.startAt, zone), resyncAt: local(row.resyncAt), startedAt: local(row.startedAt), finishedAt: local(row.finishedAt) },
      messages: { total: detail.totals.total, copied: detail.totals.copied, skipped: detail.totals.skipped, failed: detail.totals.failed },
      bytes: { copied: Number(row.copiedBytes), total: Number(row.totalBytes) },
      failureReason: detail.failureReason,
      detailsRemovedAt: detail.detailsRemoved ? detail.detailsRemoved.at.toISOString() : null,
      detailsRemoved: detail.detailsRemoved?.text ?? null,
    },
    folders: detail.folders.map((f) => ({
      sourcePath: f.sourcePath,
      targetPath: f.targetPath,
      total: f.total,
      copied: f.copied,
      skipped: f.skipped,
      failed: f.failed,
      bytesCopied: f.bytesCopied,
      problem: f.problem,
    })),
    verification:
      v && verifiedAt._max.verifiedAt
        ? {
            pass: v.pass,
            verifiedAt: verifiedAt._max.verifiedAt.toISOString(),
            verifiedLocal: v.verifiedLocal,
            totals: v.totals,
            folders: v.folders.map((f) => ({
              sourcePath: f.sourcePath,
              targetPath: f.targetPath,
              sourceMessages: f.sourceMessages,
              present: f.present,
              missing: f.missing,
              missingUids: f.missingUids,
              unverifiedReason: f.unverified,
            })),
          }
        : null,
    notCopied,
    groupware: {
      collections: detail.groupwareCollections,
      notCopied: groupwareNotCopied,
      changed: groupwareChanged.map((c) => ({ kind: c.kind, collection: c.collection, uid: c.uid || null, component: c.component, property: c.property || null, reason: c.reason })),
    },
  };
}

/** The CSV's columns; every row fills those of its section, a spreadsheet filters by `section`. */
export const REPORT_CSV_COLUMNS = [
  'section',
  'field',
  'value',
  'source_folder',
  'target_folder',
  'total',
  'copied',
  'skipped',
  'failed',
  'bytes_copied',
  'problem',
  'source_messages',
  'present',
  'missing',
  'missing_uids',
  'unverified_reason',
  'uid',
  'size',
  'date',
  'reason',
  'kind',
  'note',
] as const;

type CsvRow = Partial<Record<(typeof REPORT_CSV_COLUMNS)[number], string | number | null>>;

/**
 * RFC 4180 (CRLF, quoted where needed), with a BOM so Excel reads it as UTF-8, and cells that
 * start like a formula prefixed with `'` (papaparse's escapeFormulae, as the licence-key export).
 */
export function reportCsv(report: MigrationReport): string {
  const m = report.migration;
  const facts: [string, string | number | null][] = [
    ['id', m.id],
    ['state', m.state],
    ['state_line', m.stateLine],
    ['source_email', m.source.email],
    ['source_type', m.source.type],
    ['target_email', m.target.email],
    ['target_type', m.target.type],
    ['start_at_utc', m.startAt],
    ['start_at_local', m.local.startAt],
    ['resync_at_utc', m.resyncAt],
    ['resync_at_local', m.local.resyncAt],
    ['started_at_utc', m.startedAt],
    ['started_at_local', m.local.startedAt],
    ['finished_at_utc', m.finishedAt],
    ['finished_at_local', m.local.finishedAt],
    ['time_zone', report.timeZone],
    ['messages_total', m.messages.total],
    ['messages_copied', m.messages.copied],
    ['messages_skipped', m.messages.skipped],
    ['messages_failed', m.messages.failed],
    ['bytes_copied', m.bytes.copied],
    ['bytes_total', m.bytes.total],
    ['failure_reason', m.failureReason],
    ['details_removed_at_utc', m.detailsRemovedAt],
    ['verified_pass', report.verification?.pass ?? null],
    ['verified_at_utc', report.verification?.verifiedAt ?? null],
    ['verified_at_local', report.verification?.verifiedLocal ?? null],
    ['report_generated_at_utc', report.generatedAt],
  ];
  const rows: CsvRow[] = [
    ...facts.map(([field, value]): CsvRow => ({ section: 'migration', field, value })),
    ...report.folders.map((f): CsvRow => ({
      section: 'folder',
      source_folder: f.sourcePath,
      target_folder: f.targetPath,
      total: f.total,
      copied: f.copied,
      skipped: f.skipped,
      failed: f.failed,
      bytes_copied: f.bytesCopied,
      problem: f.problem,
    })),
    ...(report.verification?.folders ?? []).map((f): CsvRow => ({
      section: 'verification',
      source_folder: f.sourcePath,
      target_folder: f.targetPath,
      source_messages: f.sourceMessages,
      present: f.present,
      missing: f.missing,
      missing_uids: f.missingUids.join(' '),
      unverified_reason: f.unverifiedReason,
    })),
    ...report.notCopied.map((i): CsvRow => ({ section: 'not_copied', source_folder: i.folder, uid: i.uid, size: i.size, date: i.date, reason: i.reason })),
    // Calendars, address books and task lists: the collection's names in the folder columns.
    ...report.groupware.collections.map((c): CsvRow => ({ section: 'groupware', kind: c.kind, source_folder: c.source, target_folder: c.target, total: c.items, copied: c.copied, note: c.note })),
    ...report.groupware.notCopied.map((i): CsvRow => ({ section: 'groupware_not_copied', kind: i.kind, source_folder: i.collection, uid: i.uid, size: i.size, reason: i.reason })),
    // Copied, but without what the target has no place for: the component and property in `field`.
    ...report.groupware.changed.map((c): CsvRow => ({ section: 'groupware_changed', kind: c.kind, source_folder: c.collection, uid: c.uid, field: c.property ? `${c.component} ${c.property}` : c.component, reason: c.reason })),
  ];
  const data = rows.map((row) => REPORT_CSV_COLUMNS.map((column) => row[column] ?? ''));
  const csv = Papa.unparse({ fields: [...REPORT_CSV_COLUMNS], data }, { newline: '\r\n', escapeFormulae: true });
  return `\uFEFF${csv}\r\n`;
}

export const reportFormatSchema = z.enum(['csv', 'json']);
const idSchema = z.guid();

const plain = (status: number, text: string) => new Response(text, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' } });

/**
 * The HTTP answer to GET /api/migrations/<id>/report?format=csv|json for the session's user:
 * customers only, their own organization's migrations only (another's id is 404, like a
 * missing one), ended migrations only (409).
 */
export async function reportResponse(db: Db, user: SessionUser | null, id: string, format: string | null, zone: string): Promise<Response> {
  if (!user) return plain(401, 'Sign in to download this report.');
  if (user.role !== 'customer' || !user.organization) return plain(403, 'You do not have access to this.');
  const parsedFormat = reportFormatSchema.safeParse(format ?? 'csv');
  if (!parsedFormat.success) return plain(400, 'The format is csv or json.');
  if (!idSchema.safeParse(id).success) return plain(404, new MigrationNotFoundError().message);
  let report: MigrationReport;
  try {
    report = await getMigrationReport(db, user.organization.id, id, zone);
  } catch (error) {
    if (error instanceof MigrationNotFoundError) return plain(404, error.message);
    if (error instanceof MigrationNotEndedError) return plain(409, error.message);
    throw error;
  }
  const filename = `mailferry-migration-${id.slice(0, 8)}-report.${parsedFormat.data}`;
  const headers = { 'Content-Disposition': `attachment; filename="${filename}"`, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
  if (parsedFormat.data === 'json') {
    return new Response(`${JSON.stringify(report, null, 2)}\n`, { headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8' } });
  }
  return new Response(reportCsv(report), { headers: { ...headers, 'Content-Type': 'text/csv; charset=utf-8' } });
}
