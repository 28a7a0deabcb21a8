import { createHash } from 'node:crypto';
import { checkAccount, type AccountCheck, type CheckEnvironment } from '../../accounts/check';
import { checkEnvironmentFor, consumeAccountAllowance } from '../../accounts/check-service';
import { failureMessage } from '../../accounts/messages';
import type { AccountInput } from '../../accounts/schemas';
import { parseServer } from '../../accounts/server-address';
import type { AccountType } from '../../accounts/types';
import { recordAudit } from '../../audit/audit';
import type { KeyRing } from '../../crypto/keyring';
import { unseal, UnsealError } from '../../crypto/seal';
import type { Db } from '../../db';
import { enqueueJob } from '../../jobs/enqueue';
import { releaseReservation } from '../../licensing/quota';
import { inTransaction, type Tx } from '../../licensing/transaction';
import { createLogger } from '../../logger';
import { recordDeletionReceipt } from '../../privacy/receipts';
import { acquireLease, releaseLease } from '../connection-leases';
import { createMigration } from '../create-migration';
import { FAILED_CHECK_MESSAGE } from '../submit-migration';
import { massSubmissionCheckJob, massSubmissionJobKey } from './jobs';
import type { MassSideVerdict } from './submission-types';
import { massPasswordContext } from './submit';

const log = createLogger('mass-migration');

/*
 * Rate limits. The single form counts every check against the user (30 per 10 min), each
 * account (10 per 10 min) and each host (120 per 10 min). A submission of 300 records cannot
 * live with the first and the last: one customer moving one domain checks 600 logins, most of
 * them on the same one or two servers. What they protect against is held otherwise here:
 * - per user: every record's unit was reserved before any login is tried, so a customer can
 *   cause at most two logins per unit still available to them;
 * - per host: nobody can hammer a server through the portal, because a submission opens at
 *   most LOGINS_PER_HOST logins to one host at a time and every login holds a connection
 *   lease, which counts together with running migrations (and other submissions) against the
 *   host's connection limit across all workers;
 * - per account stays as it is: guessing one mailbox's password through many records (or
 *   through the single form at the same time) is stopped, and that side is reported as
 *   `rate_limited` with the single form's message.
 */

/** Records whose logins are tried at the same time. */
export const RECORDS_AT_ONCE = 8;
/** Logins one submission opens to one host at the same time. */
export const LOGINS_PER_HOST = 4;
/** Until a full host is asked again for a slot: it is waited for, never failed. */
const FULL_HOST_RETRY_MS = 1_000;
// A check gives up after 20 s per side; the lease outlives it by a margin and then frees itself.
const LEASE_TTL_SECONDS = 80;

const UNREADABLE_MESSAGE = 'The passwords of this line cannot be read on this installation. Please submit the line again.';
const UNEXPECTED_MESSAGE = 'This line could not be checked because of a problem on our side. Please submit it again.';

export interface CheckRecordsOptions {
  ring: KeyRing;
  /** How long one job starts new checks before it hands over to the next job (graphile-worker's lock). */
  timeBudgetMs: number;
  /** Injected by tests; otherwise the organization's (network policy, Microsoft 365 connection). */
  environment?: CheckEnvironment;
  recordsAtOnce?: number;
  loginsPerHost?: number;
  /** The per-host connection limit the leases are counted against. */
  connectionsPerHost?: number;
}

export type CheckRecordsOutcome = 'ignored' | 'done' | 'continues';

interface RecordRow {
  line: number;
  startAt: Date;
  resyncAt: Date | null;
  reservationId: string | null;
  sourceType: string;
  sourceEmail: string;
  sourceUsername: string;
  sourceServer: string;
  targetType: string;
  targetEmail: string;
  targetUsername: string;
  targetServer: string;
}

interface Submission {
  id: string;
  organizationId: string;
  createdByUserId: string | null;
}

type Side = 'source' | 'target';

const verdictOf = (check: AccountCheck): MassSideVerdict => (check.ok ? { ok: true } : { ok: false, reason: check.reason, message: check.message });

/** The host a side's logins go to: the key of its connection leases, as a migration's. */
function hostOf(type: string, server: string, environment: CheckEnvironment): string {
  if (type === 'office365' && !server) return environment.microsoftEndpoints.imapServer.host;
  try {
    const parsed = parseServer(server);
    return (parsed.mail ?? { host: parsed.host }).host;
  } catch {
    return server.toLowerCase();
  }
}

