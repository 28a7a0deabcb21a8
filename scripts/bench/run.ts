/**
 * `npm run bench`: Mailferry's IMAP-to-IMAP benchmark against a private Dovecot on loopback,
 * with mbsync and imapsync as peers; then the same corpus from that Dovecot into a private
 * Cyrus (Kolab's configuration) and Courier (Plesk's folders), each tool on the same pair; and
 * the groupware line: the groupware corpus copied Radicale → Radicale by `ferry groupware copy`.
 * Everything it starts (servers, tools, temp folders) is removed at the end, also on Ctrl-C.
 * Results: a table on stdout, JSON in test-results/bench.json.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ImapFlow } from 'imapflow';
import { run as runCommand } from '../../test/helpers/child-process';
import { fillCorpus } from '../../test/helpers/corpus';
import { startDovecot, type DovecotServer } from '../../test/helpers/dovecot';
import { ensureCyrusAndCourier } from '../../test/helpers/imap-packages';
import { startImapServer, type ImapServerKind, type ImapTestServer } from '../../test/helpers/imap-server';
import { openRawImap } from '../../test/helpers/raw-imap-session';
import { createMailferryCopier, detectMailferry, type Availability, type Copier, type CopyEndpoint } from './copier';
import { detectGroupwareCommand, runGroupwareBench, type GroupwareBenchLines } from './groupware';
import { formatMicrosoftTable } from './groupware-microsoft';
import { flipFlags, type CorpusManifest, type FlippedMessage } from './corpus';
import { stopMeasuredChildren } from './measure';
import { createPeerCopier, detectPeer, PEER_NAMES, type PeerName } from './peers';
import {
  computeRatios,
  formatGroupwareTable,
  formatResultTable,
  mbPerSecond,
  msgsPerSecond,
  summarizeVerify,
  type BenchResult,
  toolLabel,
  type PhaseName,
  type PhaseResult,
  type ToolResult,
} from './report';
import { formatVerifyReport, verifyCopy, type ImapAccount, type VerifyOptions, type VerifyReport } from './verify';
import { measureVerification } from './verification';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const ADD_MESSAGES = 50;
const FLIP_MESSAGES = 100;
const TARGET_KINDS: readonly ImapServerKind[] = ['dovecot', 'cyrus', 'courier'];
/** `--targets` names: the IMAP servers, and the groupware line (Radicale → Radicale). */
const TARGET_NAMES: readonly string[] = [...TARGET_KINDS, 'groupware'];

const USAGE = `Usage: npm run bench -- [options]

  --count N          corpus size, duplicates included (default 2000)
  --seed N           corpus seed (default 1)
  --tmpfs            Dovecot's files on /dev/shm (default when /dev/shm exists)
  --no-tmpfs         Dovecot's files under the temp folder (disk)
  --peers LIST       comma-separated: mbsync,imapsync, or none (default: those available;
                     imapsync needs IMAPSYNC=/path/to/imapsync)
  --targets LIST     comma-separated: dovecot,cyrus,courier,groupware (default: all).
                     For the IMAP servers the source is always the bench Dovecot; Cyrus and
                     Courier lines run the first pass and delta0 only, and need root the
                     first time (see scripts/test-servers.ts); Courier always needs root.
                     groupware: the groupware corpus in a private Radicale copied by
                     \`ferry groupware copy\` into a second Radicale, first pass and rerun;
                     then the same corpus Exchange → Microsoft 365 (the EWS and Graph
                     test servers), with requests per item.
  --groupware-runs N     groupware runs, each into an empty account; figures are the
                         median run's (default 3)
  --groupware-scale X    groupware corpus scale (default 1: 520 events, 1,020 contacts
                         and groups, 240 tasks)
  --connections N    passed to \`ferry copy --connections N\`
  --no-mailferry     peers only
  --no-deltas        first passes only (no delta0, +${ADD_MESSAGES}, flag-change passes)
  --json FILE        result file (default test-results/bench.json)
  -v, --verbose      print per-folder differences and examples after each verification
  -h, --help

Exit code 1 when a tool's pass fails, or when Mailferry's copy is not exact or misses a
delta check, on the Dovecot-to-Dovecot line; the peers' known losses do not count, nor what
the Cyrus and Courier lines measure (printed, with the verifier's result); also when the
groupware copy is not PERFECT or a rerun copies anything.`;

