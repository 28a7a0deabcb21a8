import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPH_MAPPING } from '@/server/engine/groupware/graph/mapping-table';
import type { GroupwareSource } from '@/server/engine/groupware/model';
import { FileGroupwareStateStore, MemoryGroupwareStateStore } from '@/server/engine/groupware/state';
import { verdictLines, verifyGroupware } from '@/server/engine/groupware/verify-groupware';
import { generateGroupwareCorpus, type CorpusCollection } from '@/scripts/groupware-corpus/corpus';
import { loadCorpus } from '@/scripts/groupware-corpus/load';
import {
  DAV_PASSWORD,
  EXCHANGE_USER,
  exclusionLines,
  exclusions,
  notMappedByUid,
  OFFICE365_USERS,
  refused,
  runStage,
  seriesShape,
  startChain,
  type SeriesShape,
  textsByUid,
  total,
  type Chain,
  type Stage,
  type WireRequest,
} from './helpers/groupware-chain';

/**
 * A customer's groupware goes zimbra (Radicale) → exchange (EWS test server) → office365
 * (Microsoft Graph test server) → openxchange (Radicale), each stage the product's copy between
 * the product's endpoints, and arrives PERFECT by the part 1 verifier with what cannot map
 * listed and excluded explicitly. The scale keeps every shape of the corpus (recurring meetings
 * with a left-out and a moved occurrence, all-day and floating events, zones, attachments,
 * photos in vCard 3 and 4, groups, subtasks) at under two hundred items.
 */

const SCALE = 0.1;
const [CHAIN_USER, KILL_USER] = OFFICE365_USERS;
/** Exchange's ErrorServerBusy switched on during the first stage. */
const BUSY = { requests: 3, backOffMilliseconds: 400 };
/** Graph's 429 switched on during the second stage. */
const THROTTLE = { requests: 4, retryAfterSeconds: 1 };

let chain: Chain;
let corpus: CorpusCollection[];
let items: number;
let dir: string;
const states = { toExchange: new MemoryGroupwareStateStore(), toOffice365: new MemoryGroupwareStateStore(), toOpenxchange: new MemoryGroupwareStateStore() };
const stages: Stage[] = [];
/** Where in the wire each stage's requests begin and end. */
const spans = new Map<string, [number, number]>();
const backOffs: number[] = [];

async function stage(name: string, run: () => Promise<Stage>): Promise<Stage> {
  const from = chain.wire.length;
  const result = await run();
  spans.set(name, [from, chain.wire.length]);
  return result;
}

/** A request's identity for matching a retry with the attempt it repeats (alone or inside a $batch). */
function keyOf(method: string, url: string, body: string): string {
  let canonical = body;
  try {
    canonical = JSON.stringify(JSON.parse(body));
  } catch {
    // SOAP, or no body: as it is.
  }
  const path = url.replace(/^https:\/\/[^/]+/, '').replace(/^\/v1\.0/, '').replace(/^(?!\/)/, '/');
  return `${method} ${path}\n${canonical}`;
}

/**
 * Each answer that said "wait" (EWS 500 ErrorServerBusy, Graph 429 at the top or inside a
 * $batch), with when the same request went out again: the wait the client kept, in ms.
 */
function keptWaits(requests: WireRequest[], origin: 'ews' | 'graph'): { asked: number; kept: number }[] {
  const out: { asked: number; kept: number }[] = [];
  const sent: { key: string; at: number }[] = [];
  for (const r of requests) {
    if (r.origin !== origin) continue;
    sent.push({ key: keyOf(r.method, r.url, r.body), at: r.startedAt });
    for (const inner of r.batch ?? []) sent.push({ key: keyOf(inner.method, inner.url, inner.body), at: r.startedAt });
  }
  const retryOf = (key: string, after: number) => sent.find((s) => s.key === key && s.at >= after)?.at;
  for (const r of requests) {
    if (r.origin !== origin) continue;
    if (origin === 'ews' && r.status === 500) {
      const again = retryOf(keyOf(r.method, r.url, r.body), r.endedAt);
      out.push({ asked: BUSY.backOffMilliseconds, kept: again === undefined ? -1 : again - r.endedAt });
    }
    if (origin === 'graph') {
      if (r.status === 429) {
        const again = retryOf(keyOf(r.method, r.url, r.body), r.endedAt);
        out.push({ asked: Number(r.retryAfter) * 1000, kept: again === undefined ? -1 : again - r.endedAt });
      }
      for (const inner of r.batch ?? []) {
        if (inner.status !== 429) continue;
        const again = retryOf(keyOf(inner.method, inner.url, inner.body), r.endedAt);
        out.push({ asked: Number(inner.retryAfter) * 1000, kept: again === undefined ? -1 : again - r.endedAt });
      }
    }
  }
  return out;
}

