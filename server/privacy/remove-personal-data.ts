import type { Db } from '../db';
import { Prisma } from '../generated/prisma/client';
import type { MigrationState } from '../generated/prisma/enums';
import { inTransaction, type DbOrTx, type Tx } from '../licensing/transaction';
import { parseServer } from '../accounts/server-address';
import { cancelMigration, type CancelResult } from '../migrations/cancel-migration';
import { MigrationNotCancellableError, MigrationNotFoundError } from '../migrations/errors';
import { ACTIVE_STATES, ENDED_STATES, isEndedState } from '../migrations/lifecycle';
import { recordDeletionReceipt } from './receipts';

/*
 * What "remove my data" and the retention period remove, column by column of
 * prisma/schema.prisma. "Blank": the row stays with its counts, the text goes ('' or null).
 * "Delete": the row goes. "Keep": nothing personal of a migration's accounts in it.
 *
 * | table (model)                           | column(s)                                         | decision |
 * |-----------------------------------------|---------------------------------------------------|----------|
 * | migrations (Migration)                  | state, dates, message/byte counts, organization    | keep (what stays: how many, when, in which state) |
 * |                                         | failure_reason (may name a server or an address)   | blank (null) |
 * |                                         | live_folders (folder names), eta, rate             | blank (null) |
 * |                                         | details_removed_at / _reason                       | set |
 * | migration_accounts                      | type, side                                         | keep |
 * |                                         | email, username, server                            | blank ('') |
 * |                                         | groupware_url, password_sealed                     | blank (null; the password is wiped at the end already) |
 * | migration_folders                       | source/target path, note, UID state: per folder    | delete (the totals stay on the migration row) |
 * | migration_issues                        | folder, reason, uid, size, date                    | delete |
 * | migration_notices                       | folder, text                                       | delete |
 * | migration_verifications                 | paths, missing UIDs, reasons, folder states        | delete |
 * | migration_groupware_collections         | source id (a URL), names, note, checkpoint (UIDs)  | delete |
 * | migration_groupware_issues / _changes   | collection names, UIDs, reasons                    | delete |
 * | migration_events                        | kind, at                                           | keep (no text: the timeline) |
 * | migration_notifications                 | last_error (an SMTP answer may name an address)    | blank (null); pending ones are skipped: their mail would name nothing |
 * | mass_records                            | source/target email, username, server, verdicts,   | blank ('' / null): the migration's line with it, the failed lines with the |
 * |                                         | message                                            | organization or the retention period; type, state, dates, line number stay |
 * | quota_reservations, licence_keys,       | units, pools, states, key hashes                   | keep (licences and their usage) |
 * | organization_usage                      |                                                    |          |
 * | audit_events (of the organization)      | ip                                                 | blank (null) on removal of the organization and after the retention period |
 * |                                         | details (dates, pools, reason codes; users' own    | keep (the users are kept; no account of a migration is in it) |
 * |                                         | addresses for user actions)                        |          |
 * | rate_limit_buckets                      | key "check:account:TYPE:USER@HOST", "check:host:H" | delete those of the migration's accounts |
 * | connection_leases                       | host                                               | delete the expired ones of its hosts; a live lease belongs to a job still running and expires by itself |
 * | graphile_worker._private_jobs           | payload (ids only), last_error (an error's text)   | delete the migration's and its e-mails' jobs not held by a worker; blank last_error of held ones |
 * | hosted_mailboxes                        | email, username, server                            | keep: the installation's own mailboxes, entered by its admins, no organization's (the model has no link to one) |
 * | users, organizations                    | names, addresses                                   | keep (an admin deletes those: server/users) |
 * | network_settings, microsoft365_connections | hosts, tenant, sealed secret                    | keep (settings, not a migration's data) |
 */

export type RemovalReason = 'customer' | 'admin' | 'retention';

/** How many rows of each kind lost their personal data: counts, never values. */
export interface RemovalCounts {
  migrations: number;
  accounts: number;
  folders: number;
  issues: number;
  notices: number;
  verifications: number;
  groupwareCollections: number;
  groupwareIssues: number;
  groupwareChanges: number;
  notifications: number;
  massRecords: number;
  jobs: number;
  rateLimitBuckets: number;
  connectionLeases: number;
  auditIpAddresses: number;
  hostedMailboxes: number;
}

