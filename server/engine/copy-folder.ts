import type { FetchMessageObject, ImapFlow } from 'imapflow';
import type { AppenderPool } from './appender-pool';
import type { BodyFetcher } from './body-fetcher';
import { FetchRejectedError, SourceChangedError } from './body-fetcher';
import { allowedFlags, flagFilter } from './flags';
import { IdentityCounter, messageIdentity } from './identity';
import type { ProgressTracker } from './progress';
import type { CopyIssue, FolderCheckpoint } from './state';
import type { SelectedMailbox } from './raw-folders';

/** One source folder as the scan found it: what is new since the checkpoint. */
export interface FolderScan {
  sourcePath: string;
  targetPath: string;
  uidValidity: string;
  uidNext: number;
  highestModseq: string | null;
  /** Source UIDs to consider, ascending, with their sizes. */
  candidates: { uid: number; size: number }[];
  /** Whether the checkpoint still applies (same UIDVALIDITY): otherwise everything is matched by identity. */
  isContinuation: boolean;
  /**
   * Messages of a virtual \All folder (Gmail's All Mail) that another source folder holds:
   * counted as skipped, never copied (they arrive with that folder).
   */
  elsewhere?: { uid: number; size: number }[];
}

export interface FolderCopyContext {
  /** imapflow on the source (for identities and flag changes), connected when first asked for. */
  openSource(): Promise<ImapFlow>;
  /**
   * imapflow on the target, connected when first asked for: for identity reads, flag changes
   * and, without UIDPLUS, STATUS. The folder is selected on it by copyFolder.
   */
  openTarget(): Promise<ImapFlow>;
  /** The target folder as SELECT found it just before (a first attempt); else it is selected on openTarget's connection. */
  targetMailbox?: SelectedMailbox;
  appenders: AppenderPool;
  /** Reads whole messages from the source (a connection of this folder's own). */
  bodies: BodyFetcher;
  progress: ProgressTracker;
  maxMessageBytes: number;
  /** Stop after the current batch once this time (ms since epoch) has passed. */
  deadline: number;
  saveCheckpoint(checkpoint: FolderCheckpoint): Promise<void>;
  recordIssues(issues: CopyIssue[]): Promise<void>;
  /** Carry flag changes of already copied messages over (the resync). */
  syncFlags: boolean;
  /** Once aborted, no further message is sent to the target. */
  signal?: AbortSignal;
  /** Messages per batch (a checkpoint after each). Default 300. */
  batchMessages?: number;
}

/** The copy was stopped from outside (the signal) while a folder was being read. */
export class CopyStoppedError extends Error {
  constructor() {
    super('The copy was stopped.');
    this.name = 'CopyStoppedError';
  }
}

const BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_MESSAGES = 300;

/** Compact UID sets for FETCH ("1:5,8,10:12"). */
export function uidSet(uids: number[]): string {
  const parts: string[] = [];
  let start = uids[0]!;
  let previous = start;
  for (const uid of uids.slice(1)) {
    if (uid === previous + 1) {
      previous = uid;
      continue;
    }
    parts.push(start === previous ? `${start}` : `${start}:${previous}`);
    start = previous = uid;
  }
  parts.push(start === previous ? `${start}` : `${start}:${previous}`);
  return parts.join(',');
}

/** A message this run stored: its UID on the source and the UID the target gave it. */
export interface StoredMessage {
  sourceUid: number;
  targetUid: number;
}

function lowestTargetUid(stored: readonly StoredMessage[]): number {
  let lowest = Number.POSITIVE_INFINITY;
  for (const message of stored) lowest = Math.min(lowest, message.targetUid);
  return lowest;
}

/**
 * How far a checkpoint may reach. A checkpoint (lastUid L, floor F) is exact when every
 * stored message from the source up to L has a target UID below F and every one beyond L has
 * one at F or above: a resumed run then matches exactly the messages from F on. `stored` are
 * the messages no checkpoint covers yet; `laterLowest` the lowest target UID a later batch
 * already got. The checkpoint covers the longest run of them in source order whose target
 * UIDs all lie below the others' and below `laterLowest`: returned are the highest target UID
 * it covers and the messages it leaves open, in source order.
 */
