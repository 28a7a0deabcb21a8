/**
 * One Microsoft 365 mailbox as a groupware target, through Microsoft Graph v1.0 with the
 * organization's app token. It is also the source (GraphSource): the copy reads back what it
 * wrote, by the source UID each item keeps.
 *
 * - Collections: POST calendars (with the Outlook colour nearest to the source's, when one is
 *   near), contactFolders, todo/lists. Exchange folder names are unique: a name Graph refuses as
 *   taken (409 ErrorFolderExists) gets " (2)", " (3)", ...
 * - Events: POST with a transactionId that is the same for the item on every run (Graph answers a
 *   repeated POST with the event it made the first time, "to avoid redundant POST operations in
 *   case of client retries", graph/api/resources/event), then the overridden instances (the
 *   occurrence found through `instances`, PATCHed), the cancelled occurrences (DELETEd) and the
 *   files, in $batch requests. A meeting is written WITHOUT attendees: Graph has no documented way
 *   to create an event with attendees and send nothing, and its organizer is read-only. The
 *   attendees and the organizer go into the event's text and into an extended property the
 *   source reads them back from (meeting.ts); the item reports them as kept in another form.
 * - Contacts: POST (+ photo PUT photo/$value); a contact group cannot be one and is refused
 *   with the mapping's reason. Tasks: one POST with their checklist items and links.
 * - Every item keeps its source UID: SOURCE_UID_PROPERTY on events and contacts, the open
 *   extension TASK_SOURCE_EXTENSION on tasks (todoTask has no extended properties). A contact or
 *   task POST whose connection dropped is not sent again blindly: the item is looked up by its
 *   source UID first, and sent once more only when it is not there.
 * - Changes: the item is deleted (If-Match: its change key; 412 is a conflict) and written again
 *   under a new id, so overridden instances, checklists and photos are exactly the source's. The
 *   events written here have no attendees: deleting one sends nothing. An event with attendees
 *   (made on Microsoft 365, with the source's UID) is never deleted or changed: it is refused.
 * - The requests of the items the copy writes at once go together in $batch requests (graph/
 *   json-batching); the mailbox's 4 concurrent requests hold as for every other request.
 */
import { createHash } from 'node:crypto';
import { odataPage } from '@/server/accounts/m365/http';
import { ConnectorError } from '@/server/accounts/types';
import { itemUid, ItemFormatError } from '../items';
import type { GroupwareCollection, GroupwareTarget, NotMappedNote, WriteResult } from '../model';
import { vcardToGraphContact } from './contacts';
import { icalendarToGraphEvent, parseCalendar } from './events';
import { EXPAND_TASK_SOURCE, GraphSource, itemsPath, SOURCE_UID_PROPERTY, TASK_SOURCE_EXTENSION, taskSourceUidOf, versionOf } from './graph-endpoint';
import { MAX_BATCH, type BatchRequest, type GraphAnswer } from './graph-http';
import { keptMeetingValue, MEETING_PROPERTY, meetingLines, withMeetingBlock, type KeptMeeting } from './meeting';
import { icalendarToGraphTask } from './tasks';

export type { GraphConnection } from './graph-http';

type Json = Record<string, unknown>;

const PLACEHOLDER = 'new:';
const DAY_MS = 86_400_000;
/** graph/api/event-post-attachments: a file of up to 3 MB is attached with one POST; larger ones need an upload session. */
const MAX_ATTACHMENT_BYTES = 3 * 1024 * 1024;
/** Files up to this size travel inside a $batch; larger ones alone. */
const BATCHED_ATTACHMENT_BYTES = 256 * 1024;
const MAX_NAME_TRIES = 50;

export const ATTENDEE_NOTE: NotMappedNote = { component: 'VEVENT', property: 'ATTENDEE', reason: "kept in the event's text: Microsoft 365 would send invitations" };
export const ORGANIZER_NOTE: NotMappedNote = { component: 'VEVENT', property: 'ORGANIZER', reason: "kept in the event's text: Microsoft 365 makes the mailbox's owner the organizer, and would send invitations" };

