import ICAL from 'ical.js';
import type { GroupwareKind } from './model';

/**
 * iCalendar and vCard as the copy handles them, through ical.js only: the UID, what a target
 * needs changed (scheduling, vCard version), and a normal form to compare two copies by.
 */

type JCalProperty = [string, Record<string, unknown>, string, ...unknown[]];
type JCalComponent = [string, JCalProperty[], JCalComponent[]];

export class ItemFormatError extends Error {}

// ical.js escapes commas in vCard 4 URI values as in text (`data:image/jpeg;base64\,...`), which
// clients read as a broken URI; vCard writers (Apple, Google, Thunderbird) and RFC 3986 leave
// them as they are. The copy writes and reads URIs verbatim.
(ICAL.design.vcard.value as Record<string, unknown>).uri = {};

function parse(data: string): ICAL.Component {
  let jcal: unknown;
  try {
    jcal = ICAL.parse(data);
  } catch (error) {
    throw new ItemFormatError(`not valid ${data.includes('BEGIN:VCARD') ? 'vCard' : 'iCalendar'}: ${(error as Error).message.split('\n')[0]}`);
  }
  // Several components in one resource: the first is the resource (a DAV resource holds one).
  const first = Array.isArray(jcal) && Array.isArray(jcal[0]) ? (jcal[0] as unknown) : jcal;
  return new ICAL.Component(first as JCalComponent);
}

const SCHEDULING_COMPONENTS = ['vevent', 'vtodo', 'vjournal'];

/** The UID of a calendar resource (all its components share it) or of a vCard; null when it has none. */
export function itemUid(data: string): string | null {
  const root = parse(data);
  if (root.name === 'vcard') return uidValue(root.getFirstPropertyValue('uid'));
  for (const name of SCHEDULING_COMPONENTS) {
    for (const component of root.getAllSubcomponents(name)) {
      const uid = uidValue(component.getFirstPropertyValue('uid'));
      if (uid) return uid;
    }
  }
  return null;
}

function uidValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value).trim();
  return text === '' ? null : text;
}

/** The components of a calendar resource (VEVENT, VTODO, ...), to count and route tasks. */
export function componentNames(data: string): string[] {
  const root = parse(data);
  if (root.name === 'vcard') return ['VCARD'];
  return [...new Set(root.getAllSubcomponents().map((c) => c.name.toUpperCase()).filter((n) => n !== 'VTIMEZONE'))];
}

export interface TargetNeeds {
  /**
   * The target schedules implicitly (RFC 6638 calendar-auto-schedule): every ORGANIZER and
   * ATTENDEE whose SCHEDULE-AGENT is not CLIENT or NONE gets SCHEDULE-AGENT=CLIENT (RFC 6638 7.1),
   * and loses any SCHEDULE-FORCE-SEND (7.2), which tells the
   * server that scheduling messages are not its business, so no invitation, update or
   * cancellation goes out for a migrated event. CLIENT rather than NONE: sabre/dav (Nextcloud,
   * SOGo's successors) honours CLIENT only (sabre-io/dav#1293), Zimbra/Carbonio both.
   */
  isScheduling: boolean;
  /** vCard versions the address book takes; empty means any. */
  vcardVersions: string[];
}

/**
 * The text to write to the target: the source's own text when nothing needs changing (so
 * nothing is lost to a round trip), else re-serialised by ical.js.
 */
export function prepareForTarget(data: string, kind: GroupwareKind, needs: TargetNeeds): string {
  if (kind === 'contacts') {
    if (needs.vcardVersions.length === 0) return data;
    const card = parse(data);
    const version = String(card.getFirstPropertyValue('version') ?? '3.0');
    if (needs.vcardVersions.includes(version)) return data;
    const wanted = needs.vcardVersions.includes('4.0') ? '4.0' : needs.vcardVersions.includes('3.0') ? '3.0' : null;
    if (!wanted) return data;
    return convertVcard(card, wanted).toString();
  }
  if (!needs.isScheduling) return data;
  const root = parse(data);
  let changed = false;
  for (const name of SCHEDULING_COMPONENTS) {
    for (const component of root.getAllSubcomponents(name)) {
      for (const property of [...component.getAllProperties('organizer'), ...component.getAllProperties('attendee')]) {
        // Absent, SERVER or an unknown value all mean the server schedules (RFC 6638 7.1).
        const agent = String(property.getParameter('schedule-agent') ?? '').toUpperCase();
        if (agent !== 'CLIENT' && agent !== 'NONE') {
          property.setParameter('schedule-agent', 'CLIENT');
          changed = true;
        }
        // RFC 6638 7.2: would make the server send a request or reply anyway.
        if (property.getParameter('schedule-force-send') !== undefined) {
          property.removeParameter('schedule-force-send');
          changed = true;
        }
      }
    }
  }
  return changed ? root.toString() : data;
}

const PHOTO_PROPERTIES = ['photo', 'logo', 'sound'];

/**
 * vCard 3.0 ↔ 4.0 (RFC 6350 appendix A): inline binaries (ENCODING=b ↔ data: URI), groups
 * (Apple's X-ADDRESSBOOKSERVER-KIND/-MEMBER ↔ KIND/MEMBER), the rest as it is.
 */
