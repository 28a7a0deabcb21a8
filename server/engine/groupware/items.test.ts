import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { componentNames, convertVcard, isSameItem, ItemFormatError, itemDifferences, itemUid, prepareForTarget } from './items';

const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n`;

const meeting = crlf([
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//Example//Calendar 1.0//EN',
  'BEGIN:VTIMEZONE',
  'TZID:Europe/Berlin',
  'BEGIN:DAYLIGHT',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0200',
  'DTSTART:19700329T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'END:DAYLIGHT',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'DTSTART:19701025T030000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'END:STANDARD',
  'END:VTIMEZONE',
  'BEGIN:VEVENT',
  'UID:weekly-1@example.com',
  'DTSTAMP:20260101T090000Z',
  'DTSTART;TZID=Europe/Berlin:20260105T100000',
  'DTEND;TZID=Europe/Berlin:20260105T110000',
  'RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10',
  'EXDATE;TZID=Europe/Berlin:20260119T100000',
  'SUMMARY:Weekly planning',
  'ORGANIZER;CN=Anna:mailto:anna@example.com',
  'ATTENDEE;CN=Ben;PARTSTAT=ACCEPTED:mailto:ben@example.com',
  'ATTENDEE;CN=Cleo;SCHEDULE-AGENT=SERVER;SCHEDULE-FORCE-SEND=REQUEST:mailto:cleo@example.com',
  'ATTENDEE;CN=Dirk;SCHEDULE-AGENT=NONE:mailto:dirk@example.com',
  'BEGIN:VALARM',
  'ACTION:DISPLAY',
  'DESCRIPTION:Reminder',
  'TRIGGER:-PT15M',
  'END:VALARM',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:weekly-1@example.com',
  'DTSTAMP:20260101T090000Z',
  'RECURRENCE-ID;TZID=Europe/Berlin:20260112T100000',
  'DTSTART;TZID=Europe/Berlin:20260112T140000',
  'DTEND;TZID=Europe/Berlin:20260112T150000',
  'SUMMARY:Weekly planning (moved)',
  'ORGANIZER;CN=Anna:mailto:anna@example.com',
  'ATTENDEE;CN=Ben:mailto:ben@example.com',
  'END:VEVENT',
  'END:VCALENDAR',
]);

describe('itemUid and componentNames', () => {
  it('reads the UID shared by an event and its overridden instance, and its components without VTIMEZONE', () => {
    expect(itemUid(meeting)).toBe('weekly-1@example.com');
    expect(componentNames(meeting)).toEqual(['VEVENT']);
  });

  it('gives null for a vCard 3 without UID and a clear error for text that is not iCalendar', () => {
    expect(itemUid(crlf(['BEGIN:VCARD', 'VERSION:3.0', 'FN:No Uid', 'N:Uid;No;;;', 'END:VCARD']))).toBeNull();
    expect(() => itemUid('BEGIN:VCALENDAR\r\nthis is not a property\r\n')).toThrow(ItemFormatError);
  });
});

describe('prepareForTarget', () => {
  it('marks every organizer and attendee SCHEDULE-AGENT=CLIENT where the target schedules (SERVER too, NONE stays), drops SCHEDULE-FORCE-SEND, and changes nothing else', () => {
    const prepared = prepareForTarget(meeting, 'calendar', { isScheduling: true, vcardVersions: [] });
    const unfolded = prepared.replace(/\r\n[ \t]/g, '');
    const participants = unfolded.split('\r\n').filter((line) => /^(ORGANIZER|ATTENDEE)[;:]/.test(line));
    expect(participants).toHaveLength(6);
    for (const line of participants) expect(line).toMatch(/;SCHEDULE-AGENT=(CLIENT|NONE)[;:]/);
    expect(participants.filter((line) => line.includes('SCHEDULE-AGENT=NONE'))).toEqual([expect.stringContaining('dirk@example.com')]);
    expect(unfolded).not.toMatch(/SCHEDULE-FORCE-SEND|SCHEDULE-AGENT=SERVER/);
    // Scheduling parameters are not compared; everything else is the same.
    expect(itemDifferences(meeting, prepared)).toEqual([]);
  });

  it('leaves the text exactly as it is when the target does not schedule', () => {
    expect(prepareForTarget(meeting, 'calendar', { isScheduling: false, vcardVersions: [] })).toBe(meeting);
  });

  it('converts a vCard 3 with a photo and an Apple group to vCard 4 and back', () => {
    const photo = Buffer.from('not really a jpeg').toString('base64');
    const card = crlf(['BEGIN:VCARD', 'VERSION:3.0', 'UID:c1', 'FN:Dana', 'N:;Dana;;;', `PHOTO;ENCODING=b;TYPE=JPEG:${photo}`, 'END:VCARD']);
    const four = prepareForTarget(card, 'contacts', { isScheduling: false, vcardVersions: ['4.0'] });
    expect(four).toContain('VERSION:4.0');
    expect(four.replace(/\r\n[ \t]/g, '')).toContain(`PHOTO:data:image/jpeg;base64,${photo}`);
    const back = convertVcard(new ICAL.Component(ICAL.parse(four) as unknown as [string, [], []]), '3.0').toString();
    expect(back.replace(/\r\n[ \t]/g, '')).toMatch(new RegExp(`PHOTO;(ENCODING=b;TYPE=JPEG|TYPE=JPEG;ENCODING=b):${photo.replace(/[+/=]/g, '\\$&')}`));

    const group = crlf(['BEGIN:VCARD', 'VERSION:3.0', 'UID:g1', 'FN:Team', 'N:Team;;;;', 'X-ADDRESSBOOKSERVER-KIND:group', 'X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:c1', 'END:VCARD']);
    const groupFour = prepareForTarget(group, 'contacts', { isScheduling: false, vcardVersions: ['4.0'] });
    expect(groupFour).toContain('KIND:group');
    expect(groupFour).toContain('MEMBER:urn:uuid:c1');
    expect(prepareForTarget(group, 'contacts', { isScheduling: false, vcardVersions: ['3.0', '4.0'] })).toBe(group);
  });
});

describe('itemDifferences', () => {
  it('sees no difference in what servers legitimately rewrite: folding, order, line ends, PRODID, DTSTAMP, RRULE part order, offset and duration spellings', () => {
    const rewritten = meeting
      .replace('PRODID:-//Example//Calendar 1.0//EN', 'PRODID:-//Other server//EN')
      .replace(/DTSTAMP:20260101T090000Z/g, 'DTSTAMP:20261207T080000Z')
      .replace('RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3')
      .replace('TZOFFSETFROM:+0100', 'TZOFFSETFROM:+010000')
      .replace('TRIGGER:-PT15M', 'TRIGGER:-P0DT0H15M0S')
      .replace('SUMMARY:Weekly planning\r\n', 'SUMMARY:Weekly\r\n  planning\r\nX-SERVER-OWN:1\r\n')
      .replace(/\r\n/g, '\n');
    expect(itemDifferences(meeting, rewritten)).toEqual([]);
    expect(isSameItem(meeting, rewritten)).toBe(true);
  });

  it('sees a list value split into several properties as the same (EXDATE a,b and two EXDATEs), but not a lost value', () => {
    const joined = meeting.replace('EXDATE;TZID=Europe/Berlin:20260119T100000', 'EXDATE;TZID=Europe/Berlin:20260119T100000,20260126T100000\r\nCATEGORIES:Work,Planning');
    const split = meeting.replace(
      'EXDATE;TZID=Europe/Berlin:20260119T100000',
      'EXDATE;TZID=Europe/Berlin:20260126T100000\r\nEXDATE;TZID=Europe/Berlin:20260119T100000\r\nCATEGORIES:Planning\r\nCATEGORIES:Work',
    );
    expect(itemDifferences(joined, split)).toEqual([]);
    expect(itemDifferences(joined, meeting.replace('EXDATE;TZID=Europe/Berlin:20260119T100000', 'EXDATE;TZID=Europe/Berlin:20260119T100000\r\nCATEGORIES:Work,Planning'))).toEqual([
      'missing on the target: /VCALENDAR/VEVENT|exdate;tzid="Europe/Berlin"',
    ]);
  });

  it('names what differs, without values: a changed summary, a lost exception, a lost alarm', () => {
    const changed = meeting.replace('SUMMARY:Weekly planning (moved)', 'SUMMARY:Something else');
    expect(itemDifferences(meeting, changed)).toEqual([
      'missing on the target: /VCALENDAR/VEVENT[2026-01-12T10:00:00]|summary',
      'only on the target: /VCALENDAR/VEVENT[2026-01-12T10:00:00]|summary',
    ]);
    expect(itemDifferences(meeting, meeting.replace('EXDATE;TZID=Europe/Berlin:20260119T100000\r\n', ''))).toEqual(['missing on the target: /VCALENDAR/VEVENT|exdate;tzid="Europe/Berlin"']);
    const withoutAlarm = meeting.replace(/BEGIN:VALARM[\s\S]*?END:VALARM\r\n/, '');
    expect(itemDifferences(meeting, withoutAlarm).length).toBeGreaterThanOrEqual(3);
    expect(isSameItem(meeting, withoutAlarm)).toBe(false);
  });
});

describe('the real-world files', () => {
  const root = '/work/shared/corpora/dav-real-world';
  const files = ['calendar', 'team', 'tasks', 'contacts'].flatMap((folder) => readdirSync(path.join(root, folder)).map((name) => path.join(root, folder, name)));

  it('survive being prepared for a scheduling target and for vCard 4 / 3: nothing but the scheduling agent changes', () => {
    expect(files).toHaveLength(165);
    let readable = 0;
    for (const file of files) {
      const data = readFileSync(file, 'utf8');
      const kind = file.includes('/contacts/') ? 'contacts' : file.includes('/tasks/') ? 'tasks' : 'calendar';
      let uid: string | null;
      try {
        uid = itemUid(data);
      } catch (error) {
        // A file ical.js cannot read travels as it is: only the format error is allowed here.
        expect(error, file).toBeInstanceOf(ItemFormatError);
        continue;
      }
      readable++;
      expect(typeof uid === 'string' || uid === null, file).toBe(true);
      const prepared = prepareForTarget(data, kind, { isScheduling: true, vcardVersions: [] });
      expect(itemDifferences(data, prepared), file).toEqual([]);
    }
    expect(readable).toBeGreaterThan(150);
  });
});
