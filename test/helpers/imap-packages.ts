import { access, mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from './child-process';

/*
 * Cyrus IMAP and Courier IMAP for the tests, unpacked from Debian's packages instead of
 * installed. Both packages declare `Conflicts: imap-server`, which dovecot-imapd provides, so
 * `apt-get install cyrus-imapd` would remove Dovecot. `dpkg-deb -x` runs no maintainer script
 * and starts no service; only the shared libraries they link come from apt.
 */

/** Where the packages are kept between runs; outside the repository and the temp folder. */
export const TEST_SERVERS_DIR = process.env.MAILFERRY_TEST_SERVERS_DIR ?? '/var/cache/mailferry-test-servers';

export const CYRUS_PACKAGES = ['cyrus-common', 'cyrus-imapd'] as const;
/**
 * Cyrus's HTTP server (CalDAV, CardDAV, implicit scheduling), unpacked on top of cyrus-common in
 * the same root: `usr/lib/cyrus/bin/httpd` links cyrus-common's libraries. Kept apart from
 * CYRUS_PACKAGES so that adding it never re-unpacks the IMAP server under running tests.
 */
export const CYRUS_DAV_PACKAGES = ['cyrus-caldav'] as const;
export const COURIER_PACKAGES = ['courier-base', 'courier-authlib', 'courier-authlib-userdb', 'courier-authdaemon', 'courier-imap'] as const;

/**
 * Library packages from the servers' Depends that no binary the tests run links:
 * libclamav12 serves only cyr_virusscan, libzephyr4 only notifyd's zephyr method.
 */
const UNUSED_LIBRARIES = new Set(['libclamav12', 'libzephyr4']);

/** Not libraries, but needed to run them: SASL's password tool and mechanisms (PLAIN, LOGIN, sasldb). */
const EXTRA_PACKAGES = ['sasl2-bin', 'libsasl2-modules', 'libsasl2-modules-db'];

/** What libraryDepends() finds in the Debian 12 packages, for the instructions to a non-root user. */
const DEBIAN_12_LIBRARIES = [
  'libcom-err2', 'libcourier-unicode4', 'libcrypt1', 'libgamin0', 'libgcc-s1', 'libgdbm6', 'libgnutls30', 'libical3',
  'libicu72', 'libidn12', 'libjansson4', 'libkrb5-3', 'libldap-2.5-0', 'libltdl7', 'libpam0g', 'libpcre3', 'libpq5',
  'libsasl2-2', 'libsqlite3-0', 'libssl3', 'libstdc++6', 'libwrap0', 'libxapian30', 'libxml2', 'zlib1g',
];

/** What cyrus-caldav's Depends adds to DEBIAN_12_LIBRARIES. */
const DEBIAN_12_DAV_LIBRARIES = ['libbrotli1', 'libnghttp2-14', 'libshp2', 'libzstd1'];

/** ELF files started by test/helpers/cyrus.ts and courier.ts, relative to their unpack folder. */
const CYRUS_BINARIES = ['usr/lib/cyrus/bin/master', 'usr/lib/cyrus/bin/imapd', 'usr/lib/cyrus/bin/ctl_cyrusdb'];
const CYRUS_DAV_BINARIES = ['usr/lib/cyrus/bin/httpd'];
const COURIER_BINARIES = [
  'usr/sbin/couriertcpd',
  'usr/bin/imapd',
  'usr/lib/courier/courier/imaplogin',
  'usr/lib/courier/courier-authlib/authdaemond',
  'usr/lib/courier-authlib/libauthuserdb.so',
  'usr/lib/courier/courier-authlib/makedatprog',
];

/** Bump when the unpack layout or the library selection changes, so old caches are redone. */
const LAYOUT_VERSION = 1;

export interface ImapServerPackages {
  /** Unpacked cyrus-common + cyrus-imapd (`usr/lib/cyrus/bin/master` etc.). */
  cyrusRoot: string;
  /** Unpacked courier-* packages (`usr/sbin/couriertcpd` etc.). */
  courierRoot: string;
}

/** LD_LIBRARY_PATH for binaries of an unpacked root: its usr/lib folders. */
export function libraryPath(root: string): string {
  return [
    path.join(root, 'usr/lib/x86_64-linux-gnu'),
    path.join(root, 'usr/lib'),
    path.join(root, 'usr/lib/courier-authlib'),
  ].join(':');
}

let preparing: Promise<ImapServerPackages> | undefined;

/**
 * Makes sure Cyrus and Courier are unpacked under TEST_SERVERS_DIR and their libraries are
 * installed. Fast (one file read) once done; as root it downloads and unpacks what is
 * missing, otherwise it throws with the commands to run.
 */
export function ensureCyrusAndCourier(): Promise<ImapServerPackages> {
  preparing ??= prepare().catch((error: unknown) => {
    preparing = undefined;
    throw error;
  });
  return preparing;
}

async function prepare(): Promise<ImapServerPackages> {
  const roots = {
    cyrusRoot: path.join(TEST_SERVERS_DIR, 'cyrus'),
    courierRoot: path.join(TEST_SERVERS_DIR, 'courier'),
  };
  const marker = path.join(TEST_SERVERS_DIR, 'ready');
  const wanted = `${LAYOUT_VERSION}\n`;
  if ((await readFile(marker, 'utf8').catch(() => '')) === wanted) return roots;

  if (process.getuid?.() !== 0) throw new Error(notRootMessage());
  // Several test workers (and CI's preparation step) may get here at once.
  const release = await lock(path.join(TEST_SERVERS_DIR, 'lock'));
  try {
    if ((await readFile(marker, 'utf8').catch(() => '')) === wanted) return roots;
    const debs = path.join(TEST_SERVERS_DIR, 'debs');
    await mkdir(debs, { recursive: true });
    const cyrusDebs = await download(debs, CYRUS_PACKAGES);
    const courierDebs = await download(debs, COURIER_PACKAGES);
    await unpack(cyrusDebs, roots.cyrusRoot);
    await unpack(courierDebs, roots.courierRoot);

    const libraries = new Set<string>(EXTRA_PACKAGES);
    for (const deb of [...cyrusDebs, ...courierDebs]) {
      for (const pkg of libraryDepends(await debField(deb, 'Depends'))) libraries.add(pkg);
    }
    await aptInstall(await notInstalled([...libraries]));

    const missing = [
      ...(await missingLibraries(roots.cyrusRoot, CYRUS_BINARIES)),
      ...(await missingLibraries(roots.courierRoot, COURIER_BINARIES)),
    ];
    if (missing.length > 0) {
      throw new Error(`Cyrus/Courier still miss shared libraries after apt-get: ${[...new Set(missing)].join(', ')}`);
    }
    await writeFile(marker, wanted);
    return roots;
  } finally {
    await release();
  }
}

function notRootMessage(): string {
  const all = [...CYRUS_PACKAGES, ...COURIER_PACKAGES].join(' ');
  return [
    `Cyrus and Courier IMAP are not unpacked in ${TEST_SERVERS_DIR} yet, and only root can do that.`,
    'Run:  sudo node --import tsx scripts/test-servers.ts  (from the project folder)',
    'or by hand (never `apt-get install` them: they conflict with dovecot-imapd):',
    `  sudo mkdir -p ${TEST_SERVERS_DIR}/debs && cd ${TEST_SERVERS_DIR}/debs && sudo apt-get download ${all}`,
    `  for f in cyrus-*.deb; do sudo dpkg-deb -x "$f" ${TEST_SERVERS_DIR}/cyrus; done`,
    `  for f in courier-*.deb; do sudo dpkg-deb -x "$f" ${TEST_SERVERS_DIR}/courier; done`,
    // The library packages of their Depends on Debian 12; --no-upgrade leaves installed ones alone.
    `  sudo apt-get install -y --no-install-recommends --no-upgrade ${[...EXTRA_PACKAGES, ...DEBIAN_12_LIBRARIES].join(' ')}`,
    `  echo ${LAYOUT_VERSION} | sudo tee ${TEST_SERVERS_DIR}/ready`,
  ].join('\n');
}

const aptEnv = () => ({ ...process.env, DEBIAN_FRONTEND: 'noninteractive' });
// Wait for the dpkg lock instead of failing; download as root into our own folder (the _apt
// sandbox user may not write there).
const aptOptions = ['-o', 'DPkg::Lock::Timeout=300', '-o', 'APT::Sandbox::User=root'];
let aptUpdated = false;

async function aptUpdate(): Promise<void> {
  if (aptUpdated) return;
  await run('apt-get', [...aptOptions, 'update', '-qq'], { env: aptEnv(), timeoutMs: 600_000 });
  aptUpdated = true;
}

/** Runs an apt-get command; on a fresh machine (no package lists yet) after `apt-get update`. */
async function withAptLists<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (aptUpdated) throw error;
    await aptUpdate();
    return body();
  }
}

