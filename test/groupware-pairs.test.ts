import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroupwareSource, GroupwareTarget } from '@/server/engine/groupware/model';
import { MemoryGroupwareStateStore } from '@/server/engine/groupware/state';
import { verdictLines, verifyGroupware } from '@/server/engine/groupware/verify-groupware';
import { generateGroupwareCorpus, type CorpusCollection } from '@/scripts/groupware-corpus/corpus';
import { exclusionLines, exclusions, notMappedByUid, runStage, seriesShape, textsByUid, total, type SeriesShape, type Stage } from './helpers/groupware-chain';
import { EXCHANGE_A, EXCHANGE_B, OFFICE365, startPairServers, type PairServers } from './helpers/groupware-pairs';

/**
 * Every pair of the three groupware protocols that no other test copies directly: Exchange (EWS)
 * → Exchange in one organisation and across two, Microsoft 365 (Graph) → Microsoft 365 in one
 * tenant, Microsoft 365 → Exchange, Exchange and Microsoft 365 → a DAV server (Xandikos), and
 * Xandikos → Exchange and → Microsoft 365. An Exchange or Microsoft 365 source is filled first
 * by the product's copy from a Radicale loaded with the corpus (that copy is only the setup:
 * its own verdict is the chain test's). Each pair: the copy arrives PERFECT by the verifier with
 * what the target has no place for listed with each item, the only refusals are the contact
 * groups Microsoft 365 cannot hold, a rerun copies nothing, and nobody is sent an invitation.
 */

const SCALE = 0.1;
const GROUP = /^(KIND:group|X-ADDRESSBOOKSERVER-KIND:group)\r?$/im;

/**
 * Known gap, in server/**: the Exchange mapping table (ews-items.ts MAPPING) has no rows for the
 * timestamps a Microsoft 365 source gives every item, so they are reported as "Exchange has no
 * field for it" without a row of their own. Accepted here and nothing else; the verdict is
 * PERFECT with them excluded by UID.
 */
const UNDOCUMENTED_ON_EXCHANGE = new Set<string>();

let servers: PairServers;
let corpus: CorpusCollection[];
let items: number;
const fills: { exchange?: Stage; office365?: Stage } = {};
const timings: [string, number][] = [];

interface Pair {
  name: string;
  /** The mapping table that documents what the target leaves out. */
  table: Stage['table'];
  source: () => GroupwareSource | Promise<GroupwareSource>;
  target: () => GroupwareTarget | Promise<GroupwareTarget>;
  /** The copy that filled the source, for an Exchange or Microsoft 365 source. */
  filledBy?: keyof typeof fills;
  /** Items the target refuses: the corpus's contact groups (into Microsoft 365 from a source that has them). */
  refuses: 'groups'[];
  /**
   * Xandikos says every calendar takes VEVENT, VTODO, VJOURNAL and VFREEBUSY (whatever MKCALENDAR
   * asked for), so the corpus's task lists are calendars there; an Exchange or Microsoft 365
   * calendar takes only events, so their tasks go to task lists of the same name.
   */
  routesTasks?: boolean;
}

