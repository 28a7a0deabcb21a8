/**
 * Exchange (EWS) items and the neutral model's iCalendar / vCard text, both ways.
 *
 * How the EWS endpoints use this (ews-endpoint.ts EwsSource, ews-target.ts EwsEndpoint):
 * - Collections: FindFolder (Deep traversal) under msgfolderroot for IPF.Appointment,
 *   IPF.Contact and IPF.Task folders; the distinguished calendar / contacts / tasks are the defaults.
 * - list(): FindItem with IndexedPageItemView (100 per page, Offset advanced until
 *   IncludesLastItemInRange), IdOnly plus item:Size, the ChangeKey as the version.
 *   A calendar is listed without CalendarView, so each series comes once, as its master.
 * - read(): GetItem in batches of 50 ids with the properties of the mapping table below,
 *   BodyType Text, and the source-UID extended property; then GetItem on each master's
 *   ModifiedOccurrences ids (the exceptions) and GetAttachment for a contact's IsContactPhoto
 *   attachment; `fromEws(master, exceptions)` gives the text.
 * - write(): `toEws(text)`; CreateItem with SendMeetingInvitations="SendToNone" (calendar),
 *   then one UpdateItem on OccurrenceItemId (RecurringMasterId + InstanceIndex) per modified
 *   occurrence with SendMeetingInvitationsOrCancellations="SendToNone", one DeleteItem of the
 *   deleted occurrences with SendMeetingCancellations="SendToNone", and CreateAttachment of the
 *   photo. A CreateItem whose answer is lost is followed by a FindItem with an IsEqualTo
 *   restriction on the source-UID extended property, so a retry never makes a second item.
 * - Throttling: an ErrorServerBusy answer carries MessageXml/Value Name="BackOffMilliseconds";
 *   the request waits that long (bounded) and is sent again; other errors go through
 *   server/accounts/ews/ews-errors.ts. Requests declare Exchange2010_SP1 (FirstDayOfWeek, UID)
 *   and a TimeZoneContext of UTC, so task days (Exchange keeps them as days) travel as UTC
 *   midnights; `toEws(text, kind, { allDayZone })` gets the mailbox's zone (OWA user options),
 *   at whose midnights all-day events start.
 *
 * MimeContent: which items Exchange exports as iCalendar / vCard, and why this mapping works on
 * the properties instead.
 * - The schema puts MimeContent on CalendarItem, Contact, DistributionList and Task alike
 *   (learn.microsoft.com/exchange/client-developer/web-service-reference/mimecontent). What it
 *   holds is Exchange's own conversion: a calendar item's is an iCalendar object (text/calendar,
 *   the [MS-OXCICAL] algorithm), a contact's a vCard ([MS-OXVCARD]; on Exchange 2010 SP1 and
 *   later). [MS-OXCICAL] converts appointments and meetings only: no Microsoft algorithm turns a
 *   task into a VTODO, so a task has no iCalendar MimeContent and goes by its properties.
 * - Microsoft recommends the typed properties for import and export with other systems and MIME
 *   only for small amounts: "because the property set is limited and MIME conversion is costly"
 *   (learn.microsoft.com/exchange/client-developer/exchange-web-services/exporting-and-importing-
 *   items-by-using-ews-in-exchange). CreateItem takes MimeContent for a calendar item and saves
 *   it without sending anything under SendToNone, but what the converter drops cannot be told
 *   from what it keeps.
 * - So every kind goes by properties (the table below): tasks because there is no other way;
 *   calendar items and contacts because MimeContent is not enough for the source UID as an
 *   extended property (idempotency), the overridden and deleted occurrences (UpdateItem /
 *   DeleteItem on occurrences), the contact photo (an attachment), the Windows time zone, and
 *   for knowing what was lost. What the properties cannot hold is measured on every conversion
 *   (the text against its own round trip, in the part 1 verifier's normal form) and returned
 *   as notMapped.
 */
import { createHash } from 'node:crypto';
import ICAL from 'ical.js';
import { convertVcard, normalisedLines } from '../items';
import type { GroupwareKind } from '../model';
import { isoDate, recurrenceFromRule, ruleFromRecurrence, type Anchor, type RuleJson } from './ews-recurrence';
import { epochOf, epochOfTime, epochOfWall, ewsDateTime, ianaOf, ianaOfWindows, UTC_WINDOWS_ZONE, vtimezoneOf, wallTimeIn, windowsOf } from './ews-time';
import {
  writeContactPhoto,
  writeEwsItem,
  xmlSafe,
  type EwsAttendee,
  type EwsCalendarItem,
  type EwsContact,
  type EwsDistributionList,
  type EwsExtendedProperty,
  type EwsImportance,
  type EwsItem,
  type EwsPhysicalAddress,
  type EwsResponseType,
  type EwsSensitivity,
  type EwsTask,
  type EwsTaskStatus,
} from './ews-xml';

/**
 * The mapping, one row per iCalendar / vCard property: the EWS field it goes to and what of it
 * Exchange keeps. Rows whose `kept` is not "all" are the reasons given in notMapped.
 *
 * | iCalendar / vCard          | EWS                                               | kept |
 * |----------------------------|---------------------------------------------------|------|
 * | VEVENT UID                 | UID + ExtendedProperty SourceUid                  | all |
 * | VEVENT SUMMARY             | Subject                                           | all (255 characters) |
 * | VEVENT DESCRIPTION         | Body BodyType=Text                                | all |
 * | VEVENT LOCATION            | Location                                          | all |
 * | VEVENT DTSTART / DTEND     | Start / End (UTC) + StartTimeZone / EndTimeZone   | the moment; the zone by its Windows name (IANA ↔ Windows by CLDR) |
 * | VEVENT DURATION            | End                                               | as an end time |
 * | all-day (VALUE=DATE)       | IsAllDayEvent                                     | all |
 * | floating time              | Start in UTC                                      | Exchange has no floating time |
 * | VEVENT RRULE               | Recurrence (patterns, ranges: ews-recurrence.ts)  | the rules EWS's patterns can say; UNTIL as a day |
 * | VEVENT EXDATE              | DeletedOccurrences                                | all |
 * | VEVENT RECURRENCE-ID       | ModifiedOccurrences (exceptions)                  | all that the mapping keeps of an event |
 * | VEVENT RDATE               | —                                                 | nothing |
 * | VEVENT / VTODO SEQUENCE    | —                                                 | nothing: Exchange counts versions itself |
 * | CREATED, LAST-MODIFIED, REV | DateTimeCreated, LastModifiedTime                | nothing: Exchange sets them when the item is written |
 * | VEVENT / VTODO ATTACH      | —                                                 | nothing: attachments are not copied |
 * | VEVENT ORGANIZER           | ExtendedProperty 0x0042 / 0x0065 (sent representing name / address) | name and address |
 * | VEVENT ATTENDEE            | RequiredAttendees / OptionalAttendees / Resources | address, name, role, answer (PARTSTAT) |
 * | VEVENT CATEGORIES          | Categories                                        | all |
 * | VEVENT CLASS               | Sensitivity                                       | PUBLIC / PRIVATE / CONFIDENTIAL |
 * | VEVENT PRIORITY            | Importance                                        | 1–4 high, 5 normal, 6–9 low |
 * | VEVENT TRANSP              | LegacyFreeBusyStatus                              | free (TRANSPARENT) or busy |
 * | VALARM                     | ReminderIsSet + ReminderMinutesBeforeStart        | one display reminder before the start |
 * | VTIMEZONE                  | StartTimeZone Id                                  | rebuilt from the zone's rules |
 * | VTODO SUMMARY/DESCRIPTION  | Subject / Body                                    | all |
 * | VTODO DTSTART / DUE        | StartDate / DueDate                               | the day |
 * | VTODO STATUS               | Status                                            | NEEDS-ACTION NotStarted, IN-PROCESS InProgress, COMPLETED Completed, CANCELLED Deferred; WaitingOnOthers reads as IN-PROCESS |
 * | VTODO PERCENT-COMPLETE     | PercentComplete                                   | all |
 * | VTODO COMPLETED            | CompleteDate                                      | all |
 * | VTODO RRULE                | Recurrence (TaskRecurrenceType)                   | as for events; regenerating tasks have no RRULE |
 * | VTODO VALARM               | ReminderIsSet + ReminderDueBy                     | one reminder at a moment |
 * | VTODO RELATED-TO           | —                                                 | Exchange tasks have no parent task |
 * | VCARD UID                  | ExtendedProperty SourceUid                        | all |
 * | VCARD FN                   | DisplayName                                       | all |
 * | VCARD N                    | Surname; GivenName; MiddleName; —; Generation      | no honorific prefix |
 * | VCARD NICKNAME             | Nickname                                          | the first |
 * | VCARD ORG / TITLE / ROLE   | CompanyName, Department / JobTitle / Profession   | company and one department |
 * | VCARD EMAIL                | EmailAddresses EmailAddress1–3                    | three addresses, not their TYPE |
 * | VCARD TEL                  | PhoneNumbers (BusinessPhone, HomePhone, MobilePhone, ...) | one number per Exchange kind |
 * | VCARD ADR                  | PhysicalAddresses Home / Business / Other         | one of each; no post office box or extended address |
 * | VCARD IMPP                 | ImAddresses ImAddress1–3                          | three |
 * | VCARD URL                  | BusinessHomePage                                  | the first |
 * | VCARD BDAY / ANNIVERSARY   | Birthday / WeddingAnniversary                     | full dates |
 * | VCARD NOTE                 | Body                                              | all |
 * | VCARD CATEGORIES           | Categories                                        | all |
 * | VCARD PHOTO                | FileAttachment IsContactPhoto                     | inline images |
 * | VCARD KIND:group, MEMBER   | DistributionList, Members                         | members by address (mailto:) or as contacts (by UID, resolved to their ItemId) |
 * | anything else (X-, GEO, LANG, ...)         | —                                 | nothing |
 */
