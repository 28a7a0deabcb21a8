import ICAL from 'ical.js';
import { ItemFormatError } from '../items';
import type { GraphAttendee, GraphEvent, GraphEventInput, GraphFileAttachment, GraphLocation } from './graph-types';
import { keptProperties, withoutMeetingBlock, type KeptMeeting } from './meeting';
import { MappingNotes } from './notes';
import { graphToRrule, isoDate, rruleToGraph } from './recurrence';
import { completeNotes } from './round-trip';
import { databaseZone, graphDateTime, icalInstantProperty, inZone, icalTimeProperty, ianaOfGraphZone, instantOf, instantOfValue, localIn, parseGraphDateTime, toGraphTime, utcString, vtimezones, ZoneBook, type GraphTime, type IcalZone, type JCalProperty } from './times';

/**
 * Calendar events between iCalendar (one resource: the master VEVENT with RRULE / EXDATE and one
 * VEVENT per overridden instance) and Microsoft Graph (a seriesMaster event, its exceptions and
 * its cancelled occurrences). What maps and what cannot is in mapping-table.ts.
 */

export interface EventMappingOptions {
  /** IANA zone for floating times and all-day events, which Graph keeps with a zone (the mailbox's); UTC when not given. */
  floatingTimeZone?: string;
}

export interface EventMapping {
  uid: string | null;
  master: GraphEventInput;
  /** Overridden instances: the occurrence's original start (UTC, Graph's originalStart) and everything it holds. */
  exceptions: { originalStart: string; patch: GraphEventInput }[];
  /** Original starts (UTC) of the occurrences the source left out (EXDATE). */
  cancelled: string[];
  /** What Graph cannot hold, in words ("VEVENT RDATE: ..."); the copy reports these with the item. */
  notMapped: string[];
  /** What Graph holds in another form (DURATION as an end time); not a loss. */
  rewritten: string[];
}

export const REMINDER_TEXT = 'Reminder';
/** The name a file attachment without one gets (and that is not written back as a file name). */
export const UNNAMED_ATTACHMENT = 'attachment';

type Showing = GraphEventInput['showAs'];
const BUSY_STATUS: Record<string, Showing> = { FREE: 'free', TENTATIVE: 'tentative', BUSY: 'busy', OOF: 'oof', WORKINGELSEWHERE: 'workingElsewhere' };
const BUSY_STATUS_OF: Partial<Record<Showing, string>> = { tentative: 'TENTATIVE', oof: 'OOF', workingElsewhere: 'WORKINGELSEWHERE' };
const RESPONSE: Record<string, NonNullable<GraphAttendee['status']>['response']> = { ACCEPTED: 'accepted', DECLINED: 'declined', TENTATIVE: 'tentativelyAccepted', 'NEEDS-ACTION': 'notResponded' };
const PARTSTAT: Record<NonNullable<GraphAttendee['status']>['response'], string> = { accepted: 'ACCEPTED', declined: 'DECLINED', tentativelyAccepted: 'TENTATIVE', notResponded: 'NEEDS-ACTION', none: 'NEEDS-ACTION', organizer: 'ACCEPTED' };

/** Event properties this mapping reads; any other is reported as not mapped. */
export const EVENT_PROPERTIES = new Set([
  'uid', 'dtstamp', 'summary', 'description', 'x-alt-desc', 'dtstart', 'dtend', 'duration', 'rrule', 'exdate', 'recurrence-id', 'location', 'geo',
  'transp', 'x-microsoft-cdo-busystatus', 'class', 'priority', 'categories', 'organizer', 'attendee', 'attach', 'status', 'sequence', 'created', 'last-modified',
]);

export function parseCalendar(text: string): ICAL.Component {
  try {
    const jcal = ICAL.parse(text) as unknown;
    const first = Array.isArray(jcal) && Array.isArray(jcal[0]) ? (jcal[0] as unknown) : jcal;
    return new ICAL.Component(first as never);
  } catch (error) {
    throw new ItemFormatError(`not valid iCalendar: ${(error as Error).message.split('\n')[0]}`);
  }
}

function text(component: ICAL.Component, name: string): string {
  const value = component.getFirstPropertyValue(name);
  return value === null || value === undefined ? '' : String(value);
}

function mailAddress(value: unknown): string {
  return String(value ?? '').replace(/^mailto:/i, '');
}

