/**
 * A seeded groupware corpus: calendars, address books and task lists as a customer's groupware
 * account holds them. Every item is built with ical.js; the same seed gives the same corpus.
 *
 * At scale 1: 520 events in three calendars (104 recurring with an exception date and an
 * overridden instance in the same resource, all-day and floating events, four time zones with
 * their VTIMEZONE, organizers and attendees, alarms, categories, attachments inline and by URL),
 * 1,000 contacts in two address books (100 with a photo, several e-mails, phones and addresses)
 * and 20 groups in the vCard 4 form and in Apple's vCard 3 form, 240 tasks in two lists with 60
 * subtasks (RELATED-TO), due dates (floating, zoned, UTC, whole days), status, priority,
 * completion and percent. Names with spaces and non-ASCII letters. corpus.test.ts counts these.
 */
import ICAL from 'ical.js';
// Loaded for its ical.js setting: vCard 4 URIs (a data: photo) are written as they are, as the
// copy writes them. Without it the corpus would depend on what else the process imported.
import '../../server/engine/groupware/items';
import { Rng } from '../bench/prng';

export type CorpusKind = 'calendar' | 'contacts' | 'tasks';

export interface CorpusItem {
  uid: string;
  data: string;
}

export interface CorpusCollection {
  kind: CorpusKind;
  /** Path segment on the server. */
  slug: string;
  displayName: string;
  color: string | null;
  description: string | null;
  items: CorpusItem[];
}

export interface CorpusOptions {
  seed: string;
  /** 1 gives the sizes above; tests use a fraction. */
  scale?: number;
}

type Prop = [string, Record<string, string | string[]>, string, ...unknown[]];

const FIRST = ['Anna', 'Jörg', 'Zoë', 'Mateo', 'Aiko', 'Olu', 'Fatima', 'Liam', 'Ines', 'Björn', 'Chloé', 'Dmitri', 'Sofía', 'Kenji', 'Amara', 'Noah'];
const LAST = ['Müller', 'García', 'Nakamura', 'Okafor', 'Dubois', 'Nowak', 'Rossi', 'Smith', 'Øster', 'Kowalski', 'Haddad', 'Silva'];
const WORDS = ['budget', 'review', 'planning', 'Kick-off', 'Café', 'retro', 'design', 'Überblick', 'Quartal', 'launch', 'audit', 'offsite', 'workshop', 'sync'];

/** VTIMEZONEs with today's rules, enough for a client to place the times (ical.js has no zone database). */
const ZONES: Record<string, { standard: [string, string, string, string | null]; daylight: [string, string, string, string] | null }> = {
  'Europe/Berlin': { standard: ['+0200', '+0100', 'CET', 'FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU'], daylight: ['+0100', '+0200', 'CEST', 'FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU'] },
  'America/New_York': { standard: ['-0400', '-0500', 'EST', 'FREQ=YEARLY;BYMONTH=11;BYDAY=1SU'], daylight: ['-0500', '-0400', 'EDT', 'FREQ=YEARLY;BYMONTH=3;BYDAY=2SU'] },
  'Asia/Tokyo': { standard: ['+0900', '+0900', 'JST', null], daylight: null },
  'Australia/Sydney': { standard: ['+1100', '+1000', 'AEST', 'FREQ=YEARLY;BYMONTH=4;BYDAY=1SU'], daylight: ['+1000', '+1100', 'AEDT', 'FREQ=YEARLY;BYMONTH=10;BYDAY=1SU'] },
};

