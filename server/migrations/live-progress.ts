import { z } from 'zod';
import type { FolderWork, ProgressSnapshot } from '../engine/progress';

/** Per folder, what the migration's earlier jobs and passes have already counted (its checkpoint when this job began). */
export interface FolderBase {
  copied: number;
  skipped: number;
  failed: number;
  bytes: number;
}

/** One folder of the running pass, with what earlier jobs counted: the numbers the page shows. */
export interface LiveFolder {
  path: string;
  targetPath: string | null;
  state: FolderWork;
  total: number;
  done: number;
  copied: number;
  skipped: number;
  failed: number;
  bytesTotal: number;
  bytesDone: number;
}

/** What `migrations.live_folders` holds while a pass runs; null otherwise. */
export interface LiveProgress {
  messagesPerMinute: number | null;
  /** All folders of the pass and those not through yet, even when `folders` is cut short. */
  foldersTotal: number;
  foldersLeft: number;
  folders: LiveFolder[];
}

/** A few hundred folders make a row of some tens of kilobytes, written once a second: enough for any real mailbox's page. */
export const LIVE_FOLDERS_KEPT = 300;

const order: Record<FolderWork, number> = { working: 0, waiting: 1, done: 2 };

/**
 * The running job's folders as stored with the row. Totals add what earlier jobs of the pass
 * (and earlier passes) counted, the same way the row's totals add `base`, so a pass cut into
 * several jobs shows one honest count per folder. Beyond LIVE_FOLDERS_KEPT, the folders being
 * copied and those waiting are kept before those done.
 */
export function liveProgressOf(snapshot: ProgressSnapshot, bases: ReadonlyMap<string, FolderBase>): LiveProgress {
  const folders = snapshot.folders.map((f): LiveFolder => {
    const base = bases.get(f.path) ?? { copied: 0, skipped: 0, failed: 0, bytes: 0 };
    const earlier = base.copied + base.skipped + base.failed;
    return {
      path: f.path,
      targetPath: f.targetPath ?? null,
      state: f.state,
      total: earlier + f.totalMessages,
      done: earlier + f.doneMessages,
      copied: base.copied + f.copiedMessages,
      skipped: base.skipped + f.skippedMessages,
      failed: base.failed + f.failedMessages,
      bytesTotal: base.bytes + f.totalBytes,
      bytesDone: base.bytes + f.doneBytes,
    };
  });
  const kept = folders.length <= LIVE_FOLDERS_KEPT ? folders : [...folders].sort((a, b) => order[a.state] - order[b.state]).slice(0, LIVE_FOLDERS_KEPT);
  return {
    messagesPerMinute: snapshot.messagesPerMinute === null ? null : Math.round(snapshot.messagesPerMinute * 10) / 10,
    foldersTotal: folders.length,
    foldersLeft: folders.filter((f) => f.state !== 'done').length,
    folders: kept,
  };
}

const liveFolderSchema = z.object({
  path: z.string(),
  targetPath: z.string().nullable(),
  state: z.enum(['waiting', 'working', 'done']),
  total: z.number(),
  done: z.number(),
  copied: z.number(),
  skipped: z.number(),
  failed: z.number(),
  bytesTotal: z.number(),
  bytesDone: z.number(),
});
const liveProgressSchema = z.object({
  messagesPerMinute: z.number().nullable(),
  foldersTotal: z.number(),
  foldersLeft: z.number(),
  folders: z.array(liveFolderSchema),
});

/** The stored JSON read back; anything of another shape (an older version) counts as none. */
export function readLiveProgress(value: unknown): LiveProgress | null {
  if (value === null || value === undefined) return null;
  const parsed = liveProgressSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
