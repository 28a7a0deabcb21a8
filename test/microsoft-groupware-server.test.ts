import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMicrosoftServer, type MicrosoftServer, type MicrosoftTenant } from './helpers/microsoft-server';
import { checkRecurrence, occurrenceDays } from './helpers/microsoft-server/recurrence';
import { formatDate, fromDayNumber } from './helpers/microsoft-server/time';

const TENANT_ID = '7a2d1c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const APP = { clientId: '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e', clientSecret: 'Gw5~groupware.secret-0001' };
const READER = { clientId: '3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f', clientSecret: 'Rd6~reader.secret-0002' };
const ALICE = 'alice@contoso.test';
const BOB = 'bob@contoso.test';

const tenant: MicrosoftTenant = {
  id: TENANT_ID,
  domains: ['contoso.test'],
  apps: [
    { ...APP, roles: ['Calendars.ReadWrite', 'Contacts.ReadWrite', 'Tasks.ReadWrite.All'] },
    { ...READER, roles: ['Calendars.Read'] },
  ],
  users: [
    { userPrincipalName: ALICE, displayName: 'Alice Example', calendars: ['Work'] },
    { userPrincipalName: BOB, displayName: 'Bob Example' },
    { userPrincipalName: 'carol@contoso.test' },
    { userPrincipalName: 'dave@contoso.test' },
  ],
};

let microsoft: MicrosoftServer;
let dispatcher: Agent;
let token: string;

beforeAll(async () => {
  microsoft = await startMicrosoftServer({ tenants: [tenant] });
  dispatcher = new Agent({ connect: { ca: microsoft.caCertPem }, connections: 32 });
  token = microsoft.issueToken({ tenantId: TENANT_ID, clientId: APP.clientId, resource: 'graph' });
});

afterAll(async () => {
  await dispatcher?.close();
  await microsoft?.stop();
});

interface Answer {
  status: number;
  headers: Headers;
  json: Record<string, unknown> & { value?: Record<string, unknown>[]; error?: { code: string; message: string } };
  bytes: Buffer;
}

