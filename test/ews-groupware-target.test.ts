import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEws } from '@/server/accounts/ews/ews-client';
import { createPinnedFetch, type PinnedFetch } from '@/server/accounts/network/pinned-fetch';
import { DEFAULT_ALLOWED_PORTS } from '@/server/accounts/network/host-policy';
import { parseHostRules } from '@/server/accounts/network/host-rules';
import { ConnectorError, type FetchLike } from '@/server/accounts/types';
import { copyGroupware, type GroupwareCopySummary } from '@/server/engine/groupware/copy-groupware';
import { DavEndpoint } from '@/server/engine/groupware/dav-endpoint';
import { EwsEndpoint } from '@/server/engine/groupware/ews/ews-target';
import type { NotMappedNote } from '@/server/engine/groupware/model';
import { MemoryGroupwareStateStore } from '@/server/engine/groupware/state';
import { verdictLines, verifyGroupware } from '@/server/engine/groupware/verify-groupware';
import { generateGroupwareCorpus, type CorpusCollection } from '@/scripts/groupware-corpus/corpus';
import { loadCorpus, putItems } from '@/scripts/groupware-corpus/load';
import { DavAccount } from '@/server/accounts/dav/dav-client';
import { startEwsServer, type EwsServer, type EwsUser } from './helpers/ews-server';
import { startRadicale, type RadicaleServer } from './helpers/radicale';

const alice: EwsUser = { email: 'alice@example.test', username: 'CONTOSO\\alice', password: 'Al:ice "pässwörd" 7' };
const nora: EwsUser = { email: 'nora@example.test', username: 'CONTOSO\\nora', password: 'nora-Secret-4411' };
const otto: EwsUser = { email: 'otto@example.test', username: 'CONTOSO\\otto', password: 'otto-Secret-5522' };
const davPassword = 'correct horse battery';
const plainFetch = (input: string | URL, init?: RequestInit) => fetch(input, init);

const total = (counts: Record<string, number>) => Object.values(counts).reduce((n, c) => n + c, 0);
const sum = (summary: GroupwareCopySummary, field: 'items' | 'copied' | 'updated' | 'skipped' | 'failed') => summary.collections.reduce((n, c) => n + c[field], 0);

function notMappedOf(summaries: GroupwareCopySummary[]): Map<string, NotMappedNote[]> {
  const out = new Map<string, NotMappedNote[]>();
  for (const summary of summaries) for (const change of summary.changes) if (change.uid) out.set(change.uid, [...(out.get(change.uid) ?? []), ...change.notMapped]);
  return out;
}

