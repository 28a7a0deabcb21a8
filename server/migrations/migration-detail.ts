import type { Db } from '../db';
import type { FolderReport } from '../engine/copy-mailbox';
import { MigrationNotFoundError } from './errors';
import { describeGone, folderLosses, isFolderNotCreated, statusLine } from './lifecycle';
import { formatInZone, getMigration, type MigrationListItem } from './list-migrations';

/**
 * One folder of the migration: the engine's per-folder counts (FolderReport), here summed over
 * all passes, where `total` is every source message the copy has dealt with.
 */
export interface FolderResult extends FolderReport {
  bytesCopied: number;
  /** The folder itself was not copied ("could not be created"), else null. */
  problem: string | null;
}

/** A message or folder not copied: where, how big, why; never its content. */
export interface NotCopiedItem {
  folder: string;
  uid: number | null;
  size: number | null;
  reason: string;
}

/** One folder of the verification: how many of the source's messages the target holds. */
export interface FolderVerification {
  sourcePath: string;
  targetPath: string | null;
  sourceMessages: number;
  present: number;
  missing: number;
  /** Of the missing, how many are listed under "Not copied" with their reason. */
  missingReported: number;
  /** Source UIDs of the missing messages, at most MISSING_UIDS_KEPT; `missing` is exact. */
  missingUids: number[];
  /** Why the folder could not be verified, else null. */
  unverified: string | null;
}

export interface MigrationVerificationView {
  /** The pass that ended with it: the first pass or the resync. */
  pass: 'run' | 'resync';
  verifiedLocal: string;
  folders: FolderVerification[];
  totals: { sourceMessages: number; present: number; missing: number; unverifiedFolders: number };
}

export interface MigrationDetail extends MigrationListItem {
  bytes: { copied: number; total: number };
  etaSeconds: number | null;
  /** Sums over `folders`; `copied + skipped + failed == total`. */
  totals: { total: number; copied: number; skipped: number; failed: number; gone: number };
  folders: FolderResult[];
  /** At most NOT_COPIED_SHOWN, folders first; `notCopiedCount` says how many there are. */
  notCopied: NotCopiedItem[];
  notCopiedCount: number;
  renamed: { sourcePath: string; targetPath: string; note: string }[];
  notices: { folder: string | null; text: string }[];
  /** "12 messages copied earlier are no longer in the target", else null. */
  goneLine: string | null;
  /** What the last verification found, or null when no pass has ended yet. */
  verification: MigrationVerificationView | null;
}

export const NOT_COPIED_SHOWN = 1000;

/**
 * Everything the customer is shown about one migration of the organization: progress, every
 * folder with its counts, what was not copied, renamed folders, notices. Explicit selects:
 * nothing of the accounts but type and address.
 */