export function convertVcard(card: ICAL.Component, version: '3.0' | '4.0'): ICAL.Component {
  const jcal = card.toJSON() as JCalComponent;
  const props: JCalProperty[] = [];
  for (const property of jcal[1]) {
    const [name, params, type, ...values] = property;
    if (name === 'version') {
      props.push(['version', {}, 'text', version]);
      continue;
    }
    if (version === '3.0') {
      if (name === 'kind') {
        props.push(['x-addressbookserver-kind', {}, 'unknown', ...values]);
        continue;
      }
      if (name === 'member') {
        props.push(['x-addressbookserver-member', {}, 'unknown', ...values]);
        continue;
      }
      const match = PHOTO_PROPERTIES.includes(name) && typeof values[0] === 'string' ? /^data:([^;,]*)(;base64)?,(.*)$/s.exec(values[0]) : null;
      if (match) {
        const subtype = (match[1] ?? '').split('/')[1]?.toUpperCase();
        const data = match[2] ? match[3]! : Buffer.from(decodeURIComponent(match[3]!), 'utf8').toString('base64');
        props.push([name, { ...params, encoding: 'b', ...(subtype ? { type: subtype } : {}) }, 'binary', data]);
        continue;
      }
    } else {
      if (name === 'x-addressbookserver-kind') {
        props.push(['kind', {}, 'text', String(values[0]).toLowerCase()]);
        continue;
      }
      if (name === 'x-addressbookserver-member') {
        props.push(['member', {}, 'uri', ...values]);
        continue;
      }
      const encoding = typeof params.encoding === 'string' ? params.encoding.toLowerCase() : null;
      if (PHOTO_PROPERTIES.includes(name) && (encoding === 'b' || encoding === 'base64')) {
        const { encoding: _encoding, type: imageType, ...rest } = params;
        const mediaType = typeof imageType === 'string' ? `image/${imageType.toLowerCase()}` : 'application/octet-stream';
        props.push([name, rest, 'uri', `data:${mediaType};base64,${String(values[0])}`]);
        continue;
      }
    }
    props.push([name, params, type, ...values]);
  }
  return new ICAL.Component(['vcard', props, jcal[2]]);
}

/** Properties whose values are a list, which servers may split into several properties or join. */
const MULTI_VALUED = new Set(['exdate', 'rdate', 'categories', 'resources']);

/** Properties a server or the copy may legitimately rewrite: not compared. */
const IGNORED_PROPERTIES = new Set(['prodid', 'dtstamp']);
/** Parameters servers add for scheduling (RFC 6638), and the one the copy adds. */
const IGNORED_PARAMETERS = new Set(['schedule-agent', 'schedule-status', 'schedule-force-send']);

/**
 * An item as a sorted list of lines, one per property, each prefixed with the path of its
 * component (overridden instances by RECURRENCE-ID), so two copies compare equal whatever
 * the order, folding and line ends a server chose. PRODID, DTSTAMP and the scheduling
 * parameters are left out.
 */
export function normalisedLines(data: string): string[] {
  const root = parse(data);
  const lines: string[] = [];
  const walk = (component: ICAL.Component, path: string) => {
    const recurrence = component.getFirstProperty('recurrence-id');
    const here = `${path}/${component.name.toUpperCase()}${recurrence ? `[${String(recurrence.getFirstValue())}]` : ''}`;
    for (const property of component.getAllProperties()) {
      if (IGNORED_PROPERTIES.has(property.name)) continue;
      const [name, params, , ...rawValues] = property.toJSON() as JCalProperty;
      // Offsets and durations have several spellings of one value (+0100 and +010000, -PT15M
      // and -P0DT0H15M0S): compared in seconds.
      const values = property.type === 'utc-offset' || property.type === 'duration' ? property.getValues().map(inSeconds) : rawValues;
      // EXDATE:a,b and two EXDATE lines are the same (servers split and join them): one line per value.
      const each = MULTI_VALUED.has(name) ? values.map((v) => [v]) : [values];
      const kept = Object.keys(params)
        .filter((key) => !IGNORED_PARAMETERS.has(key))
        .sort()
        .map((key) => `${key}=${JSON.stringify(params[key])}`);
      for (const one of each) lines.push(`${here}|${name}${kept.length ? `;${kept.join(';')}` : ''}:${stableJson(one)}`);
    }
    for (const sub of component.getAllSubcomponents()) walk(sub, here);
  };
  walk(root, '');
  return lines.sort();
}

function inSeconds(value: unknown): unknown {
  return value instanceof ICAL.Duration || value instanceof ICAL.UtcOffset ? value.toSeconds() : value;
}

/** JSON with object keys sorted: a recurrence rule's parts compare equal in any order (RFC 5545 3.3.10). */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

/** Is the line a property the server added on its own (an X- property the source lacks)? */
export function isServerProperty(line: string): boolean {
  return /\|x-[^;:]*[;:]/.test(line);
}

/** Differences between two copies of an item, as short descriptions without values. */
export function itemDifferences(source: string, target: string): string[] {
  const a = normalisedLines(source);
  const b = normalisedLines(target);
  const count = (lines: string[]) => {
    const map = new Map<string, number>();
    for (const line of lines) map.set(line, (map.get(line) ?? 0) + 1);
    return map;
  };
  const inA = count(a);
  const inB = count(b);
  const out: string[] = [];
  const label = (line: string) => line.slice(0, line.indexOf(':', line.indexOf('|')));
  for (const [line, n] of inA) if ((inB.get(line) ?? 0) < n) out.push(`missing on the target: ${label(line)}`);
  for (const [line, n] of inB) if ((inA.get(line) ?? 0) < n && !isServerProperty(line)) out.push(`only on the target: ${label(line)}`);
  return out;
}

/** Text as it is, but for line ends and the end of the text: how items ical.js cannot read are compared. */
export function rawForm(data: string): string {
  return data.replace(/\r\n?/g, '\n').trim();
}

export function isSameItem(source: string, target: string): boolean {
  try {
    return itemDifferences(source, target).length === 0;
  } catch (error) {
    if (!(error instanceof ItemFormatError)) throw error;
    return rawForm(source) === rawForm(target);
  }
}
