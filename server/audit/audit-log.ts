import { z } from 'zod';
import type { Db } from '../db';
import type { Prisma } from '../generated/prisma/client';
import { maskKey } from '../licensing/key-format';
import { formatInZone } from '../migrations/list-migrations';
import { resolveLocalTime } from '../portal/time-zone';
import { DomainError } from '../users/errors';
import { AUDIT_GROUPS, auditActionLabel, auditGroupOf } from './actions';

const OUT_OF_DATE = 'This page of the audit log is out of date; reload the page.';
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;

/** The page's filters as the browser sends them: times as wall-clock times in the portal's zone. */
export const auditLogInputSchema = z.object({
  organizationId: z.uuid('Unknown organization').optional(),
  /** One action ("auth.sign_in_failed") or a group of them ("migration."). */
  action: z
    .string()
    .max(80)
    .regex(/^[a-z0-9_]+(\.[a-z0-9_]*)?$/, 'Unknown action')
    .optional(),
  from: z.string().regex(LOCAL_TIME, 'Enter the date and time as YYYY-MM-DD HH:MM.').optional(),
  to: z.string().regex(LOCAL_TIME, 'Enter the date and time as YYYY-MM-DD HH:MM.').optional(),
  cursor: z
    .string()
    .max(200)
    .refine((c) => readCursor(c) !== null, OUT_OF_DATE)
    .nullish(),
  /** "older" (the default) pages on from the cursor, "newer" back towards the newest entries. */
  direction: z.enum(['older', 'newer']).default('older'),
  limit: z.number().int().min(1).max(100).default(50),
});
export type AuditLogInput = z.input<typeof auditLogInputSchema>;

export interface AuditLogFilter {
  organizationId?: string;
  action?: string;
  from?: Date;
  to?: Date;
  cursor?: string | null;
  direction?: 'older' | 'newer';
  limit?: number;
}

export interface AuditEntry {
  id: string;
  at: Date;
  atLocal: string;
  /** The signed-in user who acted; null for the worker, the maintenance job and the command line. */
  actor: { id: string; name: string | null; email: string; role: string } | null;
  /** Who acted, in words, when no user did ("System", "Command line", "Unknown user"). */
  actorText: string;
  organization: { id: string; name: string; isDeleted: boolean } | null;
  action: string;
  label: string;
  target: { type: string; id: string | null; text: string } | null;
  details: string;
  ip: string | null;
  /** `removed`: the organization's data was removed or the retention period passed; `none`: never had one. */
  ipState: 'shown' | 'removed' | 'none';
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Entries older than the last one shown. */
  olderCursor: string | null;
  /** Entries newer than the first one shown (null on the newest page). */
  newerCursor: string | null;
}

const encodeCursor = (createdAt: Date, id: bigint) => Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');

function readCursor(cursor: string): { createdAt: Date; id: bigint } | null {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(at ?? '');
  if (Number.isNaN(createdAt.getTime()) || !/^\d{1,19}$/.test(id ?? '')) return null;
  return { createdAt, id: BigInt(id!) };
}

/** The browser's filters → the query's: local times resolved in `zone`, a wrong one refused on its field. */
export function auditLogFilterOf(input: z.output<typeof auditLogInputSchema>, zone: string): AuditLogFilter {
  const at = (field: 'from' | 'to') => {
    const local = input[field];
    if (!local) return undefined;
    const resolved = resolveLocalTime(local, zone);
    if (!resolved.ok) throw new DomainError('invalid', resolved.message, field);
    return resolved.utc;
  };
  const from = at('from');
  // "To 10:00" includes the whole minute 10:00.
  const toMinute = at('to');
  const to = toMinute ? new Date(toMinute.getTime() + 59_999) : undefined;
  if (from && to && from > to) throw new DomainError('invalid', 'The start of the period lies after its end.', 'to');
  return { organizationId: input.organizationId, action: input.action, from, to, cursor: input.cursor, direction: input.direction, limit: input.limit };
}

