import type { ImapFlow } from 'imapflow';
import { connectImap } from '../accounts/imap/imap-connector';
import type { Lookup, NetworkPolicy } from '../accounts/network/host-policy';
import { createLogger } from '../logger';
import type { MailboxEndpoint } from './copy-mailbox';
import { connectBodyFetcher, imapflowBodyFetcher, type BodyFetcher, type MailboxInfo } from './body-fetcher';
import { uidSet } from './copy-folder';
import { IDENTITY_FIELDS, IdentityCounter, identityFields, messageIdentity } from './identity';
import type { CopyIssue } from './state';

const log = createLogger('engine');

/** A folder pair to verify; `targetPath` null when the folder has no place on the target (it could not be created). */
export interface FolderToVerify {
  sourcePath: string;
  targetPath: string | null;
}

/**
 * What of one source folder the target folder holds, by the identity the copy matches with
 * (Message-ID + Date, else the header block; copies counted). `present + missing == sourceMessages`.
 */
export interface FolderVerdict {
  sourcePath: string;
  targetPath: string | null;
  sourceMessages: number;
  present: number;
  missing: number;
  /** Source UIDs of the missing messages, ascending, at most the cap; `missing` is always the exact count. */
  missingUids: number[];
  /** Of the missing, how many the copy reported as not copied (their reason is known). */
  missingReported: number;
  /** Why the folder could not be verified, else null (its counts are then 0). */
  unverified: string | null;
  /** UIDVALIDITY, UIDNEXT and EXISTS of each folder when verified (see folderState); null where unknown or absent. */
  sourceState: string | null;
  targetState: string | null;
}

/**
 * A folder's contents in one string: with the same UIDVALIDITY and UIDNEXT nothing arrived
 * (UIDs are never reused, RFC 3501 2.3.1.1), and with the same EXISTS nothing was expunged
 * either, so the folder holds exactly the messages it held before. Null when the server does
 * not say its UIDNEXT.
 */
export function folderState(box: Pick<MailboxInfo, 'uidValidity' | 'uidNext' | 'exists'>): string | null {
  return box.uidNext === null ? null : `${box.uidValidity}/${box.uidNext}/${box.exists}`;
}

export interface MailboxVerdict {
  folders: FolderVerdict[];
  /** Messages missing over all folders. */
  missing: number;
  /** Folders that could not be verified. */
  unverified: number;
  seconds: number;
}

export interface VerifyMailboxOptions {
  source: MailboxEndpoint;
  target: MailboxEndpoint;
  policy: NetworkPolicy;
  lookup?: Lookup;
  folders: readonly FolderToVerify[];
  /** What the copy reported as not copied: a missing message among them has a known reason. */
  notCopied?: readonly CopyIssue[];
  /** Folders verified at once (each with a source and a target connection). Default 2. */
  concurrency?: number;
  /**
   * The last verification's verdicts by source folder: a folder pair whose states (see
   * folderState) are unchanged since keeps its verdict without a fetch.
   */
  previous?: ReadonlyMap<string, FolderVerdict>;
  /** Missing UIDs kept per folder. Default 1,000. */
  maxUidsPerFolder?: number;
  signal?: AbortSignal;
}

export const MISSING_UIDS_KEPT = 1000;

/**
 * Matches a folder's source messages against the target's copies. Source messages are taken
 * in UID order, each taking one target copy of its identity, so two source copies of one
 * message need two on the target (what the copy itself counts).
 */
export function compareFolder(
  source: ReadonlyMap<number, string>,
  target: Iterable<string>,
  reported: ReadonlySet<number>,
  maxUids = MISSING_UIDS_KEPT,
): Pick<FolderVerdict, 'sourceMessages' | 'present' | 'missing' | 'missingUids' | 'missingReported'> {
  const onTarget = new IdentityCounter();
  for (const identity of target) onTarget.add(identity);
  const missingUids: number[] = [];
  let missing = 0;
  let missingReported = 0;
  for (const [uid, identity] of [...source].sort((a, b) => a[0] - b[0])) {
    if (onTarget.take(identity)) continue;
    missing++;
    if (reported.has(uid)) missingReported++;
    if (missingUids.length < maxUids) missingUids.push(uid);
  }
  return { sourceMessages: source.size, present: source.size - missing, missing, missingUids, missingReported };
}