/** Connections per host one record's check opens: both sides may be on the same server. */
function hostsOf(row: RecordRow, environment: CheckEnvironment): Map<string, number> {
  const hosts = new Map<string, number>();
  for (const host of [hostOf(row.sourceType, row.sourceServer, environment), hostOf(row.targetType, row.targetServer, environment)]) {
    hosts.set(host, (hosts.get(host) ?? 0) + 1);
  }
  return hosts;
}

/**
 * One ended record counts on its submission; the last one ends the submission. In one statement,
 * so the counters and the state can never disagree (a CHECK constraint holds them together).
 */
async function countEnded(tx: Tx, submissionId: string, outcome: 'created' | 'failed'): Promise<void> {
  const created = outcome === 'created' ? 1 : 0;
  await tx.$executeRaw`
    UPDATE mass_submissions SET
      checked = checked + 1,
      created = created + ${created}::int,
      failed = failed + ${1 - created}::int,
      state = CASE WHEN checked + 1 = records THEN 'done'::mass_submission_state ELSE state END,
      finished_at = CASE WHEN checked + 1 = records THEN now() ELSE finished_at END
    WHERE id = ${submissionId}::uuid`;
}

const wiped = { sourcePasswordSealed: null, targetPasswordSealed: null } as const;

/**
 * Both logins work: the migration (with its own sealed credentials and its queued job), its
 * audit entry and the record's end, in one transaction. The guard on the record's state makes
 * a second run of the job (or a run racing this one) find it ended and change nothing.
 */
async function createRecord(db: Db, ring: KeyRing, submission: Submission, row: RecordRow, accounts: Record<Side, AccountInput>): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const ended = await tx.massRecord.updateMany({
      where: { submissionId: submission.id, line: row.line, state: 'checking' },
      data: { state: 'created', ...wiped, sourceVerdict: { ok: true }, targetVerdict: { ok: true } },
    });
    if (ended.count !== 1) return false;
    const migration = await createMigration(tx, ring, {
      organizationId: submission.organizationId,
      createdByUserId: submission.createdByUserId,
      source: accounts.source,
      target: accounts.target,
      startAt: row.startAt,
      resyncAt: row.resyncAt,
      reservationId: row.reservationId ?? undefined,
    });
    await tx.massRecord.update({ where: { submissionId_line: { submissionId: submission.id, line: row.line } }, data: { migrationId: migration.id } });
    await recordAudit(tx, {
      action: 'migration.create',
      actorUserId: submission.createdByUserId,
      organizationId: submission.organizationId,
      targetType: 'migration',
      targetId: migration.id,
      details: { startAt: row.startAt.toISOString(), resyncAt: row.resyncAt?.toISOString() ?? null, massSubmissionId: submission.id, line: row.line },
    });
    await countEnded(tx, submission.id, 'created');
    return true;
  });
}

interface Failure {
  failed: 'source' | 'target' | 'both' | null;
  source: MassSideVerdict | null;
  target: MassSideVerdict | null;
  message: string;
}

/** The record did not work out: its unit goes back and its passwords go, in one transaction. */
async function failRecord(db: Db, submission: Submission, row: RecordRow, failure: Failure): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    // How many passwords go, for the receipt (counted under the row's lock, never read).
    const [sealed] = await tx.$queryRaw<{ passwords: number }[]>`
      SELECT ((source_password_sealed IS NOT NULL)::int + (target_password_sealed IS NOT NULL)::int) AS passwords
      FROM mass_records WHERE submission_id = ${submission.id}::uuid AND line = ${row.line} AND state = 'checking' FOR UPDATE`;
    const ended = await tx.massRecord.updateMany({
      where: { submissionId: submission.id, line: row.line, state: 'checking' },
      data: {
        state: 'failed',
        ...wiped,
        failedSide: failure.failed,
        sourceVerdict: failure.source ?? undefined,
        targetVerdict: failure.target ?? undefined,
        message: failure.message,
      },
    });
    if (ended.count !== 1) return false;
    // The line never becomes a migration: its receipt is the organization's.
    await recordDeletionReceipt(tx, { organizationId: submission.organizationId, event: 'mass_line_passwords_wiped', trigger: 'mass.check_failed', deleted: { massLinePasswords: sealed?.passwords ?? 0 } });
    // False when it was released already: a unit never comes back twice.
    if (row.reservationId) await releaseReservation(tx, row.reservationId);
    await recordAudit(tx, {
      action: 'migration.check_failed',
      actorUserId: submission.createdByUserId,
      organizationId: submission.organizationId,
      targetType: 'mass_submission',
      targetId: submission.id,
      details: {
        line: row.line,
        failed: failure.failed,
        source: failure.source ? (failure.source.ok ? 'ok' : failure.source.reason) : null,
        target: failure.target ? (failure.target.ok ? 'ok' : failure.target.reason) : null,
      },
    });
    await countEnded(tx, submission.id, 'failed');
    return true;
  });
}