/** The calendar-level properties: only VERSION belongs to the event; the rest is the calendar's or the writer's. */
export function noteCalendarProperties(root: ICAL.Component, notes: MappingNotes): void {
  for (const property of root.getAllProperties()) {
    const name = property.name.toUpperCase();
    if (name === 'VERSION' || name === 'PRODID') continue;
    if (name === 'CALSCALE' && String(property.getFirstValue()).toUpperCase() === 'GREGORIAN') notes.rewrote('VCALENDAR', name, 'GREGORIAN is the only calendar there is; not written back');
    else notes.lost('VCALENDAR', name, 'a property of the calendar file, not of the item; Microsoft 365 keeps items');
  }
  const version = String(root.getFirstPropertyValue('version') ?? '').trim();
  if (version !== '2.0') notes.rewrote('VCALENDAR', 'VERSION', `${version || 'none'}: written as 2.0`);
  if (root.getAllSubcomponents('vtimezone').length > 0 || /TZID=/i.test(root.toString())) notes.rewrote('VTIMEZONE', '*', "Microsoft 365 keeps zones by name: written back from the tz database's definition");
}

interface Mapped {
  input: GraphEventInput;
  start: GraphTime;
}

function mapEvent(event: ICAL.Component, zones: ZoneBook, notes: MappingNotes, uid: string, isOverride: boolean): Mapped {
  const where = 'VEVENT';
  const startProperty = event.getFirstProperty('dtstart');
  if (!startProperty) throw new ItemFormatError('an event without DTSTART');
  const start = toGraphTime(startProperty, zones, notes, `${where} DTSTART`);
  let end: GraphTime;
  const endProperty = event.getFirstProperty('dtend');
  const duration = event.getFirstPropertyValue('duration') as ICAL.Duration | null;
  if (endProperty) end = toGraphTime(endProperty, zones, notes, `${where} DTEND`);
  else {
    const seconds = duration ? duration.toSeconds() : start.isDate ? 86400 : 0;
    if (duration) notes.rewrote(where, 'DURATION', 'kept as the end time (DTEND)');
    notes.rewrote(where, 'DTEND', duration ? 'written from DURATION' : 'the implied end written out');
    const endInstant = start.instant + seconds;
    const local = localIn(endInstant, start.zone.zone);
    end = { value: { dateTime: graphDateTime(local, start.isDate), timeZone: start.value.timeZone }, isDate: start.isDate, instant: endInstant, zone: start.zone };
  }

  for (const name of ['summary', 'description', 'location']) {
    for (const property of event.getAllProperties(name)) {
      for (const key of Object.keys((property.toJSON() as JCalProperty)[1])) notes.lost(`${where} ${name.toUpperCase()}`, key.toUpperCase(), 'Microsoft 365 keeps the text only');
      if (String(property.getFirstValue() ?? '') === '') notes.rewrote(where, name.toUpperCase(), 'empty: not written back');
    }
    if (event.getAllProperties(name).length > 1) notes.lost(where, name.toUpperCase(), 'a second one: Microsoft 365 keeps one');
  }
  const description = event.getFirstProperty('description');
  const html = event.getAllProperties('x-alt-desc').find((p) => String(p.getParameter('fmttype') ?? '').toLowerCase() === 'text/html');
  let body: GraphEventInput['body'] = { contentType: 'text', content: description ? String(description.getFirstValue() ?? '') : '' };
  if (!description && html) body = { contentType: 'html', content: String(html.getFirstValue() ?? '') };
  else if (html) notes.lost(where, 'X-ALT-DESC', 'the HTML form of DESCRIPTION; Microsoft 365 keeps one body, the text');

  let location: GraphLocation = { displayName: text(event, 'location') };
  const geo = event.getFirstPropertyValue('geo') as unknown;
  if (Array.isArray(geo) && geo.length === 2) location = { ...location, coordinates: { latitude: Number(geo[0]), longitude: Number(geo[1]) } };

  let showAs: Showing = 'busy';
  const transp = text(event, 'transp').toUpperCase();
  if (transp === 'TRANSPARENT') showAs = 'free';
  if (transp === 'OPAQUE') notes.rewrote(where, 'TRANSP', 'OPAQUE is busy, the default; not written back');
  const busyStatus = text(event, 'x-microsoft-cdo-busystatus').toUpperCase();
  if (busyStatus) {
    showAs = BUSY_STATUS[busyStatus] ?? showAs;
    if (!BUSY_STATUS_OF[showAs]) notes.rewrote(where, 'X-MICROSOFT-CDO-BUSYSTATUS', `${busyStatus} is kept as the free/busy state (TRANSP)`);
  }

  const classValue = text(event, 'class').toUpperCase();
  const sensitivity: GraphEventInput['sensitivity'] = classValue === 'PRIVATE' ? 'private' : classValue === 'CONFIDENTIAL' ? 'confidential' : 'normal';
  if (classValue === 'PUBLIC') notes.rewrote(where, 'CLASS', 'PUBLIC is the default; not written back');
  else if (classValue && sensitivity === 'normal') notes.lost(where, 'CLASS', `${classValue} has no Microsoft 365 sensitivity; kept as normal`);

  const importance = importanceOf(event, notes, where);
  const categories = event.getAllProperties('categories').flatMap((p) => p.getValues().map(String));

  const organizerProperty = event.getFirstProperty('organizer');
  const organizer = organizerProperty ? { emailAddress: emailOf(organizerProperty) } : undefined;
  if (organizerProperty) compareParams(organizerProperty, organizerParams(organizer!.emailAddress), notes, 'ORGANIZER');

  const attendeeProperties = event.getAllProperties('attendee');
  const responseRequested = attendeeProperties.some((p) => String(p.getParameter('rsvp') ?? '').toUpperCase() === 'TRUE');
  const attendees = attendeeProperties.map((property) => {
    const attendee = attendeeOf(property);
    compareParams(property, attendeeParams(attendee, responseRequested), notes, 'ATTENDEE');
    return attendee;
  });

  const attachments: GraphFileAttachment[] = [];
  for (const property of event.getAllProperties('attach')) {
    const isBinary = property.type === 'binary' || String(property.getParameter('encoding') ?? '').toUpperCase() === 'BASE64';
    if (!isBinary) {
      notes.lost(where, 'ATTACH', 'a file by URL: Microsoft 365 events hold files, not links');
      continue;
    }
    const name = String(property.getParameter('filename') ?? property.getParameter('x-filename') ?? UNNAMED_ATTACHMENT);
    const contentType = String(property.getParameter('fmttype') ?? 'application/octet-stream');
    attachments.push({ '@odata.type': '#microsoft.graph.fileAttachment', name, contentType, contentBytes: String(property.getFirstValue() ?? '').replace(/\s+/g, '') });
  }

  const reminder = reminderOf(event, start, notes, isOverride);

  const status = text(event, 'status').toUpperCase();
  if (status === 'CONFIRMED') notes.rewrote(where, 'STATUS', 'CONFIRMED: an event in Microsoft 365 is confirmed unless cancelled; not written back');
  else if (status) notes.lost(where, 'STATUS', `${status}: Microsoft 365 has no status of an event (only its organizer cancels it)`);
  const sequence = Number(event.getFirstPropertyValue('sequence') ?? 0);
  if (event.getFirstProperty('sequence')) {
    if (sequence === 0) notes.rewrote(where, 'SEQUENCE', '0, the first version; not written back');
    else notes.lost(where, 'SEQUENCE', 'Microsoft 365 counts versions itself');
  }
  for (const name of ['created', 'last-modified']) if (event.getFirstProperty(name)) notes.lost(where, name.toUpperCase(), 'Microsoft 365 sets it when the event is written');
  if (event.getAllProperties('rrule').length > 1) notes.lost(where, 'RRULE', 'a second rule: Microsoft 365 keeps one recurrence per event');
  if (event.getFirstProperty('rdate')) notes.lost(where, 'RDATE', 'Microsoft 365 recurrences have no extra dates');
  for (const property of event.getAllProperties()) {
    if (EVENT_PROPERTIES.has(property.name) || property.name === 'rdate') continue;
    notes.lost(where, property.name.toUpperCase(), property.name.startsWith('x-') ? "another program's own property; Microsoft 365 has no place for it" : 'Microsoft 365 events have no such property');
  }

  const input: GraphEventInput = {
    subject: text(event, 'summary'),
    body,
    start: start.value,
    end: end.value,
    isAllDay: start.isDate,
    location,
    locations: location.displayName || location.coordinates ? [location] : [],
    showAs,
    sensitivity,
    importance,
    categories,
    isReminderOn: reminder !== null,
    reminderMinutesBeforeStart: reminder ?? 15,
    attendees,
    responseRequested,
    ...(organizer ? { organizer } : {}),
    recurrence: null,
    attachments,
    iCalUId: uid,
  };
  return { input, start };
}

