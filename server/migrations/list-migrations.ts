import { z } from 'zod';
import type { Db } from '../db';
import type { MigrationState } from '../generated/prisma/enums';
import type { Prisma } from '../generated/prisma/client';
import { DomainError } from '../users/errors';
import { MigrationNotFoundError } from './errors';
import { ACTIVE_STATES, CANCELLABLE_STATES, describeGap, ENDED_STATES, folderLosses, gapOf, gapRowsWhere, isActiveState, statusLine, type LossCounts, type VerificationGap } from './lifecycle';
import type { MigrationList } from './schemas';
import { groupwareRowOf, withGroupwareLoss, type GroupwareRow } from './state-sentence';

// Explicit: the accounts' sealed passwords never leave the database through a list.
const accountFields = { side: true, type: true, email: true } as const;
const listFields = {
  id: true,
  state: true,
  startAt: true,
  resyncAt: true,
  startedAt: true,
  finishedAt: true,
  failureReason: true,
  totalMessages: true,
  copiedMessages: true,
  failedMessages: true,
  etaSeconds: true,
  createdAt: true,
  detailsRemovedAt: true,
  accounts: { select: accountFields },
  // Folder-level issues only (no UID): few, and counted once per folder.
  issues: { where: { uid: null }, select: { folder: true, uid: true, reason: true }, take: 1000 },
  // Only the folders where the last verification found a gap: few, usually none.
  verifications: { where: gapRowsWhere, select: { missingMessages: true, missingReported: true, unverifiedReason: true }, take: 1000 },
  // Calendar, contact and task items not copied: named in the status line.
  _count: { select: { groupwareIssues: true } },
  // One row per calendar, address book and task list (a few, read for all rows of the page in one query), never their checkpoints.
  groupwareCollections: { select: { kind: true, items: true, present: true, failed: true }, take: 1000 },
} satisfies Prisma.MigrationSelect;

type Row = Prisma.MigrationGetPayload<{ select: typeof listFields }>;

export interface MigrationListItem {
  id: string;
  state: MigrationState;
  isActive: boolean;
  canCancel: boolean;
  source: { email: string; type: string };
  target: { email: string; type: string };
  startAt: Date;
  resyncAt: Date | null;
  /** The same instants in the server's time zone, as shown to customers: "28 Mar 2027, 03:30". */
  startLocal: string;
  resyncLocal: string | null;
  finishedLocal: string | null;
  failureReason: string | null;
  messages: { copied: number; total: number };
  /** What was not copied (over all passes). */
  loss: LossCounts;
  /** What the last verification found beyond the copy's own report, else null. */
  verificationGap: VerificationGap | null;
  /** The state in words where the badge alone says too little: "Finished with 3 messages not copied". */
  statusLine: string | null;
  /** Seconds left while a pass copies (the engine's estimate over its recent window), else null. */
  etaSeconds: number | null;
  /** What the last verification found, in a few words for a list row. */
  verdict: ListVerdict;
  /** Calendars, contacts and tasks copied of the source's, for migrations that copy them; else null. */
  groupwareRow: GroupwareRow | null;
  /**
   * When its personal data was removed (server/privacy): its addresses are then empty and
   * `text` says so, "Details removed on 7 Dec 2026"; null while they are there.
   */
  detailsRemoved: DetailsRemoved | null;
}

export interface DetailsRemoved {
  at: Date;
  local: string;
  text: string;
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** "Details removed on 7 Dec 2026", in the server's zone; null while the details are there. */
export function detailsRemovedOf(at: Date | null, zone: string): DetailsRemoved | null {
  if (!at) return null;
  let format = dayFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: 'numeric', month: 'short', year: 'numeric' });
    dayFormats.set(zone, format);
  }
  return { at, local: formatInZone(at, zone), text: `Details removed on ${format.format(at)}` };
}

/** The verification's verdict for a list row: "Verified: all 1,204 present", "2 messages missing on the target", "Not verified". */
export interface ListVerdict {
  tone: 'verified' | 'gap' | 'none';
  text: string;
}