/** The .deb files of `packages` in `dir`, downloading those not there yet. */
async function download(dir: string, packages: readonly string[]): Promise<string[]> {
  const have = async () => {
    const files = await readdir(dir);
    return packages.map((pkg) => files.find((file) => file.startsWith(`${pkg}_`) && file.endsWith('.deb')));
  };
  const found = await have();
  const absent = packages.filter((_, i) => found[i] === undefined);
  if (absent.length > 0) {
    await withAptLists(() => run('apt-get', [...aptOptions, 'download', ...absent], { cwd: dir, env: aptEnv(), timeoutMs: 600_000 }));
  }
  const files = await have();
  return files.map((file, i) => {
    if (!file) throw new Error(`apt-get download ${packages[i]} left no .deb in ${dir}`);
    return path.join(dir, file);
  });
}

async function unpack(debs: readonly string[], root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  for (const deb of debs) await run('dpkg-deb', ['-x', deb, root]);
}

async function debField(deb: string, field: string): Promise<string> {
  return (await run('dpkg-deb', ['-f', deb, field])).stdout.trim();
}

/**
 * Library packages named in a Depends field: for alternatives the first one, without version
 * constraints and architecture qualifiers; packages that are not libraries (adduser, perl,
 * the other server packages, init scripts) are left out.
 */