interface BenchOptions {
  count: number;
  seed: number;
  tmpfs: boolean;
  peers: PeerName[] | null;
  targets: ImapServerKind[];
  groupware: boolean;
  groupwareRuns: number;
  groupwareScale: number;
  connections?: number;
  deltas: boolean;
  mailferry: boolean;
  json: string;
  verbose: boolean;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function parseOptions(argv: string[]): Promise<BenchOptions | null> {
  const { values } = parseArgs({
    args: argv,
    options: {
      count: { type: 'string', default: '2000' },
      seed: { type: 'string', default: '1' },
      tmpfs: { type: 'boolean' },
      'no-tmpfs': { type: 'boolean' },
      peers: { type: 'string' },
      targets: { type: 'string' },
      'groupware-runs': { type: 'string', default: '3' },
      'groupware-scale': { type: 'string', default: '1' },
      connections: { type: 'string' },
      'no-deltas': { type: 'boolean' },
      'no-mailferry': { type: 'boolean' },
      json: { type: 'string', default: path.join(REPO_ROOT, 'test-results', 'bench.json') },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return null;
  const integer = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(text)}`);
    return n;
  };
  let peers: PeerName[] | null = null;
  if (values.peers !== undefined) {
    peers = [];
    for (const name of values.peers.split(',').map((p) => p.trim()).filter((p) => p && p !== 'none')) {
      if (!PEER_NAMES.includes(name as PeerName)) throw new Error(`unknown peer "${name}" (known: ${PEER_NAMES.join(', ')})`);
      peers.push(name as PeerName);
    }
  }
  const targets: ImapServerKind[] = [];
  let groupware = false;
  for (const name of (values.targets ?? TARGET_NAMES.join(',')).split(',').map((t) => t.trim()).filter(Boolean)) {
    if (!TARGET_NAMES.includes(name)) throw new Error(`unknown target "${name}" (known: ${TARGET_NAMES.join(', ')})`);
    if (name === 'groupware') groupware = true;
    else if (!targets.includes(name as ImapServerKind)) targets.push(name as ImapServerKind);
  }
  const scale = Number(values['groupware-scale']);
  if (!(scale > 0 && scale <= 10)) throw new Error(`--groupware-scale must be a number above 0 and at most 10, got ${JSON.stringify(values['groupware-scale'])}`);
  if (values.tmpfs && values['no-tmpfs']) throw new Error('--tmpfs and --no-tmpfs exclude each other');
  return {
    count: integer('count', values.count, 20),
    seed: integer('seed', values.seed, 0),
    tmpfs: values['no-tmpfs'] ? false : (values.tmpfs ?? (await exists('/dev/shm'))),
    peers,
    targets,
    groupware,
    groupwareRuns: integer('groupware-runs', values['groupware-runs'], 1),
    groupwareScale: scale,
    ...(values.connections !== undefined ? { connections: integer('connections', values.connections, 1) } : {}),
    deltas: !values['no-deltas'],
    mailferry: !values['no-mailferry'],
    json: path.resolve(values.json),
    verbose: values.verbose ?? false,
  };
}

// ---------------------------------------------------------------------------------------------
// Cleanup, also on Ctrl-C

const cleanups: (() => Promise<unknown>)[] = [];
let cleaning: Promise<void> | undefined;
/** Set on Ctrl-C: whatever fails afterwards fails because we pulled the plug. */
let interruptedBy: number | undefined;

function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    stopMeasuredChildren();
    for (const step of cleanups.reverse()) {
      await step().catch((error: unknown) => console.error(`cleanup: ${error instanceof Error ? error.message : String(error)}`));
    }
  })();
  return cleaning;
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    interruptedBy = code;
    console.error(`\n${signal}: stopping the servers and the tools, removing temp folders…`);
    void cleanUp().finally(() => process.exit(code));
  });
}

// ---------------------------------------------------------------------------------------------

interface ToolPlan {
  name: string;
  availability: Availability;
  /** `targetPrefix`: where the target's own folders begin ('INBOX.' on Courier); peers need it said. */
  create?: (setup: { source: CopyEndpoint; target: CopyEndpoint; workDir: string; targetPrefix: string }) => Promise<Copier>;
}

const say = (line: string) => {
  if (interruptedBy === undefined) console.log(line);
};

/**
 * The servers' helpers put their roots in os.tmpdir(), which follows TMPDIR on every call:
 * pointing that at /dev/shm for the duration of the start is how the bench gets a tmpfs mail
 * store without a special option in the shared test helpers.
 */
async function onBenchStorage<T>(tmpfs: boolean, start: () => Promise<T>): Promise<T> {
  const previous = process.env.TMPDIR;
  if (tmpfs) process.env.TMPDIR = '/dev/shm';
  try {
    return await start();
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  }
}

function startBenchDovecot(users: { username: string; password: string }[], tmpfs: boolean): Promise<DovecotServer> {
  return onBenchStorage(tmpfs, () => startDovecot({ users, tls: 'none' }));
}

/** One tool copying into one target server: its own source account on the bench Dovecot and its own target account. */
interface BenchLine {
  plan: ToolPlan;
  target: ImapServerKind;
  endpoints: { source: CopyEndpoint; target: CopyEndpoint };
  tool: ToolResult;
}

/** Why Cyrus or Courier cannot run here, or null when they can. */
async function targetUnavailable(kind: ImapServerKind): Promise<string | null> {
  if (kind === 'dovecot') return null;
  if (kind === 'courier' && process.getuid?.() !== 0) return 'Courier runs in a private mount namespace, which needs root';
  try {
    await ensureCyrusAndCourier();
    return null;
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'not available';
  }
}

async function main(): Promise<number> {
  const options = await parseOptions(process.argv.slice(2)).catch((error: Error) => {
    console.error(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  });
  if (!options) {
    say(USAGE);
    return 0;
  }
  const started = new Date();
  const notes: string[] = [];
  const storage = options.tmpfs ? '/dev/shm (tmpfs)' : `${os.tmpdir()} (disk)`;
  if (options.targets.length > 0) {
    say(`Mailferry bench: ${options.count} messages, seed ${options.seed}; Dovecot files on ${storage}, mail_fsync=never`);
    if (options.tmpfs) notes.push('Dovecot root on /dev/shm (tmpfs) for stable figures; use --no-tmpfs to measure on disk.');
  } else say(`Mailferry bench: groupware only, seed ${options.seed}; Radicale files on ${storage}`);

  // Tools first: a missing engine or peer is reported before anything is started.
  const plans: ToolPlan[] = [];
  const mailferry = options.mailferry
    ? await detectMailferry(REPO_ROOT)
    : { available: false, version: null, note: 'left out with --no-mailferry' };
  plans.push({
    name: 'mailferry',
    availability: mailferry,
    // Mailferry reads the target's namespace itself.
    create: ({ targetPrefix: _prefix, ...setup }) =>
      createMailferryCopier(REPO_ROOT, { ...setup, ...(options.connections ? { connections: options.connections } : {}) }),
  });
  if (mailferry.available) {
    const startup = 'startupSeconds' in mailferry ? ` (\`copy --help\` took ${mailferry.startupSeconds?.toFixed(1)} s here)` : '';
    notes.push(`Mailferry's times include starting its command line (as \`npm run ferry\` does, without npm)${startup}.`);
  } else {
    say(`[mailferry] skipped: ${mailferry.note}`);
    notes.push(`Mailferry step skipped: ${mailferry.note}`);
  }
  // Peers copy mail only: without an IMAP target there is nothing for them.
  for (const name of options.targets.length > 0 ? (options.peers ?? PEER_NAMES) : []) {
    const peer = await detectPeer(name);
    plans.push({ name, availability: peer, create: (setup) => createPeerCopier(peer, setup) });
    if (peer.available) say(`[${name}] ${peer.version ?? ''} (${peer.note})`);
    else {
      say(`[${name}] skipped: ${peer.note}`);
      if (options.peers) notes.push(`${name} requested but skipped: ${peer.note}`);
    }
  }
  if (options.connections !== undefined) notes.push(`--connections ${options.connections} applies to Mailferry only.`);

  const runnable = plans.filter((p) => p.availability.available);
  const base = options.tmpfs ? '/dev/shm' : os.tmpdir();
  const workDir = await mkdtemp(path.join(base, 'mailferry-bench-'));
  cleanups.push(() => rm(workDir, { recursive: true, force: true }));

  const targets: ImapServerKind[] = [];
  for (const kind of options.targets) {
    const why = runnable.length > 0 ? await targetUnavailable(kind) : null;
    if (why === null) targets.push(kind);
    else {
      say(`[${kind}] skipped: ${why}`);
      notes.push(`${kind} target skipped: ${why}`);
    }
  }
  if (targets.some((t) => t !== 'dovecot')) {
    notes.push('Cyrus and Courier lines: the same corpus from the bench Dovecot, first pass and delta0; verified with the rewrites the target server makes itself (Cyrus: 8-bit header bytes as X; Courier: lone CR dropped, final newline added) counted as matched.');
  }

  const password = () => randomBytes(12).toString('hex');
  const lines: BenchLine[] = [];
  // Accounts on the bench Dovecot: every line's source, and the Dovecot line's targets.
  const users: { username: string; password: string }[] = [];
  const targetUsers = new Map<ImapServerKind, { username: string; password: string }[]>();
  for (const target of targets) {
    for (const plan of runnable) {
      const suffix = `${target === 'dovecot' ? '' : `-${target}`}${plan.name === 'mailferry' ? '' : `-${plan.name}`}`;
      const src = { username: `src${suffix}`, password: password() };
      const dst = { username: `dst${suffix}`, password: password() };
      users.push(src);
      if (target === 'dovecot') users.push(dst);
      else targetUsers.set(target, [...(targetUsers.get(target) ?? []), dst]);
      const tool: ToolResult = {
        name: plan.name,
        ...(target === 'dovecot' ? {} : { target }),
        version: plan.availability.version,
        available: true,
        note: plan.availability.note,
        phases: [],
      };
      lines.push({
        plan,
        target,
        endpoints: {
          source: { host: '127.0.0.1', port: 0, user: src.username, password: src.password },
          target: { host: '127.0.0.1', port: 0, user: dst.username, password: dst.password },
        },
        tool,
      });
    }
  }

  const result: BenchResult = {
    startedAt: started.toISOString(),
    environment: await environment(),
    options: { ...options, storage },
    corpus: null,
    // Unavailable tools once, as before; each runnable tool once per target server.
    tools: [
      ...plans.filter((p) => !p.availability.available).map((p) => ({ name: p.name, version: p.availability.version, available: false, note: p.availability.note, phases: [] })),
      ...lines.map((line) => line.tool),
    ],
    ratios: {},
    notes,
  };

  if (runnable.length === 0) {
    notes.push('Nothing to run: neither Mailferry nor any peer is available.');
  } else if (lines.length > 0) {
    const server = await startBenchDovecot(users, options.tmpfs);
    cleanups.push(() => server.stop());
    say(`Dovecot ${result.environment.dovecot ?? ''} on ${server.host}:${server.port}, root ${server.rootDir}`);
    for (const target of targets) {
      let targetServer: ImapTestServer | null = null;
      if (target !== 'dovecot') {
        const started = performance.now();
        try {
          targetServer = await onBenchStorage(options.tmpfs, () => startImapServer(target, { users: targetUsers.get(target) ?? [], protocolLog: false }));
        } catch (error) {
          const why = error instanceof Error ? error.message : String(error);
          say(`[${target}] did not start: ${why}`);
          notes.push(`${target} target did not start: ${why.split('\n')[0]}`);
          for (const line of lines.filter((l) => l.target === target)) line.tool.note = `target server did not start: ${why.split('\n')[0]}`;
          continue;
        }
        const running = targetServer;
        cleanups.push(() => running.stop());
        const greeting = await openRawImap(running.host, running.port).then(
          (session) => {
            session.close();
            return session.greeting;
          },
          () => '',
        );
        result.environment[target] = greeting.replace(/^\* OK (\[[^\]]*\] )?/, '').slice(0, 120) || null;
        say(`${target} on ${running.host}:${running.port} (started in ${((performance.now() - started) / 1000).toFixed(2)} s), root ${running.rootDir}: ${result.environment[target] ?? ''}`);
      }
      for (const line of lines.filter((l) => l.target === target)) {
        line.endpoints.source.port = server.port;
        line.endpoints.target.port = targetServer?.port ?? server.port;
        line.tool.sourceUser = line.endpoints.source.user;
        line.tool.targetUser = line.endpoints.target.user;
        try {
          await runScenario(line, server, targetServer, path.join(workDir, target), options, result);
        } catch (error) {
          // A line against another server reports what broke and lets the others run.
          if (target === 'dovecot' || interruptedBy !== undefined) throw error;
          const why = error instanceof Error ? error.message : String(error);
          say(`[${toolLabel(line.tool)}] stopped: ${why}`);
          notes.push(`${toolLabel(line.tool)} stopped: ${why.split('\n')[0]}`);
        }
      }
    }
  }

  let groupwareFailed = false;
  if (options.groupware) {
    const why = mailferry.available ? await detectGroupwareCommand(REPO_ROOT) : `Mailferry not available: ${mailferry.note}`;
    if (why !== null) {
      say(`[groupware] skipped: ${why}`);
      notes.push(`groupware line skipped: ${why}`);
      groupwareFailed = options.mailferry;
    } else {
      result.groupware = await runGroupwareBench({
        repoRoot: REPO_ROOT,
        seed: String(options.seed),
        scale: options.groupwareScale,
        runs: options.groupwareRuns,
        workDir,
        onStorage: (start) => onBenchStorage(options.tmpfs, start),
        onStarted: (stop) => cleanups.push(stop),
        say,
        verbose: options.verbose,
      });
      groupwareFailed = !result.groupware.summary.ok;
      if (options.tmpfs) notes.push('groupware: both Radicale roots on /dev/shm (tmpfs).');
    }
  }

  result.ratios = computeRatios(result.tools);
  say('');
  if (lines.length > 0 || !options.groupware) {
    say(formatResultTable(result));
    say('msgs/s and MB/s count messages that verifiably arrived; seconds and peak RSS (VmHWM) are of the first pass.');
    say('exact? = every message byte-identical with equal flags, keywords and INTERNALDATE; counts are missing/duplicates/flag/date/byte mismatches.');
  }
  if (result.groupware) {
    if (lines.length > 0) say('');
    say(formatGroupwareTable(result.groupware));
    // The Exchange → Microsoft 365 line of the same run (scripts/bench/groupware-microsoft.ts).
    const microsoft = (result.groupware as Partial<GroupwareBenchLines>).exchangeToMicrosoft365;
    if (microsoft) {
      say('');
      say('error' in microsoft ? `Exchange → Microsoft 365: ${microsoft.error}` : formatMicrosoftTable(microsoft));
    }
  }
  for (const note of notes) say(`note: ${note}`);
  await mkdir(path.dirname(options.json), { recursive: true });
  await writeFile(options.json, `${JSON.stringify(result, null, 2)}\n`);
  const shown = path.relative(process.cwd(), options.json);
  say(`results: ${shown.startsWith('..') ? options.json : shown}`);
  // Peers are expected to be inexact (that is what the comparison shows); Mailferry is not.
  const failed = result.tools.some(
    (t) =>
      (t.target ?? 'dovecot') === 'dovecot' &&
      t.phases.some((p) => !p.ok || (t.name === 'mailferry' && (p.verify?.isExact === false || p.checks.some((c) => !c.ok)))),
  );
  return failed || groupwareFailed ? 1 : 0;
}

/** Target folders a server made itself (Kolab's Spam, Plesk's INBOX.Spam) are none of the copy's business unless a tool copied into them. */
const PRECREATED_TARGET_FOLDERS: Record<ImapServerKind, string[]> = {
  dovecot: [],
  cyrus: ['Sent', 'Drafts', 'Trash', 'Spam'],
  courier: ['INBOX.Sent', 'INBOX.Drafts', 'INBOX.Trash', 'INBOX.Spam'],
};

/** Where Mailferry's JSON report says it put each folder (`folderReports`), when it says so. */
function reportedFolderMapping(summary: unknown): { sourcePath: string; targetPath: string }[] {
  const reports = (summary as { folderReports?: unknown } | undefined)?.folderReports;
  if (!Array.isArray(reports)) return [];
  return reports
    .filter((r): r is { source: string; target: string } => typeof r?.source === 'string' && typeof r?.target === 'string')
    .map((r) => ({ sourcePath: r.source, targetPath: r.target }));
}

/**
 * One line of the bench. Into the bench Dovecot: first pass, delta0, +50 messages, flag
 * changes. Into another server (`targetServer`): first pass and delta0.
 */
async function runScenario(
  line: BenchLine,
  server: DovecotServer,
  targetServer: ImapTestServer | null,
  workDir: string,
  options: BenchOptions,
  result: BenchResult,
): Promise<void> {
  const { plan, tool, endpoints } = line;
  const tag = `[${toolLabel(tool)}]`;
  const generated = performance.now();
  let manifest: CorpusManifest = await fillCorpus(server, endpoints.source.user, { count: options.count, seed: options.seed });
  const generateSeconds = (performance.now() - generated) / 1000;
  result.corpus ??= {
    count: manifest.count,
    bytes: manifest.bytes,
    kinds: manifest.kinds,
    folders: Object.keys(manifest.folders).length,
    generateSeconds,
  };
  say(`${tag} corpus in ${endpoints.source.user}: ${manifest.count} msgs, ${(manifest.bytes / 1e6).toFixed(1)} MB, written and indexed in ${generateSeconds.toFixed(1)} s`);

  // Each copier keeps its files in a subfolder named after itself.
  const copier = await plan.create!({ ...endpoints, workDir, targetPrefix: targetServer?.personalPrefix ?? '' });
  const targetKind = targetServer?.kind ?? 'dovecot';
  const account = (e: CopyEndpoint): ImapAccount => ({ host: e.host, port: e.port, user: e.user, password: e.password });

  // Where a tool that reports nothing puts a source folder: the verifier's default mapping
  // (same levels, the target's separator and personal prefix).
  const sourceFolders = targetServer ? (await withClient(account(endpoints.source), (client) => client.list())).map((f) => ({ path: f.path, delimiter: f.delimiter })) : [];
  const defaultTarget = (folder: { path: string; delimiter: string }) =>
    folder.path === 'INBOX' || !targetServer ? folder.path : `${targetServer.personalPrefix}${folder.path.split(folder.delimiter).join(targetServer.separator)}`;

  const verifyOptions = (summary: unknown): VerifyOptions => {
    if (!targetServer) return {};
    const folderMapping = reportedFolderMapping(summary);
    const mappedTo = new Set(folderMapping.length > 0 ? folderMapping.map((m) => m.targetPath) : sourceFolders.map(defaultTarget));
    return {
      targetServer: targetKind,
      ...(folderMapping.length > 0 ? { folderMapping } : {}),
      excludeTargetFolders: PRECREATED_TARGET_FOLDERS[targetKind].filter((name) => !mappedTo.has(name)),
    };
  };

  const phase = async (name: PhaseName, expectations?: (report: VerifyReport) => PhaseResult['checks']) => {
    const pass = await copier.pass();
    const p: PhaseResult = {
      phase: name,
      ok: pass.ok,
      ...(pass.error ? { error: pass.error } : {}),
      seconds: pass.run.seconds,
      peakRssKb: pass.run.peakRssKb,
      exitCode: pass.run.exitCode,
      sourceMessages: manifest.count,
      sourceBytes: manifest.bytes,
      ...(pass.summary !== undefined ? { toolSummary: pass.summary } : {}),
      checks: [],
    };
    tool.phases.push(p);
    const rss = p.peakRssKb === null ? '-' : `${(p.peakRssKb / 1024).toFixed(0)} MB`;
    say(`${tag} ${name}: ${p.seconds.toFixed(2)} s, peak RSS ${rss}${p.ok ? '' : ` — FAILED: ${p.error ?? ''}`}`);
    if (pass.summary !== undefined) say(`${tag}   tool summary: ${JSON.stringify(pass.summary)}`);
    const report = await verifyCopy(account(endpoints.source), account(endpoints.target), verifyOptions(pass.summary));
    p.verify = summarizeVerify(report);
    if (name === 'first') say(`${tag}   ${msgsPerSecond(p).toFixed(0)} msgs/s, ${mbPerSecond(p).toFixed(1)} MB/s (messages that arrived)`);
    say(`${tag}   ${formatVerifyReport(report, { verbose: options.verbose })} (verified in ${report.seconds.toFixed(1)} s)`);
    if (report.source.messages !== manifest.count) {
      p.checks.push({ name: 'source matches corpus', ok: false, detail: `source has ${report.source.messages} messages, corpus ${manifest.count}` });
    }
    if (expectations) p.checks.push(...expectations(report));
    for (const check of p.checks) say(`${tag}   check ${check.name}: ${check.ok ? 'ok' : 'FAILED'} (${check.detail})`);
    return { p, report };
  };

  const first = await phase('first');
  // Mailferry verifies each pass when it ends (the portal does): its cost, beside the first pass.
  const verifiedFolders = tool.name === 'mailferry' && first.p.ok ? reportedFolderMapping(first.p.toolSummary) : [];
  let verdicts: Awaited<ReturnType<typeof measureVerification>>['verdicts'] | undefined;
  if (verifiedFolders.length > 0) {
    const { verdicts: found, ...v } = await measureVerification(endpoints.source, endpoints.target, verifiedFolders);
    verdicts = found;
    tool.verification = v;
    say(`${tag} verification after the first pass: ${v.seconds.toFixed(3)} s, ${v.present} of ${v.sourceMessages} present, ${v.missing} missing, ${v.unverified} folders not verified`);
  }
  const noNewDuplicates = (r: VerifyReport) => [
    {
      name: 'no new duplicates',
      ok: r.messages.duplicates <= first.report.messages.duplicates,
      detail: `duplicates ${first.report.messages.duplicates} -> ${r.messages.duplicates}`,
    },
  ];
  if (targetServer) {
    // Into another server a failed first pass is expected while the engine learns it: the
    // second pass shows whether running again finishes the job.
    if (options.deltas) await phase('delta0', noNewDuplicates);
    return;
  }
  if (!options.deltas || !first.p.ok) return;

  await phase('delta0', noNewDuplicates);
  if (verdicts) {
    // A resync with nothing new: folders unchanged since the last verification keep its verdict.
    const { verdicts: _unused, ...v } = await measureVerification(endpoints.source, endpoints.target, verifiedFolders, verdicts);
    tool.verificationAfterDelta0 = v;
    say(`${tag} verification after delta0: ${v.seconds.toFixed(3)} s, ${v.present} of ${v.sourceMessages} present`);
  }

  manifest = await fillCorpus(server, endpoints.source.user, { add: ADD_MESSAGES });
  const before = first.report;
  await phase('delta-add', (r) => {
    const arrived = ADD_MESSAGES - (r.messages.missing - before.messages.missing);
    return [
      { name: `${ADD_MESSAGES} new messages arrived`, ok: arrived === ADD_MESSAGES, detail: `${arrived} of ${ADD_MESSAGES}; target ${before.target.messages} -> ${r.target.messages}` },
      { name: 'no duplicates', ok: r.messages.duplicates === before.messages.duplicates, detail: `duplicates ${before.messages.duplicates} -> ${r.messages.duplicates}` },
    ];
  });

  const flipped = await withClient(account(endpoints.source), (client) => flipFlags(client, FLIP_MESSAGES));
  await phase('delta-flags', (r) => {
    const notArrived = flagsNotArrived(flipped, r);
    return [
      {
        name: `\\Seen/\\Flagged changes on ${flipped.length} messages arrived`,
        ok: notArrived === 0,
        detail: `${flipped.length - notArrived} of ${flipped.length}`,
      },
    ];
  });
}

/** Flipped source messages whose \Seen or \Flagged still differs on the target. */
function flagsNotArrived(flipped: readonly FlippedMessage[], report: VerifyReport): number {
  const wanted = new Set(flipped.map((f) => `${f.folder}\n${f.uid}`));
  let count = 0;
  for (const mismatch of report.flagMismatchList) {
    if (!wanted.has(`${mismatch.folder}\n${mismatch.sourceUid}`)) continue;
    // Other flags (mbsync drops keywords) are the verifier's business, not this check's.
    if (['\\Seen', '\\Flagged'].some((f) => mismatch.source.includes(f) !== mismatch.target.includes(f))) count += 1;
  }
  // A flipped message without any target counterpart cannot have received the change either.
  return count + report.missingList.filter((m) => wanted.has(`${m.folder}\n${m.uid}`)).length;
}

async function withClient<T>(account: ImapAccount, body: (client: ImapFlow) => Promise<T>): Promise<T> {
  const client = new ImapFlow({
    host: account.host,
    port: account.port,
    secure: false,
    auth: { user: account.user, pass: account.password },
    logger: false,
    disableAutoIdle: true,
  });
  client.on('error', () => {});
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

async function environment(): Promise<BenchResult['environment']> {
  const version = async (command: string, args: string[]) =>
    runCommand(command, args, { timeoutMs: 10_000 }).then(
      (r) => r.stdout.trim().split('\n')[0] ?? null,
      () => null,
    );
  return {
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    memoryMb: Math.round(os.totalmem() / 1024 / 1024),
    dovecot: await version('/usr/sbin/dovecot', ['--version']),
  };
}

main().then(
  async (code) => {
    await cleanUp();
    process.exit(interruptedBy ?? code);
  },
  async (error: unknown) => {
    if (interruptedBy === undefined) console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await cleanUp();
    process.exit(interruptedBy ?? 1);
  },
);