export const MAPPING: readonly { component: string; property: string | null; ews: string; kept: string }[] = [
  { component: 'VEVENT', property: 'SUMMARY', ews: 'Subject', kept: 'all' },
  { component: 'VEVENT', property: 'DESCRIPTION', ews: 'Body', kept: 'all' },
  { component: 'VEVENT', property: 'LOCATION', ews: 'Location', kept: 'all' },
  { component: 'VEVENT', property: 'DTSTART', ews: 'Start, StartTimeZone', kept: 'the moment; the time zone by its Windows name, which reads back as the IANA zone CLDR gives it; a floating time is stored in UTC' },
  { component: 'VEVENT', property: 'DTEND', ews: 'End, EndTimeZone', kept: 'the moment; the time zone by its Windows name; a floating time is stored in UTC' },
  { component: 'VEVENT', property: 'DURATION', ews: 'End', kept: 'as an end time (DTEND)' },
  { component: 'VEVENT', property: 'RRULE', ews: 'Recurrence', kept: "the rules Exchange's patterns can say (daily, weekly, monthly or yearly on a day or the nth weekday); UNTIL as a day, parts that repeat the first occurrence left out" },
  { component: 'VEVENT', property: 'EXDATE', ews: 'DeletedOccurrences', kept: 'all' },
  { component: 'VEVENT', property: 'RECURRENCE-ID', ews: 'ModifiedOccurrences', kept: 'all' },
  { component: 'VEVENT', property: 'RDATE', ews: '—', kept: 'nothing: Exchange has no extra dates of a series' },
  { component: 'VEVENT', property: 'ORGANIZER', ews: 'ExtendedProperty 0x0042 / 0x0065', kept: 'name and address, not other parameters' },
  { component: 'VEVENT', property: 'ATTENDEE', ews: 'RequiredAttendees / OptionalAttendees / Resources', kept: 'address, name, role (required, optional, resource) and answer; not RSVP, CUTYPE of people, delegation or other parameters' },
  { component: 'VEVENT', property: 'CATEGORIES', ews: 'Categories', kept: 'all' },
  { component: 'VEVENT', property: 'CLASS', ews: 'Sensitivity', kept: 'PRIVATE and CONFIDENTIAL; PUBLIC is the default' },
  { component: 'VEVENT', property: 'PRIORITY', ews: 'Importance', kept: 'high (1), normal (none) or low (9)' },
  { component: 'VEVENT', property: 'TRANSP', ews: 'LegacyFreeBusyStatus', kept: 'free (TRANSPARENT) or busy (the default)' },
  { component: 'VEVENT', property: 'STATUS', ews: '—', kept: 'nothing: a cancelled meeting is a state Exchange sets itself' },
  { component: 'VEVENT', property: 'UID', ews: 'UID, ExtendedProperty SourceUid', kept: 'all' },
  { component: 'VEVENT', property: 'SEQUENCE', ews: '—', kept: 'nothing: Exchange counts versions itself' },
  { component: 'VEVENT', property: 'CREATED', ews: 'DateTimeCreated', kept: 'nothing: Exchange sets it when the item is written' },
  { component: 'VEVENT', property: 'LAST-MODIFIED', ews: 'LastModifiedTime', kept: 'nothing: Exchange sets it when the item is written' },
  { component: 'VEVENT', property: 'ATTACH', ews: '—', kept: 'nothing: attachments of events are not copied' },
  { component: 'VALARM', property: null, ews: 'ReminderIsSet, ReminderMinutesBeforeStart (events) / ReminderDueBy (tasks)', kept: 'one display reminder, before the start (events) or at a moment (tasks)' },
  { component: 'VTIMEZONE', property: null, ews: 'StartTimeZone Id', kept: "the zone by name: its rules come back from the zone database, not the source's text" },
  { component: 'VTODO', property: 'SUMMARY', ews: 'Subject', kept: 'all' },
  { component: 'VTODO', property: 'DESCRIPTION', ews: 'Body', kept: 'all' },
  { component: 'VTODO', property: 'DTSTART', ews: 'StartDate', kept: 'the day, not the time' },
  { component: 'VTODO', property: 'DUE', ews: 'DueDate', kept: 'the day, not the time' },
  { component: 'VTODO', property: 'STATUS', ews: 'Status', kept: "NEEDS-ACTION, IN-PROCESS, COMPLETED; CANCELLED as Deferred (Exchange has no cancelled task); Exchange's WaitingOnOthers reads as IN-PROCESS" },
  { component: 'VTODO', property: 'PERCENT-COMPLETE', ews: 'PercentComplete', kept: 'all; 100 when completed' },
  { component: 'VTODO', property: 'COMPLETED', ews: 'CompleteDate', kept: 'all' },
  { component: 'VTODO', property: 'RRULE', ews: 'Recurrence', kept: 'as for events' },
  { component: 'VTODO', property: 'PRIORITY', ews: 'Importance', kept: 'high (1), normal (none) or low (9)' },
  { component: 'VTODO', property: 'RELATED-TO', ews: '—', kept: 'nothing: Exchange tasks have no parent task' },
  { component: 'VTODO', property: 'CATEGORIES', ews: 'Categories', kept: 'all' },
  { component: 'VTODO', property: 'SEQUENCE', ews: '—', kept: 'nothing: Exchange counts versions itself' },
  { component: 'VTODO', property: 'CREATED', ews: 'DateTimeCreated', kept: 'nothing: Exchange sets it when the item is written' },
  { component: 'VTODO', property: 'LAST-MODIFIED', ews: 'LastModifiedTime', kept: 'nothing: Exchange sets it when the item is written' },
  { component: 'VTODO', property: 'ATTACH', ews: '—', kept: 'nothing: attachments of tasks are not copied' },
  { component: 'VCARD', property: 'FN', ews: 'DisplayName', kept: 'all' },
  { component: 'VCARD', property: 'REV', ews: 'LastModifiedTime', kept: 'nothing: Exchange sets it when the contact is written' },
  { component: 'VCARD', property: 'N', ews: 'Surname, GivenName, MiddleName, Generation', kept: 'all but the honorific prefix' },
  { component: 'VCARD', property: 'NICKNAME', ews: 'Nickname', kept: 'the first' },
  { component: 'VCARD', property: 'ORG', ews: 'CompanyName, Department', kept: 'company and one department' },
  { component: 'VCARD', property: 'TITLE', ews: 'JobTitle', kept: 'the first' },
  { component: 'VCARD', property: 'ROLE', ews: 'Profession', kept: 'the first' },
  { component: 'VCARD', property: 'EMAIL', ews: 'EmailAddresses', kept: 'three addresses, not their kind (TYPE) or preference' },
  { component: 'VCARD', property: 'TEL', ews: 'PhoneNumbers', kept: "one number for each of Exchange's kinds (business, home, mobile, fax, pager, ...), not other TYPE values or preference" },
  { component: 'VCARD', property: 'ADR', ews: 'PhysicalAddresses', kept: 'one home, one business and one other address; no post office box or extended address, no preference' },
  { component: 'VCARD', property: 'IMPP', ews: 'ImAddresses', kept: 'three' },
  { component: 'VCARD', property: 'URL', ews: 'BusinessHomePage', kept: 'the first' },
  { component: 'VCARD', property: 'BDAY', ews: 'Birthday', kept: 'a full date' },
  { component: 'VCARD', property: 'ANNIVERSARY', ews: 'WeddingAnniversary', kept: 'a full date' },
  { component: 'VCARD', property: 'NOTE', ews: 'Body', kept: 'all' },
  { component: 'VCARD', property: 'CATEGORIES', ews: 'Categories', kept: 'all' },
  { component: 'VCARD', property: 'PHOTO', ews: 'FileAttachment IsContactPhoto', kept: 'an inline image, not a link' },
  { component: 'VCARD', property: 'KIND', ews: 'DistributionList', kept: 'groups' },
  { component: 'VCARD', property: 'MEMBER', ews: 'DistributionList Members', kept: 'members by e-mail address (mailto:), and by UID where the contact is in the same mailbox' },
];

