import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureDebianPackage, spawnDaemon, tail, type Daemon } from './child-process';
import { freePorts } from './free-port';

const XANDIKOS = '/usr/bin/xandikos';

export interface XandikosServer {
  /** `http://127.0.0.1:PORT/`: discovery starts here (/.well-known/caldav redirects to it). */
  url: string;
  port: number;
  /** The one user's principal, `/user/`; its homes are `/user/calendars/` and `/user/contacts/`. */
  principalPath: string;
  /** The collections `--defaults` creates: a calendar (all components) and an address book. */
  defaultCalendar: string;
  defaultAddressBook: string;
  rootDir: string;
  logs(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A private Xandikos (Debian's CalDAV/CardDAV server, git-backed storage) on loopback with its
 * own folder and port, and its default calendar and address book.
 *
 * Authentication: Xandikos has none of its own. It serves one principal and leaves logins to
 * a reverse proxy in front of it. The copy sends Basic credentials anyway and Xandikos ignores
 * them, so no proxy is put in front: what is tested here is how the copy meets another
 * server's DAV (layout under a principal, extended MKCOL, its DAV features, its ETags, its
 * `calendar-auto-scheduling`), while logins and 401s are tested against Radicale.
 */
export async function startXandikos(options: { startTimeoutMs?: number } = {}): Promise<XandikosServer> {
  await ensureDebianPackage('xandikos', XANDIKOS);
  const rootDir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-xandikos-'));
  const logPath = path.join(rootDir, 'xandikos.log');
  try {
    for (let attempt = 1; ; attempt++) {
      const port = (await freePorts(1))[0] ?? 0;
      const daemon = spawnDaemon(XANDIKOS, ['--defaults', '-d', path.join(rootDir, 'data'), '-l', '127.0.0.1', '-p', String(port), '--current-user-principal', '/user/'], {
        outputFile: logPath,
        cwd: rootDir,
        removeOnExit: rootDir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: rootDir, LANG: 'C.UTF-8', NODE_ENV: process.env.NODE_ENV ?? 'test' },
      });
      const url = `http://127.0.0.1:${port}/`;
      const ready = await waitForDav(daemon, `${url}user/calendars/calendar/`, options.startTimeoutMs ?? 20_000);
      if (ready !== true) {
        const log = await daemon.output();
        await daemon.stop();
        if (/address already in use/i.test(log) && attempt < 3) continue;
        throw new Error(`Xandikos did not start (${ready}). Log tail:\n${tail(log)}`);
      }
      let stopping: Promise<void> | undefined;
      return {
        url,
        port,
        principalPath: '/user/',
        defaultCalendar: `${url}user/calendars/calendar/`,
        defaultAddressBook: `${url}user/contacts/addressbook/`,
        rootDir,
        logs: () => daemon.output(),
        stop() {
          stopping ??= (async () => {
            await daemon.stop();
            await rm(rootDir, { recursive: true, force: true });
          })();
          return stopping;
        },
      };
    }
  } catch (error) {
    await rm(rootDir, { recursive: true, force: true });
    throw error;
  }
}

/** True once the default calendar answers PROPFIND (Xandikos creates it on start), else a reason. */
async function waitForDav(daemon: Daemon, url: string, timeoutMs: number): Promise<true | string> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt';
  while (Date.now() < deadline) {
    if (daemon.hasExited()) {
      const { code, signal } = await daemon.exited;
      return `xandikos exited with ${signal ?? `code ${code}`}`;
    }
    try {
      const response = await fetch(url, { method: 'PROPFIND', headers: { depth: '0' }, signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 207) return true;
      last = `status ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(100);
  }
  return `no DAV answer from ${url} within ${timeoutMs} ms (last: ${last})`;
}