/** iCalendar PRIORITY 1-9 (and Outlook's X-MICROSOFT-CDO-IMPORTANCE) as Graph's importance: 1-4 high, 5 normal, 6-9 low, 0 none. */
export function importanceOf(component: ICAL.Component, notes: MappingNotes, where: string): GraphEventInput['importance'] {
  const priorityValue = component.getFirstPropertyValue('priority');
  const cdo = text(component, 'x-microsoft-cdo-importance');
  if (priorityValue === null || priorityValue === undefined) {
    if (cdo) notes.rewrote(where, 'X-MICROSOFT-CDO-IMPORTANCE', 'kept as the importance, written back as PRIORITY');
    return cdo === '2' ? 'high' : cdo === '0' ? 'low' : 'normal';
  }
  if (cdo) notes.rewrote(where, 'X-MICROSOFT-CDO-IMPORTANCE', 'the importance is taken from PRIORITY');
  const priority = Number(priorityValue);
  if (priority === 0) notes.rewrote(where, 'PRIORITY', '0 means none; not written back');
  const importance = priority >= 1 && priority <= 4 ? 'high' : priority >= 6 && priority <= 9 ? 'low' : 'normal';
  if (![0, 1, 9].includes(priority))  notes.lost(where, 'PRIORITY', `${priority}: Microsoft 365 has only low, normal and high; kept as ${importance}, written back as ${importance === 'high' ? 1 : importance === 'low' ? 9 : 'no priority'}`);
  return importance;
}