/** A migration's verification rows (one per folder, the last pass's), summed. */
export interface VerificationSums {
  folders: number;
  sourceMessages: number;
  presentMessages: number;
}

const number = (n: number) => n.toLocaleString('en-GB');

/**
 * The verdict in a list row. A gap (missing beyond what the copy reported, or a folder not
 * verified) says so; otherwise the messages found on the target, all of them or "n of m" where
 * the copy already reported the rest as not copied.
 */
export function listVerdict(sums: VerificationSums | null, gap: VerificationGap | null): ListVerdict {
  if (!sums || sums.folders === 0) return { tone: 'none', text: 'Not verified' };
  const found = describeGap(gap);
  if (found) return { tone: 'gap', text: `${found.charAt(0).toUpperCase()}${found.slice(1)}` };
  if (sums.presentMessages >= sums.sourceMessages) return { tone: 'verified', text: sums.sourceMessages === 0 ? 'Verified: nothing to copy' : `Verified: all ${number(sums.sourceMessages)} present` };
  return { tone: 'verified', text: `Verified: ${number(sums.presentMessages)} of ${number(sums.sourceMessages)} present` };
}

/** Sums of the verification rows of `ids`, in one grouped query on the rows' primary key. */
async function verificationSums(db: Db, ids: readonly string[]): Promise<Map<string, VerificationSums>> {
  if (ids.length === 0) return new Map();
  const groups = await db.migrationVerification.groupBy({
    by: ['migrationId'],
    where: { migrationId: { in: [...ids] } },
    _sum: { sourceMessages: true, presentMessages: true },
    _count: { _all: true },
  });
  return new Map(groups.map((g) => [g.migrationId, { folders: g._count._all, sourceMessages: g._sum.sourceMessages ?? 0, presentMessages: g._sum.presentMessages ?? 0 }]));
}

async function toItems(db: Db, rows: Row[], zone: string): Promise<MigrationListItem[]> {
  const sums = await verificationSums(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => toItem(row, zone, sums.get(row.id) ?? null));
}

const displayFormats = new Map<string, Intl.DateTimeFormat>();

/** An instant as a wall-clock time in `zone`, e.g. "28 Mar 2027, 03:30". */
export function formatInZone(at: Date, zone: string): string {
  let format = displayFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    displayFormats.set(zone, format);
  }
  return format.format(at);
}

function toItem(row: Row, zone: string, sums: VerificationSums | null): MigrationListItem {
  const side = (name: 'source' | 'target') => {
    const account = row.accounts.find((a) => a.side === name);
    return { email: account?.email ?? '', type: account?.type ?? '' };
  };
  const isActive = isActiveState(row.state);
  const loss: LossCounts = { messages: row.failedMessages, ...folderLosses(row.issues) };
  const verificationGap = gapOf(row.verifications);
  const detailsRemoved = detailsRemovedOf(row.detailsRemovedAt, zone);
  return {
    id: row.id,
    state: row.state,
    isActive,
    canCancel: CANCELLABLE_STATES.includes(row.state),
    source: side('source'),
    target: side('target'),
    startAt: row.startAt,
    resyncAt: row.resyncAt,
    startLocal: formatInZone(row.startAt, zone),
    resyncLocal: row.resyncAt ? formatInZone(row.resyncAt, zone) : null,
    finishedLocal: row.finishedAt ? formatInZone(row.finishedAt, zone) : null,
    failureReason: row.failureReason,
    messages: { copied: row.copiedMessages, total: row.totalMessages },
    loss,
    verificationGap,
    statusLine: withGroupwareLoss(statusLine(row.state, loss, verificationGap), row.state, row._count.groupwareIssues),
    etaSeconds: row.state === 'running' || row.state === 'resyncing' ? row.etaSeconds : null,
    verdict: detailsRemoved ? { tone: 'none', text: detailsRemoved.text } : listVerdict(sums, verificationGap),
    groupwareRow: groupwareRowOf(side('source').type, side('target').type, row.state, row.groupwareCollections, row._count.groupwareIssues),
    detailsRemoved,
  };
}

