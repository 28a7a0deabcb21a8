/**
 * One Microsoft 365 mailbox as a groupware source, through Microsoft Graph v1.0 with the
 * organization's app token: its calendars, contact folders (the default one and every folder
 * below it) and To Do lists, their items listed by id and change key, and each item read whole
 * and mapped to iCalendar / vCard (events.ts, contacts.ts, tasks.ts; the table of what maps is
 * mapping-table.ts).
 *
 * - A calendar lists single events and series masters only (graph/api/user-list-events); a
 *   series is read with its exceptions ($expand=exceptionOccurrences) and its cancelled
 *   occurrences, which Graph v1.0 does not list: they are the occurrences of the pattern that
 *   `instances` leaves out (graph/api/event-list-instances: "cancelled occurrences are not
 *   returned"). A series without end is looked at up to two years from now (or from its start,
 *   when that is later); a cancellation after that is not seen.
 * - A contact is read with its photo (GET photo/$value; 404: no photo), a task with its
 *   checklist items and linked resources, both through $batch.
 * - Bodies are asked for as text (Prefer: outlook.body-content-type="text").
 * - Graph gives contacts and tasks no UID: an item the target step wrote keeps its source UID
 *   in SOURCE_UID_PROPERTY (events and contacts) or TASK_SOURCE_EXTENSION (tasks); otherwise
 *   the UID is derived from the item id, so it is the same on every run.
 * - A meeting the target wrote without its attendees (meeting.ts) gets its organizer and
 *   attendees back from MEETING_PROPERTY, and its text without the block that names them.
 */
import { createHash } from 'node:crypto';
import ICAL from 'ical.js';
import { ConnectorError } from '@/server/accounts/types';
import type { GroupwareCollection, GroupwareKind, GroupwareSource, ItemRef } from '../model';
import { graphContactToVcard } from './contacts';
import { graphEventToICalendar } from './events';
import { MEETING_PROPERTY, parseKeptMeeting } from './meeting';
import { GraphClient, MAX_BATCH, type BatchRequest, type GraphAnswer, type GraphConnection } from './graph-http';
import type { GraphContact, GraphEvent, GraphPhoto, GraphTodoTask } from './graph-types';
import { graphToRrule } from './recurrence';
import { graphTaskToICalendar } from './tasks';
import { databaseZone, ianaOfGraphZone, inZone, instantOf, localIn, parseGraphDateTime, utcString, type LocalFields } from './times';

export type { GraphConnection } from './graph-http';

/**
 * A single-value extended property (a named MAPI string) holding the UID an item had on its
 * source. The property set is the one the Exchange (EWS) target uses, so an item written over
 * EWS is found over Graph in the same mailbox, and the other way round.
 */
export const SOURCE_UID_PROPERTY = 'String {5c0e5a3e-8a57-4c1d-9f0b-6b4f5e1d2a90} Name SourceUid';

/**
 * todoTask has no extended properties, only open extensions (graph/api/resources/todotask,
 * graph/api/opentypeextension-post-opentypeextension): a task the target wrote keeps its source
 * UID in this one, as `uid`.
 */
export const TASK_SOURCE_EXTENSION = 'com.mailferry.source';

/** Id of the default contacts folder: its contacts are at /users/{user}/contacts, and no folder id names it. */
const DEFAULT_CONTACTS = 'contacts';
const PAGE = '$top=100';
const TEXT_BODY = { prefer: 'outlook.body-content-type="text"' };
export const EXPAND_SOURCE_UID = `singleValueExtendedProperties($filter=id eq '${SOURCE_UID_PROPERTY}')`;
const EXPAND_EVENT_PROPERTIES = `singleValueExtendedProperties($filter=id eq '${SOURCE_UID_PROPERTY}' or id eq '${MEETING_PROPERTY}')`;
export const EXPAND_TASK_SOURCE = `extensions($filter=id eq '${TASK_SOURCE_EXTENSION}')`;
// Contact folders nest; deeper than this is a loop or a server mistake.
const MAX_FOLDER_DEPTH = 10;
const NO_END_YEARS = 2;
const MAX_OCCURRENCES = 20_000;

type Json = Record<string, unknown>;

