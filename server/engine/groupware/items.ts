import { createHash } from 'node:crypto';
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
// vCard 3's text properties that RFC 6350 dropped (LABEL, MAILER, SORT-STRING, CLASS) still turn
// up in vCard 4 files: read as the text they are, so a vCard 3 and its vCard 4 copy mean the same.
for (const name of ['label', 'mailer', 'sort-string', 'class']) (ICAL.design.vcard.property as Record<string, unknown>)[name] ??= { defaultType: 'text' };
// vCard 3's TZ is an offset unless VALUE=text says otherwise, and ical.js keeps the first seven
// characters of what it takes for one: TZ:America/New_York (Outlook, Evolution) is the zone's name.
(ICAL.design.vcard3.property as Record<string, { detectType?: (value: string) => string }>).tz!.detectType = (value) => (/^\s*[+-]\d/.test(value) ? 'utc-offset' : 'text');
// A vCard 4 REV in the extended form (2026-01-02T03:04:05Z, as vCard 3 writes it) is read as it
// is; ical.js takes it apart as if it were 20260102T030405Z.
{
  const values = ICAL.design.vcard.value as Record<string, { fromICAL?: (value: string) => string }>;
  const timestamp = values.timestamp!;
  values.timestamp = { ...timestamp, fromICAL: (value) => (/^\d{4}-\d\d-\d\dT/.test(value) ? value : timestamp.fromICAL!(value)) };
}

// Text in a vCard: RFC 2426 (3.0) escapes `;` in every text value, RFC 6350 (4.0) only in
// compound ones, and writers of both put `\;` in NOTE or TITLE. ical.js reads `\;` in a plain
// text value as it is and writes a bare `;` in vCard 3: read `\;` as `;` in both, and write it
// escaped in 3.0.
{
  type TextType = { fromICAL?: (value: string, structuredEscape?: string) => string; toICAL?: (value: string, structuredEscape?: string) => string };
  const UNESCAPED: Record<string, string> = { '\\\\': '\\', '\\;': ';', '\\,': ',', '\\n': '\n', '\\N': '\n' };
  const ESCAPED: Record<string, string> = { '\\': '\\\\', ';': '\\;', ',': '\\,', '\n': '\\n' };
  const read = (value: string) => (value.includes('\\') ? value.replace(/\\\\|\\;|\\,|\\[Nn]/g, (m) => UNESCAPED[m]!) : value);
  const v4 = ICAL.design.vcard.value as Record<string, TextType>;
  const v3 = ICAL.design.vcard3.value as Record<string, TextType>;
  const text = v4.text!;
  v4.text = { ...text, fromICAL: read };
  v3.text = { ...text, fromICAL: read, toICAL: (value) => value.replace(/\\|;|,|\n/g, (m) => ESCAPED[m]!) };
}