export interface NotMapped {
  /** VEVENT, VTODO, VALARM, VTIMEZONE, VCARD. */
  component: string;
  /** The property, upper-case; null for a whole component. */
  property: string | null;
  /** In words, without the item's values. */
  reason: string;
}

/** Where a copy keeps the source's UID on the Exchange item, so a retry finds it (FindItem restriction on it). */
export const SOURCE_UID_PROPERTY = { propertySetId: '5c0e5a3e-8a57-4c1d-9f0b-6b4f5e1d2a90', propertyName: 'SourceUid', propertyType: 'String' } as const;
/** PidTagSentRepresentingName / PidTagSentRepresentingEmailAddress: the organizer of an imported meeting. */
const ORGANIZER_NAME_TAG = '0x0042';
const ORGANIZER_EMAIL_TAG = '0x0065';

function reasonFor(component: string, property: string | null): string {
  const row = MAPPING.find((r) => r.component === component && r.property === property) ?? MAPPING.find((r) => r.component === component && r.property === null);
  if (row) return `${property ?? component} → ${row.ews}: ${row.kept}`;
  return `${property ?? component}: Exchange has no field for it`;
}

/**
 * What of `original` does not come back from Exchange, measured: the normal forms (the part 1
 * verifier's) of the text and of its round trip through the EWS item, property by property.
 */
function measureNotMapped(original: string, back: string): NotMapped[] {
  const a = normalisedLines(original);
  const b = normalisedLines(back);
  const count = (lines: string[]) => lines.reduce((map, line) => map.set(line, (map.get(line) ?? 0) + 1), new Map<string, number>());
  const inA = count(a);
  const inB = count(b);
  const changed = [...[...inA].filter(([line, n]) => (inB.get(line) ?? 0) < n), ...[...inB].filter(([line, n]) => (inA.get(line) ?? 0) < n)].map(([line]) => line);
  const out = new Map<string, NotMapped>();
  for (const line of changed) {
    const key = lineKey(line);
    const id = `${key.component}|${key.property}`;
    if (!out.has(id)) out.set(id, { ...key, reason: reasonFor(key.component, key.property) });
  }
  return [...out.values()];
}

/** The component and property a normalised line belongs to (as notMapped names them). */
export function lineKey(line: string): { component: string; property: string | null } {
  const bar = line.indexOf('|');
  const path = line.slice(0, bar).replace(/\[[^\]]*\]/g, '');
  const property = /^[^;:]+/.exec(line.slice(bar + 1))![0].toUpperCase();
  if (path.includes('/VTIMEZONE')) return { component: 'VTIMEZONE', property: null };
  if (path.endsWith('/VALARM')) return { component: 'VALARM', property: null };
  return { component: path.split('/').pop() ?? '', property };
}

// ---------------------------------------------------------------------------------------------
// iCalendar / vCard → EWS

export interface EwsOccurrenceWrite {
  /** The occurrence's original start (RECURRENCE-ID), as EWS writes it. */
  originalStart: string;
  /** Its position in the series (OccurrenceItemId InstanceIndex, from 1), counted by ical.js. */
  instanceIndex: number | null;
  item: EwsCalendarItem;
  xml: string;
}

export interface EwsWrite {
  item: EwsItem;
  /** t:CalendarItem / t:Contact / t:DistributionList / t:Task for CreateItem. */
  xml: string;
  /** Overridden instances, to update after the master exists. */
  occurrences: EwsOccurrenceWrite[];
  /** EXDATEs, to delete after the master exists. */
  deletedOccurrences: { originalStart: string; instanceIndex: number | null }[];
  /** The contact photo's t:FileAttachment for CreateAttachment. */
  photoXml: string | null;
  /** A group's members by UID (MEMBER urn:uuid:...): write their contacts first, then resolve them with `contactIdOf`. */
  memberUids: string[];
  notMapped: NotMapped[];
}

export class EwsMappingError extends Error {}

/** The ItemId of the target's contact with this source UID (found by the SourceUid extended property), or null. */
export type ContactIdOf = (uid: string) => string | null;
/** The UID (as a MEMBER URI) of the contact with this ItemId, or null. */
export type ContactUidOf = (contactId: string) => string | null;

function parseText(data: string): ICAL.Component {
  try {
    const jcal = ICAL.parse(data) as unknown;
    const first = Array.isArray(jcal) && Array.isArray(jcal[0]) ? (jcal[0] as unknown) : jcal;
    return new ICAL.Component(first as never);
  } catch (error) {
    throw new EwsMappingError(`not valid iCalendar or vCard: ${(error as Error).message.split('\n')[0]}`);
  }
}

const text = (value: unknown): string | undefined => {
  if (value === null || value === undefined) return undefined;
  const s = xmlSafe(Array.isArray(value) ? value.join(',') : String(value));
  return s === '' ? undefined : s;
};

function sourceUidProperty(uid: string): EwsExtendedProperty {
  return { ...SOURCE_UID_PROPERTY, value: uid };
}

function importanceOf(priority: unknown): EwsImportance | undefined {
  const n = Number(priority);
  if (!Number.isFinite(n) || n === 0) return undefined;
  return n <= 4 ? 'High' : n === 5 ? 'Normal' : 'Low';
}

function sensitivityOf(value: unknown): EwsSensitivity | undefined {
  const s = String(value ?? '').toUpperCase();
  return s === 'PRIVATE' ? 'Private' : s === 'CONFIDENTIAL' ? 'Confidential' : s === 'PUBLIC' ? 'Normal' : undefined;
}

function categoriesOf(component: ICAL.Component): string[] {
  return component.getAllProperties('categories').flatMap((p) => p.getValues().map((v) => xmlSafe(String(v))));
}

const PARTSTAT: Record<string, EwsResponseType> = { ACCEPTED: 'Accept', DECLINED: 'Decline', TENTATIVE: 'Tentative', 'NEEDS-ACTION': 'NoResponseReceived' };

function mailboxOf(property: ICAL.Property): { name?: string; email: string } | null {
  const email = String(property.getFirstValue() ?? '').replace(/^mailto:/i, '').trim();
  if (!email) return null;
  const name = text(property.getParameter('cn'));
  return { email: xmlSafe(email), ...(name ? { name } : {}) };
}

interface TimeContext {
  zones: Map<string, ICAL.Timezone>;
  /** IANA zone whose midnights all-day events start at (the mailbox's); null: UTC. */
  allDayZone: string | null;
  /** What the conversion knows it drops, with the specific reason (before the measured rest). */
  explicit: NotMapped[];
}

