import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DavAccount } from '@/server/accounts/dav/dav-client';
import type { GroupwareCopyReport } from '@/server/cli/groupware-command';
import { DavEndpoint } from '@/server/engine/groupware/dav-endpoint';
import { itemUid } from '@/server/engine/groupware/items';
import type { GroupwareIssue } from '@/server/engine/groupware/state';
import { verdictLines, verifyGroupware } from '@/server/engine/groupware/verify-groupware';
import { generateGroupwareCorpus, type CorpusCollection } from '@/scripts/groupware-corpus/corpus';
import { loadCorpus, putItems } from '@/scripts/groupware-corpus/load';
import { startRadicale, type RadicaleServer } from './helpers/radicale';
import { startXandikos, type XandikosServer } from './helpers/xandikos';
import { runNode } from './helpers/child-process';

const password = 'correct horse battery';
const ferryScript = path.resolve('scripts/ferry.mjs');
const REAL_WORLD = '/work/shared/corpora/dav-real-world';
/** Bodies above this are refused by the target Radicale (413). */
const TARGET_LIMIT = 200_000;

let source: RadicaleServer;
let target: RadicaleServer;
let xandikos: XandikosServer;
let dir: string;
const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina'];

const plainFetch = (input: string | URL, init?: RequestInit) => fetch(input, init);
const endpoint = (server: { url: string }, user: string) => DavEndpoint.open({ serverUrl: server.url, username: user, password, fetch: plainFetch });
const url = (server: { url: string }, user: string) => `http://${user}@${server.url.slice('http://'.length)}`;

interface FerryRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function ferryEnv(): NodeJS.ProcessEnv {
  const ports = [source.port, target.port, xandikos.port].map((p) => `127.0.0.1/32:${p}`).join(',');
  return { PATH: process.env.PATH, NODE_ENV: 'production', HOME: path.join(dir, 'home'), MAILFERRY_FROM_PASSWORD: password, MAILFERRY_TO_PASSWORD: password, MAILFERRY_ALLOWED_HOSTS: ports, MAILFERRY_INSECURE_HOSTS: '127.0.0.1' };
}

function ferryArgs(from: string, to: string, state: string) {
  return [ferryScript, 'groupware', 'copy', '--from', from, '--to', to, '--state', state, '--json'];
}

function ferry(from: string, to: string, state: string): Promise<FerryRun> {
  return runNode(ferryArgs(from, to, state), { env: ferryEnv() });
}

function report(run: FerryRun, code: number): GroupwareCopyReport {
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(code);
  const lines = run.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  const parsed = JSON.parse(lines[0]!) as GroupwareCopyReport;
  // Exactly the keys the command line promises.
  expect(Object.keys(parsed).sort()).toEqual(['collections', 'seconds']);
  for (const c of parsed.collections) {
    expect(Object.keys(c).sort()).toEqual(['copied', 'failed', 'items', 'kind', 'skipped', 'source', 'target', 'updated']);
    expect(c.copied + c.updated + c.skipped + c.failed, c.source).toBe(c.items);
  }
  return parsed;
}

const sum = (r: GroupwareCopyReport, key: 'items' | 'copied' | 'updated' | 'skipped' | 'failed') => r.collections.reduce((n, c) => n + c[key], 0);

async function expectPerfect(from: [{ url: string }, string], to: [{ url: string }, string], skip?: Map<string, Set<string>>) {
  const verdict = await verifyGroupware(await endpoint(...from), await endpoint(...to), { skip });
  expect(verdictLines(verdict).join('\n')).toMatch(/^PERFECT/);
  return verdict;
}

const small = (seed: string) => generateGroupwareCorpus({ seed, scale: 0.06 });
const itemCount = (corpus: CorpusCollection[]) => corpus.reduce((n, c) => n + c.items.length, 0);

