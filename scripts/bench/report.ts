import type { VerifyReport } from './verify';

export type PhaseName = 'first' | 'delta0' | 'delta-add' | 'delta-flags';

/** The verifier's report without the per-message lists, which only the checks need. */
export type VerifySummary = Omit<VerifyReport, 'flagMismatchList' | 'missingList'>;

export interface PhaseResult {
  phase: PhaseName;
  ok: boolean;
  error?: string;
  seconds: number;
  peakRssKb: number | null;
  exitCode: number | null;
  /** Messages in the source when the pass ran, and their bytes. */
  sourceMessages: number;
  sourceBytes: number;
  toolSummary?: unknown;
  verify?: VerifySummary;
  /** Phase-specific expectations, e.g. "50 new messages arrived", with the numbers behind them. */
  checks: { name: string; ok: boolean; detail: string }[];
}

export interface VerificationFigures {
  seconds: number;
  sourceMessages: number;
  present: number;
  missing: number;
  unverified: number;
}

export interface ToolResult {
  name: string;
  /** The server the tool copied into; absent or 'dovecot' for the Dovecot-to-Dovecot line. */
  target?: string;
  version: string | null;
  available: boolean;
  note: string;
  sourceUser?: string;
  targetUser?: string;
  phases: PhaseResult[];
  /** Mailferry's verification of the first pass, measured in the engine (no process start). */
  verification?: VerificationFigures;
  /** The same after delta0, reusing the first verification's verdicts where both folders are unchanged. */
  verificationAfterDelta0?: VerificationFigures;
}

export interface BenchResult {
  startedAt: string;
  environment: Record<string, string | number | boolean | null>;
  options: Record<string, unknown>;
  corpus: { count: number; bytes: number; kinds: Record<string, number>; folders: number; generateSeconds: number } | null;
  tools: ToolResult[];
  ratios: Record<string, Record<string, number | null>>;
  /** The groupware line (`--targets groupware`), when it ran. */
  groupware?: GroupwareBenchResult;
  notes: string[];
}

/** One `ferry groupware copy` pass, with the verifier's verdict on the target afterwards. */
export interface GroupwarePass {
  phase: 'first' | 'rerun';
  ok: boolean;
  error?: string;
  seconds: number;
  /** The command's own `seconds` (without starting node). */
  engineSeconds: number | null;
  peakRssKb: number | null;
  exitCode: number | null;
  /** CPU seconds the source and the target Radicale spent during the pass (null without /proc). */
  sourceServerCpuSeconds: number | null;
  targetServerCpuSeconds: number | null;
  items: number;
  copied: number;
  updated: number;
  skipped: number;
  failed: number;
  collections: number;
  verdict: 'PERFECT' | 'differences';
  /** Source items found equal on the target. */
  equal: number;
  /** The verifier's lines when not PERFECT (first 50). */
  differences: string[];
  verifySeconds: number;
  checks: { name: string; ok: boolean; detail: string }[];
}

export interface GroupwareRun {
  targetUser: string;
  first: GroupwarePass;
  rerun: GroupwarePass;
}

export interface GroupwarePassFigures {
  /** Median over the runs, and the range. */
  seconds: number;
  minSeconds: number;
  maxSeconds: number;
  engineSeconds: number;
  peakRssKb: number | null;
  /** NaN where /proc is missing. */
  sourceServerCpuSeconds: number;
  targetServerCpuSeconds: number;
}

export interface GroupwareBenchResult {
  server: string;
  corpus: {
    seed: string;
    scale: number;
    items: number;
    bytes: number;
    kinds: Record<'calendar' | 'contacts' | 'tasks', number>;
    collections: number;
    generateSeconds: number;
    loadSeconds: number;
  };
  runs: GroupwareRun[];
  summary: {
    runs: number;
    /** Items equal on the target (median run) over the median first-pass time. */
    itemsPerSecond: number;
    first: GroupwarePassFigures;
    /** `copied`: the most any rerun copied or updated (0 when nothing was new). */
    rerun: GroupwarePassFigures & { copied: number };
    verdict: 'PERFECT' | 'differences';
    ok: boolean;
  };
}

export function summarizeVerify(report: VerifyReport): VerifySummary {
  const { flagMismatchList: _flags, missingList: _missing, ...rest } = report;
  return rest;
}

/** `mbsync`, or `mbsync → cyrus` for a line whose target is not the bench Dovecot. */
export const toolLabel = (tool: Pick<ToolResult, 'name' | 'target'>) =>
  tool.target && tool.target !== 'dovecot' ? `${tool.name} → ${tool.target}` : tool.name;

export const firstPass = (tool: ToolResult) => tool.phases.find((p) => p.phase === 'first');
/**
 * Throughput counts what verifiably arrived (matched source messages), so a tool that exits
 * 0 without copying anything does not look fast.
 */