/** A DTSTART-like property as EWS has it: a UTC moment, its Windows zone, and the wall date in that zone. */
function ewsTime(property: ICAL.Property, context: TimeContext): { value: string; epoch: number; windows: string; iana: string | null; isDate: boolean } {
  const time = property.getFirstValue() as ICAL.Time;
  if (time.isDate) {
    const zone = context.allDayZone;
    const windows = zone ? windowsOf(zone) : null;
    if (zone && windows) {
      const epoch = epochOfWall({ year: time.year, month: time.month, day: time.day, hour: 0, minute: 0, second: 0 }, zone);
      return { value: ewsDateTime(epoch), epoch, windows, iana: zone, isDate: true };
    }
    const epoch = Date.UTC(time.year, time.month - 1, time.day) / 1000;
    return { value: ewsDateTime(epoch), epoch, windows: UTC_WINDOWS_ZONE, iana: null, isDate: true };
  }
  const tzid = text(property.getParameter('tzid')) ?? null;
  const iana = tzid ? ianaOf(tzid) : null;
  const epoch = epochOfTime(time, tzid, context.zones) ?? Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute, time.second) / 1000;
  const windows = (tzid && iana && windowsOf(tzid)) || UTC_WINDOWS_ZONE;
  return { value: ewsDateTime(epoch), epoch, windows, iana: windows === UTC_WINDOWS_ZONE ? null : iana, isDate: false };
}

function anchorOf(epoch: number, iana: string | null): Anchor {
  const wall = wallTimeIn(epoch, iana ?? 'UTC');
  return { year: wall.year, month: wall.month, day: wall.day, weekday: new Date(Date.UTC(wall.year, wall.month - 1, wall.day)).getUTCDay() };
}

function untilDate(rule: ICAL.Recur, context: TimeContext, iana: string | null, tzid: string | null): string | null {
  const until = rule.until;
  if (!until) return null;
  if (until.isDate) return isoDate(until.year, until.month, until.day);
  const epoch = epochOfTime(until, until.zone === ICAL.Timezone.utcTimezone ? null : tzid, context.zones) ?? Date.UTC(until.year, until.month - 1, until.day, until.hour, until.minute, until.second) / 1000;
  const wall = wallTimeIn(epoch, iana ?? 'UTC');
  return isoDate(wall.year, wall.month, wall.day);
}

function ruleJson(rule: ICAL.Recur): RuleJson {
  const { until: _until, ...json } = rule.toJSON() as RuleJson & { until?: unknown };
  return json;
}

function calendarItemOf(event: ICAL.Component, context: TimeContext): EwsCalendarItem {
  const dtstart = event.getFirstProperty('dtstart');
  if (!dtstart) throw new EwsMappingError('an event without DTSTART');
  const start = ewsTime(dtstart, context);
  const dtend = event.getFirstProperty('dtend');
  let end: { value: string; windows: string };
  if (dtend) end = ewsTime(dtend, context);
  else {
    const duration = event.getFirstPropertyValue('duration') as ICAL.Duration | null;
    const seconds = duration ? duration.toSeconds() : start.isDate ? 86_400 : 0;
    end = { value: ewsDateTime(start.epoch + seconds), windows: start.windows };
  }
  const alarm = event.getAllSubcomponents('valarm').find((a) => {
    const trigger = a.getFirstProperty('trigger');
    const value = trigger?.getFirstValue();
    return value instanceof ICAL.Duration && String(trigger?.getParameter('related') ?? 'START').toUpperCase() === 'START' && value.toSeconds() <= 0;
  });
  const attendees = event.getAllProperties('attendee');
  const organizer = event.getFirstProperty('organizer');
  const organizerBox = organizer ? mailboxOf(organizer) : null;
  const attendeeOf = (p: ICAL.Property): EwsAttendee | null => {
    const mailbox = mailboxOf(p);
    if (!mailbox) return null;
    const responseType = PARTSTAT[String(p.getParameter('partstat') ?? '').toUpperCase()];
    return { mailbox, ...(responseType && responseType !== 'NoResponseReceived' ? { responseType } : {}) };
  };
  const isResource = (p: ICAL.Property) => ['RESOURCE', 'ROOM'].includes(String(p.getParameter('cutype') ?? '').toUpperCase());
  const role = (p: ICAL.Property) => String(p.getParameter('role') ?? '').toUpperCase();
  const uid = text(event.getFirstPropertyValue('uid'));
  const description = text(event.getFirstPropertyValue('description'));
  const rrule = event.getFirstPropertyValue('rrule') as ICAL.Recur | null;
  const item: EwsCalendarItem = {
    kind: 'CalendarItem',
    ...(text(event.getFirstPropertyValue('summary')) ? { subject: text(event.getFirstPropertyValue('summary'))! } : {}),
    ...(sensitivityOf(event.getFirstPropertyValue('class')) ? { sensitivity: sensitivityOf(event.getFirstPropertyValue('class'))! } : {}),
    ...(description ? { body: { type: 'Text' as const, text: description } } : {}),
    categories: categoriesOf(event),
    ...(importanceOf(event.getFirstPropertyValue('priority')) ? { importance: importanceOf(event.getFirstPropertyValue('priority'))! } : {}),
    reminderIsSet: Boolean(alarm),
    ...(alarm ? { reminderMinutesBeforeStart: Math.round(-(alarm.getFirstPropertyValue('trigger') as ICAL.Duration).toSeconds() / 60) } : {}),
    extendedProperties: [
      ...(uid ? [sourceUidProperty(uid)] : []),
      ...(organizerBox?.name ? [{ propertyTag: ORGANIZER_NAME_TAG, propertyType: 'String', value: organizerBox.name }] : []),
      ...(organizerBox ? [{ propertyTag: ORGANIZER_EMAIL_TAG, propertyType: 'String', value: organizerBox.email }] : []),
    ],
    ...(uid ? { uid } : {}),
    start: start.value,
    end: end.value,
    isAllDayEvent: start.isDate,
    ...(String(event.getFirstPropertyValue('transp') ?? '').toUpperCase() === 'TRANSPARENT' ? { legacyFreeBusyStatus: 'Free' as const } : {}),
    ...(text(event.getFirstPropertyValue('location')) ? { location: text(event.getFirstPropertyValue('location'))! } : {}),
    ...(organizerBox ? { organizer: organizerBox } : {}),
    requiredAttendees: attendees.filter((p) => !isResource(p) && role(p) !== 'OPT-PARTICIPANT' && role(p) !== 'NON-PARTICIPANT').flatMap((p) => attendeeOf(p) ?? []),
    optionalAttendees: attendees.filter((p) => !isResource(p) && (role(p) === 'OPT-PARTICIPANT' || role(p) === 'NON-PARTICIPANT')).flatMap((p) => attendeeOf(p) ?? []),
    resources: attendees.filter(isResource).flatMap((p) => attendeeOf(p) ?? []),
    modifiedOccurrences: [],
    deletedOccurrences: [],
    startTimeZone: start.windows,
    endTimeZone: end.windows,
  };
  if (rrule) {
    const tzid = text(dtstart.getParameter('tzid')) ?? null;
    const recurrence = recurrenceFromRule(ruleJson(rrule), anchorOf(start.epoch, start.iana), untilDate(rrule, context, start.iana, tzid));
    if ('pattern' in recurrence) item.recurrence = recurrence;
    else context.explicit.push({ component: 'VEVENT', property: 'RRULE', reason: `no Exchange recurrence for ${recurrence.reason}: only the first occurrence is kept` });
  }
  return item;
}

/** The position (from 1) of an occurrence in its series, by ical.js's expansion of the rule. */
function instanceIndexOf(master: ICAL.Component, originalStart: ICAL.Time): number | null {
  const rrule = master.getFirstPropertyValue('rrule') as ICAL.Recur | null;
  const dtstart = master.getFirstPropertyValue('dtstart') as ICAL.Time | null;
  if (!rrule || !dtstart) return null;
  const target = originalStart.toString().replace(/Z$/, '');
  const iterator = rrule.iterator(dtstart);
  for (let index = 1, next = iterator.next(); next && index <= 10_000; index++, next = iterator.next()) {
    const here = next.toString().replace(/Z$/, '');
    if (here === target) return index;
    if (here > target) return null;
  }
  return null;
}

