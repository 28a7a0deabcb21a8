import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DavAccount, resourceName } from '@/server/accounts/dav/dav-client';
import { runNode } from '@/test/helpers/child-process';
import { startRadicale, type RadicaleServer } from '@/test/helpers/radicale';
import { generateGroupwareCorpus } from './corpus';
import { loadCorpus, putItems, type LoadedCollections } from './load';

const password = 'verify: correct horse';
const script = path.resolve(import.meta.dirname, 'verify.ts');
const plainFetch = (input: string | URL, init?: RequestInit) => fetch(input, init);

let server: RadicaleServer;
let dir: string;
let targetCollections: LoadedCollections;
const corpus = generateGroupwareCorpus({ seed: 'verify-cli', scale: 0.03 });

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function verify(from: string, to: string, env: Record<string, string> = {}, extra: string[] = []): Promise<Run> {
  return node([script, '--from', `http://${from}@127.0.0.1:${server.port}/`, '--to', `http://${to}@127.0.0.1:${server.port}/`, ...extra], env);
}

function node(args: string[], env: Record<string, string>): Promise<Run> {
  return runNode(['--import', 'tsx', ...args], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', MAILFERRY_FROM_PASSWORD: password, MAILFERRY_TO_PASSWORD: password, ...env },
  });
}

describe('scripts/groupware-corpus/verify.ts (and generate.ts --to)', () => {
  beforeAll(async () => {
    server = await startRadicale({ users: ['alice', 'bob', 'carol'].map((username) => ({ username, password })) });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mailferry-gw-verify-'));
    const login = (username: string) => ({ serverUrl: server.url, username, password, fetch: plainFetch });
    // alice through generate.ts (its --to), bob through loadCorpus: the same corpus either way.
    const passwordFile = path.join(dir, 'alice.pass');
    await fs.writeFile(passwordFile, `${password}\n`);
    const generated = await node([path.resolve(import.meta.dirname, 'generate.ts'), '--seed', 'verify-cli', '--scale', '0.03', '--to', `http://alice@127.0.0.1:${server.port}/`, '--to-password-file', passwordFile], {});
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stdout).toContain(`${corpus.reduce((n, c) => n + c.items.length, 0)} items in ${corpus.length} collections loaded into alice@127.0.0.1:${server.port}`);
    targetCollections = await loadCorpus(login('bob'), corpus);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('prints PERFECT and exits 0 when every item is there once and equal', async () => {
    const run = await verify('alice', 'bob');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe('PERFECT');
    // One line per collection, with its count.
    expect(lines).toHaveLength(1 + corpus.length);
    const events = corpus.find((c) => c.slug === 'team-meetings')!;
    expect(run.stdout).toContain(`calendar "Team Meetings" → "Team Meetings": ${events.items.length} of ${events.items.length} equal`);
  });

  it('lists a changed and a missing item by UID and exits 1', async () => {
    const account = await DavAccount.open({ serverUrl: server.url, username: 'bob', password, fetch: plainFetch });
    const book = corpus.find((c) => c.slug === 'geschaeftskontakte')!;
    const changed = book.items[0]!;
    const bookUrl = targetCollections.get(book.slug)!;
    await putItems(account, bookUrl, 'contacts', [{ uid: changed.uid, data: changed.data.replace(/^FN:.*$/m, 'FN:Somebody Else') }]);
    const calendar = corpus.find((c) => c.slug === 'calendar')!;
    const gone = calendar.items[1]!;
    // Where loadCorpus put it.
    const response = await fetch(new URL(`src-${resourceName(gone.uid, 'calendar')}`, targetCollections.get('calendar')!), { method: 'DELETE', headers: { authorization: `Basic ${Buffer.from(`bob:${password}`).toString('base64')}` } });
    expect(response.status).toBeLessThan(300);
    // (A duplicate cannot be made here: Radicale refuses a second resource with the same UID.)

    const run = await verify('alice', 'bob');
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).not.toMatch(/^PERFECT/);
    expect(run.stdout).toContain(`contacts "Geschäftskontakte": ${changed.uid} differs (`);
    expect(run.stdout).toContain(`calendar "Kalender": ${gone.uid} missing on the target`);
    expect(run.stdout).toMatch(/^DIFFERENCES: 1 missing, 1 different, 0 duplicated$/m);
    expect(run.stdout.trim().split('\n')).toHaveLength(3);
    // Property names only: the changed value is not printed.
    expect(run.stdout).not.toContain('Somebody Else');
  });

  it('says what is wrong and exits 2 when an account cannot be read or the usage is wrong', async () => {
    const wrong = await verify('alice', 'carol', { MAILFERRY_TO_PASSWORD: 'not the password' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^verify: /m);
    expect(wrong.stderr).not.toContain('not the password');

    const file = path.join(dir, 'alice.pass');
    const fromFile = await verify('alice', 'alice', { MAILFERRY_FROM_PASSWORD: 'not the password' }, ['--from-password-file', file]);
    expect(fromFile.code, fromFile.stderr).toBe(0);

    const usage = await runNode(['--import', 'tsx', script, '--from', 'http://a@127.0.0.1/'], { env: process.env });
    expect(usage.code).toBe(2);
  });
});