function emailOf(property: ICAL.Property): GraphAttendee['emailAddress'] {
  const name = property.getParameter('cn');
  return { ...(name ? { name: String(name) } : {}), address: mailAddress(property.getFirstValue()) };
}

function attendeeOf(property: ICAL.Property): GraphAttendee {
  const cutype = String(property.getParameter('cutype') ?? '').toUpperCase();
  const role = String(property.getParameter('role') ?? '').toUpperCase();
  const type: GraphAttendee['type'] = cutype === 'RESOURCE' || cutype === 'ROOM' ? 'resource' : role === 'OPT-PARTICIPANT' || role === 'NON-PARTICIPANT' ? 'optional' : 'required';
  const partstat = String(property.getParameter('partstat') ?? 'NEEDS-ACTION').toUpperCase();
  return { type, emailAddress: emailOf(property), status: { response: RESPONSE[partstat] ?? 'none' } };
}

function organizerParams(email: GraphAttendee['emailAddress']): Record<string, string> {
  return email.name ? { cn: email.name } : {};
}

function attendeeParams(attendee: GraphAttendee, responseRequested: boolean): Record<string, string> {
  const params: Record<string, string> = {};
  if (attendee.emailAddress.name) params.cn = attendee.emailAddress.name;
  if (attendee.type === 'resource') params.cutype = 'RESOURCE';
  params.role = attendee.type === 'optional' ? 'OPT-PARTICIPANT' : 'REQ-PARTICIPANT';
  params.partstat = PARTSTAT[attendee.status?.response ?? 'none'];
  if (responseRequested) params.rsvp = 'TRUE';
  return params;
}

/** What of an ORGANIZER's or ATTENDEE's parameters Graph's emailAddress / attendee does not keep. */
function compareParams(property: ICAL.Property, back: Record<string, string>, notes: MappingNotes, name: string): void {
  const where = `VEVENT ${name}`;
  const original = (property.toJSON() as JCalProperty)[1];
  for (const [key, value] of Object.entries(original)) {
    if (key.startsWith('schedule-')) continue;
    if (back[key] === undefined) notes.lost(where, key.toUpperCase(), `Microsoft 365 keeps of an ${name.toLowerCase()} only the name, address, type and response`);
    // No values in the line: a name is personal data, and the report says what, not whose.
    else if (String(value).toUpperCase() !== back[key].toUpperCase() || (key === 'cn' && String(value) !== back[key])) notes.rewrote(where, key.toUpperCase(), "kept in Microsoft 365's form of it");
  }
  for (const key of Object.keys(back)) if (original[key] === undefined) notes.rewrote(where, key.toUpperCase(), 'written out (RFC 5545 default)');
  const value = String((property.toJSON() as JCalProperty)[3] ?? '');
  if (!value.startsWith('mailto:')) notes.rewrote(where, 'address', 'written back as a mailto: address');
}

/**
 * The first alarm before the start as Graph's reminder (minutes before the start). Graph keeps
 * one reminder that shows; other alarms, absolute triggers on recurring events and alarms after
 * the start or relative to the end cannot be held.
 */