function parse(data: string): ICAL.Component {
  let jcal: unknown;
  try {
    // ical.js reads a vCard by the 4.0 rules only when its first line is exactly VERSION:4.0;
    // libical's writer puts a space after the colon, and by the 3.0 rules GEO:geo:... reads as 0.
    jcal = ICAL.parse(data.replace(/^(\s*BEGIN:VCARD\r?\n)VERSION:[ \t]*4\.0[ \t]*(?=\r?\n)/i, '$1VERSION:4.0'));
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
    // "VERSION: 4.0" (a space before the number) is still 4.0.
    const version = String(card.getFirstPropertyValue('version') ?? '3.0').trim();
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

type DesignSet = ReturnType<typeof ICAL.design.getDesignSet>;
type Params = Record<string, unknown>;
const VCARD4: DesignSet = ICAL.design.getDesignSet('vcard');
const VCARD3: DesignSet = ICAL.design.getDesignSet('vcard3');

/** Inline binaries of vCard 3 (ENCODING=b): the top-level media type a bare TYPE=JPEG or TYPE=BASIC stands for. */
const BINARY_MEDIA: Record<string, string> = { photo: 'image', logo: 'image', sound: 'audio' };

/** ical.js reads a vCard by the 4.0 rules only when VERSION:4.0 is its first property (RFC 6350 6.7.9). */
function isVcard4(props: JCalProperty[]): boolean {
  return props[0]?.[0] === 'version' && props[0][3] === '4.0';
}

/** A parameter's values as one flat list: TYPE=a,b, TYPE=a;TYPE=b and TYPE="a,b" alike. */
function paramValues(value: unknown): string[] {
  const list: unknown[] = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/**
 * A property as the other version reads it: written by one version's rules, read by the other's.
 * Values whose jCal form depends on the version (GENDER's parts, NOTE's commas, dates) come out
 * as the other version means them instead of being written by the wrong rules.
 */
function reread(property: JCalProperty, from: DesignSet, to: DesignSet): JCalProperty {
  return ICAL.parse.property(ICAL.stringify.property(property, from, true), to) as JCalProperty;
}

/** An offset in jCal's spelling (-05:00), from either version's (-0500, -05:00, -05). */
function offsetValue(value: unknown): unknown {
  const match = /^([+-])(\d\d):?(\d\d)?$/.exec(String(value).trim());
  return match ? `${match[1]}${match[2]}:${match[3] ?? '00'}` : value;
}

/** RFC 2397: media type (text/plain when left out) and the bytes, base64 or percent-encoded. */
function dataUri(value: string): { mediaType: string; bytes: Buffer } | null {
  const match = /^data:([^,]*),(.*)$/is.exec(value.trim());
  if (!match) return null;
  const [type, ...attributes] = match[1]!.split(';');
  const isBase64 = attributes.some((a) => a.trim().toLowerCase() === 'base64');
  const body = match[2]!;
  const bytes = isBase64 ? Buffer.from(body, 'base64') : Buffer.concat(body.split(/(%[0-9a-f]{2})/i).map((part) => (/^%[0-9a-f]{2}$/i.test(part) ? Buffer.from([parseInt(part.slice(1), 16)]) : Buffer.from(part, 'utf8'))));
  return { mediaType: (type?.trim() || 'text/plain').toLowerCase(), bytes };
}

/** vCard 3's TYPE of an inline binary (JPEG, image/jpeg, none) as a media type. */
function mediaTypeOfVcard3(name: string, type: unknown): string {
  const first = paramValues(type)[0]?.toLowerCase();
  if (!first) return 'application/octet-stream';
  return first.includes('/') ? first : `${BINARY_MEDIA[name]}/${first}`;
}

/** The TYPE vCard 3 gives a media type: the subtype where it is the property's own kind (JPEG for image/jpeg). */
function vcard3TypeOf(name: string, mediaType: string): string | null {
  if (mediaType === 'application/octet-stream') return null;
  const [top, sub] = mediaType.split('/');
  return top === BINARY_MEDIA[name] && sub ? sub.toUpperCase() : mediaType;
}

/** GEO of vCard 4, geo:LAT,LON (RFC 5870), with or without the backslash some writers put before the comma. */
function geoUri(value: unknown): { lat: number; lon: number; rest: string } | null {
  const match = /^geo:\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)(.*)$/is.exec(String(value).replace(/\\,/g, ',').trim());
  return match ? { lat: Number(match[1]), lon: Number(match[2]), rest: match[3]! } : null;
}

/** TYPE=pref of vCard 3 is PREF=1 in vCard 4 (RFC 6350 appendix A.2). */
function prefAsVcard4(params: Params): Params {
  const types = paramValues(params.type);
  if (!types.some((t) => t.toLowerCase() === 'pref')) return params;
  const { type: _type, pref, ...rest } = params;
  const kept = types.filter((t) => t.toLowerCase() !== 'pref');
  return { ...rest, ...(kept.length ? { type: kept.length === 1 ? kept[0] : kept } : {}), pref: pref ?? '1' };
}

function prefAsVcard3(params: Params): Params {
  if (String(params.pref ?? '').trim() !== '1') return params;
  const { pref: _pref, ...rest } = params;
  return { ...rest, type: [...paramValues(rest.type), 'pref'] };
}

/**
 * A birthday or anniversary without year: vCard 4 writes --04-12; vCard 3 has no such form, and
 * Apple (and sabre/dav after it) writes 1604-04-12 with X-APPLE-OMIT-YEAR=1604.
 */
const OMIT_YEAR = 'x-apple-omit-year';
const YEARLESS = new Set(['bday', 'anniversary']);

function withoutOmittedYear(property: JCalProperty): JCalProperty {
  const [name, params, , ...values] = property;
  const year = params[OMIT_YEAR];
  const value = String(values[0] ?? '');
  if (!YEARLESS.has(name) || year === undefined || !value.startsWith(`${String(year)}-`)) return property;
  const { [OMIT_YEAR]: _year, ...rest } = params;
  return [name, rest, 'date-and-or-time', `--${value.slice(String(year).length + 1)}`];
}

/** One vCard 3 property (as ical.js reads vCard 3) in vCard 4. */
function propertyAsVcard4(property: JCalProperty): JCalProperty {
  const [name, rawParams, type, ...values] = property;
  const params = prefAsVcard4(rawParams);
  // Apple's groups (X-ADDRESSBOOKSERVER-KIND:group, -MEMBER:urn:uuid:...) are KIND and MEMBER of vCard 4.
  if (name === 'x-addressbookserver-kind') return ['kind', params, 'text', String(values[0] ?? '').toLowerCase()];
  if (name === 'x-addressbookserver-member') return ['member', params, 'uri', ...values];
  const tagged: JCalProperty = [name, params, type, ...values];
  const yearless = withoutOmittedYear(tagged);
  if (yearless !== tagged) return yearless;
  const encoding = String(params.encoding ?? '').toLowerCase();
  if (name in BINARY_MEDIA && (encoding === 'b' || encoding === 'base64')) {
    const { encoding: _encoding, type: mediaTypes, ...rest } = params;
    const value = String(values[0] ?? '');
    // Some writers put a data: URI behind ENCODING=b (Radicale's own test card has one): it is the URI already.
    return [name, rest, 'uri', /^data:/i.test(value) ? value : `data:${mediaTypeOfVcard3(name, mediaTypes)};base64,${value}`];
  }
  const point = values[0];
  if (name === 'geo' && Array.isArray(point) && point.length === 2 && point.every((n) => Number.isFinite(Number(n)))) {
    return ['geo', params, 'uri', `geo:${Number(point[0])},${Number(point[1])}`];
  }
  // vCard 3's phone number as text; vCard 4 takes free text too (RFC 6350 6.4.1), written verbatim.
  if (name === 'tel') return ['tel', params, 'uri', String(values[0] ?? '')];
  if (type === 'utc-offset') return [name, params, 'utc-offset', offsetValue(values[0])];
  return reread([name, params, type, ...values], VCARD3, VCARD4);
}

/** One vCard 4 property in vCard 3: one property, or two where ADR's LABEL becomes a LABEL property. */
function propertyAsVcard3(property: JCalProperty): JCalProperty[] {
  const [name, rawParams, type, ...values] = property;
  const params = prefAsVcard3(rawParams);
  if (name === 'kind') return [['x-addressbookserver-kind', params, 'unknown', ...values]];
  if (name === 'member') return [['x-addressbookserver-member', params, 'unknown', ...values]];
  const yearless = YEARLESS.has(name) ? /^--(\d\d)-(\d\d)$/.exec(String(values[0] ?? '')) : null;
  if (yearless) return [[name, { ...params, [OMIT_YEAR]: '1604' }, 'date', `1604-${yearless[1]}-${yearless[2]}`]];
  const data = name in BINARY_MEDIA && typeof values[0] === 'string' ? dataUri(values[0]) : null;
  if (data) {
    const { mediatype: _mediatype, type: _type, ...rest } = params;
    const typeOf = vcard3TypeOf(name, data.mediaType);
    return [[name, { ...rest, encoding: 'b', ...(typeOf ? { type: typeOf } : {}) }, 'binary', data.bytes.toString('base64')]];
  }
  const geo = name === 'geo' ? geoUri(values[0]) : null;
  if (geo && geo.rest === '') return [['geo', params, 'float', [geo.lat, geo.lon]]];
  if (name === 'tel') return [['tel', params, 'phone-number', String(values[0] ?? '').replace(/^tel:/i, '')]];
  if (type === 'utc-offset') return [[name, params, 'utc-offset', offsetValue(values[0])]];
  if (name === 'adr' && params.label !== undefined) {
    const { label, ...rest } = params;
    const { group: _group, ...labelParams } = rest;
    return [reread([name, rest, type, ...values], VCARD4, VCARD3), ['label', labelParams, 'text', String(label)]];
  }
  return [reread([name, params, type, ...values], VCARD4, VCARD3)];
}

/**
 * vCard 3.0 ↔ 4.0 (RFC 6350 appendix A): inline binaries (ENCODING=b ↔ data: URI), groups
 * (Apple's X-ADDRESSBOOKSERVER-KIND/-MEMBER ↔ KIND/MEMBER), TYPE=pref ↔ PREF=1, GEO (lat;lon ↔
 * geo: URI), TEL (text ↔ tel: URI), ADR's LABEL parameter → LABEL, a date without year (--04-12 ↔
 * Apple's 1604-04-12;X-APPLE-OMIT-YEAR=1604); every other property written
 * by the rules of the version it was read by and read back by the other's. VERSION comes first,
 * as RFC 6350 wants and as ical.js needs to write vCard 4 by its rules.
 */
export function convertVcard(card: ICAL.Component, version: '3.0' | '4.0'): ICAL.Component {
  const jcal = card.toJSON() as JCalComponent;
  const isFour = isVcard4(jcal[1]);
  const props: JCalProperty[] = [['version', {}, 'text', version]];
  try {
    for (const property of jcal[1]) {
      if (property[0] === 'version') continue;
      if (version === '4.0') props.push(isFour ? property : propertyAsVcard4(property));
      else props.push(...(isFour ? propertyAsVcard3(property) : [property]));
    }
    const converted = new ICAL.Component(['vcard', props, jcal[2]]);
    // ical.js throws on values the other version's rules cannot write: found here, not by the caller.
    converted.toString();
    return converted;
  } catch (error) {
    throw new ItemFormatError(`this vCard cannot be converted to vCard ${version}: ${(error as Error).message.split('\n')[0]}`);
  }
}

/**
 * A vCard's properties in one common form, the vCard 4 model, so that a vCard 3 and its vCard 4
 * copy (converted by the copy or by a server) compare equal where they mean the same: VERSION
 * left out; TYPE lower-case, split and sorted, TYPE=pref as PREF=1; inline binaries as media
 * type and bytes; N and ADR padded to their five and seven parts; TEL without tel:; GEO as
 * geo:LAT,LON; offsets in seconds; ADR's LABEL parameter as a LABEL of the same TYPE; Apple's
 * year 1604 as no year; KIND:individual as no KIND; CHARSET left out.
 */
function vcardProperties(card: ICAL.Component): { name: string; params: Params; values: unknown[] }[] {
  const jcal = card.toJSON() as JCalComponent;
  const isFour = isVcard4(jcal[1]);
  const out: { name: string; params: Params; values: unknown[] }[] = [];
  for (const original of jcal[1]) {
    if (original[0] === 'version' || IGNORED_PROPERTIES.has(original[0])) continue;
    const [name, rawParams, type, ...values] = isFour ? withoutOmittedYear(original) : propertyAsVcard4(original);
    const params = commonParams(rawParams);
    // KIND:individual is what a vCard without KIND is (RFC 6350 6.1.4).
    if (name === 'kind' && String(values[0]).toLowerCase() === 'individual') continue;
    if (name === 'adr' && params.label !== undefined) {
      const { label, group: _group, ...labelParams } = params;
      out.push({ name: 'label', params: labelParams, values: [String(label)] });
      delete params.label;
    }
    if (name === 'label') delete params.group;
    const data = name in BINARY_MEDIA && typeof values[0] === 'string' ? dataUri(values[0]) : null;
    if (data) {
      delete params.mediatype;
      out.push({ name, params, values: [`data:${data.mediaType};sha256=${createHash('sha256').update(data.bytes).digest('hex')};bytes=${data.bytes.length}`] });
      continue;
    }
    out.push({ name, params, values: commonValues(name, type, values) });
  }
  return out;
}

function commonParams(params: Params): Params {
  const out: Params = {};
  let pref = params.pref === undefined ? undefined : String(params.pref).trim();
  for (const [key, value] of Object.entries(params)) {
    // CHARSET (vCard 2.1's, kept by some vCard 3 writers) says how the text was encoded, not what it is.
    if (key === 'pref' || key === 'charset') continue;
    if (key === 'type') {
      const types = [...new Set(paramValues(value).map((t) => t.toLowerCase()))];
      if (types.includes('pref')) pref ??= '1';
      const kept = types.filter((t) => t !== 'pref').sort();
      if (kept.length) out.type = kept;
    } else if (key === 'group') out.group = String(value).toLowerCase();
    else out[key] = value;
  }
  if (pref !== undefined) out.pref = /^\d+$/.test(pref) ? String(Number(pref)) : pref;
  return out;
}

function commonValues(name: string, type: string, values: unknown[]): unknown[] {
  if (name === 'tel') return values.map((v) => String(v).replace(/^tel:/i, ''));
  if (name === 'kind') return values.map((v) => String(v).toLowerCase());
  if (name === 'geo') {
    const geo = geoUri(values[0]);
    return geo ? [`geo:${geo.lat},${geo.lon}${geo.rest}`] : values;
  }
  if (name === 'n' || name === 'adr') {
    // N:Doe;John and N:Doe;John;;; are one name; a part of one value is that value.
    const parts = (Array.isArray(values[0]) ? values[0] : [values[0] ?? '']).map((p: unknown) => (Array.isArray(p) && p.length <= 1 ? (p[0] ?? '') : p));
    while (parts.length < (name === 'n' ? 5 : 7)) parts.push('');
    return [parts];
  }
  if (type === 'utc-offset' || name === 'tz') {
    return values.map((v) => {
      const offset = offsetValue(v);
      return typeof offset === 'string' && /^[+-]\d\d:\d\d$/.test(offset) ? ICAL.UtcOffset.fromString(offset).toSeconds() : v;
    });
  }
  return values;
}

/** Properties whose values are a list, which servers may split into several properties or join. */
const MULTI_VALUED = new Set(['exdate', 'rdate', 'categories', 'resources', 'nickname']);

/** Properties a server or the copy may legitimately rewrite: not compared. */
const IGNORED_PROPERTIES = new Set(['prodid', 'dtstamp']);
/** Parameters servers add for scheduling (RFC 6638), and the one the copy adds. */
const IGNORED_PARAMETERS = new Set(['schedule-agent', 'schedule-status', 'schedule-force-send']);

/**
 * An item as a sorted list of lines, one per property, each prefixed with the path of its
 * component (overridden instances by RECURRENCE-ID), so two copies compare equal whatever
 * the order, folding and line ends a server chose. PRODID, DTSTAMP and the scheduling
 * parameters are left out; vCards of either version are compared in the vCard 4 model.
 */
export function normalisedLines(data: string): string[] {
  return normalisedEntries(data).map((entry) => entry.line);
}

/**
 * Parameters of a vCard whose values a difference names: what kind of address or number it is.
 * Others (SORT-AS, ADR's GEO, LABEL) can hold the contact's data and are named without value.
 */
const NAMED_VCARD_PARAMETERS = new Set(['type', 'pref', 'group', 'value']);

/** Each line with the label a difference shows for it: the path, the property and its parameters, no values. */
function normalisedEntries(data: string): { line: string; label: string }[] {
  const root = parse(data);
  const lines: { line: string; label: string }[] = [];
  const add = (here: string, name: string, params: Params, values: unknown[]) => {
    // EXDATE:a,b and two EXDATE lines are the same (servers split and join them): one line per value.
    const each = MULTI_VALUED.has(name) ? values.map((v) => [v]) : [values];
    const keys = Object.keys(params)
      .filter((key) => !IGNORED_PARAMETERS.has(key))
      .sort();
    const kept = keys.map((key) => `${key}=${JSON.stringify(params[key])}`);
    const shown = root.name === 'vcard' ? keys.map((key) => (NAMED_VCARD_PARAMETERS.has(key) ? `${key}=${JSON.stringify(params[key])}` : key)) : kept;
    const label = `${here}|${name}${shown.length ? `;${shown.join(';')}` : ''}`;
    for (const one of each) lines.push({ line: `${here}|${name}${kept.length ? `;${kept.join(';')}` : ''}:${stableJson(one)}`, label });
  };
  if (root.name === 'vcard') {
    let properties: ReturnType<typeof vcardProperties>;
    try {
      properties = vcardProperties(root);
    } catch (error) {
      // What ical.js read but cannot write again by either version's rules is compared as text.
      throw new ItemFormatError(`this vCard cannot be compared property by property: ${(error as Error).message.split('\n')[0]}`);
    }
    for (const property of properties) add('/VCARD', property.name, property.params, property.values);
    return lines.sort((a, b) => (a.line < b.line ? -1 : a.line > b.line ? 1 : 0));
  }
  const walk = (component: ICAL.Component, path: string) => {
    const recurrence = component.getFirstProperty('recurrence-id');
    const here = `${path}/${component.name.toUpperCase()}${recurrence ? `[${String(recurrence.getFirstValue())}]` : ''}`;
    for (const property of component.getAllProperties()) {
      if (IGNORED_PROPERTIES.has(property.name)) continue;
      const [name, params, , ...rawValues] = property.toJSON() as JCalProperty;
      // Offsets and durations have several spellings of one value (+0100 and +010000, -PT15M
      // and -P0DT0H15M0S): compared in seconds.
      add(here, name, params, property.type === 'utc-offset' || property.type === 'duration' ? property.getValues().map(inSeconds) : rawValues);
    }
    for (const sub of component.getAllSubcomponents()) walk(sub, here);
  };
  walk(root, '');
  return lines.sort((a, b) => (a.line < b.line ? -1 : a.line > b.line ? 1 : 0));
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
  const labels = new Map<string, string>();
  const count = (entries: { line: string; label: string }[]) => {
    const map = new Map<string, number>();
    for (const { line, label } of entries) {
      map.set(line, (map.get(line) ?? 0) + 1);
      labels.set(line, label);
    }
    return map;
  };
  const inA = count(normalisedEntries(source));
  const inB = count(normalisedEntries(target));
  const out: string[] = [];
  const label = (line: string) => labels.get(line)!;
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