function slugOf(name: string, taken: Set<string>): string {
  const base =
    name
      .normalize('NFKD')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-.]+|-+$/g, '')
      .toLowerCase()
      .slice(0, 60) || 'collection';
  let slug = base;
  for (let n = 2; taken.has(slug); n++) slug = `${base}-${n}`;
  taken.add(slug);
  return slug;
}

/** A UUID from an item id: the same for the item on every run, different for every item. */
function derivedUid(kind: string, id: string): string {
  const hex = createHash('sha256').update(`${kind}:${id}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function extendedProperty(item: Json, id: string): string | null {
  const props = item.singleValueExtendedProperties;
  if (!Array.isArray(props)) return null;
  const found = (props as Json[]).find((p) => typeof p?.id === 'string' && p.id.toLowerCase() === id.toLowerCase());
  return typeof found?.value === 'string' && found.value !== '' ? found.value : null;
}

export function sourceUidOf(item: Json): string | null {
  return extendedProperty(item, SOURCE_UID_PROPERTY);
}

/** The source UID of a task the target wrote, from its open extension. */
export function taskSourceUidOf(task: Json): string | null {
  const extensions = task.extensions;
  if (!Array.isArray(extensions)) return null;
  const name = TASK_SOURCE_EXTENSION.toLowerCase();
  const found = (extensions as Json[]).find((e) => [e?.id, e?.extensionName].some((v) => typeof v === 'string' && (v.toLowerCase() === name || v.toLowerCase().endsWith(`.${name}`))));
  return typeof found?.uid === 'string' && found.uid !== '' ? found.uid : null;
}

export function versionOf(item: Json): string | null {
  if (typeof item.changeKey === 'string') return item.changeKey;
  return typeof item['@odata.etag'] === 'string' ? item['@odata.etag'] : null;
}

const text = (value: unknown, fallback: string) => (typeof value === 'string' && value.trim() !== '' ? value : fallback);

export class GraphSource implements GroupwareSource {
  readonly client: GraphClient;

  constructor(protected readonly connection: GraphConnection) {
    this.client = new GraphClient(connection);
  }

  async collections(): Promise<GroupwareCollection[]> {
    const taken = new Set<string>();
    const out: GroupwareCollection[] = [];
    const add = (c: Omit<GroupwareCollection, 'slug' | 'description'>) => out.push({ ...c, description: null, slug: slugOf(c.displayName, taken) });

    const calendars = await this.client.all(`calendars?$select=id,name,color,hexColor,isDefaultCalendar&${PAGE}`, 'calendars');
    for (const c of calendars.sort((a, b) => Number(b.isDefaultCalendar === true) - Number(a.isDefaultCalendar === true))) {
      const hex = typeof c.hexColor === 'string' && /^#[0-9a-f]{6}$/i.test(c.hexColor) ? c.hexColor.toLowerCase() : null;
      add({ id: `calendars/${c.id as string}`, kind: 'calendar', displayName: text(c.name, 'Calendar'), color: hex, isDefault: c.isDefaultCalendar === true, components: ['VEVENT'] });
    }

    add({ id: DEFAULT_CONTACTS, kind: 'contacts', displayName: 'Contacts', color: null, isDefault: true, components: [] });
    let level: { path: string; prefix: string }[] = [{ path: `contactFolders?$select=id,displayName&${PAGE}`, prefix: '' }];
    for (let depth = 0; level.length > 0; depth++) {
      if (depth >= MAX_FOLDER_DEPTH) throw new ConnectorError('protocol_error', `Graph contact folders of ${this.client.user}: nested deeper than ${MAX_FOLDER_DEPTH}`);
      const next: typeof level = [];
      for (const { path, prefix } of level) {
        for (const folder of await this.client.all(path, 'contact folders')) {
          const id = folder.id as string;
          const name = text(folder.displayName, id);
          // A folder below another is named after both, so two "Clients" folders stay apart.
          const displayName = prefix ? `${prefix} / ${name}` : name;
          add({ id: `contactFolders/${id}`, kind: 'contacts', displayName, color: null, isDefault: false, components: [] });
          next.push({ path: `contactFolders/${encodeURIComponent(id)}/childFolders?$select=id,displayName&${PAGE}`, prefix: displayName });
        }
      }
      level = next;
    }

    // todoTaskList documents no OData query options: the plain list, paged by nextLink.
    const lists = await this.client.all('todo/lists', 'task lists');
    for (const l of lists.sort((a, b) => Number(b.wellknownListName === 'defaultList') - Number(a.wellknownListName === 'defaultList'))) {
      add({ id: `todo/lists/${l.id as string}`, kind: 'tasks', displayName: text(l.displayName, 'Tasks'), color: null, isDefault: l.wellknownListName === 'defaultList', components: ['VTODO'] });
    }
    return out;
  }

  async list(collection: GroupwareCollection): Promise<ItemRef[]> {
    const base = itemsPath(collection);
    const query: Record<GroupwareKind, string> = {
      calendar: `$select=id,changeKey,type&${PAGE}`,
      contacts: `$select=id,changeKey&${PAGE}`,
      tasks: `$select=id&${PAGE}`,
    };
    const items = await this.client.all(`${base}?${query[collection.kind]}`, `items of "${collection.displayName}"`);
    return items
      .filter((item) => collection.kind !== 'calendar' || item.type === undefined || item.type === 'singleInstance' || item.type === 'seriesMaster')
      .map((item) => ({ id: item.id as string, version: versionOf(item), size: null }));
  }

  async read(collection: GroupwareCollection, refs: ItemRef[]): Promise<{ id: string; version: string | null; data: string }[]> {
    const out: { id: string; version: string | null; data: string }[] = [];
    for (let i = 0; i < refs.length; i += MAX_BATCH) {
      const chunk = refs.slice(i, i + MAX_BATCH);
      if (collection.kind === 'calendar') out.push(...(await this.readEvents(collection, chunk)));
      else if (collection.kind === 'contacts') out.push(...(await this.readContacts(collection, chunk)));
      else out.push(...(await this.readTasks(collection, chunk)));
    }
    return out;
  }

  private itemPath(collection: GroupwareCollection, id: string): string {
    return `${itemsPath(collection)}/${encodeURIComponent(id)}`;
  }

  /** The answer to a batched GET of an item, or null when it is gone since it was listed. */
  private itemAnswer(answers: Map<string, GraphAnswer>, key: string, what: string): Json | null {
    const answer = answers.get(key);
    if (!answer || answer.status === 404) return null;
    if (answer.status !== 200 || !answer.json || typeof answer.json !== 'object') throw this.client.failure(answer, what);
    return answer.json as Json;
  }

  private async readContacts(collection: GroupwareCollection, refs: ItemRef[]) {
    const requests: BatchRequest[] = refs.flatMap((ref, n) => [
      { id: `c${n}`, path: `${this.itemPath(collection, ref.id)}?$expand=${EXPAND_SOURCE_UID}` },
      { id: `p${n}`, path: `${this.itemPath(collection, ref.id)}/photo/$value` },
    ]);
    const what = `contacts of "${collection.displayName}"`;
    const answers = await this.client.batch(requests, what);
    return refs.flatMap((ref, n) => {
      const contact = this.itemAnswer(answers, `c${n}`, what);
      if (!contact) return [];
      const photoAnswer = answers.get(`p${n}`);
      let photo: GraphPhoto | null = null;
      if (photoAnswer?.status === 200 && photoAnswer.bytes && photoAnswer.bytes.length > 0) {
        photo = { contentType: (photoAnswer.headers['content-type'] ?? 'image/jpeg').split(';')[0]!.trim(), bytes: photoAnswer.bytes };
      } else if (photoAnswer && photoAnswer.status !== 404 && photoAnswer.status !== 200) throw this.client.failure(photoAnswer, `the photo of a contact in "${collection.displayName}"`);
      const uid = sourceUidOf(contact) ?? derivedUid('contact', ref.id);
      return [{ id: ref.id, version: versionOf(contact) ?? ref.version, data: graphContactToVcard(contact as GraphContact, { uid, photo, version: '3.0' }) }];
    });
  }

  private async readTasks(collection: GroupwareCollection, refs: ItemRef[]) {
    const what = `tasks of "${collection.displayName}"`;
    const answers = await this.client.batch(
      refs.map((ref, n) => ({ id: `t${n}`, path: `${this.itemPath(collection, ref.id)}?$expand=checklistItems,linkedResources,${EXPAND_TASK_SOURCE}`, headers: TEXT_BODY })),
      what,
    );
    return refs.flatMap((ref, n) => {
      const task = this.itemAnswer(answers, `t${n}`, what);
      if (!task) return [];
      const shaped = { categories: [], checklistItems: [], linkedResources: [], ...task } as unknown as GraphTodoTask;
      // todoTask has no singleValueExtendedProperties: the UID is the one the target kept in an open extension, or comes from the id.
      return [{ id: ref.id, version: versionOf(task) ?? ref.version, data: graphTaskToICalendar(shaped, taskSourceUidOf(task) ?? derivedUid('task', ref.id)) }];
    });
  }

  private async readEvents(collection: GroupwareCollection, refs: ItemRef[]) {
    const what = `events of "${collection.displayName}"`;
    const answers = await this.client.batch(
      refs.map((ref, n) => ({ id: `e${n}`, path: `${this.itemPath(collection, ref.id)}?$expand=exceptionOccurrences,attachments,${EXPAND_EVENT_PROPERTIES}`, headers: TEXT_BODY })),
      what,
    );
    const events = refs.flatMap((ref, n) => {
      const event = this.itemAnswer(answers, `e${n}`, what);
      return event ? [{ ref, event: event as unknown as GraphEvent & Json }] : [];
    });

    // The occurrences each series has, to find the cancelled ones (second batch, series only).
    const series = events.filter(({ event }) => event.type === 'seriesMaster' && event.recurrence);
    const windows = new Map(series.map(({ ref, event }) => [ref.id, seriesWindow(event)]));
    const instanceAnswers = await this.client.batch(
      series.map(({ ref }, n) => {
        const w = windows.get(ref.id)!;
        const range = `startDateTime=${utcString(w.from)}&endDateTime=${utcString(w.to)}`;
        return { id: `i${n}`, path: `${this.itemPath(collection, ref.id)}/instances?${range}&$select=originalStart,type&$top=1000` };
      }),
      `occurrences of ${what}`,
    );

    const out: { id: string; version: string | null; data: string }[] = [];
    for (const { ref, event } of events) {
      const exceptions = ((event.exceptionOccurrences ?? []) as GraphEvent[]).filter((e) => !e.isCancelled);
      let cancelled: string[] = [];
      const n = series.findIndex((s) => s.ref.id === ref.id);
      if (n >= 0) {
        const answer = instanceAnswers.get(`i${n}`);
        if (!answer || answer.status === 404) continue;
        if (answer.status !== 200) throw this.client.failure(answer, `occurrences of ${what}`);
        const { value, nextLink } = collectionOfInstances(answer.json);
        const instances = nextLink ? [...value, ...(await this.client.all(nextLink, `occurrences of ${what}`))] : value;
        const present = [...instances, ...exceptions].map((e) => e.originalStart).filter((s): s is string => typeof s === 'string');
        cancelled = cancelledStarts(event, present, windows.get(ref.id)!);
      }
      const master: GraphEvent = { ...event, attachments: event.attachments ?? [], iCalUId: sourceUidOf(event) ?? event.iCalUId };
      const kept = parseKeptMeeting(extendedProperty(event, MEETING_PROPERTY));
      out.push({ id: ref.id, version: versionOf(event) ?? ref.version, data: graphEventToICalendar(master, exceptions, cancelled, kept ?? undefined) });
    }
    return out;
  }
}

/** Where the items of a collection are, below the user. */
export function itemsPath(collection: GroupwareCollection): string {
  const [head, ...rest] = collection.id.split('/');
  const id = (n: number) => encodeURIComponent(rest.slice(n).join('/'));
  if (collection.kind === 'calendar' && head === 'calendars') return `calendars/${id(0)}/events`;
  if (collection.kind === 'contacts' && collection.id === DEFAULT_CONTACTS) return 'contacts';
  if (collection.kind === 'contacts' && head === 'contactFolders') return `contactFolders/${id(0)}/contacts`;
  if (collection.kind === 'tasks' && head === 'todo' && rest[0] === 'lists') return `todo/lists/${id(1)}/tasks`;
  throw new ConnectorError('protocol_error', `${collection.id} is not a Microsoft 365 collection`);
}

function collectionOfInstances(json: unknown): { value: { originalStart?: string }[]; nextLink: string | undefined } {
  const body = json as { value?: unknown; '@odata.nextLink'?: unknown } | undefined;
  if (!body || !Array.isArray(body.value)) throw new ConnectorError('protocol_error', 'Graph occurrences: answer is not an OData collection');
  return { value: body.value as { originalStart?: string }[], nextLink: typeof body['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : undefined };
}

interface SeriesWindow {
  /** Unix seconds. */
  from: number;
  to: number;
  /** The zone the series repeats in, and its first occurrence there. */
  zone: ICAL.Timezone;
  start: LocalFields;
}

/** The span to ask `instances` for: the whole series, or up to two years ahead for one without end. */
function seriesWindow(master: GraphEvent): SeriesWindow {
  const zoneName = master.isAllDay ? master.start.timeZone : (master.originalStartTimeZone ?? master.start.timeZone);
  const zone = databaseZone(ianaOfGraphZone(zoneName) ?? 'UTC') ?? ICAL.Timezone.utcTimezone;
  const local = master.isAllDay ? master.start : inZone(master.start, zoneName);
  const start = parseGraphDateTime(local.dateTime);
  const first = instantOf(start, zone);
  const range = master.recurrence!.range;
  const day = 86_400;
  let to: number;
  if (range.type === 'endDate' && range.endDate) to = Date.parse(`${range.endDate}T00:00:00Z`) / 1000 + 2 * day;
  else if (range.type === 'numbered') {
    const starts = occurrenceStarts(master, { from: first - day, to: Number.MAX_SAFE_INTEGER, zone, start });
    to = (starts.at(-1) ?? first) + 2 * day;
  } else to = Math.max(first, Date.now() / 1000) + NO_END_YEARS * 365 * day;
  return { from: first - day, to: Math.floor(to), zone, start };
}

/** Unix seconds of the pattern's occurrences in the window, as Graph expands it in the series zone. */
function occurrenceStarts(master: GraphEvent, window: SeriesWindow): number[] {
  const { start, zone } = window;
  const rule = graphToRrule(master.recurrence!, (endDate) => {
    const [year, month, day] = endDate.split('-').map(Number) as [number, number, number];
    if (master.isAllDay) return new ICAL.Time({ year, month, day, isDate: true }, ICAL.Timezone.localTimezone);
    return ICAL.Time.fromJSDate(new Date(instantOf({ year, month, day, hour: start.hour, minute: start.minute, second: start.second }, zone) * 1000), true);
  });
  const dtstart = master.isAllDay
    ? new ICAL.Time({ year: start.year, month: start.month, day: start.day, isDate: true }, ICAL.Timezone.localTimezone)
    : new ICAL.Time({ ...start, isDate: false }, zone);
  const iterator = rule.iterator(dtstart);
  const out: number[] = [];
  for (let next = iterator.next(); next; next = iterator.next()) {
    const seconds = master.isAllDay ? instantOf({ year: next.year, month: next.month, day: next.day, hour: 0, minute: 0, second: 0 }, zone) : next.toUnixTime();
    if (seconds >= window.to) break;
    if (out.length >= MAX_OCCURRENCES) throw new ConnectorError('protocol_error', `a series of ${master.subject ? 'an event' : 'events'} repeats more than ${MAX_OCCURRENCES} times in the span looked at`);
    out.push(seconds);
  }
  return out;
}

/** The occurrences of the pattern Graph did not list: cancelled (deleted) ones, as UTC DateTimeOffsets. */
function cancelledStarts(master: GraphEvent, presentStarts: string[], window: SeriesWindow): string[] {
  const key = (seconds: number) => {
    if (!master.isAllDay) return String(seconds);
    const local = localIn(seconds, window.zone);
    return `${local.year}-${local.month}-${local.day}`;
  };
  const present = new Set(presentStarts.map((s) => key(Date.parse(s) / 1000)));
  return occurrenceStarts(master, window)
    .filter((seconds) => !present.has(key(seconds)))
    .map(utcString);
}
