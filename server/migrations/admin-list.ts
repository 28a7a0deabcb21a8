import { z } from 'zod';
import type { Db } from '../db';
import { MigrationState } from '../generated/prisma/enums';
import type { Prisma } from '../generated/prisma/client';
import { organizationsVisibleTo } from '../organizations/tenant-scope';
import { DomainError } from '../users/errors';
import { ACTIVE_STATES, ENDED_STATES } from './lifecycle';
import { detailsRemovedOf, formatInZone, type DetailsRemoved } from './list-migrations';
import { groupwareRowOf, type GroupwareRow } from './state-sentence';

/** A state, or one of the two groups the customer's tabs use. */
export const ADMIN_STATE_FILTERS = ['active', 'ended', ...Object.values(MigrationState)] as const;
export type AdminStateFilter = (typeof ADMIN_STATE_FILTERS)[number];

const OUT_OF_DATE = 'This page of the list is out of date; reload the list.';

export const adminMigrationListSchema = z.object({
  organizationId: z.uuid('Unknown organization').optional(),
  state: z.enum(ADMIN_STATE_FILTERS).optional(),
  cursor: z
    .string()
    .max(200)
    .refine((c) => readCursor(c) !== null, OUT_OF_DATE)
    .nullish(),
  limit: z.number().int().min(1).max(100).default(25),
});
export type AdminMigrationListInput = z.input<typeof adminMigrationListSchema>;

/**
 * Explicit: of the accounts only side, type and address. Usernames, servers and sealed
 * passwords are never read for this list, so no mistake further down can show them.
 */
const adminFields = {
  id: true,
  state: true,
  createdAt: true,
  startAt: true,
  finishedAt: true,
  detailsRemovedAt: true,
  failureReason: true,
  totalMessages: true,
  copiedMessages: true,
  failedMessages: true,
  organization: { select: { id: true, name: true } },
  accounts: { select: { side: true, type: true, email: true } },
  // Counts only, as in the customer's lists: no collection names, no checkpoints.
  groupwareCollections: { select: { kind: true, items: true, present: true, failed: true }, take: 1000 },
  _count: { select: { groupwareIssues: true } },
} satisfies Prisma.MigrationSelect;

export interface AdminMigrationItem {
  id: string;
  state: MigrationState;
  organization: { id: string; name: string };
  source: { email: string; type: string };
  target: { email: string; type: string };
  messages: { copied: number; total: number; notCopied: number };
  failureReason: string | null;
  createdLocal: string;
  startLocal: string;
  finishedLocal: string | null;
  /** Calendars, contacts and tasks copied of the source's, for migrations that copy them; else null. */
  groupwareRow: GroupwareRow | null;
  /** When its personal data was removed (its addresses are then empty), else null. */
  detailsRemoved: DetailsRemoved | null;
}

export interface AdminMigrationPage {
  items: AdminMigrationItem[];
  nextCursor: string | null;
}

const encodeCursor = (createdAt: Date, id: string) => Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');

function readCursor(cursor: string): { createdAt: Date; id: string } | null {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(at ?? '');
  return Number.isNaN(createdAt.getTime()) || !z.uuid().safeParse(id).success ? null : { createdAt, id: id! };
}

function statesOf(filter: AdminStateFilter | undefined): readonly MigrationState[] | null {
  if (!filter) return null;
  if (filter === 'active') return ACTIVE_STATES;
  if (filter === 'ended') return ENDED_STATES;
  return [filter];
}

/**
 * Every organization's migrations for the installation's admins, newest first, optionally one
 * organization's and in some states; keyset-paginated on (created_at, id), so a page never
 * repeats or skips a row while new migrations arrive. Deleted organizations are not listed.
 */
export async function listAllMigrations(db: Db, input: AdminMigrationListInput, zone: string): Promise<AdminMigrationPage> {
  const { organizationId, state, cursor, limit = 25 } = input;
  const after = cursor ? readCursor(cursor) : null;
  if (cursor && !after) throw new DomainError('invalid', OUT_OF_DATE);
  const states = statesOf(state);
  const where: Prisma.MigrationWhereInput = {
    organization: organizationsVisibleTo({ role: 'admin' }),
    ...(organizationId ? { organizationId } : {}),
    ...(states ? { state: { in: [...states] } } : {}),
    ...(after ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] } : {}),
  };
  const rows = await db.migration.findMany({ where, select: adminFields, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit + 1 });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((row) => {
      const side = (name: 'source' | 'target') => {
        const account = row.accounts.find((a) => a.side === name);
        return { email: account?.email ?? '', type: account?.type ?? '' };
      };
      return {
        id: row.id,
        state: row.state,
        organization: row.organization,
        source: side('source'),
        target: side('target'),
        messages: { copied: row.copiedMessages, total: row.totalMessages, notCopied: row.failedMessages },
        failureReason: row.failureReason,
        createdLocal: formatInZone(row.createdAt, zone),
        startLocal: formatInZone(row.startAt, zone),
        finishedLocal: row.finishedAt ? formatInZone(row.finishedAt, zone) : null,
        groupwareRow: groupwareRowOf(side('source').type, side('target').type, row.state, row.groupwareCollections, row._count.groupwareIssues),
        detailsRemoved: detailsRemovedOf(row.detailsRemovedAt, zone),
      };
    }),
    nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}
