import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectGroupwareCommand, median, runGroupwareBench } from './groupware';
import { formatGroupwareTable } from './report';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const stops: (() => Promise<unknown>)[] = [];
let workDir: string | undefined;

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  if (workDir) await fs.rm(workDir, { recursive: true, force: true });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });
});

describe('the bench groupware line', () => {
  it('copies a small corpus Radicale → Radicale with ferry groupware copy: PERFECT, then a rerun copies nothing', { timeout: 240_000 }, async () => {
    expect(await detectGroupwareCommand(REPO_ROOT)).toBeNull();
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mailferry-bench-gw-'));
    const said: string[] = [];
    const result = await runGroupwareBench({
      repoRoot: REPO_ROOT,
      seed: 'bench-test',
      scale: 0.03,
      runs: 2,
      workDir,
      onStorage: (start) => start(),
      onStarted: (stop) => stops.push(stop),
      say: (line) => said.push(line),
      verbose: false,
    });
    const items = result.corpus.items;
    expect(items).toBeGreaterThan(30);
    expect(result.corpus.collections).toBeGreaterThanOrEqual(7);
    expect(result.runs).toHaveLength(2);
    for (const run of result.runs) {
      expect(run.first, said.join('\n')).toMatchObject({ ok: true, verdict: 'PERFECT', items, copied: items, updated: 0, failed: 0, equal: items, collections: result.corpus.collections });
      expect(run.rerun).toMatchObject({ ok: true, verdict: 'PERFECT', copied: 0, updated: 0, skipped: items });
      expect(run.first.peakRssKb).toBeGreaterThan(10_000);
      // The target server did the writing.
      expect(run.first.targetServerCpuSeconds).toBeGreaterThan(0);
    }
    expect(result.summary).toMatchObject({ ok: true, verdict: 'PERFECT', runs: 2, rerun: expect.objectContaining({ copied: 0 }) as unknown });
    expect(result.summary.itemsPerSecond).toBeCloseTo(items / result.summary.first.seconds, 6);
    expect(result.summary.first.seconds).toBe((result.runs[0]!.first.seconds + result.runs[1]!.first.seconds) / 2);
    const table = formatGroupwareTable(result);
    expect(table).toMatch(/^Radicale → Radicale, first pass .* PERFECT$/m);
    expect(table).toMatch(/^rerun, nothing new .* 0 +0 +0 +PERFECT$/m);
    // No password in what the bench prints.
    expect(said.join('\n')).not.toMatch(/pass(word)?=/i);
  });
});