const noCounts = (): RemovalCounts => ({
  migrations: 0,
  accounts: 0,
  folders: 0,
  issues: 0,
  notices: 0,
  verifications: 0,
  groupwareCollections: 0,
  groupwareIssues: 0,
  groupwareChanges: 0,
  notifications: 0,
  massRecords: 0,
  jobs: 0,
  rateLimitBuckets: 0,
  connectionLeases: 0,
  auditIpAddresses: 0,
  hostedMailboxes: 0,
});

function add(into: RemovalCounts, more: RemovalCounts): RemovalCounts {
  for (const key of Object.keys(into) as (keyof RemovalCounts)[]) into[key] += more[key];
  return into;
}

/**
 * A migration still runs (or waits to): its details are needed until it ends. `isStopping`: it
 * ended (cancelled), but a worker still holds its job, which may write a checkpoint before it
 * sees the state; try again in a minute.
 */
export class MigrationStillActiveError extends Error {
  constructor(
    readonly migrationId: string,
    readonly state: MigrationState,
    readonly isStopping = false,
  ) {
    super(
      isStopping
        ? `Migration ${migrationId} is ${state} but its job is still stopping: try again in a minute.`
        : `Migration ${migrationId} is ${state.replace('_', ' ')}: cancel it or let it end before its details are removed.`,
    );
    this.name = 'MigrationStillActiveError';
  }
}

export interface ActiveMigration {
  id: string;
  /** The source account's address, for the customer to recognise it. */
  source: string;
  state: MigrationState;
  /** Ended (cancelled), but its job has not stopped yet: nothing to cancel, wait a minute. */
  isStopping: boolean;
}

// graphile-worker 0.18 takes a job back from a worker after 4 hours (job_expiry in get_job).
const HELD = Prisma.sql`locked_at IS NOT NULL AND locked_at > now() - interval '4 hours'`;