/** graph/api/resources/calendar, calendarColor, with the colours Outlook shows for them. */
const CALENDAR_COLORS: [string, [number, number, number]][] = [
  ['lightBlue', [0xa6, 0xd1, 0xf5]],
  ['lightGreen', [0x87, 0xd2, 0x8e]],
  ['lightOrange', [0xfc, 0xab, 0x73]],
  ['lightGray', [0xc0, 0xc0, 0xc0]],
  ['lightYellow', [0xf4, 0xee, 0x8b]],
  ['lightTeal', [0x8b, 0xe4, 0xdf]],
  ['lightPink', [0xf4, 0xa6, 0xd8]],
  ['lightBrown', [0xdf, 0xc0, 0x9e]],
  ['lightRed', [0xf4, 0x9c, 0x9c]],
];
// Outlook's colours are pale; a colour is matched by its hue (a dark red is still red). Farther than this from every hue: Outlook chooses (auto).
const MAX_HUE_DISTANCE = 30;
const GRAY_SATURATION = 0.15;

function hsl([r, g, b]: number[]): { hue: number; saturation: number } {
  const [rn, gn, bn] = [r! / 255, g! / 255, b! / 255];
  const max = Math.max(rn, gn, bn);
  const min = Math.min(rn, gn, bn);
  const lightness = (max + min) / 2;
  const delta = max - min;
  if (delta === 0) return { hue: 0, saturation: 0 };
  const saturation = delta / (1 - Math.abs(2 * lightness - 1));
  const hue = max === rn ? ((gn - bn) / delta + 6) % 6 : max === gn ? (bn - rn) / delta + 2 : (rn - gn) / delta + 4;
  return { hue: hue * 60, saturation };
}

/** The Outlook calendar colour nearest to a #rrggbb colour, or auto. */
export function calendarColorOf(hex: string | null): string {
  const match = hex ? /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(hex) : null;
  if (!match) return 'auto';
  const own = hsl([match[1], match[2], match[3]].map((h) => parseInt(h!, 16)));
  if (own.saturation < GRAY_SATURATION) return 'lightGray';
  let best = 'auto';
  let bestScore = Number.POSITIVE_INFINITY;
  for (const [name, rgb] of CALENDAR_COLORS) {
    const color = hsl(rgb);
    if (color.saturation < GRAY_SATURATION) continue;
    const hueDistance = Math.min(Math.abs(color.hue - own.hue), 360 - Math.abs(color.hue - own.hue));
    if (hueDistance > MAX_HUE_DISTANCE) continue;
    const score = hueDistance + 60 * Math.abs(color.saturation - own.saturation);
    if (score < bestScore) {
      best = name;
      bestScore = score;
    }
  }
  return best;
}

/** What Graph sets itself when an item is written, and gives back with it. */
const SET_BY_GRAPH: Record<'VEVENT' | 'VTODO' | 'VCARD', NotMappedNote[]> = {
  VEVENT: ['CREATED', 'LAST-MODIFIED'].map((property) => ({ component: 'VEVENT', property, reason: 'Microsoft 365 sets it when the event is written' })),
  VTODO: ['CREATED', 'LAST-MODIFIED'].map((property) => ({ component: 'VTODO', property, reason: 'Microsoft To Do sets it when the task is written' })),
  VCARD: [{ component: 'VCARD', property: 'REV', reason: 'Microsoft 365 sets it when the contact is written' }],
};

/**
 * A mapping note line ("VEVENT RRULE: why", "VCARD TEL TYPE=fax: why", "VALARM *: why") as the
 * copy reports it. Both what Graph cannot hold and what it holds in another form (DURATION as an
 * end time) are reported: the item read back differs from the source there.
 */