async function graph(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, bearer = token): Promise<Answer> {
  const url = path.startsWith('https:') ? path : `${microsoft.graphBaseUrl}/v1.0${path}`;
  const isBinary = Buffer.isBuffer(body);
  const response = await undiciFetch(url, {
    method,
    dispatcher,
    headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined && !isBinary ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : isBinary ? (body as Buffer) : JSON.stringify(body),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  const json = type.includes('json') && bytes.length > 0 ? (JSON.parse(bytes.toString('utf8')) as Answer['json']) : ({} as Answer['json']);
  return { status: response.status, headers: response.headers as unknown as Headers, json, bytes };
}

/** Follows @odata.nextLink and returns every item and the number of pages. */
async function all(path: string, headers: Record<string, string> = {}): Promise<{ items: Record<string, unknown>[]; pages: number }> {
  const items: Record<string, unknown>[] = [];
  let next: string | undefined = path;
  let pages = 0;
  while (next) {
    const page = await graph('GET', next, undefined, headers);
    expect(page.status, JSON.stringify(page.json)).toBe(200);
    items.push(...(page.json.value ?? []));
    next = page.json['@odata.nextLink'] as string | undefined;
    pages++;
  }
  return { items, pages };
}

const at = (dateTime: string, timeZone = 'W. Europe Standard Time') => ({ dateTime, timeZone });
const u = (user: string) => `/users/${encodeURIComponent(user)}`;
const startsOf = (items: Record<string, unknown>[]) => items.map((i) => (i.start as { dateTime: string }).dateTime);
const EXT_ID = 'String {66f5a359-4659-4830-9070-00047ec6ac6e} Name SourceUid';

describe('recurrence expansion (patternedRecurrence)', () => {
  const days = (recurrence: unknown, until = '2040-01-01') => {
    const check = checkRecurrence(recurrence, 'UTC');
    if (!check.ok) throw new Error(check.message);
    const [y, m, d] = until.split('-').map(Number) as [number, number, number];
    return occurrenceDays(check.recurrence, Math.round(Date.UTC(y, m - 1, d) / 86_400_000)).map((n) => formatDate(fromDayNumber(n)));
  };

  it('walks daily, weekly, monthly and yearly patterns with their ranges', () => {
    expect(days({ pattern: { type: 'daily', interval: 3 }, range: { type: 'endDate', startDate: '2027-01-30', endDate: '2027-02-08' } })).toEqual(['2027-01-30', '2027-02-02', '2027-02-05', '2027-02-08']);
    // Every second week on Sunday and Tuesday, weeks starting on Monday: the Sunday closes the first week.
    expect(days({ pattern: { type: 'weekly', interval: 2, daysOfWeek: ['sunday', 'tuesday'], firstDayOfWeek: 'monday' }, range: { type: 'numbered', startDate: '2027-01-05', numberOfOccurrences: 4 } })).toEqual([
      '2027-01-05', '2027-01-10', '2027-01-19', '2027-01-24',
    ]);
    // Day 31 falls on the last day of shorter months.
    expect(days({ pattern: { type: 'absoluteMonthly', interval: 1, dayOfMonth: 31 }, range: { type: 'numbered', startDate: '2027-01-31', numberOfOccurrences: 4 } })).toEqual(['2027-01-31', '2027-02-28', '2027-03-31', '2027-04-30']);
    // The second Tuesday of March and of every other year.
    expect(days({ pattern: { type: 'relativeYearly', interval: 2, month: 3, daysOfWeek: ['tuesday'], index: 'second' }, range: { type: 'endDate', startDate: '2027-01-01', endDate: '2031-12-31' } })).toEqual(['2027-03-09', '2029-03-13', '2031-03-11']);
    // The first weekday of the month counts over Monday to Friday together.
    expect(days({ pattern: { type: 'relativeMonthly', interval: 1, daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], index: 'first' }, range: { type: 'numbered', startDate: '2027-05-01', numberOfOccurrences: 3 } })).toEqual(['2027-05-03', '2027-06-01', '2027-07-01']);
    // noEnd stops at the asked-for day.
    expect(days({ pattern: { type: 'absoluteYearly', interval: 1, month: 12, dayOfMonth: 25 }, range: { type: 'noEnd', startDate: '2027-01-01' } }, '2029-12-31')).toEqual(['2027-12-25', '2028-12-25', '2029-12-25']);
  });

  it('refuses patterns that lack what their type requires', () => {
    expect(checkRecurrence({ pattern: { type: 'weekly', interval: 1 }, range: { type: 'noEnd', startDate: '2027-01-01' } }, 'UTC')).toMatchObject({ ok: false });
    expect(checkRecurrence({ pattern: { type: 'absoluteYearly', interval: 1, dayOfMonth: 3 }, range: { type: 'noEnd', startDate: '2027-01-01' } }, 'UTC')).toMatchObject({ ok: false });
    expect(checkRecurrence({ pattern: { type: 'daily', interval: 1 }, range: { type: 'numbered', startDate: '2027-01-01' } }, 'UTC')).toMatchObject({ ok: false });
    expect(checkRecurrence({ pattern: { type: 'daily', interval: 0 }, range: { type: 'noEnd', startDate: '2027-01-01' } }, 'UTC')).toMatchObject({ ok: false });
  });
});

describe('calendars', () => {
  it('has the default Calendar, creates others, and refuses a second of the same name', async () => {
    const list = await graph('GET', `${u(ALICE)}/calendars`);
    expect(list.json.value?.map((c) => [c.name, c.isDefaultCalendar])).toEqual([['Calendar', true], ['Work', false]]);

    const made = await graph('POST', `${u(ALICE)}/calendars`, { name: 'Team Days', color: 'lightGreen', singleValueExtendedProperties: [{ id: EXT_ID, value: 'cal-1' }] });
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({ name: 'Team Days', color: 'lightGreen', isDefaultCalendar: false });
    expect(made.json.hexColor).toMatch(/^#[0-9a-f]{6}$/);

    const again = await graph('POST', `${u(ALICE)}/calendars`, { name: 'team days' });
    expect(again.status).toBe(409);
    expect(again.json.error?.code).toBe('ErrorFolderExists');

    const found = await graph('GET', `${u(ALICE)}/calendars?$filter=${encodeURIComponent(`singleValueExtendedProperties/Any(ep: ep/id eq '${EXT_ID}' and ep/value eq 'cal-1')`)}`);
    expect(found.json.value?.map((c) => c.id)).toEqual([made.json.id]);

    const badColor = await graph('POST', `${u(ALICE)}/calendars`, { name: 'Odd', color: 'ultraViolet' });
    expect(badColor.status).toBe(400);
  });

  it('answers a reader token on GET and refuses it a write', async () => {
    const reader = microsoft.issueToken({ tenantId: TENANT_ID, clientId: READER.clientId, resource: 'graph' });
    expect((await graph('GET', `${u(ALICE)}/calendars`, undefined, {}, reader)).status).toBe(200);
    const write = await graph('POST', `${u(ALICE)}/calendars`, { name: 'Nope' }, {}, reader);
    expect(write.status).toBe(403);
    expect(write.json.error?.code).toBe('ErrorAccessDenied');
    expect((await graph('GET', `${u(ALICE)}/contacts`, undefined, {}, reader)).status).toBe(403);
  });
});

describe('events', () => {
  it('pages with @odata.nextLink, 10 by default, and keeps $select', async () => {
    const calendar = (await graph('POST', `${u(BOB)}/calendars`, { name: 'Paged' })).json.id as string;
    const events = Array.from({ length: 23 }, (_, i) => ({ subject: `Event ${i}`, start: at(`2027-03-${String(i + 1).padStart(2, '0')}T10:00:00`), end: at(`2027-03-${String(i + 1).padStart(2, '0')}T11:00:00`) }));
    microsoft.seed(BOB, { calendars: [{ name: 'Seeded', events }] });
    const seededId = ((await graph('GET', `${u(BOB)}/calendars`)).json.value ?? []).find((c) => c.name === 'Seeded')!.id as string;

    const first = await graph('GET', `${u(BOB)}/calendars/${seededId}/events`);
    expect(first.json.value).toHaveLength(10);
    expect(first.json['@odata.nextLink']).toContain('$skip=10');
    const { items, pages } = await all(`${u(BOB)}/calendars/${seededId}/events`);
    expect(pages).toBe(3);
    expect(new Set(items.map((i) => i.subject))).toEqual(new Set(events.map((e) => e.subject)));

    const selected = await all(`${u(BOB)}/calendars/${seededId}/events?$top=5&$select=subject`);
    expect(selected.pages).toBe(5);
    expect(Object.keys(selected.items[0]!).sort()).toEqual(['@odata.etag', 'id', 'subject']);

    expect((await graph('GET', `${u(BOB)}/calendars/${calendar}/events`)).json.value).toEqual([]);
    // /calendar/events is the default calendar's; the seeded calendar's events are not in it.
    const inDefault = await all(`${u(BOB)}/calendar/events`);
    expect(inDefault.items.some((e) => String(e.subject).startsWith('Event '))).toBe(false);
    expect((await graph('GET', `${u(BOB)}/events?$top=0`)).status).toBe(400);
  });

  it('expands a weekly Monday/Wednesday series of 10 with one exception and one cancellation', async () => {
    const master = await graph('POST', `${u(BOB)}/events`, {
      subject: 'Stand-up',
      start: at('2027-01-04T09:00:00'),
      end: at('2027-01-04T09:15:00'),
      recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'wednesday'], firstDayOfWeek: 'monday' }, range: { type: 'numbered', startDate: '2027-01-04', numberOfOccurrences: 10 } },
    });
    expect(master.status).toBe(201);
    expect(master.json).toMatchObject({ type: 'seriesMaster', originalStartTimeZone: 'W. Europe Standard Time', start: { dateTime: '2027-01-04T08:00:00.0000000', timeZone: 'UTC' } });
    const id = master.json.id as string;
    const window = '?startDateTime=2027-01-01T00:00:00Z&endDateTime=2027-03-01T00:00:00Z';

    const before = await all(`${u(BOB)}/events/${id}/instances${window}`);
    expect(startsOf(before.items)).toEqual(['04', '06', '11', '13', '18', '20', '25', '27'].map((d) => `2027-01-${d}T08:00:00.0000000`).concat(['2027-02-01T08:00:00.0000000', '2027-02-03T08:00:00.0000000']));
    expect(before.items.every((i) => i.type === 'occurrence' && i.seriesMasterId === id)).toBe(true);
    expect(new Set(before.items.map((i) => i.id)).size).toBe(10);
    // One series: the same uid throughout; each occurrence's iCalUId carries its own date.
    expect(new Set(before.items.map((i) => i.uid))).toEqual(new Set([master.json.uid]));
    expect(new Set(before.items.map((i) => i.iCalUId)).size).toBe(10);

    const third = before.items[2]!;
    const moved = await graph('PATCH', `${u(BOB)}/events/${third.id as string}`, { subject: 'Stand-up (late)', start: at('2027-01-11T10:00:00'), end: at('2027-01-11T10:15:00') });
    expect(moved.status).toBe(200);
    expect(moved.json).toMatchObject({ type: 'exception', originalStart: '2027-01-11T08:00:00Z', start: { dateTime: '2027-01-11T09:00:00.0000000' } });
    expect((await graph('DELETE', `${u(BOB)}/events/${before.items[5]!.id as string}`)).status).toBe(204);

    const after = await all(`${u(BOB)}/events/${id}/instances${window}`, { prefer: 'outlook.timezone="W. Europe Standard Time"' });
    expect(after.items).toHaveLength(9);
    expect(startsOf(after.items)).toEqual([
      '2027-01-04T09:00:00.0000000', '2027-01-06T09:00:00.0000000', '2027-01-11T10:00:00.0000000', '2027-01-13T09:00:00.0000000', '2027-01-18T09:00:00.0000000',
      '2027-01-25T09:00:00.0000000', '2027-01-27T09:00:00.0000000', '2027-02-01T09:00:00.0000000', '2027-02-03T09:00:00.0000000',
    ]);
    expect(after.items.map((i) => i.type).filter((t) => t === 'exception')).toHaveLength(1);
    expect(after.items[2]!.subject).toBe('Stand-up (late)');
    expect((await graph('GET', `${u(BOB)}/events/${before.items[5]!.id as string}`)).status).toBe(404);

    const expanded = await graph('GET', `${u(BOB)}/events/${id}?$expand=exceptionOccurrences`);
    expect((expanded.json.exceptionOccurrences as Record<string, unknown>[]).map((e) => e.subject)).toEqual(['Stand-up (late)']);
    // The list holds the master only, never its occurrences.
    const listed = (await all(`${u(BOB)}/events`)).items.filter((e) => e.subject === 'Stand-up' || e.subject === 'Stand-up (late)');
    expect(listed.map((e) => e.type)).toEqual(['seriesMaster']);

    // A window that asks for nothing is refused, as Graph refuses it.
    expect((await graph('GET', `${u(BOB)}/events/${id}/instances`)).json.error?.code).toBe('ErrorInvalidParameter');
  });

  it('puts a relativeMonthly "last Friday" series on the last Friday and keeps its hour across DST', async () => {
    const master = await graph('POST', `${u(BOB)}/events`, {
      subject: 'Review',
      start: at('2027-01-29T10:00:00', 'Pacific Standard Time'),
      end: at('2027-01-29T11:00:00', 'Pacific Standard Time'),
      recurrence: { pattern: { type: 'relativeMonthly', interval: 1, daysOfWeek: ['friday'], index: 'last' }, range: { type: 'numbered', startDate: '2027-01-29', numberOfOccurrences: 6 } },
    });
    expect(master.status, JSON.stringify(master.json)).toBe(201);
    const { items } = await all(`${u(BOB)}/events/${master.json.id as string}/instances?startDateTime=2027-01-01T00:00:00Z&endDateTime=2028-01-01T00:00:00Z`);
    // PST is UTC-8 until 14 March 2027, PDT UTC-7 after.
    expect(startsOf(items)).toEqual([
      '2027-01-29T18:00:00.0000000', '2027-02-26T18:00:00.0000000', '2027-03-26T17:00:00.0000000',
      '2027-04-30T17:00:00.0000000', '2027-05-28T17:00:00.0000000', '2027-06-25T17:00:00.0000000',
    ]);
  });

  it('moves a series master to its first occurrence when the start day is not in the pattern', async () => {
    const master = await graph('POST', `${u(BOB)}/events`, {
      subject: 'Gym', start: at('2027-01-05T18:00:00'), end: at('2027-01-05T19:00:00'),
      recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'wednesday'] }, range: { type: 'endDate', startDate: '2027-01-05', endDate: '2027-01-11' } },
    }, { prefer: 'outlook.timezone="W. Europe Standard Time"' });
    expect(master.json.start).toEqual({ dateTime: '2027-01-06T18:00:00.0000000', timeZone: 'W. Europe Standard Time' });
    const { items } = await all(`${u(BOB)}/events/${master.json.id as string}/instances?startDateTime=2027-01-01T00:00:00Z&endDateTime=2027-02-01T00:00:00Z`);
    expect(startsOf(items)).toEqual(['2027-01-06T17:00:00.0000000', '2027-01-11T17:00:00.0000000']);
  });

  it('falls a yearly February 29 series of 5 on February 28 in common years', async () => {
    const master = await graph('POST', `${u(BOB)}/events`, {
      subject: 'Leap day',
      start: at('2028-02-29T12:00:00', 'UTC'),
      end: at('2028-02-29T13:00:00', 'UTC'),
      recurrence: { pattern: { type: 'absoluteYearly', interval: 1, month: 2, dayOfMonth: 29 }, range: { type: 'numbered', startDate: '2028-02-29', numberOfOccurrences: 5 } },
    });
    expect(master.status, JSON.stringify(master.json)).toBe(201);
    const { items } = await all(`${u(BOB)}/events/${master.json.id as string}/instances?startDateTime=2028-01-01T00:00:00Z&endDateTime=2040-01-01T00:00:00Z`);
    expect(startsOf(items).map((s) => s.slice(0, 10))).toEqual(['2028-02-29', '2029-02-28', '2030-02-28', '2031-02-28', '2032-02-29']);
  });

  it('refuses a range that does not start on the event, an unknown zone and an unknown property', async () => {
    const wrongStart = await graph('POST', `${u(BOB)}/events`, {
      subject: 'x', start: at('2027-01-04T09:00:00'), end: at('2027-01-04T10:00:00'),
      recurrence: { pattern: { type: 'daily', interval: 1 }, range: { type: 'noEnd', startDate: '2027-01-05' } },
    });
    expect(wrongStart.status).toBe(400);
    const zone = await graph('POST', `${u(BOB)}/events`, { subject: 'x', start: at('2027-01-04T09:00:00', 'Mars/Olympus'), end: at('2027-01-04T10:00:00', 'Mars/Olympus') });
    expect(zone.json.error?.code).toBe('TimeZoneNotSupportedException');
    const unknown = await graph('POST', `${u(BOB)}/events`, { subject: 'x', start: at('2027-01-04T09:00:00'), end: at('2027-01-04T10:00:00'), sendInvitations: false });
    expect(unknown.json.error?.code).toBe('RequestBodyRead');
    // IANA names work as well as Windows names, and Prefer answers in the asked zone.
    const iana = await graph('POST', `${u(BOB)}/events`, { subject: 'Tokyo', start: at('2027-07-01T09:00:00', 'Asia/Tokyo'), end: at('2027-07-01T10:00:00', 'Asia/Tokyo') }, { prefer: 'outlook.timezone="Eastern Standard Time"' });
    expect(iana.json).toMatchObject({ start: { dateTime: '2027-06-30T20:00:00.0000000', timeZone: 'Eastern Standard Time' }, originalStartTimeZone: 'Asia/Tokyo' });
    expect(iana.headers.get('preference-applied')).toBe('outlook.timezone="Eastern Standard Time"');
  });

  it('creates one event for a repeated transactionId and answers the repeat with it', async () => {
    const body = { subject: 'Once', transactionId: 'tx-7f3e', start: at('2027-05-03T09:00:00'), end: at('2027-05-03T10:00:00'), attendees: [{ emailAddress: { address: 'guest@fabrikam.test' }, type: 'required' }] };
    const first = await graph('POST', `${u('carol@contoso.test')}/events`, body);
    const second = await graph('POST', `${u('carol@contoso.test')}/events`, { ...body, subject: 'Once again' });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.json.id).toBe(first.json.id);
    expect(second.json.subject).toBe('Once');
    expect((await all(`${u('carol@contoso.test')}/events`)).items).toHaveLength(1);
    expect(microsoft.sentMail('carol@contoso.test').map((m) => m.kind)).toEqual(['request']);
  });

  it('finds events by a single-value extended property and expands only the one asked for', async () => {
    const other = 'String {66f5a359-4659-4830-9070-00047ec6ac6e} Name Other';
    const made = await graph('POST', `${u(BOB)}/events`, {
      subject: 'Tagged', start: at('2027-06-01T09:00:00'), end: at('2027-06-01T10:00:00'),
      singleValueExtendedProperties: [{ id: EXT_ID, value: 'uid-42@source' }, { id: other, value: 'x' }],
    });
    const filter = (value: string) => `${u(BOB)}/events?$filter=${encodeURIComponent(`singleValueExtendedProperties/Any(ep: ep/id eq '${EXT_ID}' and ep/value eq '${value}')`)}`;
    expect((await graph('GET', filter('uid-42@source'))).json.value?.map((e) => e.id)).toEqual([made.json.id]);
    expect((await graph('GET', filter('uid-43@source'))).json.value).toEqual([]);

    const got = await graph('GET', `${u(BOB)}/events/${made.json.id as string}?$expand=${encodeURIComponent(`singleValueExtendedProperties($filter=id eq '${EXT_ID}')`)}`);
    expect(got.json.singleValueExtendedProperties).toEqual([{ id: EXT_ID, value: 'uid-42@source' }]);
    expect((await graph('GET', `${u(BOB)}/events/${made.json.id as string}`)).json.singleValueExtendedProperties).toBeUndefined();

    // PATCH replaces by id and keeps the others.
    await graph('PATCH', `${u(BOB)}/events/${made.json.id as string}`, { singleValueExtendedProperties: [{ id: EXT_ID, value: 'uid-44@source' }] });
    expect((await graph('GET', filter('uid-44@source'))).json.value).toHaveLength(1);
    expect((await graph('GET', `${u(BOB)}/events?$filter=${encodeURIComponent('start/dateTime ge 2027-01-01')}`)).json.error?.code).toBe('ErrorInvalidUrlQueryFilter');
    expect((await graph('POST', `${u(BOB)}/events`, { subject: 'x', start: at('2027-06-01T09:00:00'), end: at('2027-06-01T10:00:00'), singleValueExtendedProperties: [{ id: 'SourceUid', value: 'x' }] })).status).toBe(400);
  });

  it('adds a file attachment and gives its bytes back', async () => {
    const ev = await graph('POST', `${u(BOB)}/events`, { subject: 'With file', start: at('2027-06-02T09:00:00'), end: at('2027-06-02T10:00:00') });
    const content = Buffer.from('agenda: one, two, three');
    const att = await graph('POST', `${u(BOB)}/events/${ev.json.id as string}/attachments`, { '@odata.type': '#microsoft.graph.fileAttachment', name: 'agenda.txt', contentType: 'text/plain', contentBytes: content.toString('base64') });
    expect(att.status).toBe(201);
    expect(att.json).toMatchObject({ name: 'agenda.txt', size: content.length });
    const list = await graph('GET', `${u(BOB)}/events/${ev.json.id as string}/attachments`);
    expect(Buffer.from(String(list.json.value?.[0]?.contentBytes), 'base64').equals(content)).toBe(true);
    expect((await graph('GET', `${u(BOB)}/events/${ev.json.id as string}`)).json.hasAttachments).toBe(true);
    expect((await graph('POST', `${u(BOB)}/events/${ev.json.id as string}/attachments`, { name: 'x', contentBytes: 'eA==' })).status).toBe(400);
  });
});

