import type { Db } from '../db';
import type { MigrationState } from '../generated/prisma/enums';
import { usageCounts } from '../licensing/quota';
import { ENDED_STATES } from '../migrations/lifecycle';
import { OrganizationNotFoundError } from '../organizations/organizations';
import { resolveLocalTime } from '../portal/time-zone';
import { listActiveMigrations, migrationCountsBefore, type ActiveMigration, type MigrationCountsBefore, type RemovalCounts } from './remove-personal-data';

/*
 * What "Remove my data" would delete and what it keeps, for the confirmation: counts per kind,
 * never a value. The one exception is the active migrations' source addresses: the customer has
 * to recognise what it is about to cancel.
 */

export type RemovedKind =
  | 'migrations'
  | 'accounts'
  | 'folders'
  | 'issues'
  | 'notices'
  | 'verifications'
  | 'groupware'
  | 'notifications'
  | 'massRecords'
  | 'auditIpAddresses'
  | 'background';

export interface RemovedItem {
  kind: RemovedKind;
  count: number;
  /** "4 migrations: their addresses, usernames and servers". */
  text: string;
}

const WORDS: Record<RemovedKind, [one: string, many: string]> = {
  migrations: ['migration: its addresses, usernames and servers', 'migrations: their addresses, usernames and servers'],
  accounts: ['account record (source or target)', 'account records (source and target)'],
  folders: ['folder record with its folder names', 'folder records with their folder names'],
  issues: ['item report (what was not copied, and why)', 'item reports (what was not copied, and why)'],
  notices: ['folder notice', 'folder notices'],
  verifications: ['verification record', 'verification records'],
  groupware: ['calendar, contact or task record', 'calendar, contact and task records'],
  notifications: ['e-mail delivery error', 'e-mail delivery errors'],
  massRecords: ['mass migration line', 'mass migration lines'],
  auditIpAddresses: ['IP address in the audit log', 'IP addresses in the audit log'],
  background: ['queued job or connection record', 'queued jobs and connection records'],
};

const number = (n: number) => n.toLocaleString('en-GB');

function item(kind: RemovedKind, count: number): RemovedItem {
  const [one, many] = WORDS[kind];
  return { kind, count, text: `${number(count)} ${count === 1 ? one : many}` };
}

/** A removal's counts (server/privacy/remove-personal-data.ts) in the kinds the portal names, those above 0 only. */
export function describeRemoval(counts: RemovalCounts): RemovedItem[] {
  return [
    item('migrations', counts.migrations),
    item('accounts', counts.accounts),
    item('folders', counts.folders),
    item('issues', counts.issues),
    item('notices', counts.notices),
    item('verifications', counts.verifications),
    item('groupware', counts.groupwareCollections + counts.groupwareIssues + counts.groupwareChanges),
    item('notifications', counts.notifications),
    item('massRecords', counts.massRecords),
    item('auditIpAddresses', counts.auditIpAddresses),
    item('background', counts.jobs + counts.rateLimitBuckets + counts.connectionLeases),
  ].filter((i) => i.count > 0);
}

export interface RemovalPreview {
  organization: { id: string; name: string };
  /** MAILFERRY_RETENTION_DAYS: days after its end a migration keeps its details; 0 = until removed. */
  retentionDays: number;
  /** What a removal now would delete, those above 0 only; empty when nothing personal is left. */
  deletes: RemovedItem[];
  /** What stays. */
  keeps: {
    /** Every migration of the organization, by month of its end (or creation; UTC, "2026-11") and state. */
    migrationsByMonth: { month: string; state: MigrationState; count: number }[];
    migrations: number;
    licences: number;
    usage: { migrationsDone: number; freeUnits: number; commercialUnits: number };
    users: number;
  };
  /** Migrations that have not ended (or whose job is still stopping): cancelled first. */
  active: ActiveMigration[];
  /** Mass submissions whose logins are still being checked: they end by themselves. */
  checkingSubmissions: number;
  /** True while `active` or `checkingSubmissions` stand in the way. */
  isBlocked: boolean;
}

