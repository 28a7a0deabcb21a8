import { JsonStateFile } from './json-state-file';

/**
 * Where a folder's copy stands. Everything on the source up to `lastUid` (under
 * `sourceUidValidity`) is done; target messages from `targetUidFloor` on (under
 * `targetUidValidity`) may have been appended after the last save, so a resumed run matches
 * them by identity before copying anything again.
 */
export interface FolderCheckpoint {
  sourcePath: string;
  targetPath: string;
  sourceUidValidity: string | null;
  lastUid: number;
  targetUidValidity: string | null;
  targetUidFloor: number;
  /** Source HIGHESTMODSEQ when flags were last carried over (CONDSTORE), for the resync. */
  highestModseq: string | null;
  messagesCopied: number;
  bytesCopied: number;
  messagesSkipped: number;
  messagesFailed: number;
  /**
   * Why the target folder's name differs from the source's beyond delimiter and prefix (the
   * server refused the name, a collision, a special-use mapping): shown in every report. The
   * targetPath itself is the stored mapping, so every later pass lands in the same folder.
   */
  targetNote: string | null;
  /** EXISTS and UIDNEXT of the target folder when the last pass ended: what it held then. */
  targetMessages: number | null;
  targetUidNext: number | null;
  /** Messages the target held after an earlier pass that are gone from it now (deleted there by someone). */
  messagesGone: number;
}

/** Something a person should know about a pass that is not a loss ("Sent on the target was re-created: …"). */
export interface CopyNotice {
  /** The source folder it is about, or null for the whole mailbox. */
  folder: string | null;
  /** Plain words. */
  text: string;
}

export interface CopyIssue {
  folder: string;
  uid: number | null;
  size: number | null;
  /** The message's INTERNALDATE on the source, where the engine read it; else absent. */
  date?: Date | null;
  /** Plain words; never message content. */
  reason: string;
}

/** Checkpoints and issues of one migration: in the database for the portal, in a file for the CLI. */
export interface StateStore {
  loadCheckpoints(): Promise<Map<string, FolderCheckpoint>>;
  saveCheckpoint(checkpoint: FolderCheckpoint): Promise<void>;
  recordIssues(issues: CopyIssue[]): Promise<void>;
  recordNotices(notices: CopyNotice[]): Promise<void>;
}

export function emptyCheckpoint(sourcePath: string, targetPath: string): FolderCheckpoint {
  return {
    sourcePath,
    targetPath,
    sourceUidValidity: null,
    lastUid: 0,
    targetUidValidity: null,
    targetUidFloor: 1,
    highestModseq: null,
    messagesCopied: 0,
    bytesCopied: 0,
    messagesSkipped: 0,
    messagesFailed: 0,
    targetNote: null,
    targetMessages: null,
    targetUidNext: null,
    messagesGone: 0,
  };
}

interface StateFile {
  version: 1;
  folders: FolderCheckpoint[];
  issues: CopyIssue[];
  notices?: CopyNotice[];
}

/**
 * The command line's state: a JSON file replaced atomically (write, rename), so a run killed
 * at any moment leaves either the old or the new state, never half of one. No fsync: a
 * checkpoint lost to a power cut only means an older one is used, and the copy then matches
 * everything appended since by identity, so nothing is copied twice either way.
 *
 * For the same reason the file need not follow every save at once: it is written at most
 * every `intervalMs` (a busy copy saves dozens of checkpoints a second), always with the
 * whole state as it is then, and `close()` writes what is left. A failed write is reported
 * by the next save or by `close()`.
 */
export class FileStateStore implements StateStore {
  private readonly json: JsonStateFile<StateFile>;

  constructor(
    readonly file: string,
    intervalMs = 200,
  ) {
    this.json = new JsonStateFile<StateFile>(file, {
      empty: () => ({ version: 1, folders: [], issues: [] }),
      check: (state) => {
        if (state.version !== 1) throw new Error(`${file} is not a Mailferry state file of a known version`);
      },
      intervalMs,
    });
  }

  private read(): Promise<StateFile> {
    return this.json.read();
  }

  private changed() {
    this.json.changed();
  }

  async loadCheckpoints(): Promise<Map<string, FolderCheckpoint>> {
    const state = await this.read();
    // Files written before a field existed get its empty value.
    return new Map(state.folders.map((f) => [f.sourcePath, { ...emptyCheckpoint(f.sourcePath, f.targetPath), ...f }]));
  }

  async saveCheckpoint(checkpoint: FolderCheckpoint): Promise<void> {
    const state = await this.read();
    const index = state.folders.findIndex((f) => f.sourcePath === checkpoint.sourcePath);
    if (index >= 0) state.folders[index] = { ...checkpoint };
    else state.folders.push({ ...checkpoint });
    this.changed();
  }

  async recordIssues(issues: CopyIssue[]): Promise<void> {
    if (issues.length === 0) return;
    const state = await this.read();
    state.issues.push(...issues);
    this.changed();
  }

  async recordNotices(notices: CopyNotice[]): Promise<void> {
    if (notices.length === 0) return;
    const state = await this.read();
    // A later pass finds the same things again (which folder is Sent, what was renamed): kept once.
    const known = new Set((state.notices ?? []).map((n) => n.text));
    const fresh = notices.filter((n) => !known.has(n.text));
    if (fresh.length === 0) return;
    (state.notices ??= []).push(...fresh);
    this.changed();
  }

  async issues(): Promise<CopyIssue[]> {
    return (await this.read()).issues;
  }

  async notices(): Promise<CopyNotice[]> {
    return (await this.read()).notices ?? [];
  }

  /** Writes what is not written yet and waits for it; the store can go on being used. */
  close(): Promise<void> {
    return this.json.close();
  }
}

/** For tests and one-off runs. */
export class MemoryStateStore implements StateStore {
  readonly checkpoints = new Map<string, FolderCheckpoint>();
  readonly issues: CopyIssue[] = [];
  readonly notices: CopyNotice[] = [];
  async loadCheckpoints() {
    return new Map([...this.checkpoints].map(([k, v]) => [k, { ...v }]));
  }
  async saveCheckpoint(checkpoint: FolderCheckpoint) {
    this.checkpoints.set(checkpoint.sourcePath, { ...checkpoint });
  }
  async recordIssues(issues: CopyIssue[]) {
    this.issues.push(...issues);
  }
  async recordNotices(notices: CopyNotice[]) {
    this.notices.push(...notices.filter((n) => !this.notices.some((known) => known.text === n.text)));
  }
}
