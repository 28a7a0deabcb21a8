import { appendFile, chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureDebianPackage, spawnDaemon, tail, type Daemon } from './child-process';
import { freePorts } from './free-port';
import { createTestCertificates } from './test-certificates';

const DOVECOT = '/usr/sbin/dovecot';

export interface DovecotUser {
  /**
   * Letters, digits and `. _ @ -` (Dovecot's auth_username_chars); `user@example.test` works.
   * Logins are case-insensitive, as with Dovecot's default auth_username_format = %Lu.
   */
  username: string;
  /** Any text, including `:` and non-ASCII (stored base64-encoded). */
  password: string;
}

export interface DovecotOptions {
  users: DovecotUser[];
  /**
   * 'none': plain IMAP only (`ssl = no`). 'starttls': one port offering STARTTLS.
   * 'both' (default): that port plus an implicit-TLS port.
   */
  tls?: 'none' | 'starttls' | 'both';
  /** Refuse LOGIN/AUTHENTICATE before STARTTLS on the plain port (LOGINDISABLED). See `host`. */
  requireStarttls?: boolean;
  /** IMAP hierarchy separator; on disk the maildir++ layout is used either way. Default '/'. */
  separator?: '/' | '.';
  /** How long to wait for the greeting before giving up. Default 15 s. */
  startTimeoutMs?: number;
  /** Refuse to store messages larger than this (APPEND answers NO [LIMIT]), as quotas do. */
  maxMessageBytes?: number;
  /**
   * Dovecot's `imap_capability`: the capabilities announced after login instead of Dovecot's
   * own, to stand in for a server without some of them (no LITERAL+, UNSELECT, SPECIAL-USE,
   * LIST-EXTENDED, …). Only the announcement changes: Dovecot still understands the commands.
   */
  imapCapability?: string;
  /**
   * IMAP METADATA (RFC 5464): folder and server annotations, kept per user in a file dict in
   * the home (`mail_attribute_dict`, `imap_metadata = yes`). Announces METADATA. Default off.
   */
  metadata?: boolean;
}

export interface DovecotServer {
  /**
   * '127.0.0.1', except with `requireStarttls`: Dovecot treats a connection whose local and
   * remote address are equal as secure and would allow plaintext login anyway, so the server
   * then listens on '127.0.0.2' (the client's source address stays 127.0.0.1).
   */
  host: '127.0.0.1' | '127.0.0.2';
  /** Plain IMAP, with STARTTLS unless tls is 'none'. */
  port: number;
  /** Implicit TLS (IMAPS), only when tls is 'both'. */
  tlsPort: number | null;
  /** CA that signed the server certificate (SAN: localhost, 127.0.0.1, 127.0.0.2). */
  caCertPem: string | null;
  separator: '/' | '.';
  /** Temp folder holding config, passwd-file, maildirs and logs; removed by stop(). */
  rootDir: string;
  /**
   * Adds a user to the passwd-file; no reload needed. Resolves once Dovecot will see it, which
   * takes until the next wall-clock second (up to 1 s).
   */
  addUser(user: DovecotUser): Promise<void>;
  /** Dovecot's log file followed by anything the master wrote to stdout/stderr. */
  logs(): Promise<string>;
  /** Stops every Dovecot process of this instance and deletes rootDir. Safe to call twice. */
  stop(): Promise<void>;
}

/** Folders every new mailbox gets, with the SPECIAL-USE flag Dovecot announces for them. */
export const DOVECOT_SPECIAL_USE_FOLDERS = {
  Drafts: '\\Drafts',
  Sent: '\\Sent',
  Trash: '\\Trash',
  Junk: '\\Junk',
} as const;

export interface MailOwner {
  uid: number;
  gid: number;
  /** Dovecot's own unprivileged user/group for its internal and login processes. */
  internalUser: string;
  internalGroup: string;
  loginUser: string;
}

/**
 * Starts a private Dovecot IMAP server on loopback: own config (no /etc/dovecot), own
 * base_dir/state_dir/log, users from a passwd-file, maildirs under a fresh temp folder.
 */