/** A folder the server does not have answers SELECT/EXAMINE with NO ([NONEXISTENT] where it says so). */
function isMissingFolder(error: unknown): boolean {
  const e = error as { serverResponseCode?: string; responseStatus?: string; responseText?: string };
  return e.serverResponseCode === 'NONEXISTENT' || (e.responseStatus === 'NO' && /NONEXISTENT|exist|not found|unknown/i.test(e.responseText ?? ''));
}

function said(error: unknown): string {
  const e = error as { responseText?: string; message?: string };
  return (e.responseText ?? e.message ?? String(error)).replace(/\s+/g, ' ').slice(0, 200);
}

/**
 * Identities of every message in the open folder, by UID: one UID FETCH of the Message-ID and
 * Date fields for all of them, and the header block only for those without a Message-ID.
 * Nothing is fetched from an empty folder. A message the server returns no header for still
 * counts, under an identity nothing else has (it cannot be matched, so it is never "present").
 */
export async function identitiesOf(reader: BodyFetcher, exists: number): Promise<Map<number, string>> {
  const identities = new Map<number, string>();
  if (exists === 0) return identities;
  const withoutId: number[] = [];
  for (const { uid, header } of await reader.headers('1:*', IDENTITY_FIELDS)) {
    const fields = identityFields(header);
    if (fields.messageId) identities.set(uid, messageIdentity(fields));
    else withoutId.push(uid);
  }
  if (withoutId.length > 0) {
    withoutId.sort((a, b) => a - b);
    for (const { uid, header } of await reader.headers(uidSet(withoutId), null)) identities.set(uid, messageIdentity({ headers: header }));
    for (const uid of withoutId) if (!identities.has(uid)) identities.set(uid, `u:${uid}`);
  }
  return identities;
}

/**
 * Verifies a copy: per folder, lists the source's messages and the target folder's by the
 * engine's identity and counts what is there and what is missing (with the missing messages'
 * source UIDs). Reads only what the identity needs (the Message-ID and Date fields, the header
 * block only for messages without a Message-ID), in one UID FETCH per folder and side, both
 * sides at once, on the raw reader the copy uses. Folders are EXAMINEd: verification changes
 * nothing on either server.
 */
