import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run, spawnDaemon, tail, type Daemon } from './child-process';
import { freePorts } from './free-port';
import { createDavHomes, davImapdConf, installSendmail, readSentMail, waitForHttp, type CyrusDav } from './cyrus-dav';
import { ensureCyrusAndCourier, ensureCyrusDav, libraryPath } from './imap-packages';
import type { ImapServerOptions, ImapTestServer, ImapTestUser } from './imap-server';
import { expectOk, openRawImap, quoteImap, waitForImapGreeting } from './raw-imap-session';
import { systemMailOwner, type SystemMailOwner } from './system-mail-owner';

/**
 * The folders Kolab creates for a new user, with the SPECIAL-USE attribute it gives them
 * (Kolab's `Spam` is the `\Junk` folder).
 */
export const KOLAB_FOLDERS = {
  Sent: '\\Sent',
  Drafts: '\\Drafts',
  Trash: '\\Trash',
  Spam: '\\Junk',
} as const;

/** Kolab's Cyrus administrator: creates user mailboxes, as `cyradm` does. */
export const CYRUS_ADMIN = 'cyrus-admin';

/**
 * `protocolLog` (see ImapServerOptions) keeps a transcript of every session of the users:
 * Cyrus's telemetry log, a folder per user under `configdirectory/log/`. It costs a copy of
 * all traffic on disk, so measurements turn it off.
 */
export interface CyrusOptions extends ImapServerOptions {
  /** How long to wait for the greeting. Default 15 s. */
  startTimeoutMs?: number;
  /**
   * Also run Cyrus's httpd: CalDAV and CardDAV with implicit scheduling (RFC 6638), iMIP to a
   * recording sendmail (see cyrus-dav.ts). Users log in as `name@example.org`. Default false.
   */
  dav?: boolean;
}

export interface CyrusServer extends ImapTestServer {
  kind: 'cyrus';
  /** The administrator (see CYRUS_ADMIN) with its random password. */
  admin: ImapTestUser;
  /** Present when started with `dav: true`. */
  dav?: CyrusDav;
}

/**
 * Starts a private Cyrus IMAP in Kolab's configuration (`unixhierarchysep`, `altnamespace`,
 * `virtdomains: userid`) on loopback: own imapd.conf and cyrus.conf (nothing from /etc), SASL
 * users in a private sasldb, mail under a fresh temp folder. Cyrus's own rules stay as they
 * are (forbidden characters in names, munge8bit, one folder per special-use attribute).
 */