describe('Exchange (EWS) as a groupware target', () => {
  let server: EwsServer;
  let radicale: RadicaleServer;
  let agent: Agent;
  let fetchTls: FetchLike;
  let corpus: CorpusCollection[];
  let loaded: Map<string, string>;
  let items = 0;
  const state = new MemoryGroupwareStateStore();
  const summaries: GroupwareCopySummary[] = [];
  const endpoint = (overrides: Partial<ConstructorParameters<typeof EwsEndpoint>[0]> = {}) =>
    new EwsEndpoint({ url: server.ewsUrl, username: alice.username, password: alice.password, email: alice.email, fetch: fetchTls, ...overrides });
  const zimbra = () => DavEndpoint.open({ serverUrl: radicale.url, username: 'zed', password: davPassword, fetch: plainFetch });

  beforeAll(async () => {
    [server, radicale] = await Promise.all([startEwsServer({ users: [alice] }), startRadicale({ users: [{ username: 'zed', password: davPassword }] })]);
    agent = new Agent({ connect: { ca: server.caCertPem } });
    fetchTls = (input, init) => undiciFetch(input, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent }) as unknown as Promise<Response>;
    corpus = generateGroupwareCorpus({ seed: 'graph-target', scale: 0.1 });
    items = corpus.reduce((n, c) => n + c.items.length, 0);
    loaded = await loadCorpus({ serverUrl: radicale.url, username: 'zed', password: davPassword }, corpus, { concurrency: 8 });
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    await Promise.all([server?.stop(), radicale?.stop()]);
  });

  it('copies the corpus from Radicale into Exchange: PERFECT by the verifier with what Exchange has no place for listed, each with its reason', async () => {
    const before = total(server.requestCounts(alice.username));
    const target = endpoint();
    const first = await copyGroupware({ source: await zimbra(), target, state });
    summaries.push(first);
    const requests = total(server.requestCounts(alice.username)) - before;
    for (const issue of first.issues) console.info(`refused: ${issue.kind} "${issue.collection}" ${issue.uid}: ${issue.reason}`);
    expect(first.issues).toEqual([]);
    expect(sum(first, 'items')).toBe(items);
    expect(sum(first, 'copied')).toBe(items);
    expect(target.requestCount).toBe(requests);
    console.info(`Radicale → EWS: ${items} items in ${requests} EWS requests (${(requests / items).toFixed(2)} per item), ${JSON.stringify(server.requestCounts(alice.username))}`);

    const notMapped = notMappedOf(summaries);
    for (const [uid, notes] of notMapped) for (const note of notes) expect(note.reason.trim(), `${uid} ${note.component} ${note.property}`).not.toBe('');
    const kinds = new Map<string, number>();
    for (const notes of notMapped.values()) for (const note of notes) kinds.set(`${note.component} ${note.property ?? '*'}: ${note.reason}`, (kinds.get(`${note.component} ${note.property ?? '*'}: ${note.reason}`) ?? 0) + 1);
    console.info(`not mapped (${notMapped.size} items):\n${[...kinds].map(([k, n]) => `  ${n} × ${k}`).join('\n')}`);

    const verdict = await verifyGroupware(await zimbra(), endpoint(), { notMapped });
    const lines = verdictLines(verdict);
    expect(lines.join('\n')).toMatch(/^PERFECT/);
    expect(verdict.collections.reduce((n, c) => n + c.equal, 0)).toBe(items);
    // A group written before its members got them when they were written: nothing of it is left out.
    const withoutMembers = new Map([...notMapped].map(([uid, notes]) => [uid, notes.filter((n) => n.property !== 'MEMBER')]));
    expect(verdictLines(await verifyGroupware(await zimbra(), endpoint(), { notMapped: withoutMembers })).join('\n')).toMatch(/^PERFECT/);
  }, 120_000);

  it('copies nothing on a rerun, in few requests', async () => {
    const before = total(server.requestCounts(alice.username));
    const target = endpoint();
    const again = await copyGroupware({ source: await zimbra(), target, state });
    const requests = total(server.requestCounts(alice.username)) - before;
    console.info(`EWS rerun: ${requests} requests for ${items} items`);
    expect([sum(again, 'copied'), sum(again, 'updated'), sum(again, 'failed')]).toEqual([0, 0, 0]);
    expect(sum(again, 'skipped')).toBe(items);
    // GetFolder + FindFolder, and a FindItem per folder.
    expect(requests).toBeLessThanOrEqual(2 + 2 * again.collections.length);
    expect(target.requestCount).toBe(requests);
  }, 60_000);

  it('updates a changed source item in place of its copy, never a second one', async () => {
    const calendar = corpus.find((c) => c.kind === 'calendar' && c.items.some((item) => /^ATTENDEE[;:]/m.test(item.data) && /^RRULE:/m.test(item.data)))!;
    const meeting = calendar.items.find((item) => /^ATTENDEE[;:]/m.test(item.data) && /^RRULE:/m.test(item.data))!;
    const changed = meeting.data.replace(/^SUMMARY:.*$/m, 'SUMMARY:Moved to the big room');
    expect(changed).not.toBe(meeting.data);
    const account = await DavAccount.open({ serverUrl: radicale.url, username: 'zed', password: davPassword, fetch: plainFetch });
    await putItems(account, loaded.get(calendar.slug)!, 'calendar', [{ ...meeting, data: changed }]);
    const again = await copyGroupware({ source: await zimbra(), target: endpoint(), state });
    summaries.push(again);
    expect([sum(again, 'copied'), sum(again, 'updated'), sum(again, 'failed')]).toEqual([0, 1, 0]);
    const target = endpoint();
    const folder = (await target.collections()).find((c) => c.displayName === calendar.displayName || (c.isDefault && c.kind === 'calendar' && calendar.slug === 'calendar'))!;
    const texts = await target.read(folder, await target.list(folder));
    const copies = texts.filter((t) => t.data.includes(`UID:${meeting.uid}`));
    expect(copies).toHaveLength(1);
    expect(copies[0]!.data).toMatch(/^SUMMARY:Moved to the big room\r?$/m);
    meeting.data = changed;
    const verdict = await verifyGroupware(await zimbra(), endpoint(), { notMapped: notMappedOf(summaries) });
    expect(verdictLines(verdict).join('\n')).toMatch(/^PERFECT/);
  }, 60_000);

  it('waits for ErrorServerBusy on writes as long as Exchange says, and writes each item once', async () => {
    const [added] = generateGroupwareCorpus({ seed: 'ews-busy', scale: 0.01 });
    const account = await DavAccount.open({ serverUrl: radicale.url, username: 'zed', password: davPassword, fetch: plainFetch });
    const calendar = corpus.find((c) => c.kind === 'calendar')!;
    const fresh = added!.items.slice(0, 2);
    await putItems(account, loaded.get(calendar.slug)!, 'calendar', fresh);
    let isTriggered = false;
    const busyOnCreate: FetchLike = (input, init) => {
      if (!isTriggered && typeof init?.body === 'string' && init.body.includes('<m:CreateItem')) {
        isTriggered = true;
        server.simulate({ busyRequests: 2, backOffMilliseconds: 300 });
      }
      return fetchTls(input, init);
    };
    const waits: number[] = [];
    const creates = server.requestCounts(alice.username).CreateItem ?? 0;
    const started = Date.now();
    const copied = await copyGroupware({ source: await zimbra(), target: endpoint({ fetch: busyOnCreate, onBackOff: (ms) => waits.push(ms) }), state, concurrency: 1 });
    summaries.push(copied);
    calendar.items.push(...fresh);
    expect(waits).toEqual([300, 300]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect([sum(copied, 'copied'), sum(copied, 'failed')]).toEqual([2, 0]);
    // Two busy answers to the first CreateItem, then the two creates.
    expect((server.requestCounts(alice.username).CreateItem ?? 0) - creates).toBe(4);
    const verdict = await verifyGroupware(await zimbra(), endpoint(), { notMapped: notMappedOf(summaries) });
    expect(verdictLines(verdict).join('\n')).toMatch(/^PERFECT/);
  }, 60_000);

  it('never writes an item twice when the answer to its CreateItem is lost: it is found by its source UID first', async () => {
    const [added] = generateGroupwareCorpus({ seed: 'ews-lost', scale: 0.01 });
    const account = await DavAccount.open({ serverUrl: radicale.url, username: 'zed', password: davPassword, fetch: plainFetch });
    const calendar = corpus.find((c) => c.kind === 'calendar')!;
    const item = added!.items[0]!;
    await putItems(account, loaded.get(calendar.slug)!, 'calendar', [item]);
    let lost = 0;
    const losing: FetchLike = async (input, init) => {
      const response = await fetchTls(input, init);
      if (lost === 0 && typeof init?.body === 'string' && init.body.includes('<m:CreateItem')) {
        lost++;
        await response.arrayBuffer();
        throw Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
      }
      return response;
    };
    const copied = await copyGroupware({ source: await zimbra(), target: endpoint({ fetch: losing }), state });
    summaries.push(copied);
    calendar.items.push(item);
    expect(lost).toBe(1);
    expect([sum(copied, 'copied'), sum(copied, 'failed')]).toEqual([1, 0]);
    const target = endpoint();
    const folder = (await target.collections()).find((c) => c.kind === 'calendar' && c.isDefault)!;
    const copies = (await target.read(folder, await target.list(folder))).filter((t) => t.data.includes(`UID:${item.uid}`));
    expect(copies).toHaveLength(1);
    const verdict = await verifyGroupware(await zimbra(), endpoint(), { notMapped: notMappedOf(summaries) });
    expect(verdictLines(verdict).join('\n')).toMatch(/^PERFECT/);
  }, 60_000);

  it('keeps a group whole when one of its contacts changes: the group names the contact written again', async () => {
    const book = corpus.find((c) => c.kind === 'contacts' && c.items.some((item) => /^(MEMBER|X-ADDRESSBOOKSERVER-MEMBER):/m.test(item.data)))!;
    const group = book.items.find((item) => /^(MEMBER|X-ADDRESSBOOKSERVER-MEMBER):/m.test(item.data))!;
    const memberUid = /^(?:MEMBER|X-ADDRESSBOOKSERVER-MEMBER):urn:uuid:(.*?)\r?$/m.exec(group.data)![1]!;
    const member = book.items.find((item) => item.uid === memberUid)!;
    const changed = member.data.replace(/^FN:.*$/m, 'FN:Renamed Member');
    expect(changed).not.toBe(member.data);
    const account = await DavAccount.open({ serverUrl: radicale.url, username: 'zed', password: davPassword, fetch: plainFetch });
    await putItems(account, loaded.get(book.slug)!, 'contacts', [{ ...member, data: changed }]);
    const again = await copyGroupware({ source: await zimbra(), target: endpoint(), state });
    summaries.push(again);
    member.data = changed;
    expect([sum(again, 'copied'), sum(again, 'updated'), sum(again, 'failed')]).toEqual([0, 1, 0]);
    // Checked without the notes of the group: all its members are there.
    const notes = new Map([...notMappedOf(summaries)].map(([uid, list]) => [uid, list.filter((n) => n.property !== 'MEMBER')]));
    const verdict = await verifyGroupware(await zimbra(), endpoint(), { notMapped: notes });
    expect(verdictLines(verdict).join('\n')).toMatch(/^PERFECT/);
  }, 60_000);

  it('names a folder whose name its parent holds already with a number, and reports an item Exchange refuses in words', async () => {
    const target = endpoint();
    const spec = { kind: 'tasks' as const, displayName: 'Errands', color: null, description: null, components: ['VTODO'], slug: 'errands' };
    const first = await target.create(spec);
    const second = await target.create(spec);
    expect([first.displayName, second.displayName]).toEqual(['Errands', 'Errands (2)']);
    expect(second.id).not.toBe(first.id);
    const calendar = (await target.collections()).find((c) => c.kind === 'calendar' && c.isDefault)!;
    const backwards = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', 'UID:backwards-1', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260105T100000Z', 'DTEND:20260105T090000Z', 'SUMMARY:Ends before it starts', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
    const refused = await target.write(calendar, target.itemId(calendar, 'backwards-1'), backwards, { create: true });
    expect(refused).toEqual({ ok: false, isConflict: false, reason: expect.stringMatching(/^Exchange refused the calendar item \(ErrorCalendarEndDateIsEarlierThanStartDate\): it ends before it starts$/) });
    expect(JSON.stringify(refused)).not.toContain('Ends before it starts');
  });

  it('sent no invitation, update or cancellation for anything it wrote, though the corpus has meetings', () => {
    const meetings = corpus.flatMap((c) => c.items).filter((item) => /^ATTENDEE[;:]/m.test(item.data));
    expect(meetings.length).toBeGreaterThan(3);
    expect(server.sentMail(alice.email)).toEqual([]);
  });
});

