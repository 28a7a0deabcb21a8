import { afterAll, describe, expect, it } from 'vitest';
import { generateGroupwareCorpus } from '../groupware-corpus/corpus';
import { formatMicrosoftTable, runMicrosoftBench } from './groupware-microsoft';

const stops: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

describe('the bench Exchange → Microsoft 365 groupware line', () => {
  it('puts a small corpus into Exchange, copies it to empty Microsoft 365 mailboxes: PERFECT, requests per item counted, a rerun copies nothing', { timeout: 120_000 }, async () => {
    const corpus = generateGroupwareCorpus({ seed: 'bench-microsoft', scale: 0.03 });
    const items = corpus.reduce((n, c) => n + c.items.length, 0);
    const said: string[] = [];
    const result = await runMicrosoftBench({ corpus, runs: 2, onStarted: (stop) => stops.push(stop), say: (line) => said.push(line), verbose: false });
    const log = said.join('\n');
    expect(result.seeded.items + result.seeded.refused, log).toBe(items);
    expect(result.seeded.items).toBeGreaterThan(30);
    expect(result.runs).toHaveLength(2);
    for (const run of result.runs) {
      expect(run.first, log).toMatchObject({ ok: true, verdict: 'PERFECT', items: result.seeded.items, updated: 0 });
      expect(run.first.copied + run.first.failed).toBe(result.seeded.items);
      // What Microsoft 365 refuses (contact groups) is tried again and refused again: nothing else.
      expect(run.rerun, log).toMatchObject({ ok: true, verdict: 'PERFECT', copied: 0, updated: 0, failed: run.first.failed, skipped: run.first.copied });
      // Requests are what the endpoints sent: both sides did work, and a rerun asks for far less.
      expect(run.first.ewsRequests).toBeGreaterThan(0);
      expect(run.first.graphRequests).toBeGreaterThan(0);
      expect(run.first.requestsPerItem).toBeCloseTo((run.first.ewsRequests + run.first.graphRequests) / run.first.items, 9);
      expect(run.rerun.requestsPerItem).toBeLessThan(run.first.requestsPerItem);
      // The mailbox counts batched requests one by one: never fewer than were sent.
      expect(run.first.graphMailboxRequests).toBeGreaterThanOrEqual(run.first.graphRequests);
    }
    expect(result.summary).toMatchObject({ ok: true, verdict: 'PERFECT', runs: 2, rerun: expect.objectContaining({ copied: 0 }) as unknown });
    expect(result.summary.first.requestsPerItem).toBe((result.runs[0]!.first.requestsPerItem + result.runs[1]!.first.requestsPerItem) / 2);
    const table = formatMicrosoftTable(result);
    expect(table).toMatch(/^Exchange → Microsoft 365, first pass .* PERFECT$/m);
    expect(table).toMatch(new RegExp(`^rerun, nothing new .* 0 +0 +${result.runs[0]!.first.failed} +PERFECT$`, 'm'));
    expect(log).not.toMatch(/pass(word)?=|bench[~-][a-z0-9]{6,}|Bearer/i);
  });
});