describe('invitations Exchange sends', () => {
  it('records a request, updates and cancellations for a meeting, and nothing for an appointment or seeded data', async () => {
    const user = 'dave@contoso.test';
    microsoft.seed(user, { events: [{ subject: 'Seeded meeting', start: at('2027-02-01T09:00:00'), end: at('2027-02-01T10:00:00'), attendees: [{ emailAddress: { address: 'x@fabrikam.test' } }] }] });
    await graph('POST', `${u(user)}/events`, { subject: 'Alone', start: at('2027-02-02T09:00:00'), end: at('2027-02-02T10:00:00') });
    expect(microsoft.sentMail(user)).toEqual([]);

    const attendees = [{ emailAddress: { address: 'Guest@Fabrikam.test', name: 'Guest' }, type: 'required' }, { emailAddress: { address: user }, type: 'required' }];
    // Neither responseRequested nor isDraft keeps the request from going out.
    const meeting = await graph('POST', `${u(user)}/events`, { subject: 'Plan', responseRequested: false, isDraft: true, start: at('2027-02-03T09:00:00'), end: at('2027-02-03T10:00:00'), attendees });
    expect(meeting.json.isDraft).toBe(false);
    const id = meeting.json.id as string;
    await graph('PATCH', `${u(user)}/events/${id}`, { attendees: [...attendees, { emailAddress: { address: 'late@fabrikam.test' } }] });
    await graph('PATCH', `${u(user)}/events/${id}`, { attendees: [{ emailAddress: { address: 'late@fabrikam.test' } }] });
    await graph('DELETE', `${u(user)}/events/${id}`);
    expect(microsoft.sentMail(user).map((m) => [m.kind, m.recipients])).toEqual([
      ['request', ['guest@fabrikam.test']],
      ['request', ['late@fabrikam.test']],
      ['update', ['guest@fabrikam.test']],
      ['update', ['late@fabrikam.test']],
      ['cancel', ['guest@fabrikam.test']],
      ['cancel', ['late@fabrikam.test']],
    ]);
    expect(microsoft.sentMail(user)[0]).toMatchObject({ subject: 'Plan', responseRequested: false, eventId: id });
  });

  it('sends an update for a changed occurrence and a cancellation for a deleted one', async () => {
    const user = 'dave@contoso.test';
    const before = microsoft.sentMail(user).length;
    const master = await graph('POST', `${u(user)}/events`, {
      subject: 'Weekly', start: at('2027-03-01T09:00:00'), end: at('2027-03-01T10:00:00'), attendees: [{ emailAddress: { address: 'team@fabrikam.test' } }],
      recurrence: { pattern: { type: 'daily', interval: 7 }, range: { type: 'numbered', startDate: '2027-03-01', numberOfOccurrences: 3 } },
    });
    const { items } = await all(`${u(user)}/events/${master.json.id as string}/instances?startDateTime=2027-03-01T00:00:00Z&endDateTime=2027-04-01T00:00:00Z`);
    await graph('PATCH', `${u(user)}/events/${items[1]!.id as string}`, { subject: 'Weekly (moved)' });
    await graph('DELETE', `${u(user)}/events/${items[2]!.id as string}`);
    const sent = microsoft.sentMail(user).slice(before);
    expect(sent.map((m) => [m.kind, m.occurrence ?? null])).toEqual([['request', null], ['update', '2027-03-08T08:00:00.000Z'], ['cancel', '2027-03-15T08:00:00.000Z']]);
  });
});