function reminderOf(event: ICAL.Component, start: GraphTime, notes: MappingNotes, isOverride: boolean): number | null {
  const alarms = event.getAllSubcomponents('valarm');
  let minutes: number | null = null;
  for (const alarm of alarms) {
    const triggerProperty = alarm.getFirstProperty('trigger');
    const trigger = triggerProperty?.getFirstValue() as ICAL.Duration | ICAL.Time | undefined;
    let before: number | null = null;
    if (trigger instanceof ICAL.Duration) {
      if (String(triggerProperty!.getParameter('related') ?? '').toUpperCase() === 'START') notes.rewrote('VALARM', 'TRIGGER', 'RELATED=START is the default; not written back');
      if (String(triggerProperty!.getParameter('related') ?? 'START').toUpperCase() === 'END') notes.lost('VALARM', 'TRIGGER', 'an alarm relative to the end: Microsoft 365 reminds before the start only');
      else if (trigger.toSeconds() > 0) notes.lost('VALARM', 'TRIGGER', 'an alarm after the start: Microsoft 365 reminds before the start only');
      else before = -trigger.toSeconds();
    } else if (trigger instanceof ICAL.Time) {
      if (event.getFirstProperty('rrule') || isOverride) notes.lost('VALARM', 'TRIGGER', 'an alarm at a fixed time on a recurring event: Microsoft 365 reminds a time before each start');
      else {
        before = start.instant - trigger.toUnixTime();
        if (before >= 0) notes.rewrote('VALARM', 'TRIGGER', 'an alarm at a fixed time, kept as the time before the start');
        else {
          notes.lost('VALARM', 'TRIGGER', 'an alarm after the start: Microsoft 365 reminds before the start only');
          before = null;
        }
      }
    }
    if (before === null) continue;
    if (minutes !== null) {
      notes.lost('VALARM', '*', 'a second alarm: Microsoft 365 keeps one reminder per event');
      continue;
    }
    minutes = Math.round(before / 60);
    if (minutes * 60 !== before) notes.rewrote('VALARM', 'TRIGGER', 'rounded to whole minutes');
    const action = String(alarm.getFirstPropertyValue('action') ?? '').toUpperCase();
    if (action !== 'DISPLAY') notes.lost('VALARM', 'ACTION', `${action || 'none'}: a Microsoft 365 reminder shows on the screen`);
    if (text(alarm, 'description') !== REMINDER_TEXT) notes.lost('VALARM', 'DESCRIPTION', "the alarm's own text: Microsoft 365 reminders show the event");
    for (const property of alarm.getAllProperties()) {
      if (!['action', 'trigger', 'description'].includes(property.name)) notes.lost('VALARM', property.name.toUpperCase(), 'Microsoft 365 reminders have no such property');
    }
    for (const sub of alarm.getAllSubcomponents()) notes.lost('VALARM', sub.name.toUpperCase(), 'Microsoft 365 reminders have no such part');
  }
  if (alarms.length > 0 && minutes === null) notes.lost('VALARM', '*', 'no alarm Microsoft 365 can hold as a reminder');
  return minutes;
}

/** The day an RRULE's UNTIL is the last start on, in the event's zone (Graph's endDate). */
function untilDayOf(until: ICAL.Time, start: GraphTime, zones: ZoneBook, notes: MappingNotes): string {
  if (until.isDate || start.isDate) {
    if (!until.isDate) notes.rewrote('VEVENT RRULE', 'UNTIL', 'kept as the last day (a day event ends on a day)');
    else if (!start.isDate) notes.rewrote('VEVENT RRULE', 'UNTIL', "kept as the last day, written back as that day's start");
    return isoDate(until.year, until.month, until.day);
  }
  const untilInstant = instantOfValue(until, undefined, zones, start.zone);
  const startLocal = parseGraphDateTime(start.value.dateTime);
  let day = localIn(untilInstant, start.zone.zone);
  const occurrence = (d: ICAL.Time) => instantOf({ year: d.year, month: d.month, day: d.day, hour: startLocal.hour, minute: startLocal.minute, second: startLocal.second }, start.zone.zone);
  if (occurrence(day) > untilInstant) {
    day = day.clone();
    day.adjust(-1, 0, 0, 0);
  }
  if (occurrence(day) !== untilInstant || until.zone !== ICAL.Timezone.utcTimezone) notes.rewrote('VEVENT RRULE', 'UNTIL', "kept as the last day (Graph's endDate), written back as that day's start in UTC");
  return isoDate(day.year, day.month, day.day);
}

/** A VEVENT's instant value (EXDATE, RECURRENCE-ID) as Graph's UTC originalStart, noting a form the way back does not keep. */
function originalStartOf(property: ICAL.Property, value: ICAL.Time, start: GraphTime, zones: ZoneBook, notes: MappingNotes, where: string): string {
  const tzid = property.getParameter('tzid') as string | undefined;
  const isUtc = value.zone === ICAL.Timezone.utcTimezone;
  if (value.isDate !== start.isDate) notes.lost(where, 'VALUE', 'a day where the event has times (or the other way round): taken at the start of the day');
  else if (!value.isDate && (isUtc ? 'UTC' : (tzid ?? 'floating')) !== start.zone.readsBackAs) notes.rewrote(where, 'TZID', "written back in the event's own zone");
  const instant =
    start.isDate && value.isDate
      ? instantOf({ year: value.year, month: value.month, day: value.day, hour: 0, minute: 0, second: 0 }, start.zone.zone)
      : value.isDate
        ? instantOf({ year: value.year, month: value.month, day: value.day, hour: 0, minute: 0, second: 0 }, start.zone.zone)
        : instantOfValue(value, tzid, zones, start.zone);
  const originalStart = utcString(instant);
  if (where.endsWith('RECURRENCE-ID')) {
    // The overridden instance is compared under its RECURRENCE-ID: written back in another form, all its lines move.
    const back = String(icalInstantProperty('recurrence-id', originalStart, icalTimeProperty('dtstart', start.value, start.isDate, new Set()), start.value)[3]);
    const original = String(value);
    if (back !== original) {
      const why = `the overridden instance's RECURRENCE-ID is written back as ${back}, in the event's own zone`;
      notes.rewrote(`VEVENT[${original}]`, '*', why);
      notes.rewrote(`VEVENT[${back}]`, '*', why);
    }
  }
  return originalStart;
}