export async function getMigrationDetail(db: Db, organizationId: string, id: string, zone: string): Promise<MigrationDetail> {
  const item = await getMigration(db, organizationId, id, zone);
  const [row, folderRows, issues, notCopiedCount, notices, verificationRows] = await Promise.all([
    db.migration.findFirst({ where: { id, organizationId }, select: { totalBytes: true, copiedBytes: true, etaSeconds: true } }),
    db.migrationFolder.findMany({
      where: { migrationId: id },
      select: { sourcePath: true, targetPath: true, messagesCopied: true, messagesSkipped: true, messagesFailed: true, bytesCopied: true, messagesGone: true, targetNote: true },
      orderBy: { sourcePath: 'asc' },
    }),
    db.migrationIssue.findMany({
      where: { migrationId: id },
      select: { folder: true, uid: true, size: true, reason: true },
      // Per folder, its folder-level issue (no UID) first: it stands for all the folder's messages.
      orderBy: [{ folder: 'asc' }, { uid: { sort: 'asc', nulls: 'first' } }, { id: 'asc' }],
      take: NOT_COPIED_SHOWN * 2,
    }),
    db.migrationIssue.count({ where: { migrationId: id } }),
    db.migrationNotice.findMany({ where: { migrationId: id }, select: { folder: true, text: true }, orderBy: { id: 'asc' } }),
    db.migrationVerification.findMany({
      where: { migrationId: id },
      select: {
        sourcePath: true,
        targetPath: true,
        pass: true,
        sourceMessages: true,
        presentMessages: true,
        missingMessages: true,
        missingReported: true,
        missingUids: true,
        unverifiedReason: true,
        verifiedAt: true,
      },
    }),
  ]);
  if (!row) throw new MigrationNotFoundError();

  // A folder refused again by a later pass, or a message reported twice, is listed once.
  const seen = new Set<string>();
  const notCopied: NotCopiedItem[] = [];
  let duplicates = 0;
  for (const issue of issues) {
    const key = issue.uid === null ? `${issue.folder}\u0000folder` : `${issue.folder}\u0000${issue.uid}`;
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    if (notCopied.length < NOT_COPIED_SHOWN) notCopied.push({ folder: issue.folder, uid: issue.uid, size: issue.size === null ? null : Number(issue.size), reason: issue.reason });
  }

  notCopied.sort((a, b) => folderOrder(a.folder) - folderOrder(b.folder));
  const folders: FolderResult[] = folderRows.map((f) => ({
    sourcePath: f.sourcePath,
    targetPath: f.targetPath,
    total: f.messagesCopied + f.messagesSkipped + f.messagesFailed,
    copied: f.messagesCopied,
    skipped: f.messagesSkipped,
    failed: f.messagesFailed,
    bytesCopied: Number(f.bytesCopied),
    gone: f.messagesGone,
    note: f.targetNote,
    problem: null,
  }));
  // A folder not copied as a whole says so; one that never got a checkpoint is listed too.
  const problemOf = (reason: string) => (isFolderNotCreated(reason) ? 'Could not be created on the target' : 'Could not be copied');
  for (const issue of notCopied) {
    const folder = issue.uid === null ? folders.find((f) => f.sourcePath === issue.folder) : undefined;
    if (folder) folder.problem ??= problemOf(issue.reason);
  }
  const known = new Set(folders.map((f) => f.sourcePath));
  for (const issue of notCopied) {
    if (issue.uid !== null || known.has(issue.folder)) continue;
    known.add(issue.folder);
    folders.push({
      sourcePath: issue.folder,
      targetPath: '',
      total: 0,
      copied: 0,
      skipped: 0,
      failed: 0,
      bytesCopied: 0,
      gone: 0,
      note: null,
      problem: problemOf(issue.reason),
    });
  }
  folders.sort((a, b) => folderOrder(a.sourcePath) - folderOrder(b.sourcePath) || a.sourcePath.localeCompare(b.sourcePath));

  const totals = folders.reduce(
    (t, f) => ({ total: t.total + f.total, copied: t.copied + f.copied, skipped: t.skipped + f.skipped, failed: t.failed + f.failed, gone: t.gone + f.gone }),
    { total: 0, copied: 0, skipped: 0, failed: 0, gone: 0 },
  );
  // The folders' counts are the record once a migration has ended; while it runs, the row's
  // progress is fresher (checkpoints are saved per batch).
  const loss = { messages: item.isActive ? Math.max(item.loss.messages, totals.failed) : totals.failed, ...folderLosses(issues) };
  return {
    ...item,
    loss,
    statusLine: statusLine(item.state, loss, item.verificationGap),
    bytes: { copied: Number(row.copiedBytes), total: Number(row.totalBytes) },
    etaSeconds: row.etaSeconds,
    totals,
    folders,
    notCopied,
    notCopiedCount: notCopiedCount - duplicates,
    renamed: folders.filter((f) => f.note).map((f) => ({ sourcePath: f.sourcePath, targetPath: f.targetPath, note: f.note! })),
    notices,
    goneLine: describeGone(totals.gone),
    verification: verificationView(verificationRows, zone),
  };
}

function verificationView(
  rows: {
    sourcePath: string;
    targetPath: string | null;
    pass: string;
    sourceMessages: number;
    presentMessages: number;
    missingMessages: number;
    missingReported: number;
    missingUids: number[];
    unverifiedReason: string | null;
    verifiedAt: Date;
  }[],
  zone: string,
): MigrationVerificationView | null {
  if (rows.length === 0) return null;
  const folders: FolderVerification[] = rows
    .map((r) => ({
      sourcePath: r.sourcePath,
      targetPath: r.targetPath,
      sourceMessages: r.sourceMessages,
      present: r.presentMessages,
      missing: r.missingMessages,
      missingReported: r.missingReported,
      missingUids: r.missingUids,
      unverified: r.unverifiedReason,
    }))
    .sort((a, b) => folderOrder(a.sourcePath) - folderOrder(b.sourcePath) || a.sourcePath.localeCompare(b.sourcePath));
  const latest = rows.reduce((at, r) => (r.verifiedAt > at.verifiedAt ? r : at), rows[0]!);
  return {
    pass: latest.pass === 'resync' ? 'resync' : 'run',
    verifiedLocal: formatInZone(latest.verifiedAt, zone),
    folders,
    totals: folders.reduce(
      (t, f) => ({ sourceMessages: t.sourceMessages + f.sourceMessages, present: t.present + f.present, missing: t.missing + f.missing, unverifiedFolders: t.unverifiedFolders + (f.unverified ? 1 : 0) }),
      { sourceMessages: 0, present: 0, missing: 0, unverifiedFolders: 0 },
    ),
  };
}

/** INBOX first, as every mail client lists it. */
const folderOrder = (path: string) => (path.toUpperCase() === 'INBOX' ? 0 : 1);
