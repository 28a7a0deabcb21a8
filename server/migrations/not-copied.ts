import { z } from 'zod';
import type { Db } from '../db';
import { DomainError } from '../users/errors';
import { MigrationNotFoundError } from './errors';

/** A message or folder not copied: where, how big, when it was received, why; never its content. */
export interface NotCopiedEntry {
  folder: string;
  /** The source UID, or null for a folder not copied as a whole. */
  uid: number | null;
  size: number | null;
  /** The message's date on the source (INTERNALDATE, ISO), when the copy knew it. */
  date: string | null;
  reason: string;
}

export interface NotCopiedPage {
  items: NotCopiedEntry[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

const OUT_OF_DATE = 'This page of the list is out of date; reload the page.';

export const notCopiedSchema = z.object({
  id: z.uuid(),
  cursor: z
    .string()
    .max(2000)
    .refine((c) => readCursor(c) !== null, OUT_OF_DATE)
    .nullish(),
  limit: z.number().int().min(1).max(200).default(50),
});
/** As the procedure parsed it; the server's own callers (the report) may ask for larger pages. */
export interface NotCopiedInput {
  id: string;
  cursor?: string | null;
  limit?: number;
}

/** The position after an item: INBOX first, then folders by name (bytewise), the folder itself before its messages, by UID. */
interface Position {
  rank: number;
  folder: string;
  uid: number;
}

const encodeCursor = (p: Position) => Buffer.from(JSON.stringify([p.rank, p.folder, p.uid])).toString('base64url');

function readCursor(cursor: string): Position | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (!Array.isArray(value) || value.length !== 3) return null;
    const [rank, folder, uid] = value as unknown[];
    if ((rank !== 0 && rank !== 1) || typeof folder !== 'string' || !Number.isInteger(uid)) return null;
    return { rank, folder, uid: uid as number };
  } catch {
    return null;
  }
}

interface Row {
  rank: number;
  folder: string;
  uid: number | null;
  size: bigint | null;
  message_date: Date | null;
  reason: string;
}

/**
 * The items of a migration not copied, a page at a time by keyset (rank, folder, UID): a
 * message (or folder) reported again by a later pass or job is listed once, with the first
 * reason given. Scoped to the organization: another tenant's migration is not found.
 */
export async function listNotCopied(db: Db, organizationId: string, input: NotCopiedInput): Promise<NotCopiedPage> {
  const { id, cursor } = input;
  const limit = Math.max(1, Math.min(input.limit ?? 50, 1000));
  const owned = await db.migration.findFirst({ where: { id, organizationId }, select: { id: true } });
  if (!owned) throw new MigrationNotFoundError();
  const after = cursor ? readCursor(cursor) : null;
  if (cursor && !after) throw new DomainError('invalid', OUT_OF_DATE);
  // A folder-level issue has no UID: -1 puts it before the folder's messages and keeps the key unique.
  const rows = await db.$queryRaw<Row[]>`
    SELECT rank, folder, NULLIF(key_uid, -1) AS uid, size, message_date, reason FROM (
      SELECT DISTINCT ON (folder, COALESCE(uid, -1))
        CASE WHEN upper(folder) = 'INBOX' THEN 0 ELSE 1 END AS rank,
        folder, COALESCE(uid, -1) AS key_uid, size, message_date, reason
      FROM migration_issues
      WHERE migration_id = ${id}::uuid
      ORDER BY folder, COALESCE(uid, -1), id
    ) AS issues
    WHERE ${after === null}
       OR (rank, folder COLLATE "C", key_uid) > (${after?.rank ?? 0}::int, ${after?.folder ?? ''} COLLATE "C", ${after?.uid ?? 0}::int)
    ORDER BY rank, folder COLLATE "C", key_uid
    LIMIT ${limit + 1}`;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => ({
      folder: r.folder,
      uid: r.uid,
      size: r.size === null ? null : Number(r.size),
      date: r.message_date ? r.message_date.toISOString() : null,
      reason: r.reason,
    })),
    nextCursor: rows.length > limit && last ? encodeCursor({ rank: last.rank, folder: last.folder, uid: last.uid ?? -1 }) : null,
  };
}

/** Every item not copied in the page order, for the report: pages through listNotCopied. */
export async function allNotCopied(db: Db, organizationId: string, id: string): Promise<NotCopiedEntry[]> {
  const items: NotCopiedEntry[] = [];
  let cursor: string | null = null;
  do {
    const page: NotCopiedPage = await listNotCopied(db, organizationId, { id, cursor, limit: 1000 });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}