export function noteOf(line: string): NotMappedNote {
  const colon = line.indexOf(': ');
  const head = colon >= 0 ? line.slice(0, colon) : line;
  let reason = colon >= 0 ? line.slice(colon + 2) : 'Microsoft 365 does not keep it as it is';
  const [component = 'VCALENDAR', what = '*'] = head.split(' ');
  // "63%: Microsoft To Do has no progress figure": the item's own value leads some reasons; a
  // report says what was not kept, not what it was (NotMappedNote), and one loss is one row.
  reason = reason.replace(/^[^\s:]{1,40}: (?=\S)/, '');
  const property = what === '*' ? null : what.replace(/[;=(].*$/, '').toUpperCase() || null;
  return { component: component.replace(/\[.*$/, '').toUpperCase(), property, reason };
}

function notesOf(lines: string[], extra: NotMappedNote[] = []): NotMappedNote[] {
  const out: NotMappedNote[] = [];
  const seen = new Set<string>();
  for (const note of [...lines.map(noteOf), ...extra]) {
    const key = `${note.component} ${note.property ?? '*'} ${note.reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(note);
  }
  return out;
}

/** A GUID-shaped id from parts: the same for the same parts on every run. */
function stableId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\n')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const without = <T extends object>(o: T, ...keys: string[]): Json => Object.fromEntries(Object.entries(o).filter(([k, v]) => !keys.includes(k) && v !== undefined));
const quoted = (value: string) => `'${value.replace(/'/g, "''")}'`;
const etagOf = (version: string) => (version.startsWith('W/') || version.startsWith('"') ? version : `W/"${version}"`);
const isCreated = (answer: GraphAnswer) => answer.status === 200 || answer.status === 201;

class Refused extends Error {}

interface Queued {
  request: Omit<BatchRequest, 'id'>;
  what: string;
  resolve: (answer: GraphAnswer) => void;
  reject: (error: unknown) => void;
}

export class GraphEndpoint extends GraphSource implements GroupwareTarget {
  private queue: Queued[] = [];
  /** HTTP requests sent to Graph (a $batch is one). */
  get requestCount(): number {
    return this.client.requestCount;
  }

  /** Requests carried inside $batch requests. */
  get subRequestCount(): number {
    return this.client.subRequestCount;
  }

  /**
   * One request of an item's write. The copy writes several items at once, and their requests
   * made in the same turn of the event loop go to Graph together in one $batch (one alone goes
   * as it is): fewer round trips, the same requests for the mailbox.
   */
  private submit(request: Omit<BatchRequest, 'id'>, what: string): Promise<GraphAnswer> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, what, resolve, reject });
      if (this.queue.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const taken = this.queue.splice(0, MAX_BATCH);
    if (this.queue.length > 0) setImmediate(() => void this.flush());
    try {
      if (taken.length === 1) {
        const { request, what } = taken[0]!;
        const method = request.method ?? 'GET';
        const answer =
          method === 'GET'
            ? await this.client.get(request.path, what, request.headers)
            : await this.client.write(method, request.path, what, { json: request.body, bytes: request.bytes, contentType: request.contentType, headers: request.headers });
        taken[0]!.resolve(answer);
        return;
      }
      const answers = await this.client.batch(
        taken.map((t, n) => ({ ...t.request, id: String(n) })),
        `${taken.length} requests of items`,
      );
      taken.forEach((t, n) => t.resolve(answers.get(String(n))!));
    } catch (error) {
      // A dropped batch: none of its requests knows whether Graph carried it out.
      for (const t of taken) t.reject(error);
    }
  }

  async isScheduling(): Promise<boolean> {
    // Graph schedules, but the events written here carry no attendees: nothing to keep from being sent.
    return false;
  }

  async vcardVersions(): Promise<string[]> {
    // The mapping reads vCard 3 and 4.
    return [];
  }

  async create(spec: Omit<GroupwareCollection, 'id' | 'isDefault'>): Promise<GroupwareCollection> {
    const fallback = { calendar: 'Calendar', contacts: 'Contacts', tasks: 'Tasks' }[spec.kind];
    const base = spec.displayName.trim() || fallback;
    const what = `a new ${spec.kind === 'calendar' ? 'calendar' : spec.kind === 'contacts' ? 'contact folder' : 'task list'}`;
    let id: string | null = null;
    for (let n = 1; n <= MAX_NAME_TRIES && id === null; n++) {
      const name = n === 1 ? base : `${base} (${n})`;
      const [path, json, prefix] =
        spec.kind === 'calendar'
          ? ['calendars', { name, color: calendarColorOf(spec.color) }, 'calendars/']
          : spec.kind === 'contacts'
            ? ['contactFolders', { displayName: name }, 'contactFolders/']
            : ['todo/lists', { displayName: name }, 'todo/lists/'];
      const answer = await this.client.write('POST', path, what, { json });
      if (isCreated(answer) && typeof (answer.json as Json | undefined)?.id === 'string') id = `${prefix}${(answer.json as Json).id as string}`;
      else if (answer.status === 409 || errorCode(answer) === 'ErrorFolderExists') continue;
      else throw this.client.failure(answer, what);
    }
    if (id === null) throw new ConnectorError('protocol_error', `Graph ${what} of ${this.client.user}: "${base}" and ${MAX_NAME_TRIES - 1} variants of it are all taken`);
    const listed = (await this.collections()).find((c) => c.id === id);
    if (listed) return listed;
    return { ...spec, id, isDefault: false, components: spec.kind === 'calendar' ? ['VEVENT'] : spec.kind === 'tasks' ? ['VTODO'] : [] };
  }

  itemId(_collection: GroupwareCollection, identity: string): string {
    return `${PLACEHOLDER}${identity}`;
  }

  async write(collection: GroupwareCollection, id: string, data: string, condition: { create: true } | { version: string | null }): Promise<WriteResult> {
    try {
      if ('create' in condition) {
        const identity = id.startsWith(PLACEHOLDER) ? id.slice(PLACEHOLDER.length) : id;
        return await this.createItem(collection, identity, data, [collection.id, identity]);
      }
      // What cannot be written is refused before the copy there is deleted.
      if (collection.kind === 'calendar') icalendarToGraphEvent(data);
      else if (collection.kind === 'tasks') icalendarToGraphTask(data);
      else if (!vcardToGraphContact(data).contact) throw new Refused(vcardToGraphContact(data).notMapped.map((l) => noteOf(l).reason).join('; '));
      const removed = await this.remove(collection, id, condition.version);
      if (removed) return removed;
      const identity = uidOf(data) ?? id;
      // A new transactionId: the event written before is gone, and this is another one.
      return await this.createItem(collection, identity, data, [collection.id, identity, id, createHash('sha256').update(data).digest('hex')]);
    } catch (error) {
      if (error instanceof ItemFormatError || error instanceof Refused) return { ok: false, isConflict: false, reason: error.message };
      throw error;
    }
  }

  /** Deletes an item as it was at `version`; a failed result, or null when it is gone. */
  private async remove(collection: GroupwareCollection, id: string, version: string | null): Promise<WriteResult | null> {
    const headers: Record<string, string> = version ? { 'if-match': etagOf(version) } : {};
    if (collection.kind === 'calendar') {
      // An event with attendees was not written here (the target writes none): one that has the
      // source's UID already (a meeting made in Outlook, an invitation received) would tell its
      // attendees when deleted or changed. It is left as it is.
      const there = await this.submit({ path: `${itemsPath(collection)}/${encodeURIComponent(id)}?$select=attendees` }, `an event of "${collection.displayName}"`);
      const attendees = (there.json as { attendees?: unknown } | undefined)?.attendees;
      if (there.status === 200 && Array.isArray(attendees) && attendees.length > 0) {
        return { ok: false, isConflict: false, reason: 'an event with attendees is on Microsoft 365 with this UID already; changing it would notify them, so it is left as it is' };
      }
    }
    const answer = await this.submit({ method: 'DELETE', path: `${itemsPath(collection)}/${encodeURIComponent(id)}`, headers }, `an item of "${collection.displayName}"`);
    if (answer.status === 204 || answer.status === 200 || answer.status === 404) return null;
    // 412: If-Match did not match; Exchange says ErrorIrresolvableConflict (409) for a stale change key.
    if (answer.status === 412 || (answer.status === 409 && errorCode(answer) === 'ErrorIrresolvableConflict')) {
      return { ok: false, isConflict: true, reason: 'the item was changed on Microsoft 365 since it was read' };
    }
    return { ok: false, isConflict: false, reason: this.client.failure(answer, `an item of "${collection.displayName}"`).detail };
  }

  private createItem(collection: GroupwareCollection, identity: string, data: string, transaction: string[]): Promise<WriteResult> {
    if (collection.kind === 'calendar') return this.createEvent(collection, identity, data, stableId(...transaction));
    if (collection.kind === 'contacts') return this.createContact(collection, identity, data);
    return this.createTask(collection, identity, data);
  }

  private async createEvent(collection: GroupwareCollection, identity: string, data: string, transactionId: string): Promise<WriteResult> {
    const mapping = icalendarToGraphEvent(data);
    const uid = mapping.uid ?? identity;
    const what = `an event of "${collection.displayName}"`;

    // The people of the series and of each overridden instance (in the mapping's order).
    const events = parseCalendar(data).getAllSubcomponents('vevent');
    const masterEvent = events.find((e) => !e.getFirstProperty('recurrence-id')) ?? events[0]!;
    const overridden = mapping.master.recurrence ? events.filter((e) => e !== masterEvent && e.getFirstProperty('recurrence-id')) : [];
    const kept: KeptMeeting = { version: 1, lines: meetingLines(masterEvent), instances: {} };
    mapping.exceptions.forEach((exception, n) => {
      const lines = overridden[n] ? meetingLines(overridden[n]) : [];
      if (lines.length > 0) kept.instances[exception.originalStart] = lines;
    });
    const allLines = [kept.lines, ...Object.values(kept.instances)].flat();
    const extra: NotMappedNote[] = [];
    if (allLines.some((l) => /^ATTENDEE[;:]/i.test(l))) extra.push(ATTENDEE_NOTE);
    if (allLines.some((l) => /^ORGANIZER[;:]/i.test(l))) extra.push(ORGANIZER_NOTE);
    // The people's lines are kept as they are: what the mapping says of their parameters no longer holds.
    const lines = [...mapping.notMapped, ...mapping.rewritten].filter((l) => !/^VEVENT (ATTENDEE|ORGANIZER)\b/.test(l));
    extra.push(...SET_BY_GRAPH.VEVENT);

    const eventJson = {
      ...without(mapping.master, 'attendees', 'organizer', 'iCalUId', 'attachments', 'responseRequested'),
      body: withMeetingBlock(mapping.master.body, kept.lines),
      transactionId,
      singleValueExtendedProperties: [
        { id: SOURCE_UID_PROPERTY, value: uid },
        { id: MEETING_PROPERTY, value: keptMeetingValue(kept) },
      ],
    };
    const path = itemsPath(collection);
    // The transactionId makes a second POST safe: Graph answers it with the event of the first.
    const post = () => this.submit({ method: 'POST', path, body: eventJson }, what);
    const created = await post().catch(async (error: unknown) => {
      if (!this.isUnknownOutcome(error)) throw error;
      return post();
    });
    if (!isCreated(created)) throw new Refused(this.client.failure(created, what).detail);
    const event = created.json as Json;
    const eventId = event.id as string;
    const eventPath = `${path}/${encodeURIComponent(eventId)}`;
    let version = versionOf(event);

    const requests: BatchRequest[] = [];
    if (mapping.exceptions.length > 0 || mapping.cancelled.length > 0) {
      const starts = [...mapping.exceptions.map((e) => e.originalStart), ...mapping.cancelled].map((s) => Date.parse(s));
      const window = `startDateTime=${new Date(Math.min(...starts) - 2 * DAY_MS).toISOString()}&endDateTime=${new Date(Math.max(...starts) + 2 * DAY_MS).toISOString()}`;
      const listed = await this.submit({ path: `${eventPath}/instances?${window}&$select=id,originalStart,type&$top=1000` }, `occurrences of ${what}`);
      if (listed.status !== 200) throw new Refused(this.client.failure(listed, `occurrences of ${what}`).detail);
      const page = odataPage(listed.json, `Graph occurrences of ${what}`);
      const occurrences = page.nextLink ? [...page.value, ...(await this.client.all(page.nextLink, `occurrences of ${what}`))] : page.value;
      const byStart = new Map(occurrences.filter((o) => typeof o.originalStart === 'string').map((o) => [Date.parse(o.originalStart as string), o.id as string]));
      mapping.exceptions.forEach((exception, n) => {
        const occurrence = byStart.get(Date.parse(exception.originalStart));
        if (!occurrence) {
          extra.push({ component: 'VEVENT', property: 'RECURRENCE-ID', reason: 'an overridden instance on a date the series has no occurrence on: Microsoft 365 overrides occurrences only' });
          return;
        }
        if (exception.patch.attachments.length > 0) extra.push({ component: 'VEVENT', property: 'ATTACH', reason: 'a file of one occurrence: Microsoft 365 keeps files with the series' });
        const patch = {
          ...without(exception.patch, 'attendees', 'organizer', 'iCalUId', 'attachments', 'responseRequested', 'recurrence'),
          body: withMeetingBlock(exception.patch.body, kept.instances[exception.originalStart] ?? []),
        };
        requests.push({ id: `x${n}`, method: 'PATCH', path: `${path}/${encodeURIComponent(occurrence)}`, body: patch });
      });
      mapping.cancelled.forEach((start, n) => {
        const occurrence = byStart.get(Date.parse(start));
        // Not there: not on the pattern, or deleted by an earlier try of this write.
        if (occurrence) requests.push({ id: `c${n}`, method: 'DELETE', path: `${path}/${encodeURIComponent(occurrence)}` });
      });
    }

    const files = mapping.master.attachments;
    if (files.length > 0) {
      // An event a retried POST gave back may hold its files already.
      const there = event.hasAttachments === true ? new Set((await this.client.all(`${eventPath}/attachments?$select=name`, `files of ${what}`)).map((a) => String(a.name))) : new Set<string>();
      const alone: typeof files = [];
      files.forEach((file, n) => {
        if (there.has(file.name)) return;
        const size = Math.floor((file.contentBytes.length * 3) / 4);
        if (size > MAX_ATTACHMENT_BYTES) extra.push({ component: 'VEVENT', property: 'ATTACH', reason: 'a file larger than 3 MB: not attached' });
        else if (size > BATCHED_ATTACHMENT_BYTES) alone.push(file);
        else requests.push({ id: `a${n}`, method: 'POST', path: `${eventPath}/attachments`, body: file });
      });
      for (const file of alone) {
        const answer = await this.client.write('POST', `${eventPath}/attachments`, `a file of ${what}`, { json: file });
        if (!isCreated(answer)) throw new Refused(this.client.failure(answer, `a file of ${what}`).detail);
        version = null;
      }
    }
    if (requests.length > 0) {
      const answers = await Promise.all(requests.map(({ id: _id, ...request }) => this.submit(request, `occurrences and files of ${what}`)));
      for (const [n, request] of requests.entries()) {
        const answer = answers[n]!;
        if (answer.status >= 400 && !(request.method === 'DELETE' && answer.status === 404)) throw new Refused(this.client.failure(answer, `occurrences and files of ${what}`).detail);
      }
      // The series changed after the POST: its change key is not the one the POST gave.
      version = null;
    }
    return { ok: true, id: eventId, version, notMapped: notesOf(lines, extra) };
  }

  private async createContact(collection: GroupwareCollection, identity: string, data: string): Promise<WriteResult> {
    const mapping = vcardToGraphContact(data);
    if (!mapping.contact) throw new Refused(mapping.notMapped.map((l) => noteOf(l).reason).join('; ') || 'Microsoft 365 has no place for it');
    const uid = mapping.uid ?? identity;
    const what = `a contact of "${collection.displayName}"`;
    const path = itemsPath(collection);
    const json = { ...without(mapping.contact, 'createdDateTime', 'lastModifiedDateTime'), singleValueExtendedProperties: [{ id: SOURCE_UID_PROPERTY, value: uid }] };
    const filter = `singleValueExtendedProperties/any(ep: ep/id eq ${quoted(SOURCE_UID_PROPERTY)} and ep/value eq ${quoted(uid)})`;
    const contact = await this.postOnce(path, what, json, async () => {
      const found = await this.client.all(`${path}?$filter=${encodeURIComponent(filter)}&$select=id,changeKey`, what);
      return found[0] ?? null;
    });
    const contactId = contact.id as string;
    let version = versionOf(contact);
    const extra: NotMappedNote[] = [];
    if (mapping.photo) {
      const answer = await this.submit({ method: 'PUT', path: `${path}/${encodeURIComponent(contactId)}/photo/$value`, bytes: mapping.photo.bytes, contentType: mapping.photo.contentType }, `the photo of ${what}`);
      if (answer.status >= 400) extra.push({ component: 'VCARD', property: 'PHOTO', reason: `Microsoft 365 refused the picture (${errorCode(answer) ?? `HTTP ${answer.status}`})` });
      version = null;
    }
    return { ok: true, id: contactId, version, notMapped: notesOf([...mapping.notMapped, ...mapping.rewritten], [...extra, ...SET_BY_GRAPH.VCARD]) };
  }

  private async createTask(collection: GroupwareCollection, identity: string, data: string): Promise<WriteResult> {
    const mapping = icalendarToGraphTask(data);
    const uid = mapping.uid ?? identity;
    const what = `a task of "${collection.displayName}"`;
    const path = itemsPath(collection);
    // graph/api/todotasklist-post-tasks: checklist items, links and open extensions are made with the task, in one request.
    const json = {
      ...without(mapping.task, 'createdDateTime', 'lastModifiedDateTime', 'checklistItems', 'linkedResources'),
      ...(mapping.task.checklistItems.length > 0 ? { checklistItems: mapping.task.checklistItems } : {}),
      ...(mapping.task.linkedResources.length > 0
        ? { linkedResources: mapping.task.linkedResources.map((l) => ({ webUrl: l.webUrl, applicationName: l.applicationName ?? 'Mailferry', displayName: l.displayName ?? l.webUrl })) }
        : {}),
      extensions: [{ '@odata.type': 'microsoft.graph.openTypeExtension', extensionName: TASK_SOURCE_EXTENSION, uid }],
    };
    const task = await this.postOnce(path, what, json, async () => {
      const found = await this.client.all(`${path}?$expand=${EXPAND_TASK_SOURCE}`, what);
      return found.find((t) => taskSourceUidOf(t) === uid) ?? null;
    });
    return { ok: true, id: task.id as string, version: versionOf(task), notMapped: notesOf([...mapping.notMapped, ...mapping.rewritten], SET_BY_GRAPH.VTODO) };
  }

  /**
   * A POST that Graph cannot recognise when repeated: after a dropped connection the item is
   * looked for first, and sent again once only when it is not there.
   */
  private async postOnce(path: string, what: string, json: Json, find: () => Promise<Json | null>): Promise<Json> {
    let answer: GraphAnswer;
    try {
      answer = await this.submit({ method: 'POST', path, body: json }, what);
    } catch (error) {
      if (!this.isUnknownOutcome(error)) throw error;
      const found = await find();
      if (found) return found;
      answer = await this.submit({ method: 'POST', path, body: json }, what);
    }
    if (!isCreated(answer) || typeof (answer.json as Json | undefined)?.id !== 'string') throw new Refused(this.client.failure(answer, what).detail);
    return answer.json as Json;
  }

  /** A failure after which Graph may or may not have carried the request out. */
  private isUnknownOutcome(error: unknown): boolean {
    if (!(error instanceof ConnectorError)) return false;
    if (this.connection.signal?.aborted) return false;
    return !['not_configured', 'rate_limited', 'groupware_not_found'].includes(error.reason);
  }
}

function errorCode(answer: GraphAnswer): string | null {
  const code = (answer.json as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? code : null;
}

function uidOf(data: string): string | null {
  try {
    return itemUid(data);
  } catch {
    return null;
  }
}
