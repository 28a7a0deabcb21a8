/**
 * Microsoft Graph v1.0 for one tenant's mailboxes: calendars and events, contact folders and
 * contacts, To Do lists and tasks, $batch, paging, and the Outlook service's throttling. Every
 * behaviour names the documentation page it follows (learn.microsoft.com/graph/...); where the
 * documentation is silent the comment says so and the strictest plausible behaviour is chosen.
 *
 * ===== Invitations: what Graph sends, and what a migration can do about it =====
 *
 * Findings (December 2026):
 * - "When an event is sent, the server sends invitations to all the attendees."
 *   (learn.microsoft.com/graph/api/user-post-events). Creating an event with attendees in the
 *   organizer's mailbox is that send; there is no parameter, header or property to keep it.
 * - Microsoft Q&A, "How to disable or customise the emails that Outlook sends" (answers/questions/
 *   5636814): "There is no official flag or parameter that disables Outlook from sending
 *   invitations" for POST /users/{id}/events.
 * - microsoftgraph/microsoft-graph-docs issue #2309 "event adding/removing attendees without
 *   emailing other attendees": after a discussion with the product team, "it is actually not
 *   possible at the moment" (closed; still asked for in 2020).
 * - Deleting a meeting on the organizer's calendar "sends a cancellation message to the meeting
 *   attendees" (graph/api/event-delete); POST /events/{id}/cancel sends one on purpose.
 * - isDraft, isOrganizer and organizer are read-only on create (graph/api/resources/event); a
 *   body setting them is not refused, the value is ignored (so they cannot turn sending off).
 *   responseRequested=false only tells attendees no reply is wanted; the request still goes out.
 * - PidLidAppointmentStateFlags (MS-OXOCAL 2.2.1.10: asfMeeting / asfReceived) is a MAPI
 *   property; nothing documents that setting it through singleValueExtendedProperties stops
 *   Exchange's send, so it is stored like any other extended property and changes nothing.
 * - Pages claiming `sendInvitations: false` or a `Prefer` header that suppresses mail (e.g.
 *   taourl.com) describe properties that do not exist on the event resource; not modelled.
 * - Documented alternatives outside this surface: EWS CreateItem with
 *   SendMeetingInvitations="SendToNone" (Exchange on-premise; EWS is off in Exchange Online),
 *   or an event without attendees (the attendee list kept in the event's text).
 * So this server records a meeting request for every event created with attendees, an update
 * for every change to such an event (the strictest reading: Graph documents no change that is
 * saved without informing attendees), and a cancellation for every deleted or cancelled one.
 * `sentMail(user)` lists them so a test can assert a migration sent nothing.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppRole, MicrosoftServerConfig, MicrosoftTenant, MicrosoftUser } from '../microsoft-server';
import { changeKeyOf, exchangeId, stableGuid } from './ids';
import { checkRecurrence, occurrenceDays, type PatternedRecurrence } from './recurrence';
import { dayNumber, formatGraphDateTime, fromDayNumber, localToUtc, parseGraphDateTime, resolveZone, utcToLocal, type LocalDateTime } from './time';

export interface TokenClaimsLike {
  appid: string;
  tid: string;
  roles?: string[];
}

export interface GraphHost {
  config: MicrosoftServerConfig;
  graphBaseUrl(): string;
  checkToken(token: string): { ok: true; claims: TokenClaimsLike } | { ok: false; message: string };
  findTenant(idOrDomain: string): MicrosoftTenant | undefined;
}

/** A message Exchange would have sent on the organizer's behalf. */
export interface SentMail {
  kind: 'request' | 'update' | 'cancel';
  eventId: string;
  iCalUId: string;
  subject: string;
  recipients: string[];
  /** For one occurrence of a series: its original start (UTC, ISO). */
  occurrence?: string;
  responseRequested: boolean;
}

export interface MailboxRequest {
  method: string;
  path: string;
  kind: string;
  status: number;
  batched: boolean;
}

export interface RequestCounts {
  total: number;
  byKind: Record<string, number>;
  list: MailboxRequest[];
}

export interface ThrottleSwitch {
  /** How many of the next mailbox requests (batched ones included) are refused. */
  requests: number;
  retryAfterSeconds?: number;
  /** 429 (default) or 503; graph/throttling: both come with Retry-After. */
  status?: 429 | 503;
  /** Only requests for this user (UPN); default every mailbox. */
  user?: string;
}

type Json = Record<string, unknown>;

/** Test-data shapes: the same JSON a client would POST. */
export interface GroupwareSeed {
  calendars?: { name: string; color?: string; events?: Json[]; singleValueExtendedProperties?: Json[] }[];
  /** Events in the default calendar. */
  events?: Json[];
  contactFolders?: { displayName: string; contacts?: Json[]; childFolders?: { displayName: string; contacts?: Json[] }[] }[];
  /** Contacts in the default Contacts folder. */
  contacts?: Json[];
  todoLists?: { displayName: string; tasks?: Json[] }[];
  /** Tasks in the default list ("Tasks"). */
  tasks?: Json[];
}

export interface SeededIds {
  calendars: string[];
  events: string[];
  contactFolders: string[];
  contacts: string[];
  todoLists: string[];
  tasks: string[];
}

// ----- stored state ----------------------------------------------------------------------

interface Stored {
  id: string;
  version: number;
  created: string;
  modified: string;
  /** Single-value extended properties by lower-cased id. */
  ext: Map<string, { id: string; value: string }>;
}

interface CalendarRec extends Stored {
  name: string;
  color: string;
  isDefault: boolean;
}

interface ExceptionRec {
  id: string;
  fields: Json;
  startMs: number;
  endMs: number;
  cancelled: boolean;
  version: number;
  modified: string;
}

interface AttachmentRec {
  id: string;
  name: string;
  contentType: string;
  bytes: Buffer;
  isInline: boolean;
  contentId: string | null;
  modified: string;
}

interface EventRec extends Stored {
  calendarId: string;
  /** Writable properties as the client last set them (normalised). */
  fields: Json;
  startMs: number;
  endMs: number;
  /** IANA zone of start, for expanding occurrences and rendering all-day dates. */
  zone: string;
  recurrence?: PatternedRecurrence;
  exceptions: Map<number, ExceptionRec>;
  attachments: AttachmentRec[];
  /** Hex of MS-OXOCAL's GlobalObjectId without the instance date (PidLidCleanGlobalObjectId). */
  goid: string;
}

interface FolderRec extends Stored {
  displayName: string;
  parentFolderId: string;
}

interface ContactRec extends Stored {
  folderId: string;
  fields: Json;
  photo?: { bytes: Buffer; contentType: string };
}

interface ListRec extends Stored {
  displayName: string;
  wellknownListName: 'defaultList' | 'none';
}

interface TaskRec extends Stored {
  listId: string;
  fields: Json;
  checklistItems: (Stored & { fields: Json })[];
  linkedResources: (Stored & { fields: Json })[];
  extensions: Json[];
}

interface Mailbox {
  user: MicrosoftUser;
  uid: string;
  owner: { name: string; address: string };
  counter: number;
  calendars: CalendarRec[];
  events: EventRec[];
  occurrences: Map<string, { masterId: string; originalStartMs: number }>;
  defaultContactsId: string;
  contactFolders: FolderRec[];
  contacts: ContactRec[];
  lists: ListRec[];
  tasks: TaskRec[];
  sent: SentMail[];
  log: MailboxRequest[];
  recent: number[];
}

// ----- requests and responses ------------------------------------------------------------

interface GraphRequest {
  method: string;
  /** Path and query, relative to the Graph origin, e.g. /v1.0/users/x/events?$top=5 */
  url: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

interface GraphResponse {
  status: number;
  headers: Record<string, string>;
  json?: unknown;
  bytes?: Buffer;
}

class GraphFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Validation failures whose code the documentation does not name use this one (chosen). */
const INVALID = 'ErrorInvalidRequest';

const GRAPH_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

function errorResponse(status: number, code: string, message: string, clientRequestId: string | undefined, headers: Record<string, string> = {}): GraphResponse {
  const requestId = randomUUID();
  return {
    status,
    headers: { 'content-type': 'application/json', 'request-id': requestId, 'client-request-id': clientRequestId ?? requestId, ...headers },
    // graph/errors: { error: { code, message, innerError: { date, request-id, client-request-id } } }
    json: { error: { code, message, innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': requestId, 'client-request-id': clientRequestId ?? requestId } } },
  };
}

const nowIso = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

const ROLE_AREAS = {
  calendar: { read: ['Calendars.Read', 'Calendars.ReadWrite'], write: ['Calendars.ReadWrite'] },
  contacts: { read: ['Contacts.Read', 'Contacts.ReadWrite'], write: ['Contacts.ReadWrite'] },
  tasks: { read: ['Tasks.Read.All', 'Tasks.ReadWrite.All'], write: ['Tasks.ReadWrite.All'] },
} as const satisfies Record<string, { read: AppRole[]; write: AppRole[] }>;

/** Outlook's calendar colours (graph/api/resources/calendar: calendarColor) with the hex Outlook shows; hex values are approximations. */
const CALENDAR_COLORS: Record<string, string> = {
  auto: '',
  lightBlue: '#a6d1f5',
  lightGreen: '#87d28e',
  lightOrange: '#fcab73',
  lightGray: '#c0c0c0',
  lightYellow: '#f4ee8b',
  lightTeal: '#8be4df',
  lightPink: '#f4a6d8',
  lightBrown: '#dfc09e',
  lightRed: '#f49c9c',
  maxColor: '',
};

// Writable properties per type (the resource pages' property tables). Others known as
// read-only are ignored on write, as Graph does; a name the type does not have is refused
// with RequestBodyRead (the OData reader's answer to an unknown property).
const EVENT_WRITABLE = new Set([
  'subject', 'body', 'start', 'end', 'isAllDay', 'location', 'locations', 'attendees', 'categories', 'importance', 'sensitivity', 'showAs',
  'isReminderOn', 'reminderMinutesBeforeStart', 'recurrence', 'responseRequested', 'allowNewTimeProposals', 'isOnlineMeeting',
  'onlineMeetingProvider', 'transactionId', 'hideAttendees', 'singleValueExtendedProperties',
]);
const EVENT_READONLY = new Set([
  'id', 'createdDateTime', 'lastModifiedDateTime', 'changeKey', 'iCalUId', 'uid', 'type', 'seriesMasterId', 'originalStart', 'isOrganizer',
  'hasAttachments', 'bodyPreview', 'webLink', 'responseStatus', 'isCancelled', 'isDraft', 'organizer', 'originalStartTimeZone',
  'originalEndTimeZone', 'onlineMeeting', 'onlineMeetingUrl', 'occurrenceId', 'exceptionOccurrences', 'instances', 'calendar', 'extensions',
  // graph/api/event-post-attachments and Q&A 1214478: attachments cannot be created with the event; they are dropped.
  'attachments',
]);
const CONTACT_WRITABLE = new Set([
  'assistantName', 'birthday', 'businessAddress', 'businessHomePage', 'businessPhones', 'categories', 'children', 'companyName', 'department',
  'displayName', 'emailAddresses', 'fileAs', 'generation', 'givenName', 'homeAddress', 'homePhones', 'imAddresses', 'initials', 'jobTitle',
  'manager', 'middleName', 'mobilePhone', 'nickName', 'officeLocation', 'otherAddress', 'personalNotes', 'profession', 'spouseName', 'surname',
  'title', 'yomiCompanyName', 'yomiGivenName', 'yomiSurname', 'singleValueExtendedProperties',
]);
const CONTACT_READONLY = new Set(['id', 'createdDateTime', 'lastModifiedDateTime', 'changeKey', 'parentFolderId', 'photo', 'extensions']);
const TASK_WRITABLE = new Set([
  'title', 'body', 'importance', 'status', 'categories', 'dueDateTime', 'startDateTime', 'completedDateTime', 'reminderDateTime', 'isReminderOn',
  'recurrence', 'checklistItems', 'linkedResources', 'extensions',
]);
const TASK_READONLY = new Set(['id', 'createdDateTime', 'lastModifiedDateTime', 'bodyLastModifiedDateTime', 'hasAttachments', 'attachments']);

function checkProperties(body: Json, writable: Set<string>, readonly: Set<string>, type: string): Json {
  const kept: Json = {};
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith('@odata.')) continue;
    if (writable.has(key)) kept[key] = value;
    else if (!readonly.has(key)) {
      throw new GraphFailure(400, 'RequestBodyRead', `The property '${key}' does not exist on type 'microsoft.graph.${type}'. Make sure to only use property names that are defined by the type or mark the type as open type.`);
    }
  }
  return kept;
}

const EXT_ID = /^(Binary|Boolean|CLSID|Currency|Double|Float|Integer|Long|Short|String|SystemTime|Null|Object)\s+(\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}\s+(Name\s+\S.*|Id\s+0x[0-9a-f]{1,4})|0x[0-9a-f]{1,4})$/i;