/**
 * Takes the record for this run (`pending` or left `checking` by a run that died) and reads
 * its sealed passwords; null when another run ended it meanwhile.
 */
async function claim(db: Db, submissionId: string, line: number) {
  const rows = await db.massRecord.updateManyAndReturn({
    where: { submissionId, line, state: { in: ['pending', 'checking'] } },
    data: { state: 'checking' },
    select: { sourcePasswordSealed: true, targetPasswordSealed: true },
  });
  return rows[0] ?? null;
}

function openAccounts(ring: KeyRing, submissionId: string, row: RecordRow, sealed: { sourcePasswordSealed: string | null; targetPasswordSealed: string | null }): Record<Side, AccountInput> {
  const open = (side: Side, value: string | null) => (value ? unseal(ring, value, massPasswordContext(submissionId, row.line, side)) : '');
  return {
    source: { type: row.sourceType as AccountType, email: row.sourceEmail, username: row.sourceUsername, server: row.sourceServer, password: open('source', sealed.sourcePasswordSealed) },
    target: { type: row.targetType as AccountType, email: row.targetEmail, username: row.targetUsername, server: row.targetServer, password: open('target', sealed.targetPasswordSealed) },
  };
}

/**
 * Verdicts of this run by account and password (as a hash, in memory only): a target shared
 * by many records (mailboxes merged into one) is logged in to once, not once per record.
 */
type VerdictCache = Map<string, Promise<MassSideVerdict>>;

const cacheKey = (account: AccountInput) =>
  createHash('sha256').update(JSON.stringify([account.type, account.email, account.username, account.server, account.password])).digest('base64url');

/** One side's login, unless the account was tried too often (then the single form's answer). */
function checkSide(db: Db, account: AccountInput, environment: CheckEnvironment, cache: VerdictCache): Promise<MassSideVerdict> {
  const key = cacheKey(account);
  let verdict = cache.get(key);
  if (!verdict) {
    verdict = (async (): Promise<MassSideVerdict> => {
      const limited = await consumeAccountAllowance(db, account);
      if (limited) return { ok: false, reason: 'rate_limited', message: failureMessage('rate_limited', limited) };
      return verdictOf(await checkAccount(account, environment));
    })();
    // A failure of the database is this record's, not a verdict to hand to the next one.
    verdict.catch(() => cache.delete(key));
    cache.set(key, verdict);
  }
  return verdict;
}

/** Checks one claimed record's two logins and ends it: created or failed, never left half. */
async function checkRecord(db: Db, ring: KeyRing, submission: Submission, row: RecordRow, environment: CheckEnvironment, cache: VerdictCache): Promise<void> {
  try {
    const sealed = await claim(db, submission.id, row.line);
    if (!sealed) return;
    let accounts: Record<Side, AccountInput>;
    try {
      accounts = openAccounts(ring, submission.id, row, sealed);
    } catch (error) {
      if (!(error instanceof UnsealError)) throw error;
      await failRecord(db, submission, row, { failed: null, source: null, target: null, message: UNREADABLE_MESSAGE });
      return;
    }
    const [source, target] = await Promise.all([checkSide(db, accounts.source, environment, cache), checkSide(db, accounts.target, environment, cache)]);
    if (source.ok && target.ok) {
      await createRecord(db, ring, submission, row, accounts);
      return;
    }
    const failed = !source.ok && !target.ok ? 'both' : !source.ok ? 'source' : 'target';
    await failRecord(db, submission, row, { failed, source, target, message: FAILED_CHECK_MESSAGE[failed] });
  } catch (error) {
    // One record's trouble never stops the others; its unit comes back. If even that fails
    // (the database is gone), the job fails and its next attempt finds the record `checking`.
    log.error('a mass record could not be checked', { submissionId: submission.id, line: row.line, error });
    await failRecord(db, submission, row, { failed: null, source: null, target: null, message: UNEXPECTED_MESSAGE });
  }
}

/** Leases for every host of a record, all or none: a full host means waiting, not failing. */
async function leaseHosts(db: Db, hosts: Map<string, number>, limit: number | undefined): Promise<string[] | null> {
  const leases: string[] = [];
  for (const [host, connections] of hosts) {
    const lease = await acquireLease(db, host, connections, LEASE_TTL_SECONDS, limit);
    if (!lease) {
      await Promise.all(leases.map((id) => releaseLease(db, id)));
      return null;
    }
    leases.push(lease);
  }
  return leases;
}

