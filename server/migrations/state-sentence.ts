import type { FolderWork } from '../engine/progress';
import type { MigrationEventKind, MigrationState } from '../generated/prisma/enums';
import type { LiveProgress } from './live-progress';

const plural = (n: number, one: string, many: string) => `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;

export interface SentenceFacts {
  state: MigrationState;
  /** Folders of the running pass not through yet; null when no pass runs or it has not counted them yet. */
  foldersLeft: number | null;
  /** Local times as shown everywhere ("12 Jan 2027, 10:00"), and the zone they are in. */
  startLocal: string;
  resyncLocal: string | null;
  finishedLocal: string | null;
  zone: string;
  /** The mail of the pass is through and its calendars, contacts and tasks are being copied. */
  isCopyingGroupware?: boolean;
}

/**
 * Where the migration stands, in one sentence: "Copying — 2 folders left", "Waiting for the
 * resync on 12 Jan 2027, 10:00 (Europe/Berlin)", "Finished on 12 Jan 2027, 11:42 (Europe/Berlin)".
 */
export function stateSentence(f: SentenceFacts): string {
  const when = (local: string | null) => (local ? ` on ${local} (${f.zone})` : '');
  switch (f.state) {
    case 'scheduled':
      return `Scheduled for ${f.startLocal} (${f.zone})`;
    case 'running':
    case 'resyncing': {
      const doing = f.state === 'running' ? 'Copying' : 'Resyncing';
      if (f.foldersLeft === null) return `${doing} — reading the folders`;
      // Every folder is through: the pass ends with the check of what arrived.
      if (f.foldersLeft === 0) return f.isCopyingGroupware ? `${doing} — calendars, contacts and tasks` : `${doing} — verifying what arrived`;
      return `${doing} — ${plural(f.foldersLeft, 'folder', 'folders')} left`;
    }
    case 'waiting_resync':
      return f.resyncLocal ? `Waiting for the resync on ${f.resyncLocal} (${f.zone})` : 'Waiting for the resync';
    case 'finished':
    case 'incomplete':
      return `Finished${when(f.finishedLocal)}`;
    case 'failed':
      return `Failed${when(f.finishedLocal)}`;
    case 'cancelled':
      return `Cancelled${when(f.finishedLocal)}`;
  }
}

export interface TimelineItem {
  kind: MigrationEventKind;
  at: string;
  /** The instant in the server's zone: "12 Jan 2027, 10:00". */
  local: string;
  label: string;
  /** Still to come (the planned start or resync), not something that happened. */
  isPlanned: boolean;
}

const LABELS: Record<MigrationEventKind, string> = {
  scheduled: 'Scheduled',
  started: 'Copy started',
  first_pass_done: 'First pass done',
  resync_started: 'Resync started',
  finished: 'Finished',
  incomplete: 'Finished, not everything copied',
  failed: 'Failed',
  cancelled: 'Cancelled',
  credentials_deleted: 'Passwords deleted',
  verification_gap: 'Verification found a gap',
};

export interface TimelineFacts {
  state: MigrationState;
  createdAt: Date;
  startAt: Date;
  resyncAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

const END_OF: Partial<Record<MigrationState, MigrationEventKind>> = { finished: 'finished', incomplete: 'incomplete', failed: 'failed', cancelled: 'cancelled' };

/**
 * What happened when, oldest first, and what is planned next. Migrations from before the
 * timeline was recorded have no events: their creation, start and end stand in for them.
 * Credentials are wiped with every end, so an end without its own entry implies it.
 */
export function buildTimeline(events: readonly { kind: MigrationEventKind; at: Date }[], facts: TimelineFacts, format: (at: Date) => string): TimelineItem[] {
  const entries = events.map((e) => ({ kind: e.kind, at: e.at, isPlanned: false }));
  const has = (kind: MigrationEventKind) => entries.some((e) => e.kind === kind);
  if (!has('scheduled')) entries.unshift({ kind: 'scheduled', at: facts.createdAt, isPlanned: false });
  if (!has('started') && facts.startedAt) entries.push({ kind: 'started', at: facts.startedAt, isPlanned: false });
  const end = END_OF[facts.state];
  if (end && facts.finishedAt && !has(end)) {
    entries.push({ kind: end, at: facts.finishedAt, isPlanned: false });
    if (!has('credentials_deleted')) entries.push({ kind: 'credentials_deleted', at: facts.finishedAt, isPlanned: false });
  }
  entries.sort((a, b) => a.at.getTime() - b.at.getTime());
  if (facts.state === 'scheduled') entries.push({ kind: 'started', at: facts.startAt, isPlanned: true });
  if (facts.resyncAt && (facts.state === 'scheduled' || facts.state === 'running' || facts.state === 'waiting_resync')) {
    entries.push({ kind: 'resync_started', at: facts.resyncAt, isPlanned: true });
  }
  return entries.map((e) => ({
    kind: e.kind,
    at: e.at.toISOString(),
    local: format(e.at),
    label: e.isPlanned ? (e.kind === 'started' ? 'Start planned' : 'Resync planned') : LABELS[e.kind],
    isPlanned: e.isPlanned,
  }));
}

/** One folder from its checkpoint (the record of every job so far). */
export interface CheckpointFolder {
  sourcePath: string;
  targetPath: string;
  copied: number;
  skipped: number;
  failed: number;
  bytesCopied: number;
}

/** One row of the folder table: source → target, copied of total, size, skipped, failed, state. */
export interface FolderRow {
  sourcePath: string;
  targetPath: string;
  total: number;
  copied: number;
  skipped: number;
  failed: number;
  /** Handled so far (copied, skipped or failed); equals total once the folder is through. */
  done: number;
  bytesCopied: number;
  /** Of the running pass, what the folder holds to copy in all; null when no pass runs. */
  bytesTotal: number | null;
  state: FolderWork;
}

/**
 * The folder table: the checkpoints, with the running pass's live counts over them where it
 * has one for the folder (they include what earlier jobs counted, see live-progress.ts). With
 * no pass running every folder is through, except before the first one began.
 */
export function mergeFolders(checkpoints: readonly CheckpointFolder[], live: LiveProgress | null, state: MigrationState): FolderRow[] {
  const idle: FolderWork = state === 'scheduled' ? 'waiting' : 'done';
  const rows = new Map<string, FolderRow>();
  for (const c of checkpoints) {
    const total = c.copied + c.skipped + c.failed;
    rows.set(c.sourcePath, { ...c, total, done: total, bytesTotal: null, state: idle });
  }
  for (const f of live?.folders ?? []) {
    const known = rows.get(f.path);
    rows.set(f.path, {
      sourcePath: f.path,
      targetPath: f.targetPath ?? known?.targetPath ?? '',
      // A checkpoint saved after this second's snapshot may be ahead of it: the higher count stands.
      total: Math.max(f.total, known?.total ?? 0),
      copied: Math.max(f.copied, known?.copied ?? 0),
      skipped: Math.max(f.skipped, known?.skipped ?? 0),
      failed: Math.max(f.failed, known?.failed ?? 0),
      done: Math.max(f.done, known?.done ?? 0),
      bytesCopied: Math.max(f.bytesDone, known?.bytesCopied ?? 0),
      bytesTotal: f.bytesTotal,
      state: f.state,
    });
  }
  return [...rows.values()];
}

/** Account types with calendars, address books and task lists beside the mail. */
const GROUPWARE_TYPES: readonly string[] = ['zimbra', 'kolab', 'openxchange', 'exchange', 'office365'];

export interface GroupwareCounts {
  /** Calendars (address books, task lists) of the source. */
  collections: number;
  /** Their items (events, contacts, tasks) on the source. */
  items: number;
  /** Of those, on the target as the source has them. */
  copied: number;
}

/** A list row also counts the collections the copy is through with: every item on the target but those it refused. */
interface KindCounts extends GroupwareCounts {
  collectionsCopied: number;
}

export interface GroupwareView {
  /** One line for the customer: why there is nothing, or what is and is not copied. */
  line: string;
  /** Counts once the groupware copy exists; null until then and for e-mail-only pairs. */
  counts: null | { calendars: GroupwareCounts; contacts: GroupwareCounts; tasks: GroupwareCounts };
  /** The migration copies calendars, contacts and tasks (groupware on both sides). */
  isCopied: boolean;
}

/** One collection of the groupware copy as its row counts it. */
export interface GroupwareCollectionCount {
  kind: string;
  items: number;
  present: number;
  /** Refused by the target in the last pass; counted once the pass is through with the collection. */
  failed?: number;
}

function countsOf(collections: GroupwareCollectionCount[]): Record<'calendars' | 'contacts' | 'tasks', KindCounts> {
  const of = (kind: string): KindCounts => {
    const rows = collections.filter((c) => c.kind === kind);
    return {
      collections: rows.length,
      // A collection still being copied has fewer items on the target than the source holds, and none counted as refused yet.
      collectionsCopied: rows.filter((c) => c.present + (c.failed ?? 0) >= c.items).length,
      items: rows.reduce((n, c) => n + c.items, 0),
      copied: rows.reduce((n, c) => n + c.present, 0),
    };
  };
  return { calendars: of('calendar'), contacts: of('contacts'), tasks: of('tasks') };
}

/** The page's counts per kind: collections, items, on the target. */
function pageCounts(counts: ReturnType<typeof countsOf>): NonNullable<GroupwareView['counts']> {
  const of = ({ collections, items, copied }: KindCounts): GroupwareCounts => ({ collections, items, copied });
  return { calendars: of(counts.calendars), contacts: of(counts.contacts), tasks: of(counts.tasks) };
}

/**
 * The groupware section: what the pair of accounts can hold beside mail, in plain words, and
 * once the copy has begun, per kind how many collections and items it has and how many are on the target.
 */
export function groupwareOf(sourceType: string, targetType: string, collections: GroupwareCollectionCount[] = []): GroupwareView {
  const source = GROUPWARE_TYPES.includes(sourceType);
  const target = GROUPWARE_TYPES.includes(targetType);
  if (!source && !target) return { line: 'Both accounts are e-mail only (IMAP): there are no calendars, contacts or tasks to move.', counts: null, isCopied: false };
  if (!source) return { line: 'The source account is e-mail only (IMAP): there are no calendars, contacts or tasks to move.', counts: null, isCopied: false };
  if (!target) return { line: 'The target account is e-mail only (IMAP): it has no place for calendars, contacts or tasks, so only e-mail is moved.', counts: null, isCopied: false };
  const toMicrosoft365 = targetType === 'office365'
    ? ' Microsoft 365 would invite the attendees of a meeting it is given, so meetings go there without attendees: they are kept in the event\'s text, and the page lists them.'
    : '';
  return {
    line: `Calendars, address books and task lists are copied after the e-mail, in the first pass and again at the resync (new and changed items). Items deleted on the source are not deleted on the target, and no attendee is notified.${toMicrosoft365}`,
    counts: collections.length > 0 ? pageCounts(countsOf(collections)) : null,
    isCopied: true,
  };
}

/** A list row's groupware line: per kind the collections and items on the target of the source's, and the items not copied. */
export interface GroupwareRow {
  /** "Calendars 2/2 · events 518/520", one per kind the copy has met; before it begins, one phrase: "Calendars, contacts and tasks: waiting". */
  parts: string[];
  /** The parts are counts (the copy has begun), not the phrase for before it. */
  hasCounts: boolean;
  /** Items the target refused, each once. */
  notCopied: number;
  /** The whole line: the parts and "2 not copied". */
  line: string;
}

const ROW_KINDS = [
  ['calendars', 'Calendars', 'events'],
  ['contacts', 'Address books', 'contacts'],
  ['tasks', 'Task lists', 'tasks'],
] as const;

/** Without a collection yet: the copy is still to come (it follows the e-mail), found none, or never ran. */
function rowWithoutCollections(state: MigrationState): string {
  switch (state) {
    case 'scheduled':
    case 'running':
    case 'resyncing':
      return 'Calendars, contacts and tasks: waiting';
    case 'waiting_resync':
    case 'finished':
    case 'incomplete':
      return 'Calendars, contacts and tasks: none on the source';
    case 'failed':
    case 'cancelled':
      return 'Calendars, contacts and tasks: not copied';
  }
}

/**
 * The groupware line of a list row, counted as the migration's page counts them (groupwareOf):
 * "Calendars 2/2 · events 518/520 · Address books 1/1 · contacts 1,000/1,000 · 2 not copied".
 * Null for pairs whose calendars, contacts and tasks are not copied.
 */
export function groupwareRowOf(sourceType: string, targetType: string, state: MigrationState, collections: GroupwareCollectionCount[], notCopied: number): GroupwareRow | null {
  if (!groupwareOf(sourceType, targetType, collections).isCopied) return null;
  const n = (value: number) => value.toLocaleString('en-GB');
  const counts = collections.length > 0 ? countsOf(collections) : null;
  const parts = counts
    ? ROW_KINDS.filter(([kind]) => counts[kind].collections > 0).map(([kind, label, items]) => {
        const c = counts[kind];
        return `${label} ${n(c.collectionsCopied)}/${n(c.collections)} · ${items} ${n(c.copied)}/${n(c.items)}`;
      })
    : [rowWithoutCollections(state)];
  const lost = Math.max(0, notCopied);
  return { parts, hasCounts: counts !== null, notCopied: lost, line: [...parts, ...(lost > 0 ? [`${n(lost)} not copied`] : [])].join(' · ') };
}

/** "1 calendar, contact or task item was not copied", or null. */
export function describeGroupwareLoss(failed: number): string | null {
  if (failed <= 0) return null;
  return failed === 1 ? '1 calendar, contact or task item was not copied' : `${failed.toLocaleString('en-GB')} calendar, contact or task items were not copied`;
}

/** The status line with the groupware items not copied in it. */
export function withGroupwareLoss(line: string | null, state: string, failed: number): string | null {
  const lost = describeGroupwareLoss(failed);
  if (!lost) return line;
  if (state === 'incomplete' && (line === null || line === 'Finished, but not everything was copied')) return `Finished, but ${lost}`;
  if (line) return `${line}; ${lost}`;
  return state === 'failed' || state === 'cancelled' ? `${lost.charAt(0).toUpperCase()}${lost.slice(1)}` : `So far ${lost}`;
}