const pairs: Pair[] = [
  {
    name: 'exchange → exchange (two mailboxes, one server)',
    table: 'ews',
    source: () => servers.exchange('a', EXCHANGE_A.source),
    target: () => servers.exchange('a', EXCHANGE_A.fromExchange),
    filledBy: 'exchange',
    refuses: [],
  },
  {
    name: 'exchange → exchange (two servers)',
    table: 'ews',
    source: () => servers.exchange('a', EXCHANGE_A.source),
    target: () => servers.exchange('b', EXCHANGE_B.fromExchange),
    filledBy: 'exchange',
    refuses: [],
  },
  {
    name: 'office365 → office365 (two mailboxes, one tenant)',
    table: 'graph',
    source: () => servers.office365(OFFICE365.source),
    target: () => servers.office365(OFFICE365.fromOffice365),
    filledBy: 'office365',
    refuses: [],
  },
  {
    name: 'office365 → exchange',
    table: 'ews',
    source: () => servers.office365(OFFICE365.source),
    target: () => servers.exchange('a', EXCHANGE_A.fromOffice365),
    filledBy: 'office365',
    refuses: [],
  },
  {
    name: 'exchange → dav (Xandikos)',
    table: 'dav',
    source: () => servers.exchange('a', EXCHANGE_A.source),
    target: () => servers.dav('fromExchange'),
    filledBy: 'exchange',
    refuses: [],
  },
  {
    name: 'office365 → dav (Xandikos)',
    table: 'dav',
    source: () => servers.office365(OFFICE365.source),
    target: () => servers.dav('fromOffice365'),
    filledBy: 'office365',
    refuses: [],
  },
  {
    name: 'dav (Xandikos) → exchange',
    table: 'ews',
    source: () => servers.dav('source'),
    target: () => servers.exchange('a', EXCHANGE_A.fromDav),
    refuses: [],
    routesTasks: true,
  },
  {
    name: 'dav (Xandikos) → office365',
    table: 'graph',
    source: () => servers.dav('source'),
    target: () => servers.office365(OFFICE365.fromDav),
    refuses: ['groups'],
    routesTasks: true,
  },
];