function vtimezone(tzid: string): ICAL.Component {
  const zone = ZONES[tzid]!;
  const part = (name: string, [from, to, abbr, rule]: [string, string, string, string | null], start: string) =>
    [name, [['tzoffsetfrom', {}, 'utc-offset', `${from.slice(0, 3)}:${from.slice(3)}`], ['tzoffsetto', {}, 'utc-offset', `${to.slice(0, 3)}:${to.slice(3)}`], ['tzname', {}, 'text', abbr], ['dtstart', {}, 'date-time', start], ...(rule ? [['rrule', {}, 'recur', ICAL.Recur.fromString(rule).toJSON()]] : [])], []];
  const parts = [part('standard', zone.standard, '1970-10-25T03:00:00'), ...(zone.daylight ? [part('daylight', zone.daylight, '1970-03-29T02:00:00')] : [])];
  return new ICAL.Component(['vtimezone', [['tzid', {}, 'text', tzid]], parts] as never);
}

function pick<T>(rng: Rng, list: readonly T[]): T {
  return list[rng.int(0, list.length - 1)]!;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function calendar(components: ICAL.Component[]): string {
  const root = new ICAL.Component('vcalendar');
  root.addPropertyWithValue('version', '2.0');
  root.addPropertyWithValue('prodid', '-//Mailferry//groupware corpus//EN');
  for (const c of components) root.addSubcomponent(c);
  return root.toString() + '\r\n';
}

function component(name: string, props: Prop[], subs: ICAL.Component[] = []): ICAL.Component {
  const c = new ICAL.Component([name, props, []] as never);
  for (const s of subs) c.addSubcomponent(s);
  return c;
}

function alarm(rng: Rng): ICAL.Component {
  return component('valarm', [
    ['action', {}, 'text', 'DISPLAY'],
    ['trigger', {}, 'duration', `-PT${pick(rng, [5, 10, 15, 30])}M`],
    ['description', {}, 'text', 'Reminder'],
  ]);
}

function person(rng: Rng): { name: string; mail: string } {
  const first = pick(rng, FIRST);
  const last = pick(rng, LAST);
  return { name: `${first} ${last}`, mail: `${first}.${last}`.normalize('NFKD').replace(/[^A-Za-z.]/g, '').toLowerCase() + '@example.org' };
}

function event(seed: string, index: number, calendarSlug: string): CorpusItem {
  const rng = new Rng(`${seed}:event:${calendarSlug}:${index}`);
  const uid = `evt-${calendarSlug}-${index}-${rng.int(100000, 999999)}@corpus.mailferry.test`;
  const month = rng.int(1, 12);
  const day = rng.int(1, 28);
  const hour = rng.int(7, 18);
  const year = 2026 + rng.int(0, 1);
  const start = `${year}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(pick(rng, [0, 15, 30, 45]))}:00`;
  const end = `${year}-${pad(month)}-${pad(day)}T${pad(hour + 1)}:${start.slice(14, 16)}:00`;
  const style = index % 10;
  const isAllDay = style === 3 || style === 7;
  const isFloating = style === 5;
  const tzid = pick(rng, Object.keys(ZONES));
  const when = (value: string): [Record<string, string>, string, string] =>
    isAllDay ? [{}, 'date', value.slice(0, 10)] : isFloating ? [{}, 'date-time', value] : [{ tzid }, 'date-time', value];
  const props: Prop[] = [
    ['uid', {}, 'text', uid],
    ['dtstamp', {}, 'date-time', '2026-01-05T09:00:00Z'],
    ['summary', {}, 'text', `${pick(rng, WORDS)} ${pick(rng, WORDS)} #${index}`],
    ['dtstart', when(start)[0], when(start)[1], when(start)[2]],
    ['dtend', ...when(isAllDay ? `${year}-${pad(month)}-${pad(day + 1)}` : end)],
    ['sequence', {}, 'integer', 0],
  ];
  if (rng.chance(0.5)) props.push(['description', {}, 'text', `Agenda:\n- ${pick(rng, WORDS)}\n- ${pick(rng, WORDS)}, ${pick(rng, WORDS)}; done`]);
  if (rng.chance(0.4)) props.push(['location', {}, 'text', pick(rng, ['Raum 3.14', 'Café am Markt', 'Zoom', 'Room "Blue"'])]);
  if (rng.chance(0.5)) props.push(['categories', {}, 'text', pick(rng, WORDS), pick(rng, WORDS)]);
  const hasAttendees = style === 1 || style === 2 || style === 8 || rng.chance(0.2);
  if (hasAttendees) {
    const organizer = person(rng);
    props.push(['organizer', { cn: organizer.name }, 'cal-address', `mailto:${organizer.mail}`]);
    for (let a = 0; a < rng.int(1, 4); a++) {
      const attendee = person(rng);
      props.push(['attendee', { cn: attendee.name, partstat: pick(rng, ['ACCEPTED', 'NEEDS-ACTION', 'TENTATIVE', 'DECLINED']), role: 'REQ-PARTICIPANT', rsvp: 'TRUE' }, 'cal-address', `mailto:${attendee.mail}`]);
    }
  }
  if (style === 4) props.push(['attach', {}, 'uri', `https://files.example.org/agenda-${index}.pdf`]);
  if (style === 6) props.push(['attach', { fmttype: 'text/plain', encoding: 'BASE64', value: 'BINARY' }, 'binary', Buffer.from(`notes for ${index}`).toString('base64')]);
  const subs = rng.chance(0.5) ? [alarm(rng)] : [];
  const components: ICAL.Component[] = [];
  // Every tenth event (and a few more) recurs, with one date left out and one instance moved.
  const recurs = style === 0 || style === 9;
  if (recurs) {
    props.push(['rrule', {}, 'recur', ICAL.Recur.fromString(isAllDay ? 'FREQ=YEARLY;COUNT=5' : `FREQ=WEEKLY;COUNT=${rng.int(5, 20)}`).toJSON()]);
    const week = (n: number) => {
      const d = new Date(`${start}Z`);
      d.setUTCDate(d.getUTCDate() + 7 * n);
      return d.toISOString().slice(0, 19);
    };
    props.push(['exdate', isFloating ? {} : { tzid }, 'date-time', week(2)]);
    const moved = week(3);
    const movedStart = `${moved.slice(0, 11)}${pad(Math.min(hour + 2, 20))}${moved.slice(13)}`;
    components.push(
      component('vevent', [
        ['uid', {}, 'text', uid],
        ['dtstamp', {}, 'date-time', '2026-01-05T09:00:00Z'],
        ['recurrence-id', isFloating ? {} : { tzid }, 'date-time', moved],
        ['summary', {}, 'text', `moved instance #${index}`],
        ['dtstart', isFloating ? {} : { tzid }, 'date-time', movedStart],
        ['duration', {}, 'duration', 'PT1H'],
        ['sequence', {}, 'integer', 1],
      ]),
    );
  }
  components.unshift(component('vevent', props, subs));
  if (!isAllDay && !isFloating) components.unshift(vtimezone(tzid));
  return { uid, data: calendar(components) };
}

function task(seed: string, index: number, parentUid: string | null, slug: string): CorpusItem {
  const rng = new Rng(`${seed}:task:${slug}:${index}`);
  const uid = `task-${slug}-${index}-${rng.int(100000, 999999)}@corpus.mailferry.test`;
  const status = pick(rng, ['NEEDS-ACTION', 'IN-PROCESS', 'COMPLETED', 'CANCELLED']);
  const props: Prop[] = [
    ['uid', {}, 'text', uid],
    ['dtstamp', {}, 'date-time', '2026-01-05T09:00:00Z'],
    ['summary', {}, 'text', `${pick(rng, WORDS)} erledigen #${index}`],
    ['status', {}, 'text', status],
    ['priority', {}, 'integer', rng.int(0, 9)],
  ];
  if (rng.chance(0.7)) {
    // Due as clients write it: floating, in a zone, in UTC, or a day.
    const day = `2026-${pad(rng.int(1, 12))}-${pad(rng.int(1, 28))}`;
    const form = rng.int(0, 3);
    props.push(
      form === 0
        ? ['due', {}, 'date-time', `${day}T17:00:00`]
        : form === 1
          ? ['due', { tzid: 'Europe/Berlin' }, 'date-time', `${day}T17:00:00`]
          : form === 2
            ? ['due', {}, 'date-time', `${day}T16:00:00Z`]
            : ['due', {}, 'date', day],
    );
  }
  if (status === 'COMPLETED') props.push(['completed', {}, 'date-time', '2026-02-01T10:00:00Z'], ['percent-complete', {}, 'integer', 100]);
  else if (status === 'IN-PROCESS') props.push(['percent-complete', {}, 'integer', rng.int(10, 90)]);
  if (parentUid) props.push(['related-to', { reltype: 'PARENT' }, 'text', parentUid]);
  if (rng.chance(0.3)) props.push(['categories', {}, 'text', pick(rng, WORDS)]);
  const parts: ICAL.Component[] = [component('vtodo', props, rng.chance(0.2) ? [alarm(rng)] : [])];
  if (props.some((p) => p[0] === 'due' && (p[1] as Record<string, string>).tzid)) parts.unshift(vtimezone('Europe/Berlin'));
  return { uid, data: calendar(parts) };
}

/** A few bytes of JPEG header and noise: a photo as far as every server is concerned. */
function photoBytes(rng: Rng): string {
  const bytes = Buffer.alloc(rng.int(600, 3000));
  for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(0, 255);
  bytes.set([0xff, 0xd8, 0xff, 0xe0], 0);
  return bytes.toString('base64');
}

function contact(seed: string, index: number, slug: string, version: '3.0' | '4.0'): CorpusItem {
  const rng = new Rng(`${seed}:contact:${slug}:${index}`);
  const uid = `card-${slug}-${index}-${rng.int(100000, 999999)}`;
  const first = pick(rng, FIRST);
  const last = pick(rng, LAST);
  const props: Prop[] = [
    ['version', {}, 'text', version],
    ['uid', {}, 'text', uid],
    ['fn', {}, 'text', `${first} ${last}`],
    ['n', {}, 'text', [last, first, '', '', '']],
  ];
  const mail = `${first}.${last}.${index}`.normalize('NFKD').replace(/[^A-Za-z0-9.]/g, '').toLowerCase();
  for (let e = 0; e < rng.int(1, 3); e++) props.push(['email', { type: pick(rng, ['work', 'home']) }, 'text', `${mail}${e ? `+${e}` : ''}@example.${pick(rng, ['org', 'de', 'fr'])}`]);
  for (let p = 0; p < rng.int(0, 3); p++) props.push(['tel', { type: pick(rng, ['cell', 'work', 'home']) }, version === '4.0' ? 'uri' : 'text', `${version === '4.0' ? 'tel:' : ''}+49-30-${rng.int(1000000, 9999999)}`]);
  for (let a = 0; a < rng.int(0, 2); a++) props.push(['adr', { type: a === 0 ? 'home' : 'work' }, 'text', ['', '', `${pick(rng, ['Hauptstraße', 'Rue de la Paix', 'Main St'])} ${rng.int(1, 200)}`, pick(rng, ['Berlin', 'Paris', 'Köln', 'Boston']), '', String(rng.int(10000, 99999)), pick(rng, ['Germany', 'France', 'USA'])]]);
  if (rng.chance(0.4)) props.push(['org', {}, 'text', pick(rng, ['Acme GmbH', 'Café Lumière SARL', 'Initech'])]);
  if (rng.chance(0.3)) props.push(['note', {}, 'text', `Met at ${pick(rng, WORDS)}; likes ${pick(rng, WORDS)}, ${pick(rng, WORDS)}`]);
  if (rng.chance(0.3)) props.push(['categories', {}, 'text', pick(rng, WORDS), pick(rng, WORDS)]);
  if (index % 10 === 0) {
    const photo = photoBytes(rng);
    props.push(version === '4.0' ? ['photo', {}, 'uri', `data:image/jpeg;base64,${photo}`] : ['photo', { encoding: 'b', type: 'JPEG' }, 'binary', photo]);
  }
  return { uid, data: new ICAL.Component(['vcard', props, []] as never).toString() + '\r\n' };
}

function group(index: number, slug: string, version: '3.0' | '4.0', members: string[]): CorpusItem {
  const uid = `group-${slug}-${index}`;
  const props: Prop[] = [
    ['version', {}, 'text', version],
    ['uid', {}, 'text', uid],
    ['fn', {}, 'text', `Gruppe ${index} – ${['Team', 'Familie', 'Verein'][index % 3]}`],
    ['n', {}, 'text', [`Gruppe ${index}`, '', '', '', '']],
    // vCard 4's KIND/MEMBER (RFC 6350 6.1.4, 6.6.5); vCard 3 servers and Apple use the X- form.
    version === '4.0' ? ['kind', {}, 'text', 'group'] : ['x-addressbookserver-kind', {}, 'unknown', 'group'],
    ...members.map((m): Prop => (version === '4.0' ? ['member', {}, 'uri', `urn:uuid:${m}`] : ['x-addressbookserver-member', {}, 'unknown', `urn:uuid:${m}`])),
  ];
  return { uid, data: new ICAL.Component(['vcard', props, []] as never).toString() + '\r\n' };
}

export function generateGroupwareCorpus(options: CorpusOptions): CorpusCollection[] {
  const scale = options.scale ?? 1;
  const n = (count: number) => Math.max(2, Math.round(count * scale));
  const { seed } = options;
  const events = (slug: string, count: number) => Array.from({ length: n(count) }, (_, i) => event(seed, i, slug));
  const contacts = (slug: string, count: number, version: '3.0' | '4.0') => {
    const cards = Array.from({ length: n(count) }, (_, i) => contact(seed, i, slug, version));
    const groups = Array.from({ length: Math.max(1, Math.round(n(count) / 50)) }, (_, g) => group(g, slug, version, cards.slice(g * 5, g * 5 + 5).map((c) => c.uid)));
    return [...cards, ...groups];
  };
  const tasks = (slug: string, count: number) => {
    const out: CorpusItem[] = [];
    for (let i = 0; i < n(count); i++) {
      // Every fourth task is a subtask of the one before it.
      const parent = i % 4 === 3 ? out[i - 1]!.uid : null;
      out.push(task(seed, i, parent, slug));
    }
    return out;
  };
  return [
    { kind: 'calendar', slug: 'calendar', displayName: 'Kalender', color: '#3a87adff', description: null, items: events('calendar', 300) },
    { kind: 'calendar', slug: 'team-meetings', displayName: 'Team Meetings', color: '#e67e22ff', description: 'Weekly syncs and reviews', items: events('team-meetings', 150) },
    { kind: 'calendar', slug: 'cafe-evenements', displayName: 'Café Événements ☕', color: null, description: 'Réunions au café', items: events('cafe-evenements', 70) },
    { kind: 'contacts', slug: 'addressbook', displayName: 'Contacts', color: null, description: null, items: contacts('addressbook', 700, '3.0') },
    { kind: 'contacts', slug: 'geschaeftskontakte', displayName: 'Geschäftskontakte', color: null, description: 'Kunden und Lieferanten', items: contacts('geschaeftskontakte', 300, '4.0') },
    { kind: 'tasks', slug: 'tasks', displayName: 'Aufgaben & To-dos', color: '#27ae60ff', description: null, items: tasks('tasks', 200) },
    { kind: 'tasks', slug: 'projekt-omega', displayName: 'Projekt Ω – nächste Schritte', color: '#8e44adff', description: 'Aufgaben fürs Projekt', items: tasks('projekt-omega', 40) },
  ];
}
