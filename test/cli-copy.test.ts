import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ImapFlow } from 'imapflow';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { accountPairKey, type CopyReport } from '@/server/cli/copy-command';
import { verifyCopy, type ImapAccount } from '../scripts/bench/verify';
import { startDovecot, type DovecotServer } from './helpers/dovecot';
import { fillMailbox, makeMessage, openImap } from './helpers/mailbox';
import { runNode } from './helpers/child-process';

const password = 'cli-copy-pw';
const ferryScript = path.resolve('scripts/ferry.mjs');
let dovecot: DovecotServer;
/** Refuses messages over 20 KB, as a quota does. */
let limited: DovecotServer;
let dir: string;
let users = 0;
const clients: ImapFlow[] = [];

interface FerryRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function newUser(server: DovecotServer): Promise<string> {
  const username = `c${++users}-${Date.now()}@example.test`;
  await server.addUser({ username, password });
  return username;
}

async function fill(server: DovecotServer, user: string, messages: Parameters<typeof fillMailbox>[1]) {
  const client = await openImap(server.port, user, password);
  clients.push(client);
  await fillMailbox(client, messages);
}

const account = (server: DovecotServer, user: string): ImapAccount => ({ host: '127.0.0.1', port: server.port, user, password });
const url = (server: DovecotServer, user: string) => `imap://${encodeURIComponent(user)}@127.0.0.1:${server.port}`;

/** `npm run ferry -- copy …` as a user runs it: own process, a working folder and a home of its own. */
function ferryCopy(from: [DovecotServer, string], to: [DovecotServer, string], extra: string[], where: { cwd: string; env?: Record<string, string> }): Promise<FerryRun> {
  const args = [ferryScript, 'copy', '--from', url(...from), '--to', url(...to), ...extra];
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production' as const,
    HOME: path.join(dir, 'home'),
    MAILFERRY_FROM_PASSWORD: password,
    MAILFERRY_TO_PASSWORD: password,
    MAILFERRY_ALLOWED_HOSTS: `127.0.0.1/32:${dovecot.port},127.0.0.1/32:${limited.port}`,
    MAILFERRY_INSECURE_HOSTS: '127.0.0.1',
    ...where.env,
  };
  return runNode(args, { cwd: where.cwd, env });
}

function expectExit(run: FerryRun, code: number) {
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(code);
}

function jsonOf(run: FerryRun): CopyReport {
  const lines = run.stdout.trim().split('\n');
  expect(lines, `${run.stdout}\n${run.stderr}`).toHaveLength(1);
  return JSON.parse(lines[0]!) as CopyReport;
}

function expectCountsAddUp(report: CopyReport) {
  const { messages } = report;
  expect(messages.copied + messages.skipped + messages.failed).toBe(messages.total);
  expect(report.folderReports.length).toBeGreaterThan(0);
  for (const folder of report.folderReports) expect(folder.copied + folder.skipped + folder.failed, folder.source).toBe(folder.total);
  for (const field of ['total', 'copied', 'skipped', 'failed'] as const) expect(report.folderReports.reduce((n, f) => n + f[field], 0), field).toBe(messages[field]);
  expect(report.countErrors).toBeUndefined();
}

