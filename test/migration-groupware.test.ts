/**
 * A zimbra → openxchange migration run by the portal's own phase runner: mail between two
 * Dovecot accounts, calendars, address books and task lists between two real Radicale servers.
 * Each pass copies the groupware after the mail; the counts reach the migration's rows, detail
 * and report; a rerun adds nothing twice; an item the target refuses ends it `incomplete` with
 * the item listed (collection, UID, size, reason), never its content.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Papa from 'papaparse';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { keyRing } from '@/server/crypto/runtime';
import type { Db } from '@/server/db';
import { DavAccount } from '@/server/accounts/dav/dav-client';
import { DavEndpoint } from '@/server/engine/groupware/dav-endpoint';
import { verdictLines, verifyGroupware } from '@/server/engine/groupware/verify-groupware';
import { cancelMigration } from '@/server/migrations/cancel-migration';
import { createMigration } from '@/server/migrations/create-migration';
import { openAccounts } from '@/server/migrations/accounts';
import { acquireLease, DEFAULT_DAV_CONNECTIONS_PER_HOST, releaseLease } from '@/server/migrations/connection-leases';
import { runGroupwarePass } from '@/server/migrations/groupware-pass';
import { listFinishedMigrations } from '@/server/migrations/list-migrations';
import { getMigrationDetail } from '@/server/migrations/migration-detail';
import { getMigrationReport, reportCsv } from '@/server/migrations/report';
import { runMigrationPhase, type PhaseDependencies } from '@/server/migrations/run-migration';
import { generateGroupwareCorpus, type CorpusCollection } from '@/scripts/groupware-corpus/corpus';
import { loadCorpus, putItems } from '@/scripts/groupware-corpus/load';
import { isolatedDb, seedOrganization } from './helpers/database';
import { fillMailbox, makeMessage } from './helpers/mailbox';
import { phaseHarness } from './helpers/phase-harness';
import { startRadicale, type RadicaleServer } from './helpers/radicale';

// A database of its own: no worker of another test file takes this file's migration jobs.
const database = isolatedDb();
let db: Db;
beforeAll(() => {
  db = database.db();
});
const password = 'Groupware;"pass 9';
const harness = phaseHarness(() => db, password);
/** Bodies above this are refused by the target Radicale (413). */
const TARGET_LIMIT = 200_000;

let sourceDav: RadicaleServer;
let targetDav: RadicaleServer;
beforeAll(async () => {
  [sourceDav, targetDav] = await Promise.all([startRadicale({ users: [] }), startRadicale({ users: [], maxContentLength: TARGET_LIMIT })]);
}, 60_000);
afterAll(async () => {
  await Promise.all([sourceDav?.stop(), targetDav?.stop()]);
});

/** The test's servers are on loopback ports the policy allows only when named. */
async function groupwareDeps(overrides: Partial<PhaseDependencies> = {}): Promise<PhaseDependencies> {
  const base = harness.policy();
  return harness.deps({
    policy: { ...base, allowedPorts: [...base.allowedPorts, sourceDav.port, targetDav.port, ...proxies.map((p) => p.port)] },
    ...overrides,
  });
}