const statesOf: Record<MigrationList, readonly MigrationState[] | null> = { active: ACTIVE_STATES, finished: ENDED_STATES, all: null };

/** An organization's migrations, newest first: the active ones, the finished ones, or all. */
export async function listMigrations(db: Db, organizationId: string, list: MigrationList, zone: string): Promise<MigrationListItem[]> {
  const states = statesOf[list];
  const rows = await db.migration.findMany({
    where: { organizationId, ...(states ? { state: { in: [...states] } } : {}) },
    select: listFields,
    orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
    take: 500,
  });
  return toItems(db, rows, zone);
}

/** One migration of the organization; another organization's id is not found. */
export async function getMigration(db: Db, organizationId: string, id: string, zone: string): Promise<MigrationListItem> {
  const row = await db.migration.findFirst({ where: { id, organizationId }, select: listFields });
  if (!row) throw new MigrationNotFoundError();
  const [item] = await toItems(db, [row], zone);
  return item!;
}

export const FINISHED_SORTS = ['newest', 'oldest'] as const;
export const finishedListSchema = z.object({
  /** The start of the source's or the target's address (case-insensitive). */
  search: z.string().trim().max(254).optional(),
  sort: z.enum(FINISHED_SORTS).default('newest'),
  cursor: z
    .string()
    .max(200)
    .refine((c) => readCursor(c) !== null, 'This page of the list is out of date; reload the list.')
    .nullish(),
  limit: z.number().int().min(1).max(200).default(25),
});
export type FinishedListInput = z.input<typeof finishedListSchema>;

export interface FinishedPage {
  items: MigrationListItem[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
  /** How many rows the whole list (with its search) holds; only on the first page, else null. */
  count: number | null;
}

// Prisma passes LIKE's wildcards through: "%" would match every address.
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

const encodeCursor = (finishedAt: Date, id: string) => Buffer.from(`${finishedAt.toISOString()}|${id}`).toString('base64url');

function readCursor(cursor: string): { finishedAt: Date; id: string } | null {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const finishedAt = new Date(at ?? '');
  return Number.isNaN(finishedAt.getTime()) || !z.uuid().safeParse(id).success ? null : { finishedAt, id: id! };
}

function decodeCursor(cursor: string): { finishedAt: Date; id: string } {
  const read = readCursor(cursor);
  if (!read) throw new DomainError('invalid', 'This page of the list is out of date; reload the list.');
  return read;
}

/**
 * One page of the organization's ended migrations by finished date, keyset-paginated on
 * (finished_at, id) so a page never repeats or skips a row while others end meanwhile. Every
 * ended path sets finished_at, so rows without one (none) are not listed.
 */
export async function listFinishedMigrations(db: Db, organizationId: string, input: FinishedListInput, zone: string): Promise<FinishedPage> {
  const { search, sort = 'newest', cursor, limit = 25 } = input;
  const direction = sort === 'newest' ? 'desc' : 'asc';
  const after = cursor ? decodeCursor(cursor) : null;
  const beyond = direction === 'desc' ? 'lt' : 'gt';
  const whole: Prisma.MigrationWhereInput = {
    organizationId,
    state: { in: [...ENDED_STATES] },
    finishedAt: { not: null },
    // A prefix, not a substring: the planner can stop at the organization's rows instead of scanning every address.
    ...(search ? { accounts: { some: { email: { startsWith: escapeLike(search), mode: 'insensitive' } } } } : {}),
  };
  const where: Prisma.MigrationWhereInput = after
    ? { ...whole, OR: [{ finishedAt: { [beyond]: after.finishedAt } }, { finishedAt: after.finishedAt, id: { [beyond]: after.id } }] }
    : whole;
  const [rows, count] = await Promise.all([
    db.migration.findMany({ where, select: listFields, orderBy: [{ finishedAt: direction }, { id: direction }], take: limit + 1 }),
    after ? null : db.migration.count({ where: whole }),
  ]);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: await toItems(db, page, zone), nextCursor: rows.length > limit && last?.finishedAt ? encodeCursor(last.finishedAt, last.id) : null, count };
}
