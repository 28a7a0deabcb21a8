import { microsoftEndpoints, type MicrosoftEndpoints } from '../accounts/check';
import { recordMigrationEnd } from '../audit/audit';
import { acquireAppToken, EXCHANGE_ONLINE_SCOPE } from '../accounts/m365/oauth';
import { xoauth2Options } from '../accounts/m365/imap-oauth';
import { failureMessage } from '../accounts/messages';
import { loadMicrosoft365Credentials, type Microsoft365Credentials } from '../accounts/microsoft365-connection';
import type { NetworkPolicy } from '../accounts/network/host-policy';
import { createPinnedFetch } from '../accounts/network/pinned-fetch';
import { loadNetworkPolicy } from '../accounts/network-settings';
import { parseServer, type MailServer } from '../accounts/server-address';
import { ConnectorError } from '../accounts/types';
import type { KeyRing } from '../crypto/keyring';
import { UnsealError } from '../crypto/seal';
import type { Db } from '../db';
import { Prisma } from '../generated/prisma/client';
import { copyMailbox, CopyError, isTransient, type MailboxEndpoint } from '../engine/copy-mailbox';
import { groupwareFolderOptionFor } from '../engine/folder-plan';
import { ImapLimitError } from '../engine/imap-limits';
import type { ProgressSnapshot } from '../engine/progress';
import { env } from '../env';
import type { StateStore } from '../engine/state';
import { enqueueJob } from '../jobs/enqueue';
import { markReservationUsed, releaseReservation } from '../licensing/quota';
import { createLogger } from '../logger';
import { openAccounts, wipeCredentials, type OpenedAccount } from './accounts';
import { acquireLease, releaseLease } from './connection-leases';
import { ACTIVE_STATES, gapOf, gapRowsWhere } from './lifecycle';
import { migrationJobKey, migrationResyncJob, migrationRunJob } from './jobs';
import { recordMigrationEvent } from './events';
import { liveProgressOf, type FolderBase } from './live-progress';
import { movesGroupware, runGroupwarePass } from './groupware-pass';
import { DbStateStore } from './state-store';
import { verifyMigration } from './verification';

const log = createLogger('migration');

export type Phase = 'run' | 'resync';

export type PhaseOutcome = 'ignored' | 'rescheduled' | 'continues' | 'waiting_resync' | 'finished' | 'incomplete' | 'retrying' | 'failed' | 'cancelled';


export interface PhaseDependencies {
  ring: KeyRing;
  /** How long one job may copy before it saves and hands over to a new job. */
  timeBudgetMs: number;
  /** Injected by tests; otherwise the installation's policy. */
  policy?: NetworkPolicy;
  microsoftEndpoints?: MicrosoftEndpoints;
  maxAttempts?: number;
  connectionsPerHost?: number;
  /** Messages above this size are reported, not copied (the engine's default otherwise). */
  maxMessageBytes?: number;
}

const FOLDERS_AT_ONCE = 2;

/** The live rate and folders belong to a pass that runs: cleared whenever none does. */
const NOT_LIVE = { bytesPerSecond: null, liveFolders: Prisma.DbNull };
/** One appending connection per folder copied at once (the engine opens no more than that). */
const APPEND_CONNECTIONS = FOLDERS_AT_ONCE;

function mailServerOf(account: OpenedAccount, endpoints: MicrosoftEndpoints): MailServer {
  if (account.type === 'office365' && !account.server) return endpoints.imapServer;
  const parsed = parseServer(account.server);
  return parsed.mail ?? { host: parsed.host, port: 993, security: 'tls' };
}

function endpointOf(account: OpenedAccount, endpoints: MicrosoftEndpoints, policy: NetworkPolicy, microsoft365: Microsoft365Credentials | null): MailboxEndpoint {
  const server = mailServerOf(account, endpoints);
  if (account.type !== 'office365') return { server, auth: () => ({ user: account.username, pass: account.password }) };
  return {
    server,
    // Each connection asks again: tokens expire during long copies (acquireAppToken caches).
    auth: async () => {
      if (!microsoft365) throw new ConnectorError('not_configured', 'the organization has no Microsoft 365 connection');
      const fetch = createPinnedFetch(policy, { timeoutMs: 20_000 });
      try {
        const token = await acquireAppToken({ ...microsoft365, scope: EXCHANGE_ONLINE_SCOPE, authorityHost: endpoints.authorityHost, fetch });
        return xoauth2Options(account.username || account.email, token.accessToken);
      } finally {
        await fetch.close();
      }
    },
  };
}

