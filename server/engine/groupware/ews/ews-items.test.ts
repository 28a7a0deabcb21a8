import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { generateGroupwareCorpus } from '../../../../scripts/groupware-corpus/corpus';
import { normalisedLines } from '../items';
import type { GroupwareKind } from '../model';
import { fromEws, lineKey, toEws, type NotMapped } from './ews-items';
import { readEwsItems, writeEwsItem, type EwsCalendarItem, type EwsItem } from './ews-xml';

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures', name), 'utf8');

function component(data: string): ICAL.Component {
  return new ICAL.Component(ICAL.parse(data) as never);
}

describe('EWS GetItem answers → iCalendar / vCard', () => {
  it('a recurring meeting with a modified and a deleted occurrence', () => {
    const [master, exception] = readEwsItems(fixture('recurring-meeting.xml')) as [EwsCalendarItem, EwsCalendarItem];
    expect(master.modifiedOccurrences).toHaveLength(1);
    const { data, uid, notMapped } = fromEws(master, [exception]);
    expect(uid).toMatch(/^040000008200E000/);
    expect(notMapped).toEqual([]);
    const calendar = component(data);
    const events = calendar.getAllSubcomponents('vevent');
    expect(events).toHaveLength(2);
    const [main, moved] = events as [ICAL.Component, ICAL.Component];
    expect(main.getFirstPropertyValue('summary')).toBe('Weekly planning & review');
    expect(main.getFirstPropertyValue('description')).toBe('Agenda:\n1. Numbers\n2. Risks');
    expect(main.getFirstProperty('dtstart')!.getParameter('tzid')).toBe('Europe/Berlin');
    expect(String(main.getFirstPropertyValue('dtstart'))).toBe('2026-01-05T10:00:00');
    expect(String(main.getFirstPropertyValue('rrule'))).toBe('FREQ=WEEKLY;COUNT=10');
    expect(String(main.getFirstPropertyValue('exdate'))).toBe('2026-01-19T10:00:00');
    expect(main.getFirstPropertyValue('priority')).toBe(1);
    expect(main.getFirstPropertyValue('location')).toBe('Room 4.12');
    expect(main.getFirstProperty('organizer')!.getParameter('cn')).toBe('Anna Müller');
    const attendees = main.getAllProperties('attendee').map((a) => `${String(a.getFirstValue())} ${String(a.getParameter('role') ?? '')} ${String(a.getParameter('cutype') ?? '')} ${String(a.getParameter('partstat') ?? '')}`.trim());
    expect(attendees).toEqual(['mailto:ben@contoso.com   ACCEPTED', 'mailto:cleo@fabrikam.com OPT-PARTICIPANT', 'mailto:room412@contoso.com  RESOURCE ACCEPTED']);
    expect(String(main.getFirstSubcomponent('valarm')!.getFirstPropertyValue('trigger'))).toBe('-PT15M');
    expect(calendar.getFirstSubcomponent('vtimezone')!.getFirstPropertyValue('tzid')).toBe('Europe/Berlin');
    expect(String(moved.getFirstPropertyValue('recurrence-id'))).toBe('2026-01-26T10:00:00');
    expect(String(moved.getFirstPropertyValue('dtstart'))).toBe('2026-01-26T14:00:00');
    expect(moved.getFirstPropertyValue('location')).toBe('Café Central');
    expect(moved.getFirstProperty('attendee')!.getParameter('partstat')).toBe('TENTATIVE');
    expect(moved.getFirstSubcomponent('valarm')).toBeNull();
  });

  it('an all-day event keeps its days in its own zone', () => {
    const [holiday] = readEwsItems(fixture('all-day-and-task.xml'));
    const event = component(fromEws(holiday!).data).getFirstSubcomponent('vevent')!;
    expect(event.getFirstProperty('dtstart')!.type).toBe('date');
    expect(String(event.getFirstPropertyValue('dtstart'))).toBe('2026-05-14');
    expect(String(event.getFirstPropertyValue('dtend'))).toBe('2026-05-16');
    expect(event.getFirstPropertyValue('class')).toBe('PRIVATE');
    expect(event.getFirstPropertyValue('transp')).toBe('TRANSPARENT');
    // The mailbox owner Exchange names as organizer of a plain appointment is no organizer.
    expect(event.getFirstProperty('organizer')).toBeNull();
  });

  it('a contact with three e-mails, phones and addresses and a photo', () => {
    const [contact] = readEwsItems(fixture('contact.xml'));
    const { data, uid } = fromEws(contact!);
    expect(uid).toBe('urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1');
    const card = component(data);
    expect(card.getFirstPropertyValue('version')).toBe('4.0');
    expect(card.getFirstPropertyValue('fn')).toBe('Jörg Nowak');
    expect(card.getFirstPropertyValue('n')).toEqual(['Nowak', 'Jörg', 'K.', '', '']);
    expect(card.getFirstPropertyValue('org')).toEqual(['Nowak & Söhne GmbH', 'Einkauf']);
    expect(card.getAllProperties('email').map((p) => p.getFirstValue())).toEqual(['joerg@nowak-soehne.de', 'j.nowak@example.org', 'jn@example.net']);
    expect(card.getAllProperties('tel').map((p) => `${String(p.getParameter('type'))} ${String(p.getFirstValue())}`)).toEqual(['work +49 221 123456', 'home +49 228 654321', 'cell +49 170 1234567', 'work,fax +49 221 123459']);
    const addresses = card.getAllProperties('adr').map((p) => [p.getParameter('type') ?? null, ...(p.getFirstValue() as string[]).slice(2)]);
    expect(addresses).toEqual([
      ['work', 'Hauptstraße 5', 'Köln', 'NRW', '50667', 'Germany'],
      ['home', 'Am Weiher 2', 'Bonn', '', '53111', 'Germany'],
      [null, 'Rue de la Paix 1', 'Paris', '', '75002', 'France'],
    ]);
    expect(String(card.getFirstPropertyValue('bday'))).toBe('1975-04-15');
    expect(card.getFirstPropertyValue('photo')).toBe('data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8U');
    expect(card.getFirstPropertyValue('note')).toBe('Met at the trade fair; prefers calls before noon.');
  });

  it('a completed task with recurrence, and a regenerating one that iCalendar cannot say', () => {
    const [, report, plants] = readEwsItems(fixture('all-day-and-task.xml'));
    const done = fromEws(report!);
    const todo = component(done.data).getFirstSubcomponent('vtodo')!;
    expect(todo.getFirstPropertyValue('status')).toBe('COMPLETED');
    expect(todo.getFirstPropertyValue('percent-complete')).toBe(100);
    expect(String(todo.getFirstPropertyValue('completed'))).toBe('2026-02-03T16:20:00Z');
    expect(String(todo.getFirstPropertyValue('due'))).toBe('2026-02-02');
    expect(String(todo.getFirstPropertyValue('rrule'))).toBe('FREQ=MONTHLY;BYDAY=1MO;UNTIL=20261207');
    expect(todo.getFirstPropertyValue('priority')).toBe(9);
    expect(String(todo.getFirstSubcomponent('valarm')!.getFirstPropertyValue('trigger'))).toBe('2026-02-02T08:00:00Z');
    expect(done.notMapped).toEqual([]);
    const regenerating = fromEws(plants!);
    expect(component(regenerating.data).getFirstSubcomponent('vtodo')!.getFirstProperty('rrule')).toBeNull();
    expect(regenerating.notMapped.map((n) => `${n.component} ${n.property}`)).toEqual(['VTODO STATUS', 'VTODO RRULE']);
    expect(regenerating.notMapped[1]!.reason).toMatch(/regenerating/);
  });
});