/** The preview for the confirmation; an organization that does not exist (or was deleted) is OrganizationNotFoundError. */
export async function removalPreview(db: Db, organizationId: string, options: { retentionDays: number }): Promise<RemovalPreview> {
  const organization = await db.organization.findFirst({ where: { id: organizationId, deletedAt: null }, select: { id: true, name: true } });
  if (!organization) throw new OrganizationNotFoundError();

  // Exactly the migrations removeOrganizationPersonalData takes: ended, details still there.
  const withDetails = { organizationId, state: { in: [...ENDED_STATES] }, detailsRemovedAt: null };
  const ofThem = { migration: withDetails };
  const [migrations, accounts, folders, issues, notices, verifications, collections, groupwareIssues, groupwareChanges, notifications, massRecords, auditIpAddresses] =
    await Promise.all([
      db.migration.count({ where: withDetails }),
      db.migrationAccount.count({ where: ofThem }),
      db.migrationFolder.count({ where: ofThem }),
      db.migrationIssue.count({ where: ofThem }),
      db.migrationNotice.count({ where: ofThem }),
      db.migrationVerification.count({ where: ofThem }),
      db.migrationGroupwareCollection.count({ where: ofThem }),
      db.migrationGroupwareIssue.count({ where: ofThem }),
      db.migrationGroupwareChange.count({ where: ofThem }),
      db.migrationNotification.count({ where: { lastError: { not: null }, event: { migration: withDetails } } }),
      // The lines of its migrations and the failed ones of its submissions: all that still name accounts.
      db.massRecord.count({ where: { submission: { organizationId }, NOT: { sourceEmail: '', targetEmail: '' } } }),
      db.auditEvent.count({ where: { organizationId, ip: { not: null } } }),
    ]);

  const [byMonth, licences, usage, users, active, checkingSubmissions] = await Promise.all([
    db.$queryRaw<{ month: string; state: MigrationState; count: bigint }[]>`
      SELECT to_char(date_trunc('month', COALESCE(finished_at, created_at) AT TIME ZONE 'UTC'), 'YYYY-MM') AS month, state, count(*) AS count
      FROM migrations WHERE organization_id = ${organizationId}::uuid
      GROUP BY 1, 2 ORDER BY 1, 2`,
    db.licenceKey.count({ where: { organizationId } }),
    usageCounts(db, organizationId),
    db.user.count({ where: { organizationId } }),
    listActiveMigrations(db, organizationId),
    db.massSubmission.count({ where: { organizationId, state: 'checking' } }),
  ]);
  const migrationsByMonth = byMonth.map((r) => ({ month: r.month, state: r.state, count: Number(r.count) }));

  return {
    organization,
    retentionDays: options.retentionDays,
    deletes: describeRemoval({
      migrations,
      accounts,
      folders,
      issues,
      notices,
      verifications,
      groupwareCollections: collections,
      groupwareIssues,
      groupwareChanges,
      notifications,
      massRecords,
      auditIpAddresses,
      jobs: 0,
      rateLimitBuckets: 0,
      connectionLeases: 0,
      hostedMailboxes: 0,
    }),
    keeps: {
      migrationsByMonth,
      migrations: migrationsByMonth.reduce((n, r) => n + r.count, 0),
      licences,
      usage,
      users,
    },
    active,
    checkingSubmissions,
    isBlocked: active.length > 0 || checkingSubmissions > 0,
  };
}

export interface CountsBeforeSummary extends MigrationCountsBefore {
  /** "4 migrations done before 6 Dec 2026; their details were removed on 8 Dec 2026", or null when none were removed. */
  text: string | null;
  /** By month ("Nov 2026") and state, oldest first. */
  rows: { month: string; monthLabel: string; state: MigrationState; count: number }[];
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** "8 Dec 2026" in `zone`, as the lists write the day a migration's details were removed. */
export function formatDayInZone(at: Date, zone: string): string {
  let format = dayFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: 'numeric', month: 'short', year: 'numeric' });
    dayFormats.set(zone, format);
  }
  return format.format(at);
}

/**
 * "before 6 Dec 2026" when the last of them ended on 5 Dec (local) and the removal came later;
 * "by 8 Dec 2026" when it ended on the day of the removal (a migration cancelled just before it),
 * where the next day would lie in the future.
 */
function doneBy(lastEnd: Date, removedAt: Date | null, zone: string): string {
  const day = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(lastEnd).map((p) => [p.type, p.value]),
  );
  const next = new Date(Date.UTC(Number(day.year), Number(day.month) - 1, Number(day.day) + 1));
  const midnight = resolveLocalTime(`${next.toISOString().slice(0, 10)}T00:00`, zone);
  if (midnight.ok && (!removedAt || midnight.utc <= removedAt)) return `before ${formatDayInZone(midnight.utc, zone)}`;
  return `by ${formatDayInZone(lastEnd, zone)}`;
}

const monthFormat = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', month: 'short', year: 'numeric' });

/** What stays of the migrations whose details were removed, with the line the lists show above their rows. */
export async function countsBeforeSummary(db: Db, organizationId: string, zone: string): Promise<CountsBeforeSummary> {
  const counts = await migrationCountsBefore(db, organizationId);
  const text =
    counts.count === 0
      ? null
      : [
          `${number(counts.count)} ${counts.count === 1 ? 'migration' : 'migrations'} done`,
          counts.doneBefore ? ` ${doneBy(counts.doneBefore, counts.removedAt, zone)}` : '',
          counts.removedAt ? `; ${counts.count === 1 ? 'its' : 'their'} details were removed on ${formatDayInZone(counts.removedAt, zone)}` : '',
        ].join('');
  return {
    ...counts,
    text,
    rows: counts.byMonth.map((r) => ({ ...r, monthLabel: monthFormat.format(new Date(`${r.month}-01T00:00:00Z`)) })),
  };
}