async function totalsSoFar(db: Db, migrationId: string) {
  const rows = await db.migrationFolder.findMany({ where: { migrationId }, select: { messagesCopied: true, bytesCopied: true, messagesSkipped: true, messagesFailed: true } });
  return rows.reduce(
    (t, r) => ({ copied: t.copied + r.messagesCopied, bytes: t.bytes + r.bytesCopied, skipped: t.skipped + r.messagesSkipped, failed: t.failed + r.messagesFailed }),
    { copied: 0, bytes: 0n, skipped: 0, failed: 0 },
  );
}

/**
 * After a whole pass the checkpoints are the record: a folder the engine started over (made
 * again on the target, or with a new UIDVALIDITY on the source) counts once, not once per
 * pass, so the row's totals are what its folders add up to.
 */
async function settleTotals(db: Db, migrationId: string, state: 'running' | 'resyncing', pass: ProgressSnapshot) {
  const t = await totalsSoFar(db, migrationId);
  await db.migration.updateMany({
    where: { id: migrationId, state },
    data: {
      copiedMessages: t.copied,
      skippedMessages: t.skipped,
      failedMessages: t.failed,
      totalMessages: t.copied + t.skipped + t.failed,
      copiedBytes: t.bytes,
      // What this pass did not copy (skipped, refused) is part of the mailbox's size too.
      totalBytes: t.bytes + BigInt(Math.max(0, pass.totalBytes - pass.copiedBytes)),
      progressAt: new Date(),
    },
  });
}

/**
 * Whether anything of the migration was not copied, over all its passes: a message a checkpoint
 * counts as failed, an issue (a refused message, a folder not created or not read), or a
 * calendar, contact or task item the target refused.
 */
async function hasLoss(db: Pick<Db, 'migrationFolder' | 'migrationIssue' | 'migrationVerification' | 'migrationGroupwareIssue'>, migrationId: string): Promise<boolean> {
  const [folders, issues, gaps, groupware] = await Promise.all([
    db.migrationFolder.count({ where: { migrationId, messagesFailed: { gt: 0 } } }),
    db.migrationIssue.count({ where: { migrationId } }),
    // The last verification found messages missing on the target or folders it could not read.
    db.migrationVerification.count({ where: { migrationId, ...gapRowsWhere } }),
    db.migrationGroupwareIssue.count({ where: { migrationId } }),
  ]);
  return folders > 0 || issues > 0 || gaps > 0 || groupware > 0;
}

async function fail(db: Db, migrationId: string, reason: string): Promise<PhaseOutcome> {
  const outcome = await db.$transaction(async (tx) => {
    // A migration cancelled meanwhile stays cancelled.
    const changed = await tx.migration.updateMany({
      where: { id: migrationId, state: { in: [...ACTIVE_STATES] } },
      data: { state: 'failed', failureReason: reason, finishedAt: new Date(), etaSeconds: null, ...NOT_LIVE },
    });
    if (changed.count === 0) return 'cancelled' as const;
    await recordMigrationEvent(tx, migrationId, 'failed');
    await recordMigrationEnd(tx, migrationId, 'migration.fail');
    await wipeCredentials(tx, migrationId);
    // It never started (its credentials could not even be opened): its unit comes back.
    const reservation = await tx.quotaReservation.findUnique({ where: { migrationId }, select: { id: true, state: true } });
    if (reservation?.state === 'reserved') await releaseReservation(tx, reservation.id);
    return 'failed' as const;
  });
  if (outcome === 'failed') log.warn('migration failed', { migrationId, reason });
  return outcome;
}

/** Per folder, what its checkpoint counted when this job began. */
async function basesOf(db: Db, migrationId: string): Promise<Map<string, FolderBase>> {
  const rows = await db.migrationFolder.findMany({ where: { migrationId }, select: { sourcePath: true, messagesCopied: true, bytesCopied: true, messagesSkipped: true, messagesFailed: true } });
  return new Map(rows.map((r) => [r.sourcePath, { copied: r.messagesCopied, skipped: r.messagesSkipped, failed: r.messagesFailed, bytes: Number(r.bytesCopied) }]));
}

/** A cancel wrote the row's end without knowing of the live fields: this job, which wrote them, clears them. */
async function stopped(db: Db, migrationId: string): Promise<'cancelled'> {
  await db.migration.updateMany({ where: { id: migrationId, state: 'cancelled' }, data: NOT_LIVE });
  return 'cancelled';
}

