import type { ImapFlow } from 'imapflow';
import { connectImap, type ImapAuth } from '../accounts/imap/imap-connector';
import type { Lookup, NetworkPolicy } from '../accounts/network/host-policy';
import type { MailServer } from '../accounts/server-address';
import { ConnectorError } from '../accounts/types';
import { createLogger } from '../logger';
import { AppenderPool, imapflowAppender } from './appender-pool';
import { connectBodyFetcher, imapflowBodyFetcher, SourceChangedError, type BodyFetcher, type MailboxInfo } from './body-fetcher';
import { copyFolder, CopyStoppedError, readIdentities, uidSet, type FolderScan } from './copy-folder';
import { ensureTargetFolders, planFolders, renameNote, type FolderClient } from './folder-plan';
import { defaultImapLimits, ImapLimitError } from './imap-limits';
import { FolderListUnreadable, RawFolderSession, type SelectedMailbox } from './raw-folders';
import { connectPipelinedAppender, type Appender } from './pipelined-appender';
import type { GroupwareFolderOption, PlannedFolder } from './folder-plan-types';
import { ProgressTracker, type FolderProgress, type ProgressSnapshot } from './progress';
import { emptyCheckpoint, type CopyIssue, type CopyNotice, type FolderCheckpoint, type StateStore } from './state';

const log = createLogger('engine');

export interface MailboxEndpoint {
  server: MailServer;
  /** Called for every connection, so a token can be refreshed between connections. */
  auth: () => Promise<ImapAuth> | ImapAuth;
}

export interface CopyMailboxOptions {
  source: MailboxEndpoint;
  target: MailboxEndpoint;
  policy: NetworkPolicy;
  lookup?: Lookup;
  state: StateStore;
  /** Folders copied at once (each with its own source connection). Default 4. */
  folderConcurrency?: number;
  /** Target connections that append. Default: one per folder copied at once. */
  appendConnections?: number;
  /** Messages above this size are reported and skipped. Default 50 MB. */
  maxMessageBytes?: number;
  /** Bytes read from the source but not yet stored on the target. Default 4 MB. */
  maxBytesInFlight?: number;
  /** Stop at the next batch boundary after this many ms; the run then reports `isComplete: false`. */
  timeBudgetMs?: number;
  /** The resync: also carry flag changes of messages copied before. */
  syncFlags?: boolean;
  /** Messages read and stored between two checkpoints of a folder. Default 300. */
  batchMessages?: number;
  /** Attempts per folder after a dropped connection or a server error. Default 5. */
  maxAttempts?: number;
  /**
   * Groupware moves by its own path: the source's folders that hold it (Kolab's typed folders,
   * Zimbra's and Exchange's Calendar, Contacts, Tasks, …) are not copied as mail, and each is
   * named in the notices as "moved as groupware" or "skipped". Default: every folder is mail.
   */
  groupwareFolders?: GroupwareFolderOption;
  onProgress?: (snapshot: ProgressSnapshot) => void;
  signal?: AbortSignal;
}

/** One folder of a pass: `copied + skipped + failed == total`. */
export interface FolderReport {
  sourcePath: string;
  targetPath: string;
  total: number;
  copied: number;
  skipped: number;
  failed: number;
  /** Messages the target held after an earlier pass that are gone from it (see FolderCheckpoint.messagesGone). */
  gone: number;
  /** Why the target name differs (see FolderCheckpoint.targetNote), else null. */
  note: string | null;
}

export interface CopySummary {
  /** False when the pass stopped at its time budget with work left (a next pass goes on). */
  isComplete: boolean;
  /** Something was not copied: `messages.failed > 0` or a folder could not be created or read. */
  hasLoss: boolean;
  folders: number;
  /** Of this pass; `copied + skipped + failed == total`. */
  messages: { total: number; copied: number; skipped: number; failed: number };
  bytes: number;
  seconds: number;
  /** Every message and folder not copied: folder, UID, size, reason. */
  issues: CopyIssue[];
  /** Per folder of this pass, in plan order. */
  folderReports: FolderReport[];
  /** Every folder whose target name differs from the source's, with the reason in plain words. */
  renamed: { sourcePath: string; targetPath: string; reason: string }[];
  /** What this pass found and did that is not a loss (re-created folders, role decisions, skipped virtual folders). */
  notices: CopyNotice[];
  /** Messages copied earlier that are no longer in the target (all folders, as of this pass). */
  gone: number;
  progress: ProgressSnapshot;
}

export class CopyError extends Error {
  constructor(
    message: string,
    readonly reason: ConnectorError['reason'] | 'copy_failed',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CopyError';
  }
}

const TRANSIENT = /ECONNRESET|EPIPE|ETIMEDOUT|ECONNREFUSED|socket|connection|closed|timeout|NoConnection|BYE|UNAVAILABLE|SERVERBUG|throttl|try again/i;

/** Whether a failure is worth another attempt with fresh connections. */
export function isTransient(error: unknown): boolean {
  // A server past a limit is dropped as a broken connection is: another attempt may meet a healthy one.
  if (error instanceof SourceChangedError || error instanceof ImapLimitError) return true;
  if (error instanceof ConnectorError) return ['timed_out', 'connection_refused', 'protocol_error'].includes(error.reason);
  const e = error as { code?: string; message?: string; responseText?: string; responseStatus?: string };
  return TRANSIENT.test(`${e.code ?? ''} ${e.message ?? ''} ${e.responseText ?? ''} ${e.responseStatus ?? ''}`);
}

