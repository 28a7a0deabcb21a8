import { Agent, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';
import ICAL from 'ical.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireAppToken, clearAppTokenCache, GRAPH_SCOPE } from '@/server/accounts/m365/oauth';
import { ConnectorError, type FetchLike } from '@/server/accounts/types';
import { copyGroupware } from '@/server/engine/groupware/copy-groupware';
import { DavEndpoint } from '@/server/engine/groupware/dav-endpoint';
import { vcardToGraphContact } from '@/server/engine/groupware/graph/contacts';
import { icalendarToGraphEvent } from '@/server/engine/groupware/graph/events';
import { GraphSource } from '@/server/engine/groupware/graph/graph-endpoint';
import { icalendarToGraphTask } from '@/server/engine/groupware/graph/tasks';
import { MemoryGroupwareStateStore } from '@/server/engine/groupware/state';
import { verdictLines, verifyGroupware } from '@/server/engine/groupware/verify-groupware';
import { generateGroupwareCorpus } from '@/scripts/groupware-corpus/corpus';
import { startMicrosoftServer, type GroupwareSeed, type MicrosoftServer, type MicrosoftTenant } from './helpers/microsoft-server';
import { startRadicale, type RadicaleServer } from './helpers/radicale';

/**
 * Microsoft 365 as a groupware source: the part 1 corpus, mapped to Graph and put into the
 * protocol-faithful Graph test server's mailbox (series with their exceptions and cancelled
 * occurrences made through Graph itself, photos and attachments uploaded), is copied by
 * GraphSource into a real Radicale and verified; what the source reads is also checked against
 * what was put in (exceptions, cancellations, photos, checklists), since the verifier compares
 * the source's reading with the target only.
 */

const TENANT_ID = '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a';
const APP = { clientId: '6e5d4c3b-2a1f-4e0d-9c8b-7a6f5e4d3c2b', clientSecret: 'Gs7~source.secret-0007' };
const ALICE = 'alice@fabrikam.test';
const password = 'correct horse battery';

const tenant: MicrosoftTenant = {
  id: TENANT_ID,
  domains: ['fabrikam.test'],
  apps: [{ ...APP, roles: ['Calendars.ReadWrite', 'Contacts.ReadWrite', 'Tasks.ReadWrite.All'] }],
  users: [{ userPrincipalName: ALICE }],
};

type Json = Record<string, unknown>;

let microsoft: MicrosoftServer;
let radicale: RadicaleServer;
let dispatcher: Agent;
/** HTTP requests the product sent to Graph (a $batch is one). */
let roundTrips = 0;
let fetchTls: FetchLike;

const plainFetch = (input: string | URL, init?: RequestInit) => fetch(input, init);

function source(user: string, signal?: AbortSignal): GraphSource {
  return new GraphSource({
    graphBaseUrl: microsoft.graphBaseUrl,
    user,
    fetch: (input, init) => {
      if (String(input).startsWith(microsoft.graphBaseUrl)) roundTrips++;
      return fetchTls(input, init);
    },
    token: async ({ renewed }) => {
      if (renewed) clearAppTokenCache();
      const { accessToken } = await acquireAppToken({ tenantId: TENANT_ID, ...APP, scope: GRAPH_SCOPE, authorityHost: microsoft.authorityHost, fetch: fetchTls });
      return accessToken;
    },
    signal,
  });
}

/** Test setup talks to Graph directly, one request at a time (the mailbox allows 4 at once). */
async function graph(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Json }> {
  const token = microsoft.issueToken({ tenantId: TENANT_ID, clientId: APP.clientId, resource: 'graph' });
  const isBinary = Buffer.isBuffer(body);
  const response = await undiciFetch(`${microsoft.graphBaseUrl}/v1.0/users/${encodeURIComponent(ALICE)}/${path}`, {
    method,
    dispatcher,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && !isBinary ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : isBinary ? (body as Buffer) : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text && (response.headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as Json) : {} };
}

interface SeededSeries {
  exceptions: string[];
  cancelled: string[];
}

interface Seeded {
  events: number;
  contacts: number;
  tasks: number;
  /** Graph event id → the exceptions and cancellations made on it (original starts, UTC). */
  series: Map<string, SeededSeries>;
  /** Graph event id → attachment names. */
  attachments: Map<string, string[]>;
  /** Graph contact id → photo bytes. */
  photos: Map<string, Buffer>;
  /** Graph task id → checklist item names. */
  checklists: Map<string, string[]>;
  /** Corpus items the mapping says cannot be Graph items at all (a contact group), by UID. */
  notGraphItems: string[];
}

const without = (o: object, ...keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k, v]) => !keys.includes(k) && v !== undefined));
const day = 86_400_000;

