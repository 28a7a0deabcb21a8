import ICAL from 'ical.js';
import { ianaZoneOf, ianaZoneOfTzid, windowsZoneOf } from '../time-zones';

/**
 * Times between iCalendar and Exchange. EWS answers every dateTime in UTC and names the item's
 * zone by its Windows id (StartTimeZone / EndTimeZone); iCalendar writes wall times with a TZID
 * and its VTIMEZONE. Instants are computed by ical.js from the item's own VTIMEZONE where it has
 * one, else from the IANA zone database of the runtime (Intl), which is also what turns
 * Exchange's UTC back into the wall time of an IANA zone.
 */

export const UTC_WINDOWS_ZONE = 'UTC';

/** A moment as EWS writes it: 2026-01-05T09:00:00Z. */
export function ewsDateTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function epochOf(ewsValue: string): number {
  const ms = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(ewsValue) ? ewsValue : `${ewsValue}Z`);
  if (Number.isNaN(ms)) throw new Error(`not an EWS dateTime: ${ewsValue}`);
  return Math.round(ms / 1000);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let found = formatters.get(zone);
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, found);
  }
  return found;
}

/** Is the name an IANA zone the runtime knows? */
export function isKnownZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export function wallTimeIn(epochSeconds: number, zone: string): WallTime {
  const parts = Object.fromEntries(formatter(zone).formatToParts(new Date(epochSeconds * 1000)).map((p) => [p.type, p.value]));
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour) % 24, minute: Number(parts.minute), second: Number(parts.second) };
}

function wallAsUtc(wall: WallTime): number {
  return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second) / 1000;
}

/** Seconds east of UTC in `zone` at that moment. */
export function offsetIn(epochSeconds: number, zone: string): number {
  return wallAsUtc(wallTimeIn(epochSeconds, zone)) - epochSeconds;
}

/** The moment a wall time in `zone` stands for (the earlier one in a repeated hour). */
export function epochOfWall(wall: WallTime, zone: string): number {
  const guess = wallAsUtc(wall);
  const first = guess - offsetIn(guess, zone);
  return guess - offsetIn(first, zone);
}

/** An ical.js time as a moment: by its own zone, the item's VTIMEZONE, or the IANA name. Null for floating times and dates. */
export function epochOfTime(time: ICAL.Time, tzid: string | null, zones: Map<string, ICAL.Timezone>): number | null {
  if (time.isDate) return null;
  if (time.zone === ICAL.Timezone.utcTimezone) return time.toUnixTime();
  if (!tzid) return null;
  const own = zones.get(tzid);
  if (own) {
    const copy = time.clone();
    copy.zone = own;
    return copy.toUnixTime();
  }
  const iana = ianaOf(tzid);
  if (!iana) return null;
  return epochOfWall({ year: time.year, month: time.month, day: time.day, hour: time.hour, minute: time.minute, second: time.second }, iana);
}

/**
 * The IANA zone a TZID names: an IANA name itself, a Windows name (Outlook writes those), or
 * one with a vendor prefix (/mozilla.org/20050126_1/Europe/Berlin, /citadel.org/...).
 */
export function ianaOf(tzid: string): string | null {
  const iana = ianaZoneOfTzid(tzid);
  return iana && isKnownZone(iana) ? iana : null;
}

/** The Windows zone Exchange is told for a TZID, or null when CLDR has none for it. */
export function windowsOf(tzid: string): string | null {
  const iana = ianaOf(tzid);
  return iana ? windowsZoneOf(iana) : null;
}

/** The IANA zone a Windows id reads back as (CLDR's zone for the whole world); null for UTC. */
export function ianaOfWindows(windows: string | null | undefined): string | null {
  if (!windows || /^(UTC|GMT)$/i.test(windows.trim())) return null;
  const iana = ianaZoneOf(windows.trim());
  return iana && isKnownZone(iana) ? iana : null;
}

function icalOffset(seconds: number): string {
  const sign = seconds < 0 ? '-' : '+';
  const abs = Math.abs(seconds);
  return `${sign}${String(Math.floor(abs / 3600)).padStart(2, '0')}:${String(Math.floor((abs % 3600) / 60)).padStart(2, '0')}`;
}

function icalWall(wall: WallTime): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(wall.year, 4)}-${p(wall.month)}-${p(wall.day)}T${p(wall.hour)}:${p(wall.minute)}:${p(wall.second)}`;
}

const vtimezones = new Map<string, ICAL.Component>();

/**
 * A VTIMEZONE for an IANA zone from the runtime's zone data, one observance per transition
 * between the first and last year (ical.js carries no zone database). Clients place times by
 * it; servers that resolve the TZID by name (RFC 7809) ignore it.
 */
export function vtimezoneOf(zone: string, fromYear: number, toYear: number): ICAL.Component {
  const key = `${zone}|${fromYear}|${toYear}`;
  const cached = vtimezones.get(key);
  if (cached) return new ICAL.Component(cached.toJSON());
  const start = Date.UTC(fromYear, 0, 1) / 1000;
  const end = Date.UTC(toYear + 1, 0, 1) / 1000;
  const observances: [string, unknown[], unknown[]][] = [];
  const observance = (at: number, from: number, to: number, isDaylight: boolean): [string, unknown[], unknown[]] => [
    isDaylight ? 'daylight' : 'standard',
    [
      ['dtstart', {}, 'date-time', icalWall(wallOf(at, from))],
      ['tzoffsetfrom', {}, 'utc-offset', icalOffset(from)],
      ['tzoffsetto', {}, 'utc-offset', icalOffset(to)],
    ],
    [],
  ];
  const first = offsetIn(start, zone);
  observances.push(observance(start, first, first, false));
  let previous = first;
  for (let day = start; day < end; day += 86_400) {
    const next = offsetIn(day + 86_400, zone);
    if (next === previous) continue;
    // The change lies within this day: narrowed down to the second.
    let low = day;
    let high = day + 86_400;
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (offsetIn(middle, zone) === previous) low = middle;
      else high = middle;
    }
    observances.push(observance(high, previous, next, next > previous));
    previous = next;
  }
  const component = new ICAL.Component(['vtimezone', [['tzid', {}, 'text', zone]], observances] as never);
  vtimezones.set(key, component);
  return new ICAL.Component(component.toJSON());
}

/** The wall time of a transition as the observance writes it: in the offset before it (RFC 5545 3.6.5). */
function wallOf(at: number, offsetBefore: number): WallTime {
  const d = new Date((at + offsetBefore) * 1000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
}