export function checkpointCut(stored: readonly StoredMessage[], laterLowest: number): { highestCovered: number; open: StoredMessage[] } {
  const sorted = [...stored].sort((a, b) => a.sourceUid - b.sourceUid);
  const lowestFrom: number[] = new Array<number>(sorted.length + 1);
  lowestFrom[sorted.length] = laterLowest;
  for (let i = sorted.length - 1; i >= 0; i--) lowestFrom[i] = Math.min(sorted[i]!.targetUid, lowestFrom[i + 1]!);
  let covered = 0;
  let highestCovered = 0;
  let highest = 0;
  for (let i = 0; i <= sorted.length; i++) {
    if (highest < lowestFrom[i]!) {
      covered = i;
      highestCovered = highest;
    }
    if (i < sorted.length) highest = Math.max(highest, sorted[i]!.targetUid);
  }
  return { highestCovered, open: sorted.slice(covered) };
}

/** INTERNALDATE of some source messages, for the report of those not copied; none when the server will not say. */
async function internalDates(source: () => Promise<ImapFlow>, uids: number[]): Promise<Map<number, Date>> {
  const dates = new Map<number, Date>();
  try {
    const client = await source();
    for await (const message of client.fetch(uidSet(uids), { uid: true, internalDate: true }, { uid: true })) {
      const date = message.internalDate ? new Date(message.internalDate) : null;
      if (date && !Number.isNaN(date.getTime())) dates.set(message.uid, date);
    }
  } catch {
    // The date is a detail of the report; the copy goes on without it.
  }
  return dates;
}

/**
 * Identities of messages, reading the header block only for those without a Message-ID.
 * `N:*` also returns the highest message when it is below N (RFC 3501 `*` semantics), so the
 * caller filters by UID.
 */
export async function readIdentities(client: ImapFlow, range: string, minUid: number): Promise<Map<number, { identity: string; flags: Set<string> }>> {
  const entries = new Map<number, { identity: string; flags: Set<string> }>();
  const withoutId: number[] = [];
  const pending = new Map<number, FetchMessageObject>();
  for await (const message of client.fetch(range, { uid: true, envelope: true, size: true, flags: true }, { uid: true })) {
    if (message.uid < minUid) continue;
    if (message.envelope?.messageId) {
      entries.set(message.uid, { identity: messageIdentity({ messageId: message.envelope.messageId, date: toDate(message.envelope.date), size: message.size ?? 0 }), flags: message.flags ?? new Set() });
    } else {
      withoutId.push(message.uid);
      pending.set(message.uid, message);
    }
  }
  if (withoutId.length > 0) {
    for await (const message of client.fetch(uidSet(withoutId), { uid: true, headers: true }, { uid: true })) {
      const known = pending.get(message.uid);
      if (!known) continue;
      entries.set(message.uid, { identity: messageIdentity({ size: known.size ?? 0, headers: message.headers ?? Buffer.alloc(0) }), flags: known.flags ?? new Set() });
    }
  }
  return entries;
}

function megabytes(bytes: number): string {
  const mb = bytes / 1048576;
  return mb >= 10 ? String(Math.round(mb)) : mb.toFixed(1);
}

