/**
 * The one table of what maps between iCalendar / vCard and Microsoft Graph (event, contact, To
 * Do todoTask), and what cannot. `graph: null` means Microsoft 365 has no place for it: the
 * mapping lists it in `notMapped` with the item, in words, and the copy reports it. Any property
 * not in this table is reported the same way ("Microsoft 365 events have no such property"), and
 * round-trip.ts adds a line for any difference the mapping did not name, so nothing is lost
 * silently. mapping-table.test.ts checks that every property the mappers read has a row.
 */

export interface MappingRow {
  kind: 'event' | 'contact' | 'task';
  /** iCalendar / vCard property (upper case), or "PROPERTY PARAMETER". */
  ical: string;
  /** Graph property, or null where there is none. */
  graph: string | null;
  how: string;
}

export const GRAPH_MAPPING: readonly MappingRow[] = [
  // Events (VEVENT ↔ event)
  { kind: 'event', ical: 'UID', graph: 'iCalUId', how: 'Graph sets iCalUId itself on create: the target keeps the UID in the single-value extended property SourceUid (the property set the Exchange target uses too), read back first' },
  { kind: 'event', ical: 'SUMMARY', graph: 'subject', how: 'text; LANGUAGE and ALTREP not kept' },
  { kind: 'event', ical: 'DESCRIPTION', graph: 'body (text)', how: 'text body; an HTML body is written as X-ALT-DESC;FMTTYPE=text/html' },
  { kind: 'event', ical: 'X-ALT-DESC', graph: 'body (html)', how: 'only when there is no DESCRIPTION: Graph keeps one body' },
  { kind: 'event', ical: 'DTSTART', graph: 'start', how: 'dateTimeTimeZone: the Windows zone name where CLDR has one; UTC as UTC; floating and zones defined only in the item: see the notes' },
  { kind: 'event', ical: 'DTEND', graph: 'end', how: 'as DTSTART; an event without end gets its implied end' },
  { kind: 'event', ical: 'DURATION', graph: 'end', how: 'written back as DTEND' },
  { kind: 'event', ical: 'VALUE=DATE', graph: 'isAllDay', how: 'days at midnight in the floating zone (the mailbox zone, UTC by default)' },
  { kind: 'event', ical: 'TZID', graph: 'start.timeZone / end.timeZone', how: 'IANA ↔ Windows through CLDR windowsZones (time-zones.ts); written back with the tz database VTIMEZONE' },
  { kind: 'event', ical: 'VTIMEZONE', graph: null, how: 'Graph keeps zones by name; the definition is written back from the tz database' },
  { kind: 'event', ical: 'RRULE', graph: 'recurrence (patternedRecurrence)', how: 'daily, weekly (BYDAY, WKST ↔ firstDayOfWeek), absoluteMonthly (BYMONTHDAY), relativeMonthly (BYDAY=nXX or BYDAY+BYSETPOS, index first..fourth/last), absoluteYearly, relativeYearly; COUNT ↔ numbered, UNTIL ↔ endDate (the last day), none ↔ noEnd. Other rules (BYHOUR, BYWEEKNO, BYYEARDAY, several month days, BYSETPOS=-2, hourly): not mapped, the first occurrence is kept' },
  { kind: 'event', ical: 'EXDATE', graph: 'cancelled occurrences', how: 'each left-out occurrence is cancelled (deleted) on the target; written back in the event zone' },
  { kind: 'event', ical: 'RDATE', graph: null, how: 'Graph recurrences have no extra dates' },
  { kind: 'event', ical: 'RECURRENCE-ID', graph: 'exception (originalStart)', how: 'one exception per overridden instance; RANGE=THISANDFUTURE not kept' },
  { kind: 'event', ical: 'LOCATION', graph: 'location.displayName', how: 'one location' },
  { kind: 'event', ical: 'GEO', graph: 'location.coordinates', how: 'latitude, longitude' },
  { kind: 'event', ical: 'TRANSP', graph: 'showAs', how: 'TRANSPARENT ↔ free, OPAQUE ↔ busy' },
  { kind: 'event', ical: 'X-MICROSOFT-CDO-BUSYSTATUS', graph: 'showAs', how: 'TENTATIVE, OOF, WORKINGELSEWHERE (Outlook property)' },
  { kind: 'event', ical: 'CLASS', graph: 'sensitivity', how: 'PUBLIC ↔ normal, PRIVATE ↔ private (personal is written as PRIVATE), CONFIDENTIAL ↔ confidential' },
  { kind: 'event', ical: 'PRIORITY', graph: 'importance', how: '1-4 → high, 5 and 0 → normal, 6-9 → low; back high → 1, normal → none, low → 9; other values are listed as rounded' },
  { kind: 'event', ical: 'X-MICROSOFT-CDO-IMPORTANCE', graph: 'importance', how: '0 low, 1 normal, 2 high, where PRIORITY is absent' },
  { kind: 'event', ical: 'CATEGORIES', graph: 'categories', how: 'all values' },
  {
    kind: 'event',
    ical: 'ORGANIZER',
    graph: 'organizer (read); on the target: the event text and the SourceAttendees extended property',
    how: 'read: CN ↔ name, mailto: ↔ address, other parameters not kept. Written: organizer is read-only in Graph (the mailbox owner organizes), so the line is kept as it is in SourceAttendees and named in a block of the body; read back from there, reported as kept in the text',
  },
  {
    kind: 'event',
    ical: 'ATTENDEE',
    graph: 'attendees (read); on the target: the event text and the SourceAttendees extended property',
    how: 'read: CN ↔ name, ROLE=OPT-PARTICIPANT ↔ optional, CUTYPE=RESOURCE/ROOM ↔ resource, PARTSTAT ↔ status.response, RSVP ↔ responseRequested. Written WITHOUT attendees (Graph would send invitations and has no way not to): the lines are kept as they are in SourceAttendees (series and each overridden instance) and listed in a block of the body; read back from there with the block taken out of the text, reported as kept in the text',
  },
  { kind: 'event', ical: 'ATTACH', graph: 'attachments (fileAttachment)', how: 'inline (BASE64) files with FMTTYPE and file name; files by URL are not mapped' },
  { kind: 'event', ical: 'VALARM', graph: 'isReminderOn, reminderMinutesBeforeStart', how: 'the first alarm before the start; alarms after the start, relative to the end, at a fixed time on recurring events, and further alarms are not mapped' },
  { kind: 'event', ical: 'STATUS', graph: null, how: 'CONFIRMED is the default; TENTATIVE and CANCELLED have no Graph form' },
  { kind: 'event', ical: 'SEQUENCE', graph: null, how: 'Graph counts versions itself' },
  { kind: 'event', ical: 'CREATED', graph: 'createdDateTime', how: 'read from Graph; set by Graph on the target' },
  { kind: 'event', ical: 'LAST-MODIFIED', graph: 'lastModifiedDateTime', how: 'read from Graph; set by Graph on the target' },
  { kind: 'event', ical: 'DTSTAMP', graph: null, how: 'not compared (servers rewrite it)' },
  { kind: 'event', ical: 'URL, COMMENT, CONTACT, RESOURCES, RELATED-TO, CONFERENCE, IMAGE, X-*', graph: null, how: 'Graph events have no such property' },
  { kind: 'event', ical: 'METHOD, X-WR-CALNAME and other VCALENDAR properties', graph: null, how: 'properties of the calendar file, not of the item' },
  { kind: 'event', ical: '(none) locations beyond the first', graph: 'locations', how: 'Graph-only: iCalendar has one LOCATION; the first is kept' },
  { kind: 'event', ical: '(none) onlineMeeting', graph: 'onlineMeeting, isOnlineMeeting, onlineMeetingProvider', how: 'Graph-only: the join link is in the body Graph gives; the meeting itself is not recreated' },
  { kind: 'event', ical: '(none) hideAttendees, allowNewTimeProposals', graph: 'hideAttendees, allowNewTimeProposals', how: 'Graph-only: not written' },
  { kind: 'contact', ical: '(none) emailAddress.name', graph: 'emailAddresses[].name', how: 'Graph-only: vCard EMAIL has no name; not written' },
  // Contacts (VCARD ↔ contact)
  { kind: 'contact', ical: 'VERSION, PRODID', graph: null, how: 'written as 4.0 (3.0 where the address book takes only that); PRODID not compared' },
  { kind: 'contact', ical: 'UID', graph: null, how: 'kept by the target in the single-value extended property SourceUid; a contact without it gets a UID derived from its id' },
  { kind: 'contact', ical: 'FN', graph: 'displayName', how: 'one' },
  { kind: 'contact', ical: 'N', graph: 'surname, givenName, middleName, title, generation', how: 'family; given; additional; prefix; suffix' },
  { kind: 'contact', ical: 'NICKNAME', graph: 'nickName', how: 'one; further nicknames not mapped' },
  { kind: 'contact', ical: 'ORG', graph: 'companyName, department', how: 'further units not mapped' },
  { kind: 'contact', ical: 'TITLE', graph: 'jobTitle', how: 'one' },
  { kind: 'contact', ical: 'ROLE', graph: 'profession', how: 'one' },
  { kind: 'contact', ical: 'EMAIL', graph: 'emailAddresses', how: '3 slots; TYPE and PREF not kept' },
  { kind: 'contact', ical: 'TEL', graph: 'businessPhones, homePhones, mobilePhone', how: 'TYPE=cell → mobile (1), home → homePhones (2), work or none → businessPhones (2); fax, pager, text, video not mapped' },
  { kind: 'contact', ical: 'ADR', graph: 'homeAddress, businessAddress, otherAddress', how: 'TYPE=home / work / other: one each; street, locality, region, code, country; post office box and extended address not mapped' },
  { kind: 'contact', ical: 'LABEL', graph: null, how: 'Graph prints an address from its parts' },
  { kind: 'contact', ical: 'BDAY', graph: 'birthday', how: 'a whole date; dates without year not mapped' },
  { kind: 'contact', ical: 'NOTE', graph: 'personalNotes', how: 'several notes joined' },
  { kind: 'contact', ical: 'CATEGORIES', graph: 'categories', how: 'all values' },
  { kind: 'contact', ical: 'IMPP', graph: 'imAddresses', how: '3 slots' },
  { kind: 'contact', ical: 'URL', graph: 'businessHomePage', how: 'one' },
  { kind: 'contact', ical: 'RELATED', graph: 'spouseName, children', how: 'TYPE=spouse / child by name; other relations not mapped' },
  { kind: 'contact', ical: 'PHOTO', graph: 'photo ($value)', how: 'inline pictures, written apart from the contact; pictures by URL not mapped' },
  { kind: 'contact', ical: 'X-MS-MANAGER', graph: 'manager', how: "Outlook's vCard property" },
  { kind: 'contact', ical: 'X-MS-ASSISTANT', graph: 'assistantName', how: "Outlook's vCard property" },
  { kind: 'contact', ical: 'KIND', graph: null, how: 'individual is the default; KIND:group cannot be a Graph contact (reported with the item), org / location not mapped' },
  { kind: 'contact', ical: 'REV', graph: 'lastModifiedDateTime', how: 'read from Graph; set by Graph on the target' },
  { kind: 'contact', ical: '(none) fileAs, initials, officeLocation, yomi names', graph: 'fileAs, initials, officeLocation, yomiGivenName, yomiSurname, yomiCompanyName', how: 'Graph-only: not written' },
  { kind: 'contact', ical: 'GENDER, ANNIVERSARY, GEO, TZ, LANG, KEY, LOGO, SOUND, MEMBER, property groups (item1.), X-*', graph: null, how: 'Graph contacts have no such property' },
  // Tasks (VTODO ↔ todoTask)
  { kind: 'task', ical: 'UID', graph: null, how: 'todoTask has no extended properties: kept by the target in the open extension com.mailferry.source (uid); a task without it gets a UID derived from its id' },
  { kind: 'task', ical: 'DTSTAMP', graph: null, how: 'not compared (servers rewrite it)' },
  { kind: 'task', ical: 'X-MICROSOFT-CDO-IMPORTANCE', graph: 'importance', how: 'as for events' },
  { kind: 'task', ical: 'SUMMARY', graph: 'title', how: 'text' },
  { kind: 'task', ical: 'DESCRIPTION', graph: 'body', how: 'text' },
  { kind: 'task', ical: 'PRIORITY', graph: 'importance', how: '1-4 → high, 5 and 0 → normal, 6-9 → low; back high → 1, normal → none, low → 9' },
  { kind: 'task', ical: 'STATUS', graph: 'status', how: 'NEEDS-ACTION ↔ notStarted, IN-PROCESS ↔ inProgress, COMPLETED ↔ completed; CANCELLED → deferred (listed); waitingOnOthers → IN-PROCESS, deferred → NEEDS-ACTION' },
  { kind: 'task', ical: 'PERCENT-COMPLETE', graph: null, how: 'only the status: 0 / 100 agree with it, other figures are listed' },
  { kind: 'task', ical: 'DUE', graph: 'dueDateTime', how: 'the day in its zone: Graph ignores the time of day (a time is listed); written back as VALUE=DATE' },
  { kind: 'task', ical: 'DTSTART', graph: 'startDateTime', how: 'the day, as DUE' },
  { kind: 'task', ical: 'DURATION', graph: 'dueDateTime', how: 'start + duration' },
  { kind: 'task', ical: 'COMPLETED', graph: 'completedDateTime', how: 'the day (the time is listed); written back as the start of that day in UTC' },
  { kind: 'task', ical: 'VALARM', graph: 'reminderDateTime, isReminderOn', how: 'the first alarm, as the time it falls on' },
  { kind: 'task', ical: 'RRULE', graph: 'recurrence', how: 'as for events; overridden instances and EXDATE not mapped' },
  { kind: 'task', ical: 'CATEGORIES', graph: 'categories', how: 'all values' },
  { kind: 'task', ical: 'X-CHECKLIST-ITEM', graph: 'checklistItems', how: 'displayName; X-CHECKED=TRUE ↔ isChecked' },
  { kind: 'task', ical: 'URL', graph: 'linkedResources', how: 'webUrl' },
  { kind: 'task', ical: 'RELATED-TO', graph: null, how: 'To Do has no subtasks: every VTODO stays a task of its own' },
  { kind: 'task', ical: 'CREATED, LAST-MODIFIED', graph: 'createdDateTime, lastModifiedDateTime', how: 'read from Graph; set by Graph on the target' },
  { kind: 'task', ical: 'SEQUENCE', graph: null, how: 'Graph counts versions itself' },
  { kind: 'task', ical: '(none) linkedResources beyond the first web link', graph: 'linkedResources', how: 'each webUrl is a URL; applicationName and displayName are not written' },
  { kind: 'task', ical: '(none) waitingOnOthers, deferred', graph: 'status', how: 'Graph-only states: written as IN-PROCESS and NEEDS-ACTION' },
  { kind: 'task', ical: 'CLASS, LOCATION, GEO, ORGANIZER, ATTENDEE, ATTACH, X-*', graph: null, how: 'To Do tasks have no such property' },
];

/** The property names of the table's rows of one kind. */
export function mappedNames(kind: MappingRow['kind']): Set<string> {
  return new Set(GRAPH_MAPPING.filter((row) => row.kind === kind).flatMap((row) => row.ical.split(/,\s*/).map((name) => name.split(' ')[0]!.toUpperCase())));
}