describe('iCalendar / vCard → CreateItem XML', () => {
  const event = (lines: string[]) => ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//t//EN', 'BEGIN:VEVENT', 'UID:e-1@example.com', 'DTSTAMP:20260101T000000Z', ...lines, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

  it('escapes every value and drops what XML cannot carry', () => {
    const { xml } = toEws(event(['DTSTART:20260105T090000Z', 'DTEND:20260105T100000Z', 'SUMMARY:a <b> & "c" ]]> \u0001x', 'LOCATION:R&D <lab>']), 'calendar');
    expect(xml).toContain('<t:Subject>a &lt;b&gt; &amp; "c" ]]&gt; x</t:Subject>');
    expect(xml).toContain('<t:Location>R&amp;D &lt;lab&gt;</t:Location>');
    expect(xml).toContain('<t:Value>e-1@example.com</t:Value>');
    expect(readEwsItems(`<r xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">${xml}</r>`)[0]!.subject).toBe('a <b> & "c" ]]> x');
  });

  it('writes elements in the schema order and the zone by its Windows name', () => {
    const { xml, notMapped } = toEws(event(['DTSTART;TZID=America/New_York:20260105T090000', 'DTEND;TZID=America/New_York:20260105T100000', 'SUMMARY:x', 'RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1']), 'calendar');
    const order = [...xml.matchAll(/<t:(\w+)/g)].map((m) => m[1]);
    expect(order.indexOf('ExtendedProperty')).toBeLessThan(order.indexOf('UID'));
    expect(order.indexOf('Start')).toBeLessThan(order.indexOf('Recurrence'));
    expect(order.indexOf('Recurrence')).toBeLessThan(order.indexOf('StartTimeZone'));
    expect(xml).toContain('<t:Start>2026-01-05T14:00:00Z</t:Start>');
    expect(xml).toContain('<t:StartTimeZone Id="Eastern Standard Time"/>');
    expect(xml).toContain('<t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Weekday</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence>');
    expect(notMapped.map((n) => `${n.component} ${n.property}`)).not.toContain('VEVENT RRULE');
  });

  it('lists a rule Exchange cannot say, and keeps the first occurrence', () => {
    const { item, notMapped } = toEws(event(['DTSTART:20260105T090000Z', 'DTEND:20260105T100000Z', 'RRULE:FREQ=HOURLY;COUNT=3']), 'calendar');
    expect(item.kind === 'CalendarItem' && item.recurrence).toBeFalsy();
    expect(notMapped.find((n) => n.property === 'RRULE')?.reason).toBe('no Exchange recurrence for a rule repeating hourly (Exchange repeats daily at the most often): only the first occurrence is kept');
  });

  it("starts all-day events at midnight of the mailbox's zone, and reads their days back", () => {
    const written = toEws(event(['DTSTART;VALUE=DATE:20260514', 'DTEND;VALUE=DATE:20260516', 'SUMMARY:holiday']), 'calendar', { allDayZone: 'Europe/Berlin' });
    expect(written.xml).toContain('<t:Start>2026-05-13T22:00:00Z</t:Start>');
    expect(written.xml).toContain('<t:IsAllDayEvent>true</t:IsAllDayEvent>');
    expect(written.xml).toContain('<t:StartTimeZone Id="W. Europe Standard Time"/>');
    expect(written.notMapped).toEqual([]);
  });

  it('writes a group as a distribution list whose members by UID are the target\'s contacts', () => {
    const group = ['BEGIN:VCARD', 'VERSION:4.0', 'UID:g-1', 'FN:Team', 'KIND:group', 'MEMBER:urn:uuid:c-1', 'MEMBER:urn:uuid:c-2', 'MEMBER:mailto:list@example.com', 'END:VCARD', ''].join('\r\n');
    const resolved = toEws(group, 'contacts', { contactIdOf: (uid) => (uid === 'c-1' ? 'AAMkC1=' : null) });
    expect(resolved.memberUids).toEqual(['urn:uuid:c-1', 'urn:uuid:c-2']);
    expect(resolved.xml).toContain('<t:Member><t:Mailbox><t:MailboxType>Contact</t:MailboxType><t:ItemId Id="AAMkC1="/></t:Mailbox></t:Member>');
    expect(resolved.xml).toContain('<t:EmailAddress>list@example.com</t:EmailAddress>');
    expect(resolved.notMapped.map((n) => `${n.component} ${n.property}: ${n.reason}`)).toEqual(['VCARD MEMBER: a member by UID whose contact is not on the target: left out of the group']);
  });

  it('counts the instance index of modified and deleted occurrences', () => {
    const result = toEws(
      ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//t//EN', 'BEGIN:VEVENT', 'UID:s-1', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260105T090000Z', 'DTEND:20260105T100000Z', 'RRULE:FREQ=DAILY;COUNT=10', 'EXDATE:20260107T090000Z', 'SUMMARY:daily', 'END:VEVENT', 'BEGIN:VEVENT', 'UID:s-1', 'DTSTAMP:20260101T000000Z', 'RECURRENCE-ID:20260109T090000Z', 'DTSTART:20260109T120000Z', 'DTEND:20260109T130000Z', 'SUMMARY:daily (late)', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n'),
      'calendar',
    );
    expect(result.deletedOccurrences).toEqual([{ originalStart: '2026-01-07T09:00:00Z', instanceIndex: 3 }]);
    expect(result.occurrences.map((o) => [o.originalStart, o.instanceIndex, o.item.start])).toEqual([['2026-01-09T09:00:00Z', 5, '2026-01-09T12:00:00Z']]);
    expect(result.occurrences[0]!.xml).toContain('<t:Subject>daily (late)</t:Subject>');
    expect(result.notMapped).toEqual([]);
  });
});