describe('Exchange (EWS) that allows only NTLM', () => {
  let server: EwsServer;
  let radicale: RadicaleServer;
  let pinned: PinnedFetch;
  let items = 0;

  beforeAll(async () => {
    [server, radicale] = await Promise.all([startEwsServer({ users: [nora, otto], simulation: { authentication: 'ntlm' } }), startRadicale({ users: [{ username: 'nina', password: davPassword }] })]);
    pinned = createPinnedFetch(
      { allow: parseHostRules('127.0.0.0/8').rules, insecure: [], extraCaPem: server.caCertPem ?? null, allowedPorts: [...DEFAULT_ALLOWED_PORTS, server.port] },
      { timeoutMs: 20_000 },
    );
    const corpus = generateGroupwareCorpus({ seed: 'ews-ntlm', scale: 0.03 });
    items = corpus.reduce((n, c) => n + c.items.length, 0);
    await loadCorpus({ serverUrl: radicale.url, username: 'nina', password: davPassword }, corpus, { concurrency: 8 });
  }, 60_000);

  afterAll(async () => {
    await pinned?.close();
    await Promise.all([server?.stop(), radicale?.stop()]);
  });

  const endpoint = (overrides: Partial<ConstructorParameters<typeof EwsEndpoint>[0]> = {}) =>
    new EwsEndpoint({ url: server.ewsUrl, username: nora.username, password: nora.password, email: nora.email, fetch: pinned, ...overrides });
  const dav = () => DavEndpoint.open({ serverUrl: radicale.url, username: 'nina', password: davPassword, fetch: plainFetch });

  it('copies with NTLM when Basic is answered 401 with only NTLM offered: one handshake on one kept-alive connection', async () => {
    const target = endpoint();
    const from = server.requests.length;
    const copied = await copyGroupware({ source: await dav(), target, state: new MemoryGroupwareStateStore() });
    expect(copied.issues).toEqual([]);
    expect(sum(copied, 'copied')).toBe(items);
    const requests = server.requests.slice(from);
    // Basic once, refused; then NEGOTIATE, AUTHENTICATE, and everything after on that connection without a header.
    expect(requests[0]!.headers.authorization).toMatch(/^Basic /);
    expect(requests[0]!.status).toBe(401);
    const legs = requests.filter((r) => /^(NTLM|Negotiate) /.test(r.headers.authorization ?? ''));
    console.info(`NTLM copy: ${requests.length} requests for ${items} items, ${legs.length} handshake legs`);
    expect(legs.length).toBeGreaterThanOrEqual(2);
    expect(legs.length).toBeLessThanOrEqual(6);
    expect(requests.filter((r) => r.status === 401).length).toBe(1 + legs.length / 2);
    expect(requests.filter((r) => r.headers.authorization?.startsWith('Basic ')).length).toBe(1);
    expect(target.requestCount).toBe(requests.length);
    const verdict = await verifyGroupware(await dav(), endpoint({ authentication: 'ntlm' }), { notMapped: notMappedOf([copied]) });
    expect(verdictLines(verdict).join('\n')).toMatch(/^PERFECT/);
    expect(server.sentMail(nora.email)).toEqual([]);
  }, 60_000);

  it('keeps two NTLM users of one server apart though they share a pinned fetch: each has a connection of its own', async () => {
    server.seedFolder(otto.email, { parent: 'calendar', displayName: 'Only Otto', element: 'CalendarFolder' });
    const asNora = endpoint({ authentication: 'ntlm' });
    const asOtto = endpoint({ authentication: 'ntlm', username: otto.username, password: otto.password, email: otto.email });
    // Interleaved: a connection authenticated for one must never carry the other's requests.
    for (let round = 0; round < 3; round++) {
      expect((await asNora.collections()).map((c) => c.displayName)).not.toContain('Only Otto');
      expect((await asOtto.collections()).map((c) => c.displayName)).toContain('Only Otto');
    }
  });

  it("speaks NTLM from the first request when told to, also as user@domain, and the login check passes", async () => {
    const from = server.requests.length;
    const collections = await endpoint({ authentication: 'ntlm', username: nora.email }).collections();
    expect(collections.filter((c) => c.isDefault).map((c) => c.kind).sort()).toEqual(['calendar', 'contacts', 'tasks']);
    expect(server.requests.slice(from).some((r) => r.headers.authorization?.startsWith('Basic '))).toBe(false);
    const report = await checkEws({ url: server.ewsUrl, username: nora.username, password: nora.password, email: nora.email, fetch: pinned });
    expect(report.collections.map((c) => c.kind).sort()).toEqual(['calendar', 'contacts', 'tasks']);
  });

  it('binds its NTLM answer to the TLS connection, as Extended Protection for Authentication requires', async () => {
    server.simulate({ extendedProtection: true });
    try {
      const collections = await endpoint({ authentication: 'ntlm' }).collections();
      expect(collections.filter((c) => c.isDefault)).toHaveLength(3);
      // Without the connection's certificate (a fetch that cannot tell it) the answer is refused.
      const one = pinned.single();
      const blind: FetchLike = (input, init) => one(input, init);
      const refused = await endpoint({ authentication: 'ntlm', fetch: blind }).collections().then(
        () => undefined,
        (rejection: unknown) => rejection,
      );
      expect((refused as ConnectorError).reason).toBe('auth_failed');
    } finally {
      server.simulate({ extendedProtection: false });
    }
  });

  it('names a wrong password auth_failed, in plain words and without the password, for the copy and the login check', async () => {
    const wrong = 'Wrong-Passw0rd-99';
    for (const attempt of [
      () => endpoint({ password: wrong }).collections(),
      () => endpoint({ password: wrong, authentication: 'ntlm' }).collections(),
      () => checkEws({ url: server.ewsUrl, username: nora.username, password: wrong, email: nora.email, fetch: pinned }),
    ]) {
      const error = await attempt().then(
        () => undefined,
        (rejection: unknown) => rejection,
      );
      expect(error).toBeInstanceOf(ConnectorError);
      expect((error as ConnectorError).reason).toBe('auth_failed');
      expect((error as ConnectorError).message).toMatch(/user name or password/);
      expect((error as ConnectorError).message).not.toContain(wrong);
    }
  });
});
