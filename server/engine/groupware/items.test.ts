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

describe('semicolons in vCard text', () => {
  const card = (version: string, note: string) => `BEGIN:VCARD\r\nVERSION:${version}\r\nUID:semi-1\r\nFN:Ana Ruiz\r\nN:Ruiz;Ana;;;\r\nNOTE:${note}\r\nEND:VCARD\r\n`;

  it('writes them escaped in vCard 3 (RFC 2426) and reads \\; as ; in both versions', () => {
    const v3 = convertVcard(new ICAL.Component(ICAL.parse(card('4.0', 'room 4; desk 2\\, window'))), '3.0').toString();
    expect(v3).toContain('NOTE:room 4\\; desk 2\\, window');
    expect(new ICAL.Component(ICAL.parse(v3)).getFirstPropertyValue('note')).toBe('room 4; desk 2, window');
    expect(new ICAL.Component(ICAL.parse(card('4.0', 'room 4\\; desk 2'))).getFirstPropertyValue('note')).toBe('room 4; desk 2');
  });

  it('finds a note a server wrote back with \\; the same, and one with a semicolon lost different', () => {
    expect(itemDifferences(card('4.0', 'room 4; desk 2'), card('4.0', 'room 4\\; desk 2'))).toEqual([]);
    expect(itemDifferences(card('4.0', 'room 4; desk 2'), card('3.0', 'room 4\\; desk 2'))).toEqual([]);
    expect(itemDifferences(card('4.0', 'room 4; desk 2'), card('4.0', 'room 4 desk 2'))).not.toEqual([]);
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

describe('vCard 3 and vCard 4 in one common form', () => {
  const jpeg = Buffer.from('\xff\xd8\xff\xe0 a small picture of Jane', 'latin1').toString('base64');
  // As an iPhone writes her (vCard 3) ...
  const three = crlf([
    'BEGIN:VCARD',
    'VERSION:3.0',
    'PRODID:-//Apple Inc.//iOS 17.2//EN',
    'UID:jane-1',
    'N:Doe;Jane',
    'FN:Jane Doe',
    'EMAIL;TYPE=INTERNET;TYPE=WORK;TYPE=pref:jane@example.com',
    'EMAIL;TYPE=INTERNET,HOME:jane.doe@example.org',
    'TEL;TYPE=CELL,VOICE:+49-170-1234567',
    'TEL;type=HOME:+49-30-1234567',
    'ADR;TYPE=HOME:;;Hauptstr. 1;Berlin;;10115;Germany',
    'LABEL;TYPE=HOME:Hauptstr. 1\\n10115 Berlin\\nGermany',
    `PHOTO;ENCODING=b;TYPE=JPEG:${jpeg}`,
    'GEO:52.52;13.405',
    'TZ:+01:00',
    'BDAY:1985-04-12',
    'REV:2026-01-02T03:04:05Z',
    'END:VCARD',
  ]);
  // ... and as a vCard 4 server hands the same contact back.
  const four = crlf([
    'BEGIN:VCARD',
    'VERSION:4.0',
    'UID:jane-1',
    'FN:Jane Doe',
    'N:Doe;Jane;;;',
    'EMAIL;TYPE=work,internet;PREF=1:jane@example.com',
    'EMAIL;TYPE=home;TYPE=internet:jane.doe@example.org',
    'TEL;VALUE=uri;TYPE="voice,cell":tel:+49-170-1234567',
    'TEL;TYPE=home:+49-30-1234567',
    'ADR;TYPE=home;LABEL="Hauptstr. 1^n10115 Berlin^nGermany":;;Hauptstr. 1;Berlin;;10115;Germany',
    `PHOTO:data:image/jpeg;base64,${jpeg}`,
    'GEO:geo:52.52,13.405',
    'TZ;VALUE=utc-offset:+0100',
    'BDAY:19850412',
    'REV:20260102T030405Z',
    'END:VCARD',
  ]);
  const appleGroup = crlf(['BEGIN:VCARD', 'VERSION:3.0', 'UID:g1', 'N:Team;;;;', 'FN:Team', 'X-ADDRESSBOOKSERVER-KIND:group', 'X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:jane-1', 'X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:john-2', 'END:VCARD']);
  const group = crlf(['BEGIN:VCARD', 'VERSION:4.0', 'UID:g1', 'KIND:group', 'FN:Team', 'N:Team;;;;', 'MEMBER:urn:uuid:john-2', 'MEMBER:urn:uuid:jane-1', 'END:VCARD']);

  it('sees no difference in what the versions spell differently: TYPE case and lists, TYPE=pref and PREF=1, inline photo and data: URI, N parts, tel:, LABEL and ADR;LABEL, GEO, TZ, BDAY and REV forms, VERSION', () => {
    expect(itemDifferences(three, four)).toEqual([]);
    expect(itemDifferences(four, three)).toEqual([]);
    expect(isSameItem(three, four)).toBe(true);
    // Spellings vCard 4 writers use for the same: TYPE=pref, a backslash before GEO's comma, TZ as text, an unpadded N, ADR and LABEL apart.
    const spelled = four
      .replace('EMAIL;TYPE=work,internet;PREF=1', 'EMAIL;TYPE=WORK,INTERNET,PREF')
      .replace('geo:52.52,13.405', 'geo:52.520\\,13.4050')
      .replace('TZ;VALUE=utc-offset:+0100', 'TZ:+01:00')
      .replace('N:Doe;Jane;;;', 'N:Doe;Jane')
      .replace('ADR;TYPE=home;LABEL="Hauptstr. 1^n10115 Berlin^nGermany":', 'LABEL;TYPE=HOME:Hauptstr. 1\\n10115 Berlin\\nGermany\r\nADR;TYPE=home:');
    expect(spelled).not.toBe(four);
    expect(itemDifferences(four, spelled)).toEqual([]);
    expect(itemDifferences(three, spelled)).toEqual([]);
  });

  it("sees Apple's group form and vCard 4's KIND and MEMBER as one group", () => {
    expect(itemDifferences(appleGroup, group)).toEqual([]);
  });

  it('still names a real loss between the versions: an e-mail, a phone digit, photo bytes, the name, the label, the position, a preference, a group member', () => {
    const losses: [string, string][] = [
      [four.replace('EMAIL;TYPE=home;TYPE=internet:jane.doe@example.org\r\n', ''), 'missing on the target: /VCARD|email;type=["home","internet"]'],
      [four.replace('tel:+49-170-1234567', 'tel:+49-170-1234568'), 'missing on the target: /VCARD|tel;type=["cell","voice"]'],
      [four.replace(`base64,${jpeg}`, `base64,${jpeg.slice(0, -4)}`), 'missing on the target: /VCARD|photo'],
      [four.replace('data:image/jpeg', 'data:image/png'), 'missing on the target: /VCARD|photo'],
      [four.replace('N:Doe;Jane;;;', 'N:Doe;Janet;;;'), 'missing on the target: /VCARD|n'],
      [four.replace('10115 Berlin', '10117 Berlin'), 'missing on the target: /VCARD|label;type=["home"]'],
      [four.replace('geo:52.52,13.405', 'geo:52.52,13.406'), 'missing on the target: /VCARD|geo'],
      [four.replace('EMAIL;TYPE=work,internet;PREF=1', 'EMAIL;TYPE=work,internet'), 'missing on the target: /VCARD|email;pref="1";type=["internet","work"]'],
      [four.replace('TZ;VALUE=utc-offset:+0100', 'TZ;VALUE=utc-offset:+0200'), 'missing on the target: /VCARD|tz'],
      [four.replace('BDAY:19850412', 'BDAY:19850421'), 'missing on the target: /VCARD|bday'],
    ];
    for (const [target, difference] of losses) {
      expect(target).not.toBe(four);
      expect(itemDifferences(three, target)).toContain(difference);
      expect(isSameItem(three, target)).toBe(false);
    }
    // Parameters that hold the contact's own data are named, never shown.
    const sorted = four.replace('N:Doe;Jane;;;', 'N;SORT-AS="Doe,Jane":Doe;Jane;;;').replace('ADR;TYPE=home;', 'ADR;TYPE=home;GEO="geo:52.52,13.405";');
    expect(itemDifferences(sorted, sorted.replace('SORT-AS="Doe,Jane"', 'SORT-AS="Dough,Jane"').replace('geo:52.52,13.405";', 'geo:52.53,13.405";'))).toEqual([
      'missing on the target: /VCARD|adr;geo;type=["home"]',
      'missing on the target: /VCARD|label;geo;type=["home"]',
      'missing on the target: /VCARD|n;sort-as',
      'only on the target: /VCARD|adr;geo;type=["home"]',
      'only on the target: /VCARD|label;geo;type=["home"]',
      'only on the target: /VCARD|n;sort-as',
    ]);
    expect(itemDifferences(appleGroup, group.replace('MEMBER:urn:uuid:john-2\r\n', ''))).toEqual(['missing on the target: /VCARD|member']);
    expect(itemDifferences(appleGroup, group.replace('KIND:group\r\n', ''))).toEqual(['missing on the target: /VCARD|kind']);
  });

  it('converts what RFC 6350 spells otherwise, so that a vCard 4 reader reads it: PREF=1, geo: URI, VERSION first, a data: URI behind ENCODING=b taken as it is', () => {
    const converted = prepareForTarget(three, 'contacts', { isScheduling: false, vcardVersions: ['4.0'] }).replace(/\r\n[ \t]/g, '');
    expect(converted).toMatch(/^BEGIN:VCARD\r\nVERSION:4\.0\r\n/);
    expect(converted).toContain('EMAIL;TYPE=INTERNET,WORK;PREF=1:jane@example.com');
    expect(converted).toContain('GEO:geo:52.52,13.405');
    expect(converted).toContain('TZ;VALUE=UTC-OFFSET:+0100');
    expect(converted).toContain(`PHOTO:data:image/jpeg;base64,${jpeg}`);
    expect(itemDifferences(three, converted)).toEqual([]);

    // BDAY before VERSION (libical's test card): still written by vCard 4's rules.
    const late = crlf(['BEGIN:VCARD', 'BDAY;VALUE=DATE:1963-09-21', 'UID:late-1', 'VERSION:3.0', 'N:Stenerson;Derik', 'FN:Derik Stenerson', 'END:VCARD']);
    expect(prepareForTarget(late, 'contacts', { isScheduling: false, vcardVersions: ['4.0'] })).toMatch(/^BEGIN:VCARD\r\nVERSION:4\.0\r\n/);

    // Radicale's own test card: a data: URI behind ENCODING=b, not base64 of one.
    const radicale = crlf(['BEGIN:VCARD', 'VERSION:3.0', 'UID:contact', 'N:Contact;;;;', 'FN:Contact', 'PHOTO;ENCODING=b;TYPE=png:data:image/png;base64,iVBORw0KGgo=', 'END:VCARD']);
    expect(prepareForTarget(radicale, 'contacts', { isScheduling: false, vcardVersions: ['4.0'] })).toContain('PHOTO:data:image/png;base64,iVBORw0KGgo=\r\n');
  });

  it('keeps what ical.js would cut short: a vCard 3 TZ given as the zone name, a vCard 4 REV in the extended form', () => {
    const zone = crlf(['BEGIN:VCARD', 'VERSION:3.0', 'UID:tz-1', 'FN:Tz', 'N:Tz;;;;', 'TZ:America/New_York', 'END:VCARD']);
    const zoneFour = prepareForTarget(zone, 'contacts', { isScheduling: false, vcardVersions: ['4.0'] });
    expect(zoneFour).toContain('TZ:America/New_York\r\n');
    expect(itemDifferences(zone, zoneFour)).toEqual([]);
    expect(itemDifferences(zone, zone.replace('America/New_York', 'America/Chicago'))).toEqual(['missing on the target: /VCARD|tz', 'only on the target: /VCARD|tz']);
    const revised = crlf(['BEGIN:VCARD', 'VERSION:4.0', 'UID:rev-1', 'FN:Rev', 'REV:2026-01-02T03:04:05Z', 'END:VCARD']);
    const revisedThree = prepareForTarget(revised, 'contacts', { isScheduling: false, vcardVersions: ['3.0'] });
    expect(revisedThree).toContain('REV:20260102T030405Z\r\n');
    expect(itemDifferences(revised, revisedThree)).toEqual([]);
    expect(itemDifferences(revised, revised.replace('REV:2026-01-02T03:04:05Z', 'REV:20260102T030405Z'))).toEqual([]);
  });

  it("writes a birthday without year as Apple's 1604 with X-APPLE-OMIT-YEAR in vCard 3, and sees the two forms, KIND:individual and no KIND, CHARSET and none as the same", () => {
    const yearless = crlf(['BEGIN:VCARD', 'VERSION:4.0', 'UID:bday-1', 'FN:Bea', 'BDAY:--0412', 'NOTE:hello', 'END:VCARD']);
    const apple = prepareForTarget(yearless, 'contacts', { isScheduling: false, vcardVersions: ['3.0'] });
    expect(apple).toMatch(/\r\nBDAY;X-APPLE-OMIT-YEAR=1604(;VALUE=DATE)?:1604-?04-?12\r\n/);
    expect(itemDifferences(yearless, apple)).toEqual([]);
    expect(prepareForTarget(apple, 'contacts', { isScheduling: false, vcardVersions: ['4.0'] })).toContain('\r\nBDAY:--0412\r\n');
    const written = crlf(['BEGIN:VCARD', 'VERSION:3.0', 'UID:bday-1', 'FN:Bea', 'BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-12', 'KIND:individual', 'NOTE;CHARSET=UTF-8:hello', 'END:VCARD']);
    expect(itemDifferences(yearless, written)).toEqual([]);
    // A year that is not the omitted one is a year.
    expect(itemDifferences(yearless, written.replace('1604-04-12', '1985-04-12'))).toEqual(['missing on the target: /VCARD|bday', 'only on the target: /VCARD|bday;x-apple-omit-year']);
    expect(itemDifferences(yearless, written.replace('NOTE;CHARSET=UTF-8:hello', 'NOTE;CHARSET=UTF-8:hallo'))).toEqual(['missing on the target: /VCARD|note', 'only on the target: /VCARD|note']);
  });

  it('converts vCard 4 to 3 without losing what vCard 3 has no word for (GENDER, CLIENTPIDMAP) and back to the same contact', () => {
    const rfc = crlf(['BEGIN:VCARD', 'VERSION:4.0', 'UID:rfc-1', 'FN:J. Doe', 'N:Stevenson;John;Philip,Paul;Dr.;Jr.,M.D.,A.C.P.', 'GENDER:M;Fellow', 'CLIENTPIDMAP:1;urn:uuid:3df403f4-5924-4bb7-b077-3c711d9eb34b', 'GEO:geo:37.386013,-122.082932', 'KIND:group', 'MEMBER:urn:uuid:03a0e51f', 'END:VCARD']);
    const v3 = prepareForTarget(rfc, 'contacts', { isScheduling: false, vcardVersions: ['3.0'] });
    expect(v3).toContain('GENDER:M;Fellow\r\n');
    expect(v3).toContain('GEO:37.386013;-122.082932\r\n');
    expect(v3).toContain('X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:03a0e51f\r\n');
    expect(itemDifferences(rfc, v3)).toEqual([]);
    expect(itemDifferences(rfc, prepareForTarget(v3, 'contacts', { isScheduling: false, vcardVersions: ['4.0'] }))).toEqual([]);
  });
});

describe('the real-world vCards', () => {
  const dir = '/work/shared/corpora/dav-real-world/contacts';
  it('equal their vCard 4 and vCard 3 conversions and the conversions back', () => {
    let converted = 0;
    for (const name of readdirSync(dir)) {
      const data = readFileSync(path.join(dir, name), 'utf8');
      for (const [there, back] of [['4.0', '3.0'], ['3.0', '4.0']] as const) {
        let copy: string;
        try {
          copy = prepareForTarget(data, 'contacts', { isScheduling: false, vcardVersions: [there] });
        } catch (error) {
          // Two Apple cards whose `PHOTO;BASE64:` ical.js cannot read: they travel as they are.
          expect(error, name).toBeInstanceOf(ItemFormatError);
          continue;
        }
        if (copy === data) continue;
        converted++;
        expect(itemDifferences(data, copy), `${name} → ${there}`).toEqual([]);
        expect(itemDifferences(data, prepareForTarget(copy, 'contacts', { isScheduling: false, vcardVersions: [back] })), `${name} → ${there} → ${back}`).toEqual([]);
      }
    }
    expect(converted).toBe(27);
  });

  it('are different from their conversion with any one property lost or changed (but KIND:individual, which is what no KIND means)', () => {
    type Jcal = [string, [string, Record<string, unknown>, string, ...unknown[]][], []];
    // The first text or number of a value, changed by one character or one.
    const changed = (value: unknown): unknown => {
      if (typeof value === 'string' && value !== '') return `${value.slice(0, -1)}${value.endsWith('Q') ? 'R' : 'Q'}`;
      if (typeof value === 'number') return value + 1;
      if (!Array.isArray(value)) return undefined;
      const index = value.findIndex((part) => changed(part) !== undefined);
      return index < 0 ? undefined : value.map((part, i) => (i === index ? changed(part) : part));
    };
    let lost = 0;
    let altered = 0;
    const unseen: string[] = [];
    for (const name of readdirSync(dir)) {
      const data = readFileSync(path.join(dir, name), 'utf8');
      for (const version of ['4.0', '3.0']) {
        let copy: string;
        try {
          copy = prepareForTarget(data, 'contacts', { isScheduling: false, vcardVersions: [version] });
        } catch {
          continue;
        }
        const [component, props] = ICAL.parse(copy) as unknown as Jcal;
        props.forEach((property, index) => {
          if (property[0] === 'version' || property[0] === 'prodid') return;
          const write = (list: Jcal[1]) => new ICAL.Component([component, list, []]).toString();
          lost++;
          if (itemDifferences(data, write(props.filter((_, i) => i !== index))).length === 0) unseen.push(`${name} ${version} without ${JSON.stringify(property).slice(0, 80)}`);
          const value = changed(property.slice(3));
          if (value === undefined) return;
          altered++;
          const target = write(props.map((p, i) => (i === index ? [...p.slice(0, 3), ...(value as unknown[])] : p) as Jcal[1][number]));
          if (itemDifferences(data, target).length === 0) unseen.push(`${name} ${version} with ${JSON.stringify(property).slice(0, 80)} changed`);
        });
      }
    }
    expect(lost).toBeGreaterThan(850);
    expect(altered).toBeGreaterThan(850);
    expect(unseen).toEqual(['gwacc-62959f2efc23b961.vcf 4.0 without ["kind",{},"text","individual"]', 'gwacc-62959f2efc23b961.vcf 3.0 without ["x-addressbookserver-kind",{},"unknown","individual"]']);
  });

  it('read libical\'s "VERSION: 4.0" card by the vCard 4 rules: its GEO keeps both coordinates in vCard 3', () => {
    const data = readFileSync(path.join(dir, 'gwacc-7422c4ef828e51e9.vcf'), 'utf8');
    expect(data).toContain('VERSION: 4.0');
    expect(prepareForTarget(data, 'contacts', { isScheduling: false, vcardVersions: ['4.0'] })).toBe(data);
    expect(prepareForTarget(data, 'contacts', { isScheduling: false, vcardVersions: ['3.0'] })).toContain('\r\nGEO;TYPE=WORK:46.772673;-71.282945\r\n');
  });
});
