/**
 * The groupware chain zimbra → exchange → office365 → openxchange on the test servers: a
 * Radicale account standing for the Zimbra source, the EWS test server's mailbox for Exchange,
 * the Microsoft Graph test server's mailbox for Microsoft 365 and a second Radicale for the
 * Open-Xchange target. Every stage is the product's copyGroupware between the product's
 * endpoints; this file starts the servers, opens the endpoints, records the wire (when each
 * request left and what it was answered, for the throttling waits) and sums up what the
 * stages reported as not mapped.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import ICAL from 'ical.js';
import { Agent, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';
import { acquireAppToken, clearAppTokenCache, GRAPH_SCOPE } from '@/server/accounts/m365/oauth';
import type { FetchLike } from '@/server/accounts/types';
import { copyGroupware, type GroupwareCopySummary } from '@/server/engine/groupware/copy-groupware';
import { DavEndpoint } from '@/server/engine/groupware/dav-endpoint';
import { MAPPING } from '@/server/engine/groupware/ews/ews-items';
import { EwsEndpoint } from '@/server/engine/groupware/ews/ews-target';
import { GraphEndpoint } from '@/server/engine/groupware/graph/graph-target';
import { GRAPH_MAPPING, mappedNames } from '@/server/engine/groupware/graph/mapping-table';
import type { GroupwareSource, GroupwareTarget, NotMappedNote } from '@/server/engine/groupware/model';
import type { GroupwareIssue, GroupwareStateStore } from '@/server/engine/groupware/state';
import { startEwsServer, type EwsServer, type EwsUser } from './ews-server';
import { startMicrosoftServer, type MicrosoftServer, type MicrosoftTenant } from './microsoft-server';
import { startRadicale, type RadicaleServer } from './radicale';

export const DAV_PASSWORD = 'correct horse battery';
export const EXCHANGE_USER: EwsUser = { email: 'anna@contoso.test', username: 'CONTOSO\\anna', password: 'Ex-chänge "pass" 2026' };
export const TENANT_ID = '7b1e2c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e';
export const APP = { clientId: '8c2f3d4e-5a6b-4c7d-9e8f-0a1b2c3d4e5f', clientSecret: 'Ch4~chain.secret-0042' };
/** The Microsoft 365 mailbox of the chain, and one for each further copy into an empty mailbox. */
export const OFFICE365_USERS = ['anna@fabrikam.test', 'kim@fabrikam.test', 'lea@fabrikam.test'] as const;

/** One HTTP request as it went out and came back, seen by the endpoint's fetch. */
export interface WireRequest {
  origin: 'ews' | 'graph' | 'login';
  method: string;
  url: string;
  /** The request body as text (SOAP for EWS, JSON for Graph), or ''. */
  body: string;
  startedAt: number;
  endedAt: number;
  status: number;
  /** For a Graph $batch: each inner request with the status it was answered. */
  batch?: { id: string; method: string; url: string; body: string; status: number; retryAfter: string | null }[];
  retryAfter: string | null;
}

export interface Chain {
  zimbraServer: RadicaleServer;
  openxchangeServer: RadicaleServer;
  ews: EwsServer;
  microsoft: MicrosoftServer;
  /** Every request the endpoints sent, in the order they left. */
  wire: WireRequest[];
  /** Told of each request before it goes out (a test switches throttling on mid-copy here). */
  hooks: { beforeRequest?: (request: WireRequest) => void };
  /** TLS for both test servers' CAs. */
  fetchTls: FetchLike;
  zimbra(): Promise<DavEndpoint>;
  openxchange(): Promise<DavEndpoint>;
  exchange(options?: { onBackOff?: (ms: number) => void }): EwsEndpoint;
  office365(user?: string): GraphEndpoint;
  /** A GET straight to the Graph test server for a mailbox (path below /v1.0/users/{user}/), to look at what Microsoft 365 holds. */
  graphGet(user: string, path: string): Promise<Record<string, unknown>>;
  /** What a process of its own needs to reach the same mailboxes (no secrets of the product, only the test servers'). */
  childConnection(user: string, stateFile: string, dir: string): Promise<ChainChildConnection>;
  stop(): Promise<void>;
}

export interface ChainChildConnection {
  ews: { url: string; username: string; password: string; email: string };
  graph: { graphBaseUrl: string; authorityHost: string; tenantId: string; clientId: string; clientSecret: string; user: string };
  caFiles: string[];
  stateFile: string;
  batchSize: number;
}

const plainFetch = (input: string | URL, init?: RequestInit) => fetch(input, init);

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  return '';
}