/**
 * graph/api/resources/singlevaluelegacyextendedproperty: set with POST or PATCH as an array of
 * { id, value }; the id names type and property ("String {guid} Name X" or "String 0x1234");
 * PATCH adds or replaces by id, it never removes others.
 */
function applyExtendedProperties(target: Stored, input: unknown): void {
  if (input === undefined) return;
  if (!Array.isArray(input)) throw new GraphFailure(400, 'RequestBodyRead', 'singleValueExtendedProperties must be a collection.');
  for (const entry of input as Json[]) {
    const id = typeof entry?.id === 'string' ? entry.id.trim() : '';
    if (!EXT_ID.test(id)) throw new GraphFailure(400, 'ErrorInvalidProperty', `The extended property id '${id}' is not valid.`);
    if (typeof entry.value !== 'string') throw new GraphFailure(400, 'ErrorInvalidProperty', 'An extended property value must be a string.');
    target.ext.set(id.toLowerCase(), { id, value: entry.value });
  }
}

// ----- OData query options ---------------------------------------------------------------

interface Expand {
  name: string;
  filter?: string;
}

/** $expand=a,b($filter=...) split at top-level commas. */
function parseExpand(value: string | null): Expand[] {
  if (!value) return [];
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === "'") quoted = !quoted;
    if (!quoted && ch === '(') depth++;
    if (!quoted && ch === ')') depth--;
    if (!quoted && depth === 0 && ch === ',') {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) parts.push(current.trim());
  return parts.map((part) => {
    const match = /^([A-Za-z]+)(?:\((.*)\))?$/.exec(part);
    if (!match?.[1]) throw new GraphFailure(400, 'BadRequest', `Invalid $expand '${part}'.`);
    const filter = match[2] ? /^\$filter=(.*)$/i.exec(match[2].trim())?.[1] : undefined;
    if (match[2] && filter === undefined) throw new GraphFailure(400, 'BadRequest', `Only $filter is supported inside $expand, not '${match[2]}'.`);
    return { name: match[1], filter };
  });
}

const quotedValue = (s: string) => s.slice(1, -1).replace(/''/g, "'");

/** `id eq 'a'` or `id eq 'a' or id eq 'b'`: the ids an extended-property $expand asks for. */
function expandIds(filter: string | undefined, what: string): Set<string> {
  // graph/api/singlevaluelegacyextendedproperty-get: the expand must name the property with $filter=id eq '...'.
  if (!filter) throw new GraphFailure(400, 'ErrorInvalidUrlQuery', `$expand=${what} requires $filter=id eq '...'.`);
  const ids = new Set<string>();
  for (const clause of filter.split(/\s+or\s+/i)) {
    const match = /^\s*id\s+eq\s+('(?:[^']|'')*')\s*$/i.exec(clause);
    if (!match?.[1]) throw new GraphFailure(400, 'ErrorInvalidUrlQueryFilter', 'The query filter contains one or more invalid nodes.');
    ids.add(quotedValue(match[1]).toLowerCase());
  }
  return ids;
}

type Predicate = (item: { ext: Map<string, { id: string; value: string }>; rendered: Json }) => boolean;

/**
 * The $filter forms an idempotency lookup needs (graph/api/singlevaluelegacyextendedproperty-get,
 * "Get resource instances filtered by an extended property"):
 *   singleValueExtendedProperties/Any(ep: ep/id eq '{id}' and ep/value eq '{value}')
 * and `property eq 'text'` on a top-level string property (e.g. iCalUId, displayName).
 * Anything else is refused (ErrorInvalidUrlQueryFilter) rather than answered wrongly.
 */
function parseFilter(filter: string | null): Predicate | undefined {
  if (!filter) return undefined;
  const ext = /^\s*singleValueExtendedProperties\/any\(\s*(\w+)\s*:\s*\1\/id\s+eq\s+('(?:[^']|'')*')(?:\s+and\s+\1\/value\s+eq\s+('(?:[^']|'')*'))?\s*\)\s*$/i.exec(filter);
  if (ext?.[2]) {
    const id = quotedValue(ext[2]).toLowerCase();
    const value = ext[3] === undefined ? undefined : quotedValue(ext[3]);
    return ({ ext: props }) => {
      const prop = props.get(id);
      return prop !== undefined && (value === undefined || prop.value === value);
    };
  }
  const simple = /^\s*([A-Za-z]+)\s+eq\s+('(?:[^']|'')*')\s*$/.exec(filter);
  if (simple?.[1] && simple[2]) {
    const name = simple[1];
    const value = quotedValue(simple[2]);
    return ({ rendered }) => rendered[name] === value;
  }
  throw new GraphFailure(400, 'ErrorInvalidUrlQueryFilter', 'The query filter contains one or more invalid nodes.');
}

/**
 * If-Match on PATCH / DELETE (graph/api/resources/event and the Outlook resources: the
 * @odata.etag is W/"{changeKey}"; conditional requests per OData 4.01 11.4.1.1): an etag that
 * is not the item's current one is refused with 412 and nothing is changed. `*` matches any.
 */
function checkIfMatch(request: GraphRequest, current: Json): void {
  const header = request.headers['if-match'];
  if (header === undefined || header.trim() === '*') return;
  const etag = String(current['@odata.etag'] ?? '');
  const bare = (t: string) => t.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
  if (!header.split(',').some((t) => bare(t) === bare(etag))) {
    throw new GraphFailure(412, 'ErrorIrresolvableConflict', 'The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.');
  }
}

function project(item: Json, select: string[] | undefined): Json {
  if (!select) return item;
  // Outlook entities keep their etag and id whatever $select says.
  return Object.fromEntries(Object.entries(item).filter(([key]) => key === 'id' || key === '@odata.etag' || select.includes(key) || key.startsWith('@odata.')));
}

// ----- the API -----------------------------------------------------------------------------

export class GraphApi {
  private readonly mailboxes = new Map<string, Mailbox>();
  private readonly inflight = new Map<string, number>();
  private readonly throttles: (ThrottleSwitch & { left: number })[] = [];
  private held: { promise: Promise<void>; release: () => void } | undefined;

  constructor(private readonly host: GraphHost) {}

  // ----- test controls -----

  sentMail(upn: string): SentMail[] {
    return [...this.mailboxFor(upn).sent];
  }

  requestsFor(upn: string): RequestCounts {
    const list = [...this.mailboxFor(upn).log];
    const byKind: Record<string, number> = {};
    for (const entry of list) byKind[entry.kind] = (byKind[entry.kind] ?? 0) + 1;
    return { total: list.length, byKind, list };
  }

  inFlight(upn: string): number {
    let total = 0;
    const uid = this.userByUpn(upn).uid;
    for (const [key, count] of this.inflight) if (key.endsWith(`/${uid}`)) total += count;
    return total;
  }

  throttle(options: ThrottleSwitch): void {
    this.throttles.push({ ...options, left: options.requests });
  }

  /** Admitted mailbox requests wait (holding their concurrency slot) until the returned function is called. */
  hold(): () => void {
    if (!this.held) {
      let release!: () => void;
      const promise = new Promise<void>((resolve) => (release = resolve));
      this.held = { promise, release };
    }
    const held = this.held;
    return () => {
      if (this.held === held) this.held = undefined;
      held.release();
    };
  }

  seed(upn: string, seed: GroupwareSeed): SeededIds {
    const mb = this.mailboxFor(upn);
    const ids: SeededIds = { calendars: [], events: [], contactFolders: [], contacts: [], todoLists: [], tasks: [] };
    const silent = { silent: true };
    for (const event of seed.events ?? []) ids.events.push(this.createEvent(mb, mb.calendars[0]!, event, silent).id);
    for (const calendar of seed.calendars ?? []) {
      const rec = this.createCalendar(mb, { name: calendar.name, color: calendar.color, singleValueExtendedProperties: calendar.singleValueExtendedProperties });
      ids.calendars.push(rec.id);
      for (const event of calendar.events ?? []) ids.events.push(this.createEvent(mb, rec, event, silent).id);
    }
    for (const contact of seed.contacts ?? []) ids.contacts.push(this.createContact(mb, mb.defaultContactsId, contact).id);
    for (const folder of seed.contactFolders ?? []) {
      const rec = this.createFolder(mb, mb.defaultContactsId, { displayName: folder.displayName });
      ids.contactFolders.push(rec.id);
      for (const contact of folder.contacts ?? []) ids.contacts.push(this.createContact(mb, rec.id, contact).id);
      for (const child of folder.childFolders ?? []) {
        const childRec = this.createFolder(mb, rec.id, { displayName: child.displayName });
        ids.contactFolders.push(childRec.id);
        for (const contact of child.contacts ?? []) ids.contacts.push(this.createContact(mb, childRec.id, contact).id);
      }
    }
    for (const task of seed.tasks ?? []) ids.tasks.push(this.createTask(mb, mb.lists[0]!, task).id);
    for (const list of seed.todoLists ?? []) {
      const rec = this.createList(mb, { displayName: list.displayName });
      ids.todoLists.push(rec.id);
      for (const task of list.tasks ?? []) ids.tasks.push(this.createTask(mb, rec, task).id);
    }
    return ids;
  }

