/**
 * The bench's groupware line: the seeded groupware corpus (scripts/groupware-corpus) in one
 * account of a private Radicale, copied by `ferry groupware copy --json` (the real command
 * line, as the mail lines run `ferry copy`) into fresh accounts of a second private Radicale,
 * both on loopback. Each run is a first pass into its own empty account, verified item by item
 * with the engine's verifier, then a rerun with the same state (nothing new: 0 copied).
 * Figures are the median run's.
 *
 * The same corpus then goes Exchange → Microsoft 365 between the EWS and Graph test servers
 * (groupware-microsoft.ts), where requests per item is the figure that matters.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { startRadicale, type RadicaleServer } from '../../test/helpers/radicale';
import { DavEndpoint } from '../../server/engine/groupware/dav-endpoint';
import { verdictLines, verifyGroupware, type GroupwareVerdict } from '../../server/engine/groupware/verify-groupware';
import { generateGroupwareCorpus } from '../groupware-corpus/corpus';
import { loadCorpus } from '../groupware-corpus/load';
import { DEFAULT_PASS_TIMEOUT_MS, failureReason, ferryArgs, writeSecretFile } from './copier';
import { lastLines, runMeasured } from './measure';
import { formatMicrosoftTable, runMicrosoftBench, type MicrosoftBenchResult } from './groupware-microsoft';
import type { GroupwareBenchResult, GroupwarePass, GroupwareRun } from './report';

export interface GroupwareBenchOptions {
  repoRoot: string;
  seed: string;
  scale: number;
  runs: number;
  /** Private folder for password files and state. */
  workDir: string;
  /** Starts a server with its files where the bench keeps them (tmpfs or disk). */
  onStorage: <T>(start: () => Promise<T>) => Promise<T>;
  /** Called with each server started, so the bench stops it at the end (also on Ctrl-C). */
  onStarted: (stop: () => Promise<unknown>) => void;
  say: (line: string) => void;
  verbose: boolean;
}

interface GroupwareJson {
  collections: { kind: string; source: string; target: string; items: number; copied: number; updated: number; skipped: number; failed: number }[];
  seconds: number;
}

function parseReport(stdout: string): GroupwareJson | undefined {
  for (const line of stdout.trim().split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    try {
      const value = JSON.parse(line) as Partial<GroupwareJson>;
      if (Array.isArray(value.collections) && typeof value.seconds === 'number') return value as GroupwareJson;
    } catch {
      // not the report
    }
  }
  return undefined;
}

const plainFetch = (input: string | URL, init?: RequestInit) => fetch(input, init);
const accountUrl = (server: RadicaleServer, user: string) => `http://${encodeURIComponent(user)}@127.0.0.1:${server.port}/`;

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
let ticksPerSecond: number | undefined;

/**
 * CPU seconds (user + system) used so far by the Radicale started with `rootDir`'s config, read
 * from /proc; null where /proc is missing. Shows whether a pass waited on the server or itself.
 */