export async function startDovecot(options: DovecotOptions): Promise<DovecotServer> {
  const tls = options.tls ?? 'both';
  const requireStarttls = options.requireStarttls ?? false;
  if (requireStarttls && tls === 'none') throw new Error('requireStarttls needs tls "starttls" or "both"');
  const separator = options.separator ?? '/';
  const host = requireStarttls ? '127.0.0.2' : '127.0.0.1';
  for (const user of options.users) validateUser(user);
  assertUniqueUsernames(options.users);

  await ensureDebianPackage('dovecot-imapd', DOVECOT);
  const owner = await mailOwner();

  // Unix socket paths under base_dir are limited to 108 bytes: keep the folder short.
  const tmp = os.tmpdir().length > 40 ? '/tmp' : os.tmpdir();
  const rootDir = await mkdtemp(path.join(tmp, 'mailferry-dovecot-'));
  try {
    // mkdtemp creates 0700; Dovecot's auth process (user dovecot) reads the passwd-file and the
    // mail processes (owner.uid) must reach the homes below.
    await chmod(rootDir, 0o755);
    const homeRoot = path.join(rootDir, 'home');
    await mkdir(homeRoot);
    await mkdir(path.join(rootDir, 'state'));
    if (process.getuid?.() === 0) await chown(homeRoot, owner.uid, owner.gid);

    const passwdFile = path.join(rootDir, 'users');
    await writeFile(passwdFile, options.users.map(passwdLine).join(''), { mode: 0o644 });

    const certificates =
      tls === 'none'
        ? null
        : await createTestCertificates(path.join(rootDir, 'tls'), ['localhost', '127.0.0.1', '127.0.0.2']);

    const logPath = path.join(rootDir, 'dovecot.log');
    const configPath = path.join(rootDir, 'dovecot.conf');
    let daemon: Daemon | undefined;
    let port = 0;
    let tlsPort: number | null = null;
    for (let attempt = 1; ; attempt++) {
      const ports = await freePorts(tls === 'both' ? 2 : 1, host);
      port = ports[0] ?? 0;
      tlsPort = tls === 'both' ? (ports[1] ?? 0) : null;
      await writeFile(
        configPath,
        dovecotConfig({ rootDir, host, port, tlsPort, tls, requireStarttls, separator, owner, passwdFile, logPath, certificates, maxMessageBytes: options.maxMessageBytes, imapCapability: options.imapCapability, metadata: options.metadata ?? false }),
      );
      daemon = spawnDaemon(DOVECOT, ['-F', '-c', configPath], {
        outputFile: path.join(rootDir, 'master.out'),
        cwd: rootDir,
        removeOnExit: rootDir,
      });
      const ready = await waitForGreeting(daemon, logPath, host, port, tlsPort, options.startTimeoutMs ?? 15_000);
      if (ready === true) break;
      const log = `${await readFile(logPath, 'utf8').catch(() => '')}\n${await daemon.output()}`;
      await daemon.stop();
      // Another process may grab a port between freePorts() and Dovecot binding it.
      if (/Address already in use/.test(log) && attempt < 3) continue;
      throw new Error(`Dovecot did not start (${ready}). Log tail:\n${tail(log)}`);
    }
    const running = daemon;

    const logs = async () => {
      const log = await readFile(logPath, 'utf8').catch(() => '');
      const output = (await running.output()).trim();
      return output ? `${log}\n--- dovecot master stdout/stderr ---\n${output}\n` : log;
    };

    const usernames = new Set(options.users.map((user) => user.username.toLowerCase()));
    let stopping: Promise<void> | undefined;
    return {
      host,
      port,
      tlsPort,
      caCertPem: certificates?.caCertPem ?? null,
      separator,
      rootDir,
      async addUser(user) {
        validateUser(user);
        if (usernames.has(user.username.toLowerCase())) throw new Error(`Dovecot user ${user.username} already exists`);
        usernames.add(user.username.toLowerCase());
        await appendDovecotUser(passwdFile, user);
      },
      logs,
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
 * Adds a user to a running Dovecot's passwd-file (`<rootDir>/users`), also from another
 * process than the one that started it (the browser tests' workers). Resolves once Dovecot
 * will see the user.
 */
export async function appendDovecotUser(passwdFile: string, user: DovecotUser): Promise<void> {
  validateUser(user);
  await appendFile(passwdFile, passwdLine(user));
  // Dovecot stats the passwd-file at most once per second (per ioloop_time) and reloads it
  // when mtime or size changed. A lookup earlier in this second may have cached the old
  // content, so only from the next second on is the new user visible.
  const appendedSecond = Math.floor(Date.now() / 1000);
  await sleep((appendedSecond + 1) * 1000 - Date.now() + 20);
}

function validateUser(user: DovecotUser): void {
  // %u lands in the home path, the passwd-file is colon-separated, and Dovecot rejects any
  // character outside auth_username_chars before it looks at the passwd-file.
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(user.username) || user.username.includes('..')) {
    throw new Error(`unsupported Dovecot test username: ${JSON.stringify(user.username)}`);
  }
}

function assertUniqueUsernames(users: readonly DovecotUser[]): void {
  const seen = new Set<string>();
  for (const { username } of users) {
    if (seen.has(username.toLowerCase())) throw new Error(`Dovecot user ${username} is listed twice`);
    seen.add(username.toLowerCase());
  }
}

function passwdLine(user: DovecotUser): string {
  // PLAIN.B64 keeps any password (colons, newlines, UTF-8) out of the passwd-file syntax.
  const encoded = Buffer.from(user.password, 'utf8').toString('base64');
  // auth_username_format = %Lu lowercases the login name before the passwd-file lookup.
  return `${user.username.toLowerCase()}:{PLAIN.B64}${encoded}::::::\n`;
}

/** Who owns the mail of a private Dovecot (also used by the Exchange IMAP stand-in). */
export async function mailOwner(): Promise<MailOwner> {
  if (process.getuid?.() !== 0) {
    // Rootless Dovecot: every process, mail included, runs as the current user.
    const me = os.userInfo();
    // Several unix listeners are chowned to default_internal_group, which only root may do
    // for a group it is not in.
    const groups = await readFile('/etc/group', 'utf8').catch(() => '');
    const group = groups
      .split('\n')
      .map((line) => line.split(':'))
      .find((fields) => fields[2] === String(me.gid))?.[0];
    if (!group) throw new Error(`no name for group ${me.gid} in /etc/group; rootless Dovecot needs one`);
    return { uid: me.uid, gid: me.gid, internalUser: me.username, internalGroup: group, loginUser: me.username };
  }
  // Mail may not be owned by root (Dovecot refuses uid 0). `nobody` exists everywhere and
  // needs no useradd, which would change the machine and race between parallel workers.
  const passwd = await readFile('/etc/passwd', 'utf8');
  const nobody = passwd
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === 'nobody');
  const uid = Number(nobody?.[2] ?? 65534);
  const gid = Number(nobody?.[3] ?? 65534);
  return { uid, gid, internalUser: 'dovecot', internalGroup: 'dovecot', loginUser: 'dovenull' };
}

interface ConfigInput {
  rootDir: string;
  host: string;
  port: number;
  tlsPort: number | null;
  tls: 'none' | 'starttls' | 'both';
  requireStarttls: boolean;
  separator: '/' | '.';
  owner: MailOwner;
  passwdFile: string;
  logPath: string;
  certificates: { certPath: string; keyPath: string } | null;
  maxMessageBytes?: number;
  imapCapability?: string;
  metadata?: boolean;
}

function dovecotConfig(input: ConfigInput): string {
  const { rootDir, host, port, tlsPort, tls, requireStarttls, separator, owner, passwdFile, logPath } = input;
  if (/\s/.test(rootDir)) throw new Error(`Dovecot config paths may not contain spaces: ${rootDir}`);
  const isRoot = process.getuid?.() === 0;
  const ssl = tls === 'none' ? 'no' : requireStarttls ? 'required' : 'yes';
  const folders = Object.entries(DOVECOT_SPECIAL_USE_FOLDERS)
    .map(([name, flag]) => `  mailbox ${name} {\n    auto = subscribe\n    special_use = ${flag}\n  }`)
    .join('\n');

  return `# Written by test/helpers/dovecot.ts for one test run. Includes nothing from /etc/dovecot.
instance_name = mailferry-test-${port}
base_dir = ${rootDir}/run
state_dir = ${rootDir}/state
log_path = ${logPath}
protocols = imap
listen = ${host}
default_internal_user = ${owner.internalUser}
default_internal_group = ${owner.internalGroup}
default_login_user = ${owner.loginUser}
first_valid_uid = ${owner.uid}
last_valid_uid = ${owner.uid}
first_valid_gid = ${owner.gid}
last_valid_gid = ${owner.gid}

ssl = ${ssl}
${input.certificates ? `ssl_cert = <${input.certificates.certPath}\nssl_key = <${input.certificates.keyPath}` : ''}
disable_plaintext_auth = ${requireStarttls ? 'yes' : 'no'}
auth_mechanisms = plain login
# Default is 2 s per failed login, which would make wrong-password tests slow.
auth_failure_delay = 0
auth_verbose = yes

mail_location = maildir:~/Maildir
mail_fsync = never
${input.metadata ? 'mail_attribute_dict = file:%h/dovecot-attributes\n' : ''}${
  input.maxMessageBytes === undefined
    ? ''
    : `mail_plugins = $mail_plugins quota
plugin {
  quota = count:User quota
  quota_vsizes = yes
  quota_rule = *:storage=0
  quota_max_mail_size = ${input.maxMessageBytes}
}`
}

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${passwdFile}
}
userdb {
  driver = passwd-file
  args = username_format=%u ${passwdFile}
  default_fields = uid=${owner.uid} gid=${owner.gid} home=${rootDir}/home/%u
}

namespace inbox {
  inbox = yes
  separator = ${separator}
${folders}
}

protocol imap {
  # Default 10 per user and IP; migration tests open several sessions per account.
  mail_max_userip_connections = 100
${input.imapCapability === undefined ? '' : `  imap_capability = ${input.imapCapability}\n`}${input.metadata ? '  imap_metadata = yes\n' : ''}}

service anvil {
  # Dovecot delays every login from an IP for 4-15 s after a failed one (auth penalty), and
  # all test clients come from 127.0.0.1. login_trusted_networks would lift it but also marks
  # connections secured, defeating requireStarttls. When the auth process cannot open this
  # socket, it silently runs without penalties.
  unix_listener anvil-auth-penalty {
    mode = 0
  }
${isRoot ? '' : '  # Rootless: chroot needs root.\n  chroot =\n'}}

service imap-login {
  inet_listener imap {
    address = ${host}
    port = ${port}
  }
  # The built-in defaults also define imaps on 993: port 0 disables it.
  inet_listener imaps {
    address = ${host}
    port = ${tlsPort ?? 0}
    ssl = yes
  }
${isRoot ? '' : '  # Rootless: chroot needs root.\n  chroot =\n'}}
`;
}

/** Resolves true once the server greets with `* OK`, or a reason string if it never does. */
async function waitForGreeting(
  daemon: Daemon,
  logPath: string,
  host: string,
  port: number,
  tlsPort: number | null,
  timeoutMs: number,
): Promise<true | string> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no attempt';
  while (Date.now() < deadline) {
    if (daemon.hasExited()) {
      const { code, signal } = await daemon.exited;
      return `dovecot exited with ${signal ?? `code ${code}`}`;
    }
    // A service that cannot start (bad setting, chroot refused) makes the master retry it with
    // growing pauses instead of exiting.
    const fatal = /: Fatal: .*/.exec(await readFile(logPath, 'utf8').catch(() => ''));
    if (fatal) return `a Dovecot process failed${fatal[0]}`;
    try {
      const greeting = await readGreeting(host, port, 2_000, false);
      if (!greeting.startsWith('* OK')) return `unexpected greeting ${JSON.stringify(greeting)}`;
      // The master binds all listeners before forking; still, prove the TLS port is open too.
      if (tlsPort !== null) await readGreeting(host, tlsPort, 2_000, true);
      return true;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
      await sleep(50);
    }
  }
  return `no greeting on ${host}:${port} within ${timeoutMs} ms (last error: ${lastError})`;
}

/** Reads the first line the server sends; with `connectOnly` a TCP connect is enough. */
function readGreeting(host: string, port: number, timeoutMs: number, connectOnly: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffer = '';
    const finish = (error: Error | null, line = '') => {
      socket.destroy();
      if (error) reject(error);
      else resolve(line);
    };
    socket.setTimeout(timeoutMs, () => finish(new Error(`timeout waiting for ${host}:${port}`)));
    socket.once('error', (error) => finish(error));
    socket.once('connect', () => {
      if (connectOnly) finish(null);
    });
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      const end = buffer.indexOf('\r\n');
      if (end >= 0) finish(null, buffer.slice(0, end));
    });
    socket.once('end', () => finish(new Error(`${host}:${port} closed before greeting`)));
  });
}