describe('contacts', () => {
  it('keeps folders and child folders, pages contacts and round-trips a photo', async () => {
    const folder = await graph('POST', `${u(ALICE)}/contactFolders`, { displayName: 'Clients', singleValueExtendedProperties: [{ id: EXT_ID, value: 'book-1' }] });
    expect(folder.status).toBe(201);
    expect((await graph('POST', `${u(ALICE)}/contactFolders`, { displayName: 'CLIENTS' })).json.error?.code).toBe('ErrorFolderExists');
    const child = await graph('POST', `${u(ALICE)}/contactFolders/${folder.json.id as string}/childFolders`, { displayName: 'Key accounts' });
    expect(child.json.parentFolderId).toBe(folder.json.id);
    expect((await graph('GET', `${u(ALICE)}/contactFolders/${folder.json.id as string}/childFolders`)).json.value?.map((f) => f.displayName)).toEqual(['Key accounts']);
    const byExt = await graph('GET', `${u(ALICE)}/contactFolders?$filter=${encodeURIComponent(`singleValueExtendedProperties/Any(ep: ep/id eq '${EXT_ID}' and ep/value eq 'book-1')`)}`);
    expect(byExt.json.value?.map((f) => f.id)).toEqual([folder.json.id]);

    for (let i = 0; i < 12; i++) {
      const made = await graph('POST', `${u(ALICE)}/contactFolders/${folder.json.id as string}/contacts`, {
        givenName: `Client${i}`, surname: 'Example', emailAddresses: [{ address: `client${i}@example.test`, name: `Client ${i}` }], businessPhones: ['+49 30 1234'],
        singleValueExtendedProperties: [{ id: EXT_ID, value: `contact-${i}` }],
      });
      expect(made.status).toBe(201);
    }
    const { items, pages } = await all(`${u(ALICE)}/contactFolders/${folder.json.id as string}/contacts`);
    expect([items.length, pages]).toEqual([12, 2]);
    const found = await graph('GET', `${u(ALICE)}/contactFolders/${folder.json.id as string}/contacts?$filter=${encodeURIComponent(`singleValueExtendedProperties/Any(ep: ep/id eq '${EXT_ID}' and ep/value eq 'contact-7')`)}`);
    expect(found.json.value?.map((c) => c.givenName)).toEqual(['Client7']);

    const contactId = items[0]!.id as string;
    expect((await graph('GET', `${u(ALICE)}/contacts/${contactId}/photo/$value`)).status).toBe(404);
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2048, 7), Buffer.from([0xff, 0xd9])]);
    expect((await graph('PUT', `${u(ALICE)}/contacts/${contactId}/photo/$value`, jpeg, { 'content-type': 'image/jpeg' })).status).toBe(200);
    const photo = await graph('GET', `${u(ALICE)}/contacts/${contactId}/photo/$value`);
    expect(photo.headers.get('content-type')).toBe('image/jpeg');
    expect(photo.bytes.equals(jpeg)).toBe(true);

    const tooMany = await graph('POST', `${u(ALICE)}/contacts`, { givenName: 'Many', emailAddresses: [1, 2, 3, 4].map((n) => ({ address: `m${n}@example.test` })) });
    expect(tooMany.status).toBe(400);
    expect((await graph('POST', `${u(ALICE)}/contacts`, { givenName: 'X', favouriteColour: 'blue' })).json.error?.code).toBe('RequestBodyRead');
  });
});

