import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLogger } from '../logger';
import { projectRoot } from './data-dir';

const log = createLogger('web');
const nextBin = path.join(projectRoot, 'node_modules', 'next', 'dist', 'bin', 'next');
const stampFile = path.join(projectRoot, '.next', 'mailferry-source-hash');
const sourceRoots = ['app', 'components', 'server', 'public', 'prisma/schema.prisma', 'next.config.ts', 'postcss.config.mjs', 'tsconfig.json', 'package-lock.json'];

async function listFiles(entry: string): Promise<string[]> {
  const full = path.join(projectRoot, entry);
  if (!existsSync(full)) return [];
  const stat = await fs.stat(full);
  if (!stat.isDirectory()) return [entry];
  const out: string[] = [];
  for (const child of await fs.readdir(full, { withFileTypes: true })) {
    if (child.name === 'generated' || child.name.endsWith('.test.ts')) continue;
    out.push(...(await listFiles(path.join(entry, child.name))));
  }
  return out;
}

/** A digest of everything the production build is made from. */
export async function sourceHash(): Promise<string> {
  const hash = createHash('sha256');
  const files = (await Promise.all(sourceRoots.map(listFiles))).flat().sort();
  for (const file of files) {
    hash.update(file);
    hash.update(await fs.readFile(path.join(projectRoot, file)));
  }
  return hash.digest('hex');
}

function runNext(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  // Its own process group, so stopping it also stops the next-server child it forks.
  return spawn(process.execPath, [nextBin, ...args], { cwd: projectRoot, env, stdio: 'inherit', detached: true });
}

/** Builds the web app when the sources changed since the last build (or none exists). */
export async function buildIfStale(env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<boolean> {
  const current = await sourceHash();
  const previous = existsSync(stampFile) ? (await fs.readFile(stampFile, 'utf8')).trim() : null;
  if (previous === current && existsSync(path.join(projectRoot, '.next', 'BUILD_ID'))) return false;
  log.info('building the web app (first start or changed sources) ...');
  const child = runNext(['build'], { ...env, NODE_ENV: 'production' });
  // Stopping during the build stops the whole build process group.
  const abort = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  signal?.addEventListener('abort', abort, { once: true });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  signal?.removeEventListener('abort', abort);
  if (signal?.aborted) throw new Error('The build was stopped.');
  if (code !== 0) throw new Error(`The web app build failed (exit code ${code}).`);
  await fs.writeFile(stampFile, `${current}\n`);
  return true;
}

export interface WebServer {
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

const clientAddressPreload = pathToFileURL(path.join(projectRoot, 'server', 'runtime', 'forwarded-for-preload.mjs')).href;

export function startWebServer(options: { port: number; hostname: string; dev: boolean; env: NodeJS.ProcessEnv }): WebServer {
  // Through NODE_OPTIONS, so a server process Next forks has it too.
  const nodeOptions = [options.env.NODE_OPTIONS, `--import=${clientAddressPreload}`].filter(Boolean).join(' ');
  const child = runNext([options.dev ? 'dev' : 'start', '--port', String(options.port), '--hostname', options.hostname], { ...options.env, NODE_OPTIONS: nodeOptions });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stopping: Promise<void> | undefined;
  return {
    exited,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
        const group = -child.pid;
        try {
          process.kill(group, 'SIGTERM');
        } catch {
          return;
        }
        const timer = setTimeout(() => {
          try {
            process.kill(group, 'SIGKILL');
          } catch {
            // already gone
          }
        }, 10_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