export async function startChain(): Promise<Chain> {
  const tenant: MicrosoftTenant = {
    id: TENANT_ID,
    domains: ['fabrikam.test'],
    apps: [{ ...APP, roles: ['Calendars.ReadWrite', 'Contacts.ReadWrite', 'Tasks.ReadWrite.All'] }],
    users: OFFICE365_USERS.map((userPrincipalName) => ({ userPrincipalName })),
  };
  const [zimbraServer, openxchangeServer, ews, microsoft] = await Promise.all([
    startRadicale({ users: [{ username: 'zimbra', password: DAV_PASSWORD }] }),
    startRadicale({ users: [{ username: 'openxchange', password: DAV_PASSWORD }] }),
    startEwsServer({ users: [EXCHANGE_USER] }),
    startMicrosoftServer({ tenants: [tenant] }),
  ]);
  const agent = new Agent({ connect: { ca: [ews.caCertPem!, microsoft.caCertPem] }, connections: 16 });
  const fetchTls: FetchLike = (input, init) => undiciFetch(input, { ...(init as UndiciRequestInit), dispatcher: agent }) as unknown as Promise<Response>;
  const wire: WireRequest[] = [];
  const hooks: Chain['hooks'] = {};
  const originOf = (url: string): WireRequest['origin'] => (url.startsWith(ews.url) ? 'ews' : url.startsWith(microsoft.graphBaseUrl) ? 'graph' : 'login');
  const recorded: FetchLike = async (input, init) => {
    const url = String(input);
    const entry: WireRequest = { origin: originOf(url), method: init?.method ?? 'GET', url, body: bodyText(init?.body), startedAt: Date.now(), endedAt: 0, status: 0, retryAfter: null };
    wire.push(entry);
    hooks.beforeRequest?.(entry);
    const response = await fetchTls(input, init);
    entry.status = response.status;
    entry.retryAfter = response.headers.get('retry-after');
    if (entry.origin === 'graph' && /\/\$batch$/.test(new URL(url).pathname) && response.status === 200) {
      try {
        const asked = (JSON.parse(entry.body) as { requests: { id: string; method: string; url: string; body?: unknown }[] }).requests;
        const answered = (JSON.parse(await response.clone().text()) as { responses: { id: string; status: number; headers?: Record<string, string> }[] }).responses;
        entry.batch = asked.map((r) => {
          const answer = answered.find((a) => a.id === r.id);
          const headers = Object.fromEntries(Object.entries(answer?.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
          return { id: r.id, method: r.method, url: r.url, body: r.body === undefined ? '' : JSON.stringify(r.body), status: answer?.status ?? 0, retryAfter: headers['retry-after'] ?? null };
        });
      } catch {
        // Not a batch answer this log can read: its inner requests are not recorded.
      }
    }
    entry.endedAt = Date.now();
    return response;
  };
  const token = async ({ renewed }: { renewed: boolean }) => {
    if (renewed) clearAppTokenCache();
    const { accessToken } = await acquireAppToken({ tenantId: TENANT_ID, ...APP, scope: GRAPH_SCOPE, authorityHost: microsoft.authorityHost, fetch: fetchTls });
    return accessToken;
  };
  const dav = (server: RadicaleServer, username: string) => () => DavEndpoint.open({ serverUrl: server.url, username, password: DAV_PASSWORD, fetch: plainFetch });
  return {
    zimbraServer,
    openxchangeServer,
    ews,
    microsoft,
    wire,
    hooks,
    fetchTls,
    zimbra: dav(zimbraServer, 'zimbra'),
    openxchange: dav(openxchangeServer, 'openxchange'),
    exchange: (options = {}) => new EwsEndpoint({ url: ews.ewsUrl, username: EXCHANGE_USER.username, password: EXCHANGE_USER.password, email: EXCHANGE_USER.email, fetch: recorded, ...options }),
    office365: (user = OFFICE365_USERS[0]) => new GraphEndpoint({ graphBaseUrl: microsoft.graphBaseUrl, user, token, fetch: recorded }),
    async graphGet(user, path) {
      const bearer = microsoft.issueToken({ tenantId: TENANT_ID, clientId: APP.clientId, resource: 'graph' });
      const response = await fetchTls(`${microsoft.graphBaseUrl}/v1.0/users/${encodeURIComponent(user)}/${path}`, { headers: { authorization: `Bearer ${bearer}` } });
      if (response.status !== 200) throw new Error(`GET ${path}: HTTP ${response.status}`);
      return (await response.json()) as Record<string, unknown>;
    },
    async childConnection(user, stateFile, dir) {
      const caFiles = [path.join(dir, 'ews-ca.pem'), path.join(dir, 'microsoft-ca.pem')];
      await writeFile(caFiles[0]!, ews.caCertPem!);
      await writeFile(caFiles[1]!, microsoft.caCertPem);
      return {
        ews: { url: ews.ewsUrl, username: EXCHANGE_USER.username, password: EXCHANGE_USER.password, email: EXCHANGE_USER.email },
        graph: { graphBaseUrl: microsoft.graphBaseUrl, authorityHost: microsoft.authorityHost, tenantId: TENANT_ID, ...APP, user },
        caFiles,
        stateFile,
        batchSize: 5,
      };
    },
    async stop() {
      await agent.close();
      await Promise.all([zimbraServer.stop(), openxchangeServer.stop(), ews.stop(), microsoft.stop()]);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Stages and what they reported

export interface Stage {
  name: string;
  /** Which mapping table documents what this stage's target leaves out. */
  table: 'ews' | 'graph' | 'dav';
  summary: GroupwareCopySummary;
}

export async function runStage(name: string, table: Stage['table'], source: GroupwareSource, target: GroupwareTarget, state: GroupwareStateStore): Promise<Stage> {
  return { name, table, summary: await copyGroupware({ source, target, state }) };
}

export const total = (summary: GroupwareCopySummary, key: 'items' | 'copied' | 'updated' | 'skipped' | 'failed') => summary.collections.reduce((n, c) => n + c[key], 0);

/** The union by UID of what every stage reported its target has no place for. */
export function notMappedByUid(stages: Stage[]): Map<string, NotMappedNote[]> {
  const out = new Map<string, NotMappedNote[]>();
  for (const stage of stages) {
    for (const change of stage.summary.changes) {
      if (change.uid === null) continue;
      const notes = out.get(change.uid) ?? [];
      for (const note of change.notMapped) {
        if (!notes.some((n) => n.component === note.component && n.property === note.property && n.reason === note.reason)) notes.push(note);
      }
      out.set(change.uid, notes);
    }
  }
  return out;
}

/** Items a stage refused (recorded with collection, UID and reason). */
export function refused(stages: Stage[]): (GroupwareIssue & { stage: string })[] {
  return stages.flatMap((s) => s.summary.issues.map((issue) => ({ ...issue, stage: s.name })));
}

export interface Exclusion {
  stage: string;
  table: Stage['table'];
  component: string;
  property: string | null;
  reason: string;
  /** Items it was reported for. */
  items: number;
  /** Whether the stage's mapping table has a row for it. */
  documented: boolean;
}

const EWS_OTHER = /^(X-.*|ATTACH|GEO|LANG)$/;
const GRAPH_KIND: Record<string, 'event' | 'contact' | 'task'> = { VEVENT: 'event', VTODO: 'task', VCARD: 'contact' };

/**
 * Is this note a row of the stage's mapping table? Exchange: ews-items.ts MAPPING, by component
 * and property (or a row for the whole component), and the table's last line ("anything else
 * (X-, ATTACH, GEO, LANG, ...)") for exactly those it names. Microsoft 365: mapping-table.ts,
 * the rows of the item's kind (VALARM and VTIMEZONE are event and task rows; X- properties the
 * `X-*` rows; VCALENDAR properties the row for the calendar file's properties).
 */
export function isDocumented(table: Stage['table'], note: NotMappedNote, kind: 'calendar' | 'contacts' | 'tasks'): boolean {
  const property = note.property?.toUpperCase() ?? null;
  const component = note.component.toUpperCase();
  if (table === 'ews') {
    if (MAPPING.some((row) => row.component === component && (row.property === property || row.property === null))) return true;
    return property !== null && EWS_OTHER.test(property);
  }
  if (table === 'graph') {
    const graphKind = GRAPH_KIND[component] ?? (kind === 'contacts' ? 'contact' : kind === 'tasks' ? 'task' : 'event');
    const names = mappedNames(graphKind);
    if (component === 'VCALENDAR') return GRAPH_MAPPING.some((row) => row.kind === 'event' && /VCALENDAR properties/.test(row.ical));
    if (component === 'VALARM' || component === 'VTIMEZONE') return names.has(component);
    if (property === null) return names.has(component);
    return names.has(property) || (property.startsWith('X-') && names.has('X-*'));
  }
  return false;
}

/** What was excluded, one row per stage, component, property and reason, with the number of items. */
export function exclusions(stages: Stage[]): Exclusion[] {
  const rows = new Map<string, Exclusion>();
  for (const stage of stages) {
    for (const change of stage.summary.changes) {
      for (const note of change.notMapped) {
        const key = [stage.name, note.component, note.property, note.reason].join('\u0000');
        const row = rows.get(key) ?? { stage: stage.name, table: stage.table, component: note.component, property: note.property, reason: note.reason, items: 0, documented: isDocumented(stage.table, note, change.kind) };
        row.items++;
        rows.set(key, row);
      }
    }
  }
  return [...rows.values()].sort((a, b) => a.stage.localeCompare(b.stage) || b.items - a.items || `${a.component}${a.property}`.localeCompare(`${b.component}${b.property}`));
}

export function exclusionLines(rows: Exclusion[]): string[] {
  return rows.map((r) => `${r.stage}: ${r.component}${r.property ? ` ${r.property}` : ''} × ${r.items}${r.documented ? '' : ' [NOT IN THE MAPPING TABLE]'} — ${r.reason || '(no reason)'}`);
}

// ---------------------------------------------------------------------------------------------
// Reading every item, and what a recurring series is

export async function textsByUid(endpoint: GroupwareSource): Promise<Map<string, { collection: string; data: string }[]>> {
  const out = new Map<string, { collection: string; data: string }[]>();
  for (const collection of await endpoint.collections()) {
    const refs = await endpoint.list(collection);
    for (let i = 0; i < refs.length; i += 50) {
      for (const object of await endpoint.read(collection, refs.slice(i, i + 50))) {
        const uid = /^UID:(.*)$/m.exec(object.data.replace(/\r\n[ \t]/g, ''))?.[1]?.trim() ?? `(no UID) ${object.id}`;
        out.set(uid, [...(out.get(uid) ?? []), { collection: collection.displayName, data: object.data }]);
      }
    }
  }
  return out;
}

export interface SeriesShape {
  rrule: string;
  /** Left-out occurrences, UTC. */
  exdates: string[];
  /** Overridden instances by RECURRENCE-ID (UTC): start and end (UTC) and summary. */
  instances: Record<string, { start: string; end: string; summary: string }>;
  /** The first 40 occurrences the series has (UTC), EXDATEs left out, overridden ones at their RECURRENCE-ID. */
  occurrences: string[];
  attendees: string[];
  organizer: string | null;
}

const utc = (time: ICAL.Time) => time.toJSDate().toISOString().replace(/\.000Z$/, 'Z');

/**
 * An RRULE's parts in a fixed order, so the same rule written in another order compares equal;
 * a weekly rule's BYDAY that names only the start's weekday is left out, since that is what the
 * rule means without it (RFC 5545 3.3.10), and Exchange and Microsoft 365 always name the day.
 */
function ruleText(recur: ICAL.Recur, start: ICAL.Time): string {
  const json = { ...(recur.toJSON() as Record<string, unknown>) };
  const weekday = ICAL.Recur.numericDayToIcalDay(start.dayOfWeek());
  const byday = json.byday;
  const onlyStartDay = byday === weekday || (Array.isArray(byday) && byday.length === 1 && byday[0] === weekday);
  if (String(json.freq).toUpperCase() === 'WEEKLY' && onlyStartDay) delete json.byday;
  return Object.keys(json)
    .sort()
    .map((key) => `${key}=${JSON.stringify(json[key])}`)
    .join(';');
}

export function seriesShape(data: string): SeriesShape | null {
  const root = new ICAL.Component(ICAL.parse(data) as never);
  for (const zone of root.getAllSubcomponents('vtimezone')) {
    const timezone = new ICAL.Timezone(zone);
    if (!ICAL.TimezoneService.has(timezone.tzid)) ICAL.TimezoneService.register(timezone);
  }
  const events = root.getAllSubcomponents('vevent');
  const master = events.find((e) => !e.getFirstProperty('recurrence-id'));
  const rule = master?.getFirstPropertyValue('rrule') as ICAL.Recur | null | undefined;
  if (!master || !rule) return null;
  const exdates = master
    .getAllProperties('exdate')
    .flatMap((p) => p.getValues() as ICAL.Time[])
    .map(utc)
    .sort();
  const instances: SeriesShape['instances'] = {};
  for (const e of events.filter((x) => x !== master)) {
    const event = new ICAL.Event(e);
    instances[utc(event.recurrenceId)] = { start: utc(event.startDate), end: utc(event.endDate), summary: event.summary };
  }
  const iterator = new ICAL.Event(master).iterator();
  const occurrences: string[] = [];
  for (let next = iterator.next(); next && occurrences.length < 40; next = iterator.next()) {
    const at = utc(next);
    if (!exdates.includes(at)) occurrences.push(at);
  }
  const address = (value: unknown) => String(value).replace(/^mailto:/i, '').toLowerCase();
  return {
    rrule: ruleText(rule, new ICAL.Event(master).startDate),
    exdates,
    instances,
    occurrences,
    attendees: master.getAllProperties('attendee').map((p) => address(p.getFirstValue())).sort(),
    organizer: master.getFirstProperty('organizer') ? address(master.getFirstPropertyValue('organizer')) : null,
  };
}