function eventToEws(root: ICAL.Component, context: TimeContext): Omit<EwsWrite, 'notMapped' | 'photoXml' | 'memberUids'> {
  const events = root.getAllSubcomponents('vevent');
  const master = events.find((e) => !e.hasProperty('recurrence-id')) ?? events[0]!;
  const item = calendarItemOf(master, context);
  const occurrences: EwsOccurrenceWrite[] = [];
  const deletedOccurrences: EwsWrite['deletedOccurrences'] = [];
  if (!item.recurrence && events.some((e) => e !== master && e.hasProperty('recurrence-id'))) {
    context.explicit.push({ component: 'VEVENT', property: 'RECURRENCE-ID', reason: 'overridden instances of a series Exchange cannot repeat are not kept' });
  }
  if (item.recurrence) {
    for (const override of events.filter((e) => e !== master && e.hasProperty('recurrence-id'))) {
      const recurrenceId = override.getFirstProperty('recurrence-id')!;
      const occurrence = calendarItemOf(override, context);
      const originalStart = ewsTime(recurrenceId, context).value;
      const exception: EwsCalendarItem = { ...occurrence, originalStart, calendarItemType: 'Exception', extendedProperties: occurrence.extendedProperties.filter((p) => p.propertyName !== SOURCE_UID_PROPERTY.propertyName) };
      occurrences.push({ originalStart, instanceIndex: instanceIndexOf(master, recurrenceId.getFirstValue() as ICAL.Time), item: exception, xml: writeEwsItem(exception) });
    }
    for (const exdate of master.getAllProperties('exdate')) {
      for (const value of exdate.getValues() as ICAL.Time[]) {
        const single = new ICAL.Property(['exdate', exdate.toJSON()[1], exdate.type, value.toString()] as never);
        single.setValue(value);
        deletedOccurrences.push({ originalStart: ewsTime(single, context).value, instanceIndex: instanceIndexOf(master, value) });
      }
    }
    item.calendarItemType = 'RecurringMaster';
    item.deletedOccurrences = deletedOccurrences.map((d) => d.originalStart);
    item.modifiedOccurrences = occurrences.map((o) => ({ start: o.item.start, end: o.item.end, originalStart: o.originalStart }));
  }
  return { item, xml: writeEwsItem(item), occurrences, deletedOccurrences };
}

const TASK_STATUS: Record<string, EwsTaskStatus> = { 'NEEDS-ACTION': 'NotStarted', 'IN-PROCESS': 'InProgress', COMPLETED: 'Completed', CANCELLED: 'Deferred' };

/** A task's day (Exchange keeps task dates as days): midnight UTC of the date the text gives. */
function taskDay(property: ICAL.Property | null, context: TimeContext): string | undefined {
  if (!property) return undefined;
  const time = property.getFirstValue() as ICAL.Time;
  if (time.isDate || !property.getParameter('tzid')) return `${isoDate(time.year, time.month, time.day)}T00:00:00Z`;
  const t = ewsTime(property, context);
  const wall = wallTimeIn(t.epoch, t.iana ?? 'UTC');
  return `${isoDate(wall.year, wall.month, wall.day)}T00:00:00Z`;
}

function taskToEws(root: ICAL.Component, context: TimeContext): Omit<EwsWrite, 'notMapped' | 'photoXml' | 'memberUids'> {
  const todo = root.getFirstSubcomponent('vtodo')!;
  const uid = text(todo.getFirstPropertyValue('uid'));
  const description = text(todo.getFirstPropertyValue('description'));
  const status = TASK_STATUS[String(todo.getFirstPropertyValue('status') ?? '').toUpperCase()];
  const percent = todo.getFirstPropertyValue('percent-complete');
  const completed = todo.getFirstProperty('completed');
  const start = todo.getFirstProperty('dtstart');
  const due = todo.getFirstProperty('due');
  const alarm = todo.getFirstSubcomponent('valarm');
  let reminder: string | undefined;
  const trigger = alarm?.getFirstProperty('trigger');
  if (trigger) {
    const value = trigger.getFirstValue();
    if (value instanceof ICAL.Time) reminder = ewsTime(trigger, context).value;
    else if (value instanceof ICAL.Duration) {
      const related = String(trigger.getParameter('related') ?? 'START').toUpperCase() === 'END' ? due : (start ?? due);
      if (related) reminder = ewsDateTime(ewsTime(related, context).epoch + value.toSeconds());
    }
  }
  const item: EwsTask = {
    kind: 'Task',
    ...(text(todo.getFirstPropertyValue('summary')) ? { subject: text(todo.getFirstPropertyValue('summary'))! } : {}),
    ...(sensitivityOf(todo.getFirstPropertyValue('class')) ? { sensitivity: sensitivityOf(todo.getFirstPropertyValue('class'))! } : {}),
    ...(description ? { body: { type: 'Text' as const, text: description } } : {}),
    categories: categoriesOf(todo),
    ...(importanceOf(todo.getFirstPropertyValue('priority')) ? { importance: importanceOf(todo.getFirstPropertyValue('priority'))! } : {}),
    ...(reminder ? { reminderDueBy: reminder } : {}),
    reminderIsSet: Boolean(reminder),
    extendedProperties: uid ? [sourceUidProperty(uid)] : [],
    ...(completed ? { completeDate: ewsTime(completed, context).value } : {}),
    ...(taskDay(due, context) ? { dueDate: taskDay(due, context)! } : {}),
    ...(percent !== null && percent !== undefined ? { percentComplete: Number(percent) } : status === 'Completed' ? { percentComplete: 100 } : {}),
    ...(taskDay(start, context) ? { startDate: taskDay(start, context)! } : {}),
    ...(status ? { status } : {}),
  };
  const rrule = todo.getFirstPropertyValue('rrule') as ICAL.Recur | null;
  const anchorProperty = start ?? due;
  if (rrule && anchorProperty) {
    const at = ewsTime(anchorProperty, context);
    const recurrence = recurrenceFromRule(ruleJson(rrule), anchorOf(at.epoch, at.iana), untilDate(rrule, context, at.iana, text(anchorProperty.getParameter('tzid')) ?? null));
    if ('pattern' in recurrence) item.recurrence = recurrence;
    else context.explicit.push({ component: 'VTODO', property: 'RRULE', reason: `no Exchange recurrence for ${recurrence.reason}: the task is kept once` });
  }
  return { item, xml: writeEwsItem(item), occurrences: [], deletedOccurrences: [] };
}

const PHONE_KEYS: { key: string; types: string[] }[] = [
  { key: 'BusinessFax', types: ['work', 'fax'] },
  { key: 'HomeFax', types: ['home', 'fax'] },
  { key: 'OtherFax', types: ['fax'] },
  { key: 'MobilePhone', types: ['cell'] },
  { key: 'Pager', types: ['pager'] },
  { key: 'CarPhone', types: ['car'] },
  { key: 'Isdn', types: ['isdn'] },
  { key: 'BusinessPhone', types: ['work'] },
  { key: 'BusinessPhone2', types: ['work'] },
  { key: 'HomePhone', types: ['home'] },
  { key: 'HomePhone2', types: ['home'] },
  { key: 'OtherTelephone', types: [] },
];

function typesOf(property: ICAL.Property): string[] {
  const raw = property.getParameter('type');
  const list = (Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw]).flatMap((t) => String(t).split(','));
  return list.map((t) => t.trim().toLowerCase()).filter((t) => t && t !== 'voice' && t !== 'pref' && t !== 'internet');
}

function phoneKey(types: string[], used: Set<string>): string | null {
  const fits = (entry: { types: string[] }) => entry.types.every((t) => types.includes(t)) && (entry.types.length > 0 || types.every((t) => !['fax', 'cell', 'pager', 'car', 'isdn'].includes(t)));
  return PHONE_KEYS.find((entry) => fits(entry) && !used.has(entry.key))?.key ?? (used.has('OtherTelephone') ? null : 'OtherTelephone');
}

function dateOnly(value: unknown): string | undefined {
  const s = value instanceof ICAL.Time || value instanceof ICAL.VCardTime ? value.toString() : String(value ?? '');
  const match = /^(\d{4})-?(\d{2})-?(\d{2})/.exec(s);
  return match ? `${match[1]}-${match[2]}-${match[3]}T00:00:00Z` : undefined;
}