describe('groupware pairs: every protocol to every other, and to itself', () => {
  beforeAll(async () => {
    const started = Date.now();
    corpus = generateGroupwareCorpus({ seed: 'pairs-6', scale: SCALE });
    items = corpus.reduce((n, c) => n + c.items.length, 0);
    servers = await startPairServers(corpus);
    // The Exchange and Microsoft 365 sources, filled by the product's copy from the corpus in Radicale.
    const [exchange, office365] = await Promise.all([
      runStage('zimbra → exchange', 'ews', await servers.feeder(), servers.exchange('a', EXCHANGE_A.source), new MemoryGroupwareStateStore()),
      runStage('zimbra → office365', 'graph', await servers.feeder(), servers.office365(OFFICE365.source), new MemoryGroupwareStateStore()),
    ]);
    for (const fill of [exchange, office365]) {
      if (!fill.summary.isComplete || total(fill.summary, 'items') !== items) throw new Error(`${fill.name} did not copy the corpus: ${total(fill.summary, 'items')} of ${items} items`);
    }
    Object.assign(fills, { exchange, office365 });
    timings.push(['servers, corpus and the two sources filled', (Date.now() - started) / 1000]);
  }, 60_000);

  afterAll(async () => {
    await servers?.stop();
  });

  it('has every shape of the corpus at this scale', () => {
    const all = corpus.flatMap((c) => c.items.map((i) => i.data));
    const shapes = {
      'recurring series with a left-out and a moved occurrence': all.filter((d) => /^RRULE/m.test(d) && /^EXDATE/m.test(d) && /^RECURRENCE-ID/m.test(d)).length,
      'recurring meetings of that kind': all.filter((d) => /^RRULE/m.test(d) && /^EXDATE/m.test(d) && /^RECURRENCE-ID/m.test(d) && /^ATTENDEE/m.test(d)).length,
      meetings: all.filter((d) => /^ATTENDEE/m.test(d)).length,
      'contacts with a photo': all.filter((d) => /^PHOTO/m.test(d)).length,
      'contact groups': all.filter((d) => GROUP.test(d)).length,
      tasks: all.filter((d) => /^BEGIN:VTODO/m.test(d)).length,
      subtasks: all.filter((d) => /^RELATED-TO/m.test(d)).length,
    };
    console.info(`corpus: ${items} items; ${Object.entries(shapes).map(([shape, n]) => `${n} ${shape}`).join(', ')}`);
    for (const [shape, n] of Object.entries(shapes)) expect(n, shape).toBeGreaterThanOrEqual(2);
    // The seed is chosen for recurring meetings: at this scale a series has attendees by chance.
    expect(shapes['recurring meetings of that kind']).toBeGreaterThanOrEqual(3);
  });

  for (const pair of pairs) {
    it(`${pair.name}: PERFECT, refusals explained, a rerun copies nothing`, async () => {
      const started = Date.now();
      const state = new MemoryGroupwareStateStore();
      const first = await runStage(pair.name, pair.table, await pair.source(), await pair.target(), state);
      const sourceItems = total(first.summary, 'items');
      console.info(`${pair.name}: ${sourceItems} items, ${total(first.summary, 'copied')} copied, ${total(first.summary, 'failed')} refused, ${first.summary.changes.length} with something not mapped, ${first.summary.seconds.toFixed(1)} s`);
      expect(first.summary.isComplete).toBe(true);
      expect(total(first.summary, 'copied') + total(first.summary, 'failed')).toBe(sourceItems);
      const fill = pair.filledBy ? fills[pair.filledBy]! : undefined;
      // The source holds the corpus, less what its own fill refused.
      expect(sourceItems).toBe(items - (fill?.summary.issues.length ?? 0));

      // Every refused item has its UID and a reason; the only ones are the groups Microsoft 365 cannot hold.
      const issues = first.summary.issues;
      for (const issue of issues) console.info(`refused: ${issue.kind} "${issue.collection}" ${issue.uid}: ${issue.reason}`);
      for (const issue of issues) {
        expect(issue.uid, issue.reason).not.toBeNull();
        expect(issue.reason.trim(), issue.uid ?? '').not.toBe('');
      }
      const groups = corpus.flatMap((c) => c.items.filter((i) => GROUP.test(i.data)).map((i) => i.uid));
      expect(groups.length).toBeGreaterThan(0);
      const expected = pair.refuses.includes('groups') ? groups : [];
      expect(issues.map((i) => i.uid).sort()).toEqual(expected.sort());
      // Tasks of a calendar whose target calendar takes only events are in a task list of its name, and the report says so.
      const routed = first.summary.collections.filter((c) => c.note?.includes('Its tasks went into the task list'));
      if (pair.routesTasks) {
        const taskLists = corpus.filter((c) => c.kind === 'tasks');
        expect(routed.length).toBe(taskLists.length);
        const lists = (await (await pair.target()).collections()).filter((c) => c.kind === 'tasks');
        for (const list of taskLists) expect(lists.map((l) => l.displayName), list.displayName).toContain(list.displayName);
      } else expect(routed).toEqual([]);
      const skip = new Map<string, Set<string>>();
      for (const issue of issues) skip.set(issue.collection, (skip.get(issue.collection) ?? new Set()).add(issue.uid!));

      // What the target has no place for: each kind with a reason, each a row of the target's mapping table.
      const rows = exclusions([first]);
      if (rows.length > 0) console.info(`${pair.name}, not mapped (${rows.length} kinds):\n${exclusionLines(rows).join('\n')}`);
      expect(rows.filter((r) => r.reason.trim() === '')).toEqual([]);
      const undocumented = rows.filter((r) => !r.documented && !(r.table === 'ews' && UNDOCUMENTED_ON_EXCHANGE.has(`${r.component} ${r.property}`)));
      expect.soft(undocumented.map((r) => `${r.component} ${r.property ?? '*'} — ${r.reason}`)).toEqual([]);
      // A DAV server keeps everything.
      if (pair.table === 'dav') expect(first.summary.changes).toEqual([]);

      // PERFECT by the verifier, with what this copy reported not mapped excluded by UID. The
      // source is compared as it reads, so what its own fill left out is no difference here and
      // is not excluded: only this copy's notes are.
      const verdict = await verifyGroupware(await pair.source(), await pair.target(), { notMapped: notMappedByUid([first]), skip });
      const lines = verdictLines(verdict);
      console.info(`${pair.name}, by the verifier:\n${lines.join('\n')}`);
      expect(lines.join('\n')).toMatch(/^PERFECT/);
      expect(verdict.collections.reduce((n, c) => n + c.equal, 0)).toBe(sourceItems - issues.length);
      expect(verdict.collections.flatMap((c) => c.duplicates)).toEqual([]);

      // Every recurring series with a left-out and a moved occurrence keeps its rule, occurrences,
      // moved instance, attendees and organizer (the verifier leaves out what a copy reported, this does not).
      const before = await textsByUid(await pair.source());
      const after = await textsByUid(await pair.target());
      let series = 0;
      let meetings = 0;
      for (const [uid, [text]] of before) {
        const shape: SeriesShape | null = text && /^RRULE/m.test(text.data.replace(/BEGIN:VTIMEZONE[\s\S]*?END:VTIMEZONE\r?\n/g, '')) ? seriesShape(text.data) : null;
        if (!shape || shape.exdates.length === 0 || Object.keys(shape.instances).length === 0) continue;
        series++;
        if (shape.attendees.length > 0) meetings++;
        expect(after.get(uid), uid).toHaveLength(1);
        expect(seriesShape(after.get(uid)![0]!.data), uid).toEqual(shape);
      }
      expect(series).toBeGreaterThanOrEqual(5);
      expect(meetings).toBeGreaterThanOrEqual(3);

      // A rerun copies and changes nothing; what was refused is refused again for the same reason.
      const rerun = await runStage(`${pair.name} (rerun)`, pair.table, await pair.source(), await pair.target(), state);
      expect([total(rerun.summary, 'copied'), total(rerun.summary, 'updated')]).toEqual([0, 0]);
      expect(total(rerun.summary, 'skipped')).toBe(total(first.summary, 'copied'));
      expect(rerun.summary.issues.map((i) => [i.uid, i.reason])).toEqual(issues.map((i) => [i.uid, i.reason]));

      const seconds = (Date.now() - started) / 1000;
      timings.push([pair.name, seconds]);
      console.info(`${pair.name}: ${seconds.toFixed(1)} s (copy, verify, rerun)`);
    }, 60_000);
  }

  it('can fail: an item changed on a target after its copy makes the pair not PERFECT, by that UID', async () => {
    const changed: [string, GroupwareSource, GroupwareSource, string][] = [];
    for (const [name, source, target, kind] of [
      ['exchange → dav (Xandikos)', servers.exchange('a', EXCHANGE_A.source), await servers.dav('fromExchange'), 'calendar'],
      ['exchange → exchange (two servers)', servers.exchange('a', EXCHANGE_A.source), servers.exchange('b', EXCHANGE_B.fromExchange), 'contacts'],
    ] as const) {
      const collection = (await target.collections()).find((c) => c.kind === kind && c.isDefault)!;
      const [ref] = await target.list(collection);
      const [item] = await target.read(collection, [ref!]);
      const written = await target.write(collection, item!.id, item!.data.replace(/^(SUMMARY|FN):(.*)$/m, '$1:$2 (changed)'), { version: item!.version });
      expect(written.ok, name).toBe(true);
      const uid = /^UID:(.*?)\r?$/m.exec(item!.data)![1]!;
      changed.push([name, source, target, uid]);
    }
    for (const [name, source, target, uid] of changed) {
      const verdict = await verifyGroupware(source, target);
      expect(verdict.isPerfect, name).toBe(false);
      expect(verdict.collections.flatMap((c) => c.different.map((d) => d.uid)), name).toContain(uid);
    }
  });

  it('sends no invitation, update or cancellation from any Exchange or Microsoft 365 mailbox', () => {
    for (const { server, user } of servers.ewsMailboxes) expect(server.sentMail(user.email), user.email).toEqual([]);
    for (const user of servers.office365Mailboxes) expect(servers.microsoft.sentMail(user), user).toEqual([]);
    // There were meetings to invite to.
    expect(corpus.flatMap((c) => c.items).filter((i) => /^ATTENDEE/m.test(i.data)).length).toBeGreaterThan(5);
    console.info(`seconds:\n${timings.map(([name, s]) => `${s.toFixed(1).padStart(6)}  ${name}`).join('\n')}\n${timings.reduce((n, [, s]) => n + s, 0).toFixed(1).padStart(6)}  in all`);
  });
});