  // ----- HTTP -----

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      // Graph refuses request bodies over 4 MB (graph/api/resources/profilephoto, event-post-attachments: 3 MB files).
      if (size > 8 * 1024 * 1024) {
        write(res, errorResponse(413, 'RequestEntityTooLarge', 'The request body is too large.', undefined));
        return;
      }
      chunks.push(chunk);
    }
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : (v ?? '')]));
    const request: GraphRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers, body: chunks.length ? Buffer.concat(chunks) : undefined };
    const path = request.url.split('?')[0]!;
    const response = path === '/v1.0/$batch' ? await this.batch(request) : await this.dispatch(request, false);
    write(res, response);
  }

  /**
   * graph/json-batching: POST /v1.0/$batch with up to 20 requests; ids unique; a request with
   * dependsOn runs after the ones it names and fails with 424 when one of them failed; the
   * others run in parallel and their responses come back in any order (here: reversed, so a
   * client that relies on order fails). Each request is evaluated against throttling on its own
   * (graph/throttling, "Throttling and batching"), and the Outlook service runs the parallel
   * ones at once: five independent requests to one mailbox exceed its four concurrent requests
   * and the fifth answers 429 inside the batch (Glen Scales, MVP, and the Microsoft reply in
   * Q&A 734143 / 1660054: batching does not lift MailboxConcurrency; sequence with dependsOn).
   */
  private async batch(request: GraphRequest): Promise<GraphResponse> {
    const clientRequestId = request.headers['client-request-id'];
    if (request.method !== 'POST') return errorResponse(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.', clientRequestId);
    let body: { requests?: Json[] };
    try {
      body = JSON.parse(request.body?.toString('utf8') ?? '') as { requests?: Json[] };
    } catch {
      return errorResponse(400, 'BadRequest', 'Unable to read JSON request payload.', clientRequestId);
    }
    const requests = body.requests;
    if (!Array.isArray(requests) || requests.length === 0) return errorResponse(400, 'BadRequest', 'Invalid batch payload: requests is required.', clientRequestId);
    if (requests.length > 20) return errorResponse(400, 'BadRequest', 'The number of requests in the batch exceeds the maximum allowed (20).', clientRequestId);
    const ids = new Set<string>();
    for (const sub of requests) {
      const id = String(sub.id ?? '');
      if (!id || ids.has(id.toLowerCase())) return errorResponse(400, 'BadRequest', `Batch request ids must be present and unique ('${id}').`, clientRequestId);
      ids.add(id.toLowerCase());
      if (typeof sub.method !== 'string' || typeof sub.url !== 'string') return errorResponse(400, 'BadRequest', `Batch request '${id}' needs method and url.`, clientRequestId);
      if (/^https?:/i.test(sub.url)) return errorResponse(400, 'BadRequest', `Batch request '${id}': url must be relative.`, clientRequestId);
      const deps = (sub.dependsOn ?? []) as unknown[];
      if (!Array.isArray(deps) || deps.some((d) => !ids.has(String(d).toLowerCase()) && !requests.some((r) => String(r.id).toLowerCase() === String(d).toLowerCase()))) {
        return errorResponse(400, 'BadRequest', `Batch request '${id}' depends on an unknown request.`, clientRequestId);
      }
      // A body needs its Content-Type (graph/json-batching, "headers ... required when body is specified").
      if (sub.body !== undefined && !Object.keys((sub.headers ?? {}) as Json).some((h) => h.toLowerCase() === 'content-type')) {
        return errorResponse(400, 'BadRequest', `Batch request '${id}' has a body but no Content-Type header.`, clientRequestId);
      }
    }

    const results = new Map<string, GraphResponse>();
    const order: string[] = [];
    const toGraphRequest = (sub: Json): GraphRequest => {
      const subHeaders = Object.fromEntries(Object.entries((sub.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), String(v)]));
      const url = String(sub.url).replace(/^\/?/, '/');
      let subBody: Buffer | undefined;
      if (sub.body !== undefined) {
        const type = subHeaders['content-type'] ?? '';
        // Non-JSON bodies travel base64-encoded (graph/json-batching, "body ... base64 URL encoded value").
        subBody = type.includes('json') ? Buffer.from(JSON.stringify(sub.body)) : Buffer.from(String(sub.body), 'base64');
      }
      return { method: String(sub.method).toUpperCase(), url: `/v1.0${url}`, headers: { ...subHeaders, authorization: request.headers.authorization ?? '' }, body: subBody };
    };
    const pending = [...requests];
    while (pending.length > 0) {
      // Every request whose dependencies are done runs now, all at once.
      const ready = pending.filter((sub) => ((sub.dependsOn ?? []) as string[]).every((d) => [...results.keys()].some((k) => k.toLowerCase() === String(d).toLowerCase())));
      if (ready.length === 0) return errorResponse(400, 'BadRequest', 'The batch dependencies form a cycle.', clientRequestId);
      for (const sub of ready) pending.splice(pending.indexOf(sub), 1);
      const admitted = ready.map((sub) => {
        const failedDependency = ((sub.dependsOn ?? []) as string[]).some((d) => {
          const dep = [...results.entries()].find(([k]) => k.toLowerCase() === String(d).toLowerCase())?.[1];
          return !dep || dep.status >= 400;
        });
        return { sub, failedDependency };
      });
      const slots = admitted.map(({ sub, failedDependency }) => (failedDependency ? undefined : this.admit(toGraphRequest(sub), true)));
      const answered = await Promise.all(
        admitted.map(async ({ failedDependency }, i) => {
          if (failedDependency) return errorResponse(424, 'FailedDependency', 'The request was not run because a request it depends on failed.', clientRequestId);
          return this.complete(slots[i]!);
        }),
      );
      admitted.forEach(({ sub }, i) => {
        results.set(String(sub.id), answered[i]!);
        order.push(String(sub.id));
      });
    }
    const responses = order.reverse().map((id) => {
      const r = results.get(id)!;
      const headers = { ...r.headers };
      delete headers['content-length'];
      return { id, status: r.status, headers, body: r.bytes ? r.bytes.toString('base64') : r.json };
    });
    return { status: 200, headers: { 'content-type': GRAPH_JSON, 'odata-version': '4.0' }, json: { responses } };
  }

  private async dispatch(request: GraphRequest, batched: boolean): Promise<GraphResponse> {
    return this.complete(this.admit(request, batched));
  }

  /**
   * Everything up to taking a concurrency slot happens synchronously, so that requests a batch
   * runs in parallel hold their slots at the same time.
   */
  private admit(request: GraphRequest, batched: boolean): Admission {
    const clientRequestId = request.headers['client-request-id'];
    try {
      const url = new URL(request.url, this.host.graphBaseUrl());
      const match = /^\/v1\.0\/users\/([^/]+)\/(.+)$/i.exec(url.pathname);
      const area = match?.[2] ? areaOf(match[2]) : undefined;
      if (!match?.[1] || !match[2] || !area) {
        const segment = url.pathname.split('/').filter(Boolean).at(-1) ?? '';
        return { done: errorResponse(400, 'BadRequest', `Resource not found for the segment '${segment}'.`, clientRequestId) };
      }
      const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      const unauthorized = (message: string) =>
        errorResponse(401, 'InvalidAuthenticationToken', message, clientRequestId, {
          'www-authenticate': `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
        });
      if (!bearer) return { done: unauthorized('Access token is empty.') };
      const check = this.host.checkToken(bearer);
      if (!check.ok) return { done: unauthorized(check.message) };
      const roles = check.claims.roles ?? [];
      const needed = request.method === 'GET' ? ROLE_AREAS[area].read : ROLE_AREAS[area].write;
      if (!needed.some((role) => roles.includes(role))) return { done: errorResponse(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.', clientRequestId) };

      const tenant = this.host.findTenant(check.claims.tid);
      const segment = decodeURIComponent(match[1]);
      const user = tenant?.users.find((u) => u.userPrincipalName.toLowerCase() === segment.toLowerCase() || userId(u) === segment.toLowerCase());
      if (!user) {
        return { done: area === 'tasks' ? errorResponse(404, 'ResourceNotFound', `User not found: '${segment}'.`, clientRequestId) : errorResponse(404, 'ErrorInvalidUser', `The requested user '${segment}' is invalid.`, clientRequestId) };
      }
      if (user.mailbox === 'none') return { done: errorResponse(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.', clientRequestId) };
      const mb = this.mailboxOf(user);
      const entry: MailboxRequest = { method: request.method, path: request.url, kind: kindOf(match[2]), status: 0, batched };
      mb.log.push(entry);
      const finish = (response: GraphResponse): GraphResponse => {
        entry.status = response.status;
        return response;
      };

      const throttle = this.throttles.find((t) => t.left > 0 && (!t.user || t.user.toLowerCase() === user.userPrincipalName.toLowerCase()));
      if (throttle) {
        throttle.left--;
        const status = throttle.status ?? 429;
        const retryAfter = String(throttle.retryAfterSeconds ?? 1);
        return {
          done: finish(
            status === 429
              ? errorResponse(429, 'TooManyRequests', 'Too many requests, please try again later.', clientRequestId, { 'retry-after': retryAfter })
              : errorResponse(503, 'ServiceNotAvailable', 'The service is temporarily unavailable.', clientRequestId, { 'retry-after': retryAfter }),
          ),
        };
      }
      // graph/throttling-limits, Outlook service: 10,000 API requests in a 10-minute period per app per mailbox.
      const now = Date.now();
      const windowMs = 600_000;
      while (mb.recent.length && mb.recent[0]! <= now - windowMs) mb.recent.shift();
      if (mb.recent.length >= (this.host.config.mailboxRequestLimit ?? 10_000)) {
        const retry = Math.max(1, Math.ceil((mb.recent[0]! + windowMs - now) / 1000));
        return { done: finish(errorResponse(429, 'ApplicationThrottled', 'Application is over its MailboxRequestLimit limit.', clientRequestId, { 'retry-after': String(retry) })) };
      }
      mb.recent.push(now);
      // graph/throttling-limits, Outlook service: 4 concurrent requests per app per mailbox. The
      // fifth is refused at once with ApplicationThrottled / "MailboxConcurrency" (the body seen in
      // magodo/terraform-provider-outlook#21 and alcionai/corso#3695); Retry-After is not
      // documented for it, so 1 second is sent (the shortest value Graph sends).
      const key = `${check.claims.appid.toLowerCase()}/${mb.uid}`;
      const running = this.inflight.get(key) ?? 0;
      if (running >= (this.host.config.mailboxConcurrency ?? 4)) {
        return { done: finish(errorResponse(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', clientRequestId, { 'retry-after': '1' })) };
      }
      this.inflight.set(key, running + 1);
      return { work: { request, url, mb, rest: match[2], key, finish, clientRequestId } };
    } catch (error) {
      return { done: this.failure(error, clientRequestId) };
    }
  }

  private async complete(admission: Admission): Promise<GraphResponse> {
    if (admission.done) return admission.done;
    const { request, url, mb, rest, key, finish, clientRequestId } = admission.work;
    try {
      if (this.held) await this.held.promise;
      const latency = this.host.config.graphLatencyMs ?? 0;
      if (latency > 0) await sleep(latency);
      const response = this.route(mb, request, url, rest);
      response.headers['request-id'] ??= randomUUID();
      response.headers['client-request-id'] ??= clientRequestId ?? response.headers['request-id'];
      return finish(response);
    } catch (error) {
      return finish(this.failure(error, clientRequestId));
    } finally {
      this.inflight.set(key, (this.inflight.get(key) ?? 1) - 1);
    }
  }

  private failure(error: unknown, clientRequestId: string | undefined): GraphResponse {
    if (error instanceof GraphFailure) return errorResponse(error.status, error.code, error.message, clientRequestId, error.headers);
    return errorResponse(500, 'InternalServerError', `test server error: ${error instanceof Error ? error.message : String(error)}`, clientRequestId);
  }

  // ----- routing -----

  private route(mb: Mailbox, request: GraphRequest, url: URL, rest: string): GraphResponse {
    const segments = rest.split('/').map((s) => decodeURIComponent(s));
    const [, s1, s2] = segments;
    const method = request.method;
    const body = () => parseBody(request);
    const lower = segments.map((s) => s.toLowerCase());
    const n = segments.length;
    const outZone = preferredZone(request.headers.prefer);
    const extra: Record<string, string> = outZone ? { 'preference-applied': `outlook.timezone="${outZone.name}"` } : {};

    // calendars
    if (lower[0] === 'calendars' || lower[0] === 'calendar') {
      const calendar = lower[0] === 'calendar' ? mb.calendars[0]! : s1 ? this.calendarById(mb, s1) : undefined;
      const eventsAt = lower[0] === 'calendar' ? 1 : 2;
      if (lower[0] === 'calendars' && n === 1) {
        if (method === 'GET') return this.list(url, mb.calendars.map((c) => ({ rec: c, rendered: renderCalendar(mb, c) })), 'skip', 'calendars', mb);
        if (method === 'POST') return created(renderCalendar(mb, this.createCalendar(mb, body())));
        return notAllowed();
      }
      if (!calendar) throw notFound();
      if (n === eventsAt) {
        if (method === 'GET') return ok(this.expandExt(renderCalendar(mb, calendar), calendar, url));
        if (method === 'PATCH') return ok(renderCalendar(mb, this.updateCalendar(mb, calendar, body())));
        if (method === 'DELETE') {
          // The default calendar cannot be deleted (graph/api/calendar-delete: "can't delete the default calendar"); chosen code.
          if (calendar.isDefault) throw new GraphFailure(400, 'ErrorCannotDeleteObject', 'The default calendar cannot be deleted.');
          mb.calendars.splice(mb.calendars.indexOf(calendar), 1);
          mb.events = mb.events.filter((e) => e.calendarId !== calendar.id);
          return noContent();
        }
        return notAllowed();
      }
      if (lower[eventsAt] === 'events') {
        const eventSegments = segments.slice(eventsAt + 1);
        return this.routeEvents(mb, request, url, eventSegments, calendar, outZone, extra);
      }
      throw segmentNotFound(segments.at(-1) ?? '');
    }
    if (lower[0] === 'events') return this.routeEvents(mb, request, url, segments.slice(1), undefined, outZone, extra);

    // contacts
    if (lower[0] === 'contactfolders') {
      if (n === 1) {
        if (method === 'GET') return this.list(url, mb.contactFolders.filter((f) => f.parentFolderId === mb.defaultContactsId).map((f) => ({ rec: f, rendered: renderFolder(f) })), 'skip', 'contactFolders', mb);
        if (method === 'POST') return created(renderFolder(this.createFolder(mb, mb.defaultContactsId, body())));
        return notAllowed();
      }
      const folder = this.folderById(mb, s1!);
      if (n === 2) {
        if (method === 'GET') return ok(this.expandExt(renderFolder(folder), folder, url));
        if (method === 'PATCH') {
          const input = body();
          checkProperties(input, new Set(['displayName', 'singleValueExtendedProperties']), new Set(['id', 'parentFolderId']), 'contactFolder');
          if (typeof input.displayName === 'string') {
            this.assertFolderNameFree(mb, folder.parentFolderId, input.displayName, folder.id);
            folder.displayName = input.displayName;
          }
          applyExtendedProperties(folder, input.singleValueExtendedProperties);
          touch(folder);
          return ok(renderFolder(folder));
        }
        if (method === 'DELETE') {
          const doomed = this.folderTree(mb, folder.id);
          mb.contactFolders = mb.contactFolders.filter((f) => !doomed.has(f.id));
          mb.contacts = mb.contacts.filter((c) => !doomed.has(c.folderId));
          return noContent();
        }
        return notAllowed();
      }
      if (lower[2] === 'childfolders' && n === 3) {
        if (method === 'GET') return this.list(url, mb.contactFolders.filter((f) => f.parentFolderId === folder.id).map((f) => ({ rec: f, rendered: renderFolder(f) })), 'skip', 'contactFolders', mb);
        if (method === 'POST') return created(renderFolder(this.createFolder(mb, folder.id, body())));
        return notAllowed();
      }
      if (lower[2] === 'contacts') return this.routeContacts(mb, request, url, segments.slice(3), folder.id);
      throw segmentNotFound(segments.at(-1) ?? '');
    }
    if (lower[0] === 'contacts') return this.routeContacts(mb, request, url, segments.slice(1), mb.defaultContactsId);

    // To Do
    if (lower[0] === 'todo' && lower[1] === 'lists') {
      if (n === 2) {
        if (method === 'GET') return this.list(url, mb.lists.map((l) => ({ rec: l, rendered: renderList(l) })), 'skiptoken', 'todo/lists', mb);
        if (method === 'POST') return created(renderList(this.createList(mb, body())));
        return notAllowed();
      }
      const list = mb.lists.find((l) => l.id === s2);
      // To Do answers unknown ids with its own code (graph/api/resources/todo-overview; chosen message).
      if (!list) throw new GraphFailure(404, 'ResourceNotFound', 'The requested list was not found.');
      if (n === 3) {
        if (method === 'GET') return ok(renderList(list));
        if (method === 'PATCH') {
          const input = body();
          checkProperties(input, new Set(['displayName']), new Set(['id', 'isOwner', 'isShared', 'wellknownListName']), 'todoTaskList');
          if (typeof input.displayName === 'string') list.displayName = input.displayName;
          touch(list);
          return ok(renderList(list));
        }
        if (method === 'DELETE') {
          if (list.wellknownListName === 'defaultList') throw new GraphFailure(400, 'invalidRequest', 'The default list cannot be deleted.');
          mb.lists.splice(mb.lists.indexOf(list), 1);
          mb.tasks = mb.tasks.filter((t) => t.listId !== list.id);
          return noContent();
        }
        return notAllowed();
      }
      if (lower[3] === 'tasks') return this.routeTasks(mb, request, url, segments.slice(4), list);
    }
    throw segmentNotFound(segments.at(-1) ?? '');
  }

  private routeEvents(mb: Mailbox, request: GraphRequest, url: URL, segments: string[], calendar: CalendarRec | undefined, outZone: Zone | undefined, extra: Record<string, string>): GraphResponse {
    const method = request.method;
    const [id, sub, subId] = segments;
    if (!id) {
      if (method === 'GET') {
        // graph/api/user-list-events: single instances and series masters, not occurrences.
        const events = mb.events.filter((e) => !calendar || e.calendarId === calendar.id);
        return withHeaders(this.list(url, events.map((e) => ({ rec: e, rendered: this.renderEvent(mb, e, outZone) })), 'skip', 'events', mb, (item, rec) => this.expandEvent(mb, item, rec as EventRec, url, outZone)), extra);
      }
      if (method === 'POST') {
        const input = parseBody(request);
        // event resource, transactionId: "A custom identifier specified by a client app for the
        // server to avoid redundant POST operations in case of client retries to create the same
        // event." A repeat is answered 201 with the event that exists, and nothing is created or
        // sent (blog.rykoma.net/2020/10/05/1559, a Microsoft support engineer's test). Whether a
        // differing body changes that is not documented: the existing event is returned unchanged.
        const transactionId = typeof input.transactionId === 'string' ? input.transactionId : undefined;
        const existing = transactionId ? mb.events.find((e) => e.fields.transactionId === transactionId) : undefined;
        if (existing) return withHeaders(created(this.renderEvent(mb, existing, outZone)), extra);
        const rec = this.createEvent(mb, calendar ?? mb.calendars[0]!, input, { silent: false });
        return withHeaders(created(this.renderEvent(mb, rec, outZone)), extra);
      }
      return notAllowed();
    }
    const target = this.resolveEvent(mb, id, calendar);
    if (!sub) {
      if (method === 'GET') {
        const item = target.occurrence ? this.renderOccurrence(mb, target.master, target.occurrence.originalStartMs, outZone) : this.renderEvent(mb, target.master, outZone);
        return withHeaders(ok(project(this.expandEvent(mb, item, target.master, url, outZone), selectOf(url))), extra);
      }
      if (method === 'PATCH' || method === 'DELETE') {
        const current = target.occurrence ? this.renderOccurrence(mb, target.master, target.occurrence.originalStartMs, outZone) : this.renderEvent(mb, target.master, outZone);
        checkIfMatch(request, current);
      }
      if (method === 'PATCH') {
        const input = parseBody(request);
        if (target.occurrence) {
          this.patchOccurrence(mb, target.master, target.occurrence.originalStartMs, input);
          return withHeaders(ok(this.renderOccurrence(mb, target.master, target.occurrence.originalStartMs, outZone)), extra);
        }
        this.patchEvent(mb, target.master, input);
        return withHeaders(ok(this.renderEvent(mb, target.master, outZone)), extra);
      }
      if (method === 'DELETE') {
        if (target.occurrence) this.cancelOccurrence(mb, target.master, target.occurrence.originalStartMs);
        else this.deleteEvent(mb, target.master);
        return noContent();
      }
      return notAllowed();
    }
    const subLower = sub.toLowerCase();
    if (subLower === 'instances' && !subId && method === 'GET') return withHeaders(this.instances(mb, target.master, url, outZone), extra);
    if (subLower === 'cancel' && !subId && method === 'POST') {
      // graph/api/event-cancel: the organizer cancels and attendees get a cancellation.
      if (target.occurrence) this.cancelOccurrence(mb, target.master, target.occurrence.originalStartMs);
      else this.deleteEvent(mb, target.master);
      return { status: 202, headers: {} };
    }
    if (subLower === 'attachments') {
      if (target.occurrence) throw new GraphFailure(400, INVALID, 'Attachments of a single occurrence are not modelled.');
      const ev = target.master;
      if (!subId) {
        if (method === 'GET') return ok({ '@odata.context': this.context(mb, 'events/attachments'), value: ev.attachments.map(renderAttachment) });
        if (method === 'POST') {
          const rec = this.addAttachment(mb, ev, parseBody(request));
          return created(renderAttachment(rec));
        }
        return notAllowed();
      }
      const attachment = ev.attachments.find((a) => a.id === subId);
      if (!attachment) throw notFound();
      if (method === 'GET') return ok(renderAttachment(attachment));
      if (method === 'DELETE') {
        ev.attachments.splice(ev.attachments.indexOf(attachment), 1);
        touch(ev);
        return noContent();
      }
      return notAllowed();
    }
    throw segmentNotFound(sub);
  }

  private routeContacts(mb: Mailbox, request: GraphRequest, url: URL, segments: string[], folderId: string): GraphResponse {
    const method = request.method;
    const [id, sub, value] = segments;
    if (!id) {
      if (method === 'GET') return this.list(url, mb.contacts.filter((c) => c.folderId === folderId).map((c) => ({ rec: c, rendered: renderContact(c) })), 'skip', 'contacts', mb, (item, rec) => this.expandExt(item, rec, url));
      if (method === 'POST') return created(renderContact(this.createContact(mb, folderId, parseBody(request))));
      return notAllowed();
    }
    const contact = mb.contacts.find((c) => c.id === id);
    if (!contact) throw notFound();
    if (!sub) {
      if (method === 'GET') return ok(project(this.expandExt(renderContact(contact), contact, url), selectOf(url)));
      if (method === 'PATCH' || method === 'DELETE') checkIfMatch(request, renderContact(contact));
      if (method === 'PATCH') {
        const input = checkProperties(parseBody(request), CONTACT_WRITABLE, CONTACT_READONLY, 'contact');
        const { singleValueExtendedProperties, ...fields } = input;
        validateContact(fields);
        Object.assign(contact.fields, fields);
        applyExtendedProperties(contact, singleValueExtendedProperties);
        touch(contact);
        return ok(renderContact(contact));
      }
      if (method === 'DELETE') {
        mb.contacts.splice(mb.contacts.indexOf(contact), 1);
        return noContent();
      }
      return notAllowed();
    }
    if (sub.toLowerCase() === 'photo') {
      // graph/api/profilephoto-get / profilephoto-update: GET .../photo/$value answers the bytes;
      // PUT .../photo/$value with an image body sets it (4 MB at most); no photo → 404.
      if (value === '$value') {
        if (method === 'GET') {
          if (!contact.photo) throw new GraphFailure(404, 'ErrorItemNotFound', 'The photo wasn\'t found.');
          return { status: 200, headers: { 'content-type': contact.photo.contentType, 'content-length': String(contact.photo.bytes.length) }, bytes: contact.photo.bytes };
        }
        if (method === 'PUT') {
          const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
          if (!/^image\/(jpeg|png|gif|bmp)$/.test(type)) throw new GraphFailure(400, 'ErrorInvalidImage', 'The photo must be sent as image/jpeg, image/png, image/gif or image/bmp.');
          const bytes = request.body ?? Buffer.alloc(0);
          if (bytes.length === 0) throw new GraphFailure(400, 'ErrorInvalidImage', 'The photo is empty.');
          if (bytes.length > 4 * 1024 * 1024) throw new GraphFailure(413, 'RequestEntityTooLarge', 'The photo is larger than 4 MB.');
          contact.photo = { bytes, contentType: type };
          touch(contact);
          return { status: 200, headers: {} };
        }
        return notAllowed();
      }
      if (!value && method === 'GET') {
        if (!contact.photo) throw new GraphFailure(404, 'ErrorItemNotFound', 'The photo wasn\'t found.');
        return ok({ '@odata.context': this.context(mb, 'contacts/photo/$entity'), id: '240X240', width: 240, height: 240, '@odata.mediaContentType': contact.photo.contentType });
      }
    }
    throw segmentNotFound(sub);
  }

  private routeTasks(mb: Mailbox, request: GraphRequest, url: URL, segments: string[], list: ListRec): GraphResponse {
    const method = request.method;
    const [id, sub, subId] = segments;
    if (!id) {
      if (method === 'GET') return this.list(url, mb.tasks.filter((t) => t.listId === list.id).map((t) => ({ rec: t, rendered: renderTask(t) })), 'skiptoken', 'todo/lists/tasks', mb, (item, rec) => expandTask(item, rec as TaskRec, url));
      if (method === 'POST') return created(renderTask(this.createTask(mb, list, parseBody(request))));
      return notAllowed();
    }
    const task = mb.tasks.find((t) => t.id === id && t.listId === list.id);
    if (!task) throw new GraphFailure(404, 'ResourceNotFound', 'The requested task was not found.');
    if (!sub) {
      if (method === 'GET') return ok(project(expandTask(renderTask(task), task, url), selectOf(url)));
      if (method === 'PATCH' || method === 'DELETE') checkIfMatch(request, renderTask(task));
      if (method === 'PATCH') {
        const input = checkProperties(parseBody(request), TASK_WRITABLE, TASK_READONLY, 'todoTask');
        const { checklistItems, linkedResources, extensions, ...fields } = input;
        if (checklistItems !== undefined || linkedResources !== undefined || extensions !== undefined) throw new GraphFailure(400, 'invalidRequest', 'Navigation properties cannot be changed with PATCH.');
        Object.assign(task.fields, normaliseTask(fields));
        touch(task);
        return ok(renderTask(task));
      }
      if (method === 'DELETE') {
        mb.tasks.splice(mb.tasks.indexOf(task), 1);
        return noContent();
      }
      return notAllowed();
    }
    const kind = sub.toLowerCase();
    if (kind === 'checklistitems' || kind === 'linkedresources') {
      const items = kind === 'checklistitems' ? task.checklistItems : task.linkedResources;
      const render = kind === 'checklistitems' ? renderChecklistItem : renderLinkedResource;
      if (!subId) {
        if (method === 'GET') return ok({ '@odata.context': this.context(mb, `todo/lists/tasks/${sub}`), value: items.map(render) });
        if (method === 'POST') {
          const rec = kind === 'checklistitems' ? newChecklistItem(mb, parseBody(request)) : newLinkedResource(mb, parseBody(request));
          items.push(rec);
          touch(task);
          return created(render(rec));
        }
        return notAllowed();
      }
      const item = items.find((i) => i.id === subId);
      if (!item) throw new GraphFailure(404, 'ResourceNotFound', 'The requested item was not found.');
      if (method === 'GET') return ok(render(item));
      if (method === 'PATCH') {
        const input = parseBody(request);
        const fresh = kind === 'checklistitems' ? newChecklistItem(mb, { ...item.fields, ...input }) : newLinkedResource(mb, { ...item.fields, ...input });
        item.fields = fresh.fields;
        touch(item);
        return ok(render(item));
      }
      if (method === 'DELETE') {
        items.splice(items.indexOf(item), 1);
        return noContent();
      }
      return notAllowed();
    }
    if (kind === 'extensions') {
      // graph/api/resources/todotask: "Adding your data as custom properties in open extensions".
      if (!subId) {
        if (method === 'GET') return ok({ value: task.extensions });
        if (method === 'POST') {
          const ext = openExtension(parseBody(request));
          if (task.extensions.some((e) => e.id === ext.id)) throw new GraphFailure(409, 'nameAlreadyExists', `An extension named '${String(ext.extensionName)}' exists.`);
          task.extensions.push(ext);
          return created(ext);
        }
        return notAllowed();
      }
      const ext = task.extensions.find((e) => e.id === subId || e.extensionName === subId);
      if (!ext) throw new GraphFailure(404, 'ResourceNotFound', 'The requested extension was not found.');
      if (method === 'GET') return ok(ext);
      if (method === 'DELETE') {
        task.extensions.splice(task.extensions.indexOf(ext), 1);
        return noContent();
      }
      return notAllowed();
    }
    throw segmentNotFound(sub);
  }

  // ----- paging -----

  /**
   * graph/paging: a page of `$top` (default: the server's page size; Outlook's default is 10),
   * and @odata.nextLink while more remain. Outlook lists page with $skip, To Do hands out an
   * opaque $skiptoken. $filter and $select apply before / after paging as OData says.
   */
  private list(url: URL, items: { rec: Stored; rendered: Json }[], paging: 'skip' | 'skiptoken', name: string, mb: Mailbox, expand?: (item: Json, rec: Stored) => Json): GraphResponse {
    const pageSize = this.host.config.pageSize ?? 10;
    const topParam = url.searchParams.get('$top');
    const top = topParam === null ? pageSize : Number(topParam);
    if (!Number.isInteger(top) || top < 1 || top > 1000) throw new GraphFailure(400, 'ErrorInvalidParameter', `Invalid value '${topParam ?? ''}' for parameter $top.`);
    const skipToken = url.searchParams.get('$skiptoken');
    const skip = paging === 'skiptoken' ? (skipToken ? Number(Buffer.from(skipToken, 'base64url').toString()) : 0) : Number(url.searchParams.get('$skip') ?? '0');
    if (!Number.isInteger(skip) || skip < 0) throw new GraphFailure(400, 'ErrorInvalidParameter', 'Invalid paging parameter.');
    const predicate = parseFilter(url.searchParams.get('$filter'));
    const filtered = predicate ? items.filter((item) => predicate({ ext: item.rec.ext, rendered: item.rendered })) : items;
    const select = selectOf(url);
    const slice = filtered.slice(skip, skip + top).map(({ rec, rendered }) => project(expand ? expand(rendered, rec) : this.expandExt(rendered, rec, url), select));
    const body: Json = { '@odata.context': `${this.context(mb, name)}${select ? `(${select.join(',')})` : ''}`, value: slice };
    if (skip + top < filtered.length) {
      const next = new URL(url.pathname, this.host.graphBaseUrl());
      for (const [key, value] of url.searchParams) if (key !== '$skip' && key !== '$skiptoken') next.searchParams.append(key, value);
      if (paging === 'skiptoken') next.searchParams.set('$skiptoken', Buffer.from(String(skip + top)).toString('base64url'));
      else next.searchParams.set('$skip', String(skip + top));
      // Graph's nextLinks keep $ unescaped.
      body['@odata.nextLink'] = next.href.replace(/%24/g, '$');
    }
    return ok(body);
  }

  private context(mb: Mailbox, name: string): string {
    return `${this.host.graphBaseUrl()}/v1.0/$metadata#users('${encodeURIComponent(mb.user.userPrincipalName)}')/${name}`;
  }

  /** $expand=singleValueExtendedProperties($filter=id eq '...'): only the named properties come back. */
  private expandExt(item: Json, rec: Stored, url: URL, alsoAllowed: string[] = []): Json {
    const expand = parseExpand(url.searchParams.get('$expand'));
    const out = { ...item };
    for (const e of expand) {
      if (e.name.toLowerCase() === 'singlevalueextendedproperties') {
        const ids = expandIds(e.filter, e.name);
        out.singleValueExtendedProperties = [...rec.ext.values()].filter((p) => ids.has(p.id.toLowerCase())).map((p) => ({ id: p.id, value: p.value }));
      } else if (!alsoAllowed.includes(e.name)) {
        throw new GraphFailure(400, 'BadRequest', `Could not find a property named '${e.name}' on this type.`);
      }
    }
    return out;
  }

  private expandEvent(mb: Mailbox, item: Json, rec: EventRec, url: URL, outZone: Zone | undefined): Json {
    const out = this.expandExt(item, rec, url, ['exceptionOccurrences', 'attachments']);
    for (const e of parseExpand(url.searchParams.get('$expand'))) {
      // event resource: exceptionOccurrences, "the occurrences of a recurring series that are exceptions".
      if (e.name === 'exceptionOccurrences') {
        out.exceptionOccurrences = rec.recurrence && item.type === 'seriesMaster'
          ? [...rec.exceptions.entries()].filter(([, x]) => !x.cancelled && Object.keys(x.fields).length > 0).sort(([a], [b]) => a - b).map(([start]) => this.renderOccurrence(mb, rec, start, outZone))
          : [];
      } else if (e.name === 'attachments') out.attachments = rec.attachments.map(renderAttachment);
    }
    return out;
  }

  // ----- calendars -----

  private calendarById(mb: Mailbox, id: string): CalendarRec | undefined {
    return mb.calendars.find((c) => c.id === id);
  }

  private createCalendar(mb: Mailbox, input: Json): CalendarRec {
    const fields = checkProperties(input, new Set(['name', 'color', 'singleValueExtendedProperties']), new Set(['id', 'hexColor', 'isDefaultCalendar', 'changeKey', 'canShare', 'canViewPrivateItems', 'canEdit', 'owner', 'isRemovable', 'isTallyingResponses', 'allowedOnlineMeetingProviders', 'defaultOnlineMeetingProvider']), 'calendar');
    if (typeof fields.name !== 'string' || fields.name.trim() === '') throw new GraphFailure(400, 'ErrorInvalidRequest', 'A calendar needs a name.');
    this.assertCalendarNameFree(mb, fields.name);
    const color = fields.color === undefined ? 'auto' : String(fields.color);
    if (!(color in CALENDAR_COLORS)) throw new GraphFailure(400, 'RequestBodyRead', `The value '${color}' is not a calendarColor.`);
    const rec: CalendarRec = { ...newStored(mb, 'calendar'), name: fields.name, color, isDefault: false };
    applyExtendedProperties(rec, fields.singleValueExtendedProperties);
    mb.calendars.push(rec);
    return rec;
  }

  private updateCalendar(mb: Mailbox, rec: CalendarRec, input: Json): CalendarRec {
    const fields = checkProperties(input, new Set(['name', 'color', 'singleValueExtendedProperties']), new Set(['id', 'hexColor', 'isDefaultCalendar', 'changeKey', 'owner']), 'calendar');
    if (typeof fields.name === 'string' && fields.name.toLowerCase() !== rec.name.toLowerCase()) this.assertCalendarNameFree(mb, fields.name);
    if (typeof fields.name === 'string') rec.name = fields.name;
    if (fields.color !== undefined) {
      if (!(String(fields.color) in CALENDAR_COLORS)) throw new GraphFailure(400, 'RequestBodyRead', `The value '${String(fields.color)}' is not a calendarColor.`);
      rec.color = String(fields.color);
    }
    applyExtendedProperties(rec, fields.singleValueExtendedProperties);
    touch(rec);
    return rec;
  }

  /**
   * Calendars are Exchange folders, whose names are unique per parent regardless of case; a
   * second one is refused with 409 ErrorFolderExists (graph/api/user-post-calendars does not
   * list it; the code is Exchange's, seen in Graph answers; case-insensitive is the strict choice).
   */
  private assertCalendarNameFree(mb: Mailbox, name: string): void {
    if (mb.calendars.some((c) => c.name.toLowerCase() === name.toLowerCase())) throw new GraphFailure(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
  }

  // ----- events -----
  // What Exchange sends when events change, and why a migration cannot keep it from sending
  // through Graph: see "Invitations" at the top of this file.

  private createEvent(mb: Mailbox, calendar: CalendarRec, input: Json, options: { silent: boolean }): EventRec {
    const fields = checkProperties(input, EVENT_WRITABLE, EVENT_READONLY, 'event');
    const { singleValueExtendedProperties, ...rest } = fields;
    const stored = newStored(mb, 'event');
    const rec: EventRec = {
      ...stored,
      calendarId: calendar.id,
      fields: {},
      startMs: 0,
      endMs: 0,
      zone: 'UTC',
      exceptions: new Map(),
      attachments: [],
      goid: globalObjectId(stored.id),
    };
    this.applyEventFields(rec, rest, true);
    applyExtendedProperties(rec, singleValueExtendedProperties);
    mb.events.push(rec);
    if (!options.silent) this.notify(mb, rec, 'request', attendeeAddresses(mb, rec.fields));
    return rec;
  }

  /** Validates and stores start/end/recurrence and the other writable fields; `creating` requires start and end. */
  private applyEventFields(rec: EventRec, input: Json, creating: boolean): void {
    const merged: Json = { ...rec.fields, ...input };
    if (creating && (merged.start === undefined || merged.end === undefined)) throw new GraphFailure(400, INVALID, 'An event needs start and end.');
    const start = parseZoned(merged.start, 'start');
    const end = parseZoned(merged.end, 'end');
    if (end.ms < start.ms) throw new GraphFailure(400, 'ErrorInvalidParameter', 'The end of an event is before its start.');
    const isAllDay = merged.isAllDay === true;
    // event resource, isAllDay: "start and end time must be set to midnight and be in the same time zone."
    if (isAllDay) {
      const midnight = (l: LocalDateTime) => l.hour === 0 && l.minute === 0 && l.second === 0;
      if (!midnight(start.local) || !midnight(end.local) || start.zone !== end.zone || end.ms <= start.ms) {
        throw new GraphFailure(400, INVALID, 'An all-day event starts and ends at midnight, in one time zone.');
      }
    }
    for (const [name, allowed] of [['importance', ['low', 'normal', 'high']], ['sensitivity', ['normal', 'personal', 'private', 'confidential']], ['showAs', ['free', 'tentative', 'busy', 'oof', 'workingElsewhere', 'unknown']]] as const) {
      if (merged[name] !== undefined && !(allowed as readonly string[]).includes(String(merged[name]))) throw new GraphFailure(400, 'RequestBodyRead', `The value '${String(merged[name])}' is not valid for ${name}.`);
    }
    if (merged.attendees !== undefined && (!Array.isArray(merged.attendees) || (merged.attendees as Json[]).some((a) => typeof (a?.emailAddress as Json | undefined)?.address !== 'string'))) {
      throw new GraphFailure(400, 'ErrorInvalidRecipients', 'Every attendee needs emailAddress.address.');
    }
    let startMs = start.ms;
    let endMs = end.ms;
    let recurrence: PatternedRecurrence | undefined;
    if (merged.recurrence !== undefined && merged.recurrence !== null) {
      const check = checkRecurrence(merged.recurrence, String((merged.start as Json).timeZone));
      if (!check.ok) throw new GraphFailure(400, INVALID, check.message);
      recurrence = check.recurrence;
      // recurrenceRange.startDate: "Must be the same value as the start property of the recurring event."
      const startDate = `${String(start.local.year).padStart(4, '0')}-${String(start.local.month).padStart(2, '0')}-${String(start.local.day).padStart(2, '0')}`;
      if (recurrence.range.startDate !== startDate) throw new GraphFailure(400, INVALID, `The recurrence startDate ${recurrence.range.startDate} is not the date the event starts (${startDate}).`);
      const days = occurrenceDays(recurrence, dayNumber(start.local.year, start.local.month, start.local.day) + 1);
      if (days.length === 0) throw new GraphFailure(400, INVALID, 'The recurrence has no occurrence.');
      // Exchange moves the master to the first occurrence (a weekly Mon/Wed series entered on a Tuesday starts on Wednesday).
      const first = fromDayNumber(days[0]!);
      const duration = endMs - startMs;
      startMs = localToUtc({ ...start.local, ...first }, start.iana);
      endMs = startMs + duration;
      merged.start = { dateTime: formatGraphDateTime(utcToLocal(startMs, start.iana)), timeZone: (merged.start as Json).timeZone };
      merged.end = { dateTime: formatGraphDateTime(utcToLocal(endMs, end.iana)), timeZone: (merged.end as Json).timeZone };
    }
    rec.fields = merged;
    rec.startMs = startMs;
    rec.endMs = endMs;
    rec.zone = start.iana;
    rec.recurrence = recurrence;
  }

  private patchEvent(mb: Mailbox, rec: EventRec, input: Json): void {
    const fields = checkProperties(input, EVENT_WRITABLE, EVENT_READONLY, 'event');
    const { singleValueExtendedProperties, ...rest } = fields;
    const before = attendeeAddresses(mb, rec.fields);
    const oldPattern = JSON.stringify(rec.recurrence ?? null);
    this.applyEventFields(rec, rest, false);
    // Outlook: changing a series' pattern discards its exceptions ("Any exceptions associated with this recurring appointment will be lost").
    if (JSON.stringify(rec.recurrence ?? null) !== oldPattern) rec.exceptions.clear();
    applyExtendedProperties(rec, singleValueExtendedProperties);
    touch(rec);
    const after = attendeeAddresses(mb, rec.fields);
    const removed = before.filter((a) => !after.includes(a));
    const added = after.filter((a) => !before.includes(a));
    const kept = after.filter((a) => before.includes(a));
    this.notify(mb, rec, 'request', added);
    this.notify(mb, rec, 'update', kept);
    this.notify(mb, rec, 'cancel', removed);
  }

  private deleteEvent(mb: Mailbox, rec: EventRec): void {
    mb.events.splice(mb.events.indexOf(rec), 1);
    // graph/api/event-delete: "deleting the event on the organizer's calendar sends a cancellation message".
    this.notify(mb, rec, 'cancel', attendeeAddresses(mb, rec.fields));
  }

  private resolveEvent(mb: Mailbox, id: string, calendar: CalendarRec | undefined): { master: EventRec; occurrence?: { originalStartMs: number } } {
    const direct = mb.events.find((e) => e.id === id && (!calendar || e.calendarId === calendar.id));
    if (direct) return { master: direct };
    const occ = mb.occurrences.get(id);
    const master = occ ? mb.events.find((e) => e.id === occ.masterId) : undefined;
    if (!occ || !master || (calendar && master.calendarId !== calendar.id)) throw notFound();
    if (master.exceptions.get(occ.originalStartMs)?.cancelled) throw notFound();
    return { master, occurrence: { originalStartMs: occ.originalStartMs } };
  }

  private occurrenceId(mb: Mailbox, master: EventRec, originalStartMs: number): string {
    const id = exchangeId(master.id, 'occurrence', String(originalStartMs));
    mb.occurrences.set(id, { masterId: master.id, originalStartMs });
    return id;
  }

  /** The series' occurrence starts (UTC ms) whose day is on or before `untilDay` (a local day number). */
  private seriesStarts(master: EventRec, untilDay: number): number[] {
    const rec = master.recurrence!;
    const local = utcToLocal(master.startMs, master.zone);
    return occurrenceDays(rec, untilDay).map((day) => localToUtc({ ...local, ...fromDayNumber(day) }, master.zone));
  }

  /**
   * graph/api/event-list-instances: occurrences and exceptions of a series master in
   * [startDateTime, endDateTime), both required; cancelled occurrences are not listed.
   */
  private instances(mb: Mailbox, master: EventRec, url: URL, outZone: Zone | undefined): GraphResponse {
    const startParam = url.searchParams.get('startDateTime') ?? url.searchParams.get('StartDateTime');
    const endParam = url.searchParams.get('endDateTime') ?? url.searchParams.get('EndDateTime');
    const windowStart = parseInstant(startParam);
    const windowEnd = parseInstant(endParam);
    if (windowStart === undefined || windowEnd === undefined) {
      throw new GraphFailure(400, 'ErrorInvalidParameter', 'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.');
    }
    if (!master.recurrence) {
      // A single instance has no instances (the docs define the function for series masters); strict: refuse.
      throw new GraphFailure(400, 'ErrorInvalidParameter', 'The event is not the master of a recurring series.');
    }
    const untilDay = dayNumber(...ymd(utcToLocal(windowEnd, master.zone))) + 1;
    const duration = master.endMs - master.startMs;
    const items: { startMs: number; rendered: Json }[] = [];
    for (const originalStartMs of this.seriesStarts(master, untilDay)) {
      const exception = master.exceptions.get(originalStartMs);
      if (exception?.cancelled) continue;
      const startMs = exception ? exception.startMs : originalStartMs;
      const endMs = exception ? exception.endMs : originalStartMs + duration;
      const overlaps = startMs < windowEnd && (endMs > windowStart || (endMs === startMs && startMs >= windowStart));
      if (overlaps) items.push({ startMs, rendered: this.renderOccurrence(mb, master, originalStartMs, outZone) });
    }
    items.sort((a, b) => a.startMs - b.startMs);
    const fake = items.map((i) => ({ rec: master, rendered: i.rendered }));
    return this.list(url, fake, 'skip', 'events', mb, (item) => item);
  }

  private patchOccurrence(mb: Mailbox, master: EventRec, originalStartMs: number, input: Json): void {
    const fields = checkProperties(input, EVENT_WRITABLE, EVENT_READONLY, 'event');
    if (fields.recurrence !== undefined) throw new GraphFailure(400, INVALID, 'An occurrence cannot have its own recurrence.');
    const { singleValueExtendedProperties, ...rest } = fields;
    void singleValueExtendedProperties;
    const duration = master.endMs - master.startMs;
    const existing = master.exceptions.get(originalStartMs);
    const exception: ExceptionRec = existing ?? { id: this.occurrenceId(mb, master, originalStartMs), fields: {}, startMs: originalStartMs, endMs: originalStartMs + duration, cancelled: false, version: 0, modified: nowIso() };
    const mergedFields = { ...exception.fields, ...rest };
    if (mergedFields.start !== undefined || mergedFields.end !== undefined) {
      const start = mergedFields.start !== undefined ? parseZoned(mergedFields.start, 'start').ms : exception.startMs;
      const end = mergedFields.end !== undefined ? parseZoned(mergedFields.end, 'end').ms : start + (exception.endMs - exception.startMs);
      if (end < start) throw new GraphFailure(400, 'ErrorInvalidParameter', 'The end of an event is before its start.');
      exception.startMs = start;
      exception.endMs = end;
    }
    exception.fields = mergedFields;
    exception.version++;
    exception.modified = nowIso();
    master.exceptions.set(originalStartMs, exception);
    touch(master);
    const recipients = attendeeAddresses(mb, { ...master.fields, ...exception.fields });
    this.notify(mb, master, 'update', recipients, originalStartMs);
  }

  private cancelOccurrence(mb: Mailbox, master: EventRec, originalStartMs: number): void {
    const existing = master.exceptions.get(originalStartMs);
    const duration = master.endMs - master.startMs;
    master.exceptions.set(originalStartMs, { ...(existing ?? { id: this.occurrenceId(mb, master, originalStartMs), fields: {}, startMs: originalStartMs, endMs: originalStartMs + duration, version: 0, modified: nowIso() }), cancelled: true });
    touch(master);
    this.notify(mb, master, 'cancel', attendeeAddresses(mb, { ...master.fields, ...(existing?.fields ?? {}) }), originalStartMs);
  }

  private notify(mb: Mailbox, rec: EventRec, kind: SentMail['kind'], recipients: string[], occurrenceMs?: number): void {
    if (recipients.length === 0) return;
    mb.sent.push({
      kind,
      eventId: rec.id,
      iCalUId: icalUid(rec, occurrenceMs),
      subject: String(rec.fields.subject ?? ''),
      recipients,
      ...(occurrenceMs !== undefined ? { occurrence: new Date(occurrenceMs).toISOString() } : {}),
      responseRequested: rec.fields.responseRequested !== false,
    });
  }

  /**
   * graph/api/event-post-attachments: "Use this API to create ... an attachment ... to an existing
   * event"; a fileAttachment carries contentBytes (base64) and must be under 3 MB (larger files
   * need an upload session, not modelled: refused with 413, code chosen).
   */
  private addAttachment(mb: Mailbox, ev: EventRec, input: Json): AttachmentRec {
    const type = String(input['@odata.type'] ?? '').replace(/^#/, '');
    if (type !== 'microsoft.graph.fileAttachment') throw new GraphFailure(400, 'ErrorInvalidRequest', 'Only #microsoft.graph.fileAttachment is modelled; @odata.type is required.');
    if (typeof input.name !== 'string' || typeof input.contentBytes !== 'string') throw new GraphFailure(400, 'ErrorInvalidRequest', 'A fileAttachment needs name and contentBytes.');
    const bytes = Buffer.from(input.contentBytes, 'base64');
    if (bytes.length >= 3 * 1024 * 1024) throw new GraphFailure(413, 'RequestEntityTooLarge', 'Attachments of 3 MB or more need an upload session.');
    const rec: AttachmentRec = {
      id: exchangeId(ev.id, 'attachment', String(++mb.counter)),
      name: input.name,
      contentType: typeof input.contentType === 'string' ? input.contentType : 'application/octet-stream',
      bytes,
      isInline: input.isInline === true,
      contentId: typeof input.contentId === 'string' ? input.contentId : null,
      modified: nowIso(),
    };
    ev.attachments.push(rec);
    touch(ev);
    this.notify(mb, ev, 'update', attendeeAddresses(mb, ev.fields));
    return rec;
  }

  private renderEvent(mb: Mailbox, rec: EventRec, outZone: Zone | undefined): Json {
    const isMaster = rec.recurrence !== undefined;
    return this.eventJson(mb, rec, rec.fields, rec.startMs, rec.endMs, {
      id: rec.id,
      type: isMaster ? 'seriesMaster' : 'singleInstance',
      seriesMasterId: null,
      recurrence: rec.recurrence ?? null,
      iCalUId: icalUid(rec),
      version: rec.version,
      modified: rec.modified,
    }, outZone);
  }

  private renderOccurrence(mb: Mailbox, master: EventRec, originalStartMs: number, outZone: Zone | undefined): Json {
    const exception = master.exceptions.get(originalStartMs);
    const isException = exception !== undefined && !exception.cancelled && Object.keys(exception.fields).length > 0;
    const fields = { ...master.fields, ...(exception?.fields ?? {}) };
    const duration = master.endMs - master.startMs;
    const json = this.eventJson(mb, master, fields, exception?.startMs ?? originalStartMs, exception?.endMs ?? originalStartMs + duration, {
      id: this.occurrenceId(mb, master, originalStartMs),
      type: isException ? 'exception' : 'occurrence',
      seriesMasterId: master.id,
      recurrence: null,
      iCalUId: icalUid(master, originalStartMs),
      version: master.version + (exception?.version ?? 0),
      modified: exception?.modified ?? master.modified,
    }, outZone);
    // event resource, originalStart: "The start time that the event had when it was created", DateTimeOffset in UTC.
    json.originalStart = new Date(originalStartMs).toISOString().replace(/\.\d+Z$/, 'Z');
    return json;
  }

  private eventJson(mb: Mailbox, rec: EventRec, fields: Json, startMs: number, endMs: number, meta: { id: string; type: string; seriesMasterId: string | null; recurrence: PatternedRecurrence | null; iCalUId: string; version: number; modified: string }, outZone: Zone | undefined): Json {
    const changeKey = changeKeyOf(meta.id, meta.version);
    const body = (fields.body as Json | undefined) ?? { contentType: 'html', content: '' };
    const startZoneName = String((fields.start as Json).timeZone);
    const endZoneName = String((fields.end as Json).timeZone);
    const isAllDay = fields.isAllDay === true;
    // graph/api/event-get: start and end come back in UTC unless Prefer: outlook.timezone names a zone.
    const zone = outZone ?? { name: 'UTC', iana: 'UTC' };
    const time = (ms: number) => (isAllDay
      ? { dateTime: formatGraphDateTime({ ...utcToLocal(ms, rec.zone), hour: 0, minute: 0, second: 0 }), timeZone: zone.name }
      : { dateTime: formatGraphDateTime(utcToLocal(ms, zone.iana)), timeZone: zone.name });
    const content = String(body.content ?? '');
    return {
      '@odata.etag': `W/"${changeKey}"`,
      id: meta.id,
      createdDateTime: rec.created,
      lastModifiedDateTime: meta.modified,
      changeKey,
      categories: fields.categories ?? [],
      transactionId: fields.transactionId ?? null,
      originalStartTimeZone: startZoneName,
      originalEndTimeZone: endZoneName,
      iCalUId: meta.iCalUId,
      // event resource, uid: the same for the series master and all of its occurrences.
      uid: rec.goid,
      reminderMinutesBeforeStart: fields.reminderMinutesBeforeStart ?? 15,
      isReminderOn: fields.isReminderOn ?? true,
      hasAttachments: rec.attachments.length > 0,
      subject: fields.subject ?? '',
      bodyPreview: content.replace(/<[^>]*>/g, '').trim().slice(0, 255),
      importance: fields.importance ?? 'normal',
      sensitivity: fields.sensitivity ?? 'normal',
      isAllDay,
      isCancelled: false,
      isOrganizer: true,
      responseRequested: fields.responseRequested ?? true,
      seriesMasterId: meta.seriesMasterId,
      showAs: fields.showAs ?? 'busy',
      type: meta.type,
      webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(meta.id)}&exvsurl=1&path=/calendar/item`,
      onlineMeetingUrl: null,
      isOnlineMeeting: fields.isOnlineMeeting ?? false,
      onlineMeetingProvider: fields.onlineMeetingProvider ?? 'unknown',
      allowNewTimeProposals: fields.allowNewTimeProposals ?? true,
      isDraft: false,
      hideAttendees: fields.hideAttendees ?? false,
      responseStatus: { response: 'organizer', time: '0001-01-01T00:00:00Z' },
      body,
      start: time(startMs),
      end: time(endMs),
      location: fields.location ?? { displayName: '', locationType: 'default', uniqueIdType: 'unknown', address: {}, coordinates: {} },
      locations: fields.locations ?? [],
      recurrence: meta.recurrence,
      attendees: ((fields.attendees ?? []) as Json[]).map((a) => ({ type: a.type ?? 'required', status: { response: 'none', time: '0001-01-01T00:00:00Z' }, emailAddress: a.emailAddress })),
      // The mailbox owner organizes whatever the body said (organizer is read-only on create).
      organizer: { emailAddress: { name: mb.owner.name, address: mb.owner.address } },
    };
  }

  // ----- contacts -----

  private folderById(mb: Mailbox, id: string): FolderRec {
    const folder = mb.contactFolders.find((f) => f.id === id);
    if (!folder) throw notFound();
    return folder;
  }

  private folderTree(mb: Mailbox, id: string): Set<string> {
    const ids = new Set([id]);
    for (let grown = true; grown; ) {
      grown = false;
      for (const f of mb.contactFolders) {
        if (ids.has(f.parentFolderId) && !ids.has(f.id)) {
          ids.add(f.id);
          grown = true;
        }
      }
    }
    return ids;
  }

  private assertFolderNameFree(mb: Mailbox, parentId: string, name: string, except?: string): void {
    // Exchange folder names are unique per parent (case-insensitive), as for calendars.
    if (mb.contactFolders.some((f) => f.parentFolderId === parentId && f.id !== except && f.displayName.toLowerCase() === name.toLowerCase())) {
      throw new GraphFailure(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
    }
  }

  private createFolder(mb: Mailbox, parentId: string, input: Json): FolderRec {
    const fields = checkProperties(input, new Set(['displayName', 'singleValueExtendedProperties']), new Set(['id', 'parentFolderId']), 'contactFolder');
    if (typeof fields.displayName !== 'string' || fields.displayName.trim() === '') throw new GraphFailure(400, INVALID, 'A contact folder needs a displayName.');
    this.assertFolderNameFree(mb, parentId, fields.displayName);
    const rec: FolderRec = { ...newStored(mb, 'contactFolder'), displayName: fields.displayName, parentFolderId: parentId };
    applyExtendedProperties(rec, fields.singleValueExtendedProperties);
    mb.contactFolders.push(rec);
    return rec;
  }

  private createContact(mb: Mailbox, folderId: string, input: Json): ContactRec {
    const fields = checkProperties(input, CONTACT_WRITABLE, CONTACT_READONLY, 'contact');
    const { singleValueExtendedProperties, ...rest } = fields;
    validateContact(rest);
    const rec: ContactRec = { ...newStored(mb, 'contact'), folderId, fields: rest };
    applyExtendedProperties(rec, singleValueExtendedProperties);
    mb.contacts.push(rec);
    return rec;
  }

  // ----- To Do -----

  private createList(mb: Mailbox, input: Json): ListRec {
    const fields = checkProperties(input, new Set(['displayName']), new Set(['id', 'isOwner', 'isShared', 'wellknownListName']), 'todoTaskList');
    if (typeof fields.displayName !== 'string' || fields.displayName.trim() === '') throw new GraphFailure(400, 'invalidRequest', 'A list needs a displayName.');
    // To Do allows two lists with one name (nothing documents a conflict); kept as To Do does.
    const rec: ListRec = { ...newStored(mb, 'todo'), displayName: fields.displayName, wellknownListName: 'none' };
    mb.lists.push(rec);
    return rec;
  }

  private createTask(mb: Mailbox, list: ListRec, input: Json): TaskRec {
    const fields = checkProperties(input, TASK_WRITABLE, TASK_READONLY, 'todoTask');
    const { checklistItems, linkedResources, extensions, ...rest } = fields;
    if (typeof rest.title !== 'string') throw new GraphFailure(400, 'invalidRequest', 'A task needs a title.');
    const rec: TaskRec = { ...newStored(mb, 'task'), listId: list.id, fields: normaliseTask(rest), checklistItems: [], linkedResources: [], extensions: [] };
    // graph/api/todotasklist-post-tasks: checklistItems and linkedResources may be created with the task.
    for (const item of (checklistItems ?? []) as Json[]) rec.checklistItems.push(newChecklistItem(mb, item));
    for (const item of (linkedResources ?? []) as Json[]) rec.linkedResources.push(newLinkedResource(mb, item));
    for (const item of (extensions ?? []) as Json[]) rec.extensions.push(openExtension(item));
    mb.tasks.push(rec);
    return rec;
  }

  // ----- mailboxes -----

  private userByUpn(upn: string): Mailbox {
    return this.mailboxFor(upn);
  }

  private mailboxFor(upn: string): Mailbox {
    for (const tenant of this.host.config.tenants) {
      const user = tenant.users.find((u) => u.userPrincipalName.toLowerCase() === upn.toLowerCase());
      if (user) return this.mailboxOf(user);
    }
    throw new Error(`no user ${upn}`);
  }

  private mailboxOf(user: MicrosoftUser): Mailbox {
    const uid = userId(user);
    let mb = this.mailboxes.get(uid);
    if (mb) return mb;
    const created = '2026-01-05T09:00:00Z';
    const base = (id: string): Stored => ({ id, version: 0, created, modified: created, ext: new Map() });
    mb = {
      user,
      uid,
      owner: { name: user.displayName ?? user.userPrincipalName, address: user.userPrincipalName },
      counter: 0,
      // The ids the login check has always seen: default first, then the configured ones.
      calendars: ['Calendar', ...(user.calendars ?? [])].map((name, index) => ({ ...base(exchangeId(uid, 'calendar', String(index))), name, color: 'auto', isDefault: index === 0 })),
      events: [],
      occurrences: new Map(),
      defaultContactsId: exchangeId(uid, 'contacts'),
      contactFolders: [],
      contacts: [],
      lists: ['Tasks', ...(user.todoLists ?? [])].map((displayName, index) => ({ ...base(exchangeId(uid, 'todo', String(index))), displayName, wellknownListName: index === 0 ? 'defaultList' : 'none' })),
      tasks: [],
      sent: [],
      log: [],
      recent: [],
    };
    mb.counter = 1000;
    mb.contactFolders = (user.contactFolders ?? []).map((displayName, index) => ({ ...base(exchangeId(uid, 'contactFolder', String(index))), displayName, parentFolderId: mb!.defaultContactsId }));
    mb.contacts = (user.contacts ?? []).map((displayName, index) => ({
      ...base(exchangeId(uid, 'contact', String(index))),
      folderId: mb!.defaultContactsId,
      fields: { displayName, givenName: displayName.split(' ')[0] ?? displayName, surname: displayName.split(' ').slice(1).join(' ') || null, emailAddresses: [] },
    }));
    this.mailboxes.set(uid, mb);
    return mb;
  }
}

interface AdmissionWork {
  request: GraphRequest;
  url: URL;
  mb: Mailbox;
  rest: string;
  key: string;
  finish: (r: GraphResponse) => GraphResponse;
  clientRequestId: string | undefined;
}
type Admission = { done: GraphResponse; work?: undefined } | { done?: undefined; work: AdmissionWork };

// ----- helpers -----------------------------------------------------------------------------

export function userId(user: MicrosoftUser): string {
  return (user.id ?? stableGuid(user.userPrincipalName.toLowerCase())).toLowerCase();
}

function areaOf(rest: string): keyof typeof ROLE_AREAS | undefined {
  const first = rest.split('/')[0]!.toLowerCase();
  if (first === 'calendars' || first === 'calendar' || first === 'events') return 'calendar';
  if (first === 'contactfolders' || first === 'contacts') return 'contacts';
  if (first === 'todo') return 'tasks';
  return undefined;
}

/** What a request touched, for counting requests per item. */
function kindOf(rest: string): string {
  const parts = rest.toLowerCase().split('/');
  if (parts.includes('attachments')) return 'attachment';
  if (parts.includes('instances')) return 'instances';
  if (parts.includes('photo')) return 'photo';
  if (parts.includes('checklistitems')) return 'checklistItem';
  if (parts.includes('linkedresources')) return 'linkedResource';
  if (parts.includes('extensions')) return 'extension';
  if (parts.includes('tasks')) return 'task';
  if (parts[0] === 'todo') return 'taskList';
  if (parts.includes('events')) return 'event';
  if (parts.includes('contacts')) return 'contact';
  if (parts[0] === 'contactfolders') return 'contactFolder';
  return 'calendar';
}

function write(res: ServerResponse, response: GraphResponse): void {
  const headers = { ...response.headers };
  if (response.bytes) {
    res.writeHead(response.status, { ...headers, 'content-length': String(response.bytes.length) });
    res.end(response.bytes);
    return;
  }
  if (response.json === undefined) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(response.json);
  res.writeHead(response.status, { 'content-type': GRAPH_JSON, ...headers, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

const ok = (json: unknown): GraphResponse => ({ status: 200, headers: { 'content-type': GRAPH_JSON, 'odata-version': '4.0' }, json });
const created = (json: unknown): GraphResponse => ({ status: 201, headers: { 'content-type': GRAPH_JSON, 'odata-version': '4.0' }, json });
const noContent = (): GraphResponse => ({ status: 204, headers: {} });
const notAllowed = (): GraphResponse => errorResponse(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.', undefined);
const notFound = () => new GraphFailure(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
const segmentNotFound = (segment: string) => new GraphFailure(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);
const withHeaders = (response: GraphResponse, headers: Record<string, string>): GraphResponse => ({ ...response, headers: { ...response.headers, ...headers } });
const selectOf = (url: URL) => url.searchParams.get('$select')?.split(',').map((s) => s.trim()).filter(Boolean);
const ymd = (l: LocalDateTime): [number, number, number] => [l.year, l.month, l.day];

function parseBody(request: GraphRequest): Json {
  const type = request.headers['content-type'] ?? '';
  if (!type.toLowerCase().includes('application/json')) throw new GraphFailure(415, 'UnsupportedMediaType', 'The request body must be application/json.');
  try {
    const value = JSON.parse(request.body?.toString('utf8') ?? '') as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Json;
  } catch {
    throw new GraphFailure(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
  }
}

interface Zone {
  name: string;
  iana: string;
}

/** Prefer: outlook.timezone="Pacific Standard Time" (graph/api/event-get, "Request headers"). */
function preferredZone(prefer: string | undefined): Zone | undefined {
  const match = /outlook\.timezone\s*=\s*"([^"]+)"/i.exec(prefer ?? '');
  if (!match?.[1]) return undefined;
  const iana = resolveZone(match[1]);
  return iana ? { name: match[1], iana } : undefined;
}

function parseZoned(value: unknown, what: string): { local: LocalDateTime; zone: string; iana: string; ms: number } {
  const { dateTime, timeZone } = (value ?? {}) as Json;
  const local = parseGraphDateTime(dateTime);
  if (!local) throw new GraphFailure(400, 'RequestBodyRead', `Cannot convert the literal '${String(dateTime)}' to the expected type 'Edm.String' for ${what}.dateTime.`);
  const iana = resolveZone(timeZone);
  // The answer Outlook gives for an unknown zone (seen in Graph answers for POST /events).
  if (!iana) throw new GraphFailure(400, 'TimeZoneNotSupportedException', `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${String(timeZone)}'.`);
  return { local, zone: String(timeZone), iana, ms: localToUtc(local, iana) };
}

function parseInstant(value: string | null): number | undefined {
  if (!value) return undefined;
  const withZone = /([zZ]|[+-]\d{2}:?\d{2})$/.test(value) ? value : `${value}Z`;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? undefined : ms;
}

function attendeeAddresses(mb: Mailbox, fields: Json): string[] {
  return ((fields.attendees ?? []) as Json[])
    .map((a) => String((a.emailAddress as Json).address).toLowerCase())
    .filter((address) => address !== mb.owner.address.toLowerCase());
}

/**
 * MS-OXOCAL 2.2.1.27 PidLidGlobalObjectId: a fixed 16-byte class id, then the instance date
 * (year 2 bytes, month, day; zero for the series), creation time, and a unique part. Graph's
 * iCalUId is that id in hex: the master's has a zero date, each occurrence's carries its own
 * original date (event resource: iCalUId "is different for each occurrence in a recurring
 * series"; `uid` is the same for the whole series).
 */
function globalObjectId(id: string): string {
  const unique = Buffer.from(id).toString('hex').slice(0, 32).toUpperCase().padEnd(32, '0');
  return `040000008200E00074C5B7101A82E008000000000000000000000000000000000000000010000000${unique}`;
}

function icalUid(rec: EventRec, occurrenceMs?: number): string {
  if (occurrenceMs === undefined) return rec.goid;
  const local = utcToLocal(occurrenceMs, rec.zone);
  const date = `${local.year.toString(16).padStart(4, '0')}${local.month.toString(16).padStart(2, '0')}${local.day.toString(16).padStart(2, '0')}`.toUpperCase();
  return `${rec.goid.slice(0, 32)}${date}${rec.goid.slice(40)}`;
}

function newStored(mb: Mailbox, kind: string): Stored {
  const now = nowIso();
  return { id: exchangeId(mb.uid, kind, 'new', String(++mb.counter)), version: 0, created: now, modified: now, ext: new Map() };
}

function touch(rec: { version: number; modified: string }): void {
  rec.version++;
  rec.modified = nowIso();
}

function renderCalendar(mb: Mailbox, c: CalendarRec): Json {
  return {
    id: c.id,
    name: c.name,
    color: c.color,
    // calendar resource: hexColor is read-only and empty until a colour is chosen.
    hexColor: CALENDAR_COLORS[c.color] ?? '',
    isDefaultCalendar: c.isDefault,
    changeKey: changeKeyOf(c.id, c.version),
    canShare: true,
    canViewPrivateItems: true,
    canEdit: true,
    allowedOnlineMeetingProviders: ['teamsForBusiness'],
    defaultOnlineMeetingProvider: 'teamsForBusiness',
    isTallyingResponses: true,
    isRemovable: !c.isDefault,
    owner: { name: mb.owner.name, address: mb.owner.address },
  };
}

function renderFolder(f: FolderRec): Json {
  return { id: f.id, displayName: f.displayName, parentFolderId: f.parentFolderId };
}

function renderContact(c: ContactRec): Json {
  const changeKey = changeKeyOf(c.id, c.version);
  const f = c.fields;
  return {
    '@odata.etag': `W/"${changeKey}"`,
    id: c.id,
    createdDateTime: c.created,
    lastModifiedDateTime: c.modified,
    changeKey,
    categories: f.categories ?? [],
    parentFolderId: c.folderId,
    birthday: f.birthday ?? null,
    fileAs: f.fileAs ?? '',
    displayName: f.displayName ?? '',
    givenName: f.givenName ?? null,
    initials: f.initials ?? null,
    middleName: f.middleName ?? null,
    nickName: f.nickName ?? null,
    surname: f.surname ?? null,
    title: f.title ?? null,
    yomiGivenName: f.yomiGivenName ?? null,
    yomiSurname: f.yomiSurname ?? null,
    yomiCompanyName: f.yomiCompanyName ?? null,
    generation: f.generation ?? null,
    imAddresses: f.imAddresses ?? [],
    jobTitle: f.jobTitle ?? null,
    companyName: f.companyName ?? null,
    department: f.department ?? null,
    officeLocation: f.officeLocation ?? null,
    profession: f.profession ?? null,
    businessHomePage: f.businessHomePage ?? null,
    assistantName: f.assistantName ?? null,
    manager: f.manager ?? null,
    homePhones: f.homePhones ?? [],
    mobilePhone: f.mobilePhone ?? null,
    businessPhones: f.businessPhones ?? [],
    spouseName: f.spouseName ?? null,
    personalNotes: f.personalNotes ?? '',
    children: f.children ?? [],
    emailAddresses: f.emailAddresses ?? [],
    homeAddress: f.homeAddress ?? {},
    businessAddress: f.businessAddress ?? {},
    otherAddress: f.otherAddress ?? {},
  };
}

/** contact resource: emailAddresses and imAddresses hold at most three (Exchange's EmailAddress1-3, IM1-3); more is refused (strict; code chosen). */
function validateContact(fields: Json): void {
  for (const name of ['emailAddresses', 'imAddresses'] as const) {
    const value = fields[name];
    if (value === undefined) continue;
    if (!Array.isArray(value)) throw new GraphFailure(400, 'RequestBodyRead', `${name} must be a collection.`);
    if (value.length > 3) throw new GraphFailure(400, 'ErrorInvalidArgument', `A contact holds at most 3 ${name}.`);
  }
  if (fields.birthday !== undefined && fields.birthday !== null && (typeof fields.birthday !== 'string' || Number.isNaN(Date.parse(fields.birthday)))) {
    throw new GraphFailure(400, 'RequestBodyRead', 'birthday must be an ISO 8601 DateTimeOffset.');
  }
}

function renderList(l: ListRec): Json {
  return { '@odata.etag': `W/"${changeKeyOf(l.id, l.version)}"`, displayName: l.displayName, isOwner: true, isShared: false, wellknownListName: l.wellknownListName, id: l.id };
}

const TASK_STATUS = ['notStarted', 'inProgress', 'completed', 'waitingOnOthers', 'deferred'];

/**
 * todoTask resource: importance low/normal/high, status one of five. To Do keeps only the day of
 * dueDateTime and startDateTime (its apps have no hour for them): the hour is dropped, at
 * midnight of the zone the client named (the documentation is silent on the hour; chosen).
 */
function normaliseTask(fields: Json): Json {
  const out = { ...fields };
  if (out.importance !== undefined && !['low', 'normal', 'high'].includes(String(out.importance))) throw new GraphFailure(400, 'invalidRequest', `Invalid importance '${String(out.importance)}'.`);
  if (out.status !== undefined && !TASK_STATUS.includes(String(out.status))) throw new GraphFailure(400, 'invalidRequest', `Invalid status '${String(out.status)}'.`);
  for (const name of ['dueDateTime', 'startDateTime', 'completedDateTime', 'reminderDateTime']) {
    const value = out[name];
    if (value === undefined || value === null) continue;
    const zoned = parseZoned(value, name);
    const dayOnly = name === 'dueDateTime' || name === 'startDateTime';
    out[name] = { dateTime: formatGraphDateTime(dayOnly ? { ...zoned.local, hour: 0, minute: 0, second: 0 } : zoned.local), timeZone: zoned.zone };
  }
  if (out.recurrence !== undefined && out.recurrence !== null) {
    const check = checkRecurrence(out.recurrence, 'UTC');
    if (!check.ok) throw new GraphFailure(400, 'invalidRequest', check.message);
    out.recurrence = check.recurrence;
  }
  return out;
}

function renderTask(t: TaskRec): Json {
  const f = t.fields;
  return {
    '@odata.etag': `W/"${changeKeyOf(t.id, t.version)}"`,
    importance: f.importance ?? 'normal',
    isReminderOn: f.isReminderOn ?? false,
    status: f.status ?? 'notStarted',
    title: f.title,
    createdDateTime: t.created,
    lastModifiedDateTime: t.modified,
    hasAttachments: false,
    categories: f.categories ?? [],
    id: t.id,
    body: f.body ?? { content: '', contentType: 'text' },
    ...(f.dueDateTime ? { dueDateTime: f.dueDateTime } : {}),
    ...(f.startDateTime ? { startDateTime: f.startDateTime } : {}),
    ...(f.completedDateTime ? { completedDateTime: f.completedDateTime } : {}),
    ...(f.reminderDateTime ? { reminderDateTime: f.reminderDateTime } : {}),
    ...(f.recurrence ? { recurrence: f.recurrence } : {}),
  };
}

function expandTask(item: Json, task: TaskRec, url: URL): Json {
  const out = { ...item };
  for (const e of parseExpand(url.searchParams.get('$expand'))) {
    if (e.name === 'checklistItems') out.checklistItems = task.checklistItems.map(renderChecklistItem);
    else if (e.name === 'linkedResources') out.linkedResources = task.linkedResources.map(renderLinkedResource);
    else if (e.name === 'extensions') {
      const ids = e.filter ? expandIds(e.filter, e.name) : undefined;
      out.extensions = task.extensions.filter((x) => !ids || ids.has(String(x.id).toLowerCase()));
    } else {
      // todoTask has no singleValueExtendedProperties (the todoTask page lists open extensions only).
      throw new GraphFailure(400, 'BadRequest', `Could not find a property named '${e.name}' on type 'microsoft.graph.todoTask'.`);
    }
  }
  return out;
}

function newChecklistItem(mb: Mailbox, input: Json): Stored & { fields: Json } {
  const fields = checkProperties(input, new Set(['displayName', 'isChecked', 'checkedDateTime']), new Set(['id', 'createdDateTime']), 'checklistItem');
  if (typeof fields.displayName !== 'string') throw new GraphFailure(400, 'invalidRequest', 'A checklist item needs a displayName.');
  return { ...newStored(mb, 'checklistItem'), fields: { isChecked: false, ...fields } };
}

function renderChecklistItem(item: Stored & { fields: Json }): Json {
  return { displayName: item.fields.displayName, createdDateTime: item.created, isChecked: item.fields.isChecked === true, ...(item.fields.checkedDateTime ? { checkedDateTime: item.fields.checkedDateTime } : {}), id: item.id };
}

/** linkedResource: applicationName and displayName are required on create (graph/api/todotask-post-linkedresources). */
function newLinkedResource(mb: Mailbox, input: Json): Stored & { fields: Json } {
  const fields = checkProperties(input, new Set(['webUrl', 'applicationName', 'displayName', 'externalId']), new Set(['id']), 'linkedResource');
  if (typeof fields.applicationName !== 'string' || typeof fields.displayName !== 'string') throw new GraphFailure(400, 'invalidRequest', 'A linkedResource needs applicationName and displayName.');
  return { ...newStored(mb, 'linkedResource'), fields };
}

function renderLinkedResource(item: Stored & { fields: Json }): Json {
  return { id: item.id, webUrl: item.fields.webUrl ?? null, applicationName: item.fields.applicationName, displayName: item.fields.displayName, externalId: item.fields.externalId ?? null };
}

/** graph/api/opentypeextension-post-opentypeextension: @odata.type openTypeExtension and an extensionName. */
function openExtension(input: Json): Json {
  const type = String(input['@odata.type'] ?? '').replace(/^#/, '');
  if (type !== 'microsoft.graph.openTypeExtension' || typeof input.extensionName !== 'string') throw new GraphFailure(400, 'invalidRequest', 'An open extension needs @odata.type microsoft.graph.openTypeExtension and extensionName.');
  return { ...input, '@odata.type': '#microsoft.graph.openTypeExtension', id: input.extensionName };
}

function renderAttachment(a: AttachmentRec): Json {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    id: a.id,
    lastModifiedDateTime: a.modified,
    name: a.name,
    contentType: a.contentType,
    size: a.bytes.length,
    isInline: a.isInline,
    contentId: a.contentId,
    contentLocation: null,
    contentBytes: a.bytes.toString('base64'),
  };
}
