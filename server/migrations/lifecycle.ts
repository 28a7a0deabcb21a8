import type { MigrationState } from '../generated/prisma/enums';

/**
 * scheduled → running → waiting_resync → resyncing → finished | incomplete, or failed /
 * cancelled. A migration that ended with anything not copied is `incomplete`, never
 * `finished`; both wipe the credentials when they are reached, like every ended state.
 */
export const ACTIVE_STATES = ['scheduled', 'running', 'waiting_resync', 'resyncing'] as const satisfies readonly MigrationState[];
/** Shown together under "Finished migrations". */
export const ENDED_STATES = ['finished', 'incomplete', 'failed', 'cancelled'] as const satisfies readonly MigrationState[];
export const CANCELLABLE_STATES: readonly MigrationState[] = ACTIVE_STATES;

export const isActiveState = (state: MigrationState) => (ACTIVE_STATES as readonly MigrationState[]).includes(state);
export const isEndedState = (state: MigrationState) => (ENDED_STATES as readonly MigrationState[]).includes(state);

/** What was not copied, counted for the customer. */
export interface LossCounts {
  messages: number;
  /** Folders the target refused to create. */
  foldersNotCreated: number;
  /** Folders that could not be copied for another reason (unreadable, failing every attempt). */
  foldersNotCopied: number;
}

// The engine's reason for a folder the target refused (server/engine/copy-mailbox.ts).
const NOT_CREATED = /refused to create the folder/i;

/** Counts folder-level issues (no UID) once per folder, whatever number of passes reported them. */
export function folderLosses(issues: readonly { folder: string; uid: number | null; reason: string }[]): Pick<LossCounts, 'foldersNotCreated' | 'foldersNotCopied'> {
  const notCreated = new Set<string>();
  const notCopied = new Set<string>();
  for (const issue of issues) {
    if (issue.uid !== null) continue;
    (NOT_CREATED.test(issue.reason) ? notCreated : notCopied).add(issue.folder);
  }
  for (const folder of notCreated) notCopied.delete(folder);
  return { foldersNotCreated: notCreated.size, foldersNotCopied: notCopied.size };
}

export const isFolderNotCreated = (reason: string) => NOT_CREATED.test(reason);

const count = (n: number, one: string, many: string) => `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;

/** "3 messages not copied, 2 folders could not be created", or null when nothing is missing. */
export function describeLoss(loss: LossCounts): string | null {
  const parts: string[] = [];
  if (loss.messages > 0) parts.push(`${count(loss.messages, 'message', 'messages')} not copied`);
  if (loss.foldersNotCreated > 0) parts.push(`${count(loss.foldersNotCreated, 'folder', 'folders')} could not be created`);
  if (loss.foldersNotCopied > 0) parts.push(`${count(loss.foldersNotCopied, 'folder', 'folders')} could not be copied`);
  if (parts.length === 0) return null;
  return parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

/**
 * What the verification at the end of a pass found beyond what the copy reported: messages
 * of the source the target does not hold although no item says why (deleted there since, or
 * lost), and folders that could not be verified.
 */
export interface VerificationGap {
  missing: number;
  unverifiedFolders: number;
}

export interface GapRow {
  missingMessages: number;
  missingReported: number;
  unverifiedReason: string | null;
}

/**
 * What the verification found beyond the copy's own report (see VerificationGap), or null
 * when it found nothing more. Messages the copy reported are already among its losses.
 */
export function gapOf(rows: readonly GapRow[]): VerificationGap | null {
  let missing = 0;
  let unverifiedFolders = 0;
  for (const row of rows) {
    missing += Math.max(0, row.missingMessages - row.missingReported);
    if (row.unverifiedReason !== null) unverifiedFolders++;
  }
  return missing > 0 || unverifiedFolders > 0 ? { missing, unverifiedFolders } : null;
}

/** The rows of a migration's verification worth a line: a gap or a folder not verified. */
export const gapRowsWhere = { OR: [{ missingMessages: { gt: 0 } }, { unverifiedReason: { not: null } }] };

/** "2 messages missing on the target, 1 folder could not be verified", or null. */
export function describeGap(gap: VerificationGap | null | undefined): string | null {
  if (!gap) return null;
  const parts: string[] = [];
  if (gap.missing > 0) parts.push(`${count(gap.missing, 'message', 'messages')} missing on the target`);
  if (gap.unverifiedFolders > 0) parts.push(`${count(gap.unverifiedFolders, 'folder', 'folders')} could not be verified`);
  return parts.length === 0 ? null : parts.join(' and ');
}

/**
 * The state line of a migration in words, where the state alone does not say enough:
 * "Finished with 3 messages not copied", "Finished, but 2 folders could not be created",
 * "Finished, but verification found 2 messages missing on the target".
 */
export function statusLine(state: MigrationState, loss: LossCounts, gap?: VerificationGap | null): string | null {
  const missing = describeLoss(loss);
  const found = gapLine(gap);
  if (state === 'incomplete' || (found && isEndedState(state) && state !== 'failed' && state !== 'cancelled')) {
    if (!missing && found) return `Finished, but ${found}`;
    if (!missing) return 'Finished, but not everything was copied';
    const line = loss.messages > 0 ? `Finished with ${missing}` : `Finished, but ${missing}`;
    return found ? `${line}; ${found}` : line;
  }
  const all = [missing, found].filter((p): p is string => p !== null).join('; ');
  if (!all) return null;
  // A migration still going (or stopped) already has losses the customer should see.
  if (isActiveState(state)) return `So far ${all}`;
  return `${all.charAt(0).toUpperCase()}${all.slice(1)}`;
}

/** "verification found 2 messages missing on the target; 1 folder could not be verified", or null. */
function gapLine(gap: VerificationGap | null | undefined): string | null {
  if (!gap) return null;
  const parts: string[] = [];
  if (gap.missing > 0) parts.push(`verification found ${count(gap.missing, 'message', 'messages')} missing on the target`);
  if (gap.unverifiedFolders > 0) parts.push(`${count(gap.unverifiedFolders, 'folder', 'folders')} could not be verified`);
  return parts.length === 0 ? null : parts.join('; ');
}

/** "12 messages copied earlier are no longer in the target", or null. */
export function describeGone(gone: number): string | null {
  if (gone <= 0) return null;
  return gone === 1 ? '1 message copied earlier is no longer in the target' : `${gone.toLocaleString('en-GB')} messages copied earlier are no longer in the target`;
}
