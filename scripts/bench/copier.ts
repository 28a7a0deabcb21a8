import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { lastLines, runMeasured, type MeasuredRun } from './measure';

export interface CopyEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface CopierSetup {
  source: CopyEndpoint;
  target: CopyEndpoint;
  /** Private folder for this tool's config, password files and sync state. */
  workDir: string;
  /** Parallel IMAP connections, for tools that take such a setting. */
  connections?: number;
  timeoutMs?: number;
}

export interface CopierPass {
  run: MeasuredRun;
  ok: boolean;
  /** Why the pass counts as failed (exit code, unparsable output). */
  error?: string;
  /** What the tool itself reported, when it reports anything machine-readable. */
  summary?: unknown;
}

/** One migration tool bound to one source and one target account; keeps its state between passes. */
export interface Copier {
  name: string;
  version: string | null;
  pass(): Promise<CopierPass>;
}

export interface Availability {
  available: boolean;
  version: string | null;
  /** Why it is not available, or how it was found. */
  note: string;
}

export const DEFAULT_PASS_TIMEOUT_MS = 30 * 60_000;

export async function writeSecretFile(file: string, content: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content, { mode: 0o600 });
  return file;
}

export function failureReason(run: MeasuredRun): string | undefined {
  if (run.timedOut) return `timed out after ${run.seconds.toFixed(0)} s`;
  if (run.exitCode === 0) return undefined;
  const why = run.exitCode === null ? `killed by ${run.signal ?? 'a signal'}` : `exit code ${run.exitCode}`;
  const tail = lastLines(run.stderr || run.stdout, 5);
  return tail ? `${why}: ${tail}` : why;
}

// ---------------------------------------------------------------------------------------------
// Mailferry's own command line

export interface MailferrySummary {
  folders: number;
  messages: { copied: number; skipped: number; failed: number };
  bytes: number;
  seconds: number;
}

/** What `npm run ferry` runs (node's options included), without npm in between. */
export function ferryArgs(repoRoot: string, ...rest: string[]): string[] {
  const script = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.ferry ?? '';
  const words = script.split(/\s+/).filter(Boolean);
  if (words[0] !== 'node') throw new Error(`package.json's "ferry" script does not start with node: ${script}`);
  return [...words.slice(1), ...rest];
}

/**
 * The engine is plugged in only through `ferry copy`: it counts as available when
 * `ferry copy --help` succeeds, so an unfinished engine (unknown command, import error) is
 * skipped with its own error message instead of failing the bench.
 */
export async function detectMailferry(repoRoot: string): Promise<Availability & { startupSeconds?: number }> {
  const run = await runMeasured(process.execPath, ferryArgs(repoRoot, 'copy', '--help'), { cwd: repoRoot, timeoutMs: 120_000 });
  if (run.exitCode === 0) return { available: true, version: 'working tree', note: '`ferry copy` found', startupSeconds: run.seconds };
  const lines = `${run.stderr}\n${run.stdout}`.split('\n').map((l) => l.trim());
  const reason = lines.find((l) => /^(Error|Unknown command|ferry:)|error/i.test(l) && !l.startsWith('at ')) ?? lines.filter(Boolean).pop();
  return { available: false, version: null, note: `\`ferry copy --help\` failed (${reason ?? `exit ${run.exitCode}`})` };
}

export function parseMailferrySummary(stdout: string): MailferrySummary | undefined {
  for (const line of stdout.trim().split('\n').reverse()) {
    if (!line.trim().startsWith('{')) continue;
    try {
      const value = JSON.parse(line) as Partial<MailferrySummary>;
      if (value && typeof value === 'object' && value.messages && typeof value.messages.copied === 'number') return value as MailferrySummary;
    } catch {
      // a log line that merely starts with '{'
    }
  }
  // The summary may also be pretty-printed over several lines.
  const start = stdout.lastIndexOf('\n{');
  try {
    const value = JSON.parse(stdout.slice(start + 1)) as Partial<MailferrySummary>;
    if (value.messages && typeof value.messages.copied === 'number') return value as MailferrySummary;
  } catch {
    // not JSON
  }
  return undefined;
}

export async function createMailferryCopier(repoRoot: string, setup: CopierSetup): Promise<Copier> {
  const dir = path.join(setup.workDir, 'mailferry');
  const fromPassword = await writeSecretFile(path.join(dir, 'from.pass'), setup.source.password);
  const toPassword = await writeSecretFile(path.join(dir, 'to.pass'), setup.target.password);
  const url = (e: CopyEndpoint) => `imap://${encodeURIComponent(e.user)}@${e.host}:${e.port}`;
  const args = ferryArgs(
    repoRoot,
    'copy',
    '--from', url(setup.source),
    '--to', url(setup.target),
    '--from-password-file', fromPassword,
    '--to-password-file', toPassword,
    '--state', path.join(dir, 'state.json'),
    '--json',
    ...(setup.connections !== undefined ? ['--connections', String(setup.connections)] : []),
  );
  const hosts = [...new Set([setup.source, setup.target].map((e) => e.host))];
  const env = {
    ...process.env,
    MAILFERRY_ALLOWED_HOSTS: [...new Set([setup.source, setup.target].map((e) => `${e.host}/32:${e.port}`))].join(','),
    // Loopback only: plain-text IMAP is acceptable there and is what the peers use too.
    MAILFERRY_INSECURE_HOSTS: hosts.join(','),
  };
  return {
    name: 'mailferry',
    version: 'working tree',
    async pass() {
      const run = await runMeasured(process.execPath, args, { cwd: repoRoot, env, timeoutMs: setup.timeoutMs ?? DEFAULT_PASS_TIMEOUT_MS });
      const summary = parseMailferrySummary(run.stdout);
      const error = failureReason(run) ?? (summary ? undefined : `no JSON summary on stdout: ${lastLines(run.stdout, 3) || '(empty)'}`);
      return { run, ok: error === undefined, ...(error ? { error } : {}), ...(summary ? { summary } : {}) };
    },
  };
}