describe('To Do', () => {
  it('has the default list, keeps tasks with checklist items, linked resources and open extensions, and pages with $skiptoken', async () => {
    const lists = await graph('GET', `${u(BOB)}/todo/lists`);
    expect(lists.json.value?.map((l) => [l.displayName, l.wellknownListName])).toEqual([['Tasks', 'defaultList']]);
    const list = await graph('POST', `${u(BOB)}/todo/lists`, { displayName: 'Renovation' });
    const listId = list.json.id as string;
    const task = await graph('POST', `${u(BOB)}/todo/lists/${listId}/tasks`, {
      title: 'Paint the hall', importance: 'high', status: 'inProgress',
      dueDateTime: at('2027-04-10T17:30:00'),
      checklistItems: [{ displayName: 'Buy paint' }, { displayName: 'Tape edges', isChecked: true }],
      linkedResources: [{ applicationName: 'Mailferry', displayName: 'Source task', externalId: 'uid-9@source' }],
      extensions: [{ '@odata.type': 'microsoft.graph.openTypeExtension', extensionName: 'test.mailferry.source', uid: 'uid-9@source' }],
    });
    expect(task.status, JSON.stringify(task.json)).toBe(201);
    // To Do keeps the day of a due date, not its hour.
    expect(task.json.dueDateTime).toEqual({ dateTime: '2027-04-10T00:00:00.0000000', timeZone: 'W. Europe Standard Time' });
    const taskId = task.json.id as string;
    const expanded = await graph('GET', `${u(BOB)}/todo/lists/${listId}/tasks/${taskId}?$expand=checklistItems,linkedResources,extensions`);
    expect((expanded.json.checklistItems as Record<string, unknown>[]).map((c) => [c.displayName, c.isChecked])).toEqual([['Buy paint', false], ['Tape edges', true]]);
    expect(expanded.json.linkedResources).toEqual([expect.objectContaining({ externalId: 'uid-9@source' })]);
    expect(expanded.json.extensions).toEqual([expect.objectContaining({ id: 'test.mailferry.source', uid: 'uid-9@source' })]);
    // todoTask has no single-value extended properties.
    expect((await graph('GET', `${u(BOB)}/todo/lists/${listId}/tasks/${taskId}?$expand=${encodeURIComponent(`singleValueExtendedProperties($filter=id eq '${EXT_ID}')`)}`)).status).toBe(400);
    expect((await graph('POST', `${u(BOB)}/todo/lists/${listId}/tasks`, { title: 'x', singleValueExtendedProperties: [] })).json.error?.code).toBe('RequestBodyRead');
    expect((await graph('POST', `${u(BOB)}/todo/lists/${listId}/tasks`, { title: 'x', importance: 'urgent' })).status).toBe(400);

    const item = await graph('POST', `${u(BOB)}/todo/lists/${listId}/tasks/${taskId}/checklistItems`, { displayName: 'Clean brushes' });
    expect(item.status).toBe(201);
    expect((await graph('GET', `${u(BOB)}/todo/lists/${listId}/tasks/${taskId}/checklistItems`)).json.value).toHaveLength(3);

    microsoft.seed(BOB, { tasks: Array.from({ length: 14 }, (_, i) => ({ title: `Chore ${i}` })) });
    const defaultId = lists.json.value?.[0]?.id as string;
    const first = await graph('GET', `${u(BOB)}/todo/lists/${defaultId}/tasks`);
    expect(first.json['@odata.nextLink']).toContain('$skiptoken=');
    const { items, pages } = await all(`${u(BOB)}/todo/lists/${defaultId}/tasks`);
    expect([items.length, pages]).toEqual([14, 2]);
  });
});