/** Renders the write as Exchange answers GetItem for it (ids, exceptions), and reads it back. */
function throughExchange(data: string, kind: GroupwareKind): { data: string; notMapped: NotMapped[] } {
  // Every member contact is taken to be on the target already, with an ItemId made from its UID.
  const written = toEws(data, kind, { contactIdOf: (uid) => `AAMkContact-${uid}` });
  const master: EwsItem = { ...written.item, itemId: { id: 'AAMkMaster=', changeKey: 'CK' } };
  const exceptions: EwsCalendarItem[] = written.occurrences.map((o, i) => ({ ...o.item, itemId: { id: `AAMkException${i}=`, changeKey: 'CK' } }));
  if (master.kind === 'CalendarItem') master.modifiedOccurrences = exceptions.map((e) => ({ itemId: e.itemId!, start: e.start, end: e.end, originalStart: e.originalStart! }));
  const answer = `<m:Items xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">${[master, ...exceptions].map((item) => writeEwsItem(item, { asServer: true })).join('')}</m:Items>`;
  const [readMaster, ...readExceptions] = readEwsItems(answer);
  return { data: fromEws(readMaster!, readExceptions as EwsCalendarItem[], { contactUidOf: (id) => id.replace(/^AAMkContact-/, '') }).data, notMapped: written.notMapped };
}

