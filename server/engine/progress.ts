/** Where a folder of the running copy stands: not begun, being copied, or through for this run. */
export type FolderWork = 'waiting' | 'working' | 'done';

export interface FolderProgress {
  path: string;
  /** Its folder on the target, when the copy named it. */
  targetPath?: string;
  state: FolderWork;
  totalMessages: number;
  totalBytes: number;
  doneMessages: number;
  doneBytes: number;
  copiedMessages: number;
  skippedMessages: number;
  failedMessages: number;
}

export interface ProgressSnapshot {
  totalMessages: number;
  totalBytes: number;
  copiedMessages: number;
  copiedBytes: number;
  skippedMessages: number;
  failedMessages: number;
  /** Messages handled (copied, skipped or failed) out of totalMessages. */
  doneMessages: number;
  doneBytes: number;
  folders: FolderProgress[];
  /** Bytes per second over the recent window; null until there is a rate. */
  bytesPerSecond: number | null;
  /** Messages handled per minute over the same window; null until there is a rate. */
  messagesPerMinute: number | null;
  etaSeconds: number | null;
  elapsedSeconds: number;
}

/**
 * Counters of one run. Callers are told about changes at most once per `intervalMs`, so a
 * progress row is written about once a second, not per message.
 */
export class ProgressTracker {
  private readonly folders = new Map<string, FolderProgress>();
  private copiedMessages = 0;
  private copiedBytes = 0;
  private skippedMessages = 0;
  private failedMessages = 0;
  private doneBytes = 0;
  private readonly started = Date.now();
  private readonly samples: { at: number; bytes: number; messages: number }[] = [];
  private lastEmit = 0;

  constructor(
    private readonly onUpdate: ((snapshot: ProgressSnapshot) => void) | undefined,
    private readonly intervalMs = 1000,
  ) {}

  setFolderTotal(path: string, messages: number, bytes: number, targetPath?: string): void {
    this.folders.set(path, {
      path,
      ...(targetPath !== undefined ? { targetPath } : {}),
      state: 'waiting',
      totalMessages: messages,
      totalBytes: bytes,
      doneMessages: 0,
      doneBytes: 0,
      copiedMessages: 0,
      skippedMessages: 0,
      failedMessages: 0,
    });
  }

  /** The copy of the folder begins (or begins again after an interruption). */
  folderStarted(path: string): void {
    const folder = this.folders.get(path);
    if (folder && folder.state !== 'done') folder.state = 'working';
  }

  /** The folder is through for this run: copied to its end, or given up with the rest counted as failed. */
  folderEnded(path: string): void {
    const folder = this.folders.get(path);
    if (folder) folder.state = 'done';
  }

  /** Counts everything of the folder not handled yet as failed (its copy ended with an error); returns how many. */
  failRemaining(path: string): number {
    const folder = this.folders.get(path);
    if (!folder) return 0;
    const messages = Math.max(0, folder.totalMessages - folder.doneMessages);
    if (messages > 0) this.failed(path, messages, Math.max(0, folder.totalBytes - folder.doneBytes));
    return messages;
  }

  copied(path: string, messages: number, bytes: number): void {
    this.copiedMessages += messages;
    this.copiedBytes += bytes;
    this.done(path, messages, bytes, 'copiedMessages');
  }

  skipped(path: string, messages: number, bytes: number): void {
    this.skippedMessages += messages;
    this.done(path, messages, bytes, 'skippedMessages');
  }

  failed(path: string, messages: number, bytes: number): void {
    this.failedMessages += messages;
    this.done(path, messages, bytes, 'failedMessages');
  }

  private done(path: string, messages: number, bytes: number, kind: 'copiedMessages' | 'skippedMessages' | 'failedMessages'): void {
    const folder = this.folders.get(path);
    if (folder) {
      folder.doneMessages += messages;
      folder.doneBytes += bytes;
      folder[kind] += messages;
    }
    this.doneBytes += bytes;
    this.maybeEmit();
  }

  private maybeEmit(): void {
    const now = Date.now();
    if (now - this.lastEmit < this.intervalMs) return;
    this.lastEmit = now;
    this.onUpdate?.(this.snapshot());
  }

  /** Forces an update, e.g. at the end of a run. */
  flush(): ProgressSnapshot {
    const snapshot = this.snapshot();
    this.onUpdate?.(snapshot);
    return snapshot;
  }

  snapshot(): ProgressSnapshot {
    const now = Date.now();
    const doneMessages = this.copiedMessages + this.skippedMessages + this.failedMessages;
    this.samples.push({ at: now, bytes: this.doneBytes, messages: doneMessages });
    while (this.samples.length > 2 && now - this.samples[0]!.at > 30_000) this.samples.shift();
    const first = this.samples[0]!;
    const seconds = (now - first.at) / 1000;
    const bytesPerSecond = seconds >= 1 ? (this.doneBytes - first.bytes) / seconds : null;
    const messagesPerMinute = seconds >= 1 ? ((doneMessages - first.messages) / seconds) * 60 : null;
    const folders = [...this.folders.values()].map((f) => ({ ...f }));
    const totalMessages = folders.reduce((n, f) => n + f.totalMessages, 0);
    const totalBytes = folders.reduce((n, f) => n + f.totalBytes, 0);
    const remaining = Math.max(0, totalBytes - this.doneBytes);
    return {
      totalMessages,
      totalBytes,
      copiedMessages: this.copiedMessages,
      copiedBytes: this.copiedBytes,
      skippedMessages: this.skippedMessages,
      failedMessages: this.failedMessages,
      doneMessages,
      doneBytes: this.doneBytes,
      folders,
      bytesPerSecond,
      messagesPerMinute,
      etaSeconds: bytesPerSecond && bytesPerSecond > 0 ? Math.round(remaining / bytesPerSecond) : null,
      elapsedSeconds: (now - this.started) / 1000,
    };
  }
}