/**
 * One iCalendar resource as the Graph events that hold it. The master's UID becomes iCalUId
 * (which Graph sets itself on create: the target keeps the UID in an extended property too).
 */
export function icalendarToGraphEvent(data: string, options: EventMappingOptions = {}): EventMapping {
  const root = parseCalendar(data);
  const notes = new MappingNotes();
  const zones = new ZoneBook(root, options.floatingTimeZone ?? 'UTC');
  noteCalendarProperties(root, notes);
  const events = root.getAllSubcomponents('vevent');
  for (const other of root.getAllSubcomponents()) {
    if (other.name !== 'vevent' && other.name !== 'vtimezone') notes.lost(other.name.toUpperCase(), '*', 'not an event: a calendar of Microsoft 365 holds events only');
  }
  const masterEvent = events.find((e) => !e.getFirstProperty('recurrence-id')) ?? events[0];
  if (!masterEvent) throw new ItemFormatError('no VEVENT in the resource');
  const uid = text(masterEvent, 'uid') || null;
  const master = mapEvent(masterEvent, zones, notes, uid ?? '', false);
  if (masterEvent.getFirstProperty('recurrence-id')) notes.lost('VEVENT', 'RECURRENCE-ID', 'an overridden instance without its series: kept as an event of its own');

  // Read before ical.js decodes the value, which drops an INTERVAL of 1.
  const ruleAsWritten = masterEvent.getFirstProperty('rrule')?.toJSON() as JCalProperty | undefined;
  const rule = masterEvent.getFirstPropertyValue('rrule') as ICAL.Recur | null;
  if (rule) {
    if ((ruleAsWritten?.[3] as { interval?: number } | undefined)?.interval === 1) notes.rewrote('VEVENT', 'RRULE INTERVAL', '1 is the default; not written back');
    const startLocal = parseGraphDateTime(master.start.value.dateTime);
    const day = new ICAL.Time({ year: startLocal.year, month: startLocal.month, day: startLocal.day, isDate: true }, ICAL.Timezone.localTimezone);
    const mapped = rruleToGraph(rule, { year: startLocal.year, month: startLocal.month, day: startLocal.day, dayOfWeek: day.dayOfWeek() }, master.start.value.timeZone, (until) => untilDayOf(until, master.start, zones, notes));
    if (mapped.recurrence) master.input.recurrence = mapped.recurrence;
    else notes.lost('VEVENT', 'RRULE', `${mapped.unmappable}; only the first occurrence is kept`);
    for (const line of mapped.rewritten) {
      const [what, why] = line.split(': ');
      notes.rewrote('VEVENT', what!, why ?? '');
    }
  }

  const cancelled: string[] = [];
  for (const property of masterEvent.getAllProperties('exdate')) {
    for (const value of property.getValues() as ICAL.Time[]) cancelled.push(originalStartOf(property, value, master.start, zones, notes, 'VEVENT EXDATE'));
  }
  if (cancelled.length && !master.input.recurrence) notes.lost('VEVENT', 'EXDATE', 'left-out occurrences of a rule Microsoft 365 could not keep');

  const exceptions: EventMapping['exceptions'] = [];
  for (const event of events) {
    if (event === masterEvent) continue;
    const recurrenceId = event.getFirstProperty('recurrence-id');
    if (!recurrenceId || !master.input.recurrence) {
      notes.lost('VEVENT', '*', recurrenceId ? 'an overridden instance of a rule Microsoft 365 could not keep' : 'a second event in one resource');
      continue;
    }
    if (recurrenceId.getParameter('range')) notes.lost('VEVENT', 'RECURRENCE-ID', 'RANGE=THISANDFUTURE: Microsoft 365 overrides one occurrence at a time');
    const originalStart = originalStartOf(recurrenceId, recurrenceId.getFirstValue() as ICAL.Time, master.start, zones, notes, 'VEVENT RECURRENCE-ID');
    const mapped = mapEvent(event, zones, notes, uid ?? '', true);
    exceptions.push({ originalStart, patch: mapped.input });
  }
  const mapping: EventMapping = { uid, master: master.input, exceptions, cancelled, notMapped: notes.notMapped, rewritten: notes.rewritten };
  completeNotes(data, graphEventToICalendarOf(mapping), notes);
  return mapping;
}