/** Until one of the running checks ends or `ms` pass, whichever comes first. */
async function pause(ms: number, running: Set<Promise<void>>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([...running, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The background half of a mass submission: tries every record's two logins, at most
 * RECORDS_AT_ONCE records and LOGINS_PER_HOST logins per host at a time, each login holding
 * a connection lease, and ends each record on its own (a migration, or its unit released),
 * updating the submission's counters as it goes, so the browser can show the progress.
 *
 * Safe to run twice or after a crash: records already ended are skipped, a record left
 * `checking` is checked again, and every ending is guarded by the record's state in the same
 * transaction that creates the migration or releases the unit. After the time budget no new
 * check starts: the running ones end, and the next job goes on.
 */
export async function checkMassRecords(db: Db, submissionId: string, options: CheckRecordsOptions): Promise<CheckRecordsOutcome> {
  const startedAt = Date.now();
  const submission = await db.massSubmission.findUnique({ where: { id: submissionId }, select: { id: true, organizationId: true, createdByUserId: true, state: true } });
  if (!submission || submission.state === 'done') return 'ignored';
  const rows: RecordRow[] = await db.massRecord.findMany({
    where: { submissionId, state: { in: ['pending', 'checking'] } },
    orderBy: { line: 'asc' },
    select: {
      line: true,
      startAt: true,
      resyncAt: true,
      reservationId: true,
      sourceType: true,
      sourceEmail: true,
      sourceUsername: true,
      sourceServer: true,
      targetType: true,
      targetEmail: true,
      targetUsername: true,
      targetServer: true,
    },
  });
  const environment =
    options.environment ?? (await checkEnvironmentFor(db, submission.organizationId, rows.some((r) => r.sourceType === 'office365' || r.targetType === 'office365')));
  const recordsAtOnce = options.recordsAtOnce ?? RECORDS_AT_ONCE;
  const loginsPerHost = options.loginsPerHost ?? LOGINS_PER_HOST;

  const waiting = rows.map((row) => ({ row, hosts: hostsOf(row, environment), notBefore: 0 }));
  const loginsOpen = new Map<string, number>();
  const running = new Set<Promise<void>>();
  const cache: VerdictCache = new Map();
  let crashed: unknown = null;
  const fitsHere = (hosts: Map<string, number>) => {
    for (const [host, n] of hosts) if ((loginsOpen.get(host) ?? 0) + n > Math.max(loginsPerHost, n)) return false;
    return true;
  };
  const count = (hosts: Map<string, number>, sign: 1 | -1) => {
    for (const [host, n] of hosts) loginsOpen.set(host, (loginsOpen.get(host) ?? 0) + sign * n);
  };

  try {
    while (waiting.length > 0 && crashed === null && Date.now() - startedAt < options.timeBudgetMs) {
      const now = Date.now();
      const index = running.size < recordsAtOnce ? waiting.findIndex((w) => w.notBefore <= now && fitsHere(w.hosts)) : -1;
      if (index < 0) {
        // Nothing may start now: wait for a check to end, or for a full host to be asked again.
        const retry = waiting.reduce((soonest, w) => Math.min(soonest, w.notBefore), Infinity);
        await pause(retry > now ? retry - now : FULL_HOST_RETRY_MS, running);
        continue;
      }
      const next = waiting[index]!;
      count(next.hosts, 1);
      const leases = await leaseHosts(db, next.hosts, options.connectionsPerHost).catch((error: unknown) => {
        count(next.hosts, -1);
        throw error;
      });
      if (!leases) {
        count(next.hosts, -1);
        next.notBefore = Date.now() + FULL_HOST_RETRY_MS;
        continue;
      }
      waiting.splice(index, 1);
      const task: Promise<void> = checkRecord(db, options.ring, submission, next.row, environment, cache)
        .catch((error: unknown) => {
          crashed ??= error;
        })
        .finally(async () => {
          count(next.hosts, -1);
          await Promise.all(leases.map((id) => releaseLease(db, id).catch(() => undefined)));
          running.delete(task);
        });
      running.add(task);
    }
  } finally {
    await Promise.all(running);
  }
  if (crashed !== null) throw crashed;

  if (waiting.length > 0) {
    // Out of time: the next job goes on with what is left (same key, so never two of them queued).
    await enqueueJob(db, massSubmissionCheckJob, { submissionId }, { jobKey: massSubmissionJobKey(submissionId) });
    return 'continues';
  }
  return 'done';
}
