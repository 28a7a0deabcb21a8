import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface MeasuredRun {
  command: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  seconds: number;
  /** Highest VmHWM seen while polling /proc/<pid>/status; null where /proc is missing. */
  peakRssKb: number | null;
  stdout: string;
  stderr: string;
}

export interface RunMeasuredOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** VmHWM poll interval. */
  pollMs?: number;
}

/** Children started here, so an interrupted bench can stop exactly those. */
const live = new Set<ChildProcess>();

export function stopMeasuredChildren(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const child of live) {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, signal);
      } catch {
        // already gone
      }
    }
  }
}

const OUTPUT_LIMIT = 4 * 1024 * 1024;

/**
 * Runs one command to completion and measures wall time and peak resident memory of that
 * process (not its children). VmHWM is a high-water mark kept by the kernel, so polling only
 * misses a peak reached in the last interval before exit.
 */
export function runMeasured(command: string, args: readonly string[], options: RunMeasuredOptions = {}): Promise<MeasuredRun> {
  const pollMs = options.pollMs ?? 50;
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let stdout = '';
    let stderr = '';
    let peakRssKb: number | null = null;
    let timedOut = false;
    let spawnError: Error | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < OUTPUT_LIMIT) stdout += chunk;
    });
    // Keep the end of stderr: that is where a failing tool says why.
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-OUTPUT_LIMIT);
    });
    const poll = async () => {
      if (child.pid === undefined) return;
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
      const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
      if (match) peakRssKb = Math.max(peakRssKb ?? 0, Number(match[1]));
    };
    void poll();
    const poller = setInterval(() => void poll(), pollMs);
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
          }, options.timeoutMs);
    let exitedAt: number | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    // The wall time ends at exit; 'close' can come later when a grandchild holds the pipes.
    child.once('exit', () => {
      exitedAt = performance.now();
      clearInterval(poller);
    });
    child.once('close', (code, signal) => {
      clearInterval(poller);
      if (timer) clearTimeout(timer);
      live.delete(child);
      resolve({
        command: [command, ...args].join(' '),
        exitCode: spawnError ? null : code,
        signal,
        timedOut,
        seconds: ((exitedAt ?? performance.now()) - started) / 1000,
        peakRssKb,
        stdout,
        stderr: spawnError ? `${stderr}\nspawn error: ${spawnError.message}` : stderr,
      });
    });
  });
}

export function lastLines(text: string, count = 15): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}