async function seedCorpus(): Promise<Seeded> {
  const corpus = generateGroupwareCorpus({ seed: 'graph-source', scale: 0.1 });
  const seed: GroupwareSeed = { calendars: [], contactFolders: [], todoLists: [] };
  const seeded: Seeded = { events: 0, contacts: 0, tasks: 0, series: new Map(), attachments: new Map(), photos: new Map(), checklists: new Map(), notGraphItems: [] };
  const eventMappings: ReturnType<typeof icalendarToGraphEvent>[] = [];
  const contactMappings = new Map<Json, ReturnType<typeof vcardToGraphContact>>();
  const taskMappings: ReturnType<typeof icalendarToGraphTask>[] = [];
  const firstOf = { calendar: true, contacts: true, tasks: true };
  for (const collection of corpus) {
    const first = firstOf[collection.kind];
    firstOf[collection.kind] = false;
    if (collection.kind === 'calendar') {
      const events: Json[] = [];
      for (const item of collection.items) {
        const mapping = icalendarToGraphEvent(item.data);
        eventMappings.push(mapping);
        events.push(without(mapping.master, 'attachments', 'iCalUId', 'organizer'));
      }
      if (first) seed.events = events;
      else seed.calendars!.push({ name: collection.displayName, events });
    } else if (collection.kind === 'contacts') {
      const contacts: Json[] = [];
      for (const item of collection.items) {
        const mapping = vcardToGraphContact(item.data);
        if (!mapping.contact) {
          seeded.notGraphItems.push(item.uid);
          continue;
        }
        const json = without(mapping.contact, 'createdDateTime', 'lastModifiedDateTime');
        contactMappings.set(json, mapping);
        contacts.push(json);
      }
      if (first) seed.contacts = contacts;
      else seed.contactFolders!.push({ displayName: collection.displayName, contacts });
    } else {
      const tasks: Json[] = [];
      for (const item of collection.items) {
        const mapping = icalendarToGraphTask(item.data);
        // The corpus has no checklists (iCalendar has none): a few tasks get one, as To Do users make them.
        if (taskMappings.length % 4 === 0 && mapping.task.checklistItems.length === 0) {
          mapping.task.checklistItems = [{ displayName: 'Draft the agenda', isChecked: true }, { displayName: 'Send it; then book the room', isChecked: false }];
        }
        taskMappings.push(mapping);
        tasks.push(without(mapping.task, 'createdDateTime', 'lastModifiedDateTime'));
      }
      if (first) seed.tasks = tasks;
      else seed.todoLists!.push({ displayName: collection.displayName, tasks });
    }
  }
  // A folder below a folder, as Outlook users make them.
  const nested = seed.contactFolders![0];
  if (nested?.contacts && nested.contacts.length > 1) nested.childFolders = [{ displayName: 'Archive', contacts: nested.contacts.splice(0, 1) }];
  const contactOrder = [...(seed.contacts ?? []), ...seed.contactFolders!.flatMap((f) => [...(f.contacts ?? []), ...(f.childFolders ?? []).flatMap((c) => c.contacts ?? [])])];
  const ids = microsoft.seed(ALICE, seed);
  seeded.events = ids.events.length;
  seeded.contacts = ids.contacts.length;
  seeded.tasks = ids.tasks.length;

  // Exceptions, cancellations and attachments are made the way a client makes them.
  for (const [n, mapping] of eventMappings.entries()) {
    const id = ids.events[n]!;
    for (const file of mapping.master.attachments) {
      expect((await graph('POST', `events/${id}/attachments`, file)).status).toBe(201);
      seeded.attachments.set(id, [...(seeded.attachments.get(id) ?? []), file.name]);
    }
    if (!mapping.master.recurrence || (mapping.exceptions.length === 0 && mapping.cancelled.length === 0)) continue;
    const made: SeededSeries = { exceptions: [], cancelled: [] };
    const occurrence = async (originalStart: string) => {
      const at = Date.parse(originalStart);
      const window = `startDateTime=${new Date(at - 2 * day).toISOString()}&endDateTime=${new Date(at + 2 * day).toISOString()}&$top=100`;
      const list = await graph('GET', `events/${id}/instances?${window}`);
      return ((list.json.value ?? []) as Json[]).find((o) => Date.parse(String(o.originalStart)) === at);
    };
    for (const exception of mapping.exceptions) {
      const found = await occurrence(exception.originalStart);
      if (!found) continue;
      const patch = await graph('PATCH', `events/${String(found.id)}`, without(exception.patch, 'recurrence', 'attachments', 'iCalUId', 'organizer'));
      expect(patch.status, JSON.stringify(patch.json)).toBe(200);
      made.exceptions.push(exception.originalStart);
    }
    for (const start of mapping.cancelled) {
      const found = await occurrence(start);
      if (!found) continue;
      expect((await graph('DELETE', `events/${String(found.id)}`)).status).toBe(204);
      made.cancelled.push(start);
    }
    seeded.series.set(id, made);
  }
  for (const [n, json] of contactOrder.entries()) {
    const id = ids.contacts[n]!;
    const mapping = contactMappings.get(json)!;
    if (!mapping.photo) continue;
    const put = await graph('PUT', `contacts/${id}/photo/$value`, mapping.photo.bytes, { 'content-type': mapping.photo.contentType });
    expect(put.status, `photo of contact ${n}`).toBe(200);
    seeded.photos.set(id, mapping.photo.bytes);
  }
  for (const [n, mapping] of taskMappings.entries()) {
    if (mapping.task.checklistItems.length) seeded.checklists.set(ids.tasks[n]!, mapping.task.checklistItems.map((c) => c.displayName));
  }
  return seeded;
}