/** Office 365 throttling names its own wait: "Suggested Backoff Time: 1234 milliseconds". */
export function suggestedBackoffMs(error: unknown): number | null {
  const e = error as { message?: string; responseText?: string };
  const match = /Suggested Backoff Time:\s*(\d+)\s*milliseconds/i.exec(`${e.responseText ?? ''} ${e.message ?? ''}`);
  return match ? Number(match[1]) : null;
}

function backoffMs(attempt: number, error: unknown): number {
  const suggested = suggestedBackoffMs(error);
  if (suggested !== null) return Math.min(suggested, 5 * 60_000);
  return Math.min(30_000, 500 * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);
}

interface WorkerConnections {
  /** imapflow on the source, for identities and flag changes: opened when first needed. */
  source: ImapFlow | null;
  /** imapflow on the target, for identities, flag changes and STATUS: opened when first needed. */
  target: ImapFlow | null;
  bodies: BodyFetcher;
}

/** A planning connection: a raw session where the server allows one, else imapflow. */
interface PlanConnection {
  client: FolderClient;
  raw: RawFolderSession | null;
  flow: ImapFlow | null;
}

/** How long SELECT answers from planning stand in for a folder's own SELECT. */
const SELECTED_FRESH_MS = 30_000;

/**
 * The number of folders when the source has nothing new for any checkpointed folder (and no
 * flag change where flags are carried), else null: then the full pass runs.
 */
async function foldersWithNothingToDo(
  reader: BodyFetcher,
  checkpoints: Map<string, FolderCheckpoint>,
  targetStates: Promise<ReadonlyMap<string, MailboxInfo | null | undefined>>,
  syncFlags: boolean,
): Promise<number | null> {
  // Both lists at once. Each target folder must still be the one its checkpoint describes,
  // holding what it held when the last pass ended.
  const [sourceList, targets] = await Promise.all([reader.listFolders({ withStatus: true }), targetStates]);
  for (const checkpoint of checkpoints.values()) {
    const target = targets.get(checkpoint.targetPath);
    if (!target || target.uidValidity !== checkpoint.targetUidValidity) return null;
    if (checkpoint.targetMessages === null || target.exists !== checkpoint.targetMessages || target.uidNext !== checkpoint.targetUidNext) return null;
  }
  const listed = sourceList.filter((f) => !f.flags.has('\\noselect') && !f.flags.has('\\nonexistent'));
  if (listed.length !== checkpoints.size || listed.some((f) => !checkpoints.has(f.path))) return null;
  // Where the list did not bring them (no LIST-STATUS), one pipelined STATUS.
  const missing = listed.filter((f) => !f.status).map((f) => f.path);
  const statuses = missing.length > 0 ? await reader.statuses(missing) : new Map<string, MailboxInfo>();
  for (const folder of listed) {
    const checkpoint = checkpoints.get(folder.path)!;
    const status = folder.status ?? statuses.get(folder.path);
    if (!status || status.uidNext === null || status.uidValidity !== checkpoint.sourceUidValidity || status.uidNext > checkpoint.lastUid + 1) return null;
    if (syncFlags && (status.highestModseq === null || status.highestModseq !== checkpoint.highestModseq)) return null;
  }
  return listed.length;
}

/**
 * What the target's folders hold now, by path: their STATUS where the folder exists (undefined
 * when the server did not say), null where it does not. One LIST-STATUS where the server has
 * it, else one pipelined STATUS for the folders asked about.
 */
async function folderStates(reader: BodyFetcher, paths: readonly string[]): Promise<Map<string, MailboxInfo | null | undefined>> {
  const listed = new Map((await reader.listFolders({ withStatus: true })).map((folder) => [folder.path, folder]));
  const wanted = [...new Set(paths)];
  const withoutStatus = wanted.filter((path) => listed.has(path) && !listed.get(path)!.status && !listed.get(path)!.flags.has('\\noselect'));
  const statuses = withoutStatus.length > 0 ? await reader.statuses(withoutStatus) : new Map<string, MailboxInfo>();
  const states = new Map<string, MailboxInfo | null | undefined>();
  for (const path of wanted) {
    const folder = listed.get(path);
    states.set(path, !folder || folder.flags.has('\\nonexistent') ? null : (folder.status ?? statuses.get(path)));
  }
  return states;
}

function plural(count: number, word: string): string {
  return `${count.toLocaleString('en-US')} ${word}${count === 1 ? '' : 's'}`;
}

/** Where a folder's copy starts: after its checkpoint, or from the first message when the source's UIDs changed. */
function firstUid(checkpoint: FolderCheckpoint, uidValidity: string): number {
  return checkpoint.sourceUidValidity === uidValidity ? checkpoint.lastUid + 1 : 1;
}