function toDate(value: Date | string | undefined): Date | null {
  if (!value) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function describeAppendFailure(error: unknown): string {
  const e = error as { serverResponseCode?: string; responseText?: string; message?: string };
  if (e.serverResponseCode === 'APPENDLIMIT' || /too big|too large|TOOBIG|exceeds|larger than the maximum/i.test(`${e.responseText ?? ''} ${e.message ?? ''}`)) {
    return 'The target server refused the message because it is too large.';
  }
  // Dovecot appends its command timing ("(0.001 + 0.000 secs)"), which differs on every try.
  const said = (e.responseText ?? e.message ?? '')
    .replace(/\s*\(\d+(?:\.\d+)?(?: \+ \d+(?:\.\d+)?)* secs\)/, '')
    .replace(/\s+/g, ' ')
    .slice(0, 200);
  return `The target server refused the message${said ? `: ${said}` : '.'}`;
}

/** Whether an append failed because of this message (go on) rather than the connection (retry). */
export function isMessageRejection(error: unknown): boolean {
  const e = error as { serverResponseCode?: string; response?: unknown; responseStatus?: string; code?: string };
  if (e.serverResponseCode === 'APPENDLIMIT') return true;
  // A tagged NO/BAD for the APPEND: the connection is fine, the server does not want this message.
  return e.responseStatus === 'NO' || e.responseStatus === 'BAD';
}

/**
 * Copies one folder from its checkpoint on: matches what the target already holds by
 * identity (counting copies), appends the rest in batches, and saves a checkpoint after each
 * drained batch. Returns false when it stopped at the deadline with work left.
 */
export async function copyFolder(scan: FolderScan, checkpoint: FolderCheckpoint, context: FolderCopyContext): Promise<boolean> {
  const { progress } = context;
  let sourceSession: Promise<ImapFlow> | null = null;
  /** The source folder open read-only on imapflow: only where identities or flag changes are read. */
  const source = () =>
    (sourceSession ??= context.openSource().then(async (client) => {
      await client.mailboxOpen(scan.sourcePath, { readOnly: true });
      return client;
    }));
  let targetSession: Promise<{ client: ImapFlow; mailbox: SelectedMailbox }> | null = null;
  const openTarget = () =>
    (targetSession ??= context.openTarget().then(async (client) => {
      const opened = await client.mailboxOpen(scan.targetPath);
      const mailbox = { uidValidity: String(opened.uidValidity), uidNext: opened.uidNext, exists: opened.exists, permanentFlags: opened.permanentFlags ?? new Set<string>() };
      return { client, mailbox };
    }));
  /** The target folder selected on imapflow: only where identities, flags or (without UIDPLUS) STATUS are needed. */
  const target = async () => (await openTarget()).client;
  const [mailbox, examined] = await Promise.all([context.targetMailbox ?? openTarget().then((session) => session.mailbox), context.bodies.examine(scan.sourcePath)]);
  if (examined.uidValidity !== scan.uidValidity) throw new SourceChangedError(`The UIDVALIDITY of ${scan.sourcePath} changed.`);
  const targetUidValidity = mailbox.uidValidity;
  const permanentFlags = mailbox.permanentFlags;
  const flagsFor = flagFilter(permanentFlags);

  // Target messages that may already hold part of this copy: all of them when nothing can be
  // trusted (first run into a non-empty folder, or a UIDVALIDITY changed on either side),
  // otherwise those appended since the last checkpoint.
  const trusted = scan.isContinuation && checkpoint.targetUidValidity === targetUidValidity;
  const floor = trusted ? checkpoint.targetUidFloor : 1;
  const onTarget = new IdentityCounter();
  if (mailbox.exists > 0 && floor < mailbox.uidNext) {
    for (const entry of (await readIdentities(await target(), `${floor}:*`, floor)).values()) onTarget.add(entry.identity);
  }

  const next: FolderCheckpoint = {
    ...checkpoint,
    sourcePath: scan.sourcePath,
    targetPath: scan.targetPath,
    sourceUidValidity: scan.uidValidity,
    targetUidValidity,
    targetUidFloor: floor,
    lastUid: scan.isContinuation ? checkpoint.lastUid : 0,
  };
  // Where this call's own appends begin, and how far they got: the floor for the next run's
  // identity read. STATUS is no help here: on the selected mailbox it answers from that
  // session's view, which has not seen what the appending connections stored.
  const selectedUidNext = mailbox.uidNext || 1;
  let highestAppended = 0;
  let uidsUnknown = false;
  const floorNow = async (): Promise<number> => {
    if (uidsUnknown) {
      // No UIDPLUS: let the session catch up first.
      const client = await target();
      await client.noop();
      const status = await client.status(scan.targetPath, { uidNext: true });
      return Math.max(next.targetUidFloor, status && status.uidNext ? status.uidNext : 1);
    }
    return Math.max(next.targetUidFloor, selectedUidNext, highestAppended + 1);
  };

  let toCopy = scan.candidates;
  if (scan.elsewhere && scan.elsewhere.length > 0) {
    next.messagesSkipped += scan.elsewhere.length;
    progress.skipped(scan.sourcePath, scan.elsewhere.length, scan.elsewhere.reduce((n, s) => n + s.size, 0));
  }
  if (onTarget.size > 0 && toCopy.length > 0) {
    const identities = await readIdentities(await source(), uidSet(toCopy.map((c) => c.uid)), 1);
    const skipped: { uid: number; size: number }[] = [];
    toCopy = toCopy.filter((candidate) => {
      const entry = identities.get(candidate.uid);
      if (entry && onTarget.take(entry.identity)) {
        skipped.push(candidate);
        return false;
      }
      return true;
    });
    next.messagesSkipped += skipped.length;
    progress.skipped(scan.sourcePath, skipped.length, skipped.reduce((n, s) => n + s.size, 0));
  }

  // A batch is read while the one before it drains and is checkpointed, when the target
  // names the UIDs it gives (UIDPLUS): each checkpoint's floor then comes from its own batch.
  // One connection per folder keeps a later batch's UIDs above an earlier one's.
  const overlap = context.appenders.reportsUids;
  let draining: Promise<void> | null = null;
  /** Why the batch before failed while this one was read: reading stops at the next message. */
  let halted: { reason: unknown } | null = null;
  let index = 0;
  let batches = 0;
  /** The batch read last: its UIDs so far bound the checkpoint of the batch before. */
  let latestTally: { stored: StoredMessage[] } = { stored: [] };
  /** Stored messages no checkpoint covers yet (see checkpointCut). */
  let uncovered: StoredMessage[] = [];
  while (index < toCopy.length) {
    // At least one batch per call, so even a tiny time budget makes progress.
    if (batches++ > 0 && Date.now() > context.deadline) {
      if (draining) await draining;
      await context.saveCheckpoint(next);
      return false;
    }
    const batch: { uid: number; size: number }[] = [];
    let batchBytes = 0;
    while (index < toCopy.length && batch.length < (context.batchMessages ?? BATCH_MESSAGES) && (batch.length === 0 || batchBytes + toCopy[index]!.size <= BATCH_BYTES)) {
      batch.push(toCopy[index]!);
      batchBytes += toCopy[index]!.size;
      index++;
    }
    const issues: CopyIssue[] = [];
    const oversized = batch.filter((m) => m.size > context.maxMessageBytes);
    // Oversized messages are never read, so their dates are asked for on their own (rare).
    const oversizedDates = oversized.length > 0 ? await internalDates(source, oversized.map((m) => m.uid)) : new Map<number, Date>();
    for (const message of oversized) {
      issues.push({
        folder: scan.sourcePath,
        uid: message.uid,
        size: message.size,
        date: oversizedDates.get(message.uid) ?? null,
        reason: `The message is larger than the size limit of ${megabytes(context.maxMessageBytes)} MB.`,
      });
    }
    const wanted = batch.filter((m) => m.size <= context.maxMessageBytes);
    const appends: Promise<void>[] = [];
    const tally = { copied: 0, copiedBytes: 0, failed: oversized.length, stored: [] as StoredMessage[], uidsUnknown: false };
    latestTally = tally;
    if (wanted.length > 0) {
      const received = new Set<number>();
      let refusal: FetchRejectedError | null = null;
      await context.bodies
        .fetch(uidSet(wanted.map((m) => m.uid)), (message) => {
          if (halted) return Promise.reject(halted.reason);
          if (context.signal?.aborted) return Promise.reject(new CopyStoppedError());
          const { uid, body, size } = message;
          if (received.has(uid)) return undefined;
          received.add(uid);
          appends.push(
            context.appenders.append(scan.targetPath, body, flagsFor(message.flags), message.internalDate ?? undefined).then(
              (targetUid) => {
                if (targetUid === null) tally.uidsUnknown = uidsUnknown = true;
                else {
                  tally.stored.push({ sourceUid: uid, targetUid });
                  highestAppended = Math.max(highestAppended, targetUid);
                }
                tally.copied++;
                tally.copiedBytes += size;
                progress.copied(scan.sourcePath, 1, size);
              },
              (error: unknown) => {
                if (!isMessageRejection(error)) throw error;
                tally.failed++;
                issues.push({ folder: scan.sourcePath, uid, size, date: message.internalDate, reason: describeAppendFailure(error) });
                progress.failed(scan.sourcePath, 1, size);
              },
            ),
          );
          // Stop reading while the target is behind: memory stays within the pool's budget.
          return context.appenders.room();
        })
        .finally(() => context.appenders.flush())
        .catch((error: unknown) => {
          if (halted) throw halted.reason;
          if (!(error instanceof FetchRejectedError)) throw error;
          refusal = error;
        });
      for (const message of wanted) {
        if (received.has(message.uid)) continue;
        const said = (refusal as FetchRejectedError | null)?.responseText.replace(/\s+/g, ' ').slice(0, 200);
        issues.push({ folder: scan.sourcePath, uid: message.uid, size: message.size, reason: `The source server did not return the message${said ? `: ${said}` : ' (it may have been deleted meanwhile).'}` });
        tally.failed++;
        progress.failed(scan.sourcePath, 1, message.size);
      }
    }
    const lastUid = batch.at(-1)!.uid;
    const checkpointBatch = async () => {
      // Drained before its checkpoint: nothing of this batch may be in flight when lastUid moves.
      const results = await Promise.allSettled(appends);
      const broken = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (broken) throw broken.reason;
      if (oversized.length) progress.failed(scan.sourcePath, oversized.length, oversized.reduce((n, m) => n + m.size, 0));
      await context.recordIssues(issues);
      if (!overlap) next.targetUidFloor = await floorNow();
      else if (!tally.uidsUnknown) {
        // Usually the whole batch, with the floor above it. But a message the server refused
        // in a group is tried again singly, after groups of the batch being read now: the
        // checkpoint then ends before it, so that nothing below the floor is beyond lastUid and
        // nothing beyond lastUid is below the floor.
        uncovered.push(...tally.stored);
        const cut = checkpointCut(uncovered, latestTally === tally ? Number.POSITIVE_INFINITY : lowestTargetUid(latestTally.stored));
        uncovered = cut.open;
        next.targetUidFloor = Math.max(next.targetUidFloor, selectedUidNext, cut.highestCovered + 1);
        next.lastUid = Math.max(next.lastUid, cut.open.length > 0 ? cut.open[0]!.sourceUid - 1 : lastUid);
      } else next.lastUid = Math.max(next.lastUid, lastUid);
      next.messagesCopied += tally.copied;
      next.bytesCopied += tally.copiedBytes;
      next.messagesFailed += tally.failed;
      await context.saveCheckpoint({ ...next });
    };
    // The batch before this one drained while this one was read; its checkpoint comes first.
    if (draining) await draining;
    const current = checkpointBatch();
    // A failure stops the reading of the next batch and surfaces where this is awaited.
    current.catch((reason: unknown) => {
      halted = { reason };
    });
    draining = current;
    if (!overlap) await current;
  }
  if (draining) await draining;

  if (context.syncFlags && trusted && checkpoint.lastUid > 0) await syncFlags(scan, checkpoint, context.bodies, source, target, permanentFlags);

  // Everything the scan saw is handled; later arrivals have higher UIDs.
  next.lastUid = Math.max(next.lastUid, scan.uidNext - 1);
  next.targetUidFloor = await floorNow();
  next.highestModseq = scan.highestModseq;
  await context.saveCheckpoint(next);
  return true;
}

/**
 * Flag changes on the source since the last pass, onto the matching target messages (matched
 * by identity, in UID order for copies). With CONDSTORE only the changed messages are read.
 */
async function syncFlags(
  scan: FolderScan,
  checkpoint: FolderCheckpoint,
  bodies: BodyFetcher,
  openSource: () => Promise<ImapFlow>,
  openTarget: () => Promise<ImapFlow>,
  permanentFlags: Set<string>,
): Promise<void> {
  const range = `1:${checkpoint.lastUid}`;
  const useModseq = checkpoint.highestModseq !== null && scan.highestModseq !== null;
  if (useModseq && checkpoint.highestModseq === scan.highestModseq) return;

  // Which messages changed: over the reading connection, which has the folder open already.
  const changed = new Map<number, Set<string>>();
  for (const message of await bodies.flags(range, useModseq ? checkpoint.highestModseq : null)) {
    if (message.uid <= checkpoint.lastUid) changed.set(message.uid, message.flags);
  }
  if (changed.size === 0) return;
  const source = await openSource();

  const sourceIdentities = await readIdentities(source, uidSet([...changed.keys()].sort((a, b) => a - b)), 1);
  const target = await openTarget();
  const targetIdentities = await readIdentities(target, '1:*', 1);
  const byIdentity = new Map<string, { uid: number; flags: Set<string> }[]>();
  for (const [uid, entry] of [...targetIdentities].sort((a, b) => a[0] - b[0])) {
    const list = byIdentity.get(entry.identity) ?? [];
    list.push({ uid, flags: entry.flags });
    byIdentity.set(entry.identity, list);
  }
  // Target UIDs by the flag set they should get: one STORE per distinct set, not per message.
  const stores = new Map<string, { flags: string[]; uids: number[] }>();
  for (const [uid, flags] of [...changed].sort((a, b) => a[0] - b[0])) {
    const identity = sourceIdentities.get(uid)?.identity;
    const match = identity ? byIdentity.get(identity)?.shift() : undefined;
    if (!match) continue;
    const wanted = allowedFlags(flags, permanentFlags).sort();
    const current = [...match.flags].filter((f) => f !== '\\Recent').sort();
    if (wanted.join(' ') === current.join(' ')) continue;
    const key = wanted.join(' ');
    const store = stores.get(key) ?? { flags: wanted, uids: [] };
    store.uids.push(match.uid);
    stores.set(key, store);
  }
  for (const { flags, uids } of stores.values()) {
    await target.messageFlagsSet(uidSet(uids.sort((a, b) => a - b)), flags, { uid: true, silent: true });
  }
}