/** Lines of the normal form that differ, leaving out those of properties the conversion listed as not mapped. */
function unlistedDifferences(original: string, back: string, notMapped: NotMapped[]): string[] {
  const listed = (line: string) => {
    const key = lineKey(line);
    return notMapped.some((n) => n.component === key.component && (n.property === null || n.property === key.property));
  };
  const a = normalisedLines(original).filter((l) => !listed(l));
  const b = normalisedLines(back).filter((l) => !listed(l));
  const rest = [...b];
  const missing = a.filter((line) => {
    const at = rest.indexOf(line);
    if (at < 0) return true;
    rest.splice(at, 1);
    return false;
  });
  return [...missing.map((l) => `missing: ${l}`), ...rest.map((l) => `added: ${l}`)];
}

describe('round trips through the EWS XML', () => {
  const corpus = generateGroupwareCorpus({ seed: 'ews-mapping', scale: 0.1 });

  it('the part 1 corpus comes back equal but for what each conversion lists', () => {
    let items = 0;
    const listed = new Map<string, number>();
    for (const collection of corpus) {
      for (const item of collection.items) {
        const back = throughExchange(item.data, collection.kind);
        expect(unlistedDifferences(item.data, back.data, back.notMapped), item.uid).toEqual([]);
        for (const n of back.notMapped) listed.set(`${n.component} ${n.property}`, (listed.get(`${n.component} ${n.property}`) ?? 0) + 1);
        items++;
      }
    }
    expect(items).toBeGreaterThan(150);
    // What the corpus holds and Exchange has fields for arrives as it was.
    // Groups (distribution lists) have a name but no name parts (N).
    expect(listed.get('VCARD N') ?? 0).toBe(corpus.flatMap((c) => c.items).filter((i) => /KIND:group|X-ADDRESSBOOKSERVER-KIND:group/i.test(i.data)).length);
    // Exchange has no floating time: those events are the only ones whose start is listed.
    const floating = corpus.flatMap((c) => c.items).filter((i) => /^DTSTART:\d{8}T\d{6}\r?$/m.test(i.data.replace(/BEGIN:VTIMEZONE[\s\S]*?END:VTIMEZONE/g, ''))).length;
    expect(floating).toBeGreaterThan(0);
    expect(listed.get('VEVENT DTSTART') ?? 0).toBe(floating);
    for (const kept of ['VEVENT SUMMARY', 'VEVENT UID', 'VEVENT RRULE', 'VEVENT EXDATE', 'VEVENT RECURRENCE-ID', 'VEVENT LOCATION', 'VEVENT CATEGORIES', 'VEVENT ORGANIZER', 'VCARD FN', 'VCARD PHOTO', 'VCARD UID', 'VCARD MEMBER', 'VTODO SUMMARY', 'VTODO STATUS', 'VTODO COMPLETED', 'VTODO PERCENT-COMPLETE', 'VTODO UID']) {
      expect(listed.get(kept) ?? 0, kept).toBe(0);
    }
  });

  it('165 real-world files come back equal but for what each conversion lists', () => {
    const root = '/work/shared/corpora/dav-real-world';
    const kinds: Record<string, GroupwareKind> = { calendar: 'calendar', team: 'calendar', tasks: 'tasks', contacts: 'contacts', business: 'contacts' };
    let items = 0;
    const failures: string[] = [];
    for (const folder of readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      for (const file of readdirSync(path.join(root, folder.name))) {
        const data = readFileSync(path.join(root, folder.name, file), 'utf8');
        let back: { data: string; notMapped: NotMapped[] };
        try {
          back = throughExchange(data, kinds[folder.name] ?? 'calendar');
        } catch (error) {
          // Files ical.js cannot read are refused as such (the DAV copy moves them verbatim).
          if (/not valid iCalendar or vCard|without DTSTART|without VEVENT/.test((error as Error).message)) continue;
          throw new Error(`${folder.name}/${file}: ${(error as Error).message}`);
        }
        const rest = unlistedDifferences(data, back.data, back.notMapped);
        if (rest.length) failures.push(`${folder.name}/${file}: ${rest.slice(0, 3).join(' | ')}`);
        items++;
      }
    }
    expect(failures).toEqual([]);
    expect(items).toBeGreaterThan(150);
  });
});
