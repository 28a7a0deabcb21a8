import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { generateGroupwareCorpus } from '../../../../scripts/groupware-corpus/corpus';
import { componentNames, ItemFormatError } from '../items';
import { graphContactToVcard, vcardToGraphContact } from './contacts';
import { asListedByGraph, graphEventToICalendar, icalendarToGraphEvent } from './events';
import { differences, isNoted, UNNAMED_DIFFERENCE } from './round-trip';
import { graphTaskToICalendar, icalendarToGraphTask } from './tasks';

/**
 * iCalendar / vCard → Graph → iCalendar / vCard must compare equal in the part 1 verifier's
 * normal form (items.ts), but for what the mapping lists; and every such difference must be
 * named by the mapping itself, not only by the round-trip guard.
 */

// shared/ sits beside the repository (here and in CI's clone).
const BESIDE = path.resolve(import.meta.dirname, '../../../../../shared/corpora/dav-real-world');
const REAL_WORLD = existsSync(BESIDE) ? BESIDE : '/work/shared/corpora/dav-real-world';

interface RoundTrip {
  back: string;
  notMapped: string[];
  rewritten: string[];
}

function roundTrip(data: string): RoundTrip {
  const names = componentNames(data);
  if (names.includes('VCARD')) {
    const mapped = vcardToGraphContact(data);
    const back = mapped.contact ? graphContactToVcard(mapped.contact, { uid: mapped.uid, photo: mapped.photo }) : 'BEGIN:VCARD\r\nVERSION:4.0\r\nEND:VCARD';
    return { back, notMapped: mapped.notMapped, rewritten: mapped.rewritten };
  }
  if (names.includes('VEVENT')) {
    const mapped = icalendarToGraphEvent(data);
    const listed = asListedByGraph(mapped);
    return { back: graphEventToICalendar(listed.master, listed.exceptions, listed.cancelled), notMapped: mapped.notMapped, rewritten: mapped.rewritten };
  }
  const mapped = icalendarToGraphTask(data);
  return { back: graphTaskToICalendar(mapped.task, mapped.uid), notMapped: mapped.notMapped, rewritten: mapped.rewritten };
}

/** Differences the mapping did not name (the guard's own lines left out), as lines to read in a failure. */
function unnamed(data: string, trip: RoundTrip): string[] {
  const named = [...trip.notMapped, ...trip.rewritten].filter((line) => !line.endsWith(UNNAMED_DIFFERENCE));
  return differences(data, trip.back)
    .filter((d) => !isNoted(d, named))
    .map((d) => d.line.slice(0, 160));
}

/** RFC 5545 3.2.19: every TZID an item uses has its VTIMEZONE. */
function tzidsWithoutVtimezone(data: string): string[] {
  if (!data.includes('BEGIN:VCALENDAR')) return [];
  const root = new ICAL.Component(ICAL.parse(data) as never);
  const defined = new Set(root.getAllSubcomponents('vtimezone').map((z) => String(z.getFirstPropertyValue('tzid'))));
  const used = new Set<string>();
  const walk = (c: ICAL.Component) => {
    if (c.name === 'vtimezone') return;
    for (const p of c.getAllProperties()) {
      const tzid = p.getParameter('tzid');
      if (tzid) used.add(String(tzid));
    }
    c.getAllSubcomponents().forEach(walk);
  };
  walk(root);
  return [...used].filter((t) => !defined.has(t));
}

