import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ALLOWED_PORTS, type NetworkPolicy } from '@/server/accounts/network/host-policy';
import { parseHostRules } from '@/server/accounts/network/host-rules';
import { copyMailbox, type CopyMailboxOptions, type CopySummary } from '@/server/engine/copy-mailbox';
import { encodeMutf7 } from '@/server/engine/mutf7';
import { MemoryStateStore } from '@/server/engine/state';
import { compareSnapshots, formatVerifyReport, snapshotAccount, type AccountSnapshot, type ImapAccount, type VerifyReport } from '../scripts/bench/verify';
import { fillHostileCorpus, type HostileManifest } from './helpers/hostile-corpus';
import { startImapServer, type ImapServerKind, type ImapTestServer } from './helpers/imap-server';
import { Literal, quoteOrLiteral, WireImapClient } from './helpers/wire-imap-client';

/*
 * Every message and folder of a hostile source (see helpers/hostile-corpus.ts) across the
 * servers migrations really meet: Dovecot, Cyrus in Kolab's configuration, Courier as Plesk
 * ran it. The target is judged message by message against the source as it was before the
 * copy, with only the rewrites the target server makes to everything it stores allowed
 * (SERVER_ALLOWANCES in scripts/bench/verify.ts).
 */

const PAIRS: [ImapServerKind, ImapServerKind][] = [
  ['dovecot', 'cyrus'],
  ['dovecot', 'courier'],
  ['cyrus', 'dovecot'],
  ['courier', 'cyrus'],
];
const password = 'matrix-Test-pw';

/** Sources start bare (no SPECIAL-USE folders: Sent is known only by name); targets as their hosting product sets them up. */
const servers: Partial<Record<`${ImapServerKind}-${'source' | 'target'}`, ImapTestServer>> = {};

function serverFor(kind: ImapServerKind, role: 'source' | 'target'): ImapTestServer {
  // One Dovecot plays both parts: its Drafts/Sent/Trash/Junk are always there.
  const key: keyof typeof servers = kind === 'dovecot' ? 'dovecot-source' : `${kind}-${role}`;
  const server = servers[key];
  if (!server) throw new Error(`no ${kind} ${role} server`);
  return server;
}

function policy(ports: number[]): NetworkPolicy {
  return { allow: parseHostRules('127.0.0.0/8').rules, insecure: parseHostRules('127.0.0.1').rules, extraCaPem: null, allowedPorts: [...DEFAULT_ALLOWED_PORTS, ...ports] };
}

function account(server: ImapTestServer, user: string): ImapAccount {
  return { host: server.host, port: server.port, user, password, label: `${server.kind}:${user}` };
}

/** The source path with the target's separator and prefix: where a folder lands when nothing forces another name. */
function naturalTarget(path: string, source: ImapTestServer, target: ImapTestServer): string {
  if (path.toUpperCase() === 'INBOX') return 'INBOX';
  const own = source.personalPrefix && path.startsWith(source.personalPrefix) ? path.slice(source.personalPrefix.length) : path;
  return target.personalPrefix + own.split(source.separator).join(target.separator);
}

/** Whether the target server itself refuses these bytes (then a failed message is no engine fault). */
async function targetRefuses(target: ImapTestServer, user: string, raw: Buffer): Promise<string | null> {
  const client = await WireImapClient.connect(target.host, target.port);
  try {
    await client.login(user, password);
    const answer = await client.command(['APPEND ', quoteOrLiteral(encodeMutf7('INBOX')), ' ', new Literal(raw)]);
    return answer.status === 'OK' ? null : `${answer.status} ${answer.text}`;
  } finally {
    await client.logout();
  }
}

async function sourceBytes(source: ImapTestServer, user: string, path: string, uid: number): Promise<Buffer> {
  const client = await WireImapClient.connect(source.host, source.port);
  try {
    await client.login(user, password);
    await client.command(['EXAMINE ', quoteOrLiteral(encodeMutf7(path))]);
    const answer = await client.command([`UID FETCH ${uid} (BODY.PEEK[])`]);
    const literal = answer.untagged.find((u) => /FETCH/i.test(u.text))?.literals[0];
    if (!literal) throw new Error(`no message ${uid} in ${path}`);
    return literal;
  } finally {
    await client.logout();
  }
}

