import { createHash } from 'node:crypto';
import { appendFile, chmod, chown, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run, spawnDaemon, tail, type Daemon } from './child-process';
import { freePorts } from './free-port';
import { ensureCyrusAndCourier, libraryPath } from './imap-packages';
import type { ImapServerOptions, ImapTestServer, ImapTestUser } from './imap-server';
import { expectOk, openRawImap, quoteImap, waitForImapGreeting } from './raw-imap-session';
import { systemMailOwner, type SystemMailOwner } from './system-mail-owner';

/** The folders Plesk creates in a new Courier mailbox (below INBOX, Courier's only namespace). */
export const PLESK_FOLDERS = ['INBOX.Sent', 'INBOX.Drafts', 'INBOX.Trash', 'INBOX.Spam'] as const;

export interface CourierOptions extends ImapServerOptions {
  /** How long to wait for the greeting. Default 15 s. */
  startTimeoutMs?: number;
}

export interface CourierServer extends ImapTestServer {
  kind: 'courier';
  /** A user's Maildir, for tests that look at what Courier stored. */
  maildir(username: string): string;
}

/*
 * Courier has its paths compiled in: /etc/courier (config, userdb), /run/courier/authdaemon
 * (the socket between imaplogin and authdaemond), /usr/lib/courier-authlib (auth modules) and
 * /usr/lib/courier (makeuserdb's helper). None of them exists on this machine, so there is no
 * mount point to bind over; instead every Courier process runs in a private mount namespace
 * (`unshare -m`) in which /etc, /run and /usr/lib are overlays whose upper layer holds our
 * folders. Nothing outside the namespace sees them, and they vanish with its last process.
 */

/**
 * Starts a private Courier IMAP (Debian's configuration, as Plesk ran it) on loopback: users in
 * a private userdb (`makeuserdb`), maildirs under a fresh temp folder. Needs root (mount
 * namespaces).
 */
