import type { Db } from '../db';
import type { FolderReport } from '../engine/copy-mailbox';
import type { FolderWork } from '../engine/progress';
import { MigrationNotFoundError } from './errors';
import { loadTimeline } from './events';
import { describeGone, folderLosses, isFolderNotCreated, statusLine } from './lifecycle';
import { formatInZone, getMigration, type MigrationListItem } from './list-migrations';
import { readLiveProgress } from './live-progress';
import { listNotCopied } from './not-copied';
import { buildTimeline, groupwareOf, withGroupwareLoss, mergeFolders, stateSentence, type GroupwareView, type TimelineItem } from './state-sentence';

/**
 * One folder of the migration: the engine's per-folder counts (FolderReport), here summed over
 * all passes, where `total` is every source message the copy has dealt with.
 */
export interface FolderResult extends FolderReport {
  bytesCopied: number;
  /** While a pass runs, the bytes the folder holds to copy in all (what is done included); else null. */
  bytesTotal: number | null;
  /** Handled so far (copied, skipped or failed) of `total`; equal to it once the folder is through. */
  done: number;
  /** Where the folder stands in the pass: being copied, waiting for its turn, or through. */
  state: FolderWork;
  /** The folder itself was not copied ("could not be created"), else null. */
  problem: string | null;
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

/** A message or folder not copied: where, how big, why; never its content. */
export interface NotCopiedItem {
  folder: string;
  uid: number | null;
  size: number | null;
  reason: string;
}

export const NOT_COPIED_SHOWN = 1000;

/** A calendar, contact or task item the target refused: its collection, UID, size and the server's reason; never its summary or content. */
/** What a target had no place for, counted over the items it concerns (an Exchange or Microsoft 365 target). */
export interface GroupwareChangedGroup {
  kind: string;
  /** VEVENT, VTODO, VALARM, VTIMEZONE, VCARD. */
  component: string;
  /** Upper-case; empty for a whole component. */
  property: string;
  reason: string;
  /** Items copied without it. */
  items: number;
}

export interface GroupwareNotCopiedItem {
  kind: string;
  /** The source collection's name. */
  collection: string;
  uid: string | null;
  size: number | null;
  reason: string;
}

/** One calendar, address book or task list of the groupware copy. */
export interface GroupwareCollectionResult {
  kind: string;
  source: string;
  target: string;
  /** Why the target's name differs from the source's, else null. */
  note: string | null;
  items: number;
  /** On the target as the source has them. */
  copied: number;
}


export interface MigrationDetail extends MigrationListItem {
  /** Where it stands in one sentence: "Copying — 2 folders left", "Scheduled for … (Europe/Berlin)". */
  sentence: string;
  /** What happened when, oldest first, then what is planned. */
  timeline: TimelineItem[];
  bytes: { copied: number; total: number };
  /** Over the copy's recent window (not since the start), while a pass runs; else null. */
  etaSeconds: number | null;
  rate: { bytesPerSecond: number; messagesPerMinute: number | null } | null;
  /** Sums over `folders`; `copied + skipped + failed == total` once no pass runs. */
  totals: { total: number; copied: number; skipped: number; failed: number; gone: number };
  folders: FolderResult[];
  /** The first NOT_COPIED_SHOWN of them, in the order of `migrations.notCopied`, which lists them all page by page (with dates). */
  notCopied: NotCopiedItem[];
  /** Messages and folders not copied, each once. */
  notCopiedCount: number;
  /** Calendars, contacts and tasks: a line on why there are none or what is moved, and counts once they are. */
  groupwareLine: string;
  groupware: GroupwareView['counts'];
  /** Per calendar, address book and task list: where it went and how much of it is there; empty until the groupware copy begins. */
  groupwareCollections: GroupwareCollectionResult[];
  /** Calendar, contact and task items the target refused, each once, in the order they were met (at most NOT_COPIED_SHOWN). */
  groupwareNotCopied: GroupwareNotCopiedItem[];
  /** Copied, but without something the target has no place for: per property and reason, with the number of items (the report lists each item). */
  groupwareChanged: GroupwareChangedGroup[];
  /** Items copied with changes, each once. */
  groupwareChangedItems: number;
  renamed: { sourcePath: string; targetPath: string; note: string }[];
  notices: { folder: string | null; text: string }[];
  /** "12 messages copied earlier are no longer in the target", else null. */
  goneLine: string | null;
  /** What the last verification found, or null when no pass has ended yet. */
  verification: MigrationVerificationView | null;
}

/**
 * Everything the customer is shown about one migration of the organization: progress, every
 * folder with its counts, what was not copied, renamed folders, notices. Explicit selects:
 * nothing of the accounts but type and address.
 */
export async function getMigrationDetail(db: Db, organizationId: string, id: string, zone: string): Promise<MigrationDetail> {
  const item = await getMigration(db, organizationId, id, zone);
  const [row, folderRows, issues, counted, notices, verificationRows, events] = await Promise.all([
    db.migration.findFirst({
      where: { id, organizationId },
      select: { totalMessages: true, copiedMessages: true, skippedMessages: true, failedMessages: true, totalBytes: true, copiedBytes: true, etaSeconds: true, bytesPerSecond: true, liveFolders: true, progressAt: true, createdAt: true, startedAt: true, finishedAt: true },
    }),
    db.migrationFolder.findMany({
      where: { migrationId: id },
      select: { sourcePath: true, targetPath: true, messagesCopied: true, messagesSkipped: true, messagesFailed: true, bytesCopied: true, messagesGone: true, targetNote: true },
      orderBy: { sourcePath: 'asc' },
    }),
    // Folder-level issues (no UID) only: few, and what the folder table and the loss need.
    db.migrationIssue.findMany({ where: { migrationId: id, uid: null }, select: { folder: true, uid: true, reason: true }, orderBy: { id: 'asc' }, take: 1000 }),
    // A message (or folder) reported again by a later pass counts once, as in the list.
    db.$queryRaw<{ count: bigint }[]>`SELECT count(DISTINCT (folder, COALESCE(uid, -1))) AS count FROM migration_issues WHERE migration_id = ${id}::uuid`,
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
    loadTimeline(db, id),
  ]);
  const [shown, groupwareRows, groupwareIssues, changedGroups, changedItems] = await Promise.all([
    listNotCopied(db, organizationId, { id, limit: NOT_COPIED_SHOWN }),
    db.migrationGroupwareCollection.findMany({
      where: { migrationId: id },
      select: { kind: true, sourceName: true, targetName: true, targetNote: true, items: true, present: true, updatedAt: true },
      orderBy: [{ kind: 'asc' }, { sourceName: 'asc' }],
    }),
    db.migrationGroupwareIssue.findMany({ where: { migrationId: id }, select: { kind: true, collection: true, uid: true, size: true, reason: true }, orderBy: { id: 'asc' }, take: NOT_COPIED_SHOWN }),
    db.migrationGroupwareChange.groupBy({ by: ['kind', 'component', 'property', 'reason'], where: { migrationId: id }, _count: { _all: true } }),
    db.$queryRaw<{ count: bigint }[]>`SELECT count(DISTINCT (collection, uid)) AS count FROM migration_groupware_changes WHERE migration_id = ${id}::uuid`,
  ]);
  if (!row) throw new MigrationNotFoundError();

  // The live fields belong to a pass that runs; a row that ended some other way may still hold them.
  const isCopying = item.state === 'running' || item.state === 'resyncing';
  const live = isCopying ? readLiveProgress(row.liveFolders) : null;
  const byPath = new Map(folderRows.map((f) => [f.sourcePath, f]));
  const merged = mergeFolders(
    folderRows.map((f) => ({ sourcePath: f.sourcePath, targetPath: f.targetPath, copied: f.messagesCopied, skipped: f.messagesSkipped, failed: f.messagesFailed, bytesCopied: Number(f.bytesCopied) })),
    live,
    item.state,
  );
  const folders: FolderResult[] = merged.map((f) => ({
    ...f,
    gone: byPath.get(f.sourcePath)?.messagesGone ?? 0,
    note: byPath.get(f.sourcePath)?.targetNote ?? null,
    problem: null,
  }));
  // A folder not copied as a whole says so; one that never got a checkpoint is listed too.
  const problemOf = (reason: string) => (isFolderNotCreated(reason) ? 'Could not be created on the target' : 'Could not be copied');
  for (const issue of issues) {
    const folder = folders.find((f) => f.sourcePath === issue.folder);
    if (folder) folder.problem ??= problemOf(issue.reason);
  }
  const known = new Set(folders.map((f) => f.sourcePath));
  for (const issue of issues) {
    if (known.has(issue.folder)) continue;
    known.add(issue.folder);
    folders.push({
      sourcePath: issue.folder,
      targetPath: '',
      total: 0,
      copied: 0,
      skipped: 0,
      failed: 0,
      done: 0,
      bytesCopied: 0,
      bytesTotal: null,
      state: 'done',
      gone: 0,
      note: null,
      problem: problemOf(issue.reason),
    });
  }
  folders.sort((a, b) => folderOrder(a.sourcePath) - folderOrder(b.sourcePath) || a.sourcePath.localeCompare(b.sourcePath));

  // A migration whose details were removed has no folders left: the row's counts are the record.
  const totals = item.detailsRemoved
    ? { total: row.totalMessages, copied: row.copiedMessages, skipped: row.skippedMessages, failed: row.failedMessages, gone: 0 }
    : folders.reduce(
        (t, f) => ({ total: t.total + f.total, copied: t.copied + f.copied, skipped: t.skipped + f.skipped, failed: t.failed + f.failed, gone: t.gone + f.gone }),
        { total: 0, copied: 0, skipped: 0, failed: 0, gone: 0 },
      );
  // The folders' counts are the record once a migration has ended; while it runs, the row's
  // progress is fresher (checkpoints are saved per batch).
  const loss = { messages: item.isActive ? Math.max(item.loss.messages, totals.failed) : totals.failed, ...folderLosses(issues) };
  const groupware = groupwareOf(item.source.type, item.target.type, groupwareRows);
  return {
    ...item,
    loss,
    statusLine: withGroupwareLoss(statusLine(item.state, loss, item.verificationGap), item.state, groupwareIssues.length),
    sentence: stateSentence({
      state: item.state,
      foldersLeft: live ? live.foldersLeft : null,
      startLocal: item.startLocal,
      resyncLocal: item.resyncLocal,
      finishedLocal: item.finishedLocal,
      zone,
      // The mail's last progress came before the groupware copy of the same pass began.
      isCopyingGroupware: isCopying && row.progressAt !== null && groupwareRows.some((r) => r.updatedAt > row.progressAt!),
    }),
    timeline: buildTimeline(
      events,
      { state: item.state, createdAt: row.createdAt, startAt: item.startAt, resyncAt: item.resyncAt, startedAt: row.startedAt, finishedAt: row.finishedAt },
      (at) => formatInZone(at, zone),
    ),
    bytes: { copied: Number(row.copiedBytes), total: Number(row.totalBytes) },
    etaSeconds: isCopying ? row.etaSeconds : null,
    rate: isCopying && row.bytesPerSecond !== null ? { bytesPerSecond: Math.round(row.bytesPerSecond), messagesPerMinute: live?.messagesPerMinute ?? null } : null,
    totals,
    folders,
    notCopied: shown.items.map((i) => ({ folder: i.folder, uid: i.uid, size: i.size, reason: i.reason })),
    notCopiedCount: Number(counted[0]?.count ?? 0),
    groupwareLine: groupware.line,
    groupware: groupware.counts,
    groupwareCollections: groupwareRows.map((r) => ({ kind: r.kind, source: r.sourceName, target: r.targetName, note: r.targetNote, items: r.items, copied: r.present })),
    groupwareNotCopied: groupwareIssues,
    groupwareChanged: changedGroups
      .map((g) => ({ kind: g.kind, component: g.component, property: g.property, reason: g.reason, items: g._count._all }))
      .sort((a, b) => b.items - a.items || a.kind.localeCompare(b.kind) || a.component.localeCompare(b.component) || a.property.localeCompare(b.property)),
    groupwareChangedItems: Number(changedItems[0]?.count ?? 0),
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