describe('$batch and throttling', () => {
  it('runs up to 20 requests, in dependsOn order, answers out of order, and refuses 21', async () => {
    const created = await graph('POST', '/$batch', {
      requests: [
        { id: '1', method: 'POST', url: `${u(ALICE)}/todo/lists`, headers: { 'Content-Type': 'application/json' }, body: { displayName: 'Batched' } },
        { id: '2', method: 'GET', url: `${u(ALICE)}/todo/lists`, dependsOn: ['1'] },
        { id: '3', method: 'GET', url: `${u(ALICE)}/calendars/nope` },
        { id: '4', method: 'GET', url: `${u(ALICE)}/calendars`, dependsOn: ['3'] },
      ],
    });
    expect(created.status).toBe(200);
    const responses = created.json.responses as { id: string; status: number; body: { value?: { displayName: string }[] } }[];
    expect(responses.map((r) => r.id)).not.toEqual(['1', '2', '3', '4']);
    const byId = Object.fromEntries(responses.map((r) => [r.id, r]));
    expect(byId['1']!.status).toBe(201);
    expect(byId['2']!.body.value?.map((l) => l.displayName)).toContain('Batched');
    expect(byId['3']!.status).toBe(404);
    expect(byId['4']!.status).toBe(424);

    const tooMany = await graph('POST', '/$batch', { requests: Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: `${u(ALICE)}/calendars` })) });
    expect(tooMany.status).toBe(400);
    const noType = await graph('POST', '/$batch', { requests: [{ id: '1', method: 'POST', url: `${u(ALICE)}/todo/lists`, body: { displayName: 'x' } }] });
    expect(noType.status).toBe(400);
  });

  it('counts each batched request against the mailbox: five at once exceed its four concurrent requests', async () => {
    const before = microsoft.requestsFor(ALICE).total;
    const parallel = await graph('POST', '/$batch', { requests: Array.from({ length: 5 }, (_, i) => ({ id: String(i), method: 'GET', url: `${u(ALICE)}/calendars` })) });
    const statuses = (parallel.json.responses as { status: number; body: { error?: { code: string } }; headers: Record<string, string> }[]);
    expect(statuses.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 429]);
    const refused = statuses.find((r) => r.status === 429)!;
    expect(refused.body.error?.code).toBe('ApplicationThrottled');
    expect(refused.headers['retry-after']).toBe('1');

    const chained = await graph('POST', '/$batch', { requests: Array.from({ length: 8 }, (_, i) => ({ id: String(i), method: 'GET', url: `${u(ALICE)}/calendars`, ...(i > 0 ? { dependsOn: [String(i - 1)] } : {}) })) });
    expect((chained.json.responses as { status: number }[]).every((r) => r.status === 200)).toBe(true);
    const counts = microsoft.requestsFor(ALICE);
    expect(counts.total - before).toBe(13);
    expect(counts.list.slice(before).every((r) => r.batched && r.kind === 'calendar')).toBe(true);
  });

  it('refuses the fifth concurrent request to one mailbox with 429 ApplicationThrottled', async () => {
    const release = microsoft.holdGraph();
    const pending = Array.from({ length: 4 }, () => graph('GET', `${u(ALICE)}/calendars`));
    try {
      for (let i = 0; i < 200 && microsoft.inFlight(ALICE) < 4; i++) await new Promise((r) => setTimeout(r, 10));
      expect(microsoft.inFlight(ALICE)).toBe(4);
      const fifth = await Promise.race([
        graph('GET', `${u(ALICE)}/contacts`),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the fifth concurrent request was let in')), 3_000)),
      ]);
      expect(fifth.status).toBe(429);
      expect(fifth.json.error).toMatchObject({ code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.' });
      expect(fifth.headers.get('retry-after')).toBe('1');
      // Another mailbox is not affected.
      const other = graph('GET', `${u(BOB)}/calendars`);
      for (let i = 0; i < 200 && microsoft.inFlight(BOB) < 1; i++) await new Promise((r) => setTimeout(r, 10));
      expect(microsoft.inFlight(BOB)).toBe(1);
      release();
      expect((await other).status).toBe(200);
    } finally {
      release();
    }
    expect((await Promise.all(pending)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(microsoft.inFlight(ALICE)).toBe(0);
  });

  it('refuses requests past the mailbox request limit in ten minutes', async () => {
    const limited = await startMicrosoftServer({ tenants: [tenant], mailboxRequestLimit: 3 });
    const agent = new Agent({ connect: { ca: limited.caCertPem } });
    try {
      const bearer = limited.issueToken({ tenantId: TENANT_ID, clientId: APP.clientId, resource: 'graph' });
      const statuses: (number | string | null)[] = [];
      for (let i = 0; i < 4; i++) {
        const response = await undiciFetch(`${limited.graphBaseUrl}/v1.0${u(ALICE)}/calendars`, { dispatcher: agent, headers: { authorization: `Bearer ${bearer}` } });
        statuses.push(response.status);
        if (response.status === 429) statuses.push(((await response.json()) as { error: { code: string } }).error.code, response.headers.get('retry-after'));
        else await response.arrayBuffer();
      }
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 429, 'ApplicationThrottled']);
      expect(Number(statuses[5])).toBeGreaterThan(500);
      // Another mailbox has its own budget.
      expect((await undiciFetch(`${limited.graphBaseUrl}/v1.0${u(BOB)}/calendars`, { dispatcher: agent, headers: { authorization: `Bearer ${bearer}` } })).status).toBe(200);
    } finally {
      await agent.close();
      await limited.stop();
    }
  });

  it('answers the next N requests 429 with Retry-After when switched on', async () => {
    microsoft.throttle({ requests: 2, retryAfterSeconds: 7, user: ALICE });
    const first = await graph('GET', `${u(ALICE)}/calendars`);
    const second = await graph('GET', `${u(BOB)}/calendars`);
    const third = await graph('GET', `${u(ALICE)}/calendars`);
    const fourth = await graph('GET', `${u(ALICE)}/calendars`);
    expect([first.status, second.status, third.status, fourth.status]).toEqual([429, 200, 429, 200]);
    expect(first.headers.get('retry-after')).toBe('7');
    expect(first.json.error?.code).toBe('TooManyRequests');

    microsoft.throttle({ requests: 1, retryAfterSeconds: 2, status: 503 });
    const unavailable = await graph('GET', `${u(BOB)}/contacts`);
    expect([unavailable.status, unavailable.headers.get('retry-after'), unavailable.json.error?.code]).toEqual([503, '2', 'ServiceNotAvailable']);
  });
});