function contactToEws(card: ICAL.Component, contactIdOf: ContactIdOf, explicit: NotMapped[]): Omit<EwsWrite, 'notMapped'> {
  const uid = text(card.getFirstPropertyValue('uid'));
  const first = (name: string) => {
    const value = card.getFirstPropertyValue(name);
    return text(Array.isArray(value) ? value[0] : value);
  };
  const note = text(card.getFirstPropertyValue('note'));
  const base = {
    ...(note ? { body: { type: 'Text' as const, text: note } } : {}),
    categories: categoriesOf(card),
    extendedProperties: uid ? [sourceUidProperty(uid)] : [],
  };
  if (String(card.getFirstPropertyValue('kind') ?? '').toLowerCase() === 'group') {
    const list: EwsDistributionList = {
      kind: 'DistributionList',
      ...base,
      ...(first('fn') ? { displayName: first('fn')! } : {}),
      members: [],
    };
    const memberUids: string[] = [];
    for (const member of card.getAllProperties('member')) {
      const value = String(member.getFirstValue() ?? '').trim();
      if (/^mailto:/i.test(value)) {
        list.members.push({ email: xmlSafe(value.replace(/^mailto:/i, '')) });
        continue;
      }
      memberUids.push(value);
      // urn:uuid:X names the contact whose UID is urn:uuid:X or, as Apple and the corpus write it, X.
      const contactId = contactIdOf(value) ?? contactIdOf(value.replace(/^urn:uuid:/i, ''));
      if (contactId) list.members.push({ contactId });
      else if (!explicit.some((n) => n.property === 'MEMBER')) explicit.push({ component: 'VCARD', property: 'MEMBER', reason: 'a member by UID whose contact is not on the target: left out of the group' });
    }
    return { item: list, xml: writeEwsItem(list), occurrences: [], deletedOccurrences: [], photoXml: null, memberUids };
  }
  const n = card.getFirstPropertyValue('n') as unknown;
  const parts = (Array.isArray(n) ? n : [n ?? '']).map((p: unknown) => text(Array.isArray(p) ? p.join(' ') : p));
  const org = card.getFirstPropertyValue('org') as unknown;
  const orgParts = (Array.isArray(org) ? org : org ? [org] : []).map((p: unknown) => text(p));
  const usedPhones = new Set<string>();
  const phoneNumbers = card.getAllProperties('tel').flatMap((p) => {
    const number = text(String(p.getFirstValue() ?? '').replace(/^tel:/i, ''));
    const key = number ? phoneKey(typesOf(p), usedPhones) : null;
    if (!number || !key) return [];
    usedPhones.add(key);
    return [{ key, number }];
  });
  const usedAddresses = new Set<string>();
  const physicalAddresses = card.getAllProperties('adr').flatMap((p): EwsPhysicalAddress[] => {
    const types = typesOf(p);
    const key = types.includes('work') ? 'Business' : types.includes('home') ? 'Home' : 'Other';
    if (usedAddresses.has(key)) return [];
    usedAddresses.add(key);
    const value = p.getFirstValue() as unknown;
    const a = (Array.isArray(value) ? value : [value]).map((v: unknown) => text(Array.isArray(v) ? v.join('\n') : v));
    return [{ key, ...(a[2] ? { street: a[2] } : {}), ...(a[3] ? { city: a[3] } : {}), ...(a[4] ? { state: a[4] } : {}), ...(a[6] ? { countryOrRegion: a[6] } : {}), ...(a[5] ? { postalCode: a[5] } : {}) }];
  });
  const photoValue = String(card.getFirstPropertyValue('photo') ?? '');
  const photoMatch = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/is.exec(photoValue.trim());
  const contact: EwsContact = {
    kind: 'Contact',
    ...base,
    ...(first('fn') ? { displayName: first('fn')! } : {}),
    ...(parts[1] ? { givenName: parts[1] } : {}),
    ...(parts[2] ? { middleName: parts[2] } : {}),
    ...(first('nickname') ? { nickname: first('nickname')! } : {}),
    ...(orgParts[0] ? { companyName: orgParts[0] } : {}),
    emailAddresses: card
      .getAllProperties('email')
      .slice(0, 3)
      .flatMap((p, i) => (text(p.getFirstValue()) ? [{ key: `EmailAddress${i + 1}`, address: text(p.getFirstValue())! }] : [])),
    physicalAddresses,
    phoneNumbers,
    ...(dateOnly(card.getFirstPropertyValue('bday')) ? { birthday: dateOnly(card.getFirstPropertyValue('bday'))! } : {}),
    ...(first('url') ? { businessHomePage: first('url')! } : {}),
    ...(orgParts[1] ? { department: orgParts[1] } : {}),
    ...(parts[4] ? { generation: parts[4] } : {}),
    imAddresses: card
      .getAllProperties('impp')
      .slice(0, 3)
      .flatMap((p, i) => (text(p.getFirstValue()) ? [{ key: `ImAddress${i + 1}`, address: text(p.getFirstValue())! }] : [])),
    ...(first('title') ? { jobTitle: first('title')! } : {}),
    ...(first('role') ? { profession: first('role')! } : {}),
    ...(parts[0] ? { surname: parts[0] } : {}),
    ...(dateOnly(card.getFirstPropertyValue('anniversary')) ? { weddingAnniversary: dateOnly(card.getFirstPropertyValue('anniversary'))! } : {}),
    ...(photoMatch ? { photo: { contentType: (photoMatch[1] ?? 'image/jpeg').toLowerCase(), content: photoMatch[2]!.replace(/\s+/g, '') } } : {}),
  };
  return { item: contact, xml: writeEwsItem(contact), occurrences: [], deletedOccurrences: [], photoXml: contact.photo ? writeContactPhoto(contact.photo) : null, memberUids: [] };
}

/**
 * The EWS item for a calendar resource or vCard, the occurrences to change and delete after it
 * is created, and what Exchange cannot hold of it (measured by reading the item back).
 */
export function toEws(data: string, kind: GroupwareKind, options: { allDayZone?: string; contactIdOf?: ContactIdOf } = {}): EwsWrite {
  const root = parseText(data);
  try {
    return convert(root, data, kind, options.allDayZone ? ianaOf(options.allDayZone) : null, options.contactIdOf ?? (() => null));
  } catch (error) {
    if (error instanceof EwsMappingError) throw error;
    // ical.js reads values lazily: a broken one (DTSTART:20081006 without VALUE=DATE) throws only here.
    throw new EwsMappingError(`not valid iCalendar or vCard: ${(error as Error).message.split('\n')[0]}`);
  }
}

function convert(root: ICAL.Component, data: string, kind: GroupwareKind, allDayZone: string | null, contactIdOf: ContactIdOf): EwsWrite {
  let result: Omit<EwsWrite, 'notMapped'>;
  const explicit: NotMapped[] = [];
  // The members this conversion resolved, so that reading the item back names them as the text did.
  const members = new Map<string, string>();
  const resolving: ContactIdOf = (uid) => {
    const id = contactIdOf(uid);
    if (id && !members.has(id)) members.set(id, uid);
    return id;
  };
  if (root.name === 'vcard') {
    if (kind !== 'contacts') throw new EwsMappingError('a vCard outside an address book');
    result = contactToEws(convertVcard(root, '4.0'), resolving, explicit);
  } else {
    const context: TimeContext = { allDayZone, explicit, zones: new Map(root.getAllSubcomponents('vtimezone').map((z) => [String(z.getFirstPropertyValue('tzid')), new ICAL.Timezone({ component: z, tzid: String(z.getFirstPropertyValue('tzid')) })])) };
    if (root.getFirstSubcomponent('vevent')) result = { ...eventToEws(root, context), photoXml: null, memberUids: [] };
    else if (root.getFirstSubcomponent('vtodo')) result = { ...taskToEws(root, context), photoXml: null, memberUids: [] };
    else throw new EwsMappingError('a calendar resource without VEVENT or VTODO');
  }
  const back = fromEws(result.item, result.occurrences.map((o) => o.item), { contactUidOf: (id) => members.get(id) ?? null });
  const known = new Set(explicit.map((n) => `${n.component}|${n.property}`));
  const measured = measureNotMapped(data, back.data).filter((n) => !known.has(`${n.component}|${n.property}`));
  return { ...result, notMapped: [...explicit, ...measured, ...back.notMapped] };
}

// ---------------------------------------------------------------------------------------------
// EWS → iCalendar / vCard

export interface EwsRead {
  uid: string;
  data: string;
  /** What of the Exchange item the text cannot say. */
  notMapped: NotMapped[];
}

