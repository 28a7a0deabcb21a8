/**
 * Playwright's web server: the real `npm start` path (embedded PostgreSQL, migrations, first
 * admin, production build when stale, worker, `next start`) on a fresh database of its own.
 *
 * It supervises scripts/start.ts as a child so that, whatever happens to it, no PostgreSQL,
 * `next build` or `next-server` outlives the test run: every process of the run carries a
 * marker in its environment, and whatever still carries it when start.ts has exited is
 * stopped by id. Processes left by an earlier run that was killed outright (its supervisor is
 * gone) are stopped the same way before the data folder is wiped. A lock file keeps a second
 * run from wiping the database of one that is still going.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDovecot, type DovecotServer } from '../test/helpers/dovecot';
import { baseURL, e2e, type E2eMailServer } from './env';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const MARKER = 'MAILFERRY_E2E_RUN';
const runId = `${process.pid}:${randomUUID()}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** pid → value of MAILFERRY_E2E_RUN, for every process that has it (root reads every environ). */
function markedProcesses(): Map<number, string> {
  const found = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const variable = readFileSync(`/proc/${pid}/environ`, 'latin1')
        .split('\0')
        .find((item) => item.startsWith(`${MARKER}=`));
      if (variable) found.set(pid, variable.slice(MARKER.length + 1));
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return found;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

async function stopProcesses(pids: number[], why: string): Promise<void> {
  if (pids.length === 0) return;
  console.error(`[e2e-server] stopping ${why}: ${pids.map((pid) => `${pid} (${commandOf(pid)})`).join(', ')}`);
  for (const pid of pids) {
    try {
      // SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for its clients.
      process.kill(pid, commandOf(pid) === 'postgres' ? 'SIGINT' : 'SIGTERM');
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 100 && pids.some(isAlive); i++) await sleep(100);
  for (const pid of pids.filter(isAlive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * One run at a time: a second one would wipe the first one's database and fight over its
 * ports. The lock names the supervisor's pid; a lock whose process is gone is taken over.
 */
const lockFile = `${e2e.dataDir}.lock`;

function isSupervisor(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('e2e/server.ts');
  } catch {
    return false;
  }
}

function acquireLock(): void {
  try {
    writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const holder = Number(readFileSync(lockFile, 'utf8').trim());
    if (holder !== process.pid && isAlive(holder) && isSupervisor(holder)) {
      console.error(
        `[e2e-server] Another browser-test run (pid ${holder}) is using ${e2e.dataDir} and port ${e2e.port}. ` +
          'Wait for it to finish; running both would wipe its database.',
      );
      process.exit(1);
    }
    writeFileSync(lockFile, `${process.pid}\n`);
  }
  process.on('exit', () => {
    try {
      if (Number(readFileSync(lockFile, 'utf8').trim()) === process.pid) unlinkSync(lockFile);
    } catch {
      // already gone
    }
  });
}

/** Processes of an earlier run whose supervisor no longer exists. */
async function stopStaleRuns(): Promise<void> {
  const stale = [...markedProcesses()]
    .filter(([, value]) => !isAlive(Number(value.split(':')[0])))
    .map(([pid]) => pid);
  await stopProcesses(stale, 'processes left by an earlier e2e run');
}

/** Anything this run started that start.ts did not stop itself. */
async function stopLeftovers(): Promise<void> {
  const ours = [...markedProcesses()].filter(([, value]) => value === runId).map(([pid]) => pid);
  await stopProcesses(ours, 'processes start.ts left behind');
}

async function main(): Promise<void> {
  acquireLock();
  await stopStaleRuns();
  await fs.rm(e2e.dataDir, { recursive: true, force: true });
  await fs.mkdir(e2e.dataDir, { recursive: true });
  const log = createWriteStream(path.join(e2e.dataDir, 'server.log'));

  // A private Dovecot for the migrations the specs run. It carries the run's marker, so it is
  // stopped with the rest if this supervisor is killed outright.
  process.env[MARKER] = runId;
  dovecot = await startDovecot({ users: [], tls: 'none' });
  const mailServer: E2eMailServer = { host: dovecot.host, port: dovecot.port, usersFile: path.join(dovecot.rootDir, 'users') };
  await fs.writeFile(e2e.mailServerFile, JSON.stringify(mailServer));

  const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'scripts', 'start.ts')], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      [MARKER]: runId,
      NODE_ENV: 'production',
      PORT: String(e2e.port),
      HOSTNAME: '127.0.0.1',
      MAILFERRY_PG_PORT: String(e2e.pgPort),
      MAILFERRY_DATA_DIR: e2e.dataDir,
      MAILFERRY_ADMIN_EMAIL: e2e.adminEmail,
      MAILFERRY_ADMIN_PASSWORD: e2e.adminPassword,
      MAILFERRY_WORKER_CONCURRENCY: '1',
      NEXTAUTH_URL: baseURL,
      NEXTAUTH_SECRET: '',
      DATABASE_URL: '',
      NEXT_TELEMETRY_DISABLED: '1',
      MAILFERRY_TIMEZONE: e2e.timeZone,
      // The run's Dovecot is on loopback, which the portal refuses unless allowed.
      MAILFERRY_ALLOWED_HOSTS: `${dovecot.host}/32:${dovecot.port}`,
      MAILFERRY_INSECURE_HOSTS: dovecot.host,
    },
  });
  // Playwright shows the web server's stderr (warnings, errors) and drops its stdout; both go to the log.
  child.stdout.on('data', (chunk: Buffer) => {
    log.write(chunk);
    process.stdout.write(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    log.write(chunk);
    process.stderr.write(chunk);
  });
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // Playwright signals the whole process group, so start.ts usually has it already.
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => stop('SIGTERM'));

  const code = await exited;
  await dovecot.stop().catch(() => undefined);
  await stopLeftovers();
  log.end();
  process.exit(stopping ? 0 : code || 1);
}

let dovecot: DovecotServer | undefined;

main().catch((error: Error) => {
  console.error(`[e2e-server] ${error.stack ?? error.message}`);
  void Promise.resolve(dovecot?.stop())
    .catch(() => undefined)
    .then(stopLeftovers)
    .finally(() => process.exit(1));
});