describe('ferry groupware copy', () => {
  beforeAll(async () => {
    [source, target, xandikos] = await Promise.all([
      startRadicale({ users: users.map((username) => ({ username, password })) }),
      startRadicale({ users: users.map((username) => ({ username, password })), maxContentLength: TARGET_LIMIT }),
      startXandikos(),
    ]);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mailferry-groupware-'));
  }, 60_000);
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop(), xandikos?.stop()]);
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('copies every collection Radicale → Radicale (PERFECT), copies nothing on a rerun, and then only what was added or changed', async () => {
    const corpus = small('first');
    const loaded = await loadCorpus({ serverUrl: source.url, username: 'alice', password }, corpus);
    const state = path.join(dir, 'alice.json');

    const first = report(await ferry(url(source, 'alice'), url(target, 'bob'), state), 0);
    expect(first.collections.map((c) => [c.kind, c.source, c.target])).toEqual(
      expect.arrayContaining([
        ['calendar', 'Kalender', 'Kalender'],
        ['calendar', 'Café Événements ☕', 'Café Événements ☕'],
        ['contacts', 'Geschäftskontakte', 'Geschäftskontakte'],
        ['tasks', 'Aufgaben & To-dos', 'Aufgaben & To-dos'],
      ]),
    );
    expect(sum(first, 'items')).toBe(itemCount(corpus));
    expect(sum(first, 'copied')).toBe(itemCount(corpus));
    await expectPerfect([source, 'alice'], [target, 'bob']);
    // Name, colour and description came along.
    const created = (await (await endpoint(target, 'bob')).collections()).find((c) => c.displayName === 'Team Meetings');
    expect(created).toMatchObject({ color: '#e67e22ff', description: 'Weekly syncs and reviews' });

    const again = report(await ferry(url(source, 'alice'), url(target, 'bob'), state), 0);
    expect([sum(again, 'copied'), sum(again, 'updated'), sum(again, 'skipped')]).toEqual([0, 0, itemCount(corpus)]);

    // Three new events, two changed contacts.
    const account = await DavAccount.open({ serverUrl: source.url, username: 'alice', password, fetch: plainFetch });
    const added = generateGroupwareCorpus({ seed: 'added', scale: 0.01 })[0]!.items.slice(0, 3);
    await putItems(account, loaded.get('calendar')!, 'calendar', added);
    const book = corpus.find((c) => c.slug === 'addressbook')!;
    const changed = book.items.slice(0, 2).map((item) => ({ uid: item.uid, data: item.data.replace(/\r\nFN:([^\r]*)/, '\r\nFN:$1 (neu)') }));
    expect(changed[0]!.data).not.toBe(book.items[0]!.data);
    await putItems(account, loaded.get('addressbook')!, 'contacts', changed);

    const resync = report(await ferry(url(source, 'alice'), url(target, 'bob'), state), 0);
    expect([sum(resync, 'copied'), sum(resync, 'updated'), sum(resync, 'skipped')]).toEqual([3, 2, itemCount(corpus) + 3 - 5]);
    await expectPerfect([source, 'alice'], [target, 'bob']);
  }, 60_000);

  it('resumes after the copy is killed (SIGKILL) mid-way: PERFECT, nothing twice', async () => {
    const corpus = generateGroupwareCorpus({ seed: 'killed', scale: 0.15 });
    await loadCorpus({ serverUrl: source.url, username: 'carol', password }, corpus, { concurrency: 8 });
    const state = path.join(dir, 'carol.json');
    const child = spawn(process.execPath, ferryArgs(url(source, 'carol'), url(target, 'dave'), state), { env: ferryEnv(), stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const davesItems = () => {
      const root = path.join(target.rootDir, 'collections', 'collection-root', 'dave');
      // Radicale writes through temporary directories it removes again: a walk
      // that skips them and tolerates an entry vanishing under it.
      const list = (dir: string) => {
        try {
          return readdirSync(dir, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
          throw error;
        }
      };
      if (!existsSync(root)) return 0;
      let count = 0;
      for (const collection of list(root)) {
        if (!collection.isDirectory()) continue;
        count += list(path.join(root, collection.name)).filter((e) => e.isFile() && /\.(ics|vcf)$/.test(e.name)).length;
      }
      return count;
    };
    const deadline = Date.now() + 30_000;
    while (davesItems() < 40 && Date.now() < deadline) await sleep(20);
    child.kill('SIGKILL');
    expect(await exited).toBeNull();
    const beforeResume = davesItems();
    expect(beforeResume).toBeGreaterThan(0);
    expect(beforeResume).toBeLessThan(itemCount(corpus));

    const resumed = report(await ferry(url(source, 'carol'), url(target, 'dave'), state), 0);
    expect(sum(resumed, 'copied') + sum(resumed, 'skipped') + sum(resumed, 'updated')).toBe(itemCount(corpus));
    expect(sum(resumed, 'copied')).toBeLessThan(itemCount(corpus));
    const verdict = await expectPerfect([source, 'carol'], [target, 'dave']);
    expect(verdict.collections.reduce((n, c) => n + c.targetItems, 0)).toBe(itemCount(corpus));
  }, 60_000);

  it('records an item the target refuses as too large (collection, UID, size, reason, no content) and copies the rest', async () => {
    const corpus = small('large');
    const calendar = corpus.find((c) => c.slug === 'team-meetings')!;
    const bigUid = 'too-large-event@corpus.mailferry.test';
    const attachment = Buffer.alloc(300_000, 7).toString('base64');
    calendar.items.push({
      uid: bigUid,
      data: `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:${bigUid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T100000Z\r\nSUMMARY:Secret board meeting\r\nATTACH;ENCODING=BASE64;VALUE=BINARY:${attachment}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`,
    });
    await loadCorpus({ serverUrl: source.url, username: 'erin', password }, corpus);
    const state = path.join(dir, 'erin.json');
    const run = report(await ferry(url(source, 'erin'), url(target, 'frank'), state), 3);
    expect(sum(run, 'failed')).toBe(1);
    expect(run.collections.find((c) => c.source === 'Team Meetings')).toMatchObject({ failed: 1, copied: calendar.items.length - 1 });
    const issues = (JSON.parse(readFileSync(state, 'utf8')) as { issues: GroupwareIssue[] }).issues;
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ kind: 'calendar', collection: 'Team Meetings', uid: bigUid });
    expect(issues[0]!.size).toBeGreaterThan(TARGET_LIMIT);
    expect(issues[0]!.reason).toContain('413');
    expect(JSON.stringify(issues)).not.toContain('Secret');
    await expectPerfect([source, 'erin'], [target, 'frank'], new Map([['Team Meetings', new Set([bigUid])]]));
  }, 60_000);

  it('copies the corpus and 165 real-world files Radicale → Xandikos: defaults to its defaults, attendees kept from being told, PERFECT, rerun copies nothing', async () => {
    const corpus = small('xandikos');
    const realWorld: CorpusCollection[] = [
      { kind: 'calendar', slug: 'real-world', displayName: 'Real world', color: null, description: null, items: [] },
      { kind: 'calendar', slug: 'team', displayName: 'Team', color: null, description: null, items: [] },
      { kind: 'tasks', slug: 'real-tasks', displayName: 'Real tasks', color: null, description: null, items: [] },
      { kind: 'contacts', slug: 'real-contacts', displayName: 'Real contacts', color: null, description: null, items: [] },
    ];
    for (const [folder, collection] of [['calendar', 0], ['team', 1], ['tasks', 2], ['contacts', 3]] as const) {
      for (const name of readdirSync(path.join(REAL_WORLD, folder))) {
        const data = readFileSync(path.join(REAL_WORLD, folder, name), 'utf8');
        let uid: string;
        try {
          uid = itemUid(data) ?? name;
        } catch {
          uid = name.replace(/\.(ics|vcf)$/, '');
        }
        realWorld[collection]!.items.push({ uid, data });
      }
    }
    expect(realWorld.reduce((n, c) => n + c.items.length, 0)).toBe(165);
    const all = [...corpus, ...realWorld];
    await loadCorpus({ serverUrl: source.url, username: 'gina', password }, all);
    const state = path.join(dir, 'gina.json');
    const to = `http://gina@127.0.0.1:${xandikos.port}/`;

    const first = report(await ferry(url(source, 'gina'), to, state), 0);
    expect(sum(first, 'copied')).toBe(itemCount(all));
    // Radicale's "calendar" and "addressbook" went into Xandikos' own defaults, not beside them.
    expect(first.collections.find((c) => c.source === 'Kalender')?.target).toBe('calendar');
    expect(first.collections.find((c) => c.source === 'Contacts')?.target).toBe('addressbook');
    const xandikosCollections = await (await endpoint(xandikos, 'gina')).collections();
    expect(xandikosCollections.filter((c) => c.kind === 'calendar' && /^Kalender/.test(c.displayName))).toHaveLength(0);
    await expectPerfect([source, 'gina'], [xandikos, 'gina']);

    // Xandikos announces implicit scheduling: every organizer and attendee was marked SCHEDULE-AGENT=CLIENT.
    const account = await DavAccount.open({ serverUrl: xandikos.url, username: 'gina', password, fetch: plainFetch });
    const objects = await account.multiget(xandikos.defaultCalendar, 'calendar', (await account.resources(xandikos.defaultCalendar)).map((r) => r.url));
    const participants = objects.flatMap((o) => o.data.replace(/\r\n[ \t]/g, '').split(/\r?\n/)).filter((line) => /^(ATTENDEE|ORGANIZER)[;:]/.test(line));
    expect(participants.length).toBeGreaterThan(5);
    for (const line of participants) expect(line).toMatch(/;SCHEDULE-AGENT=(CLIENT|"CLIENT")[;:]/);

    const again = report(await ferry(url(source, 'gina'), to, state), 0);
    expect([sum(again, 'copied'), sum(again, 'updated'), sum(again, 'skipped')]).toEqual([0, 0, itemCount(all)]);
  }, 90_000);
});
