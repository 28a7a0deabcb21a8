import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureDebianPackage, spawnDaemon, tail, type Daemon } from './child-process';
import { freePorts } from './free-port';

const RADICALE = '/usr/bin/radicale';

export interface RadicaleUser {
  /** Letters, digits and `. _ @ + -`; it is also the name of the user's principal collection. */
  username: string;
  /** Any text without line breaks. */
  password: string;
}

export interface RadicaleOptions {
  users: RadicaleUser[];
  /** How long to wait for the first HTTP answer. Default 15 s. */
  startTimeoutMs?: number;
  /** Larger request bodies are answered 413 (Radicale's max_content_length). Default: Radicale's 100 MB. */
  maxContentLength?: number;
}

export type CalendarComponent = 'VEVENT' | 'VTODO' | 'VJOURNAL';

export interface CalendarSpec {
  /** Last path segment of the collection, e.g. 'work' for /alice/work/. */
  slug: string;
  displayName?: string;
  /** Defaults to VEVENT and VTODO. */
  components?: CalendarComponent[];
}

export interface AddressBookSpec {
  slug: string;
  displayName?: string;
}

export interface CollectionSpec {
  /** A string is shorthand for `{ slug }`. */
  calendars?: (string | CalendarSpec)[];
  addressBooks?: (string | AddressBookSpec)[];
}

export interface CreatedCollections {
  /** Absolute URLs, each ending in '/'. */
  calendars: string[];
  addressBooks: string[];
}