async function scanFolder(source: BodyFetcher, folder: PlannedFolder, checkpoint: FolderCheckpoint): Promise<FolderScan> {
  const mailbox = await source.examine(folder.sourcePath);
  const from = firstUid(checkpoint, mailbox.uidValidity);
  const needed = mailbox.exists > 0 && (mailbox.uidNext === null || from < mailbox.uidNext);
  return folderScan(folder, checkpoint, mailbox, needed ? await source.sizes(`${from}:*`) : []);
}

function folderScan(folder: PlannedFolder, checkpoint: FolderCheckpoint, mailbox: MailboxInfo, sizes: { uid: number; size: number }[]): FolderScan {
  const isContinuation = checkpoint.sourceUidValidity === mailbox.uidValidity;
  const from = firstUid(checkpoint, mailbox.uidValidity);
  let uidNext = mailbox.uidNext ?? 0;
  const candidates: { uid: number; size: number }[] = [];
  // `N:*` also returns the highest message when it is below N: filtered by UID.
  for (const message of sizes) {
    if (message.uid >= from) candidates.push(message);
    if (mailbox.uidNext === null) uidNext = Math.max(uidNext, message.uid + 1);
  }
  candidates.sort((a, b) => a.uid - b.uid);
  return {
    sourcePath: folder.sourcePath,
    targetPath: folder.targetPath,
    uidValidity: mailbox.uidValidity,
    uidNext: Math.max(uidNext, from),
    highestModseq: mailbox.highestModseq,
    candidates,
    isContinuation,
  };
}

function folderReport(checkpoint: FolderCheckpoint, counted: FolderProgress | undefined, folder?: PlannedFolder): FolderReport {
  return {
    sourcePath: checkpoint.sourcePath,
    targetPath: folder?.targetPath ?? checkpoint.targetPath,
    total: counted?.totalMessages ?? 0,
    copied: counted?.copiedMessages ?? 0,
    skipped: counted?.skippedMessages ?? 0,
    failed: counted?.failedMessages ?? 0,
    gone: checkpoint.messagesGone,
    note: folder?.note ?? checkpoint.targetNote,
  };
}

function summaryOf(
  snapshot: ProgressSnapshot,
  reports: FolderReport[],
  pass: { isComplete: boolean; folders: number; started: number; issues: CopyIssue[]; notices: CopyNotice[] },
): CopySummary {
  const { copiedMessages: copied, skippedMessages: skipped, failedMessages: failed } = snapshot;
  return {
    isComplete: pass.isComplete,
    hasLoss: failed > 0 || pass.issues.length > 0,
    folders: pass.folders,
    messages: { total: copied + skipped + failed, copied, skipped, failed },
    bytes: snapshot.copiedBytes,
    seconds: (Date.now() - pass.started) / 1000,
    issues: pass.issues,
    folderReports: reports,
    renamed: reports.flatMap((r) => (r.note ? [{ sourcePath: r.sourcePath, targetPath: r.targetPath, reason: r.note }] : [])),
    notices: pass.notices,
    gone: reports.reduce((n, r) => n + r.gone, 0),
    progress: snapshot,
  };
}

/**
 * Splits what is new in each virtual \All folder into messages another source folder holds
 * (they arrive with it: counted as skipped) and archived mail, found nowhere else, which is
 * copied. Identity is the one the copy matches by (Message-ID with Date, else the header block).
 */