function actionWhere(action: string | undefined): Prisma.AuditEventWhereInput {
  if (!action) return {};
  return action.endsWith('.') ? { action: { startsWith: action } } : { action };
}

const entryFields = {
  id: true,
  action: true,
  targetType: true,
  targetId: true,
  details: true,
  ip: true,
  createdAt: true,
  actorUserId: true,
  organizationId: true,
  actor: { select: { id: true, name: true, email: true, role: true } },
  organization: { select: { id: true, name: true, deletedAt: true } },
} satisfies Prisma.AuditEventSelect;
type Row = Prisma.AuditEventGetPayload<{ select: typeof entryFields }>;

/**
 * The audit log for the installation's admins, newest first, filtered by organization, action
 * (or a group: "migration.") and period; keyset-paginated on (created_at, id), so a page never
 * repeats or skips an entry while new ones arrive. `retentionDays` tells an IP address removed
 * by the retention period from one that never was (0: kept forever).
 */
export async function listAuditEvents(db: Db, filter: AuditLogFilter, options: { zone: string; retentionDays: number; now?: Date }): Promise<AuditPage> {
  const { limit = 50, direction = 'older' } = filter;
  const cursor = filter.cursor ? readCursor(filter.cursor) : null;
  if (filter.cursor && !cursor) throw new DomainError('invalid', OUT_OF_DATE);
  const base: Prisma.AuditEventWhereInput = {
    ...(filter.organizationId ? { organizationId: filter.organizationId } : {}),
    ...actionWhere(filter.action),
    ...(filter.from || filter.to ? { createdAt: { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lte: filter.to } : {}) } } : {}),
  };
  const isNewer = direction === 'newer' && cursor !== null;
  const keyset: Prisma.AuditEventWhereInput | null = cursor
    ? isNewer
      ? { OR: [{ createdAt: { gt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { gt: cursor.id } }] }
      : { OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] }
    : null;
  const order = isNewer ? 'asc' : 'desc';
  const rows = await db.auditEvent.findMany({
    where: keyset ? { AND: [base, keyset] } : base,
    select: entryFields,
    orderBy: [{ createdAt: order }, { id: order }],
    take: limit + 1,
  });
  const hasMore = rows.length > limit;
  const page = rows.slice(0, limit);
  if (isNewer) page.reverse();
  const first = page[0];
  const last = page.at(-1);
  // Older entries exist when this page was cut short, or (paging back) whenever it came from a cursor.
  const hasOlder = isNewer ? true : hasMore;
  const hasNewer = isNewer ? hasMore : cursor !== null;

  const removals = await removalTimes(db, [...new Set(page.flatMap((r) => (r.organizationId ? [r.organizationId] : [])))]);
  const now = options.now ?? new Date();
  const retentionBefore = options.retentionDays > 0 ? new Date(now.getTime() - options.retentionDays * 86_400_000) : null;
  return {
    entries: page.map((row) => toEntry(row, options.zone, removals, retentionBefore)),
    olderCursor: hasOlder && last ? encodeCursor(last.createdAt, last.id) : null,
    newerCursor: hasNewer && first ? encodeCursor(first.createdAt, first.id) : null,
  };
}

/** When each organization's personal data was last removed: the IP addresses of entries until then went with it. */
async function removalTimes(db: Db, organizationIds: string[]): Promise<Map<string, Date>> {
  if (organizationIds.length === 0) return new Map();
  const rows = await db.auditEvent.groupBy({
    by: ['organizationId'],
    where: { organizationId: { in: organizationIds }, action: 'organization.remove_personal_data' },
    _max: { createdAt: true },
  });
  return new Map(rows.flatMap((r) => (r.organizationId && r._max.createdAt ? [[r.organizationId, r._max.createdAt] as const] : [])));
}