const instant = (value: ICAL.Time) => new Date(value.toUnixTime() * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** What one read series holds: RECURRENCE-IDs and EXDATEs as UTC instants. */
function seriesOf(data: string): SeededSeries {
  const root = new ICAL.Component(ICAL.parse(data) as never);
  for (const zone of root.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(new ICAL.Timezone(zone));
  const events = root.getAllSubcomponents('vevent');
  const master = events.find((e) => !e.getFirstProperty('recurrence-id'))!;
  return {
    exceptions: events.filter((e) => e !== master).map((e) => instant(e.getFirstPropertyValue('recurrence-id') as ICAL.Time)).sort(),
    cancelled: master.getAllProperties('exdate').flatMap((p) => (p.getValues() as ICAL.Time[]).map(instant)).sort(),
  };
}

let seeded: Seeded;
let state: MemoryGroupwareStateStore;

beforeAll(async () => {
  [microsoft, radicale] = await Promise.all([
    startMicrosoftServer({ tenants: [tenant], pageSize: 10, graphLatencyMs: 5 }),
    startRadicale({ users: [{ username: 'alice', password }] }),
  ]);
  dispatcher = new Agent({ connect: { ca: microsoft.caCertPem }, connections: 16 });
  fetchTls = (input, init) => undiciFetch(input, { ...(init as UndiciRequestInit), dispatcher }) as unknown as Promise<Response>;
  seeded = await seedCorpus();
}, 120_000);

afterAll(async () => {
  await dispatcher?.close();
  await Promise.all([microsoft?.stop(), radicale?.stop()]);
});

describe('Microsoft 365 as a groupware source', () => {
  it('lists every calendar, contact folder (child folders too) and To Do list, defaults marked', async () => {
    const collections = await source(ALICE).collections();
    const byKind = (kind: string) => collections.filter((c) => c.kind === kind);
    expect(byKind('calendar').filter((c) => c.isDefault).map((c) => c.displayName)).toEqual(['Calendar']);
    expect(byKind('contacts').filter((c) => c.isDefault).map((c) => c.displayName)).toEqual(['Contacts']);
    expect(byKind('tasks').filter((c) => c.isDefault).map((c) => c.displayName)).toEqual(['Tasks']);
    expect(byKind('contacts').some((c) => c.displayName.endsWith(' / Archive'))).toBe(true);
    expect(new Set(collections.map((c) => c.slug)).size).toBe(collections.length);
    for (const c of byKind('calendar')) expect(c.color === null || /^#[0-9a-f]{6}$/.test(c.color), String(c.color)).toBe(true);
  });

  it('copies the mailbox into Radicale, PERFECT by the verifier, with series, photos and checklists as they were put in', async () => {
    const before = microsoft.requestsFor(ALICE).total;
    roundTrips = 0;
    const from = source(ALICE);
    state = new MemoryGroupwareStateStore();
    const target = await DavEndpoint.open({ serverUrl: radicale.url, username: 'alice', password, fetch: plainFetch });
    const summary = await copyGroupware({ source: from, target, state });
    const after = microsoft.requestsFor(ALICE);
    const copyRequests = after.list.slice(before);

    const items = summary.collections.reduce((n, c) => n + c.items, 0);
    expect(items).toBe(seeded.events + seeded.contacts + seeded.tasks);
    expect(summary.collections.reduce((n, c) => n + c.copied, 0)).toBe(items);
    expect(summary.issues).toEqual([]);
    // Never more than the mailbox's 4 requests at once: the server would have answered 429.
    expect(copyRequests.filter((r) => r.status === 429)).toEqual([]);

    const kinds = (kind: string) => copyRequests.filter((r) => r.kind === kind).length;
    const perItem = {
      contacts: (kinds('contact') + kinds('photo')) / seeded.contacts,
      events: (kinds('event') + kinds('instances') + kinds('attachment')) / seeded.events,
      tasks: kinds('task') / seeded.tasks,
      httpPerItem: roundTrips / items,
    };
    console.log(`Graph source: ${items} items, ${copyRequests.length} mailbox requests, ${roundTrips} HTTP round trips; per item`, perItem);
    expect(perItem.contacts).toBeLessThanOrEqual(2.1);
    expect(perItem.events).toBeLessThanOrEqual(2.1);
    expect(perItem.tasks).toBeLessThanOrEqual(1.1);
    // $batch: a round trip carries several requests.
    expect(perItem.httpPerItem).toBeLessThan(0.75);

    // The verifier compares what the source reads with the target: equal, item by item.
    const verdict = await verifyGroupware(source(ALICE), target);
    expect(verdictLines(verdict).join('\n')).toMatch(/^PERFECT/);
    expect(verdict.collections.reduce((n, c) => n + c.equal, 0)).toBe(items);

    // What the source read is what was put in: every exception and cancelled occurrence of every series,
    // the attachments, the photos, the checklists.
    const collections = await from.collections();
    const read = new Map<string, string>();
    for (const collection of collections) for (const item of await from.read(collection, await from.list(collection))) read.set(item.id, item.data);
    expect(seeded.series.size).toBeGreaterThan(3);
    for (const [id, made] of seeded.series) {
      expect(seriesOf(read.get(id)!), id).toEqual({ exceptions: [...made.exceptions].sort(), cancelled: [...made.cancelled].sort() });
    }
    expect([...seeded.series.values()].some((s) => s.cancelled.length > 0)).toBe(true);
    expect([...seeded.series.values()].some((s) => s.exceptions.length > 0)).toBe(true);
    for (const [id, names] of seeded.attachments) expect(read.get(id)!.match(/^ATTACH/gm)?.length ?? 0, id).toBe(names.length);
    expect(seeded.photos.size).toBeGreaterThan(0);
    for (const [id, bytes] of seeded.photos) {
      const card = new ICAL.Component(ICAL.parse(read.get(id)!) as never);
      const uri = String(card.getFirstPropertyValue('photo'));
      expect(Buffer.from(uri.slice(uri.indexOf(',') + 1), 'base64').equals(bytes), id).toBe(true);
    }
    const withoutPhoto = [...read.entries()].filter(([id, data]) => data.startsWith('BEGIN:VCARD') && !seeded.photos.has(id));
    expect(withoutPhoto.every(([, data]) => !/^PHOTO/m.test(data))).toBe(true);
    expect(seeded.checklists.size).toBeGreaterThan(0);
    for (const [id, names] of seeded.checklists) {
      const todo = new ICAL.Component(ICAL.parse(read.get(id)!) as never).getFirstSubcomponent('vtodo')!;
      expect(todo.getAllProperties('x-checklist-item').map((p) => String(p.getFirstValue())), id).toEqual(names);
    }
    // Contact groups cannot be Graph contacts: the mapping says so and they were not put in.
    console.log(`not Graph items (KIND:group): ${seeded.notGraphItems.length}`);
  }, 180_000);

  it('a rerun copies nothing and reads no item again', async () => {
    const before = microsoft.requestsFor(ALICE).total;
    const target = await DavEndpoint.open({ serverUrl: radicale.url, username: 'alice', password, fetch: plainFetch });
    const summary = await copyGroupware({ source: source(ALICE), target, state });
    expect(summary.collections.reduce((n, c) => n + c.copied + c.updated + c.failed, 0)).toBe(0);
    expect(summary.collections.reduce((n, c) => n + c.skipped, 0)).toBe(seeded.events + seeded.contacts + seeded.tasks);
    const kinds = microsoft.requestsFor(ALICE).list.slice(before).map((r) => r.kind);
    expect(kinds.filter((k) => k === 'photo' || k === 'instances')).toEqual([]);
  }, 60_000);

  it('carries a series changed since, and a new photo, over on the next run', async () => {
    const [seriesId] = [...seeded.series.keys()];
    const master = await graph('GET', `events/${seriesId}`);
    const start = Date.parse(`${String((master.json.start as Json).dateTime).slice(0, 19)}Z`);
    const window = `startDateTime=${new Date(start).toISOString()}&endDateTime=${new Date(start + 400 * day).toISOString()}&$top=100`;
    const occurrences = ((await graph('GET', `events/${seriesId}/instances?${window}`)).json.value ?? []) as Json[];
    const plain = occurrences.filter((o) => o.type === 'occurrence');
    expect(plain.length).toBeGreaterThan(1);
    expect((await graph('PATCH', `events/${String(plain[0]!.id)}`, { subject: 'Moved to the big room' })).status).toBe(200);
    expect((await graph('DELETE', `events/${String(plain[1]!.id)}`)).status).toBe(204);
    const contacts = ((await graph('GET', 'contacts?$top=100')).json.value ?? []) as Json[];
    const bare = contacts.find((c) => !seeded.photos.has(String(c.id)))!;
    const picture = Buffer.from('/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==', 'base64');
    expect((await graph('PUT', `contacts/${String(bare.id)}/photo/$value`, picture, { 'content-type': 'image/jpeg' })).status).toBe(200);

    const target = await DavEndpoint.open({ serverUrl: radicale.url, username: 'alice', password, fetch: plainFetch });
    const summary = await copyGroupware({ source: source(ALICE), target, state });
    expect(summary.collections.reduce((n, c) => n + c.updated, 0)).toBe(2);
    expect(summary.collections.reduce((n, c) => n + c.copied + c.failed, 0)).toBe(0);
    const verdict = await verifyGroupware(source(ALICE), target);
    expect(verdictLines(verdict).join('\n')).toMatch(/^PERFECT/);

    const from = source(ALICE);
    let calendar;
    for (const c of await from.collections()) if (c.kind === 'calendar' && (await from.list(c)).some((r) => r.id === seriesId)) calendar = c;
    const [read] = await from.read(calendar!, [{ id: seriesId!, version: null, size: null }]);
    const made = seeded.series.get(seriesId!)!;
    expect(seriesOf(read!.data)).toEqual({
      exceptions: [...made.exceptions, String(plain[0]!.originalStart)].sort(),
      cancelled: [...made.cancelled, String(plain[1]!.originalStart)].sort(),
    });
    expect(read!.data).toContain('SUMMARY:Moved to the big room');
    seeded.series.set(seriesId!, { exceptions: [...made.exceptions, String(plain[0]!.originalStart)], cancelled: [...made.cancelled, String(plain[1]!.originalStart)] });
    seeded.photos.set(String(bare.id), picture);
  }, 60_000);

  it('waits for a throttled mailbox as Retry-After says, inside a batch too, and gives up on a wait over 120 s', async () => {
    const from = source(ALICE);
    const contacts = (await from.collections()).find((c) => c.kind === 'contacts' && c.isDefault)!;
    const refs = await from.list(contacts);

    microsoft.throttle({ requests: 3, retryAfterSeconds: 2, user: ALICE });
    let started = Date.now();
    expect((await from.list(contacts)).map((r) => r.id)).toEqual(refs.map((r) => r.id));
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * 3 * 1000 - 100);

    // The first batched requests answer 429 inside the batch: they go again after their Retry-After.
    microsoft.throttle({ requests: 2, retryAfterSeconds: 1, user: ALICE, status: 503 });
    started = Date.now();
    const read = await from.read(contacts, refs.slice(0, 3));
    expect(read).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);

    microsoft.throttle({ requests: 1, retryAfterSeconds: 300, user: ALICE });
    const failure = await from.list(contacts).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConnectorError);
    expect((failure as ConnectorError).reason).toBe('rate_limited');
    expect((failure as ConnectorError).detail).not.toMatch(/eyJ|Bearer|Gs7~/);
  }, 60_000);

  it('keeps to 4 requests in flight for one mailbox however many readers there are', async () => {
    const readers = [source(ALICE), source(ALICE), source(ALICE)];
    const before = microsoft.requestsFor(ALICE).total;
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, microsoft.inFlight(ALICE))), 1);
    try {
      await Promise.all(
        readers.map(async (from) => {
          for (const collection of await from.collections()) await from.read(collection, await from.list(collection));
        }),
      );
    } finally {
      clearInterval(timer);
    }
    expect(microsoft.requestsFor(ALICE).list.slice(before).filter((r) => r.status === 429)).toEqual([]);
    expect(peak).toBeLessThanOrEqual(4);
  }, 60_000);

  it('asks for a new token once when Graph says the one it holds has expired, and never puts a token in an error', async () => {
    const asked: boolean[] = [];
    const expired = microsoft.issueToken({ tenantId: TENANT_ID, clientId: APP.clientId, resource: 'graph', lifetimeSeconds: -60 });
    const fresh = microsoft.issueToken({ tenantId: TENANT_ID, clientId: APP.clientId, resource: 'graph' });
    const from = (tokens: (renewed: boolean) => string) =>
      new GraphSource({ graphBaseUrl: microsoft.graphBaseUrl, user: ALICE, fetch: fetchTls, token: async ({ renewed }) => (asked.push(renewed), tokens(renewed)) });
    expect((await from((renewed) => (renewed ? fresh : expired)).collections()).length).toBeGreaterThan(3);
    expect(asked).toEqual([false, true]);

    const failure = await from(() => expired).collections().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConnectorError);
    expect((failure as ConnectorError).reason).toBe('not_configured');
    expect((failure as ConnectorError).detail).not.toContain(expired);
  });

  it('says plainly when the user is not in the tenant', async () => {
    const failure = await source('nobody@fabrikam.test').collections().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConnectorError);
    expect((failure as ConnectorError).reason).toBe('groupware_not_found');
  });
});
