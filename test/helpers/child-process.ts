import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { access, constants, readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; the rejection carries the command line and its stderr. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const detail = stderr.trim() || stdout.trim() || error.message;
          reject(new Error(`\`${[command, ...args].join(' ')}\` failed: ${detail}`, { cause: error }));
          return;
        }
        resolve({ stdout, stderr });
      },
    );
  });
}

export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const aptInstalls = new Map<string, Promise<void>>();

/**
 * Makes sure a Debian package that provides `binary` is installed. As root it installs the
 * package; otherwise it fails with the exact command a person has to run.
 */
export async function ensureDebianPackage(pkg: string, binary: string): Promise<void> {
  if (await isExecutable(binary)) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    throw new Error(
      `${binary} is missing. Install it with: sudo apt-get update && sudo apt-get install -y ${pkg}`,
    );
  }
  let pending = aptInstalls.get(pkg);
  if (!pending) {
    pending = installWithApt(pkg);
    aptInstalls.set(pkg, pending);
  }
  await pending;
  if (!(await isExecutable(binary))) {
    throw new Error(`apt-get installed ${pkg} but ${binary} is still missing`);
  }
}

async function installWithApt(pkg: string): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Several test workers may reach this at once; let apt wait for the dpkg lock instead of failing.
  const lockWait = ['-o', 'DPkg::Lock::Timeout=300'];
  await run('apt-get', [...lockWait, 'update'], { env, timeoutMs: 600_000 });
  await run('apt-get', [...lockWait, 'install', '-y', '--no-install-recommends', pkg], {
    env,
    timeoutMs: 600_000,
  });
}

export interface Daemon {
  readonly pid: number;
  /** Resolves when the main process has exited (children may still run, see stop()). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** Text the daemon wrote to stdout/stderr. */
  output(): Promise<string>;
  /** Stops the whole process group: SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Process groups still running, with the folder to delete if the worker exits first. */
const liveGroups = new Map<number, string | undefined>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test that forgets stop() or a worker that crashes must not leave servers behind.
  process.once('exit', () => {
    for (const [pgid, dir] of liveGroups) {
      killGroup(pgid, 'SIGKILL');
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });
}

function killGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a long-running server in a process group of its own, so that stop() also reaches
 * the processes it forks (Dovecot's login, auth and imap processes).
 */
export function spawnDaemon(
  command: string,
  args: readonly string[],
  options: {
    outputFile: string;
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    /** Deleted by the process exit hook when stop() was never called. */
    removeOnExit?: string;
  },
): Daemon {
  const fd = openSync(options.outputFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  // detached children keep the event loop alive otherwise; the exit hook still covers them.
  child.unref();

  let hasExited = false;
  let spawnError: Error | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      hasExited = true;
      resolve({ code, signal });
    });
    child.once('error', (error) => {
      hasExited = true;
      // Surface spawn failures (ENOENT, EACCES) through output().
      spawnError = error;
      resolve({ code: null, signal: null });
    });
  });

  const pid = child.pid;
  if (pid !== undefined) {
    liveGroups.set(pid, options.removeOnExit);
    installExitHook();
  }

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 2_000): Promise<void> => {
    stopping ??= (async () => {
      if (pid === undefined) return;
      killGroup(pid, 'SIGTERM');
      if (!(await settlesWithin(exited, graceMs))) {
        killGroup(pid, 'SIGKILL');
        if (!(await settlesWithin(exited, 5_000))) throw new Error(`${command} (pid ${pid}) survived SIGKILL`);
      }
      // The main process is gone, but forked children can outlive it for a moment.
      const deadline = Date.now() + graceMs;
      while ((await runningGroupMembers(pid)).length > 0) {
        if (Date.now() > deadline) {
          killGroup(pid, 'SIGKILL');
          await sleep(100);
          const survivors = await runningGroupMembers(pid);
          if (survivors.length > 0) {
            throw new Error(`processes ${survivors.join(', ')} of group ${pid} survived SIGKILL`);
          }
          break;
        }
        await sleep(25);
      }
      liveGroups.delete(pid);
    })();
    return stopping;
  };

  return {
    get pid() {
      if (pid === undefined) throw new Error(`${command} did not start: ${spawnError?.message ?? 'no pid'}`);
      return pid;
    },
    exited,
    hasExited: () => hasExited,
    output: async () => {
      const text = await readFile(options.outputFile, 'utf8').catch(() => '');
      return spawnError ? `${text}\nspawn error: ${spawnError.message}` : text;
    },
    stop,
  };
}

/** The pending timer also keeps the event loop alive while we wait for a child's exit event. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      promise.then(() => true),
      sleep(ms, false, { signal: timer.signal }).catch(() => false),
    ]);
  } finally {
    timer.abort();
  }
}

/**
 * Pids in a process group that are still running. Zombies are left out: they are already dead,
 * and a PID 1 that does not reap orphans (as in some containers) would keep them forever.
 */
export async function runningGroupMembers(pgid: number): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return killGroup(pgid, 0) ? [pgid] : [];
  }
  const members: number[] = [];
  await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (entry) => {
        const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
        // The command name in field 2 may contain spaces and parentheses; fields resume after the last ')'.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const [state, , pgrp] = fields;
        if (pgrp === String(pgid) && state !== 'Z' && state !== 'X') members.push(Number(entry));
      }),
  );
  return members;
}

/** Last `lines` lines of a text, for error messages. */
export function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export interface ExitResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs Node on `args` to its end and gives back its exit code and output, whatever the code. */
export function runNode(args: readonly string[], options: { cwd?: string; env: NodeJS.ProcessEnv }): Promise<ExitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    // 'close', not 'exit': the output is complete only once the pipes are.
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