export const msgsPerSecond = (p: PhaseResult) => (p.seconds > 0 ? (p.verify?.messages.matched ?? p.sourceMessages) / p.seconds : 0);
export const mbPerSecond = (p: PhaseResult) => {
  const share = p.verify && p.sourceMessages > 0 ? p.verify.messages.matched / p.sourceMessages : 1;
  return p.seconds > 0 ? (p.sourceBytes * share) / 1e6 / p.seconds : 0;
};

/**
 * Mailferry divided by each peer copying into the same target server: above 1 means Mailferry
 * is faster (throughput) or bigger (RSS, delta time). Keys: `mailferry/mbsync`, and
 * `mailferry/mbsync → cyrus` for other targets.
 */
export function computeRatios(tools: readonly ToolResult[]): BenchResult['ratios'] {
  const ratios: BenchResult['ratios'] = {};
  const targetOf = (t: ToolResult) => t.target ?? 'dovecot';
  for (const peer of tools) {
    if (peer.name === 'mailferry') continue;
    const ours = tools.find((t) => t.name === 'mailferry' && targetOf(t) === targetOf(peer));
    const oursFirst = ours && firstPass(ours);
    const theirs = firstPass(peer);
    const ratio = (a: number | null | undefined, b: number | null | undefined) =>
      a !== null && a !== undefined && b !== null && b !== undefined && b > 0 ? round(a / b, 3) : null;
    const delta0 = (t: ToolResult | undefined) => t?.phases.find((p) => p.phase === 'delta0')?.seconds;
    ratios[targetOf(peer) === 'dovecot' ? `mailferry/${peer.name}` : `mailferry/${peer.name} → ${targetOf(peer)}`] = {
      // Throughput counts verified arrivals, so it means something for a failed pass too.
      msgsPerSecond: oursFirst?.verify && theirs?.verify ? ratio(msgsPerSecond(oursFirst), msgsPerSecond(theirs)) : null,
      firstPassSeconds: oursFirst?.ok && theirs?.ok ? ratio(oursFirst.seconds, theirs.seconds) : null,
      peakRss: ratio(oursFirst?.peakRssKb, theirs?.peakRssKb),
      delta0Seconds: ratio(delta0(ours), delta0(peer)),
    };
  }
  return ratios;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

export function mismatchCell(v: VerifySummary | undefined): string {
  if (!v) return '-';
  const m = v.messages;
  const folders = v.folders.missing.length + v.folders.extra.length;
  const core = `${m.missing}/${m.duplicates}/${m.flagMismatches}/${m.dateMismatches}/${m.byteMismatches}`;
  return `${v.isExact ? 'yes' : 'no'} ${core}${m.extra ? ` +${m.extra} extra` : ''}${folders ? ` ${folders} folders` : ''}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

const fixed = (n: number | undefined, digits = 2) => (n === undefined ? '-' : n.toFixed(digits));

export function formatResultTable(result: BenchResult): string {
  const header = ['tool', 'msgs/s', 'MB/s', 'seconds', 'peak RSS', 'exact? miss/dup/flags/dates/bytes', 'delta0 s (÷first)', '+50 s', 'flags s'];
  const rows: string[][] = [header];
  for (const tool of result.tools) {
    const first = firstPass(tool);
    if (!tool.available || !first) {
      rows.push([toolLabel(tool), 'skipped', '-', '-', '-', '-', '-', '-', '-']);
      continue;
    }
    const phase = (name: PhaseName) => tool.phases.find((p) => p.phase === name);
    const deltaCell = (p: PhaseResult | undefined) => {
      if (!p) return '-';
      const checks = p.checks.every((c) => c.ok) ? '' : ' (check failed)';
      return `${fixed(p.seconds)}${p.ok ? '' : ' FAILED'}${p.verify && !p.verify.isExact ? ' diff' : ''}${checks}`;
    };
    const d0 = phase('delta0');
    // A failed pass still shows what verifiably arrived (a copy into another server may stop
    // on a refused message after most of the mailbox).
    const failedCell = first.verify ? `FAILED (${fixed(msgsPerSecond(first), 0)})` : 'FAILED';
    rows.push([
      toolLabel(tool),
      first.ok ? fixed(msgsPerSecond(first), 0) : failedCell,
      first.ok ? fixed(mbPerSecond(first), 1) : '-',
      fixed(first.seconds),
      first.peakRssKb === null ? '-' : `${(first.peakRssKb / 1024).toFixed(0)} MB`,
      mismatchCell(first.verify),
      d0 ? `${fixed(d0.seconds)} (${first.seconds > 0 ? (d0.seconds / first.seconds).toFixed(2) : '-'})` : '-',
      deltaCell(phase('delta-add')),
      deltaCell(phase('delta-flags')),
    ]);
  }
  const lines = [table(rows)];
  for (const tool of result.tools) {
    if (!tool.available) lines.push(`${toolLabel(tool)} skipped: ${tool.note}`);
  }
  // The engine's own time (its JSON summary) beside the wall time, which includes starting node.
  for (const tool of result.tools) {
    const engineSeconds = (p: PhaseResult | undefined) => {
      const seconds = (p?.toolSummary as { seconds?: unknown } | undefined)?.seconds;
      return typeof seconds === 'number' ? seconds : undefined;
    };
    const first = engineSeconds(tool.phases.find((p) => p.phase === 'first'));
    const delta0 = engineSeconds(tool.phases.find((p) => p.phase === 'delta0'));
    if (first === undefined) continue;
    lines.push(
      `${toolLabel(tool)} engine time (without process start): first ${fixed(first)} s` +
        (delta0 === undefined ? '' : `, delta0 ${fixed(delta0, 3)} s (${((delta0 / first) * 100).toFixed(1)} % of the first pass)`) +
        (tool.verification
          ? `, verification ${fixed(tool.verification.seconds, 3)} s (${((tool.verification.seconds / first) * 100).toFixed(1)} % of the first pass; ${tool.verification.present} of ${tool.verification.sourceMessages} present)`
          : '') +
        (tool.verificationAfterDelta0 ? `, verification after delta0 ${fixed(tool.verificationAfterDelta0.seconds, 3)} s` : ''),
    );
  }
  for (const [pair, r] of Object.entries(result.ratios)) {
    const show = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${v.toFixed(2)}x`);
    if (Object.values(r).every((v) => v === null)) {
      lines.push(`${pair}: n/a (needs both tools)`);
      continue;
    }
    lines.push(
      `${pair}: throughput ${show(r.msgsPerSecond)}, first-pass time ${show(r.firstPassSeconds)}, ` +
        `peak RSS ${show(r.peakRss)}, delta0 time ${show(r.delta0Seconds)}`,
    );
  }
  return lines.join('\n');
}