export function libraryDepends(depends: string): string[] {
  const out: string[] = [];
  for (const clause of depends.split(',')) {
    const first = clause.split('|')[0]?.trim().replace(/\s*\(.*\)$/, '').replace(/:.*$/, '') ?? '';
    if (/^(lib|zlib)/.test(first) && !UNUSED_LIBRARIES.has(first)) out.push(first);
  }
  return out;
}

async function notInstalled(packages: readonly string[]): Promise<string[]> {
  const absent: string[] = [];
  for (const pkg of packages) {
    const status = await run('dpkg-query', ['-W', '-f=${db:Status-Status}', pkg]).then(
      (r) => r.stdout.trim(),
      () => '',
    );
    if (status !== 'installed') absent.push(pkg);
  }
  return absent;
}

/** Installs only packages that are absent: naming an installed one would upgrade it. */
async function aptInstall(packages: readonly string[]): Promise<void> {
  if (packages.length === 0) return;
  await withAptLists(() =>
    run('apt-get', [...aptOptions, 'install', '-y', '-qq', '--no-install-recommends', ...packages], { env: aptEnv(), timeoutMs: 600_000 }),
  );
}

/** Sonames `ldd` cannot find for the given files of an unpacked root. */
async function missingLibraries(root: string, files: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const file of files) {
    const full = path.join(root, file);
    await access(full);
    const { stdout } = await run('ldd', [full], { env: { ...process.env, LD_LIBRARY_PATH: libraryPath(root) } });
    for (const match of stdout.matchAll(/^\s*(\S+) => not found/gm)) missing.push(`${match[1]} (${file})`);
  }
  return missing;
}