export async function startCyrus(options: CyrusOptions): Promise<CyrusServer> {
  const precreate = options.precreate ?? true;
  const protocolLog = options.protocolLog ?? true;
  for (const user of options.users) validateUser(user);
  assertUnique(options.users);
  const { cyrusRoot } = await ensureCyrusAndCourier();
  if (options.dav) await ensureCyrusDav();
  const owner = await systemMailOwner();

  // Cyrus's unix sockets (lmtp, idle) live below: keep the path short.
  const tmp = os.tmpdir().length > 40 ? '/tmp' : os.tmpdir();
  const rootDir = await mkdtemp(path.join(tmp, 'mailferry-cyrus-'));
  let daemon: Daemon | undefined;
  try {
    await chmod(rootDir, 0o755);
    for (const dir of ['conf', 'conf/socket', 'spool', 'sieve', 'run', 'run/socket']) await mkdir(path.join(rootDir, dir));
    const configPath = path.join(rootDir, 'imapd.conf');
    const sasldb = path.join(rootDir, 'sasldb2');
    const admin = { username: CYRUS_ADMIN, password: randomPassword() };
    await setSaslPassword(sasldb, admin);
    for (const user of options.users) await setSaslPassword(sasldb, user);
    await writeFile(path.join(rootDir, 'annotations.conf'), KOLAB_ANNOTATIONS);
    const mail = options.dav ? await installSendmail(rootDir) : undefined;
    await writeFile(configPath, imapdConf(rootDir, owner, sasldb) + (mail ? davImapdConf(mail.sendmail) : ''));
    if (process.getuid?.() === 0) await chownTree(rootDir, owner);

    const env = { ...process.env, LD_LIBRARY_PATH: libraryPath(cyrusRoot) };
    const bin = (name: string) => path.join(cyrusRoot, 'usr/lib/cyrus/bin', name);
    const outputFile = path.join(rootDir, 'master.out');
    let port = 0;
    let httpPort = 0;
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      [port = 0, httpPort = 0] = await freePorts(options.dav ? 2 : 1, '127.0.0.1');
      const cyrusConfPath = path.join(rootDir, 'cyrus.conf');
      await writeFile(cyrusConfPath, cyrusConf(bin, configPath, port, options.dav ? httpPort : undefined));
      daemon = spawnDaemon(bin('master'), ['-C', configPath, '-M', cyrusConfPath, '-p', path.join(rootDir, 'run/master.pid'), '-D'], {
        outputFile,
        cwd: rootDir,
        env,
        removeOnExit: rootDir,
      });
      const running: Daemon = daemon;
      let ready = await waitForImapGreeting('127.0.0.1', port, options.startTimeoutMs ?? 15_000, () => running.hasExited());
      if (ready === true && options.dav) ready = await waitForHttp(`http://127.0.0.1:${httpPort}/`, options.startTimeoutMs ?? 15_000, () => running.hasExited());
      if (ready === true) break;
      const output = await daemon.output();
      await daemon.stop();
      // Another process may take the port between freePorts() and the master binding it.
      if (/Address already in use|unable to bind/i.test(output) && attempt < 3) continue;
      throw new Error(`Cyrus did not start (${ready}). Master output:\n${tail(output)}`);
    }
    const running = daemon;
    const startSeconds = (performance.now() - started) / 1000;

    const known = new Set<string>();
    const addUser = async (user: ImapTestUser, withSasl: boolean) => {
      validateUser(user);
      const name = user.username.toLowerCase();
      if (known.has(name)) throw new Error(`Cyrus user ${user.username} already exists`);
      known.add(name);
      if (withSasl) {
        await setSaslPassword(sasldb, user);
        if (process.getuid?.() === 0) await chown(sasldb, owner.uid, owner.gid);
      }
      if (protocolLog) {
        const dir = path.join(rootDir, 'conf/log', name);
        await mkdir(dir, { recursive: true });
        if (process.getuid?.() === 0) await run('chown', ['-R', `${owner.uid}:${owner.gid}`, path.join(rootDir, 'conf/log')]);
      }
      await createUserMailbox(port, admin, name);
      if (precreate) await precreateKolabFolders(port, user);
      if (options.dav) await createDavHomes(`http://127.0.0.1:${httpPort}/`, user);
    };
    for (const user of options.users) await addUser(user, false);

    let stopping: Promise<void> | undefined;
    return {
      kind: 'cyrus',
      host: '127.0.0.1',
      port,
      separator: '/',
      personalPrefix: '',
      rootDir,
      admin,
      ...(mail && {
        dav: { url: `http://127.0.0.1:${httpPort}/`, port: httpPort, sentMail: () => readSentMail(mail.outbox) },
      }),
      addUser: (user) => addUser(user, true),
      async logs() {
        // Cyrus logs only to syslog, which a test machine may not have: the master's own output
        // and the session transcripts are what there is.
        const output = (await running.output()).trim();
        return `Cyrus master on 127.0.0.1:${port}, greeting after ${startSeconds.toFixed(2)} s; config ${configPath}\n${output}\n${await transcripts(path.join(rootDir, 'conf/log'))}`;
      },
      stop() {
        stopping ??= (async () => {
          await running.stop();
          await rm(rootDir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (error) {
    // Set-up after the start (users, precreated folders) can fail too.
    await daemon?.stop().catch(() => undefined);
    await rm(rootDir, { recursive: true, force: true });
    throw error;
  }
}

/** The telemetry logs, one file per session (`<user>/<pid>`), each cut to its last lines. */
async function transcripts(logRoot: string): Promise<string> {
  const users = await readdir(logRoot).catch(() => [] as string[]);
  const parts: string[] = [];
  for (const user of users.sort()) {
    const files = await readdir(path.join(logRoot, user)).catch(() => [] as string[]);
    for (const file of files.sort()) {
      const text = await readFile(path.join(logRoot, user, file), 'latin1').catch(() => '');
      if (text) parts.push(`--- session of ${user} (imapd ${file}) ---\n${tail(text, 200)}\n`);
    }
  }
  return parts.join('');
}

/** `CREATE user/NAME` as the administrator: how cyradm (and Kolab) make a user's INBOX. */
async function createUserMailbox(port: number, admin: ImapTestUser, username: string): Promise<void> {
  const session = await openRawImap('127.0.0.1', port, admin);
  try {
    await expectOk(session, `CREATE ${quoteImap(`user/${username}`)}`);
  } finally {
    session.close();
  }
}

/** Kolab's folders, created and subscribed by the user; Kolab leaves INBOX unsubscribed. */
async function precreateKolabFolders(port: number, user: ImapTestUser): Promise<void> {
  const session = await openRawImap('127.0.0.1', port, user);
  try {
    for (const [name, use] of Object.entries(KOLAB_FOLDERS)) {
      await expectOk(session, `CREATE ${quoteImap(name)} (USE (${use}))`);
      await expectOk(session, `SUBSCRIBE ${quoteImap(name)}`);
    }
    await session.command('LOGOUT');
  } finally {
    session.close();
  }
}

function validateUser(user: ImapTestUser): void {
  // virtdomains: userid splits at '@' (user part + domain); '/' is the hierarchy separator and
  // saslpasswd2 takes the name as an argument.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9][A-Za-z0-9.-]*)?$/.test(user.username)) {
    throw new Error(`unsupported Cyrus test username: ${JSON.stringify(user.username)}`);
  }
  if (user.password.includes('\n') || user.password.length === 0) throw new Error('Cyrus test passwords must be one non-empty line');
}

function assertUnique(users: readonly ImapTestUser[]): void {
  const seen = new Set<string>();
  for (const { username } of users) {
    if (seen.has(username.toLowerCase())) throw new Error(`Cyrus user ${username} is listed twice`);
    seen.add(username.toLowerCase());
  }
}

/**
 * With `virtdomains: userid` Cyrus hands SASL `user@domain` as user + realm, and an unqualified
 * login gets saslpasswd2's own default realm (the host name) on both sides.
 */
async function setSaslPassword(sasldb: string, user: ImapTestUser): Promise<void> {
  const at = user.username.lastIndexOf('@');
  const name = (at < 0 ? user.username : user.username.slice(0, at)).toLowerCase();
  const realm = at < 0 ? [] : ['-u', user.username.slice(at + 1).toLowerCase()];
  await runWithInput('saslpasswd2', ['-p', '-c', '-f', sasldb, ...realm, name], user.password);
}

function runWithInput(command: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`\`${command} ${args.join(' ')}\` failed: ${stderr.trim() || error.message}`));
      else resolve();
    });
    child.stdin?.end(input);
  });
}

