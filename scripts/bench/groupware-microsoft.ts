/**
 * The bench's Exchange → Microsoft 365 groupware line: the seeded groupware corpus put into a
 * mailbox of the EWS test server through the product's Exchange target (EwsEndpoint), then
 * copied with the engine's copyGroupware into an empty Microsoft 365 mailbox of the Graph test
 * server (GraphEndpoint), once per run, each run followed by a rerun with the same state
 * (nothing new: 0 copied). Both servers are the protocol-faithful test servers of
 * test/helpers, on loopback in this process, so the times are the product's own work plus the
 * servers'; the figure that matters against Exchange's and Microsoft's throttling is requests
 * per item: EwsEndpoint.requestCount + GraphEndpoint.requestCount over the items. Figures are
 * the median run's.
 */
import { Agent, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';
import { acquireAppToken, clearAppTokenCache, GRAPH_SCOPE } from '../../server/accounts/m365/oauth';
import type { FetchLike } from '../../server/accounts/types';
import { copyGroupware, type GroupwareCopySummary } from '../../server/engine/groupware/copy-groupware';
import { EwsEndpoint } from '../../server/engine/groupware/ews/ews-target';
import { GraphEndpoint } from '../../server/engine/groupware/graph/graph-target';
import type { GroupwareCollection, GroupwareSource, ItemRef, NotMappedNote } from '../../server/engine/groupware/model';
import { MemoryGroupwareStateStore } from '../../server/engine/groupware/state';
import { verdictLines, verifyGroupware } from '../../server/engine/groupware/verify-groupware';
import { startEwsServer } from '../../test/helpers/ews-server';
import { startMicrosoftServer } from '../../test/helpers/microsoft-server';
import type { CorpusCollection } from '../groupware-corpus/corpus';

export interface MicrosoftPass {
  phase: 'first' | 'rerun';
  ok: boolean;
  error?: string;
  seconds: number;
  items: number;
  copied: number;
  updated: number;
  skipped: number;
  failed: number;
  ewsRequests: number;
  graphRequests: number;
  /** (EWS + Graph requests) / items. */
  requestsPerItem: number;
  /** Graph requests that reached the mailbox, batched ones each counted (the server's count). */
  graphMailboxRequests: number;
  /** Items copied with something Microsoft 365 has no place for (reported with the item). */
  withNotMapped: number;
  verdict: 'PERFECT' | 'differences';
  equal: number;
  differences: string[];
  checks: { name: string; ok: boolean; detail: string }[];
}

export interface MicrosoftRun {
  mailbox: string;
  first: MicrosoftPass;
  rerun: MicrosoftPass;
}

export interface MicrosoftBenchResult {
  line: 'Exchange (EWS) → Microsoft 365 (Graph)';
  servers: string;
  /** Items put into the Exchange mailbox, and how long that took (EwsEndpoint, in this process). */
  seeded: { items: number; refused: number; seconds: number; ewsRequests: number; requestsPerItem: number };
  runs: MicrosoftRun[];
  summary: {
    runs: number;
    /** Items equal on the target (median run) over the median first-pass time. */
    itemsPerSecond: number;
    first: { seconds: number; minSeconds: number; maxSeconds: number; requestsPerItem: number; ewsPerItem: number; graphPerItem: number };
    rerun: { seconds: number; minSeconds: number; maxSeconds: number; requestsPerItem: number; copied: number };
    verdict: 'PERFECT' | 'differences';
    ok: boolean;
  };
}

export interface MicrosoftBenchOptions {
  corpus: CorpusCollection[];
  runs: number;
  onStarted: (stop: () => Promise<unknown>) => void;
  say: (line: string) => void;
  verbose: boolean;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The corpus as a groupware source, so the Exchange mailbox is filled the way the product writes to Exchange. */
export class CorpusSource implements GroupwareSource {
  constructor(private readonly corpus: CorpusCollection[]) {}

  async collections(): Promise<GroupwareCollection[]> {
    const seen = new Set<string>();
    return this.corpus.map((c) => {
      const isDefault = !seen.has(c.kind);
      seen.add(c.kind);
      return { id: c.slug, kind: c.kind, displayName: c.displayName, color: c.color, description: c.description, isDefault, components: c.kind === 'contacts' ? [] : c.kind === 'tasks' ? ['VTODO'] : ['VEVENT'], slug: c.slug };
    });
  }

  private items(collection: GroupwareCollection) {
    return this.corpus.find((c) => c.slug === collection.id)?.items ?? [];
  }

  async list(collection: GroupwareCollection): Promise<ItemRef[]> {
    return this.items(collection).map((item) => ({ id: `${collection.id}/${item.uid}`, version: '1', size: Buffer.byteLength(item.data) }));
  }

  async read(collection: GroupwareCollection, refs: ItemRef[]) {
    const byId = new Map(this.items(collection).map((item) => [`${collection.id}/${item.uid}`, item]));
    return refs.flatMap((ref) => {
      const item = byId.get(ref.id);
      return item ? [{ id: ref.id, version: '1', data: item.data }] : [];
    });
  }
}

const sum = (summary: GroupwareCopySummary, key: 'items' | 'copied' | 'updated' | 'skipped' | 'failed') => summary.collections.reduce((n, c) => n + c[key], 0);

const TENANT_ID = '3f2e1d0c-9b8a-4765-a432-10fedcba9876';
const APP = { clientId: '4a3b2c1d-0e9f-4876-b543-21edcba98765', clientSecret: `bench~${Math.random().toString(36).slice(2)}` };
const EXCHANGE = { email: 'bench@contoso.test', username: 'CONTOSO\\bench', password: `bench-${Math.random().toString(36).slice(2)}` };

export async function runMicrosoftBench(options: MicrosoftBenchOptions): Promise<MicrosoftBenchResult> {
  const { say, corpus } = options;
  const tag = '[groupware exchange → office365]';
  const mailboxes = Array.from({ length: options.runs }, (_, i) => `bench-${i + 1}@fabrikam.test`);
  const ews = await startEwsServer({ users: [EXCHANGE] });
  options.onStarted(() => ews.stop());
  const microsoft = await startMicrosoftServer({
    tenants: [{ id: TENANT_ID, domains: ['fabrikam.test'], apps: [{ ...APP, roles: ['Calendars.ReadWrite', 'Contacts.ReadWrite', 'Tasks.ReadWrite.All'] }], users: mailboxes.map((userPrincipalName) => ({ userPrincipalName })) }],
  });
  options.onStarted(() => microsoft.stop());
  const agent = new Agent({ connect: { ca: [ews.caCertPem!, microsoft.caCertPem] }, connections: 16 });
  options.onStarted(() => agent.close());
  const fetchTls: FetchLike = (input, init) => undiciFetch(input, { ...(init as UndiciRequestInit), dispatcher: agent }) as unknown as Promise<Response>;
  say(`${tag} EWS test server on ${ews.url}, Microsoft Graph test server on ${microsoft.graphBaseUrl} (both in this process)`);

  const exchange = () => new EwsEndpoint({ url: ews.ewsUrl, username: EXCHANGE.username, password: EXCHANGE.password, email: EXCHANGE.email, fetch: fetchTls });
  const office365 = (user: string) =>
    new GraphEndpoint({
      graphBaseUrl: microsoft.graphBaseUrl,
      user,
      fetch: fetchTls,
      token: async ({ renewed }) => {
        if (renewed) clearAppTokenCache();
        return (await acquireAppToken({ tenantId: TENANT_ID, ...APP, scope: GRAPH_SCOPE, authorityHost: microsoft.authorityHost, fetch: fetchTls })).accessToken;
      },
    });

  const items = corpus.reduce((n, c) => n + c.items.length, 0);
  const seeding = exchange();
  const seedStarted = performance.now();
  const seeded = await copyGroupware({ source: new CorpusSource(corpus), target: seeding, state: new MemoryGroupwareStateStore() });
  const seed = {
    items: sum(seeded, 'copied'),
    refused: sum(seeded, 'failed'),
    seconds: (performance.now() - seedStarted) / 1000,
    ewsRequests: seeding.requestCount,
    requestsPerItem: items > 0 ? seeding.requestCount / items : 0,
  };
  say(`${tag} corpus put into Exchange by EwsEndpoint: ${seed.items} of ${items} items (${seed.refused} refused) in ${seed.seconds.toFixed(1)} s, ${seed.ewsRequests} EWS requests (${seed.requestsPerItem.toFixed(2)} per item)`);
  for (const issue of seeded.issues.slice(0, options.verbose ? 50 : 5)) say(`${tag}   refused by Exchange: ${issue.kind} "${issue.collection}" ${issue.uid ?? '(no UID)'}: ${issue.reason}`);

  const runs: MicrosoftRun[] = [];
  for (const [index, mailbox] of mailboxes.entries()) {
    const state = new MemoryGroupwareStateStore();
    let notMapped = new Map<string, NotMappedNote[]>();
    /** What Microsoft 365 refused on the first pass (contact groups): a rerun meets the same refusals again, and only those. */
    let refusedFirst: string[] = [];
    const pass = async (phase: 'first' | 'rerun'): Promise<MicrosoftPass> => {
      const source = exchange();
      const target = office365(mailbox);
      const graphBefore = microsoft.requestsFor(mailbox).total;
      const started = performance.now();
      let summary: GroupwareCopySummary | undefined;
      let error: string | undefined;
      try {
        summary = await copyGroupware({ source, target, state });
      } catch (caught) {
        error = caught instanceof Error ? caught.message : String(caught);
      }
      const seconds = (performance.now() - started) / 1000;
      const graphMailboxRequests = microsoft.requestsFor(mailbox).total - graphBefore;
      const counted = (key: Parameters<typeof sum>[1]) => (summary ? sum(summary, key) : 0);
      if (phase === 'first' && summary) {
        notMapped = new Map(summary.changes.filter((c) => c.uid !== null).map((c) => [c.uid!, c.notMapped]));
        refusedFirst = summary.issues.map((issue) => `${issue.uid}: ${issue.reason}`);
      }
      const copiedItems = counted('items');
      const requests = source.requestCount + target.requestCount;
      const skip = new Map<string, Set<string>>();
      for (const issue of summary?.issues ?? []) if (issue.uid) skip.set(issue.collection, (skip.get(issue.collection) ?? new Set()).add(issue.uid));
      const verdict = await verifyGroupware(exchange(), office365(mailbox), { notMapped, skip });
      const equal = verdict.collections.reduce((n, c) => n + c.equal, 0);
      const p: MicrosoftPass = {
        phase,
        ok: error === undefined && summary?.isComplete === true,
        ...(error ? { error } : {}),
        seconds,
        items: copiedItems,
        copied: counted('copied'),
        updated: counted('updated'),
        skipped: counted('skipped'),
        failed: counted('failed'),
        ewsRequests: source.requestCount,
        graphRequests: target.requestCount,
        requestsPerItem: copiedItems > 0 ? requests / copiedItems : 0,
        graphMailboxRequests,
        withNotMapped: summary?.changes.length ?? 0,
        verdict: verdict.isPerfect ? 'PERFECT' : 'differences',
        equal,
        differences: verdict.isPerfect ? [] : verdictLines(verdict).slice(0, 50),
        checks: [],
      };
      const check = (name: string, ok: boolean, detail: string) => p.checks.push({ name, ok, detail });
      check('verifier says PERFECT (what Microsoft 365 has no place for reported with each item)', verdict.isPerfect, `${equal} of ${seed.items} equal`);
      if (phase === 'first') check(`all ${seed.items} Exchange items copied`, p.copied + p.failed === seed.items, `${p.copied} copied, ${p.failed} refused`);
      else {
        const refusedAgain = (summary?.issues ?? []).map((issue) => `${issue.uid}: ${issue.reason}`);
        const sameRefusals = refusedAgain.length === refusedFirst.length && refusedAgain.every((line, i) => line === refusedFirst[i]);
        check('nothing copied again', p.copied === 0 && p.updated === 0 && sameRefusals, `${p.copied} copied, ${p.updated} updated, ${p.skipped} already there, ${p.failed} refused again (${refusedFirst.length} on the first pass)`);
      }
      check('no invitation sent', microsoft.sentMail(mailbox).length === 0, `${microsoft.sentMail(mailbox).length} messages`);
      say(
        `${tag} run ${index + 1} ${phase}: ${p.seconds.toFixed(2)} s, ${p.copied} copied, ${p.updated} updated, ${p.skipped} already there, ${p.failed} refused; ` +
          `${p.ewsRequests} EWS + ${p.graphRequests} Graph requests = ${p.requestsPerItem.toFixed(3)} per item (${p.graphMailboxRequests} Graph requests counted by the mailbox); ` +
          `${p.verdict} (${equal} equal)${p.ok ? '' : ` — FAILED: ${p.error ?? 'the copy did not complete'}`}`,
      );
      if (!verdict.isPerfect) for (const line of p.differences.slice(0, options.verbose ? 50 : 10)) say(`${tag}   ${line}`);
      for (const c of p.checks.filter((c) => !c.ok)) say(`${tag}   check ${c.name}: FAILED (${c.detail})`);
      return p;
    };
    const first = await pass('first');
    const rerun = await pass('rerun');
    runs.push({ mailbox, first, rerun });
  }

  const figures = (phase: 'first' | 'rerun') => {
    const passes = runs.map((r) => r[phase]);
    const seconds = passes.map((p) => p.seconds);
    return { seconds: median(seconds), minSeconds: Math.min(...seconds), maxSeconds: Math.max(...seconds), requestsPerItem: median(passes.map((p) => p.requestsPerItem)) };
  };
  const first = figures('first');
  const rerun = figures('rerun');
  const arrived = median(runs.map((r) => r.first.equal));
  const perfect = runs.every((r) => r.first.verdict === 'PERFECT' && r.rerun.verdict === 'PERFECT');
  return {
    line: 'Exchange (EWS) → Microsoft 365 (Graph)',
    servers: 'EWS and Microsoft Graph test servers (test/helpers), loopback, in the bench process',
    seeded: seed,
    runs,
    summary: {
      runs: runs.length,
      itemsPerSecond: first.seconds > 0 ? arrived / first.seconds : 0,
      first: {
        ...first,
        ewsPerItem: median(runs.map((r) => (r.first.items > 0 ? r.first.ewsRequests / r.first.items : 0))),
        graphPerItem: median(runs.map((r) => (r.first.items > 0 ? r.first.graphRequests / r.first.items : 0))),
      },
      rerun: { ...rerun, copied: Math.max(...runs.map((r) => r.rerun.copied + r.rerun.updated)) },
      verdict: perfect ? 'PERFECT' : 'differences',
      ok: seed.items > 0 && runs.every((r) => r.first.ok && r.rerun.ok && [...r.first.checks, ...r.rerun.checks].every((c) => c.ok)),
    },
  };
}

/** The line as the bench prints it under the Radicale one. */
export function formatMicrosoftTable(result: MicrosoftBenchResult): string {
  const { summary } = result;
  const range = (f: { minSeconds: number; maxSeconds: number }) => (summary.runs > 1 ? `${f.minSeconds.toFixed(2)}–${f.maxSeconds.toFixed(2)}` : '-');
  const cell = (values: number[]) => (new Set(values).size === 1 ? String(values[0]) : values.join('/'));
  const verdict = (phase: 'first' | 'rerun') => {
    const bad = result.runs.filter((r) => r[phase].verdict !== 'PERFECT').length;
    return bad === 0 ? 'PERFECT' : `differences in ${bad} of ${result.runs.length} runs`;
  };
  const rows = [
    ['groupware', 'items/s', 'seconds', 'range', 'requests/item', 'EWS/item', 'Graph/item', 'copied', 'updated', 'not copied', 'verdict'],
    [
      'Exchange → Microsoft 365, first pass',
      summary.itemsPerSecond.toFixed(0),
      summary.first.seconds.toFixed(2),
      range(summary.first),
      summary.first.requestsPerItem.toFixed(3),
      summary.first.ewsPerItem.toFixed(3),
      summary.first.graphPerItem.toFixed(3),
      cell(result.runs.map((r) => r.first.copied)),
      cell(result.runs.map((r) => r.first.updated)),
      cell(result.runs.map((r) => r.first.failed)),
      verdict('first'),
    ],
    [
      'rerun, nothing new',
      '-',
      summary.rerun.seconds.toFixed(2),
      range(summary.rerun),
      summary.rerun.requestsPerItem.toFixed(3),
      '-',
      '-',
      cell(result.runs.map((r) => r.rerun.copied)),
      cell(result.runs.map((r) => r.rerun.updated)),
      cell(result.runs.map((r) => r.rerun.failed)),
      verdict('rerun'),
    ],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  // Laid out as the bench's other tables (left-aligned columns, two spaces apart).
  const text = rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  return [
    ...text,
    `groupware Exchange → Microsoft 365 on the ${result.servers}: ${result.seeded.items} items put into Exchange by EwsEndpoint (${result.seeded.requestsPerItem.toFixed(2)} EWS requests per item); ${summary.runs === 1 ? 'one run' : `medians of ${summary.runs} runs`}, each into an empty mailbox; requests/item = (EWS + Graph requests the endpoints sent, a $batch counted once) / items.`,
  ].join('\n');
}