function toEntry(row: Row, zone: string, removals: Map<string, Date>, retentionBefore: Date | null): AuditEntry {
  const details = isRecord(row.details) ? row.details : {};
  const removedAt = row.organizationId ? removals.get(row.organizationId) : undefined;
  const ipState = row.ip ? 'shown' : (removedAt && row.createdAt <= removedAt) || (retentionBefore && row.createdAt < retentionBefore) ? 'removed' : 'none';
  return {
    id: row.id.toString(),
    at: row.createdAt,
    atLocal: formatInZone(row.createdAt, zone),
    actor: row.actor ? { id: row.actor.id, name: row.actor.name, email: row.actor.email, role: row.actor.role } : null,
    actorText: actorTextOf(row, details),
    organization: row.organization ? { id: row.organization.id, name: row.organization.name, isDeleted: row.organization.deletedAt !== null } : null,
    action: row.action,
    label: auditActionLabel(row.action),
    target: row.targetType ? { type: row.targetType, id: row.targetId, text: targetTextOf(row.targetType, row.targetId) } : null,
    details: detailsInWords(row.action, details, zone),
    ip: row.ip,
    ipState,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function actorTextOf(row: Row, details: Record<string, unknown>): string {
  if (row.actor) return row.actor.name || row.actor.email;
  if (row.actorUserId) return 'Removed user';
  if (row.action.endsWith('_cli') || row.action === 'secrets.reseal') return 'Command line';
  if (row.action === 'auth.sign_in_failed') return typeof details.email === 'string' ? `${details.email} (no such user)` : 'Unknown user';
  if (row.action === 'user.bootstrap_admin') return 'First start';
  return 'System';
}

const TARGET_LABELS: Record<string, string> = {
  migration: 'Migration',
  mass_submission: 'Mass submission',
  user: 'User',
  organization: 'Organization',
  licence_key: 'Licence key',
  hosted_mailbox: 'Hosted mailbox',
};

function targetTextOf(type: string, id: string | null): string {
  const label = TARGET_LABELS[type] ?? type.replaceAll('_', ' ');
  return id ? `${label} ${id.slice(0, 8)}` : label;
}

const number = (n: unknown) => (typeof n === 'number' ? n.toLocaleString('en-GB') : String(n));
const plural = (n: number, one: string, many = `${one}s`) => `${number(n)} ${n === 1 ? one : many}`;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** camelCase → "camel case". */
function wordsOf(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replaceAll('_', ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function valueInWords(value: unknown, zone: string): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return number(value);
  if (typeof value === 'string') return ISO.test(value) && !Number.isNaN(Date.parse(value)) ? formatInZone(new Date(value), zone) : value.replaceAll('_', ' ');
  if (Array.isArray(value)) return value.map((v) => valueInWords(v, zone)).join(', ');
  return Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${wordsOf(k).toLowerCase()} ${valueInWords(v, zone)}`)
    .join(', ');
}

/** Counts of a removal or retention run, the non-zero ones: "3 migrations, 6 accounts". */
function countsInWords(details: Record<string, unknown>, skip: string[] = []): string {
  const parts = Object.entries(details)
    .filter(([key, value]) => !skip.includes(key) && typeof value === 'number' && value > 0)
    .map(([key, value]) => `${number(value)} ${wordsOf(key).toLowerCase()}`);
  return parts.length > 0 ? parts.join(', ') : 'Nothing to remove';
}

function genericInWords(details: Record<string, unknown>, zone: string): string {
  return Object.entries(details)
    .map(([key, value]) => `${wordsOf(key)}: ${valueInWords(value, zone)}`)
    .join(' · ');
}

/** An entry's details as a sentence for the page; every value in them is shown, nothing else. */
export function detailsInWords(action: string, details: Record<string, unknown>, zone: string): string {
  const d = details;
  switch (action) {
    case 'auth.sign_in_failed':
      return [typeof d.email === 'string' ? `Address ${d.email}` : null, d.disabled ? 'the user is disabled' : null].filter(Boolean).join(' · ');
    case 'migration.create':
      return [
        typeof d.startAt === 'string' ? `Starts ${valueInWords(d.startAt, zone)}` : null,
        typeof d.resyncAt === 'string' ? `resync ${valueInWords(d.resyncAt, zone)}` : null,
        typeof d.pool === 'string' ? `${d.pool} unit` : null,
        typeof d.line === 'number' ? `mass line ${d.line}` : null,
      ]
        .filter(Boolean)
        .join(' · ');
    case 'migration.cancel':
      return [typeof d.from === 'string' ? `Was ${d.from.replaceAll('_', ' ')}` : null, d.unitReturned ? 'its unit came back' : 'its unit stays used'].filter(Boolean).join(' · ');
    case 'migration.check_failed':
      return [
        typeof d.line === 'number' ? `Mass line ${d.line}` : null,
        typeof d.source === 'string' ? `source: ${d.source.replaceAll('_', ' ')}` : null,
        typeof d.target === 'string' ? `target: ${d.target.replaceAll('_', ' ')}` : null,
      ]
        .filter(Boolean)
        .join(' · ');
    case 'migration.finish':
    case 'migration.finish_incomplete':
    case 'migration.fail': {
      const copied = typeof d.copiedMessages === 'number' ? d.copiedMessages : null;
      const total = typeof d.totalMessages === 'number' ? d.totalMessages : null;
      return [copied !== null && total !== null ? `${number(copied)} of ${plural(total, 'message')} copied` : null, d.phase === 'resync' ? 'after the resync' : null].filter(Boolean).join(' · ');
    }
    case 'licence_key.issue':
    case 'licence_key.issue_cli': {
      const keys = Array.isArray(d.lastGroups) ? d.lastGroups.filter((g): g is string => typeof g === 'string') : [];
      return [typeof d.count === 'number' ? plural(d.count, 'key') : null, typeof d.size === 'number' ? `of ${plural(d.size, 'migration')} each` : null, keys.length > 0 ? keys.map(maskKey).join(', ') : null]
        .filter(Boolean)
        .join(' · ');
    }
    case 'licence_key.register':
    case 'licence_key.revoke':
      return [typeof d.lastGroup === 'string' ? maskKey(d.lastGroup) : null, typeof d.size === 'number' ? plural(d.size, 'migration') : null].filter(Boolean).join(' · ');
    case 'organization.remove_personal_data':
      return countsInWords(d);
    case 'privacy.retention':
      return `After ${plural(typeof d.days === 'number' ? d.days : 0, 'day')}: ${countsInWords(d, ['days'])}`;
    case 'mass.submit':
      return [typeof d.records === 'number' ? plural(d.records, 'line') : null, typeof d.pool === 'string' ? `${d.pool} units` : null].filter(Boolean).join(' · ');
    default:
      return genericInWords(d, zone);
  }
}

export interface AuditActionGroup {
  prefix: string;
  label: string;
  actions: { action: string; label: string }[];
}

/** The actions the log holds, by group in the catalogue's order, for the page's filter. */
export async function auditActionsInUse(db: Db): Promise<AuditActionGroup[]> {
  const rows = await db.auditEvent.groupBy({ by: ['action'], orderBy: { action: 'asc' } });
  const groups = new Map<string, AuditActionGroup>(AUDIT_GROUPS.map((g) => [g.prefix, { prefix: g.prefix, label: g.label, actions: [] }]));
  const other: AuditActionGroup = { prefix: '', label: 'Other', actions: [] };
  for (const { action } of rows) {
    const group = auditGroupOf(action);
    (group ? groups.get(group.prefix)! : other).actions.push({ action, label: auditActionLabel(action) });
  }
  return [...groups.values(), other].filter((g) => g.actions.length > 0).map((g) => ({ ...g, actions: g.actions.sort((a, b) => a.label.localeCompare(b.label)) }));
}

/** Every organization the log may name, deleted ones too (their entries stay), for the page's filter. */
export async function auditOrganizations(db: Db): Promise<{ id: string; name: string; kind: string; isDeleted: boolean }[]> {
  const rows = await db.organization.findMany({ select: { id: true, name: true, kind: true, deletedAt: true }, orderBy: [{ name: 'asc' }, { id: 'asc' }] });
  return rows.map((r) => ({ id: r.id, name: r.name, kind: r.kind, isDeleted: r.deletedAt !== null }));
}