async function chownTree(dir: string, owner: SystemMailOwner): Promise<void> {
  await run('chown', ['-R', `${owner.uid}:${owner.gid}`, dir]);
}

function randomPassword(): string {
  return `admin-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
}

/** Kolab's folder-type annotations (`/vendor/kolab/folder-type`), which its groupware folders carry. */
const KOLAB_ANNOTATIONS = `/vendor/kolab/folder-type,mailbox,string,backend,value.shared value.priv,a
/vendor/kolab/incidences-for,mailbox,string,backend,value.shared value.priv,a
/vendor/kolab/uniqueid,mailbox,string,backend,value.shared value.priv,a
/vendor/kolab/color,mailbox,string,backend,value.shared value.priv,a
/vendor/kolab/displayname,mailbox,string,backend,value.shared value.priv,a
`;

function imapdConf(rootDir: string, owner: SystemMailOwner, sasldb: string): string {
  if (/\s/.test(rootDir)) throw new Error(`Cyrus config paths may not contain spaces: ${rootDir}`);
  return `# Written by test/helpers/cyrus.ts for one test run: Kolab's settings, every path private.
configdirectory: ${rootDir}/conf
defaultpartition: default
partition-default: ${rootDir}/spool
sievedir: ${rootDir}/sieve
proc_path: ${rootDir}/run/proc
mboxname_lockpath: ${rootDir}/run/lock
lmtpsocket: ${rootDir}/run/socket/lmtp
idlesocket: ${rootDir}/run/socket/idle
notifysocket: ${rootDir}/run/socket/notify
cyrus_user: ${owner.user}
cyrus_group: ${owner.group}
admins: ${CYRUS_ADMIN}
annotation_definitions: ${rootDir}/annotations.conf

# Loopback test server: plaintext LOGIN without TLS.
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: ${sasldb}
sasl_mech_list: PLAIN LOGIN
# Default 3 s after every failed login, which would make wrong-password tests slow.
failedloginpause: 0

# Kolab (kolab.org's imapd.conf)
unixhierarchysep: 1
altnamespace: 1
virtdomains: userid
username_tolower: 1
hashimapspool: 1
fulldirhash: 0
allowusermoves: 1
lmtp_downcase_rcpt: 1
deletedprefix: DELETED
delete_mode: delayed
expunge_mode: delayed
umask: 077
`;
}

function cyrusConf(bin: (name: string) => string, configPath: string, port: number, httpPort?: number): string {
  const http = httpPort ? `\n  http cmd="${bin('httpd')} -C ${configPath}" listen="127.0.0.1:${httpPort}" prefork=1 maxchild=100` : '';
  return `# Written by test/helpers/cyrus.ts: IMAP (and with dav, HTTP) on loopback only, no POP, LMTP or sieve.
START {
  recover cmd="${bin('ctl_cyrusdb')} -C ${configPath} -r"
}
SERVICES {
  imap cmd="${bin('imapd')} -C ${configPath}" listen="127.0.0.1:${port}" prefork=1 maxchild=200${http}
}
EVENTS {
  checkpoint cmd="${bin('ctl_cyrusdb')} -C ${configPath} -c" period=30
}
`;
}
