import { describe, expect, it } from 'vitest';
import { graphEventToICalendar } from './events';
import { calendarColorOf, noteOf } from './graph-target';
import type { GraphEvent } from './graph-types';
import { keptMeetingValue, keptProperties, meetingBlock, parseKeptMeeting, withMeetingBlock, withoutMeetingBlock } from './meeting';

const lines = ['ORGANIZER;CN="Doe, Jane":mailto:jane@example.test', 'ATTENDEE;CN=Bob;ROLE=OPT-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:bob@example.test', 'ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:eve@example.test'];

describe('a meeting written without attendees', () => {
  it('names organizer and attendees in a block a person reads, and the block comes out of the text again', () => {
    expect(meetingBlock(lines).split('\n').slice(1)).toEqual(['Organizer: Doe, Jane <jane@example.test>', 'Attendee: Bob <bob@example.test> (optional), accepted', 'Attendee: eve@example.test, no answer yet']);
    for (const content of ['', 'Agenda:\nfirst things first', 'ends with a blank line\n\n']) {
      const written = withMeetingBlock({ contentType: 'text', content }, lines);
      expect(written.content).toContain('Attendee: Bob');
      expect(withoutMeetingBlock(written)).toEqual({ contentType: 'text', content });
      // Graph may give the text back with CRLF line ends.
      expect(withoutMeetingBlock({ contentType: 'text', content: written.content.replace(/\n/g, '\r\n') }).content).toBe(content.replace(/\n/g, '\r\n'));
    }
    const html = withMeetingBlock({ contentType: 'html', content: '<p>Agenda &amp; more</p>' }, lines);
    expect(html.content).toContain('&lt;bob@example.test&gt;');
    expect(withoutMeetingBlock(html)).toEqual({ contentType: 'html', content: '<p>Agenda &amp; more</p>' });
    // No people, no block; a text without the block stays as it is.
    expect(withMeetingBlock({ contentType: 'text', content: 'x' }, [])).toEqual({ contentType: 'text', content: 'x' });
    expect(withoutMeetingBlock({ contentType: 'text', content: 'Meeting notes' })).toEqual({ contentType: 'text', content: 'Meeting notes' });
  });

  it('keeps the lines of the series and of each overridden instance, read back as they were', () => {
    const value = keptMeetingValue({ version: 1, lines, instances: { '2027-03-02T08:45:00Z': lines.slice(0, 2) } });
    const kept = parseKeptMeeting(value)!;
    expect(keptProperties(kept).map((p) => p[0])).toEqual(['organizer', 'attendee', 'attendee']);
    expect(keptProperties(kept)[0]).toEqual(['organizer', { cn: 'Doe, Jane' }, 'cal-address', 'mailto:jane@example.test']);
    expect(keptProperties(kept, '2027-03-02T08:45:00.000Z')).toHaveLength(2);
    expect(keptProperties(kept, '2027-03-09T08:45:00Z')).toEqual([]);
    for (const other of [null, '', 'not json', '{"version":2,"lines":[],"instances":{}}', '{"version":1,"lines":[1],"instances":{}}']) expect(parseKeptMeeting(other)).toBeNull();
  });
});

describe('a meeting read back from Microsoft 365', () => {
  const event = (attendees: GraphEvent['attendees'], content: string): GraphEvent => ({
    subject: 'Planning',
    body: { contentType: 'text', content },
    start: { dateTime: '2027-01-12T10:00:00.0000000', timeZone: 'UTC' },
    end: { dateTime: '2027-01-12T11:00:00.0000000', timeZone: 'UTC' },
    isAllDay: false,
    location: { displayName: '' },
    locations: [],
    showAs: 'busy',
    sensitivity: 'normal',
    importance: 'normal',
    categories: [],
    isReminderOn: false,
    reminderMinutesBeforeStart: 15,
    attendees,
    organizer: { emailAddress: { name: 'Mailbox Owner', address: 'owner@example.test' } },
    recurrence: null,
    attachments: [],
    iCalUId: 'planning@example.test',
    type: 'singleInstance',
  });
  const kept = parseKeptMeeting(keptMeetingValue({ version: 1, lines, instances: {} }))!;

  it('has the kept organizer and attendees instead of the mailbox owner, and its text without the block', () => {
    const written = withMeetingBlock({ contentType: 'text', content: 'Agenda' }, lines);
    const data = graphEventToICalendar(event([], written.content), [], [], kept).replace(/\r\n[ \t]/g, '');
    expect(data.match(/^(ORGANIZER|ATTENDEE)[;:].*$/gm)).toEqual(lines.map((l) => l.replace(/\r\n[ \t]/g, '')));
    expect(data).toMatch(/^DESCRIPTION:Agenda\r?$/m);
    expect(data).not.toContain('owner@example.test');
  });

  it('keeps attendees added in Outlook after the copy beside the kept ones', () => {
    const added = graphEventToICalendar(event([{ type: 'required', emailAddress: { address: 'new@example.test' }, status: { response: 'none' } }, { type: 'optional', emailAddress: { address: 'BOB@example.test' } }], 'Agenda'), [], [], kept);
    expect(added.match(/^ATTENDEE.*$/gm)?.length).toBe(3);
    expect(added).toMatch(/^ATTENDEE.*mailto:new@example\.test\r?$/m);
  });
});

describe('the Microsoft 365 target', () => {
  it('reports mapping notes by component and property, without the item’s values', () => {
    expect(noteOf('VEVENT RRULE INTERVAL: 1 is the default; not written back')).toEqual({ component: 'VEVENT', property: 'RRULE', reason: '1 is the default; not written back' });
    expect(noteOf('VCARD TEL TYPE=fax: Microsoft 365 contacts have business, home and mobile numbers only')).toMatchObject({ component: 'VCARD', property: 'TEL' });
    expect(noteOf('VALARM *: a second alarm: Microsoft 365 keeps one reminder per event')).toEqual({ component: 'VALARM', property: null, reason: 'a second alarm: Microsoft 365 keeps one reminder per event' });
    expect(noteOf('VEVENT[20270302T084500] *: moved')).toMatchObject({ component: 'VEVENT', property: null });
    expect(noteOf('VTODO PERCENT-COMPLETE: 63%: Microsoft To Do has no progress figure').reason).toBe('Microsoft To Do has no progress figure');
    expect(noteOf('VEVENT ATTACH: a file by URL: Microsoft 365 events hold files, not links').reason).toBe('a file by URL: Microsoft 365 events hold files, not links');
  });

  it('gives a calendar the Outlook colour nearest to its own, or lets Outlook choose', () => {
    expect(calendarColorOf('#a6d1f5')).toBe('lightBlue');
    expect(calendarColorOf('#e67e22ff')).toBe('lightOrange');
    expect(calendarColorOf('#c0392b')).toBe('lightRed');
    expect(calendarColorOf('#000000')).toBe('lightGray');
    expect(calendarColorOf('#8e44ad')).toBe('auto');
    expect(calendarColorOf(null)).toBe('auto');
    expect(calendarColorOf('blue')).toBe('auto');
  });
});