/** The groupware lines: first pass and rerun, medians over the runs. */
export function formatGroupwareTable(g: GroupwareBenchResult): string {
  const { summary, corpus } = g;
  const rss = (kb: number | null) => (kb === null ? '-' : `${(kb / 1024).toFixed(0)} MB`);
  const range = (f: GroupwarePassFigures) => (summary.runs > 1 ? `${fixed(f.minSeconds)}–${fixed(f.maxSeconds)}` : '-');
  const sum = (phase: 'first' | 'rerun', key: 'copied' | 'updated' | 'failed') => g.runs.map((r) => r[phase][key]);
  const cell = (values: number[]) => (new Set(values).size === 1 ? String(values[0]) : values.join('/'));
  const verdict = (phase: 'first' | 'rerun') => {
    const bad = g.runs.filter((r) => r[phase].verdict !== 'PERFECT').length;
    return bad === 0 ? 'PERFECT' : `differences in ${bad} of ${g.runs.length} runs`;
  };
  const rows = [
    ['groupware', 'items/s', 'seconds', 'range', 'engine s', 'peak RSS', 'copied', 'updated', 'not copied', 'verdict'],
    [
      'Radicale → Radicale, first pass',
      fixed(summary.itemsPerSecond, 0),
      fixed(summary.first.seconds),
      range(summary.first),
      fixed(summary.first.engineSeconds),
      rss(summary.first.peakRssKb),
      cell(sum('first', 'copied')),
      cell(sum('first', 'updated')),
      cell(sum('first', 'failed')),
      verdict('first'),
    ],
    [
      'rerun, nothing new',
      '-',
      fixed(summary.rerun.seconds),
      range(summary.rerun),
      fixed(summary.rerun.engineSeconds, 3),
      rss(summary.rerun.peakRssKb),
      cell(sum('rerun', 'copied')),
      cell(sum('rerun', 'updated')),
      cell(sum('rerun', 'failed')),
      verdict('rerun'),
    ],
  ];
  return [
    table(rows),
    `groupware Radicale CPU (median): first pass source ${fixed(summary.first.sourceServerCpuSeconds, 1)} s, target ${fixed(summary.first.targetServerCpuSeconds, 1)} s of ${fixed(summary.first.seconds, 1)} s; rerun source ${fixed(summary.rerun.sourceServerCpuSeconds, 1)} s, target ${fixed(summary.rerun.targetServerCpuSeconds, 1)} s (each Radicale is one Python process: near the wall time, the server is what the pass waits for).`,
    `groupware corpus on ${g.server}: ${corpus.items} items (${corpus.kinds.calendar} events, ${corpus.kinds.contacts} contacts and groups, ${corpus.kinds.tasks} tasks) in ${corpus.collections} collections, ${(corpus.bytes / 1e6).toFixed(2)} MB; ${summary.runs === 1 ? 'one run' : `medians of ${summary.runs} runs`}, each into an empty account; items/s counts items the verifier found equal.`,
  ].join('\n');
}
