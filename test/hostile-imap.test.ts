import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from './helpers/dovecot';
import { HOSTILE_MODES, startHostileImap, type HostileImapServer, type HostileMode } from './helpers/hostile-imap';

/*
 * Servers that accept the login and then misbehave (test/helpers/hostile-imap.ts): each one
 * ends its own connection with a plain reason, within the deadline, while memory stays small.
 * The deadlines are shortened for the test (MAILFERRY_IMAP_COMMAND_SECONDS), so the drip ends
 * in seconds instead of the fifteen minutes a worker waits.
 */

const password = 'hostile-imap-pw';
const ferryScript = path.resolve('scripts/ferry.mjs');
const COMMAND_SECONDS = 3;
const MAX_RSS_MB = 250;

/** The reason each mode ends with, word for word where the numbers are known. */
const REASONS: Record<HostileMode, RegExp> = {
  'endless-line': /The source server sent a line longer than 1 MB in its answer to LIST; Mailferry stopped reading\./,
  'huge-literal': /The source server sent a 4 GB answer to LIST \(at most 64 KB is expected there\); Mailferry stopped reading\./,
  'many-lines': /The source server sent more than 100,000 lines in its answer to LIST, more than that command can explain; Mailferry stopped reading\./,
  drip: new RegExp(`The source server did not complete its answer to LIST within ${COMMAND_SECONDS} seconds; Mailferry ended the connection\\.`),
  'huge-message': /The source server sent a 4 GB message in its answer to FETCH, above this migration's message size limit; Mailferry stopped reading\./,
};

let dovecot: DovecotServer;
let dir: string;
let users = 0;

async function newUser(): Promise<string> {
  const username = `h${++users}-${Date.now()}@example.test`;
  await dovecot.addUser({ username, password });
  return username;
}

interface MeasuredRun {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** The child's peak resident memory (VmHWM), in MB. */
  peakRssMb: number;
}

function highWaterMb(pid: number): number | null {
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

/** Runs node with `args`, reading the child's VmHWM every 50 ms (it only grows) until it exits. */
function runMeasured(args: string[], env: NodeJS.ProcessEnv): Promise<MeasuredRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    const poll = setInterval(() => {
      const now = child.pid ? highWaterMb(child.pid) : null;
      if (now !== null) peak = Math.max(peak, now);
    }, 50);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', () => clearInterval(poll));
    child.on('close', (code) => resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000, peakRssMb: Math.round(peak) }));
  });
}

function ferryEnv(hostile: HostileImapServer): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    HOME: path.join(dir, 'home'),
    MAILFERRY_FROM_PASSWORD: password,
    MAILFERRY_TO_PASSWORD: password,
    MAILFERRY_ALLOWED_HOSTS: `127.0.0.1/32:${dovecot.port},127.0.0.1/32:${hostile.port}`,
    MAILFERRY_INSECURE_HOSTS: '127.0.0.1',
    MAILFERRY_IMAP_COMMAND_SECONDS: String(COMMAND_SECONDS),
  };
}

describe('hostile IMAP servers', () => {
  beforeAll(async () => {
    dovecot = await startDovecot({ users: [], tls: 'none' });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mailferry-hostile-imap-'));
    // The command line's bundle is built once, before anything is measured.
    await runMeasured([ferryScript, '--help'], { PATH: process.env.PATH, NODE_ENV: 'production', HOME: path.join(dir, 'home') });
  }, 180_000);
  afterAll(async () => {
    await dovecot?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it.each(HOSTILE_MODES)('ferry copy gives up on a server with %s, with the plain reason, within the deadline and in little memory', async (mode) => {
    const hostile = await startHostileImap(mode);
    try {
      const target = await newUser();
      const from = `imap://${encodeURIComponent('victim@example.test')}@127.0.0.1:${hostile.port}`;
      const to = `imap://${encodeURIComponent(target)}@127.0.0.1:${dovecot.port}`;
      const run = await runMeasured([ferryScript, 'copy', '--from', from, '--to', to, '--json', '--fresh'], ferryEnv(hostile));
      console.log(`hostile ${mode}: ferry copy gave up after ${run.seconds.toFixed(1)} s, peak RSS ${run.peakRssMb} MB, the server sent ${(hostile.hostileBytes / 1e6).toFixed(1)} MB of its answer`);
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
      const report = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { status: string; error: string };
      expect(report.status).toBe('incomplete');
      expect(report.error).toMatch(REASONS[mode]);
      expect(run.peakRssMb).toBeGreaterThan(0);
      expect(run.peakRssMb).toBeLessThan(MAX_RSS_MB);
      // The drip ends by the command deadline; the others as soon as the limit is passed (and,
      // for a message, after the copy's attempts on fresh connections).
      expect(run.seconds).toBeLessThan(mode === 'huge-message' ? 60 : 30);
      // Mailferry hung up: no connection is left open on the hostile server.
      await expect.poll(() => hostile.open, { timeout: 5_000 }).toBe(0);
    } finally {
      await hostile.stop();
    }
  }, 120_000);
});