async function separateArchived(allMail: PlannedFolder[], others: PlannedFolder[], scans: Map<string, FolderScan>, openSource: () => Promise<ImapFlow>): Promise<void> {
  const withWork = allMail.filter((f) => (scans.get(f.sourcePath)?.candidates.length ?? 0) > 0);
  if (withWork.length === 0) return;
  const client = await openSource();
  try {
    const elsewhere = new Set<string>();
    for (const folder of others) {
      const opened = await client.mailboxOpen(folder.sourcePath, { readOnly: true });
      if (opened.exists === 0) continue;
      for (const entry of (await readIdentities(client, '1:*', 1)).values()) elsewhere.add(entry.identity);
    }
    for (const folder of withWork) {
      const scan = scans.get(folder.sourcePath)!;
      await client.mailboxOpen(folder.sourcePath, { readOnly: true });
      const identities = await readIdentities(client, uidSet(scan.candidates.map((c) => c.uid)), 1);
      const found = scan.candidates.filter((c) => {
        const identity = identities.get(c.uid)?.identity;
        return identity !== undefined && elsewhere.has(identity);
      });
      const foundUids = new Set(found.map((c) => c.uid));
      scans.set(folder.sourcePath, { ...scan, candidates: scan.candidates.filter((c) => !foundUids.has(c.uid)), elsewhere: [...(scan.elsewhere ?? []), ...found] });
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/**
 * Copies a whole mailbox, exactly once: folders planned and created on the target, then each
 * folder from its checkpoint, several at a time, with a pool of appending connections. Safe to
 * stop at any moment (a kill, a lost connection, the time budget) and to run again.
 */
export async function copyMailbox(options: CopyMailboxOptions): Promise<CopySummary> {
  const started = Date.now();
  const deadline = options.timeBudgetMs ? started + options.timeBudgetMs : Number.POSITIVE_INFINITY;
  const folderConcurrency = options.folderConcurrency ?? 4;
  const maxAttempts = options.maxAttempts ?? 5;
  const issues: CopyIssue[] = [];
  const notices: CopyNotice[] = [];
  const progress = new ProgressTracker(options.onProgress);
  const open = new Set<ImapFlow>();
  const appenderPipes = new Set<Appender>();
  const folderSessions = new Set<RawFolderSession>();
  const bodyFetchers = new Set<BodyFetcher>();
  /** Worker connections and appenders opened ahead of need (a first pass). */
  const spares: Promise<WorkerConnections>[] = [];
  const warming: Promise<void>[] = [];

  // Every connection reads under the same limits, a message body up to the message size limit.
  const limits = defaultImapLimits({ maxMessageBytes: options.maxMessageBytes ?? 50 * 1024 * 1024 });
  const bounds = (endpoint: MailboxEndpoint) => ({ limits, side: endpoint === options.target ? ('target' as const) : ('source' as const) });
  const connect = async (endpoint: MailboxEndpoint) => {
    const client = await connectImap({ server: endpoint.server, auth: await endpoint.auth(), policy: options.policy, lookup: options.lookup, ...bounds(endpoint) });
    open.add(client);
    client.on('close', () => open.delete(client));
    return client;
  };
  const closeAll = async (clients: Iterable<ImapFlow>) => {
    await Promise.all([...clients].map((c) => c.logout().catch(() => c.close())));
  };

  const recordIssues = async (found: CopyIssue[]) => {
    if (found.length === 0) return;
    issues.push(...found);
    await options.state.recordIssues(found);
  };

  try {
    const connectBodies = async (openSource: () => Promise<ImapFlow>): Promise<BodyFetcher> => {
      const raw = await connectBodyFetcher({ server: options.source.server, auth: await options.source.auth(), policy: options.policy, lookup: options.lookup, ...bounds(options.source) });
      if (!raw) return imapflowBodyFetcher(await openSource());
      bodyFetchers.add(raw);
      return raw;
    };
    const appenderConnections: Appender[] = [];
    const connectAppender = async (): Promise<Appender> => {
      const auth = await options.target.auth();
      const pipelined = await connectPipelinedAppender({ server: options.target.server, auth, policy: options.policy, lookup: options.lookup, ...bounds(options.target) });
      if (pipelined) {
        appenderPipes.add(pipelined);
        return pipelined;
      }
      return imapflowAppender(await connect(options.target));
    };
    // One appending connection per folder copied at once (fewer once the scan shows less work).
    let appendConnections = options.appendConnections ?? folderConcurrency;
    const appenders = new AppenderPool(appenderConnections, options.maxBytesInFlight ?? 4 * 1024 * 1024);
    const refillAppenders = async () => {
      for (let i = appenderConnections.length - 1; i >= 0; i--) if (!appenderConnections[i]!.usable) appenderConnections.splice(i, 1);
      const missing = appendConnections - appenderConnections.length;
      if (missing > 0) appenderConnections.push(...(await Promise.all(Array.from({ length: missing }, connectAppender))));
    };
    const closePair = async (pair: WorkerConnections) => {
      bodyFetchers.delete(pair.bodies);
      await pair.bodies.close().catch(() => undefined);
      await closeAll([pair.source, pair.target].filter((c): c is ImapFlow => c !== null));
    };
    const isUsable = (pair: WorkerConnections) => (pair.target === null || pair.target.usable) && pair.bodies.usable && (pair.source === null || pair.source.usable);
    const openPair = async (): Promise<WorkerConnections> => {
      let source: ImapFlow | null = null;
      const bodies = await connectBodies(async () => (source ??= await connect(options.source)));
      return { source, target: null, bodies };
    };
    const planConnection = async (endpoint: MailboxEndpoint): Promise<PlanConnection> => {
      const raw = await RawFolderSession.open({ server: endpoint.server, auth: await endpoint.auth(), policy: options.policy, lookup: options.lookup, ...bounds(endpoint) });
      if (raw) {
        folderSessions.add(raw);
        return { client: raw, raw, flow: null };
      }
      const flow = await connect(endpoint);
      return { client: flow, raw: null, flow };
    };
    // A pass with nothing to do (every folder checkpointed, nothing new, no flag changes, both
    // sides still the folders the checkpoints describe) is known from one LIST-STATUS on each
    // server. Those connections log in while the checkpoints are read; a first pass reads
    // with the source one, and the target one reads what the target holds at the end.
    const readerOf = (endpoint: MailboxEndpoint) => (async () => connectBodyFetcher({ server: endpoint.server, auth: await endpoint.auth(), policy: options.policy, lookup: options.lookup, ...bounds(endpoint) }))();
    /**
     * Messages the target folder held at the last pass's end that are gone from it now: what it
     * holds, less what arrived since (UIDs from the UIDNEXT then on). Only read when the counts
     * leave room for a loss, on a connection of its own (a folder it opened would make the
     * shared reader's later STATUS answer from that session's view).
     */
    const goneSince = async (checkpoint: FolderCheckpoint, now: MailboxInfo): Promise<number> => {
      const { targetMessages, targetUidNext } = checkpoint;
      if (targetMessages === null || targetUidNext === null || now.uidNext === null) return 0;
      const arrivedAtMost = Math.max(0, now.uidNext - targetUidNext);
      if (now.exists >= targetMessages + arrivedAtMost) return 0;
      let arrived = 0;
      if (arrivedAtMost > 0) {
        const reader = await readerOf(options.target);
        if (!reader) return 0;
        try {
          await reader.examine(checkpoint.targetPath);
          arrived = (await reader.sizes(`${targetUidNext}:*`)).filter((m) => m.uid >= targetUidNext).length;
        } finally {
          await reader.close().catch(() => undefined);
        }
      }
      return Math.max(0, targetMessages - (now.exists - arrived));
    };
    const earlyReady = readerOf(options.source);
    const targetReaderReady = readerOf(options.target);
    earlyReady.catch(() => undefined);
    targetReaderReady.catch(() => undefined);
    const known = await options.state.loadCheckpoints();
    const [early, targetReader] = await Promise.all([earlyReady, targetReaderReady]);
    if (early) bodyFetchers.add(early);
    if (targetReader) bodyFetchers.add(targetReader);
    const targetStatesReady = targetReader && known.size > 0 ? folderStates(targetReader, [...known.values()].map((c) => c.targetPath)) : null;
    targetStatesReady?.catch(() => undefined);
    if (early && targetStatesReady) {
      const idleFolders = await foldersWithNothingToDo(early, known, targetStatesReady, options.syncFlags ?? false);
      if (idleFolders !== null) {
        const snapshot = progress.flush();
        return summaryOf(snapshot, [...known.values()].map((c) => folderReport(c, undefined)), { isComplete: true, folders: idleFolders, started, issues, notices });
      }
    }
    // The raw source connection logs in beside the planning connections.
    const planSourceReady = planConnection(options.source);
    const planBodiesReady = early ? Promise.resolve(early) : connectBodies(async () => (await planSourceReady).flow ?? (await connect(options.source)));
    planBodiesReady.catch(() => undefined);
    const planTargetReady = planConnection(options.target);
    // A first pass needs all its copying connections: they log in while the planning
    // connections do and the folders are planned and scanned. Later passes open them only for
    // folders with work.
    if (known.size === 0) {
      for (let i = 1; i < folderConcurrency; i++) spares.push(openPair());
      warming.push(refillAppenders());
      for (const pending of [...spares, ...warming]) pending.catch(() => undefined);
    }
    let [planSource, planTarget] = await Promise.all([planSourceReady, planTargetReady]);
    // Two folders that claim one special use by name: the one with more messages takes it.
    const countMessages = async (paths: string[]) => new Map([...(await (await planBodiesReady).statuses(paths))].map(([path, info]) => [path, info.exists]));
    let plan: Awaited<ReturnType<typeof planFolders>>;
    try {
      plan = await planFolders(planSource.client, planTarget.client, { countMessages, ...(options.groupwareFolders ? { groupwareFolders: options.groupwareFolders } : {}) });
    } catch (error) {
      if (!(error instanceof FolderListUnreadable)) throw error;
      // A folder name the raw session cannot read: imapflow plans both sides.
      const asFlow = async (connection: PlanConnection, endpoint: MailboxEndpoint): Promise<PlanConnection> => {
        if (!connection.raw) return connection;
        connection.raw.close();
        const flow = await connect(endpoint);
        return { client: flow, raw: null, flow };
      };
      [planSource, planTarget] = await Promise.all([asFlow(planSource, options.source), asFlow(planTarget, options.target)]);
      plan = await planFolders(planSource.client, planTarget.client, { countMessages, ...(options.groupwareFolders ? { groupwareFolders: options.groupwareFolders } : {}) });
    }
    planSource.raw?.close();
    // Every folder lands where an earlier pass put it (its checkpoint); a name the target
    // refuses is renamed (ensureTargetFolders).
    const created = await ensureTargetFolders(planTarget.client, plan, { stored: new Map([...known.values()].map((c) => [c.sourcePath, c.targetPath])) });
    const creation = new Map(created.map((c) => [c.sourcePath, c]));
    const planned: PlannedFolder[] = plan.folders.map((folder) => {
      const result = creation.get(folder.sourcePath);
      const targetPath = result?.targetPath ?? folder.targetPath;
      const earlier = known.get(folder.sourcePath);
      const note = result?.refusedPath
        ? renameNote(folder.sourcePath, result)
        : earlier && earlier.targetPath === targetPath && earlier.targetNote
          ? earlier.targetNote
          : (folder.note ?? null);
      return { ...folder, targetPath, note };
    });
    const refusedFolders = planned.filter((f) => creation.get(f.sourcePath)?.status === 'refused');
    const folders = planned.filter((f) => f.isSelectable && creation.get(f.sourcePath)?.status !== 'refused');
    for (const folder of planned) {
      if (creation.get(folder.sourcePath)?.subscriptionRefused) notices.push({ folder: folder.sourcePath, text: `The target server would not subscribe "${folder.targetPath}" as "${folder.sourcePath}" is on the source.` });
    }
    notices.push(...(plan.notices ?? []));
    for (const skipped of plan.skipped) notices.push({ folder: skipped.sourcePath, text: `"${skipped.sourcePath}" was not copied: it ${skipped.reason}.` });
    // What the target folders hold now, in one exchange: a folder's copy needs no target
    // session of its own unless it must read identities or flags there.
    const selectedAt = Date.now();
    const selected = planTarget.raw ? await planTarget.raw.selectMany(folders.map((f) => f.targetPath)) : new Map<string, SelectedMailbox>();
    planTarget.raw?.close();
    const checkpoints = await options.state.loadCheckpoints();
    const checkpointOf = (folder: PlannedFolder) => checkpoints.get(folder.sourcePath) ?? { ...emptyCheckpoint(folder.sourcePath, folder.targetPath), targetNote: folder.note ?? null };

    // One raw source connection reads every folder's state and size list: the totals up front,
    // and nothing more is opened when nothing changed (a delta pass).
    const planBodies = await planBodiesReady;
    const scans = new Map<string, FolderScan>();
    // One pipelined STATUS for all folders: those with nothing new since their checkpoint need
    // not be opened at all. Folders the target refused under every name are read too: each
    // of their messages is counted and named as not copied.
    const statuses = await planBodies.statuses([...folders, ...refusedFolders.filter((f) => f.isSelectable)].map((f) => f.sourcePath));

    // A checkpoint counts only where both folders are still the ones it describes (RFC 3501
    // 2.3.1.1: a new UIDVALIDITY voids every remembered UID); anything else is matched again by
    // identity, as a first pass into a non-empty folder is.
    const targetStates = targetStatesReady ? await targetStatesReady : null;
    const voided = new Map<string, string>();
    for (const folder of folders) {
      const earlier = checkpoints.get(folder.sourcePath);
      if (!earlier || earlier.sourceUidValidity === null) {
        // The place a renamed folder got is kept from the start, before anything is copied.
        if (folder.note && earlier?.targetNote !== folder.note) {
          const mapping = { ...(earlier ?? emptyCheckpoint(folder.sourcePath, folder.targetPath)), targetPath: folder.targetPath, targetNote: folder.note };
          checkpoints.set(folder.sourcePath, mapping);
          await options.state.saveCheckpoint(mapping);
        }
        continue;
      }
      const before = targetStates?.get(earlier.targetPath);
      const source = statuses.get(folder.sourcePath);
      const isCreatedNow = creation.get(folder.sourcePath)?.status === 'created';
      let why: string | null = null;
      if (earlier.targetPath !== folder.targetPath) why = `"${folder.sourcePath}" goes to "${folder.targetPath}" on the target now`;
      else if (before === null || (isCreatedNow && earlier.targetUidValidity !== null)) why = `"${folder.targetPath}" on the target was deleted and is created again`;
      else if (before && earlier.targetUidValidity !== null && before.uidValidity !== earlier.targetUidValidity) why = `"${folder.targetPath}" on the target was re-created`;
      // UIDNEXT never goes down in one folder (RFC 3501 2.3.1.1): a lower one is a new folder that got the old UIDVALIDITY.
      else if (before?.uidNext != null && earlier.targetUidNext !== null && before.uidNext < earlier.targetUidNext) why = `"${folder.targetPath}" on the target was re-created`;
      else if (source && source.uidValidity !== earlier.sourceUidValidity) why = `"${folder.sourcePath}" on the source was re-created (its UIDs changed)`;
      if (why !== null) {
        voided.set(folder.sourcePath, why);
        const fresh = { ...emptyCheckpoint(folder.sourcePath, folder.targetPath), targetNote: folder.note ?? null, messagesGone: earlier.messagesGone };
        checkpoints.set(folder.sourcePath, fresh);
        await options.state.saveCheckpoint(fresh);
        continue;
      }
      if (folder.note !== earlier.targetNote) {
        earlier.targetNote = folder.note ?? null;
        await options.state.saveCheckpoint(earlier);
      }
      const gone = before && targetReader ? await goneSince(earlier, before) : 0;
      if (gone > 0) {
        const updated = { ...earlier, messagesGone: earlier.messagesGone + gone, targetMessages: before!.exists, targetUidNext: before!.uidNext };
        checkpoints.set(folder.sourcePath, updated);
        await options.state.saveCheckpoint(updated);
        notices.push({ folder: folder.sourcePath, text: `${plural(gone, 'message')} copied earlier ${gone === 1 ? 'is' : 'are'} no longer in "${folder.targetPath}" on the target (deleted there); ${gone === 1 ? 'it is' : 'they are'} not copied again.` });
      }
    }

    const toRead: PlannedFolder[] = [];
    for (const folder of folders) {
      const checkpoint = checkpointOf(folder);
      const status = statuses.get(folder.sourcePath);
      // Empty, or nothing new since the checkpoint: STATUS says all there is to know.
      const knownFromStatus = status && status.uidNext !== null && (status.exists === 0 || (checkpoint.sourceUidValidity === status.uidValidity && status.uidNext <= checkpoint.lastUid + 1));
      if (knownFromStatus) scans.set(folder.sourcePath, folderScan(folder, checkpoint, status, []));
      else toRead.push(folder);
    }
    // The others are opened and their sizes read with all commands sent at once; a folder
    // whose answer is missing or changed meanwhile is read alone.
    const refusedToRead = refusedFolders.filter((f) => f.isSelectable && (statuses.get(f.sourcePath)?.exists ?? 1) > 0);
    const read = await planBodies.scanMany(
      [...toRead, ...refusedToRead]
        .filter((f) => statuses.has(f.sourcePath))
        .map((f) => ({ path: f.sourcePath, from: firstUid(checkpointOf(f), statuses.get(f.sourcePath)!.uidValidity) })),
    );
    for (const folder of toRead) {
      const checkpoint = checkpointOf(folder);
      const contents = read.get(folder.sourcePath);
      scans.set(
        folder.sourcePath,
        contents && contents.mailbox.uidValidity === statuses.get(folder.sourcePath)?.uidValidity
          ? folderScan(folder, checkpoint, contents.mailbox, contents.sizes)
          : await scanFolder(planBodies, folder, checkpoint),
      );
    }
    for (const folder of folders) {
      const scan = scans.get(folder.sourcePath)!;
      progress.setFolderTotal(folder.sourcePath, scan.candidates.length, scan.candidates.reduce((n, c) => n + c.size, 0), folder.targetPath);
    }
    // Every message of a folder the target refused is counted and named as not copied.
    for (const folder of refusedToRead) {
      const result = creation.get(folder.sourcePath);
      const contents = read.get(folder.sourcePath);
      const messages = contents ? contents.sizes : (await scanFolder(planBodies, folder, emptyCheckpoint(folder.sourcePath, folder.targetPath))).candidates;
      const reason = `The target server refused to create the folder "${folder.targetPath}" under every name tried${result?.reason ? ` (${result.reason})` : ''}: the message was not copied.`;
      progress.setFolderTotal(folder.sourcePath, messages.length, messages.reduce((n, m) => n + m.size, 0), folder.targetPath);
      progress.failed(folder.sourcePath, messages.length, messages.reduce((n, m) => n + m.size, 0));
      progress.folderEnded(folder.sourcePath);
      await recordIssues(messages.map((m) => ({ folder: folder.sourcePath, uid: m.uid, size: m.size, reason })));
    }
    for (const folder of refusedFolders.filter((f) => !refusedToRead.includes(f))) {
      const result = creation.get(folder.sourcePath);
      await recordIssues([{ folder: folder.sourcePath, uid: null, size: null, reason: `The target server refused to create the folder "${folder.targetPath}"${result?.reason ? ` (${result.reason})` : ''}.` }]);
    }
    progress.flush();

    let isComplete = true;
    // Folders with nothing new and a checkpoint that already covers them cost nothing; only
    // the others are worked on (and count against the time budget).
    const needsWork = folders.filter((folder) => {
      const scan = scans.get(folder.sourcePath)!;
      const checkpoint = checkpoints.get(folder.sourcePath);
      const settled = checkpoint && scan.isContinuation && checkpoint.lastUid >= scan.uidNext - 1 && scan.candidates.length === 0;
      return !settled || (options.syncFlags && checkpoint.highestModseq !== scan.highestModseq) || (options.syncFlags && scan.highestModseq === null);
    });
    for (const folder of folders) if (!needsWork.includes(folder)) progress.folderEnded(folder.sourcePath);
    // A virtual \All folder (Gmail's All Mail) comes last: only what no other folder holds is its own.
    const isAllMail = (folder: PlannedFolder) => folder.specialUse === '\\All';
    const allMail = needsWork.filter(isAllMail);
    const queue = needsWork.filter((folder) => !isAllMail(folder));
    // The largest folders first: the copy then ends when its largest folder does, not later.
    const bytesOf = (folder: PlannedFolder) => scans.get(folder.sourcePath)!.candidates.reduce((n, c) => n + c.size, 0);
    queue.sort((a, b) => bytesOf(b) - bytesOf(a));
    const workerCount = Math.min(folderConcurrency, queue.length);
    appendConnections = Math.min(appendConnections, Math.max(1, workerCount));
    await Promise.allSettled(warming);
    if (queue.length > 0) await refillAppenders();

    const worker = async (first: WorkerConnections | null, spare?: Promise<WorkerConnections>) => {
      let pair = first;
      if (!pair && spare && queue.length > 0) pair = await spare.catch(() => null);
      while (queue.length > 0) {
        const folder = queue.shift()!;
        for (let attempt = 1; ; attempt++) {
          if (options.signal?.aborted) throw new CopyError('The copy was stopped.', 'copy_failed');
          try {
            if (!pair || !isUsable(pair)) {
              if (pair) await closePair(pair);
              pair = await openPair();
              await refillAppenders();
            }
            const current = pair;
            // The scan of the totals stays valid on the first attempt; a retry starts again
            // from the checkpoint the failed attempt left.
            const checkpoint = (await options.state.loadCheckpoints()).get(folder.sourcePath) ?? checkpointOf(folder);
            if (attempt > 1) {
              scans.set(folder.sourcePath, await scanFolder(current.bodies, folder, checkpoint));
              if (isAllMail(folder)) await separateArchived([folder], folders.filter((f) => !isAllMail(f)), scans, () => connect(options.source));
            }
            const scan = scans.get(folder.sourcePath)!;
            progress.folderStarted(folder.sourcePath);
            const finished = await copyFolder(scan, checkpoint, {
              openSource: async () => (current.source ??= await connect(options.source)),
              openTarget: async () => (current.target ??= await connect(options.target)),
              ...(attempt === 1 && Date.now() - selectedAt < SELECTED_FRESH_MS && selected.has(folder.targetPath) ? { targetMailbox: selected.get(folder.targetPath)! } : {}),
              bodies: current.bodies,
              appenders,
              progress,
              maxMessageBytes: options.maxMessageBytes ?? 50 * 1024 * 1024,
              deadline,
              saveCheckpoint: (c) => options.state.saveCheckpoint(c),
              recordIssues,
              syncFlags: options.syncFlags ?? false,
              ...(options.signal ? { signal: options.signal } : {}),
              ...(options.batchMessages ? { batchMessages: options.batchMessages } : {}),
            });
            if (!finished) {
              isComplete = false;
              queue.length = 0;
            } else progress.folderEnded(folder.sourcePath);
            break;
          } catch (error) {
            if (error instanceof CopyError) throw error;
            if (error instanceof CopyStoppedError || options.signal?.aborted) throw new CopyError('The copy was stopped.', 'copy_failed', { cause: error });
            const transient = isTransient(error);
            log.warn('folder copy interrupted', { folder: folder.sourcePath, attempt, transient, error });
            if (!transient || attempt >= maxAttempts) {
              if (error instanceof ImapLimitError) throw new CopyError(error.message, 'copy_failed', { cause: error });
              if (transient) throw new CopyError(`The copy of ${folder.sourcePath} failed ${attempt} times.`, 'copy_failed', { cause: error });
              // What was not copied of it is counted as failed, never left out of the totals.
              const lost = progress.failRemaining(folder.sourcePath);
              progress.folderEnded(folder.sourcePath);
              const said = ((error as { responseText?: string }).responseText ?? (error as Error).message ?? '').replace(/\s+/g, ' ').slice(0, 200);
              await recordIssues([
                { folder: folder.sourcePath, uid: null, size: null, reason: `The folder could not be copied${lost > 0 ? ` (${plural(lost, 'message')} not copied)` : ''}: ${said}` },
              ]);
              break;
            }
            if (pair) await closePair(pair);
            pair = null;
            await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt, error)));
          }
        }
        if (Date.now() > deadline && queue.length > 0) {
          isComplete = false;
          queue.length = 0;
        }
      }
      if (pair) await closePair(pair);
    };
    // The first worker goes on with the planning connections; the others connect when they start.
    const firstPair: WorkerConnections = { source: planSource.flow, target: planTarget.flow, bodies: planBodies };
    const workerPairs: (WorkerConnections | null)[] = [firstPair, ...Array.from({ length: Math.max(0, workerCount - 1) }, () => null)];
    const workers = workerPairs.map((pair, index) => worker(pair, index > 0 ? spares[index - 1] : undefined));
    const results = await Promise.allSettled(workers);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;

    if (allMail.length > 0 && isComplete && Date.now() <= deadline) {
      await separateArchived(allMail, folders.filter((f) => !isAllMail(f)), scans, () => connect(options.source));
      queue.push(...allMail);
      await worker(null);
    } else if (allMail.length > 0) {
      isComplete = false;
    }

    // What each target folder holds as this pass ends: the next pass compares with it.
    if (targetReader?.usable) {
      const ended = await folderStates(targetReader, folders.map((f) => f.targetPath)).catch(() => null);
      const latest = await options.state.loadCheckpoints();
      for (const folder of folders) {
        const checkpoint = latest.get(folder.sourcePath);
        const now = ended?.get(folder.targetPath);
        if (!checkpoint || !now || now.uidNext === null || checkpoint.targetUidValidity !== now.uidValidity) continue;
        await options.state.saveCheckpoint({ ...checkpoint, targetMessages: now.exists, targetUidNext: now.uidNext });
      }
    }

    const snapshot = progress.flush();
    const latest = await options.state.loadCheckpoints();
    const counted = new Map(snapshot.folders.map((f) => [f.path, f]));
    for (const [sourcePath, why] of voided) {
      const done = counted.get(sourcePath);
      notices.push({ folder: sourcePath, text: `${why}: matched again, ${(done?.copiedMessages ?? 0).toLocaleString('en-US')} copied${done?.skippedMessages ? `, ${done.skippedMessages.toLocaleString('en-US')} already there` : ''}.` });
    }
    await options.state.recordNotices(notices);
    const reports = [...folders, ...refusedFolders].map((folder) => folderReport(latest.get(folder.sourcePath) ?? checkpointOf(folder), counted.get(folder.sourcePath), folder));
    return summaryOf(snapshot, reports, { isComplete, folders: folders.length, started, issues, notices });
  } catch (error) {
    if (error instanceof CopyError || error instanceof ConnectorError) throw error;
    throw new CopyError((error as Error).message ?? String(error), 'copy_failed', { cause: error });
  } finally {
    // Connections still logging in are closed with the others, not left behind.
    await Promise.allSettled([...spares, ...warming]);
    await Promise.all([...appenderPipes, ...bodyFetchers].map((a) => a.close().catch(() => undefined)));
    for (const session of folderSessions) session.close();
    await closeAll([...open]);
  }
}