/** The migrations among `ids` whose job a worker holds right now. */
async function migrationsWithHeldJobs(db: DbOrTx, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT DISTINCT payload->>'migrationId' AS id FROM graphile_worker._private_jobs
    WHERE ${HELD} AND payload->>'migrationId' = ANY(${ids}::text[])`;
  return new Set(rows.map((r) => r.id));
}

/** The organization has migrations that have not ended: they are listed, to be cancelled first. */
export class OrganizationHasActiveMigrationsError extends Error {
  constructor(
    readonly migrations: ActiveMigration[],
    /** Mass submissions whose logins are still being checked. */
    readonly checkingSubmissions: number,
  ) {
    const parts = [migrations.length > 0 ? `${migrations.length} active migration${migrations.length === 1 ? '' : 's'}` : null, checkingSubmissions > 0 ? `${checkingSubmissions} mass submission${checkingSubmissions === 1 ? '' : 's'} being checked` : null].filter(Boolean);
    super(`This organization has ${parts.join(' and ')}: cancel them or let them end before its data is removed.`);
    this.name = 'OrganizationHasActiveMigrationsError';
  }
}

/** A customer may remove only its own organization's data. */
export class NotYourOrganizationError extends Error {
  constructor() {
    super('You can remove only your own organization’s data.');
    this.name = 'NotYourOrganizationError';
  }
}

/** Each way the engine's connectors and the check service name a host (server/accounts/check-service.ts). */
function hostsOf(server: string): string[] {
  const hosts = new Set<string>();
  if (server) hosts.add(server.toLowerCase());
  try {
    if (server) hosts.add(parseServer(server).host);
  } catch {
    // Not an address the form would take: the lower-cased text is what was used.
  }
  return [...hosts];
}

const BLANK_MASS_RECORD = {
  sourceEmail: '',
  sourceUsername: '',
  sourceServer: '',
  sourcePasswordSealed: null,
  targetEmail: '',
  targetUsername: '',
  targetServer: '',
  targetPasswordSealed: null,
  sourceVerdict: Prisma.DbNull,
  targetVerdict: Prisma.DbNull,
  message: null,
} satisfies Prisma.MassRecordUpdateManyMutationInput;

/** Mass lines that still name accounts (a blank line has both addresses empty). */
const namesAccounts = { NOT: { sourceEmail: '', targetEmail: '' } } satisfies Prisma.MassRecordWhereInput;

/** The lines of these mass submissions (failed logins among them, which never became migrations), and their jobs' errors. */
async function blankMassSubmissions(tx: Tx, submissions: string[]): Promise<{ massRecords: number; jobs: number }> {
  if (submissions.length === 0) return { massRecords: 0, jobs: 0 };
  const massRecords = (await tx.massRecord.updateMany({ where: { submissionId: { in: submissions }, ...namesAccounts }, data: BLANK_MASS_RECORD })).count;
  const jobs = await removeJobs(tx, Prisma.sql`payload->>'submissionId' = ANY(${submissions}::text[])`);
  return { massRecords, jobs };
}

async function removeJobs(tx: Tx, where: Prisma.Sql): Promise<number> {
  // Not the view (graphile_worker.jobs): the table, so held jobs can lose their error text too.
  const deleted = await tx.$executeRaw`DELETE FROM graphile_worker._private_jobs WHERE locked_at IS NULL AND (${where})`;
  await tx.$executeRaw`UPDATE graphile_worker._private_jobs SET last_error = NULL WHERE last_error IS NOT NULL AND (${where})`;
  return deleted;
}

/**
 * Removes the personal data of one ended migration (see the table above), in one transaction
 * (the caller's when it passes one): its row keeps state, dates and counts and is marked with
 * when and why. An active migration is refused with MigrationStillActiveError; one removed
 * before is left as it is (all counts 0).
 */
export async function removeMigrationPersonalData(db: DbOrTx, migrationId: string, options: { reason: RemovalReason; at?: Date }): Promise<RemovalCounts> {
  const at = options.at ?? new Date();
  return inTransaction(db, async (tx) => {
    // The row lock orders this against a cancel or a job's last write on the same row.
    const rows = await tx.$queryRaw<{ organization_id: string; state: MigrationState; details_removed_at: Date | null }[]>`
      SELECT organization_id, state, details_removed_at FROM migrations WHERE id = ${migrationId}::uuid FOR UPDATE`;
    const row = rows[0];
    if (!row) throw new MigrationNotFoundError();
    if (!isEndedState(row.state)) throw new MigrationStillActiveError(migrationId, row.state);
    const counts = noCounts();
    if (row.details_removed_at) return counts;
    if ((await migrationsWithHeldJobs(tx, [migrationId])).size > 0) throw new MigrationStillActiveError(migrationId, row.state, true);

    const accounts = await tx.migrationAccount.findMany({ where: { migrationId }, select: { type: true, username: true, server: true } });
    const events = (await tx.migrationEvent.findMany({ where: { migrationId }, select: { id: true } })).map((e) => String(e.id));

    // What else holds the accounts' names: the check service's windows and the per-host leases.
    const hosts = [...new Set(accounts.flatMap((a) => hostsOf(a.server)))];
    const bucketKeys = [
      ...accounts.flatMap((a) => hostsOf(a.server).map((host) => `check:account:${a.type}:${a.username.toLowerCase()}@${host}`)),
      ...hosts.map((host) => `check:host:${host}`),
    ];
    counts.rateLimitBuckets = (await tx.rateLimitBucket.deleteMany({ where: { key: { in: bucketKeys } } })).count;
    counts.connectionLeases = (await tx.connectionLease.deleteMany({ where: { host: { in: hosts }, expiresAt: { lte: at } } })).count;

    counts.accounts = (await tx.migrationAccount.updateMany({ where: { migrationId }, data: { email: '', username: '', server: '', groupwareUrl: null, passwordSealed: null } })).count;
    counts.folders = (await tx.migrationFolder.deleteMany({ where: { migrationId } })).count;
    counts.issues = (await tx.migrationIssue.deleteMany({ where: { migrationId } })).count;
    counts.notices = (await tx.migrationNotice.deleteMany({ where: { migrationId } })).count;
    counts.verifications = (await tx.migrationVerification.deleteMany({ where: { migrationId } })).count;
    counts.groupwareCollections = (await tx.migrationGroupwareCollection.deleteMany({ where: { migrationId } })).count;
    counts.groupwareIssues = (await tx.migrationGroupwareIssue.deleteMany({ where: { migrationId } })).count;
    counts.groupwareChanges = (await tx.migrationGroupwareChange.deleteMany({ where: { migrationId } })).count;

    // An e-mail not sent yet would name nothing now: it is skipped, as one to a user who switched them off.
    const eventIds = events.map((id) => BigInt(id));
    await tx.migrationNotification.updateMany({ where: { eventId: { in: eventIds }, state: 'pending' }, data: { state: 'skipped', lastError: null } });
    counts.notifications = (await tx.migrationNotification.updateMany({ where: { eventId: { in: eventIds }, lastError: { not: null } }, data: { lastError: null } })).count;

    counts.massRecords = (await tx.massRecord.updateMany({ where: { migrationId }, data: BLANK_MASS_RECORD })).count;

    counts.jobs = await removeJobs(tx, Prisma.sql`payload->>'migrationId' = ${migrationId} OR payload->>'eventId' = ANY(${events}::text[])`);

    await tx.migration.update({
      where: { id: migrationId },
      data: { failureReason: null, liveFolders: Prisma.DbNull, etaSeconds: null, bytesPerSecond: null, detailsRemovedAt: at, detailsRemovedReason: options.reason },
    });
    // The receipt counts what went; `migrations` (this one) is the receipt itself.
    const { migrations: _self, ...deleted } = counts;
    await recordDeletionReceipt(tx, { organizationId: row.organization_id, migrationId, event: 'details_removed', trigger: options.reason, deleted: { ...deleted }, at });
    counts.migrations = 1;
    return counts;
  });
}

/**
 * The organization's migrations that have not ended, oldest first, with their source address;
 * and those that ended but whose job a worker still holds (`isStopping`: cancelled a moment ago).
 */
export async function listActiveMigrations(db: DbOrTx, organizationId: string): Promise<ActiveMigration[]> {
  const select = { id: true, state: true, accounts: { where: { side: 'source' as const }, select: { email: true } } };
  const order = [{ createdAt: 'asc' as const }, { id: 'asc' as const }];
  const [active, ended] = await Promise.all([
    db.migration.findMany({ where: { organizationId, state: { in: [...ACTIVE_STATES] } }, select, orderBy: order }),
    db.migration.findMany({ where: { organizationId, state: { in: [...ENDED_STATES] }, detailsRemovedAt: null }, select: { id: true } }),
  ]);
  const held = await migrationsWithHeldJobs(
    db,
    ended.map((m) => m.id),
  );
  const stopping = held.size > 0 ? await db.migration.findMany({ where: { id: { in: [...held] } }, select, orderBy: order }) : [];
  return [...active.map((r) => ({ r, isStopping: false })), ...stopping.map((r) => ({ r, isStopping: true }))].map(({ r, isStopping }) => ({ id: r.id, state: r.state, source: r.accounts[0]?.email ?? '', isStopping }));
}

/**
 * Cancels every active migration of the organization, as the customer's Cancel does each: an
 * unstarted one gets its unit back, a running one stops at its next checkpoint. One that ended
 * meanwhile is left out.
 */
export async function cancelActiveMigrations(db: Db, organizationId: string, caller: { userId: string; ip?: string | null }): Promise<CancelResult[]> {
  const results: CancelResult[] = [];
  for (const migration of await listActiveMigrations(db, organizationId)) {
    if (migration.isStopping) continue;
    try {
      results.push(await cancelMigration(db, { userId: caller.userId, organizationId, ip: caller.ip }, migration.id));
    } catch (error) {
      if (error instanceof MigrationNotCancellableError || error instanceof MigrationNotFoundError) continue;
      throw error;
    }
  }
  return results;
}

export interface RemovalActor {
  userId: string | null;
  role: 'admin' | 'customer';
  /** The customer's own organization. */
  organizationId?: string | null;
}

/**
 * "Remove my data" for a whole organization: every ended migration's personal data (one
 * transaction per migration), the IP addresses of the organization's audit entries, and the
 * addresses in its mass submissions' failed lines. Refused with OrganizationHasActiveMigrationsError
 * while a migration has not ended (cancel them first: cancelActiveMigrations). What stays: the
 * organization, its users, its licences and usage, and each migration's state, dates and counts.
 */
export async function removeOrganizationPersonalData(db: Db, organizationId: string, options: { actor: RemovalActor; at?: Date }): Promise<RemovalCounts> {
  const { actor } = options;
  const at = options.at ?? new Date();
  if (actor.role === 'customer' && actor.organizationId !== organizationId) throw new NotYourOrganizationError();
  const active = await listActiveMigrations(db, organizationId);
  const checkingSubmissions = await db.massSubmission.count({ where: { organizationId, state: 'checking' } });
  if (active.length > 0 || checkingSubmissions > 0) throw new OrganizationHasActiveMigrationsError(active, checkingSubmissions);

  const reason: RemovalReason = actor.role === 'admin' ? 'admin' : 'customer';
  const counts = noCounts();
  const ended = await db.migration.findMany({ where: { organizationId, state: { in: [...ENDED_STATES] }, detailsRemovedAt: null }, select: { id: true }, orderBy: { createdAt: 'asc' } });
  for (const { id } of ended) add(counts, await removeMigrationPersonalData(db, id, { reason, at }));

  return inTransaction(db, async (tx) => {
    // A started one since the check: refused like the rest (the lists show it, it is cancelled first).
    const late = await listActiveMigrations(tx, organizationId);
    if (late.length > 0) throw new OrganizationHasActiveMigrationsError(late, 0);

    // The lines of its mass submissions that never became migrations (failed logins).
    const submissions = (await tx.massSubmission.findMany({ where: { organizationId }, select: { id: true } })).map((s) => s.id);
    const mass = await blankMassSubmissions(tx, submissions);
    counts.massRecords += mass.massRecords;
    counts.jobs += mass.jobs;
    counts.auditIpAddresses = (await tx.auditEvent.updateMany({ where: { organizationId, ip: { not: null } }, data: { ip: null } })).count;
    // hosted_mailboxes: the installation's own, not the organization's (see the table above).
    counts.hostedMailboxes = 0;
    // Each migration has its own receipt; this one is the request's, with its own part.
    await recordDeletionReceipt(tx, {
      organizationId,
      event: 'organization_data_removed',
      trigger: reason,
      deleted: { migrations: counts.migrations, massRecords: mass.massRecords, jobs: mass.jobs, auditIpAddresses: counts.auditIpAddresses },
      at,
    });

    await tx.auditEvent.create({
      data: {
        action: 'organization.remove_personal_data',
        actorUserId: actor.userId,
        organizationId,
        targetType: 'organization',
        targetId: organizationId,
        details: { ...counts },
        createdAt: at,
      },
    });
    return counts;
  });
}

/**
 * The migrations that ended more than `days` days before `now` and still hold their details
 * lose them (reason 'retention'), at most `batchSize` × `batches` per call, oldest end first;
 * so do the lines of mass submissions done before then (the failed ones never became
 * migrations), and audit entries older than that lose their IP address. `days` 0 keeps everything.
 */
export async function removeExpiredPersonalData(db: Db, options: { days: number; now?: Date; batchSize?: number; batches?: number }): Promise<{ migrations: number; massRecords: number; auditIpAddresses: number }> {
  const { days, now = new Date(), batchSize = 100, batches = 10 } = options;
  if (days <= 0) return { migrations: 0, massRecords: 0, auditIpAddresses: 0 };
  const before = new Date(now.getTime() - days * 86_400_000);
  let migrations = 0;
  for (let batch = 0; batch < batches; batch += 1) {
    const due = await db.migration.findMany({
      where: { state: { in: [...ENDED_STATES] }, detailsRemovedAt: null, finishedAt: { lt: before } },
      select: { id: true },
      orderBy: [{ finishedAt: 'asc' }, { id: 'asc' }],
      take: batchSize,
    });
    for (const { id } of due) {
      try {
        migrations += (await removeMigrationPersonalData(db, id, { reason: 'retention', at: now })).migrations;
      } catch (error) {
        // Its job is still held (a worker that died holds it up to 4 hours): the next run takes it.
        if (!(error instanceof MigrationStillActiveError)) throw error;
      }
    }
    if (due.length < batchSize) break;
  }
  // Per organization, each in one transaction with its receipt: its mass lines, then its audit IPs.
  let massRecords = 0;
  for (let batch = 0; batch < batches; batch += 1) {
    const done = await db.massSubmission.findMany({
      where: { state: 'done', finishedAt: { lt: before }, lines: { some: namesAccounts } },
      select: { id: true, organizationId: true },
      orderBy: [{ finishedAt: 'asc' }, { id: 'asc' }],
      take: batchSize,
    });
    const byOrganization = new Map<string, string[]>();
    for (const s of done) byOrganization.set(s.organizationId, [...(byOrganization.get(s.organizationId) ?? []), s.id]);
    for (const [organizationId, submissions] of byOrganization) {
      massRecords += await inTransaction(db, async (tx) => {
        const mass = await blankMassSubmissions(tx, submissions);
        await recordDeletionReceipt(tx, { organizationId, event: 'expired_data_removed', trigger: 'retention', deleted: { ...mass }, at: now });
        return mass.massRecords;
      });
    }
    if (done.length < batchSize) break;
  }
  const expired = { createdAt: { lt: before }, ip: { not: null } } satisfies Prisma.AuditEventWhereInput;
  let auditIpAddresses = 0;
  const withIps = await db.auditEvent.findMany({ where: expired, distinct: ['organizationId'], select: { organizationId: true } });
  for (const { organizationId } of withIps) {
    auditIpAddresses += await inTransaction(db, async (tx) => {
      const { count } = await tx.auditEvent.updateMany({ where: { ...expired, organizationId }, data: { ip: null } });
      // Sign-ins of no organization (admins, failed attempts) have no chain to go in.
      if (organizationId) await recordDeletionReceipt(tx, { organizationId, event: 'expired_data_removed', trigger: 'retention', deleted: { auditIpAddresses: count }, at: now });
      return count;
    });
  }
  return { migrations, massRecords, auditIpAddresses };
}

export interface MigrationCountsBefore {
  /** Migrations whose details were removed. */
  count: number;
  /** The latest end among them: "N migrations done before <date>". */
  doneBefore: Date | null;
  /** The latest removal among them: "their details were removed on <date>". */
  removedAt: Date | null;
  /** By month of their end (UTC, "2026-11") and state, oldest month first. */
  byMonth: { month: string; state: MigrationState; count: number }[];
}

/** What stays of the organization's migrations whose details were removed: how many, by month and state. */
export async function migrationCountsBefore(db: DbOrTx, organizationId: string): Promise<MigrationCountsBefore> {
  const rows = await db.$queryRaw<{ month: string; state: MigrationState; count: bigint; done_before: Date | null; removed_at: Date | null }[]>`
    SELECT to_char(date_trunc('month', COALESCE(finished_at, created_at) AT TIME ZONE 'UTC'), 'YYYY-MM') AS month,
           state, count(*) AS count, max(finished_at) AS done_before, max(details_removed_at) AS removed_at
    FROM migrations
    WHERE organization_id = ${organizationId}::uuid AND details_removed_at IS NOT NULL
    GROUP BY 1, 2
    ORDER BY 1, 2`;
  const latest = (dates: (Date | null)[]) => dates.reduce<Date | null>((max, d) => (d && (!max || d > max) ? d : max), null);
  return {
    count: rows.reduce((n, r) => n + Number(r.count), 0),
    doneBefore: latest(rows.map((r) => r.done_before)),
    removedAt: latest(rows.map((r) => r.removed_at)),
    byMonth: rows.map((r) => ({ month: r.month, state: r.state, count: Number(r.count) })),
  };
}