function sourceUidOf(item: EwsItem): string | undefined {
  return item.extendedProperties.find((p) => p.propertySetId?.toLowerCase() === SOURCE_UID_PROPERTY.propertySetId && p.propertyName === SOURCE_UID_PROPERTY.propertyName)?.value;
}

function uidOf(item: EwsItem): string {
  const stored = sourceUidOf(item) ?? (item.kind === 'CalendarItem' ? item.uid : undefined);
  if (stored) return stored;
  // An item made in Exchange has no UID but its ItemId, stable while it stays in its folder.
  return `ews-${createHash('sha256').update(item.itemId?.id ?? JSON.stringify(item)).digest('hex').slice(0, 32)}`;
}

type Prop = [string, Record<string, unknown>, string, ...unknown[]];

function jcalDate(epoch: number, zone: string | null): string {
  const w = wallTimeIn(epoch, zone ?? 'UTC');
  return isoDate(w.year, w.month, w.day);
}

function jcalDateTime(epoch: number, zone: string | null): string {
  const w = wallTimeIn(epoch, zone ?? 'UTC');
  const p = (n: number) => String(n).padStart(2, '0');
  return `${isoDate(w.year, w.month, w.day)}T${p(w.hour)}:${p(w.minute)}:${p(w.second)}${zone ? '' : 'Z'}`;
}

function timeProp(name: string, ewsValue: string, isAllDay: boolean, zone: string | null): Prop {
  const epoch = epochOf(ewsValue);
  if (isAllDay) return [name, {}, 'date', jcalDate(epoch, zone)];
  return [name, zone ? { tzid: zone } : {}, 'date-time', jcalDateTime(epoch, zone)];
}

const RESPONSE: Partial<Record<EwsResponseType, string>> = { Accept: 'ACCEPTED', Decline: 'DECLINED', Tentative: 'TENTATIVE' };

function commonProps(item: EwsItem, props: Prop[], notMapped: NotMapped[], component: string): void {
  if (item.subject !== undefined) props.push(['summary', {}, 'text', item.subject]);
  if (item.body) {
    if (item.body.type === 'Text') props.push([component === 'VCARD' ? 'note' : 'description', {}, 'text', item.body.text]);
    else notMapped.push({ component, property: 'DESCRIPTION', reason: 'an HTML body: the endpoint asks for BodyType Text' });
  }
  if (item.categories.length) props.push(['categories', {}, 'text', ...item.categories]);
  if (item.sensitivity === 'Private' || item.sensitivity === 'Confidential') props.push(['class', {}, 'text', item.sensitivity.toUpperCase()]);
  else if (item.sensitivity === 'Personal') notMapped.push({ component, property: 'CLASS', reason: 'Sensitivity Personal has no iCalendar class' });
  if (item.importance === 'High') props.push(['priority', {}, 'integer', 1]);
  if (item.importance === 'Low') props.push(['priority', {}, 'integer', 9]);
}

function eventComponent(item: EwsCalendarItem, uid: string, notMapped: NotMapped[], recurrenceId: string | null, masterZone: string | null): ICAL.Component {
  // An all-day event starts at midnight of its zone, which Exchange answers in UTC: its days are those of the zone.
  const zone = ianaOfWindows(item.startTimeZone);
  const endZone = ianaOfWindows(item.endTimeZone ?? item.startTimeZone);
  const props: Prop[] = [['uid', {}, 'text', uid], ['dtstamp', {}, 'date-time', ewsDateTime(Math.floor(Date.now() / 1000)).replace(/Z$/, 'Z')]];
  if (recurrenceId) props.push(timeProp('recurrence-id', recurrenceId, item.isAllDayEvent, masterZone));
  props.push(timeProp('dtstart', item.start, item.isAllDayEvent, zone), timeProp('dtend', item.end, item.isAllDayEvent, endZone));
  commonProps(item, props, notMapped, 'VEVENT');
  if (item.location !== undefined) props.push(['location', {}, 'text', item.location]);
  if (item.legacyFreeBusyStatus === 'Free') props.push(['transp', {}, 'text', 'TRANSPARENT']);
  const organizerEmail = item.extendedProperties.find((p) => p.propertyTag === ORGANIZER_EMAIL_TAG)?.value;
  const organizerName = item.extendedProperties.find((p) => p.propertyTag === ORGANIZER_NAME_TAG)?.value;
  const organizer = organizerEmail ? { email: organizerEmail, name: organizerName } : item.organizer;
  const hasAttendees = item.requiredAttendees.length + item.optionalAttendees.length + item.resources.length > 0;
  // Exchange names the mailbox owner as organizer of every appointment; only a meeting has one worth writing.
  if (organizer && (organizerEmail || hasAttendees)) props.push(['organizer', organizer.name ? { cn: organizer.name } : {}, 'cal-address', `mailto:${organizer.email}`]);
  const attendee = (a: EwsAttendee, params: Record<string, string>): Prop => {
    const partstat = a.responseType ? RESPONSE[a.responseType] : undefined;
    return ['attendee', { ...(a.mailbox.name ? { cn: a.mailbox.name } : {}), ...params, ...(partstat ? { partstat } : {}) }, 'cal-address', `mailto:${a.mailbox.email}`];
  };
  for (const a of item.requiredAttendees) props.push(attendee(a, {}));
  for (const a of item.optionalAttendees) props.push(attendee(a, { role: 'OPT-PARTICIPANT' }));
  for (const a of item.resources) props.push(attendee(a, { cutype: 'RESOURCE' }));
  const subcomponents: unknown[] = [];
  if (item.reminderIsSet && item.reminderMinutesBeforeStart !== undefined) {
    subcomponents.push(['valarm', [['action', {}, 'text', 'DISPLAY'], ['description', {}, 'text', 'Reminder'], ['trigger', {}, 'duration', ICAL.Duration.fromSeconds(-item.reminderMinutesBeforeStart * 60).toString()]], []]);
  }
  if (item.recurrence && !recurrenceId) {
    const start = epochOf(item.start);
    const anchor = (() => {
      const w = wallTimeIn(start, zone ?? 'UTC');
      return { year: w.year, month: w.month, day: w.day, weekday: new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay() };
    })();
    const rule = ruleFromRecurrence(item.recurrence, anchor);
    if ('reason' in rule) notMapped.push({ component: 'VEVENT', property: 'RRULE', reason: rule.reason });
    else {
      const recur: Record<string, unknown> = { ...rule.rule };
      if (rule.endDate) {
        if (item.isAllDayEvent) recur.until = rule.endDate;
        else {
          const w = wallTimeIn(start, zone ?? 'UTC');
          const [y, m, d] = rule.endDate.split('-').map(Number) as [number, number, number];
          recur.until = ewsDateTime(epochOfWall({ year: y, month: m, day: d, hour: w.hour, minute: w.minute, second: w.second }, zone ?? 'UTC')).replace(/Z$/, 'Z');
        }
      }
      props.push(['rrule', {}, 'recur', recur]);
    }
    for (const deleted of item.deletedOccurrences) props.push(timeProp('exdate', deleted, item.isAllDayEvent, zone));
  }
  return new ICAL.Component(['vevent', props, subcomponents] as never);
}

function calendarText(components: ICAL.Component[], zones: Set<string>, years: [number, number]): string {
  const calendar = new ICAL.Component(['vcalendar', [['version', {}, 'text', '2.0'], ['prodid', {}, 'text', '-//Mailferry//Exchange//EN']], []] as never);
  for (const zone of zones) calendar.addSubcomponent(vtimezoneOf(zone, years[0], years[1]));
  for (const component of components) calendar.addSubcomponent(component);
  return `${calendar.toString()}\r\n`;
}

function yearsOf(item: EwsCalendarItem | EwsTask): [number, number] {
  const startValue = item.kind === 'CalendarItem' ? item.start : (item.startDate ?? item.dueDate);
  const year = startValue ? new Date(epochOf(startValue) * 1000).getUTCFullYear() : new Date().getUTCFullYear();
  const range = item.recurrence?.range;
  const last = range?.type === 'EndDateRecurrence' ? Number(range.endDate.slice(0, 4)) : range ? year + 5 : year;
  return [year, Math.min(Math.max(year, last), year + 30)];
}