export interface RadicaleServer {
  /** Base URL, `http://127.0.0.1:PORT/`; a user's principal and home is `${url}${username}/`. */
  url: string;
  port: number;
  /** Temp folder holding config, htpasswd file, collections and log; removed by stop(). */
  rootDir: string;
  /** Appends to the htpasswd file; Radicale reads it on every request, so it applies at once. */
  addUser(user: RadicaleUser): Promise<void>;
  /** MKCALENDAR / MKCOL as `user`, whose password must be known to this server. */
  createCollections(username: string, spec: CollectionSpec): Promise<CreatedCollections>;
  /** Radicale's log (level info: one line per request). */
  logs(): Promise<string>;
  /** Stops Radicale and deletes rootDir. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a private Radicale CalDAV/CardDAV server on loopback: own config file (the system's
 * /etc/radicale/config is not read), htpasswd users, storage in a fresh temp folder.
 */
export async function startRadicale(options: RadicaleOptions): Promise<RadicaleServer> {
  const users = new Map<string, string>();
  for (const user of options.users) {
    validateUser(user);
    if (users.has(user.username)) throw new Error(`Radicale user ${user.username} is listed twice`);
    users.set(user.username, user.password);
  }

  await ensureDebianPackage('radicale', RADICALE);

  const rootDir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-radicale-'));
  try {
    const htpasswdFile = path.join(rootDir, 'users');
    await writeFile(htpasswdFile, options.users.map(htpasswdLine).join(''), { mode: 0o600 });
    const configPath = path.join(rootDir, 'config');
    const logPath = path.join(rootDir, 'radicale.log');

    let daemon: Daemon | undefined;
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = (await freePorts(1))[0] ?? 0;
      await writeFile(configPath, radicaleConfig({ rootDir, port, htpasswdFile, maxContentLength: options.maxContentLength }));
      daemon = spawnDaemon(RADICALE, ['--config', configPath], {
        outputFile: logPath,
        cwd: rootDir,
        removeOnExit: rootDir,
        env: radicaleEnv(),
      });
      const ready = await waitForHttp(daemon, `http://127.0.0.1:${port}/`, options.startTimeoutMs ?? 15_000);
      if (ready === true) break;
      const log = await daemon.output();
      await daemon.stop();
      // Another process may take the port between freePorts() and Radicale binding it.
      if (/Address already in use/i.test(log) && attempt < 3) continue;
      throw new Error(`Radicale did not start (${ready}). Log tail:\n${tail(log)}`);
    }
    const running = daemon;
    const url = `http://127.0.0.1:${port}/`;

    let stopping: Promise<void> | undefined;
    return {
      url,
      port,
      rootDir,
      async addUser(user) {
        validateUser(user);
        if (users.has(user.username)) throw new Error(`Radicale user ${user.username} already exists`);
        users.set(user.username, user.password);
        await appendFile(htpasswdFile, htpasswdLine(user));
      },
      async createCollections(username, spec) {
        const password = users.get(username);
        if (password === undefined) throw new Error(`unknown Radicale user ${username}`);
        return createCollections(url, { username, password }, spec);
      },
      logs: () => running.output(),
      stop() {
        stopping ??= (async () => {
          await running.stop();
          await rm(rootDir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (error) {
    await rm(rootDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Creates calendars (MKCALENDAR) and address books (extended MKCOL, RFC 5689) in the home of
 * `user` on any CalDAV/CardDAV server whose collections live at `${baseUrl}${username}/`.
 */
export async function createCollections(
  baseUrl: string,
  user: RadicaleUser,
  spec: CollectionSpec,
): Promise<CreatedCollections> {
  const home = new URL(`${encodeURIComponent(user.username)}/`, baseUrl);
  const authorization = basicAuth(user);
  const created: CreatedCollections = { calendars: [], addressBooks: [] };

  for (const entry of spec.calendars ?? []) {
    const calendar = typeof entry === 'string' ? { slug: entry } : entry;
    const components = calendar.components ?? ['VEVENT', 'VTODO'];
    const target = collectionUrl(home, calendar.slug);
    await davRequest(target, 'MKCALENDAR', authorization, `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop>
    <D:displayname>${escapeXml(calendar.displayName ?? calendar.slug)}</D:displayname>
    <C:supported-calendar-component-set>${components.map((name) => `<C:comp name="${name}"/>`).join('')}</C:supported-calendar-component-set>
  </D:prop></D:set>
</C:mkcalendar>`);
    created.calendars.push(target.href);
  }

  for (const entry of spec.addressBooks ?? []) {
    const book = typeof entry === 'string' ? { slug: entry } : entry;
    const target = collectionUrl(home, book.slug);
    await davRequest(target, 'MKCOL', authorization, `<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">
  <D:set><D:prop>
    <D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>
    <D:displayname>${escapeXml(book.displayName ?? book.slug)}</D:displayname>
  </D:prop></D:set>
</D:mkcol>`);
    created.addressBooks.push(target.href);
  }
  return created;
}

/** `Authorization` header value for HTTP Basic auth (UTF-8 credentials). */
export function basicAuth(user: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${user.username}:${user.password}`, 'utf8').toString('base64')}`;
}

function collectionUrl(home: URL, slug: string): URL {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(slug)) throw new Error(`unsupported collection slug ${JSON.stringify(slug)}`);
  return new URL(`${slug}/`, home);
}

async function davRequest(target: URL, method: string, authorization: string, body: string): Promise<void> {
  const response = await fetch(target, {
    method,
    headers: { authorization, 'content-type': 'application/xml; charset=utf-8' },
    body,
  });
  const text = await response.text();
  if (response.status !== 201) {
    throw new Error(`${method} ${target.href} answered ${response.status}: ${text.slice(0, 500)}`);
  }
}

function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function validateUser(user: RadicaleUser): void {
  // The username is a path segment of the principal and the htpasswd file is colon-separated.
  if (!/^[A-Za-z0-9][A-Za-z0-9._@+-]*$/.test(user.username) || user.username.includes('..')) {
    throw new Error(`unsupported Radicale test username: ${JSON.stringify(user.username)}`);
  }
  if (/[\r\n]/.test(user.password)) throw new Error('Radicale test passwords may not contain line breaks');
}

function htpasswdLine(user: RadicaleUser): string {
  // htpasswd_encryption = plain: Radicale splits at the first ':' only, so the password may hold colons.
  return `${user.username}:${user.password}\n`;
}

function radicaleEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  // Radicale would otherwise also read the config files listed here.
  delete env.RADICALE_CONFIG;
  // /usr/bin/radicale runs the system python; a pyenv or virtualenv PYTHONPATH could shadow its modules.
  delete env.PYTHONPATH;
  delete env.PYTHONHOME;
  return env;
}

function radicaleConfig(input: { rootDir: string; port: number; htpasswdFile: string; maxContentLength?: number }): string {
  return `# Written by test/helpers/radicale.ts for one test run.
[server]
hosts = 127.0.0.1:${input.port}
max_connections = 20
timeout = 30
${input.maxContentLength !== undefined ? `max_content_length = ${input.maxContentLength}\n` : ''}
[auth]
type = htpasswd
htpasswd_filename = ${input.htpasswdFile}
# Radicale 3.1 needs passlib[bcrypt] for bcrypt, which Debian does not pull in; plain is enough here.
htpasswd_encryption = plain
# Default 1 s sleep after every failed login would slow down wrong-password tests.
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = ${input.rootDir}/collections

[web]
type = none

[logging]
level = info
mask_passwords = True
`;
}

/** Resolves true once the server answers HTTP at all, or a reason string if it never does. */
async function waitForHttp(daemon: Daemon, url: string, timeoutMs: number): Promise<true | string> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no attempt';
  while (Date.now() < deadline) {
    if (daemon.hasExited()) {
      const { code, signal } = await daemon.exited;
      return `radicale exited with ${signal ?? `code ${code}`}`;
    }
    try {
      const response = await fetch(url, { method: 'OPTIONS', signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      return true;
    } catch (error) {
      lastError = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      await sleep(50);
    }
  }
  return `no HTTP answer from ${url} within ${timeoutMs} ms (last error: ${lastError})`;
}
