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

describe('FileStateStore', () => {
  it('has every save in the file once it returns, with saves that come together sharing writes', async () => {
    const file = stateFile();
    const store = new FileStateStore(file);
    const renames = vi.spyOn(fs, 'rename');
    const saves = Array.from({ length: 40 }, (_, i) => ({ ...emptyCheckpoint(`Folder ${i % 8}`, `Folder ${i % 8}`), lastUid: i }));
    await Promise.all(
      saves.map(async (checkpoint) => {
        await store.saveCheckpoint(checkpoint);
        // Once its save returned, the file holds this checkpoint or a later one of its folder.
        const written = JSON.parse(readFileSync(file, 'utf8')) as { folders: { sourcePath: string; lastUid: number }[] };
        expect(written.folders.find((f) => f.sourcePath === checkpoint.sourcePath)!.lastUid).toBeGreaterThanOrEqual(checkpoint.lastUid);
      }),
    );
    expect(renames.mock.calls.length).toBeLessThan(10);
    const reread = await new FileStateStore(file).loadCheckpoints();
    expect([...reread.values()].map((c) => [c.sourcePath, c.lastUid]).sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => [`Folder ${i}`, 32 + i]).sort(),
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('goes on writing after a failed write', async () => {
    const file = stateFile();
    const store = new FileStateStore(file);
    vi.spyOn(fs, 'rename').mockRejectedValueOnce(new Error('disk full'));
    await expect(store.saveCheckpoint({ ...emptyCheckpoint('INBOX', 'INBOX'), lastUid: 1 })).rejects.toThrow('disk full');
    await store.saveCheckpoint({ ...emptyCheckpoint('INBOX', 'INBOX'), lastUid: 2 });
    expect((await new FileStateStore(file).loadCheckpoints()).get('INBOX')!.lastUid).toBe(2);
  });
});