async function filesUnder(folder: string): Promise<string[]> {
  return (await fs.readdir(folder, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('ferry copy', () => {
  let work: string;
  beforeAll(async () => {
    [dovecot, limited] = await Promise.all([startDovecot({ users: [], tls: 'none' }), startDovecot({ users: [], tls: 'none', maxMessageBytes: 20_000 })]);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mailferry-cli-copy-'));
    work = path.join(dir, 'work');
    await fs.mkdir(work);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.logout().catch(() => c.close())));
  });
  afterAll(async () => {
    await Promise.all([dovecot?.stop(), limited?.stop()]);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('keeps its state per account pair in the user state folder, resumes from it, and starts over with --fresh without doubling anything', async () => {
    const [source, target, other] = [await newUser(dovecot), await newUser(dovecot), await newUser(dovecot)];
    await fill(dovecot, source, [
      ...Array.from({ length: 4 }, () => ({ folder: 'INBOX', raw: makeMessage() })),
      ...Array.from({ length: 3 }, () => ({ folder: 'Projekte/2026', raw: makeMessage(), flags: ['\\Seen'] })),
    ]);

    const first = await ferryCopy([dovecot, source], [dovecot, target], ['--json'], { cwd: work });
    expectExit(first, 0);
    const report = jsonOf(first);
    expect(report).toMatchObject({ status: 'complete', messages: { total: 7, copied: 7, skipped: 0, failed: 0 }, failures: [], resumed: null, gone: 0 });
    expect(report).toHaveProperty('renamed');
    expect(report).toHaveProperty('notices');
    expect(report).toHaveProperty('folderReports');
    expect(report.folders).toBeGreaterThanOrEqual(2);
    expectCountsAddUp(report);
    expect(first.stderr).not.toContain('resuming');

    // Not in the working folder: in the user's state folder, named after the account pair.
    expect(await fs.readdir(work)).toEqual([]);
    const states = path.join(dir, 'home', '.local', 'state', 'mailferry', 'copies');
    expect(report.stateFile).toBe(path.join(states, path.basename(report.stateFile)));
    expect(path.basename(report.stateFile)).toMatch(/^[0-9a-f]{12}\.state\.json$/);
    expect(await filesUnder(states)).toEqual([report.stateFile]);

    const toOther = jsonOf(await ferryCopy([dovecot, source], [dovecot, other], ['--json'], { cwd: work }));
    expect(toOther.resumed).toBeNull();
    expect(toOther.messages.copied).toBe(7);
    expect(toOther.stateFile).not.toBe(report.stateFile);
    expect((await filesUnder(states)).sort()).toEqual([report.stateFile, toOther.stateFile].sort());

    // The same pair again: it says it resumes, and what the earlier run did.
    await fill(dovecot, source, [{ folder: 'INBOX', raw: makeMessage() }]);
    const second = await ferryCopy([dovecot, source], [dovecot, target], ['--json'], { cwd: work });
    expectExit(second, 0);
    expect(second.stderr).toContain(`resuming: 7 messages were copied by an earlier run, state ${report.stateFile}`);
    const resumed = jsonOf(second);
    expect(resumed).toMatchObject({ status: 'complete', resumed: { stateFile: report.stateFile, messagesCopied: 7, messagesFailed: 0 }, messages: { copied: 1, failed: 0 } });
    expectCountsAddUp(resumed);

    // Human-readable, same pair: the resume line comes first, the verdict last.
    const third = await ferryCopy([dovecot, source], [dovecot, target], [], { cwd: work });
    expectExit(third, 0);
    expect(third.stderr.split('\n')[0]).toBe(`resuming: 8 messages were copied by an earlier run, state ${report.stateFile}`);
    expect(third.stdout.trim().split('\n').at(-1)).toBe('Complete');

    // --fresh: the state is forgotten, the full target is compared message by message.
    const fresh = await ferryCopy([dovecot, source], [dovecot, target], ['--json', '--fresh'], { cwd: work });
    expectExit(fresh, 0);
    expect(fresh.stderr).not.toContain('resuming');
    const again = jsonOf(fresh);
    expect(again).toMatchObject({ status: 'complete', resumed: null, messages: { total: 8, copied: 0, skipped: 8, failed: 0 } });
    expect(again.folderReports.filter((f) => f.total > 0).map((f) => [f.source, f.total, f.skipped])).toEqual([
      ['INBOX', 5, 5],
      ['Projekte/2026', 3, 3],
    ]);
    expectCountsAddUp(again);
    const verified = await verifyCopy(account(dovecot, source), account(dovecot, target));
    expect(verified.messages).toMatchObject({ source: 8, target: 8, missing: 0, duplicates: 0, extra: 0 });
    expect(verified.isExact).toBe(true);
  }, 120_000);

  it('puts the state under MAILFERRY_DATA_DIR or XDG_STATE_HOME when set, and --state still decides', async () => {
    const [source, target] = [await newUser(dovecot), await newUser(dovecot)];
    await fill(dovecot, source, [{ folder: 'INBOX', raw: makeMessage() }]);
    // A state an older version left in the working folder is pointed out, not silently used.
    const server = { host: '127.0.0.1', port: dovecot.port, security: 'starttls' as const };
    const key = accountPairKey({ user: source, server }, { user: target, server });
    const older = path.join(work, `mailferry-copy-${key}.state.json`);
    await fs.writeFile(older, JSON.stringify({ version: 1, folders: [], issues: [] }));
    const dataDir = path.join(dir, 'data');
    const xdg = path.join(dir, 'xdg');
    const inDataRun = await ferryCopy([dovecot, source], [dovecot, target], ['--json'], { cwd: work, env: { MAILFERRY_DATA_DIR: dataDir, XDG_STATE_HOME: xdg } });
    expect(inDataRun.stderr).toContain(`A state this copy left in its old place is not used: ${older} (pass --state ${older} to resume from it)`);
    await fs.rm(older);
    const inData = jsonOf(inDataRun);
    expect(path.dirname(inData.stateFile)).toBe(path.join(dataDir, 'copies'));
    expect(path.basename(inData.stateFile)).toBe(`${key}.state.json`);
    const inXdg = jsonOf(await ferryCopy([dovecot, source], [dovecot, target], ['--json'], { cwd: work, env: { XDG_STATE_HOME: xdg } }));
    expect(path.dirname(inXdg.stateFile)).toBe(path.join(xdg, 'mailferry', 'copies'));
    expect(path.basename(inXdg.stateFile)).toBe(path.basename(inData.stateFile));
    // A relative --state is the working folder's.
    const named = jsonOf(await ferryCopy([dovecot, source], [dovecot, target], ['--json', '--state', 'mine.json'], { cwd: work }));
    expect(named.stateFile).toBe(path.join(work, 'mine.json'));
    expect(named.messages).toMatchObject({ copied: 0, skipped: 1 });
    await fs.rm(path.join(work, 'mine.json'));
  }, 60_000);

  it('exits 3 with status incomplete when the target refuses a message, and lists it with folder, UID, size and reason', async () => {
    const [source, target, humanTarget] = [await newUser(dovecot), await newUser(limited), await newUser(limited)];
    await fill(dovecot, source, [
      { folder: 'INBOX', raw: makeMessage() },
      { folder: 'INBOX', raw: makeMessage({ bodyBytes: 60_000 }) },
      { folder: 'INBOX', raw: makeMessage() },
      { folder: 'Archiv', raw: makeMessage() },
    ]);
    const reader = await openImap(dovecot.port, source, password);
    clients.push(reader);
    await reader.mailboxOpen('INBOX', { readOnly: true });
    const large = (await reader.fetchAll('1:*', { uid: true, size: true })).find((m) => (m.size ?? 0) > 20_000)!;

    const run = await ferryCopy([dovecot, source], [limited, target], ['--json'], { cwd: work });
    expectExit(run, 3);
    const report = jsonOf(run);
    expect(report.status).toBe('incomplete');
    expect(report.messages).toEqual({ total: 4, copied: 3, skipped: 0, failed: 1 });
    expectCountsAddUp(report);
    expect(report.failures).toEqual([{ folder: 'INBOX', uid: large.uid, size: large.size, reason: expect.stringMatching(/target server refused the message/) }]);
    expect(report.folderReports.filter((f) => f.total > 0)).toEqual([
      { source: 'INBOX', target: 'INBOX', total: 3, copied: 2, skipped: 0, failed: 1, gone: 0 },
      { source: 'Archiv', target: 'Archiv', total: 1, copied: 1, skipped: 0, failed: 0, gone: 0 },
    ]);
    // The one the report names is the one the target lacks.
    const verified = await verifyCopy(account(dovecot, source), account(limited, target));
    expect(verified.missingList).toEqual([{ folder: 'INBOX', uid: large.uid }]);

    const human = await ferryCopy([dovecot, source], [limited, humanTarget], [], { cwd: work });
    expectExit(human, 3);
    const lines = human.stdout.trim().split('\n');
    expect(lines).toContain(`  INBOX UID ${large.uid} (${Math.round(large.size! / 1024)} KB): ${report.failures[0]!.reason}`);
    expect(lines.at(-1)).toBe('Incomplete: 1 message was not copied');
  }, 60_000);

  it('--verify checks the target message by message: complete after the copy, and a message deleted there afterwards is named by its UID', async () => {
    const [source, target] = [await newUser(dovecot), await newUser(dovecot)];
    await fill(dovecot, source, [...Array.from({ length: 4 }, () => ({ folder: 'INBOX', raw: makeMessage() })), { folder: 'Archiv', raw: makeMessage({ messageId: null }) }]);
    const state = ['--state', path.join(work, 'verify.json')];
    const first = await ferryCopy([dovecot, source], [dovecot, target], [...state, '--json', '--verify'], { cwd: work });
    expectExit(first, 0);
    const report = jsonOf(first);
    expect(report.status).toBe('complete');
    expect(report.verification).toMatchObject({ sourceMessages: 5, present: 5, missing: 0, missingReported: 0, unverified: 0 });
    expect(report.verification!.folders.filter((f) => f.sourceMessages > 0).map((f) => [f.source, f.present, f.missing])).toEqual([
      ['INBOX', 4, 0],
      ['Archiv', 1, 0],
    ]);

    // Deleted on the target: a re-run does not copy it again (it counts as gone), the verification finds it.
    const reader = await openImap(dovecot.port, source, password);
    clients.push(reader);
    await reader.mailboxOpen('INBOX', { readOnly: true });
    const sourceIds = new Map((await reader.fetchAll('1:*', { uid: true, envelope: true })).map((m) => [m.envelope?.messageId, m.uid]));
    const writer = await openImap(dovecot.port, target, password);
    clients.push(writer);
    await writer.mailboxOpen('INBOX');
    const victim = (await writer.fetchAll('1:*', { uid: true, envelope: true }))[1]!;
    await writer.messageDelete(String(victim.uid), { uid: true });

    const again = await ferryCopy([dovecot, source], [dovecot, target], [...state, '--verify'], { cwd: work });
    expectExit(again, 3);
    const lines = again.stdout.trim().split('\n');
    expect(lines.filter((l) => /^Verified: 4 of 5 messages are on the target \(\d+\.\d s\)$/.test(l)), again.stdout).toHaveLength(1);
    expect(lines).toContain(`  INBOX: 1 missing, UID ${sourceIds.get(victim.envelope?.messageId)}`);
    expect(lines.at(-1)).toBe('Incomplete: verification found 1 message missing on the target');
  }, 60_000);
});