interface PairResult {
  manifest: HostileManifest;
  first: CopySummary;
  second: CopySummary;
  report: VerifyReport;
}

function describeOutcome(pair: string, result: PairResult): string {
  const { first, second, report, manifest } = result;
  return [
    `${pair}: source held ${manifest.folders.length} folders, ${manifest.totalMessages} messages`,
    `first pass: ${JSON.stringify(first.messages)} complete=${first.isComplete} hasLoss=${first.hasLoss} folderReports=${first.folderReports.length} renamed=${first.renamed.length} notices=${first.notices.length}`,
    ...first.issues.map((i) => `  issue: ${i.folder} uid=${i.uid} size=${i.size} ${i.reason}`),
    ...first.renamed.map((r) => `  renamed: ${r.sourcePath} -> ${r.targetPath} (${r.reason})`),
    ...first.notices.map((n) => `  notice: ${n.folder ?? '(mailbox)'}: ${n.text}`),
    `second pass: ${JSON.stringify(second.messages)}`,
    formatVerifyReport(report, { verbose: true }),
  ].join('\n');
}

describe('hostile mailboxes across Dovecot, Cyrus and Courier', () => {
  beforeAll(async () => {
    const started = await Promise.all([
      startImapServer('dovecot', { users: [] }),
      startImapServer('cyrus', { users: [], precreate: false }),
      startImapServer('cyrus', { users: [], precreate: true }),
      startImapServer('courier', { users: [], precreate: false }),
      startImapServer('courier', { users: [], precreate: true }),
    ]);
    [servers['dovecot-source'], servers['cyrus-source'], servers['cyrus-target'], servers['courier-source'], servers['courier-target']] = started;
  }, 120_000);
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  });

  it.each(PAIRS)('%s to %s: every message once, every folder, exact bytes but for what the target server rewrites', async (sourceKind, targetKind) => {
    const source = serverFor(sourceKind, 'source');
    const target = serverFor(targetKind, 'target');
    const sourceUser = `src-${sourceKind}-${targetKind}@example.test`;
    const targetUser = `dst-${sourceKind}-${targetKind}@example.test`;
    const probeUser = `probe-${sourceKind}-${targetKind}@example.test`;
    await Promise.all([source.addUser({ username: sourceUser, password }), target.addUser({ username: targetUser, password }), target.addUser({ username: probeUser, password })]);

    const manifest = await fillHostileCorpus({ host: source.host, port: source.port, user: sourceUser, password });
    const targetBefore = await snapshotAccount(account(target, targetUser));
    const sourceBefore = await snapshotAccount(account(source, sourceUser), { allowancesFor: targetKind });
    // What the filler saw and what the verifier reads must agree, or the judge is off.
    expect([...sourceBefore.folders.values()].reduce((n, f) => n + f.messages.length, 0)).toBe(manifest.totalMessages);

    const server = (s: ImapTestServer) => ({ host: s.host, port: s.port, security: 'starttls' as const });
    const state = new MemoryStateStore();
    const options: CopyMailboxOptions = {
      source: { server: server(source), auth: () => ({ user: sourceUser, pass: password }) },
      target: { server: server(target), auth: () => ({ user: targetUser, pass: password }) },
      policy: policy([source.port, target.port]),
      state,
    };
    const first = await copyMailbox(options);
    const second = await copyMailbox(options);

    const mapping = new Map<string, string>();
    for (const r of first.folderReports) mapping.set(r.sourcePath, r.targetPath);
    for (const r of first.renamed) mapping.set(r.sourcePath, r.targetPath);
    const mappedTargets = new Set(mapping.values());
    const [targetAfter, sourceAfter] = await Promise.all([snapshotAccount(account(target, targetUser)), snapshotAccount(account(source, sourceUser), { allowancesFor: targetKind })]);
    const report = compareSnapshots(sourceBefore, targetAfter, {
      folderMapping: [...mapping].map(([sourcePath, targetPath]) => ({ sourcePath, targetPath })),
      targetServer: targetKind,
      // The target's own folders (Kolab's Sent, Plesk's Spam) count only where the copy put something.
      excludeTargetFolders: [...targetBefore.folders.keys()].filter((name) => !mappedTargets.has(name) && targetAfter.folders.get(name)?.messages.length === 0),
    });
    const outcome = describeOutcome(`${sourceKind} -> ${targetKind}`, { manifest, first, second, report });
    if (process.env.MATRIX_DEBUG) console.log(outcome);

    // The pass accounts for every message it saw, and saw every message the source holds.
    expect.soft(first.isComplete, outcome).toBe(true);
    expect.soft(first.messages.copied + first.messages.skipped + first.messages.failed, 'copied + skipped + failed').toBe(first.messages.total);
    expect.soft(first.messages.total, 'messages the pass saw').toBe(manifest.totalMessages);

    // Each failed message is one the target server itself refuses, and is reported with folder, UID, size and reason.
    const messageIssues = first.issues.filter((i) => i.uid !== null);
    expect.soft(messageIssues.length, 'failed messages vs their issues').toBe(first.messages.failed);
    for (const issue of messageIssues) {
      expect.soft(issue.size, `size of ${issue.folder} uid ${issue.uid}`).toBeGreaterThan(0);
      expect.soft(issue.reason, `reason for ${issue.folder} uid ${issue.uid}`).not.toBe('');
      const refusal = await targetRefuses(target, probeUser, await sourceBytes(source, sourceUser, issue.folder, issue.uid!));
      expect.soft(refusal, `${issue.folder} uid ${issue.uid} failed (${issue.reason}), but ${targetKind} stores it`).not.toBeNull();
    }
    expect.soft(first.issues.filter((i) => i.uid === null).map((i) => `${i.folder}: ${i.reason}`), 'folders not copied').toEqual([]);
    expect.soft(first.hasLoss, 'hasLoss').toBe(first.issues.length > 0 || first.messages.failed > 0);

    // Every source folder has its place on the target, and a changed name is reported.
    const sourcePaths = manifest.folders.map((f) => f.path);
    const selectable = manifest.folders.filter((f) => f.isSelectable).map((f) => f.path);
    expect.soft(selectable.filter((p) => !first.folderReports.some((r) => r.sourcePath === p)), 'source folders without a folder report').toEqual([]);
    const unreported = [...mapping].filter(([s, t]) => t !== naturalTarget(s, source, target) && !first.renamed.some((r) => r.sourcePath === s));
    expect.soft(unreported.map(([s, t]) => `${s} -> ${t}`), 'target names that differ but are not in summary.renamed').toEqual([]);
    expect.soft(report.folders.missing.filter((f) => sourcePaths.includes(f)), 'source folders missing on the target').toEqual([]);
    for (const r of first.folderReports) expect.soft(r.copied + r.skipped + r.failed, `folder report ${r.sourcePath}`).toBe(r.total);

    // Message by message: nothing lost but what the target refuses, nothing twice, nothing changed.
    const refused = new Set(messageIssues.map((i) => `${i.folder}\u0000${i.uid}`));
    expect.soft(report.missingList.filter((m) => !refused.has(`${m.folder}\u0000${m.uid}`)), 'messages missing on the target').toEqual([]);
    expect.soft(report.messages.duplicates, 'duplicates').toBe(0);
    expect.soft(report.messages.extra, 'messages on the target the source does not have').toBe(0);
    expect.soft(report.messages.flagMismatches, `flags: ${JSON.stringify(report.flagMismatchList.slice(0, 5))}`).toBe(0);
    expect.soft(report.messages.dateMismatches, `dates: ${JSON.stringify(report.examples.dates)}`).toBe(0);
    expect.soft(report.messages.byteMismatches, `bytes: ${JSON.stringify(report.examples.bytes)}`).toBe(0);

    // Run again with the same state: nothing more to copy, the target as it was, the source untouched.
    expect.soft(second.messages.copied, 'copied by the second pass').toBe(0);
    expect.soft(sameMessages(sourceAfter, sourceBefore), 'source changed by the copy').toBe(true);
  });
});

/** Same folders with the same messages (UIDs, bytes, flags, dates). */
function sameMessages(a: AccountSnapshot, b: AccountSnapshot): boolean {
  return JSON.stringify([...a.folders].sort()) === JSON.stringify([...b.folders].sort());
}