async function serverCpuSeconds(rootDir: string): Promise<number | null> {
  if (ticksPerSecond === undefined) {
    const run = await runMeasured('getconf', ['CLK_TCK'], { timeoutMs: 5_000 });
    ticksPerSecond = Number(run.stdout.trim()) || 100;
  }
  const marker = `${rootDir}/config`;
  const pids = await readdir('/proc').catch(() => null);
  if (!pids) return null;
  for (const pid of pids.filter((p) => /^\d+$/.test(p))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.split('\0').includes(marker)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // Fields after the command's closing parenthesis: state is the first, utime the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / ticksPerSecond : null;
  }
  return null;
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Whether `ferry groupware copy` runs at all here (it also builds the command line's bundle, so no run pays for that). */
export async function detectGroupwareCommand(repoRoot: string): Promise<string | null> {
  const run = await runMeasured(process.execPath, ferryArgs(repoRoot, 'groupware', 'copy', '--help'), { cwd: repoRoot, timeoutMs: 120_000 });
  return run.exitCode === 0 ? null : `\`ferry groupware copy --help\` failed (${lastLines(run.stderr || run.stdout, 1) || `exit ${run.exitCode}`})`;
}

/** The Radicale line, and the Exchange → Microsoft 365 line (or why it did not run). */
export type GroupwareBenchLines = GroupwareBenchResult & { exchangeToMicrosoft365: MicrosoftBenchResult | { error: string } };

export async function runGroupwareBench(options: GroupwareBenchOptions): Promise<GroupwareBenchLines> {
  const { say } = options;
  const tag = '[groupware]';
  const generated = performance.now();
  const corpus = generateGroupwareCorpus({ seed: options.seed, scale: options.scale });
  const items = corpus.reduce((n, c) => n + c.items.length, 0);
  const bytes = corpus.reduce((n, c) => n + c.items.reduce((m, i) => m + Buffer.byteLength(i.data), 0), 0);
  const kinds = { calendar: 0, contacts: 0, tasks: 0 };
  for (const c of corpus) kinds[c.kind] += c.items.length;
  const generateSeconds = (performance.now() - generated) / 1000;

  const password = () => randomBytes(12).toString('hex');
  const src = { username: 'src', password: password() };
  const targets = Array.from({ length: options.runs }, (_, i) => ({ username: `dst-${i + 1}`, password: password() }));
  // One after the other, each handed to the cleanup as soon as it runs.
  const start = async (users: { username: string; password: string }[]) => {
    const server = await options.onStorage(() => startRadicale({ users }));
    options.onStarted(() => server.stop());
    return server;
  };
  const source = await start([src]);
  const target = await start(targets);
  say(`${tag} Radicale source on ${source.url}, target on ${target.url}, roots ${source.rootDir}, ${target.rootDir}`);

  const loaded = performance.now();
  await loadCorpus({ serverUrl: source.url, username: src.username, password: src.password, fetch: plainFetch }, corpus, { concurrency: 4 });
  const loadSeconds = (performance.now() - loaded) / 1000;
  say(
    `${tag} corpus (seed ${options.seed}, scale ${options.scale}): ${items} items (${kinds.calendar} events, ${kinds.contacts} contacts and groups, ${kinds.tasks} tasks) in ${corpus.length} collections, ${(bytes / 1e6).toFixed(2)} MB, loaded into ${src.username} in ${loadSeconds.toFixed(1)} s`,
  );

  const sourceEndpoint = () => DavEndpoint.open({ serverUrl: source.url, username: src.username, password: src.password, fetch: plainFetch });
  const fromPassword = await writeSecretFile(path.join(options.workDir, 'groupware', 'from.pass'), src.password);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MAILFERRY_ALLOWED_HOSTS: [source.port, target.port].map((p) => `127.0.0.1/32:${p}`).join(','),
    // Loopback only: plain HTTP is acceptable there.
    MAILFERRY_INSECURE_HOSTS: '127.0.0.1',
  };
  delete env.MAILFERRY_FROM_PASSWORD;
  delete env.MAILFERRY_TO_PASSWORD;

  const verify = async (dst: { username: string; password: string }): Promise<{ verdict: GroupwareVerdict; seconds: number }> => {
    const started = performance.now();
    const to = await DavEndpoint.open({ serverUrl: target.url, username: dst.username, password: dst.password, fetch: plainFetch });
    const verdict = await verifyGroupware(await sourceEndpoint(), to);
    return { verdict, seconds: (performance.now() - started) / 1000 };
  };

  const runs: GroupwareRun[] = [];
  for (const [index, dst] of targets.entries()) {
    const dir = path.join(options.workDir, 'groupware', dst.username);
    const toPassword = await writeSecretFile(path.join(dir, 'to.pass'), dst.password);
    const args = ferryArgs(
      options.repoRoot,
      'groupware',
      'copy',
      '--from', accountUrl(source, src.username),
      '--to', accountUrl(target, dst.username),
      '--from-password-file', fromPassword,
      '--to-password-file', toPassword,
      '--state', path.join(dir, 'state.json'),
      '--json',
    );
    const pass = async (name: 'first' | 'rerun'): Promise<GroupwarePass> => {
      const cpuBefore = await Promise.all([serverCpuSeconds(source.rootDir), serverCpuSeconds(target.rootDir)]);
      const run = await runMeasured(process.execPath, args, { cwd: options.repoRoot, env, timeoutMs: DEFAULT_PASS_TIMEOUT_MS });
      const cpuAfter = await Promise.all([serverCpuSeconds(source.rootDir), serverCpuSeconds(target.rootDir)]);
      const cpu = (i: 0 | 1) => (cpuBefore[i] !== null && cpuAfter[i] !== null ? cpuAfter[i] - cpuBefore[i] : null);
      const report = parseReport(run.stdout);
      const sum = (key: 'items' | 'copied' | 'updated' | 'skipped' | 'failed') => report?.collections.reduce((n, c) => n + c[key], 0) ?? 0;
      const error = failureReason(run) ?? (report ? undefined : `no JSON report on stdout: ${lastLines(run.stdout, 3) || '(empty)'}`);
      const { verdict, seconds: verifySeconds } = await verify(dst);
      const equal = verdict.collections.reduce((n, c) => n + c.equal, 0);
      const lines = verdictLines(verdict);
      const p: GroupwarePass = {
        phase: name,
        ok: error === undefined,
        ...(error ? { error } : {}),
        seconds: run.seconds,
        engineSeconds: report?.seconds ?? null,
        peakRssKb: run.peakRssKb,
        exitCode: run.exitCode,
        sourceServerCpuSeconds: cpu(0),
        targetServerCpuSeconds: cpu(1),
        items: sum('items'),
        copied: sum('copied'),
        updated: sum('updated'),
        skipped: sum('skipped'),
        failed: sum('failed'),
        collections: report?.collections.length ?? 0,
        verdict: verdict.isPerfect ? 'PERFECT' : 'differences',
        equal,
        differences: verdict.isPerfect ? [] : lines.slice(0, 50),
        verifySeconds,
        checks: [],
      };
      const check = (checkName: string, ok: boolean, detail: string) => p.checks.push({ name: checkName, ok, detail });
      check('verifier says PERFECT', verdict.isPerfect, `${equal} of ${items} equal`);
      if (name === 'first') check(`all ${items} items copied`, p.copied === items && p.failed === 0, `${p.copied} copied, ${p.failed} not copied`);
      else check('nothing copied again', p.copied === 0 && p.updated === 0 && p.failed === 0, `${p.copied} copied, ${p.updated} updated, ${p.skipped} already there`);
      const rss = p.peakRssKb === null ? '-' : `${(p.peakRssKb / 1024).toFixed(0)} MB`;
      const busy = (v: number | null) => (v === null ? '-' : `${v.toFixed(1)} s`);
      say(
        `${tag} run ${index + 1} ${name}: ${p.seconds.toFixed(2)} s (engine ${p.engineSeconds?.toFixed(2) ?? '-'} s; Radicale CPU: source ${busy(p.sourceServerCpuSeconds)}, target ${busy(p.targetServerCpuSeconds)}), peak RSS ${rss}, ${p.copied} copied, ${p.updated} updated, ${p.skipped} already there, ${p.failed} not copied` +
          `${p.ok ? '' : ` — FAILED: ${p.error ?? ''}`}; ${p.verdict} (${equal} of ${items} equal, verified in ${verifySeconds.toFixed(1)} s)`,
      );
      if (!verdict.isPerfect) for (const line of lines.slice(0, options.verbose ? 50 : 10)) say(`${tag}   ${line}`);
      for (const c of p.checks.filter((c) => !c.ok)) say(`${tag}   check ${c.name}: FAILED (${c.detail})`);
      return p;
    };
    const first = await pass('first');
    const rerun = await pass('rerun');
    runs.push({ targetUser: dst.username, first, rerun });
  }

  const pick = (phase: 'first' | 'rerun') => {
    const passes = runs.map((r) => r[phase]);
    const seconds = median(passes.map((p) => p.seconds));
    const rss = passes.map((p) => p.peakRssKb).filter((v): v is number => v !== null);
    return {
      seconds,
      minSeconds: Math.min(...passes.map((p) => p.seconds)),
      maxSeconds: Math.max(...passes.map((p) => p.seconds)),
      engineSeconds: median(passes.map((p) => p.engineSeconds ?? Number.NaN).filter((v) => !Number.isNaN(v))),
      peakRssKb: rss.length > 0 ? median(rss) : null,
      targetServerCpuSeconds: median(passes.map((p) => p.targetServerCpuSeconds ?? Number.NaN).filter((v) => !Number.isNaN(v))),
      sourceServerCpuSeconds: median(passes.map((p) => p.sourceServerCpuSeconds ?? Number.NaN).filter((v) => !Number.isNaN(v))),
    };
  };
  const first = pick('first');
  const rerun = pick('rerun');
  const perfect = runs.every((r) => r.first.verdict === 'PERFECT' && r.rerun.verdict === 'PERFECT');
  // Items that verifiably arrived, over the median first pass.
  const arrived = median(runs.map((r) => r.first.equal));

  let exchangeToMicrosoft365: MicrosoftBenchResult | { error: string };
  try {
    exchangeToMicrosoft365 = await runMicrosoftBench({ corpus, runs: options.runs, onStarted: options.onStarted, say, verbose: options.verbose });
    say(formatMicrosoftTable(exchangeToMicrosoft365));
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    say(`[groupware exchange → office365] FAILED: ${why}`);
    exchangeToMicrosoft365 = { error: why };
  }
  const microsoftOk = 'summary' in exchangeToMicrosoft365 && exchangeToMicrosoft365.summary.ok;
  return {
    server: `Radicale ${await radicaleVersion()}`,
    corpus: { seed: options.seed, scale: options.scale, items, bytes, kinds, collections: corpus.length, generateSeconds, loadSeconds },
    runs,
    summary: {
      runs: runs.length,
      itemsPerSecond: first.seconds > 0 ? arrived / first.seconds : 0,
      first,
      rerun: { ...rerun, copied: Math.max(...runs.map((r) => r.rerun.copied + r.rerun.updated)) },
      verdict: perfect ? 'PERFECT' : 'differences',
      ok: microsoftOk && runs.every((r) => r.first.ok && r.rerun.ok && [...r.first.checks, ...r.rerun.checks].every((c) => c.ok)),
    },
    exchangeToMicrosoft365,
  };
}

async function radicaleVersion(): Promise<string> {
  const run = await runMeasured('/usr/bin/radicale', ['--version'], { timeoutMs: 10_000 });
  return run.stdout.trim() || '?';
}