/** The migration left the state this job works in: a customer cancelled it. */
class Cancelled extends CopyError {
  constructor() {
    super('The migration was cancelled.', 'copy_failed');
  }
}

/**
 * One job's worth of a migration: checks the state (jobs can run twice), copies within the
 * time budget, saves progress about once a second, and hands over to the next step: another
 * chunk, the resync at its date, or the end, where the credentials are wiped.
 */
export async function runMigrationPhase(db: Db, migrationId: string, phase: Phase, deps: PhaseDependencies): Promise<PhaseOutcome> {
  const startedAt = Date.now();
  const migration = await db.migration.findUnique({
    where: { id: migrationId },
    select: { id: true, organizationId: true, state: true, startAt: true, resyncAt: true, startedAt: true, failedAttempts: true },
  });
  if (!migration) return 'ignored';
  const job = phase === 'run' ? migrationRunJob : migrationResyncJob;
  const waitingState = phase === 'run' ? 'scheduled' : 'waiting_resync';
  const activeState = phase === 'run' ? 'running' : 'resyncing';
  if (migration.state !== waitingState && migration.state !== activeState) return 'ignored';
  const due = phase === 'run' ? migration.startAt : (migration.resyncAt ?? migration.startAt);
  if (due.getTime() > Date.now()) {
    await enqueueJob(db, job, { migrationId }, { runAt: due, jobKey: migrationJobKey(migrationId) });
    return 'rescheduled';
  }

  let accounts;
  try {
    accounts = await openAccounts(db, deps.ring, migrationId);
  } catch (error) {
    if (error instanceof UnsealError) return fail(db, migrationId, 'The stored credentials cannot be read on this installation. Please create the migration again.');
    throw error;
  }
  const endpoints = deps.microsoftEndpoints ?? microsoftEndpoints(env());
  const policy = deps.policy ?? (await loadNetworkPolicy(db, env()));
  const needsMicrosoft = accounts.source.type === 'office365' || accounts.target.type === 'office365';
  const microsoft365 = needsMicrosoft ? await loadMicrosoft365Credentials(db, deps.ring, migration.organizationId).catch(() => null) : null;
  const source = endpointOf(accounts.source, endpoints, policy, microsoft365);
  const target = endpointOf(accounts.target, endpoints, policy, microsoft365);

  // Per-server connection limits across all workers; without a slot, try again shortly.
  const ttl = Math.ceil(deps.timeBudgetMs / 1000) + 300;
  // Source: per folder at once a raw reading and an imapflow connection, and one for planning
  // (or for reading All Mail's neighbours). Target: per folder an imapflow and an appending
  // connection, one for planning, and the reader that checks the target's folders at both
  // ends of the pass.
  const sourceLease = await acquireLease(db, source.server.host, 2 * FOLDERS_AT_ONCE + 1, ttl, deps.connectionsPerHost);
  const targetLease = sourceLease ? await acquireLease(db, target.server.host, FOLDERS_AT_ONCE + APPEND_CONNECTIONS + 2, ttl, deps.connectionsPerHost) : null;
  if (!sourceLease || !targetLease) {
    if (sourceLease) await releaseLease(db, sourceLease);
    await enqueueJob(db, job, { migrationId }, { runAt: new Date(Date.now() + 30_000), jobKey: migrationJobKey(migrationId) });
    return 'rescheduled';
  }

  const stop = new AbortController();
  // A login or server refused while the calendars are copied is named as such in the failure.
  let isCopyingGroupware = false;
  try {
    const isStarted = await db.$transaction(async (tx) => {
      // Guarded by the state: a cancel that got the row first wins (server/migrations/cancel-migration.ts).
      const changed = await tx.migration.updateMany({
        where: { id: migrationId, state: { in: [waitingState, activeState] } },
        data: { state: activeState, startedAt: migration.startedAt ?? new Date(), failureReason: null },
      });
      if (changed.count === 0) return false;
      // Later chunks of the same pass (and retries) find it in its active state already.
      if (migration.state === waitingState) await recordMigrationEvent(tx, migrationId, phase === 'run' ? 'started' : 'resync_started');
      // The first start spends the unit for good; later chunks find it used already.
      const reservation = await tx.quotaReservation.findUnique({ where: { migrationId }, select: { id: true, state: true } });
      if (reservation?.state === 'reserved') await markReservationUsed(tx, reservation.id);
      return true;
    });
    if (!isStarted) return 'ignored';
    const base = await totalsSoFar(db, migrationId);
    const folderBases = await basesOf(db, migrationId);
    const saveProgress = async (p: ProgressSnapshot) => {
      // Only while the migration is still in this job's state; otherwise it was cancelled and
      // the copy stops at its next checkpoint.
      const saved = await db.migration.updateMany({
        where: { id: migrationId, state: activeState },
        data: {
          totalMessages: base.copied + base.skipped + base.failed + p.totalMessages,
          totalBytes: base.bytes + BigInt(p.totalBytes),
          copiedMessages: base.copied + p.copiedMessages,
          copiedBytes: base.bytes + BigInt(p.copiedBytes),
          skippedMessages: base.skipped + p.skippedMessages,
          failedMessages: base.failed + p.failedMessages,
          etaSeconds: p.etaSeconds,
          bytesPerSecond: p.bytesPerSecond,
          liveFolders: liveProgressOf(p, folderBases) as unknown as Prisma.InputJsonValue,
          progressAt: new Date(),
        },
      });
      if (saved.count === 0) stop.abort();
    };
    const store = new DbStateStore(db, migrationId);
    const state: StateStore = {
      loadCheckpoints: () => store.loadCheckpoints(),
      recordIssues: (issues) => store.recordIssues(issues),
      recordNotices: (notices) => store.recordNotices(notices),
      saveCheckpoint: async (checkpoint) => {
        await store.saveCheckpoint(checkpoint);
        if (!stop.signal.aborted) {
          const row = await db.migration.findUnique({ where: { id: migrationId }, select: { state: true } });
          if (row?.state !== activeState) stop.abort();
        }
        // A CopyError passes through the engine's retries and ends the copy here.
        if (stop.signal.aborted) throw new Cancelled();
      },
    };
    let pendingSave: Promise<void> = Promise.resolve();
    // Where calendars, contacts and tasks move by their own path, their IMAP folders are not copied as mail.
    const groupwareFolders = movesGroupware(accounts.source.type, accounts.target.type) ? groupwareFolderOptionFor(accounts.source.type) : undefined;
    const summary = await copyMailbox({
      source,
      target,
      policy,
      state,
      signal: stop.signal,
      syncFlags: phase === 'resync',
      timeBudgetMs: deps.timeBudgetMs,
      folderConcurrency: FOLDERS_AT_ONCE,
      appendConnections: APPEND_CONNECTIONS,
      ...(deps.maxMessageBytes ? { maxMessageBytes: deps.maxMessageBytes } : {}),
      ...(groupwareFolders ? { groupwareFolders } : {}),
      onProgress: (p) => {
        pendingSave = pendingSave.then(() => saveProgress(p)).catch((error: Error) => log.warn('progress not saved', { migrationId, error }));
      },
    });
    await pendingSave;
    await saveProgress(summary.progress);
    if (stop.signal.aborted) return await stopped(db, migrationId);
    if (summary.isComplete) await settleTotals(db, migrationId, activeState, summary.progress);

    // The time budget is spent with work left: the next job goes on from the checkpoints.
    const handOver = () =>
      db.$transaction(async (tx) => {
        const changed = await tx.migration.updateMany({ where: { id: migrationId, state: activeState }, data: { progressAt: new Date() } });
        if (changed.count === 0) return 'cancelled' as const;
        await enqueueJob(tx, job, { migrationId }, { jobKey: migrationJobKey(migrationId) });
        return 'continues' as const;
      });
    if (!summary.isComplete) return await handOver();
    // The pass has ended: what the target holds now is verified and stored before the
    // migration moves on. A verification that cannot run leaves the copy's result standing.
    let hasGap = false;
    try {
      const verdict = await verifyMigration(db, migrationId, phase, { source, target, policy, signal: stop.signal });
      hasGap = gapOf(verdict.folders.map((f) => ({ missingMessages: f.missing, missingReported: f.missingReported, unverifiedReason: f.unverified }))) !== null;
      if (verdict.missing > 0 || verdict.unverified > 0) log.warn('verification found a gap', { migrationId, phase, missing: verdict.missing, unverified: verdict.unverified });
    } catch (error) {
      log.warn('verification did not run', { migrationId, phase, error });
    }
    // Calendars, address books and task lists follow the mail of the pass, new and changed items only.
    let groupwareLoss = false;
    if (movesGroupware(accounts.source.type, accounts.target.type)) {
      // The pass's IMAP connections are closed: their slots go to other migrations meanwhile.
      await releaseLease(db, sourceLease);
      await releaseLease(db, targetLease);
      isCopyingGroupware = true;
      const groupware = await runGroupwarePass(db, migrationId, {
        source: accounts.source,
        target: accounts.target,
        policy,
        microsoft365,
        microsoftEndpoints: endpoints,
        deadline: startedAt + deps.timeBudgetMs,
        checkpoint: async () => {
          const row = await db.migration.findUnique({ where: { id: migrationId }, select: { state: true } });
          if (row?.state !== activeState) {
            stop.abort();
            throw new Cancelled();
          }
        },
      });
      isCopyingGroupware = false;
      if (!groupware.isComplete) return await handOver();
      groupwareLoss = groupware.issues.length > 0;
    }
    if (phase === 'run' && migration.resyncAt) {
      return await db.$transaction(async (tx) => {
        const changed = await tx.migration.updateMany({ where: { id: migrationId, state: activeState }, data: { state: 'waiting_resync', failedAttempts: 0, etaSeconds: null, ...NOT_LIVE } });
        if (changed.count === 0) return 'cancelled' as const;
        await recordMigrationEvent(tx, migrationId, 'first_pass_done');
        // At the end of the last pass the end event tells of a gap; here it has its own.
        if (hasGap) await recordMigrationEvent(tx, migrationId, 'verification_gap');
        await enqueueJob(tx, migrationResyncJob, { migrationId }, { runAt: migration.resyncAt!, jobKey: migrationJobKey(migrationId) });
        return 'waiting_resync' as const;
      });
    }
    const outcome = await db.$transaction(async (tx) => {
      // A loss in any pass, not only this one, keeps the migration from a plain "finished".
      const ended = summary.hasLoss || groupwareLoss || (await hasLoss(tx, migrationId)) ? 'incomplete' : 'finished';
      const changed = await tx.migration.updateMany({
        where: { id: migrationId, state: activeState },
        data: { state: ended, finishedAt: new Date(), failedAttempts: 0, etaSeconds: null, ...NOT_LIVE },
      });
      if (changed.count === 0) return 'cancelled' as const;
      await recordMigrationEvent(tx, migrationId, ended);
      await recordMigrationEnd(tx, migrationId, ended === 'finished' ? 'migration.finish' : 'migration.finish_incomplete', { phase });
      await wipeCredentials(tx, migrationId);
      return ended;
    });
    if (outcome === 'incomplete') log.warn('migration ended with items not copied', { migrationId, phase });
    return outcome;
  } catch (error) {
    if (stop.signal.aborted || error instanceof Cancelled) {
      log.info('migration stopped: cancelled', { migrationId, phase });
      return await stopped(db, migrationId);
    }
    const cause = error instanceof CopyError && error.cause ? error.cause : error;
    if (cause instanceof ConnectorError && !isTransient(cause)) {
      return fail(db, migrationId, isCopyingGroupware ? `Calendars, contacts and tasks (CalDAV/CardDAV): ${failureMessage(cause.reason)}` : failureMessage(cause.reason));
    }
    const attempts = migration.failedAttempts + 1;
    log.warn('migration step failed', { migrationId, phase, attempts, error });
    if (attempts >= (deps.maxAttempts ?? 6)) {
      // A server past a limit (imap-limits.ts) is named with what it sent.
      const reason = cause instanceof ImapLimitError ? cause.message : cause instanceof ConnectorError ? failureMessage(cause.reason) : null;
      return fail(db, migrationId, reason ?? 'The copy failed repeatedly because a server kept dropping the connection or refusing commands.');
    }
    return await db.$transaction(async (tx) => {
      // Until the retry runs, no folder is being copied and there is no rate.
      const changed = await tx.migration.updateMany({ where: { id: migrationId, state: activeState }, data: { failedAttempts: attempts, etaSeconds: null, ...NOT_LIVE } });
      if (changed.count === 0) return 'cancelled' as const;
      const delayMs = Math.min(60 * 60_000, 30_000 * 2 ** (attempts - 1));
      await enqueueJob(tx, job, { migrationId }, { runAt: new Date(Date.now() + delayMs), jobKey: migrationJobKey(migrationId) });
      return 'retrying' as const;
    });
  } finally {
    await releaseLease(db, sourceLease);
    await releaseLease(db, targetLease);
  }
}