export async function startCourier(options: CourierOptions): Promise<CourierServer> {
  if (process.getuid?.() !== 0) throw new Error('Courier IMAP for tests needs root: it runs in a private mount namespace (unshare -m)');
  const precreate = options.precreate ?? true;
  for (const user of options.users) validateUser(user);
  assertUnique(options.users);
  const { courierRoot } = await ensureCyrusAndCourier();
  const owner = await systemMailOwner();

  const tmp = os.tmpdir().length > 40 ? '/tmp' : os.tmpdir();
  const rootDir = await mkdtemp(path.join(tmp, 'mailferry-courier-'));
  let daemon: Daemon | undefined;
  try {
    await chmod(rootDir, 0o755);
    // The config and the socket folder are plain folders; the overlays only hold symlinks to
    // them, so the server's namespace and the one makeuserdb runs in see the same files.
    const etc = path.join(rootDir, 'etc-courier');
    await cp(path.join(courierRoot, 'etc/courier'), etc, { recursive: true });
    await mkdir(path.join(rootDir, 'run-courier/authdaemon'), { recursive: true });
    for (const layer of ['server', 'tool']) await makeOverlayLayer(path.join(rootDir, `ns-${layer}`), rootDir, courierRoot);
    await configureAuthdaemon(path.join(etc, 'authdaemonrc'));
    const homeRoot = path.join(rootDir, 'home');
    await mkdir(homeRoot);
    await chown(homeRoot, owner.uid, owner.gid);

    const userdb = path.join(etc, 'userdb');
    await writeFile(userdb, '', { mode: 0o600 });
    const script = path.join(rootDir, 'courier.sh');
    await writeFile(script, namespaceScript(rootDir, courierRoot));
    let tools = Promise.resolve();
    // One namespace at a time on the tool layer: an overlay's upper folder serves one mount.
    const makeuserdb = () => {
      const next = tools.then(() => run('unshare', ['-m', 'sh', script, path.join(rootDir, 'ns-tool'), 'makeuserdb'], { timeoutMs: 60_000 }));
      tools = next.then(
        () => undefined,
        () => undefined,
      );
      return next;
    };

    const home = (username: string) => path.join(homeRoot, username.toLowerCase());
    const createAccount = async (user: ImapTestUser) => {
      const maildir = path.join(home(user.username), 'Maildir');
      for (const dir of ['cur', 'new', 'tmp']) await mkdir(path.join(maildir, dir), { recursive: true, mode: 0o700 });
      await run('chown', ['-R', `${owner.uid}:${owner.gid}`, home(user.username)]);
      await appendFile(userdb, userdbLine(user, home(user.username), maildir, owner));
    };
    for (const user of options.users) await createAccount(user);
    await makeuserdb();

    let port = 0;
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      port = (await freePorts(1, '127.0.0.1'))[0] ?? 0;
      await writeFile(path.join(etc, 'imapd'), imapdOverrides(await readFile(path.join(courierRoot, 'etc/courier/imapd'), 'utf8'), port));
      daemon = spawnDaemon('unshare', ['-m', 'sh', script, path.join(rootDir, 'ns-server'), 'start'], {
        outputFile: path.join(rootDir, 'courier.out'),
        cwd: rootDir,
        removeOnExit: rootDir,
      });
      const running: Daemon = daemon;
      const ready = await waitForImapGreeting('127.0.0.1', port, options.startTimeoutMs ?? 15_000, () => running.hasExited());
      if (ready === true) break;
      const output = await daemon.output();
      await daemon.stop();
      if (/Address already in use/i.test(output) && attempt < 3) continue;
      throw new Error(`Courier did not start (${ready}). Output:\n${tail(output)}`);
    }
    const running = daemon;
    const startSeconds = (performance.now() - started) / 1000;

    const known = new Set(options.users.map((user) => user.username.toLowerCase()));
    if (precreate) for (const user of options.users) await precreatePleskFolders(port, user);

    let stopping: Promise<void> | undefined;
    return {
      kind: 'courier',
      host: '127.0.0.1',
      port,
      separator: '.',
      personalPrefix: 'INBOX.',
      rootDir,
      maildir: (username) => path.join(home(username), 'Maildir'),
      async addUser(user) {
        validateUser(user);
        if (known.has(user.username.toLowerCase())) throw new Error(`Courier user ${user.username} already exists`);
        known.add(user.username.toLowerCase());
        await createAccount(user);
        // authuserdb reopens userdb.dat when it changes: no restart needed.
        await makeuserdb();
        if (precreate) await precreatePleskFolders(port, user);
      },
      async logs() {
        const output = (await running.output()).trim();
        return `Courier IMAP on 127.0.0.1:${port}, greeting after ${startSeconds.toFixed(2)} s\n${output}\n`;
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

/** Upper layers for /etc, /usr/lib and /run that add Courier's compiled-in paths as symlinks. */
async function makeOverlayLayer(layer: string, rootDir: string, courierRoot: string): Promise<void> {
  for (const dir of ['etc', 'etc.work', 'lib', 'lib.work', 'run', 'run.work']) await mkdir(path.join(layer, dir), { recursive: true });
  await symlink(path.join(rootDir, 'etc-courier'), path.join(layer, 'etc/courier'));
  await symlink(path.join(rootDir, 'run-courier'), path.join(layer, 'run/courier'));
  await symlink(path.join(courierRoot, 'usr/lib/courier-authlib'), path.join(layer, 'lib/courier-authlib'));
  await symlink(path.join(courierRoot, 'usr/lib/courier'), path.join(layer, 'lib/courier'));
}

/** Plesk's folders, created and subscribed by the user. */
async function precreatePleskFolders(port: number, user: ImapTestUser): Promise<void> {
  const session = await openRawImap('127.0.0.1', port, user);
  try {
    for (const name of PLESK_FOLDERS) {
      await expectOk(session, `CREATE ${quoteImap(name)}`);
      await expectOk(session, `SUBSCRIBE ${quoteImap(name)}`);
    }
    await session.command('LOGOUT');
  } finally {
    session.close();
  }
}

function validateUser(user: ImapTestUser): void {
  // userdb lines are `name<TAB>field=value|field=value`; the name is also a folder name here.
  // Courier compares login names exactly (case included).
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(user.username) || user.username.includes('..')) {
    throw new Error(`unsupported Courier test username: ${JSON.stringify(user.username)}`);
  }
  if (user.password.length === 0) throw new Error('Courier test passwords may not be empty');
}

function assertUnique(users: readonly ImapTestUser[]): void {
  const seen = new Set<string>();
  for (const { username } of users) {
    if (seen.has(username.toLowerCase())) throw new Error(`Courier user ${username} is listed twice`);
    seen.add(username.toLowerCase());
  }
}

/** authlib checks `{SHA256}` + base64 of the digest, so any password needs no crypt(3). */
function userdbLine(user: ImapTestUser, home: string, maildir: string, owner: SystemMailOwner): string {
  const hash = createHash('sha256').update(user.password, 'utf8').digest('base64');
  return `${user.username}\tuid=${owner.uid}|gid=${owner.gid}|home=${home}|mail=${maildir}|systempw={SHA256}${hash}\n`;
}

async function configureAuthdaemon(file: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  await writeFile(
    file,
    text.replace(/^authmodulelist=.*$/m, 'authmodulelist="authuserdb"').replace(/^daemons=.*$/m, 'daemons=3'),
  );
}

/**
 * Debian's /etc/courier/imapd, followed by what a private loopback instance changes: address,
 * port, and limits high enough for tests that open many sessions from 127.0.0.1.
 */
function imapdOverrides(original: string, port: number): string {
  return `${original}
# test/helpers/courier.ts: a private instance on loopback.
ADDRESS=127.0.0.1
PORT=${port}
MAXDAEMONS=200
MAXPERIP=200
PIDFILE=/run/courier/imapd.pid
`;
}

/**
 * Runs inside `unshare -m`: lays the overlays, then `makeuserdb` or the server. The server part
 * is Debian's /usr/lib/courier/imapd start script without courierlogger (output stays on
 * stderr, which logs() reads), without the access file, and with IMAP_STARTTLS=NO: Debian makes
 * the certificate in a maintainer script, which never ran, so STARTTLS would be offered and fail.
 */
function namespaceScript(rootDir: string, courierRoot: string): string {
  if (/\s/.test(rootDir) || /\s/.test(courierRoot)) throw new Error('Courier test paths may not contain spaces');
  return `#!/bin/sh
# Usage: courier.sh LAYER makeuserdb|start (inside unshare -m)
set -e
ns=$1
shift
mount -t overlay overlay -o lowerdir=/etc,upperdir=$ns/etc,workdir=$ns/etc.work /etc
mount -t overlay overlay -o lowerdir=/usr/lib,upperdir=$ns/lib,workdir=$ns/lib.work /usr/lib
mount -t overlay overlay -o lowerdir=/run,upperdir=$ns/run,workdir=$ns/run.work /run
C=${courierRoot}
export LD_LIBRARY_PATH=${libraryPath(courierRoot)}
case "$1" in
makeuserdb)
  exec perl $C/usr/sbin/makeuserdb
  ;;
start)
  $C/usr/lib/courier/courier-authlib/authdaemond &
  i=0
  while [ ! -S /run/courier/authdaemon/socket ]; do
    i=$((i + 1))
    if [ $i -gt 300 ]; then echo "authdaemond did not open its socket" >&2; exit 1; fi
    sleep 0.02
  done
  exec /usr/bin/env -i LD_LIBRARY_PATH="$LD_LIBRARY_PATH" /bin/sh -c " set -a ; \\
    prefix=/usr ; exec_prefix=/usr ; sbindir=/usr/sbin ; bindir=/usr/bin ; \\
    . /etc/courier/imapd ; . /etc/courier/imapd-ssl ; \\
    IMAP_STARTTLS=NO ; \\
    umask \\$IMAP_UMASK ; \\
    exec $C/usr/sbin/couriertcpd -address=\\$ADDRESS -maxprocs=\\$MAXDAEMONS -maxperip=\\$MAXPERIP \\$TCPDOPTS \\
      \\$PORT $C/usr/lib/courier/courier/imaplogin $C/usr/bin/imapd \\$MAILDIRPATH"
  ;;
esac
`;
}