describe('round trips through Graph', () => {
  it('the part 1 corpus: everything that differs is named by the mapping', () => {
    const corpus = generateGroupwareCorpus({ seed: 'graph-mapping', scale: 1 });
    let items = 0;
    let recurring = 0;
    const problems: string[] = [];
    for (const collection of corpus) {
      for (const item of collection.items) {
        items++;
        const trip = roundTrip(item.data);
        const left = unnamed(item.data, trip);
        if (left.length) problems.push(`${item.uid}: ${left.join(' | ')}`);
        if (trip.notMapped.some((l) => l.endsWith(UNNAMED_DIFFERENCE))) problems.push(`${item.uid}: the guard had to name a difference`);
        const missing = tzidsWithoutVtimezone(trip.back);
        if (missing.length) problems.push(`${item.uid}: no VTIMEZONE for ${missing.join(',')}`);
        // The report says what was not kept, never whose or what it said.
        const summary = /^(?:SUMMARY|FN):(.+)$/m.exec(item.data)?.[1]?.trim();
        const told = [...trip.notMapped, ...trip.rewritten].filter((l) => l.includes('@') || (summary && l.includes(summary)));
        if (told.length) problems.push(`${item.uid}: content in the notes: ${told.join(' | ')}`);
        if (collection.kind === 'calendar' && item.data.includes('RRULE')) {
          const mapped = icalendarToGraphEvent(item.data);
          if (mapped.master.recurrence && mapped.exceptions.length > 0 && mapped.cancelled.length > 0) recurring++;
        }
      }
    }
    expect(problems).toEqual([]);
    expect(items).toBe(1780);
    // Every recurring event of the corpus keeps its rule, its moved instance and its left-out date.
    expect(recurring).toBeGreaterThanOrEqual(100);
  });

  it('the real-world files: everything that differs is named by the mapping', () => {
    const problems: string[] = [];
    const unreadable: string[] = [];
    let files = 0;
    for (const folder of readdirSync(REAL_WORLD, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      for (const name of readdirSync(path.join(REAL_WORLD, folder.name))) {
        files++;
        const data = readFileSync(path.join(REAL_WORLD, folder.name, name), 'utf8');
        let trip: RoundTrip;
        try {
          trip = roundTrip(data);
        } catch (error) {
          // Items ical.js cannot read are refused with the reason, as the DAV copy compares them raw.
          if (!(error instanceof ItemFormatError)) throw error;
          unreadable.push(`${folder.name}/${name}`);
          continue;
        }
        const left = unnamed(data, trip);
        if (left.length) problems.push(`${folder.name}/${name}: ${left.join(' | ')}`);
        const missing = tzidsWithoutVtimezone(trip.back);
        if (missing.length) problems.push(`${folder.name}/${name}: no VTIMEZONE for ${missing.join(',')}`);
      }
    }
    expect(files).toBe(165);
    expect(problems).toEqual([]);
    // Two vCards with "PHOTO;BASE64:" (vCard 2.1), which ical.js does not read.
    expect(unreadable).toEqual(['contacts/gwacc-07c854ba8e742582.vcf', 'contacts/gwacc-5b71ef147fa20ec6.vcf']);
  });

  it('Graph → iCalendar → Graph gives the same Graph items (a second hop loses nothing more)', () => {
    const corpus = generateGroupwareCorpus({ seed: 'graph-twice', scale: 0.25 });
    const changed: string[] = [];
    for (const collection of corpus) {
      for (const item of collection.items) {
        const once = roundTrip(item.data);
        // A group is no Graph contact: nothing goes the second hop.
        if (once.notMapped.some((l) => l.startsWith('VCARD *:'))) continue;
        const twice = roundTrip(once.back);
        if (differences(once.back, twice.back).length) changed.push(item.uid);
        if (collection.kind === 'calendar') {
          const a = icalendarToGraphEvent(once.back);
          const b = icalendarToGraphEvent(twice.back);
          if (JSON.stringify([a.master, a.exceptions, a.cancelled]) !== JSON.stringify([b.master, b.exceptions, b.cancelled])) changed.push(`${item.uid} (Graph)`);
          // What Graph itself gives back maps without loss.
          if (a.notMapped.length) changed.push(`${item.uid}: ${a.notMapped.join(' | ')}`);
        }
      }
    }
    expect(changed).toEqual([]);
  });

  it('a property the mapping does not know is reported, and the guard names a difference nobody named', () => {
    const data = [
      'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', 'UID:unknown-props', 'DTSTAMP:20260101T000000Z',
      'DTSTART:20260301T090000Z', 'DTEND:20260301T100000Z', 'SUMMARY:Check', 'X-FANCY-THING:1', 'COMMENT:a comment', 'STYLED-DESCRIPTION;VALUE=TEXT:hi',
      'END:VEVENT', 'END:VCALENDAR', '',
    ].join('\r\n');
    const mapped = icalendarToGraphEvent(data);
    expect(mapped.notMapped).toContain("VEVENT X-FANCY-THING: another program's own property; Microsoft 365 has no place for it");
    expect(mapped.notMapped).toContain('VEVENT COMMENT: Microsoft 365 events have no such property');
    expect(mapped.notMapped).toContain('VEVENT STYLED-DESCRIPTION: Microsoft 365 events have no such property');
    // Every difference is named: lose the SUMMARY on the way back and the guard must say so.
    const listed = asListedByGraph(mapped);
    const back = graphEventToICalendar({ ...listed.master, subject: '' }, [], []);
    const diffs = differences(data, back);
    expect(diffs.map((d) => d.property)).toContain('SUMMARY');
    expect(diffs.filter((d) => !isNoted(d, [...mapped.notMapped, ...mapped.rewritten])).map((d) => d.property)).toEqual(['SUMMARY']);
  });
});

describe('events', () => {
  it('keeps a weekly series with its exception and cancelled occurrence in the zone it was in', () => {
    const data = [
      'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN',
      'BEGIN:VTIMEZONE', 'TZID:Europe/Berlin', 'BEGIN:STANDARD', 'DTSTART:19701025T030000', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'END:STANDARD',
      'BEGIN:DAYLIGHT', 'DTSTART:19700329T020000', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'END:DAYLIGHT', 'END:VTIMEZONE',
      'BEGIN:VEVENT', 'UID:weekly@example.com', 'DTSTAMP:20260101T000000Z', 'DTSTART;TZID=Europe/Berlin:20260302T090000', 'DTEND;TZID=Europe/Berlin:20260302T100000',
      'RRULE:FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20260330T070000Z', 'EXDATE;TZID=Europe/Berlin:20260309T090000', 'SUMMARY:Stand-up',
      'ORGANIZER;CN=Ann:mailto:ann@example.com', 'ATTENDEE;CN=Bob;ROLE=OPT-PARTICIPANT;PARTSTAT=TENTATIVE:mailto:bob@example.com',
      'BEGIN:VALARM', 'ACTION:DISPLAY', 'DESCRIPTION:Reminder', 'TRIGGER:-PT10M', 'END:VALARM', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:weekly@example.com', 'DTSTAMP:20260101T000000Z', 'RECURRENCE-ID;TZID=Europe/Berlin:20260304T090000',
      'DTSTART;TZID=Europe/Berlin:20260304T110000', 'DTEND;TZID=Europe/Berlin:20260304T120000', 'SUMMARY:Stand-up (moved)', 'END:VEVENT', 'END:VCALENDAR', '',
    ].join('\r\n');
    const mapped = icalendarToGraphEvent(data);
    expect(mapped.master.start).toEqual({ dateTime: '2026-03-02T09:00:00.0000000', timeZone: 'W. Europe Standard Time' });
    expect(mapped.master.recurrence).toEqual({
      pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday', 'wednesday'], firstDayOfWeek: 'monday' },
      range: { type: 'endDate', startDate: '2026-03-02', endDate: '2026-03-30', recurrenceTimeZone: 'W. Europe Standard Time' },
    });
    expect(mapped.cancelled).toEqual(['2026-03-09T08:00:00Z']);
    expect(mapped.exceptions).toHaveLength(1);
    expect(mapped.exceptions[0]!.originalStart).toBe('2026-03-04T08:00:00Z');
    expect(mapped.exceptions[0]!.patch.subject).toBe('Stand-up (moved)');
    expect(mapped.exceptions[0]!.patch.isReminderOn).toBe(false);
    expect(mapped.master.attendees).toEqual([{ type: 'optional', emailAddress: { name: 'Bob', address: 'bob@example.com' }, status: { response: 'tentativelyAccepted' } }]);
    expect(mapped.master.organizer).toEqual({ emailAddress: { name: 'Ann', address: 'ann@example.com' } });
    expect(mapped.master).toMatchObject({ isReminderOn: true, reminderMinutesBeforeStart: 10, iCalUId: 'weekly@example.com' });
    expect(mapped.notMapped).toEqual([]);
    const listed = asListedByGraph(mapped);
    const back = graphEventToICalendar(listed.master, listed.exceptions, listed.cancelled);
    expect(back).toContain('RRULE:FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20260330T070000Z');
    expect(back).toContain('EXDATE;TZID=Europe/Berlin:20260309T090000');
    expect(back).toContain('RECURRENCE-ID;TZID=Europe/Berlin:20260304T090000');
  });

  it.each([
    ['FREQ=DAILY;INTERVAL=2;COUNT=5', { type: 'daily', interval: 2 }, { type: 'numbered', numberOfOccurrences: 5 }],
    ['FREQ=MONTHLY;BYMONTHDAY=15', { type: 'absoluteMonthly', interval: 1, dayOfMonth: 15 }, { type: 'noEnd' }],
    ['FREQ=MONTHLY;BYDAY=-1FR', { type: 'relativeMonthly', interval: 1, daysOfWeek: ['friday'], index: 'last' }, { type: 'noEnd' }],
    ['FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1', { type: 'relativeMonthly', interval: 1, daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], index: 'first' }, { type: 'noEnd' }],
    ['FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=2', { type: 'absoluteYearly', interval: 1, month: 3, dayOfMonth: 2 }, { type: 'noEnd' }],
    ['FREQ=YEARLY;BYMONTH=11;BYDAY=4TH', { type: 'relativeYearly', interval: 1, month: 11, daysOfWeek: ['thursday'], index: 'fourth' }, { type: 'noEnd' }],
    ['FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;WKST=SU', { type: 'weekly', interval: 2, daysOfWeek: ['monday'], firstDayOfWeek: 'sunday' }, { type: 'noEnd' }],
  ])('RRULE %s is a Graph recurrence and back', (rrule, pattern, range) => {
    const data = `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:r\r\nDTSTART:20260302T090000Z\r\nDTEND:20260302T093000Z\r\nRRULE:${rrule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
    const mapped = icalendarToGraphEvent(data);
    expect(mapped.master.recurrence?.pattern).toEqual(pattern);
    expect(mapped.master.recurrence?.range).toMatchObject({ ...range, startDate: '2026-03-02' });
    const listed = asListedByGraph(mapped);
    expect(differences(data, graphEventToICalendar(listed.master, [], []))).toEqual([]);
  });

  it.each([
    ['FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=-2;COUNT=4', 'BYSETPOS=-2'],
    ['FREQ=MONTHLY;BYDAY=MO', 'MO'],
    ['FREQ=HOURLY', 'FREQ=HOURLY'],
    ['FREQ=YEARLY;BYWEEKNO=20', 'BYWEEKNO'],
  ])('RRULE %s has no Graph form and is listed, the first occurrence kept', (rrule, said) => {
    const mapped = icalendarToGraphEvent(`BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:r\r\nDTSTART:20260302T090000Z\r\nRRULE:${rrule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`);
    expect(mapped.master.recurrence).toBeNull();
    expect(mapped.notMapped.find((l) => l.startsWith('VEVENT RRULE:'))).toContain(said);
  });

  it('lists what Graph cannot hold: RDATE, an absolute alarm on a series, a second alarm, floating time, a rounded priority', () => {
    const mapped = icalendarToGraphEvent(
      [
        'BEGIN:VCALENDAR', 'VERSION:2.0', 'BEGIN:VEVENT', 'UID:lossy', 'DTSTART:20260302T090000', 'DURATION:PT1H', 'RRULE:FREQ=DAILY;COUNT=3', 'RDATE:20260310T090000', 'PRIORITY:3',
        'BEGIN:VALARM', 'ACTION:DISPLAY', 'DESCRIPTION:Reminder', 'TRIGGER;VALUE=DATE-TIME:20260301T080000Z', 'END:VALARM',
        'BEGIN:VALARM', 'ACTION:DISPLAY', 'DESCRIPTION:Reminder', 'TRIGGER:-PT5M', 'END:VALARM',
        'BEGIN:VALARM', 'ACTION:DISPLAY', 'DESCRIPTION:Reminder', 'TRIGGER:-PT1H', 'END:VALARM', 'END:VEVENT', 'END:VCALENDAR', '',
      ].join('\r\n'),
    );
    expect(mapped.notMapped).toEqual(
      expect.arrayContaining([
        'VEVENT RDATE: Microsoft 365 recurrences have no extra dates',
        'VALARM TRIGGER: an alarm at a fixed time on a recurring event: Microsoft 365 reminds a time before each start',
        'VALARM *: a second alarm: Microsoft 365 keeps one reminder per event',
        'VEVENT DTSTART floating time: Microsoft 365 has no time without zone: kept in UTC',
        'VEVENT PRIORITY: 3: Microsoft 365 has only low, normal and high; kept as high, written back as 1',
      ]),
    );
    expect(mapped.master).toMatchObject({ importance: 'high', reminderMinutesBeforeStart: 5, end: { dateTime: '2026-03-02T10:00:00.0000000', timeZone: 'UTC' } });
    expect(mapped.rewritten).toContain('VEVENT DURATION: kept as the end time (DTEND)');
  });

  it('names the zone by its Windows name, and says when it reads back as another IANA name', () => {
    const mapped = icalendarToGraphEvent('BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:z\r\nDTSTART;TZID=Europe/Amsterdam:20260302T090000\r\nDTEND;TZID=Europe/Amsterdam:20260302T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n');
    expect(mapped.master.start.timeZone).toBe('W. Europe Standard Time');
    expect(mapped.rewritten).toContain('VEVENT DTSTART TZID=Europe/Amsterdam: Microsoft 365 knows the zone as "W. Europe Standard Time", which reads back as Europe/Berlin');
  });

  // The "Create a recurring event" example of the Graph reference (POST /me/events), with an exception and a cancelled occurrence as Graph lists them.
  it('a Graph series from the documentation is one iCalendar resource', () => {
    const master = {
      subject: "Let's go for lunch",
      body: { contentType: 'html' as const, content: 'Does noon time work for you?' },
      start: { dateTime: '2017-09-04T12:00:00', timeZone: 'Pacific Standard Time' },
      end: { dateTime: '2017-09-04T14:00:00', timeZone: 'Pacific Standard Time' },
      isAllDay: false,
      recurrence: {
        pattern: { type: 'weekly' as const, interval: 1, daysOfWeek: ['monday' as const] },
        range: { type: 'endDate' as const, startDate: '2017-09-04', endDate: '2017-12-31' },
      },
      location: { displayName: 'Harry\'s Bar' },
      locations: [{ displayName: "Harry's Bar" }],
      attendees: [{ emailAddress: { address: 'AdeleV@contoso.onmicrosoft.com', name: 'Adele Vance' }, type: 'required' as const }],
      showAs: 'busy' as const,
      sensitivity: 'normal' as const,
      importance: 'normal' as const,
      categories: [],
      isReminderOn: true,
      reminderMinutesBeforeStart: 15,
      attachments: [],
      iCalUId: '040000008200E00074C5B7101A82E00800000000D02AC02D7B59D801000000000000000010000000F1D8A9C1F2F6B4418D1E6A3A9D10E6F4',
      type: 'seriesMaster' as const,
    };
    const exception = { ...master, recurrence: null, type: 'exception' as const, originalStart: '2017-09-11T19:00:00Z', subject: 'Lunch, later', start: { dateTime: '2017-09-11T13:00:00', timeZone: 'Pacific Standard Time' }, end: { dateTime: '2017-09-11T15:00:00', timeZone: 'Pacific Standard Time' } };
    const text = graphEventToICalendar(master, [exception], ['2017-09-18T19:00:00Z']);
    const root = new ICAL.Component(ICAL.parse(text) as never);
    const [series, moved] = root.getAllSubcomponents('vevent');
    expect(root.getFirstSubcomponent('vtimezone')!.getFirstPropertyValue('tzid')).toBe('America/Los_Angeles');
    expect(series!.getFirstPropertyValue('uid')).toBe(master.iCalUId);
    expect(series!.getFirstProperty('dtstart')!.getParameter('tzid')).toBe('America/Los_Angeles');
    expect(String(series!.getFirstPropertyValue('dtstart'))).toBe('2017-09-04T12:00:00');
    expect(String(series!.getFirstPropertyValue('rrule'))).toBe('FREQ=WEEKLY;BYDAY=MO;UNTIL=20171231T200000Z');
    expect(String(series!.getFirstPropertyValue('exdate'))).toBe('2017-09-18T12:00:00');
    expect(series!.getFirstPropertyValue('x-alt-desc')).toBe('Does noon time work for you?');
    expect(series!.getFirstPropertyValue('location')).toBe("Harry's Bar");
    expect(series!.getFirstProperty('attendee')!.toICALString()).toBe('ATTENDEE;CN=Adele Vance;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:AdeleV@contoso.onmicrosoft.com');
    expect(series!.getFirstSubcomponent('valarm')!.getFirstPropertyValue('trigger')!.toString()).toBe('-PT15M');
    expect(String(moved!.getFirstPropertyValue('recurrence-id'))).toBe('2017-09-11T12:00:00');
    expect(moved!.getFirstPropertyValue('summary')).toBe('Lunch, later');
    // And back to Graph: the same series.
    const again = icalendarToGraphEvent(text);
    expect(again.master.recurrence?.pattern).toMatchObject({ type: 'weekly', daysOfWeek: ['monday'] });
    expect(again.master.recurrence?.range.endDate).toBe('2017-12-31');
    expect(again.cancelled).toEqual(['2017-09-18T19:00:00Z']);
    expect(again.exceptions.map((e) => e.originalStart)).toEqual(['2017-09-11T19:00:00Z']);
  });

  it('a series Graph lists in UTC goes back to the zone it was made in, so summer time does not move it', () => {
    const base = {
      subject: 'Weekly', body: { contentType: 'text' as const, content: '' }, isAllDay: false, location: { displayName: '' }, locations: [], showAs: 'busy' as const, sensitivity: 'normal' as const,
      importance: 'normal' as const, categories: [], isReminderOn: false, reminderMinutesBeforeStart: 0, attendees: [], attachments: [], iCalUId: 'utc-listed',
      originalStartTimeZone: 'W. Europe Standard Time', originalEndTimeZone: 'W. Europe Standard Time',
    };
    const master = {
      ...base, type: 'seriesMaster' as const,
      start: { dateTime: '2026-03-02T08:00:00.0000000', timeZone: 'UTC' }, end: { dateTime: '2026-03-02T09:00:00.0000000', timeZone: 'UTC' },
      recurrence: { pattern: { type: 'weekly' as const, interval: 1, daysOfWeek: ['monday' as const], firstDayOfWeek: 'sunday' as const }, range: { type: 'numbered' as const, startDate: '2026-03-02', numberOfOccurrences: 10 } },
    };
    const summer = { ...base, recurrence: null, type: 'exception' as const, originalStart: '2026-04-06T07:00:00Z', start: { dateTime: '2026-04-06T08:00:00.0000000', timeZone: 'UTC' }, end: { dateTime: '2026-04-06T09:00:00.0000000', timeZone: 'UTC' } };
    const text = graphEventToICalendar(master, [summer], []);
    expect(text).toContain('DTSTART;TZID=Europe/Berlin:20260302T090000');
    expect(text).toContain('RECURRENCE-ID;TZID=Europe/Berlin:20260406T090000');
    expect(text).toContain('DTSTART;TZID=Europe/Berlin:20260406T100000');
    expect(text).toContain('TZID:Europe/Berlin');
  });

  it('an all-day event of Graph is a day event', () => {
    const text = graphEventToICalendar(
      {
        subject: 'Holiday', body: { contentType: 'text', content: '' }, isAllDay: true, start: { dateTime: '2026-05-01T00:00:00.0000000', timeZone: 'UTC' }, end: { dateTime: '2026-05-02T00:00:00.0000000', timeZone: 'UTC' },
        location: { displayName: '' }, locations: [], showAs: 'free', sensitivity: 'private', importance: 'low', categories: ['Red category'], isReminderOn: false, reminderMinutesBeforeStart: 0,
        attendees: [], recurrence: null, attachments: [{ '@odata.type': '#microsoft.graph.fileAttachment', name: 'plan.txt', contentType: 'text/plain', contentBytes: Buffer.from('plan').toString('base64') }], iCalUId: 'day@example.com',
      },
      [],
      [],
    );
    expect(text).toContain('DTSTART;VALUE=DATE:20260501');
    expect(text).toContain('DTEND;VALUE=DATE:20260502');
    expect(text).toContain('TRANSP:TRANSPARENT');
    expect(text).toContain('CLASS:PRIVATE');
    expect(text).toContain('PRIORITY:9');
    expect(text.replace(/\r\n /g, '')).toContain('ATTACH;FMTTYPE=text/plain;ENCODING=BASE64;X-FILENAME=plan.txt;VALUE=BINARY:cGxhbg==');
    expect(text).not.toContain('VALARM');
  });
});

describe('contacts', () => {
  // The contact of the Graph reference's "Create contact" example.
  it('a Graph contact from the documentation is a vCard 4, or 3 where wanted', () => {
    const contact = { givenName: 'Pavel', surname: 'Bansky', emailAddresses: [{ address: 'pavelb@contoso.onmicrosoft.com', name: 'Pavel Bansky' }], businessPhones: ['+1 732 555 0102'] };
    const card = new ICAL.Component(ICAL.parse(graphContactToVcard(contact, { uid: 'pavel' })) as never);
    expect(card.getFirstPropertyValue('version')).toBe('4.0');
    expect(card.getFirstPropertyValue('fn')).toBe('Pavel Bansky');
    expect(card.getFirstPropertyValue('n')).toEqual(['Bansky', 'Pavel', '', '', '']);
    expect(card.getFirstPropertyValue('email')).toBe('pavelb@contoso.onmicrosoft.com');
    expect(card.getFirstProperty('tel')!.toICALString()).toBe('TEL;TYPE=work:+1 732 555 0102');
    const three = graphContactToVcard(contact, { uid: 'pavel', version: '3.0', photo: { contentType: 'image/jpeg', bytes: Buffer.from([0xff, 0xd8, 0xff]) } });
    expect(three).toContain('VERSION:3.0');
    expect(three).toContain('PHOTO;ENCODING=b;TYPE=JPEG:/9j/');
  });

  it('fills the fixed slots and lists what is left over, and refuses a group with its reason', () => {
    const mapped = vcardToGraphContact(
      [
        'BEGIN:VCARD', 'VERSION:4.0', 'UID:many', 'FN:Many Ways', 'N:Ways;Many;;;', 'EMAIL:a@example.com', 'EMAIL:b@example.com', 'EMAIL:c@example.com', 'EMAIL:d@example.com',
        'TEL;TYPE=work:1', 'TEL;TYPE=work:2', 'TEL;TYPE=work:3', 'TEL;TYPE=cell:4', 'TEL;TYPE=fax:5', 'ADR;TYPE=home:;;Street 1;Town;;12345;DE', 'BDAY:--0722',
        'RELATED;TYPE=spouse;VALUE=text:Pat', 'ORG:Firm;Sales', 'TITLE:Boss', 'NOTE:likes tea', 'END:VCARD', '',
      ].join('\r\n'),
    );
    expect(mapped.contact).toMatchObject({
      displayName: 'Many Ways', givenName: 'Many', surname: 'Ways', emailAddresses: [{ address: 'a@example.com' }, { address: 'b@example.com' }, { address: 'c@example.com' }],
      businessPhones: ['1', '2'], mobilePhone: '4', homeAddress: { street: 'Street 1', city: 'Town', postalCode: '12345', countryOrRegion: 'DE' }, spouseName: 'Pat',
      companyName: 'Firm', department: 'Sales', jobTitle: 'Boss', personalNotes: 'likes tea',
    });
    expect(mapped.notMapped).toEqual(
      expect.arrayContaining([
        'VCARD EMAIL (more than three): Microsoft 365 keeps 3 e-mail addresses',
        'VCARD TEL (third business number): Microsoft 365 keeps 2 business numbers',
        'VCARD TEL TYPE=fax: Microsoft 365 contacts have business, home and mobile numbers only',
        'VCARD BDAY (without year): Microsoft 365 keeps a birthday as a whole date',
      ]),
    );
    const group = vcardToGraphContact('BEGIN:VCARD\r\nVERSION:4.0\r\nUID:g\r\nKIND:group\r\nFN:Team\r\nMEMBER:urn:uuid:a\r\nEND:VCARD\r\n');
    expect(group.contact).toBeNull();
    expect(group.notMapped).toEqual(['VCARD *: a group (KIND:group): Microsoft 365 contact folders hold people, not groups']);
  });

  it('reads a vCard 3 with its inline photo', () => {
    const photo = Buffer.from('not really a jpeg').toString('base64');
    const mapped = vcardToGraphContact(`BEGIN:VCARD\r\nVERSION:3.0\r\nUID:v3\r\nFN:Old Card\r\nN:Card;Old;;;\r\nTEL;TYPE=HOME,VOICE:555\r\nPHOTO;ENCODING=b;TYPE=JPEG:${photo}\r\nEND:VCARD\r\n`);
    expect(mapped.contact).toMatchObject({ displayName: 'Old Card', homePhones: ['555'] });
    expect(mapped.photo).toEqual({ contentType: 'image/jpeg', bytes: Buffer.from('not really a jpeg') });
    expect(mapped.notMapped).toEqual(['VCARD TEL TYPE: home,voice: Microsoft 365 keeps the kind (TYPE) as home']);
  });
});

describe('tasks', () => {
  it('rounds PRIORITY to importance and back as documented', () => {
    const importance = (priority: number) => icalendarToGraphTask(`BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:p\r\nSUMMARY:x\r\nPRIORITY:${priority}\r\nEND:VTODO\r\nEND:VCALENDAR\r\n`).task.importance;
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 0].map(importance)).toEqual(['high', 'high', 'high', 'high', 'normal', 'low', 'low', 'low', 'low', 'normal']);
    const back = (value: 'low' | 'normal' | 'high') => graphTaskToICalendar({ title: 't', importance: value, status: 'notStarted', isReminderOn: false, categories: [], checklistItems: [], linkedResources: [] }, 'p');
    expect(back('high')).toContain('PRIORITY:1');
    expect(back('low')).toContain('PRIORITY:9');
    expect(back('normal')).not.toContain('PRIORITY');
  });

  // The task of the Graph reference's "Create todoTask" example, with a checklist and a reminder.
  it('a To Do task from the documentation is a VTODO, checklist included, and back', () => {
    const task = {
      title: 'A new task', categories: ['Important'], importance: 'high' as const, status: 'waitingOnOthers' as const, isReminderOn: true,
      linkedResources: [{ webUrl: 'http://microsoft.com', applicationName: 'Microsoft', displayName: 'Microsoft' }],
      dueDateTime: { dateTime: '2026-04-01T00:00:00.0000000', timeZone: 'UTC' },
      reminderDateTime: { dateTime: '2026-03-31T09:00:00.0000000', timeZone: 'W. Europe Standard Time' },
      checklistItems: [{ displayName: 'Buy milk', isChecked: true }, { displayName: 'Call Ann', isChecked: false }],
      body: { contentType: 'text' as const, content: 'Details' },
    };
    const text = graphTaskToICalendar(task, 'task-1');
    const todo = new ICAL.Component(ICAL.parse(text) as never).getFirstSubcomponent('vtodo')!;
    expect(todo.getFirstPropertyValue('summary')).toBe('A new task');
    expect(todo.getFirstPropertyValue('status')).toBe('IN-PROCESS');
    expect(todo.getFirstPropertyValue('priority')).toBe(1);
    expect(todo.getFirstProperty('due')!.toICALString()).toBe('DUE;VALUE=DATE:20260401');
    expect(todo.getFirstPropertyValue('url')).toBe('http://microsoft.com');
    expect(todo.getAllProperties('x-checklist-item').map((p) => p.toICALString())).toEqual(['X-CHECKLIST-ITEM;X-CHECKED=TRUE:Buy milk', 'X-CHECKLIST-ITEM:Call Ann']);
    expect(String(todo.getFirstSubcomponent('valarm')!.getFirstPropertyValue('trigger'))).toBe('2026-03-31T07:00:00Z');
    const again = icalendarToGraphTask(text).task;
    expect(again).toMatchObject({ title: 'A new task', importance: 'high', checklistItems: task.checklistItems, categories: ['Important'], linkedResources: [{ webUrl: 'http://microsoft.com' }], isReminderOn: true });
    expect(again.reminderDateTime).toEqual({ dateTime: '2026-03-31T07:00:00.0000000', timeZone: 'UTC' });
  });

  it('keeps the day of a due time, which is all To Do keeps, and says so', () => {
    const mapped = icalendarToGraphTask('BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:due\r\nSUMMARY:Report\r\nSTATUS:NEEDS-ACTION\r\nDUE:20260401T170000Z\r\nEND:VTODO\r\nEND:VCALENDAR\r\n');
    expect(mapped.task.dueDateTime).toEqual({ dateTime: '2026-04-01T00:00:00.0000000', timeZone: 'UTC' });
    expect(mapped.notMapped).toEqual(['VTODO DUE time of day: Microsoft To Do keeps the day, not the hour']);
  });

  it('keeps a subtask a task of its own and lists its parent link and percent', () => {
    const mapped = icalendarToGraphTask('BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:child\r\nSUMMARY:Sub\r\nRELATED-TO:parent\r\nSTATUS:IN-PROCESS\r\nPERCENT-COMPLETE:40\r\nEND:VTODO\r\nEND:VCALENDAR\r\n');
    expect(mapped.task).toMatchObject({ title: 'Sub', status: 'inProgress' });
    expect(mapped.notMapped).toEqual(['VTODO PERCENT-COMPLETE: 40%: Microsoft To Do has no progress figure, only the status', 'VTODO RELATED-TO: Microsoft To Do has no subtasks: the task is kept on its own']);
  });
});