function calendarFromEws(master: EwsCalendarItem, exceptions: EwsCalendarItem[], uid: string, notMapped: NotMapped[]): string {
  const zone = ianaOfWindows(master.startTimeZone);
  const components = [eventComponent(master, uid, notMapped, null, zone)];
  const zones = new Set<string>();
  const noteZones = (item: EwsCalendarItem) => {
    if (item.isAllDayEvent) return;
    for (const windows of [item.startTimeZone, item.endTimeZone ?? item.startTimeZone]) {
      const iana = ianaOfWindows(windows);
      if (iana) zones.add(iana);
      else if (windows && !/^(UTC|GMT)$/i.test(windows)) notMapped.push({ component: 'VEVENT', property: 'DTSTART', reason: 'a Windows time zone CLDR has no IANA name for: the times are written in UTC' });
    }
  };
  noteZones(master);
  for (const exception of exceptions) {
    const originalStart = exception.originalStart ?? master.modifiedOccurrences.find((o) => o.itemId && o.itemId.id === exception.itemId?.id)?.originalStart;
    if (!originalStart) continue;
    components.push(eventComponent(exception, uid, notMapped, originalStart, zone));
    noteZones(exception);
  }
  return calendarText(components, zones, yearsOf(master));
}

const STATUS_BACK: Record<EwsTaskStatus, string> = { NotStarted: 'NEEDS-ACTION', InProgress: 'IN-PROCESS', Completed: 'COMPLETED', WaitingOnOthers: 'IN-PROCESS', Deferred: 'CANCELLED' };

function taskFromEws(task: EwsTask, uid: string, notMapped: NotMapped[]): string {
  const props: Prop[] = [['uid', {}, 'text', uid], ['dtstamp', {}, 'date-time', ewsDateTime(Math.floor(Date.now() / 1000))]];
  commonProps(task, props, notMapped, 'VTODO');
  if (task.startDate) props.push(['dtstart', {}, 'date', task.startDate.slice(0, 10)]);
  if (task.dueDate) props.push(['due', {}, 'date', task.dueDate.slice(0, 10)]);
  if (task.status) props.push(['status', {}, 'text', STATUS_BACK[task.status]]);
  if (task.status === 'WaitingOnOthers') notMapped.push({ component: 'VTODO', property: 'STATUS', reason: `Status ${task.status} has no iCalendar status: written as ${STATUS_BACK[task.status]}` });
  if (task.percentComplete) props.push(['percent-complete', {}, 'integer', task.percentComplete]);
  if (task.completeDate) props.push(['completed', {}, 'date-time', ewsDateTime(epochOf(task.completeDate))]);
  const subcomponents: unknown[] = [];
  if (task.reminderIsSet && task.reminderDueBy) {
    subcomponents.push(['valarm', [['action', {}, 'text', 'DISPLAY'], ['description', {}, 'text', 'Reminder'], ['trigger', { value: 'DATE-TIME' }, 'date-time', ewsDateTime(epochOf(task.reminderDueBy))]], []]);
  }
  const anchorValue = task.startDate ?? task.dueDate;
  if (task.recurrence && anchorValue) {
    const d = new Date(epochOf(anchorValue) * 1000);
    const rule = ruleFromRecurrence(task.recurrence, { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), weekday: d.getUTCDay() });
    if ('reason' in rule) notMapped.push({ component: 'VTODO', property: 'RRULE', reason: rule.reason });
    else props.push(['rrule', {}, 'recur', { ...rule.rule, ...(rule.endDate ? { until: rule.endDate } : {}) }]);
  } else if (task.recurrence) notMapped.push({ component: 'VTODO', property: 'RRULE', reason: 'a recurring task without start or due date' });
  return calendarText([new ICAL.Component(['vtodo', props, subcomponents] as never)], new Set(), [0, 0]);
}

const PHONE_TYPES = new Map(PHONE_KEYS.map((entry) => [entry.key, entry.types]));

function contactFromEws(item: EwsContact | EwsDistributionList, uid: string, notMapped: NotMapped[], contactUidOf: ContactUidOf): string {
  const props: Prop[] = [['version', {}, 'text', '4.0'], ['uid', {}, 'text', uid]];
  const fn = item.displayName ?? item.fileAs ?? (item.kind === 'Contact' ? [item.givenName, item.middleName, item.surname].filter(Boolean).join(' ') : '');
  props.push(['fn', {}, 'text', fn]);
  if (item.kind === 'DistributionList') {
    props.push(['kind', {}, 'text', 'group']);
    for (const member of item.members) {
      const contactUid = member.contactId ? contactUidOf(member.contactId) : null;
      if (contactUid) props.push(['member', {}, 'uri', /^[a-z][a-z0-9+.-]*:/i.test(contactUid) ? contactUid : `urn:uuid:${contactUid}`]);
      else if (member.email) props.push(['member', {}, 'uri', `mailto:${member.email}`]);
      else notMapped.push({ component: 'VCARD', property: 'MEMBER', reason: 'a member contact of another folder or mailbox' });
    }
  } else {
    const c = item;
    if (c.surname || c.givenName || c.middleName || c.generation) props.push(['n', {}, 'text', [c.surname ?? '', c.givenName ?? '', c.middleName ?? '', '', c.generation ?? '']]);
    if (c.nickname) props.push(['nickname', {}, 'text', c.nickname]);
    if (c.companyName || c.department) props.push(['org', {}, 'text', c.department ? [c.companyName ?? '', c.department] : (c.companyName ?? '')]);
    if (c.jobTitle) props.push(['title', {}, 'text', c.jobTitle]);
    if (c.profession) props.push(['role', {}, 'text', c.profession]);
    for (const email of c.emailAddresses) props.push(['email', {}, 'text', email.address]);
    for (const phone of c.phoneNumbers) {
      const types = PHONE_TYPES.get(phone.key);
      if (!types) notMapped.push({ component: 'VCARD', property: 'TEL', reason: `phone kind ${phone.key} written without TYPE` });
      props.push(['tel', types?.length ? { type: types.length === 1 ? types[0] : types } : {}, 'uri', phone.number]);
    }
    for (const a of c.physicalAddresses) {
      const type = a.key === 'Business' ? { type: 'work' } : a.key === 'Home' ? { type: 'home' } : {};
      props.push(['adr', type, 'text', ['', '', a.street ?? '', a.city ?? '', a.state ?? '', a.postalCode ?? '', a.countryOrRegion ?? '']]);
    }
    for (const im of c.imAddresses) props.push(['impp', {}, 'uri', im.address]);
    if (c.businessHomePage) props.push(['url', {}, 'uri', c.businessHomePage]);
    if (c.birthday) props.push(['bday', {}, 'date', c.birthday.slice(0, 10)]);
    if (c.weddingAnniversary) props.push(['anniversary', {}, 'date', c.weddingAnniversary.slice(0, 10)]);
    if (c.photo) props.push(['photo', {}, 'uri', `data:${c.photo.contentType};base64,${c.photo.content}`]);
    for (const ignored of ['assistantName', 'manager', 'officeLocation', 'spouseName', 'initials'] as const) {
      if (c[ignored]) notMapped.push({ component: 'VCARD', property: ignored, reason: `${ignored} has no vCard property` });
    }
  }
  if (item.body?.type === 'Text') props.push(['note', {}, 'text', item.body.text]);
  if (item.categories.length) props.push(['categories', {}, 'text', ...item.categories]);
  return `${new ICAL.Component(['vcard', props, []] as never).toString()}\r\n`;
}

/**
 * The text of an Exchange item: a calendar item with its exceptions (the items its
 * ModifiedOccurrences name, read by GetItem), a task, a contact or a distribution list.
 */
export function fromEws(item: EwsItem, exceptions: EwsCalendarItem[] = [], options: { contactUidOf?: ContactUidOf } = {}): EwsRead {
  const uid = uidOf(item);
  const notMapped: NotMapped[] = [];
  let data: string;
  switch (item.kind) {
    case 'CalendarItem':
      data = calendarFromEws(item, exceptions, uid, notMapped);
      break;
    case 'Task':
      data = taskFromEws(item, uid, notMapped);
      break;
    default:
      data = contactFromEws(item, uid, notMapped, options.contactUidOf ?? (() => null));
  }
  return { uid, data, notMapped };
}
