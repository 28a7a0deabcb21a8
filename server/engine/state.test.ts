import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { emptyCheckpoint, FileStateStore } from './state';

const folders: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function stateFile(): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'mailferry-state-'));
  folders.push(folder);
  return path.join(folder, 'nested', 'copy.json');
}

const lastUids = (file: string) =>
  Object.fromEntries((JSON.parse(readFileSync(file, 'utf8')) as { folders: { sourcePath: string; lastUid: number }[] }).folders.map((f) => [f.sourcePath, f.lastUid]));

describe('FileStateStore', () => {
  it('writes the whole state at most once per interval, and close() writes the rest', async () => {
    const file = stateFile();
    const store = new FileStateStore(file, 10_000);
    const renames = vi.spyOn(fs, 'rename');
    for (let i = 0; i < 40; i++) await store.saveCheckpoint({ ...emptyCheckpoint(`Folder ${i % 8}`, `Folder ${i % 8}`), lastUid: i });
    await store.recordIssues([{ folder: 'Folder 1', uid: 3, size: 10, reason: 'refused' }]);
    // The first save was written at once; the 40 that followed wait for the interval.
    await vi.waitFor(() => expect(renames).toHaveBeenCalledTimes(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(renames).toHaveBeenCalledTimes(1);
    expect(lastUids(file)).toEqual({ 'Folder 0': 0 });
    await store.close();
    expect(renames).toHaveBeenCalledTimes(2);
    expect(lastUids(file)).toEqual(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`Folder ${i}`, 32 + i])));
    expect(await new FileStateStore(file).issues()).toEqual([{ folder: 'Folder 1', uid: 3, size: 10, reason: 'refused' }]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('writes again once the interval has passed', async () => {
    const file = stateFile();
    const store = new FileStateStore(file, 20);
    await store.saveCheckpoint({ ...emptyCheckpoint('INBOX', 'INBOX'), lastUid: 1 });
    await store.saveCheckpoint({ ...emptyCheckpoint('INBOX', 'INBOX'), lastUid: 2 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(lastUids(file)).toEqual({ INBOX: 2 });
  });

  it('reports a failed write, and goes on writing', async () => {
    const file = stateFile();
    const store = new FileStateStore(file);
    vi.spyOn(fs, 'rename').mockRejectedValueOnce(new Error('disk full'));
    await store.saveCheckpoint({ ...emptyCheckpoint('INBOX', 'INBOX'), lastUid: 1 });
    await expect(store.close()).rejects.toThrow('disk full');
    await store.saveCheckpoint({ ...emptyCheckpoint('INBOX', 'INBOX'), lastUid: 2 });
    await store.close();
    expect((await new FileStateStore(file).loadCheckpoints()).get('INBOX')!.lastUid).toBe(2);
  });
});