/** The mapping as Graph lists it back: the series master, its exceptions and its cancelled occurrences. */
export function asListedByGraph(mapping: EventMapping): { master: GraphEvent; exceptions: GraphEvent[]; cancelled: string[] } {
  const master: GraphEvent = { ...mapping.master, type: mapping.master.recurrence ? 'seriesMaster' : 'singleInstance' };
  const exceptions = mapping.exceptions.map(({ originalStart, patch }): GraphEvent => ({ ...patch, recurrence: null, type: 'exception', originalStart, iCalUId: mapping.master.iCalUId }));
  return { master, exceptions, cancelled: mapping.cancelled };
}

function graphEventToICalendarOf(mapping: EventMapping): string {
  const listed = asListedByGraph(mapping);
  return graphEventToICalendar(listed.master, listed.exceptions, listed.cancelled);
}

/** `people`: the ORGANIZER and ATTENDEE properties to write instead of Graph's organizer and attendees (a meeting kept by the target). */
function veventOf(event: GraphEvent, zonesUsed: Set<string>, extra: JCalProperty[], people?: JCalProperty[]): { component: JCalComponent; start: JCalProperty } {
  const props: JCalProperty[] = [['uid', {}, 'text', event.iCalUId]];
  const start = icalTimeProperty('dtstart', event.start, event.isAllDay, zonesUsed);
  props.push(...extra, start, icalTimeProperty('dtend', event.end, event.isAllDay, zonesUsed));
  if (event.subject) props.push(['summary', {}, 'text', event.subject]);
  if (event.body.content) {
    if (event.body.contentType === 'html') props.push(['x-alt-desc', { fmttype: 'text/html' }, 'text', event.body.content]);
    else props.push(['description', {}, 'text', event.body.content]);
  }
  const location = event.location ?? event.locations[0];
  if (location?.displayName) props.push(['location', {}, 'text', location.displayName]);
  if (location?.coordinates?.latitude !== undefined && location.coordinates.longitude !== undefined) props.push(['geo', {}, 'float', [location.coordinates.latitude, location.coordinates.longitude]]);
  if (event.showAs === 'free') props.push(['transp', {}, 'text', 'TRANSPARENT']);
  const busyStatus = BUSY_STATUS_OF[event.showAs];
  if (busyStatus) props.push(['x-microsoft-cdo-busystatus', {}, 'unknown', busyStatus]);
  if (event.sensitivity === 'private' || event.sensitivity === 'personal') props.push(['class', {}, 'text', 'PRIVATE']);
  if (event.sensitivity === 'confidential') props.push(['class', {}, 'text', 'CONFIDENTIAL']);
  if (event.importance === 'high') props.push(['priority', {}, 'integer', 1]);
  if (event.importance === 'low') props.push(['priority', {}, 'integer', 9]);
  if (event.categories.length) props.push(['categories', {}, 'text', ...event.categories]);
  if (people) props.push(...people);
  else if (event.organizer) props.push(['organizer', organizerParams(event.organizer.emailAddress), 'cal-address', `mailto:${event.organizer.emailAddress.address}`]);
  // Attendees added in Outlook after the copy (Outlook invited them) come along beside the kept ones.
  const keptAddresses = new Set((people ?? []).filter((p) => p[0] === 'attendee').map((p) => mailAddress(p[3]).toLowerCase()));
  const added = people ? event.attendees.filter((a) => !keptAddresses.has(a.emailAddress.address.toLowerCase())) : event.attendees;
  for (const attendee of added) props.push(['attendee', attendeeParams(attendee, event.responseRequested ?? false), 'cal-address', `mailto:${attendee.emailAddress.address}`]);
  for (const file of event.attachments ?? []) {
    // VALUE=BINARY comes from the jCal type.
    const params: Record<string, string> = { fmttype: file.contentType, encoding: 'BASE64' };
    if (file.name !== UNNAMED_ATTACHMENT) params['x-filename'] = file.name;
    props.push(['attach', params, 'binary', file.contentBytes]);
  }
  if (event.createdDateTime) props.push(['created', {}, 'date-time', utcString(Date.parse(event.createdDateTime) / 1000)]);
  if (event.lastModifiedDateTime) props.push(['last-modified', {}, 'date-time', utcString(Date.parse(event.lastModifiedDateTime) / 1000)]);
  const subs: JCalComponent[] = [];
  if (event.isReminderOn) {
    subs.push(['valarm', [['action', {}, 'text', 'DISPLAY'], ['description', {}, 'text', REMINDER_TEXT], ['trigger', {}, 'duration', `-PT${Math.max(0, event.reminderMinutesBeforeStart)}M`]], []]);
  }
  return { component: ['vevent', props, subs], start };
}