export async function verifyMailbox(options: VerifyMailboxOptions): Promise<MailboxVerdict> {
  const started = Date.now();
  const maxUids = options.maxUidsPerFolder ?? MISSING_UIDS_KEPT;
  const reportedByFolder = new Map<string, Set<number>>();
  for (const issue of options.notCopied ?? []) {
    if (issue.uid === null) continue;
    let set = reportedByFolder.get(issue.folder);
    if (!set) reportedByFolder.set(issue.folder, (set = new Set()));
    set.add(issue.uid);
  }
  const open = new Set<ImapFlow>();
  const readers = new Set<BodyFetcher>();
  /** The raw pipelined reader the copy uses, else imapflow where the raw session cannot log in. */
  const connect = async (endpoint: MailboxEndpoint): Promise<BodyFetcher> => {
    const target = { server: endpoint.server, policy: options.policy, lookup: options.lookup };
    const raw = await connectBodyFetcher({ ...target, auth: await endpoint.auth() });
    if (raw) {
      readers.add(raw);
      return raw;
    }
    const client = await connectImap({ ...target, auth: await endpoint.auth() });
    open.add(client);
    client.on('close', () => open.delete(client));
    return imapflowBodyFetcher(client);
  };
  const close = async (reader: BodyFetcher) => {
    readers.delete(reader);
    await reader.close().catch(() => undefined);
  };
  const queue = [...options.folders];
  const verdicts = new Map<string, FolderVerdict>();

  const verifyOne = async (folder: FolderToVerify, source: BodyFetcher, target: BodyFetcher): Promise<FolderVerdict> => {
    const empty = { sourcePath: folder.sourcePath, targetPath: folder.targetPath, sourceMessages: 0, present: 0, missing: 0, missingUids: [], missingReported: 0, sourceState: null, targetState: null };
    const examineTarget = async (): Promise<MailboxInfo | null> => {
      if (folder.targetPath === null) return null;
      try {
        return await target.examine(folder.targetPath);
      } catch (error) {
        // No such folder on the target: it holds none of the messages.
        if (target.usable && isMissingFolder(error)) return null;
        throw error;
      }
    };
    const [sourceBox, targetBox] = await Promise.all([
      source.examine(folder.sourcePath).catch((error: unknown) => {
        if (!source.usable) throw error;
        return error instanceof Error ? error : new Error(String(error));
      }),
      examineTarget(),
    ]);
    if (sourceBox instanceof Error) return { ...empty, unverified: `The source folder could not be read: ${said(sourceBox)}` };
    const states = { sourceState: folderState(sourceBox), targetState: targetBox ? folderState(targetBox) : null };
    // Both folders exactly as the last verification found them: its verdict still holds.
    const earlier = options.previous?.get(folder.sourcePath);
    if (earlier && earlier.unverified === null && earlier.targetPath === folder.targetPath && states.sourceState !== null && earlier.sourceState === states.sourceState && earlier.targetState === states.targetState) {
      return { ...earlier, ...states };
    }
    const [sourceIds, targetIds] = await Promise.all([identitiesOf(source, sourceBox.exists), targetBox ? identitiesOf(target, targetBox.exists) : new Map<number, string>()]);
    return { ...empty, ...compareFolder(sourceIds, targetIds.values(), reportedByFolder.get(folder.sourcePath) ?? new Set(), maxUids), ...states, unverified: null };
  };

  const worker = async () => {
    let pair: { source: BodyFetcher; target: BodyFetcher } | null = null;
    while (queue.length > 0) {
      const folder = queue.shift()!;
      for (let attempt = 1; ; attempt++) {
        if (options.signal?.aborted) throw new Error('The verification was stopped.');
        try {
          if (!pair || !pair.source.usable || !pair.target.usable) {
            if (pair) await Promise.all([close(pair.source), close(pair.target)]);
            const [source, target] = await Promise.all([connect(options.source), connect(options.target)]);
            pair = { source, target };
          }
          verdicts.set(folder.sourcePath, await verifyOne(folder, pair.source, pair.target));
          break;
        } catch (error) {
          log.warn('folder verification interrupted', { folder: folder.sourcePath, attempt, error });
          if (attempt >= 3) {
            verdicts.set(folder.sourcePath, {
              sourcePath: folder.sourcePath,
              targetPath: folder.targetPath,
              sourceMessages: 0,
              present: 0,
              missing: 0,
              missingUids: [],
              missingReported: 0,
              unverified: `The folder could not be verified: ${said(error)}`,
              sourceState: null,
              targetState: null,
            });
            break;
          }
          if (pair) await Promise.all([close(pair.source), close(pair.target)]);
          pair = null;
          await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
        }
      }
    }
    if (pair) await Promise.all([close(pair.source), close(pair.target)]);
  };

  try {
    const workers = Math.max(1, Math.min(options.concurrency ?? 2, queue.length));
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    await Promise.all([...readers].map(close));
    await Promise.all([...open].map((c) => c.logout().catch(() => c.close())));
  }
  const folders = options.folders.map((f) => verdicts.get(f.sourcePath)!);
  return {
    folders,
    missing: folders.reduce((n, f) => n + f.missing, 0),
    unverified: folders.filter((f) => f.unverified !== null).length,
    seconds: (Date.now() - started) / 1000,
  };
}