describe('groupware chain: zimbra → exchange → office365 → openxchange', () => {
  beforeAll(async () => {
    chain = await startChain();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mailferry-chain-'));
    corpus = generateGroupwareCorpus({ seed: 'chain', scale: SCALE });
    items = corpus.reduce((n, c) => n + c.items.length, 0);
    await loadCorpus({ serverUrl: chain.zimbraServer.url, username: 'zimbra', password: DAV_PASSWORD }, corpus, { concurrency: 8 });
  }, 60_000);

  afterAll(async () => {
    await chain?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('arrives PERFECT in openxchange, with what cannot map listed and excluded explicitly, nothing silently', async () => {
    // Stage 1, with Exchange busy for a while once the first items are written.
    let creates = 0;
    chain.hooks.beforeRequest = (request) => {
      if (request.origin === 'ews' && request.body.includes('<m:CreateItem') && ++creates === 10) chain.ews.simulate({ busyRequests: BUSY.requests, backOffMilliseconds: BUSY.backOffMilliseconds });
    };
    stages.push(await stage('zimbra → exchange', async () => runStage('zimbra → exchange', 'ews', await chain.zimbra(), chain.exchange({ onBackOff: (ms) => backOffs.push(ms) }), states.toExchange)));
    // Stage 2, with Graph answering 429 for a while once the first items are written.
    let posts = 0;
    chain.hooks.beforeRequest = (request) => {
      if (request.origin === 'graph' && request.method === 'POST' && ++posts === 10) chain.microsoft.throttle({ ...THROTTLE, user: CHAIN_USER });
    };
    stages.push(await stage('exchange → office365', () => runStage('exchange → office365', 'graph', chain.exchange(), chain.office365(CHAIN_USER), states.toOffice365)));
    chain.hooks.beforeRequest = undefined;
    stages.push(await stage('office365 → openxchange', async () => runStage('office365 → openxchange', 'dav', chain.office365(CHAIN_USER), await chain.openxchange(), states.toOpenxchange)));

    for (const s of stages) {
      console.info(`${s.name}: ${total(s.summary, 'items')} items, ${total(s.summary, 'copied')} copied, ${total(s.summary, 'failed')} refused, ${s.summary.changes.length} with something not mapped, ${s.summary.seconds.toFixed(1)} s`);
    }
    expect(total(stages[0]!.summary, 'items')).toBe(items);
    for (const s of stages) {
      expect(s.summary.isComplete, s.name).toBe(true);
      expect(total(s.summary, 'copied') + total(s.summary, 'failed'), s.name).toBe(total(s.summary, 'items'));
    }

    // What was refused: listed with UID and reason, and left out of the verdict by UID.
    const issues = refused(stages);
    for (const issue of issues) console.info(`refused by ${issue.stage}: ${issue.kind} "${issue.collection}" ${issue.uid}: ${issue.reason}`);
    for (const issue of issues) {
      expect(issue.uid, issue.reason).not.toBeNull();
      expect(issue.reason.trim(), issue.uid ?? '').not.toBe('');
    }
    // Only contact groups, by Microsoft 365, as its mapping table says (KIND:group cannot be a Graph contact).
    const groups = new Set(corpus.flatMap((c) => c.items).filter((i) => /^(KIND:group|X-ADDRESSBOOKSERVER-KIND:group)\r?$/im.test(i.data)).map((i) => i.uid));
    expect(groups.size).toBeGreaterThan(0);
    expect(issues.map((i) => [i.stage, i.uid]).sort()).toEqual([...groups].map((uid) => ['exchange → office365', uid]).sort());
    expect(GRAPH_MAPPING.some((row) => row.kind === 'contact' && row.ical === 'KIND' && /group cannot be a Graph contact/.test(row.how))).toBe(true);
    const refusedUids = new Set(issues.map((i) => i.uid!));
    const skip = new Map<string, Set<string>>();
    for (const collection of corpus) {
      const left = collection.items.filter((item) => refusedUids.has(item.uid)).map((item) => item.uid);
      if (left.length > 0) skip.set(collection.displayName, new Set(left));
    }

    // What was excluded: by stage, component, property and reason, each a row of the stage's mapping table.
    const rows = exclusions(stages);
    console.info(`excluded (what the targets have no place for, ${rows.length} kinds):\n${exclusionLines(rows).join('\n')}`);
    expect(rows.filter((r) => r.reason.trim() === '')).toEqual([]);
    expect.soft(rows.filter((r) => !r.documented).map((r) => `${r.stage}: ${r.component} ${r.property ?? '*'} — ${r.reason}`)).toEqual([]);
    // A DAV target keeps everything.
    expect(stages[2]!.summary.changes).toEqual([]);

    // Each stage on its own, with its own notes: where a difference arises, if one does.
    const ends: [string, () => Promise<GroupwareSource>, () => Promise<GroupwareSource>][] = [
      ['zimbra → exchange', () => chain.zimbra(), async () => chain.exchange()],
      ['exchange → office365', async () => chain.exchange(), async () => chain.office365(CHAIN_USER)],
      ['office365 → openxchange', async () => chain.office365(CHAIN_USER), () => chain.openxchange()],
    ];
    for (const [i, [name, from, to]] of ends.entries()) {
      const stageSkip = new Map<string, Set<string>>();
      for (const issue of stages.slice(0, i + 1).flatMap((s) => s.summary.issues)) stageSkip.set(issue.collection, (stageSkip.get(issue.collection) ?? new Set()).add(issue.uid!));
      const stageVerdict = await verifyGroupware(await from(), await to(), { notMapped: notMappedByUid(stages.slice(0, i + 1)), skip: stageSkip });
      console.info(`${name}, by the verifier:\n${verdictLines(stageVerdict).join('\n')}`);
      expect.soft(verdictLines(stageVerdict).join('\n'), name).toMatch(/^PERFECT/);
    }

    const notMapped = notMappedByUid(stages);
    const verdict = await verifyGroupware(await chain.zimbra(), await chain.openxchange(), { notMapped, skip });
    const lines = verdictLines(verdict);
    console.info(`zimbra → openxchange:\n${lines.join('\n')}`);
    expect(lines.join('\n')).toMatch(/^PERFECT/);
    const compared = verdict.collections.reduce((n, c) => n + c.equal, 0);
    expect(compared).toBe(items - refusedUids.size);
    // Every item the verifier passed for a reason has the reason with it, per UID.
    for (const [uid, notes] of notMapped) for (const note of notes) expect(note.reason.trim(), `${uid} ${note.component} ${note.property}`).not.toBe('');
  }, 100_000);

  it('keeps every recurring meeting intact: rule, left-out occurrences, moved instances, attendees', async () => {
    const before = await textsByUid(await chain.zimbra());
    const after = await textsByUid(await chain.openxchange());
    let series = 0;
    let meetings = 0;
    for (const [uid, [a]] of before) {
      const shape = a && /^RRULE/m.test(a.data.replace(/BEGIN:VTIMEZONE[\s\S]*?END:VTIMEZONE\r?\n/g, '')) ? seriesShape(a.data) : null;
      if (!shape || shape.exdates.length === 0 || Object.keys(shape.instances).length === 0) continue;
      series++;
      if (shape.attendees.length > 0) meetings++;
      const there = after.get(uid);
      expect(there, uid).toHaveLength(1);
      expect(seriesShape(there![0]!.data), uid).toEqual(shape);
    }
    console.info(`recurring series with a left-out and a moved occurrence: ${series}, ${meetings} of them meetings`);
    expect(series).toBeGreaterThanOrEqual(5);
    expect(meetings).toBeGreaterThanOrEqual(3);
  });

  it('holds each recurring series in Microsoft 365 as a Graph series: its instances where the source has them, the moved one moved, none with attendees', async () => {
    const shapes = new Map<string, SeriesShape>();
    for (const [uid, [a]] of await textsByUid(await chain.zimbra())) {
      const shape = a && /^RRULE/m.test(a.data.replace(/BEGIN:VTIMEZONE[\s\S]*?END:VTIMEZONE\r?\n/g, '')) ? seriesShape(a.data) : null;
      if (shape && shape.exdates.length > 0 && Object.keys(shape.instances).length > 0) shapes.set(uid, shape);
    }
    const office365 = chain.office365(CHAIN_USER);
    let checked = 0;
    for (const collection of (await office365.collections()).filter((c) => c.kind === 'calendar')) {
      for (const object of await office365.read(collection, await office365.list(collection))) {
        const uid = /^UID:(.*)$/m.exec(object.data)?.[1]?.trim() ?? '';
        const shape = shapes.get(uid);
        if (!shape) continue;
        checked++;
        const master = await chain.graphGet(CHAIN_USER, `${collection.id}/events/${encodeURIComponent(object.id)}?$select=type,recurrence,attendees`);
        expect(master.type, uid).toBe('seriesMaster');
        expect(master.attendees, uid).toEqual([]);
        const window = `startDateTime=${shape.occurrences[0]}&endDateTime=${new Date(Date.parse(shape.occurrences.at(-1)!) + 86_400_000).toISOString()}`;
        const instances = ((await chain.graphGet(CHAIN_USER, `${collection.id}/events/${encodeURIComponent(object.id)}/instances?${window}&$top=100`)).value ?? []) as { type: string; originalStart: string; start: { dateTime: string; timeZone: string } }[];
        const utc = (value: string) => new Date(Date.parse(value.endsWith('Z') ? value : `${value}Z`)).toISOString().replace(/\.000Z$/, 'Z');
        expect(instances.map((i) => utc(i.originalStart)).sort(), uid).toEqual([...shape.occurrences].sort());
        const moved = instances.filter((i) => i.type === 'exception');
        expect(Object.fromEntries(moved.map((i) => [utc(i.originalStart), utc(i.start.dateTime)])), uid).toEqual(Object.fromEntries(Object.entries(shape.instances).map(([at, instance]) => [at, instance.start])));
      }
    }
    expect(shapes.size).toBeGreaterThanOrEqual(5);
    expect(checked).toBe(shapes.size);
  });

  it('copies nothing on a rerun of any stage', async () => {
    const reruns = [
      await runStage('zimbra → exchange', 'ews', await chain.zimbra(), chain.exchange(), states.toExchange),
      await runStage('exchange → office365', 'graph', chain.exchange(), chain.office365(CHAIN_USER), states.toOffice365),
      await runStage('office365 → openxchange', 'dav', chain.office365(CHAIN_USER), await chain.openxchange(), states.toOpenxchange),
    ];
    for (const [i, rerun] of reruns.entries()) {
      const first = stages[i]!.summary;
      expect([total(rerun.summary, 'copied'), total(rerun.summary, 'updated')], rerun.name).toEqual([0, 0]);
      expect(total(rerun.summary, 'skipped'), rerun.name).toBe(total(first, 'copied'));
      // What a target refused is tried again and refused again, for the same reason: nothing else.
      expect(rerun.summary.issues.map((issue) => [issue.uid, issue.reason]), rerun.name).toEqual(first.issues.map((issue) => [issue.uid, issue.reason]));
    }
  }, 60_000);

  it('waits as long as a throttled Exchange and Microsoft 365 say, and still completes', () => {
    // Exchange: the busy answers the server counted, each waited for as long as its BackOffMilliseconds.
    const busy = chain.ews.requests.filter((r) => r.status === 500 && r.user === EXCHANGE_USER.username);
    expect(busy).toHaveLength(BUSY.requests);
    expect(backOffs).toEqual(Array.from({ length: BUSY.requests }, () => BUSY.backOffMilliseconds));
    const [ewsFrom, ewsTo] = spans.get('zimbra → exchange')!;
    const ewsWaits = keptWaits(chain.wire.slice(ewsFrom, ewsTo), 'ews');
    expect(ewsWaits).toHaveLength(BUSY.requests);
    for (const wait of ewsWaits) expect(wait.kept, JSON.stringify(ewsWaits)).toBeGreaterThanOrEqual(wait.asked - 5);

    // Microsoft 365: the 429s the server counted for the mailbox, each waited for as Retry-After says.
    const throttled = chain.microsoft.requestsFor(CHAIN_USER).list.filter((r) => r.status === 429);
    expect(throttled).toHaveLength(THROTTLE.requests);
    const [graphFrom, graphTo] = spans.get('exchange → office365')!;
    const graphWaits = keptWaits(chain.wire.slice(graphFrom, graphTo), 'graph');
    expect(graphWaits).toHaveLength(THROTTLE.requests);
    for (const wait of graphWaits) {
      expect(wait.asked).toBe(THROTTLE.retryAfterSeconds * 1000);
      expect(wait.kept, JSON.stringify(graphWaits)).toBeGreaterThanOrEqual(wait.asked - 5);
    }
    console.info(`waits kept: Exchange ${ewsWaits.map((w) => w.kept).join(', ')} ms; Microsoft 365 ${graphWaits.map((w) => w.kept).join(', ')} ms`);
  });

  it('resumes an exchange → office365 copy killed mid-way (SIGKILL) with no item twice, PERFECT', async () => {
    const stateFile = path.join(dir, 'exchange-office365.json');
    const connection = await chain.childConnection(KILL_USER, stateFile, dir);
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/groupware-chain-child.ts'], {
      env: { PATH: process.env.PATH, NODE_ENV: 'test', MAILFERRY_CHAIN_CHILD: JSON.stringify(connection) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const created = () => chain.microsoft.requestsFor(KILL_USER).list.filter((r) => r.method === 'POST' && r.status === 201 && ['event', 'contact', 'task'].includes(r.kind)).length;
    const deadline = Date.now() + 45_000;
    while (created() < 25 && Date.now() < deadline && child.exitCode === null) await sleep(5);
    child.kill('SIGKILL');
    expect(await exited, output).toBeNull();
    const beforeResume = created();
    console.info(`killed after ${beforeResume} items created on Microsoft 365`);
    expect(beforeResume).toBeGreaterThanOrEqual(25);

    const exchangeItems = total(stages[1]!.summary, 'items');
    expect(beforeResume).toBeLessThan(exchangeItems);
    const state = new FileGroupwareStateStore(stateFile, 0);
    const resumed = await runStage('exchange → office365 (resumed)', 'graph', chain.exchange(), chain.office365(KILL_USER), state);
    await state.close();
    expect(total(resumed.summary, 'items')).toBe(exchangeItems);
    expect(total(resumed.summary, 'copied')).toBeLessThan(exchangeItems);
    expect(total(resumed.summary, 'failed')).toBe(total(stages[1]!.summary, 'failed'));

    // The same items as the uninterrupted stage, with the same notes; nothing on the target twice.
    const notMapped = notMappedByUid([stages[1]!, resumed]);
    const refusedHere = new Map<string, Set<string>>();
    for (const issue of resumed.summary.issues) refusedHere.set(issue.collection, (refusedHere.get(issue.collection) ?? new Set()).add(issue.uid!));
    const verdict = await verifyGroupware(chain.exchange(), chain.office365(KILL_USER), { notMapped, skip: refusedHere });
    expect(verdictLines(verdict).join('\n')).toMatch(/^PERFECT/);
    expect(verdict.collections.flatMap((c) => c.duplicates)).toEqual([]);
    const onTarget = await textsByUid(chain.office365(KILL_USER));
    expect([...onTarget].filter(([, copies]) => copies.length > 1).map(([uid]) => uid)).toEqual([]);
    expect(onTarget.size).toBe(exchangeItems - total(resumed.summary, 'failed'));
  }, 90_000);

  it('sends no invitation, update or cancellation from Exchange or Microsoft 365', () => {
    expect(chain.ews.sentMail(EXCHANGE_USER.email)).toEqual([]);
    for (const user of OFFICE365_USERS) expect(chain.microsoft.sentMail(user), user).toEqual([]);
    // There were meetings to invite to.
    const meetings = corpus.flatMap((c) => c.items).filter((i) => /^ATTENDEE/m.test(i.data));
    expect(meetings.length).toBeGreaterThan(5);
  });
});