type JCalComponent = [string, JCalProperty[], JCalComponent[]];

/**
 * An event in the zones its organizer made it in. Graph lists times in UTC unless the request
 * says otherwise (Prefer: outlook.timezone); a weekly 9:00 in Berlin written as 08:00 UTC would
 * move by an hour in summer, so the times go back to originalStartTimeZone / originalEndTimeZone.
 * All-day events keep their days as they are.
 */
function inOwnZone(event: GraphEvent): GraphEvent {
  if (event.isAllDay) return event;
  const start = event.originalStartTimeZone ? inZone(event.start, event.originalStartTimeZone) : event.start;
  const end = event.originalEndTimeZone ? inZone(event.end, event.originalEndTimeZone) : event.originalStartTimeZone ? inZone(event.end, event.originalStartTimeZone) : event.end;
  return { ...event, start, end };
}

/**
 * Graph events (a series master with its exceptions and cancelled occurrences, or a single
 * event) as one iCalendar resource: UID = iCalUId, times in the IANA zone of Graph's zone name
 * with its VTIMEZONE, an EXDATE per cancelled occurrence, a VEVENT with RECURRENCE-ID per
 * exception. The source endpoint asks Graph for text bodies (Prefer: outlook.body-content-type);
 * an HTML body is written as X-ALT-DESC.
 */
export function graphEventToICalendar(graphMaster: GraphEvent, graphExceptions: GraphEvent[], cancelledOccurrenceStarts: string[], kept?: KeptMeeting): string {
  // A meeting the target wrote without attendees: its text without the block, its people as they were.
  const unblocked = (e: GraphEvent): GraphEvent => (kept ? { ...e, body: withoutMeetingBlock(e.body) } : e);
  const master = inOwnZone(unblocked(graphMaster));
  const exceptions = graphExceptions.map((e) => inOwnZone(unblocked(e)));
  const zonesUsed = new Set<string>();
  const masterParts: JCalProperty[] = [];
  const startLike = icalTimeProperty('dtstart', master.start, master.isAllDay, new Set());
  if (master.recurrence) {
    const startFields = parseGraphDateTime(master.start.dateTime);
    const zoneName = ianaOfGraphZone(master.start.timeZone) ?? 'UTC';
    const zone: IcalZone['zone'] = databaseZone(zoneName) ?? ICAL.Timezone.utcTimezone;
    const rule = graphToRrule(master.recurrence, (endDate) => {
      const [year, month, day] = endDate.split('-').map(Number) as [number, number, number];
      if (master.isAllDay) return new ICAL.Time({ year, month, day, isDate: true }, ICAL.Timezone.localTimezone);
      const instant = instantOf({ year, month, day, hour: startFields.hour, minute: startFields.minute, second: startFields.second }, zone);
      return ICAL.Time.fromJSDate(new Date(instant * 1000), true);
    });
    masterParts.push(['rrule', {}, 'recur', rule.toJSON()]);
    const cancelled = [...cancelledOccurrenceStarts, ...exceptions.filter((e) => e.isCancelled && e.originalStart).map((e) => e.originalStart!)];
    for (const instant of [...new Set(cancelled)].sort()) {
      const exdate = icalInstantProperty('exdate', instant, startLike, master.start);
      masterParts.push(exdate);
    }
  }
  const components: JCalComponent[] = [veventOf(master, zonesUsed, masterParts, kept ? keptProperties(kept) : undefined).component];
  for (const exception of exceptions) {
    if (exception.isCancelled || !exception.originalStart) continue;
    const recurrenceId = icalInstantProperty('recurrence-id', exception.originalStart, startLike, master.start);
    components.push(veventOf({ ...exception, iCalUId: master.iCalUId }, zonesUsed, [recurrenceId], kept ? keptProperties(kept, exception.originalStart) : undefined).component);
  }
  const calendar = new ICAL.Component([
    'vcalendar',
    [
      ['version', {}, 'text', '2.0'],
      ['prodid', {}, 'text', '-//Mailferry//Groupware copy//EN'],
    ],
    [],
  ] as never);
  for (const timezone of vtimezones(zonesUsed)) calendar.addSubcomponent(timezone);
  for (const component of components) calendar.addSubcomponent(new ICAL.Component(component as never));
  return calendar.toString();
}
