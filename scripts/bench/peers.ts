import { access, constants, mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  DEFAULT_PASS_TIMEOUT_MS,
  failureReason,
  writeSecretFile,
  type Availability,
  type Copier,
  type CopierSetup,
} from './copier';
import { runMeasured } from './measure';

/**
 * Other IMAP-to-IMAP tools, run on the same corpus for comparison. Each runs in its usual
 * configuration for a one-way migration; what they lose (mbsync: keywords, and an X-TUID
 * header on every message) is the verifier's to find, not something to tune away here.
 */

export type PeerName = 'mbsync' | 'imapsync';
export const PEER_NAMES: readonly PeerName[] = ['mbsync', 'imapsync'];

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findInPath(binary: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    if (dir && (await isExecutable(path.join(dir, binary)))) return path.join(dir, binary);
  }
  return null;
}

async function versionOf(command: string, args: string[]): Promise<string | null> {
  const run = await runMeasured(command, args, { timeoutMs: 30_000 });
  const line = `${run.stdout}\n${run.stderr}`.split('\n').map((l) => l.trim()).find(Boolean);
  return line ?? null;
}

export interface PeerAvailability extends Availability {
  name: PeerName;
  executable: string | null;
}

export async function detectPeer(name: PeerName): Promise<PeerAvailability> {
  if (name === 'mbsync') {
    const executable = await findInPath('mbsync');
    if (!executable) {
      return { name, executable, available: false, version: null, note: 'mbsync not installed (Debian: apt-get install -y isync)' };
    }
    return { name, executable, available: true, version: await versionOf(executable, ['--version']), note: executable };
  }
  const configured = process.env.IMAPSYNC;
  if (!configured) {
    return { name, executable: null, available: false, version: null, note: 'set IMAPSYNC=/path/to/imapsync to include it (not packaged in Debian)' };
  }
  if (!(await isExecutable(configured))) {
    return { name, executable: null, available: false, version: null, note: `IMAPSYNC=${configured} is not an executable file` };
  }
  return { name, executable: configured, available: true, version: await versionOf(configured, ['--version']), note: configured };
}

export interface PeerSetup extends CopierSetup {
  /**
   * Where the target's own folders begin ('INBOX.' on Courier, whose only personal namespace
   * is below INBOX). Default ''. How each tool is told so is its usual setting for it.
   */
  targetPrefix?: string;
}

export async function createPeerCopier(peer: PeerAvailability, setup: PeerSetup): Promise<Copier> {
  if (!peer.executable) throw new Error(`${peer.name} is not available: ${peer.note}`);
  return peer.name === 'mbsync' ? createMbsyncCopier(peer.executable, peer.version, setup) : createImapsyncCopier(peer.executable, peer.version, setup);
}

/** mbsync config values: quoted, so spaces or '#' in a password cannot cut the line. */
const quote = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

async function createMbsyncCopier(executable: string, version: string | null, setup: PeerSetup): Promise<Copier> {
  const dir = path.join(setup.workDir, 'mbsync');
  const stateDir = path.join(dir, 'state');
  await mkdir(stateDir, { recursive: true });
  const account = (name: string, e: CopierSetup['source'], prefix = '') => [
    `IMAPAccount ${name}`,
    `Host ${e.host}`,
    `Port ${e.port}`,
    `User ${quote(e.user)}`,
    `Pass ${quote(e.password)}`,
    // Loopback bench: no TLS; LOGIN because mbsync will not offer PLAIN over an unencrypted link.
    'SSLType None',
    'AuthMechs LOGIN',
    '',
    `IMAPStore ${name}`,
    `Account ${name}`,
    // mbsync's setting for a namespace prefix; the hierarchy delimiter it reads from the server.
    ...(prefix ? [`Path ${quote(prefix)}`] : []),
    '',
  ];
  const config = [
    ...account('source', setup.source),
    ...account('target', setup.target, setup.targetPrefix),
    // mbsync names the store it pulls from "Far"; Sync Pull + Create Near is a one-way copy
    // that never writes to the source.
    'Channel bench',
    'Far :source:',
    'Near :target:',
    'Patterns *',
    'Create Near',
    'Remove None',
    'Expunge None',
    'Sync Pull',
    // Default is no: mbsync would then let the target stamp INTERNALDATE with "now".
    'CopyArrivalDate yes',
    // An IMAP near side has nowhere to keep state itself.
    `SyncState ${stateDir}/`,
    '',
  ].join('\n');
  const configFile = await writeSecretFile(path.join(dir, 'mbsyncrc'), config);
  return {
    name: 'mbsync',
    version,
    async pass() {
      const run = await runMeasured(executable, ['-c', configFile, 'bench'], { cwd: dir, timeoutMs: setup.timeoutMs ?? DEFAULT_PASS_TIMEOUT_MS });
      const error = failureReason(run);
      return { run, ok: error === undefined, ...(error ? { error } : {}) };
    },
  };
}

async function createImapsyncCopier(executable: string, version: string | null, setup: PeerSetup): Promise<Copier> {
  const dir = path.join(setup.workDir, 'imapsync');
  await mkdir(path.join(dir, 'tmp'), { recursive: true });
  const pass1 = await writeSecretFile(path.join(dir, 'pass1'), setup.source.password);
  const pass2 = await writeSecretFile(path.join(dir, 'pass2'), setup.target.password);
  const args = [
    '--host1', setup.source.host, '--port1', String(setup.source.port), '--user1', setup.source.user, '--passfile1', pass1,
    '--nossl1', '--notls1',
    '--host2', setup.target.host, '--port2', String(setup.target.port), '--user2', setup.target.user, '--passfile2', pass2,
    '--nossl2', '--notls2',
    '--syncinternaldates',
    ...(setup.targetPrefix ? ['--prefix2', setup.targetPrefix] : []),
    // No network calls home, no log folder in the working directory, state in our temp folder.
    '--noreleasecheck', '--nolog', '--tmpdir', path.join(dir, 'tmp'), '--pidfile', path.join(dir, 'imapsync.pid'),
  ];
  return {
    name: 'imapsync',
    version,
    async pass() {
      const run = await runMeasured(executable, args, { cwd: dir, timeoutMs: setup.timeoutMs ?? DEFAULT_PASS_TIMEOUT_MS });
      const error = failureReason(run);
      return { run, ok: error === undefined, ...(error ? { error } : {}) };
    },
  };
}