/** A pass-through in front of a DAV server that counts what goes to it: requests in flight (at most), creates and overwrites. */
interface CountingProxy {
  url: string;
  port: number;
  maxInFlight: number;
  /** PUTs with If-None-Match: * (an item new on the server) and with If-Match (written over). */
  creates: number;
  overwrites: number;
  reset(): void;
}
const proxies: (CountingProxy & { server: Server })[] = [];
async function countingProxy(to: RadicaleServer): Promise<CountingProxy> {
  let inFlight = 0;
  const server = createServer((req, res) => {
    inFlight++;
    proxy.maxInFlight = Math.max(proxy.maxInFlight, inFlight);
    if (req.method === 'PUT' && req.headers['if-none-match']) proxy.creates++;
    if (req.method === 'PUT' && req.headers['if-match']) proxy.overwrites++;
    let isDone = false;
    const done = () => {
      if (!isDone) inFlight--;
      isDone = true;
    };
    res.on('close', done);
    const upstream = request({ host: '127.0.0.1', port: to.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const proxy = {
    server,
    port,
    url: `http://127.0.0.1:${port}/`,
    maxInFlight: 0,
    creates: 0,
    overwrites: 0,
    reset() {
      Object.assign(proxy, { maxInFlight: 0, creates: 0, overwrites: 0 });
    },
  };
  proxies.push(proxy);
  return proxy;
}
afterAll(async () => {
  await Promise.all(proxies.map((p) => new Promise((resolve) => p.server.close(resolve))));
});

const plainFetch = (input: string | URL, init?: RequestInit) => fetch(input, init);
const endpoint = (server: RadicaleServer, user: string) => DavEndpoint.open({ serverUrl: server.url, username: user, password, fetch: plainFetch });
const itemCount = (corpus: CorpusCollection[]) => corpus.reduce((n, c) => n + c.items.length, 0);

async function expectPerfect(source: string, target: string, skip?: Map<string, Set<string>>) {
  const verdict = await verifyGroupware(await endpoint(sourceDav, source), await endpoint(targetDav, target), { skip });
  expect(verdictLines(verdict).join('\n')).toMatch(/^PERFECT/);
  return verdict;
}

interface Pair {
  organizationId: string;
  id: string;
  source: string;
  target: string;
  /** The source's collection URLs by slug. */
  loaded: Map<string, string>;
}

/**
 * Mail on Dovecot, groupware on Radicale, the same login for both; a migration due now, run by
 * the test. Each account's groupware address says where its CalDAV/CardDAV is (the Radicale, or
 * a proxy in front of it), as a customer gives it when the groupware is not on the mail host.
 */
async function groupwareMigration(
  corpus: CorpusCollection[],
  resyncAt: Date | null,
  options: { targetDavUser?: boolean; davUrls?: { source: string; target: string } } = {},
): Promise<Pair & { userId: string }> {
  const davUrls = options.davUrls ?? { source: sourceDav.url, target: targetDav.url };
  const { organization, user } = await seedOrganization(db, 'customer');
  const source = await harness.newUser(harness.dovecot, 'gw-src');
  const target = await harness.newUser(harness.dovecot, 'gw-tgt');
  await Promise.all([sourceDav.addUser({ username: source, password }), options.targetDavUser === false ? null : targetDav.addUser({ username: target, password })]);
  const client = await harness.open(harness.dovecot, source);
  await fillMailbox(client, [
    { folder: 'INBOX', raw: makeMessage({ subject: 'Agenda', bodyBytes: 600 }) },
    { folder: 'Archive', raw: makeMessage({ subject: 'Minutes', bodyBytes: 900 }) },
  ]);
  // Zimbra shows its calendar over IMAP too, empty: it moves as groupware, not as mail.
  await client.mailboxCreate('Calendar');
  const loaded = await loadCorpus({ serverUrl: sourceDav.url, username: source, password }, corpus);
  const mailAccount = (email: string, type: 'zimbra' | 'openxchange', groupwareUrl: string) => ({ ...harness.account(email, harness.dovecot), type, groupwareUrl });
  const { id } = await createMigration(db, await keyRing(), {
    organizationId: organization.id,
    createdByUserId: null,
    source: mailAccount(source, 'zimbra', davUrls.source),
    target: mailAccount(target, 'openxchange', davUrls.target),
    startAt: new Date(Date.now() - 1000),
    resyncAt,
  });
  // The test runs the phases itself; no worker may take the job.
  await db.$executeRaw`SELECT graphile_worker.remove_job(${`migration:${id}`}::text)`;
  return { organizationId: organization.id, userId: user.id, id, source, target, loaded };
}

const rowsOf = (id: string) => db.migrationGroupwareCollection.findMany({ where: { migrationId: id }, orderBy: { sourceName: 'asc' } });
const total = (rows: { [k: string]: unknown }[], key: 'items' | 'present' | 'copied' | 'updated' | 'skipped' | 'failed') => rows.reduce((n, r) => n + (r[key] as number), 0);

describe('groupware in a portal migration (zimbra → openxchange)', () => {
  it('copies every calendar, address book and task list after the mail of each pass; a rerun adds nothing; the resync carries new and changed items', async () => {
    const corpus = generateGroupwareCorpus({ seed: 'portal', scale: 0.05 });
    const count = itemCount(corpus);
    const pair = await groupwareMigration(corpus, new Date(Date.now() + 3_600_000));

    expect(await runMigrationPhase(db, pair.id, 'run', await groupwareDeps())).toBe('waiting_resync');
    await expectPerfect(pair.source, pair.target);
    const rows = await rowsOf(pair.id);
    expect(rows.map((r) => r.kind).sort()).toEqual(corpus.map((c) => c.kind).sort());
    expect([total(rows, 'items'), total(rows, 'present'), total(rows, 'copied'), total(rows, 'failed')]).toEqual([count, count, count, 0]);
    // The checkpoint holds UIDs and versions, never an item's content.
    expect(JSON.stringify(rows.map((r) => r.checkpoint))).not.toMatch(/BEGIN:V/);

    // The detail: per kind, collections and items copied of the source's.
    const detail = await getMigrationDetail(db, pair.organizationId, pair.id, 'UTC');
    const ofKind = (kind: string) => corpus.filter((c) => c.kind === kind);
    for (const [key, kind] of [['calendars', 'calendar'], ['contacts', 'contacts'], ['tasks', 'tasks']] as const) {
      const items = itemCount(ofKind(kind));
      expect(detail.groupware?.[key], key).toEqual({ collections: ofKind(kind).length, items, copied: items });
    }
    expect(detail.groupwareNotCopied).toEqual([]);
    expect(detail.groupwareLine).toMatch(/resync/);
    // The mail; Zimbra's Calendar folder was left to the groupware copy and said so.
    expect(detail.folders.map((f) => f.sourcePath)).toEqual(expect.arrayContaining(['INBOX', 'Archive']));
    expect(detail.folders.map((f) => f.sourcePath)).not.toContain('Calendar');
    expect(detail.totals).toMatchObject({ copied: 2, failed: 0 });
    expect(detail.notices.map((n) => n.text).join('\n')).toMatch(/"Calendar" is not copied as mail.*moved as groupware/);
    const targetMail = await harness.open(harness.dovecot, pair.target);
    expect((await targetMail.list()).map((f) => f.path)).not.toContain('Calendar');
    expect(detail.verificationGap).toBeNull();

    // The same pass run again (a job that ran twice): nothing written twice.
    await db.migration.update({ where: { id: pair.id }, data: { state: 'running' } });
    expect(await runMigrationPhase(db, pair.id, 'run', await groupwareDeps())).toBe('waiting_resync');
    const rerun = await rowsOf(pair.id);
    expect([total(rerun, 'copied'), total(rerun, 'updated'), total(rerun, 'skipped'), total(rerun, 'present')]).toEqual([0, 0, count, count]);
    const verdict = await expectPerfect(pair.source, pair.target);
    expect(verdict.collections.reduce((n, c) => n + c.targetItems, 0)).toBe(count);

    // Before the resync: three new events, two changed contacts.
    const account = await DavAccount.open({ serverUrl: sourceDav.url, username: pair.source, password, fetch: plainFetch });
    const calendar = corpus.find((c) => c.kind === 'calendar')!;
    const book = corpus.find((c) => c.kind === 'contacts')!;
    const urlOf = (c: CorpusCollection) => pair.loaded.get(c.slug)!;
    const added = generateGroupwareCorpus({ seed: 'portal-added', scale: 0.01 })[0]!.items.slice(0, 3);
    expect(added).toHaveLength(3);
    await putItems(account, urlOf(calendar), 'calendar', added);
    const changed = book.items.slice(0, 2).map((item) => ({ uid: item.uid, data: item.data.replace(/\r\nFN:([^\r]*)/, '\r\nFN:$1 (neu)') }));
    expect(changed[0]!.data).not.toBe(book.items[0]!.data);
    await putItems(account, urlOf(book), 'contacts', changed);

    await db.migration.update({ where: { id: pair.id }, data: { resyncAt: new Date(Date.now() - 10) } });
    expect(await runMigrationPhase(db, pair.id, 'resync', await groupwareDeps())).toBe('finished');
    await expectPerfect(pair.source, pair.target);
    const resynced = await rowsOf(pair.id);
    expect([total(resynced, 'copied'), total(resynced, 'updated'), total(resynced, 'present'), total(resynced, 'items')]).toEqual([3, 2, count + 3, count + 3]);
    const after = await getMigrationDetail(db, pair.organizationId, pair.id, 'UTC');
    expect(after.groupware?.calendars.copied).toBe(itemCount(ofKind('calendar')) + 3);
    expect(after.statusLine).toBeNull();

    const report = await getMigrationReport(db, pair.organizationId, pair.id, 'UTC');
    expect(report.groupware.collections).toHaveLength(corpus.length);
    expect(report.groupware.collections.reduce((n, c) => n + c.copied, 0)).toBe(count + 3);
    expect(report.groupware.notCopied).toEqual([]);
    const csvRows = Papa.parse<Record<string, string>>(reportCsv(report).replace(/^\uFEFF/, ''), { header: true, skipEmptyLines: true }).data;
    const groupwareRows = csvRows.filter((r) => r.section === 'groupware');
    expect(groupwareRows.map((r) => [r.kind, r.source_folder, Number(r.total), Number(r.copied)]).sort()).toEqual(
      report.groupware.collections.map((c) => [c.kind, c.source, c.items, c.copied]).sort(),
    );
  }, 120_000);

  it('records an item the target refuses (collection, UID, size, reason, no content), copies the rest and ends incomplete', async () => {
    const corpus = generateGroupwareCorpus({ seed: 'portal-large', scale: 0.03 });
    const calendar = corpus.find((c) => c.kind === 'calendar' && c.items.length > 0)!;
    const bigUid = 'too-large-event@portal.mailferry.test';
    const attachment = Buffer.alloc(300_000, 7).toString('base64');
    calendar.items.push({
      uid: bigUid,
      data: `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:${bigUid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T100000Z\r\nSUMMARY:Secret board meeting\r\nATTACH;ENCODING=BASE64;VALUE=BINARY:${attachment}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`,
    });
    const pair = await groupwareMigration(corpus, null);

    expect(await runMigrationPhase(db, pair.id, 'run', await groupwareDeps())).toBe('incomplete');
    await expectPerfect(pair.source, pair.target, new Map([[calendar.displayName, new Set([bigUid])]]));
    const issues = await db.migrationGroupwareIssue.findMany({ where: { migrationId: pair.id } });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ kind: 'calendar', collection: calendar.displayName, uid: bigUid });
    expect(issues[0]!.size).toBeGreaterThan(TARGET_LIMIT);
    expect(issues[0]!.reason).toContain('413');
    const row = (await rowsOf(pair.id)).find((r) => r.sourceName === calendar.displayName)!;
    expect(row).toMatchObject({ items: calendar.items.length, present: calendar.items.length - 1, failed: 1 });

    const detail = await getMigrationDetail(db, pair.organizationId, pair.id, 'UTC');
    expect(detail.state).toBe('incomplete');
    expect(detail.groupwareNotCopied).toEqual([{ kind: 'calendar', collection: calendar.displayName, uid: bigUid, size: issues[0]!.size, reason: issues[0]!.reason }]);
    expect(detail.statusLine).toMatch(/1 calendar, contact or task item was not copied/);
    // The finished list's row says the same.
    const [listed] = (await listFinishedMigrations(db, pair.organizationId, { limit: 50, sort: 'newest' }, 'UTC')).items.filter((m) => m.id === pair.id);
    expect(listed?.statusLine).toBe(detail.statusLine);
    const calendarItems = itemCount(corpus.filter((c) => c.kind === 'calendar'));
    expect(detail.groupware?.calendars).toMatchObject({ items: calendarItems, copied: calendarItems - 1 });
    expect(JSON.stringify(detail)).not.toContain('Secret');

    const report = await getMigrationReport(db, pair.organizationId, pair.id, 'UTC');
    expect(report.groupware.notCopied).toEqual([{ kind: 'calendar', collection: calendar.displayName, uid: bigUid, size: issues[0]!.size, reason: issues[0]!.reason }]);
    const csv = reportCsv(report);
    expect(csv).toContain(bigUid);
    expect(csv).not.toContain('Secret');
    expect(JSON.stringify(report)).not.toContain('Secret');
  }, 120_000);

  it('fails with a plain reason when the target refuses the calendar login, like a refused mail login', async () => {
    const pair = await groupwareMigration(generateGroupwareCorpus({ seed: 'portal-auth', scale: 0.01 }), null, { targetDavUser: false });
    expect(await runMigrationPhase(db, pair.id, 'run', await groupwareDeps())).toBe('failed');
    const row = await db.migration.findUniqueOrThrow({ where: { id: pair.id }, select: { failureReason: true } });
    expect(row.failureReason).toMatch(/^Calendars, contacts and tasks \(CalDAV\/CardDAV\): .*password/i);
    expect(row.failureReason).not.toContain(password);
  }, 60_000);

  it('stops between checkpoints when the migration is cancelled during the groupware copy', async () => {
    const corpus = generateGroupwareCorpus({ seed: 'portal-cancel', scale: 0.3 });
    const pair = await groupwareMigration(corpus, null);
    const running = runMigrationPhase(db, pair.id, 'run', await groupwareDeps());
    // Cancel as soon as the first collection has items on the target.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const started = await db.migrationGroupwareCollection.findFirst({ where: { migrationId: pair.id, present: { gt: 0 } } });
      if (started) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // While it copies them the page says so, and the counts move.
    const live = await getMigrationDetail(db, pair.organizationId, pair.id, 'UTC');
    expect(live.sentence).toBe('Copying — calendars, contacts and tasks');
    expect(live.groupware).not.toBeNull();
    // Every collection is known with its count from the start, not only those reached so far.
    const planned = await rowsOf(pair.id);
    expect(planned).toHaveLength(corpus.length);
    expect(total(planned, 'items')).toBe(itemCount(corpus));
    expect(live.groupware!.calendars.items + live.groupware!.contacts.items + live.groupware!.tasks.items).toBe(itemCount(corpus));
    await cancelMigration(db, { userId: pair.userId, organizationId: pair.organizationId }, pair.id);
    expect(await running).toBe('cancelled');
    const rows = await rowsOf(pair.id);
    expect(total(rows, 'present')).toBeGreaterThan(0);
    expect(total(rows, 'present')).toBeLessThan(itemCount(corpus));
    expect((await db.migration.findUniqueOrThrow({ where: { id: pair.id }, select: { state: true } })).state).toBe('cancelled');
  }, 120_000);

  it('leaves an IMAP-only pair to its mail: no calendars, contacts or tasks are looked for', async () => {
    const { organization } = await seedOrganization(db, 'customer');
    const source = await harness.newUser(harness.dovecot, 'mail-src');
    const target = await harness.newUser(harness.dovecot, 'mail-tgt');
    const id = await harness.migrationOf(organization.id, { user: source, server: harness.dovecot }, { user: target, server: harness.dovecot }, null);
    // Nothing answers CalDAV/CardDAV on the mail host: a DAV connection would fail this pair.
    expect(await runMigrationPhase(db, id, 'run', await harness.deps())).toBe('finished');
    expect(await rowsOf(id)).toEqual([]);
    const detail = await getMigrationDetail(db, organization.id, id, 'UTC');
    expect(detail.groupware).toBeNull();
  }, 60_000);

  it('keeps the time budget: the groupware copy stops at a checkpoint and hands over to a next job, which goes on from there to PERFECT, nothing written twice', async () => {
    const corpus = generateGroupwareCorpus({ seed: 'portal-budget', scale: 0.1 });
    const count = itemCount(corpus);
    // The largest collection takes more than one batch: the copy also stops inside a collection.
    expect(Math.max(...corpus.map((c) => c.items.length))).toBeGreaterThan(50);
    const target = await countingProxy(targetDav);
    const pair = await groupwareMigration(corpus, null, { davUrls: { source: sourceDav.url, target: target.url } });
    const deps = await groupwareDeps({ timeBudgetMs: 1 });

    const outcomes: string[] = [];
    /** What the target held of the source's items at each hand-over. */
    const handedOverAt: number[] = [];
    for (let job = 0; job < 60; job++) {
      const outcome = await runMigrationPhase(db, pair.id, 'run', deps);
      outcomes.push(outcome);
      if (outcome !== 'continues') break;
      handedOverAt.push(total(await rowsOf(pair.id), 'present'));
    }
    expect(outcomes.at(-1)).toBe('finished');
    // Handed over during the groupware copy, at least once between two batches of one collection.
    const during = handedOverAt.filter((present) => present > 0 && present < count);
    expect(during.length).toBeGreaterThan(1);
    expect(new Set(during).size).toBe(during.length);
    // Every item written once, none written over.
    expect([target.creates, target.overwrites]).toEqual([count, 0]);
    const verdict = await expectPerfect(pair.source, pair.target);
    expect(verdict.collections.reduce((n, c) => n + c.targetItems, 0)).toBe(count);
    const rows = await rowsOf(pair.id);
    expect(rows).toHaveLength(corpus.length);
    expect([total(rows, 'items'), total(rows, 'present'), total(rows, 'failed')]).toEqual([count, count, 0]);
    expect(await db.migrationGroupwareIssue.count({ where: { migrationId: pair.id } })).toBe(0);
    const detail = await getMigrationDetail(db, pair.organizationId, pair.id, 'UTC');
    expect(detail.groupware?.contacts).toEqual({ collections: 2, items: itemCount(corpus.filter((c) => c.kind === 'contacts')), copied: itemCount(corpus.filter((c) => c.kind === 'contacts')) });
    expect(detail.totals).toMatchObject({ copied: 2, failed: 0 });
    // The collections the first job made on the target were found again, never made twice.
    expect(await (await endpoint(targetDav, pair.target)).collections()).toHaveLength(corpus.length);
  }, 180_000);

  it('keeps two passes to the same DAV servers within one limit of requests over all workers: the second waits for the first', async () => {
    const corpus = generateGroupwareCorpus({ seed: 'portal-lease', scale: 0.05 });
    const count = itemCount(corpus);
    const [source, target] = [await countingProxy(sourceDav), await countingProxy(targetDav)];
    const davUrls = { source: source.url, target: target.url };
    const [first, second] = [await groupwareMigration(corpus, null, { davUrls }), await groupwareMigration(corpus, null, { davUrls })];
    const base = harness.policy();
    const policy = { ...base, allowedPorts: [...base.allowedPorts, source.port, target.port] };
    const limit = 4;
    const hosts = [`dav:127.0.0.1:${source.port}`, `dav:127.0.0.1:${target.port}`];
    let mostLeased = 0;
    let isRunning = true;
    const watching = (async () => {
      while (isRunning) {
        const rows = await db.$queryRaw<{ host: string; total: bigint }[]>`
          SELECT host, sum(connections) AS total FROM connection_leases WHERE host = ANY(${hosts}) AND expires_at > now() GROUP BY host`;
        mostLeased = Math.max(mostLeased, ...rows.map((r) => Number(r.total)));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const pass = async (pair: Pair) =>
      runGroupwarePass(db, pair.id, {
        ...(await openAccounts(db, await keyRing(), pair.id)),
        policy,
        checkpoint: async () => undefined,
        connectionsPerHost: limit,
        deadline: Date.now() + 120_000,
      });
    const results = await Promise.all([pass(first), pass(second)]).finally(() => (isRunning = false));
    await watching;

    expect(results.map((r) => r.isComplete)).toEqual([true, true]);
    expect(mostLeased).toBe(limit);
    expect(source.maxInFlight).toBeLessThanOrEqual(limit);
    expect(target.maxInFlight).toBeLessThanOrEqual(limit);
    expect(target.creates).toBe(2 * count);
    await expectPerfect(first.source, first.target);
    await expectPerfect(second.source, second.target);
    // Every slot is given back at the end.
    expect(await db.connectionLease.count({ where: { host: { in: hosts } } })).toBe(0);
  }, 180_000);

  it('waits while the DAV server is full rather than failing, goes on when a slot comes free, and stops waiting when the migration is cancelled', async () => {
    const corpus = generateGroupwareCorpus({ seed: 'portal-full', scale: 0.02 });
    const pair = await groupwareMigration(corpus, null);
    const base = harness.policy();
    const options = {
      ...(await openAccounts(db, await keyRing(), pair.id)),
      policy: { ...base, allowedPorts: [...base.allowedPorts, sourceDav.port, targetDav.port] },
      deadline: Date.now() + 120_000,
    };
    // Other workers hold every slot of the target's DAV server.
    const others = await acquireLease(db, `dav:${new URL(targetDav.url).host}`, DEFAULT_DAV_CONNECTIONS_PER_HOST, 600);
    expect(others).not.toBeNull();

    let asks = 0;
    const cancelled = runGroupwarePass(db, pair.id, {
      ...options,
      checkpoint: async () => {
        if (++asks >= 2) throw new Error('the migration was cancelled');
      },
    });
    await expect(cancelled).rejects.toThrow('the migration was cancelled');
    expect(await rowsOf(pair.id)).toEqual([]);

    const waiting = runGroupwarePass(db, pair.id, { ...options, checkpoint: async () => undefined });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await rowsOf(pair.id)).toEqual([]);
    await releaseLease(db, others!);
    const result = await waiting;
    expect(result.isComplete).toBe(true);
    expect(result.collections.reduce((n, c) => n + c.copied, 0)).toBe(itemCount(corpus));
    await expectPerfect(pair.source, pair.target);
    expect(await db.connectionLease.count({ where: { host: { startsWith: 'dav:' } } })).toBe(0);
  }, 120_000);
});