let preparingDav: Promise<string> | undefined;

/**
 * ensureCyrusAndCourier(), plus Cyrus's httpd (package cyrus-caldav) unpacked into the Cyrus
 * root and the libraries it links (e.g. libshp2) installed. Returns the Cyrus root. Additive:
 * the IMAP files already unpacked are not touched.
 */
export function ensureCyrusDav(): Promise<string> {
  preparingDav ??= prepareDav().catch((error: unknown) => {
    preparingDav = undefined;
    throw error;
  });
  return preparingDav;
}

async function prepareDav(): Promise<string> {
  const { cyrusRoot } = await ensureCyrusAndCourier();
  // The marker alone is not enough: prepare() may have unpacked the Cyrus root afresh since.
  const marker = path.join(TEST_SERVERS_DIR, 'ready-dav');
  const wanted = `${LAYOUT_VERSION}\n`;
  const ready = async () =>
    (await readFile(marker, 'utf8').catch(() => '')) === wanted &&
    (await access(path.join(cyrusRoot, CYRUS_DAV_BINARIES[0]!)).then(() => true, () => false));
  if (await ready()) return cyrusRoot;

  if (process.getuid?.() !== 0) throw new Error(notRootDavMessage(cyrusRoot));
  const release = await lock(path.join(TEST_SERVERS_DIR, 'lock'));
  try {
    if (await ready()) return cyrusRoot;
    const debs = path.join(TEST_SERVERS_DIR, 'debs');
    await mkdir(debs, { recursive: true });
    const davDebs = await download(debs, CYRUS_DAV_PACKAGES);
    // dpkg-deb -x adds the package's files and leaves the others as they are.
    for (const deb of davDebs) await run('dpkg-deb', ['-x', deb, cyrusRoot]);
    const libraries = new Set<string>();
    for (const deb of davDebs) {
      for (const pkg of libraryDepends(await debField(deb, 'Depends'))) libraries.add(pkg);
    }
    await aptInstall(await notInstalled([...libraries]));
    const missing = await missingLibraries(cyrusRoot, CYRUS_DAV_BINARIES);
    if (missing.length > 0) throw new Error(`Cyrus httpd still misses shared libraries after apt-get: ${missing.join(', ')}`);
    await writeFile(marker, wanted);
    return cyrusRoot;
  } finally {
    await release();
  }
}

function notRootDavMessage(cyrusRoot: string): string {
  return [
    `Cyrus's CalDAV/CardDAV server (${CYRUS_DAV_PACKAGES.join(' ')}) is not unpacked in ${cyrusRoot} yet, and only root can do that.`,
    'Run:  sudo node --import tsx scripts/test-servers.ts  (from the project folder)',
    'or by hand:',
    `  cd ${TEST_SERVERS_DIR}/debs && sudo apt-get download ${CYRUS_DAV_PACKAGES.join(' ')}`,
    `  sudo dpkg-deb -x cyrus-caldav_*.deb ${cyrusRoot}`,
    // The libraries of its Depends on Debian 12 that cyrus-common does not need already.
    `  sudo apt-get install -y --no-install-recommends --no-upgrade ${DEBIAN_12_DAV_LIBRARIES.join(' ')}`,
    `  echo ${LAYOUT_VERSION} | sudo tee ${TEST_SERVERS_DIR}/ready-dav`,
  ].join('\n');
}

/** A lock file holding the owner's pid; a lock whose owner died is taken over. */
async function lock(file: string): Promise<() => Promise<void>> {
  await mkdir(path.dirname(file), { recursive: true });
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(await readFile(file, 'utf8').catch(() => ''));
    const alive = Number.isInteger(owner) && owner > 0 && isAlive(owner);
    // An empty file may be one that another process has just created.
    const age = Date.now() - (await stat(file).then((s) => s.mtimeMs, () => Date.now()));
    if (!alive && (owner > 0 || age > 5_000)) {
      await rm(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${file} is held by process ${owner} for 15 minutes`);
    await sleep(200);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
