/**
 * Windows time zone names (what Exchange and Microsoft Graph speak: "W. Europe Standard Time")
 * and IANA names (what iCalendar clients use: "Europe/Berlin"), both ways, from CLDR's
 * windowsZones data (the windows-iana package carries it).
 */
import { tzlib_get_ical_block, tzlib_get_timezones } from 'timezones-ical-library';
import { findIana, findWindows } from 'windows-iana';

/** The Windows zone for an IANA name (aliases too: Asia/Calcutta), or null when CLDR maps none. */
export function windowsZoneOf(iana: string): string | null {
  return findWindows(iana)[0] ?? null;
}

/**
 * The IANA zone for a Windows name: CLDR's zone for the whole world ("001") comes first, so
 * "W. Europe Standard Time" is Europe/Berlin and "Pacific Standard Time" America/Los_Angeles.
 * An IANA name given where a Windows one is expected (Graph accepts both) is kept as it is.
 */
export function ianaZoneOf(windows: string): string | null {
  const found = findIana(windows)[0];
  if (found) return found;
  return findWindows(windows).length > 0 ? windows : null;
}

const IANA_ZONES = new Set(tzlib_get_timezones() as string[]);

/** Is the name an IANA zone whose definition is known (so a VTIMEZONE can be written for it)? */
export function isKnownIanaZone(name: string): boolean {
  return IANA_ZONES.has(name);
}

/**
 * The VTIMEZONE text of an IANA zone, from the tz database as the timezones-ical-library
 * package carries it; null for a name it does not know. Microsoft 365 keeps an event's zone by
 * name only, and RFC 5545 (3.2.19) wants a VTIMEZONE for every TZID an item uses.
 */
export function vtimezoneOf(iana: string): string | null {
  if (!IANA_ZONES.has(iana)) return null;
  const block = tzlib_get_ical_block(iana);
  const text = Array.isArray(block) ? block[0] : null;
  return text && text.startsWith('BEGIN:VTIMEZONE') ? text : null;
}

/**
 * The tz database's own name of a zone: a link (America/Buenos_Aires, US/Eastern) is written
 * with its zone's name (America/Argentina/Buenos_Aires, America/New_York), the TZID of its
 * VTIMEZONE. Null for a name it does not know.
 */
export function canonicalIanaZone(iana: string): string | null {
  if (!IANA_ZONES.has(iana)) return null;
  const block = tzlib_get_ical_block(iana);
  const line = Array.isArray(block) ? block[1] : null;
  return line?.startsWith('TZID=') ? line.slice(5) : null;
}

/** Names of UTC itself; tzone://Microsoft/Utc is what Graph gives as originalStartTimeZone for UTC. */
export const UTC_ZONE_NAMES: ReadonlySet<string> = new Set(['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT', 'Z', 'Etc/UCT', 'Etc/Universal', 'Etc/Zulu', 'tzone://Microsoft/Utc']);

/**
 * The IANA zone an iCalendar TZID stands for: 'UTC', an IANA name itself, a Windows name
 * (Outlook writes those), the VTIMEZONE's X-LIC-LOCATION, or the IANA name at the end of a
 * vendor TZID (/mozilla.org/20050126_1/Europe/Berlin, /citadel.org/...). Null for a zone of the
 * item's own making.
 */
export function ianaZoneOfTzid(tzid: string, location?: string | null): string | null {
  const clean = tzid.replace(/^"|"$/g, '').trim();
  if (UTC_ZONE_NAMES.has(clean)) return 'UTC';
  if (isKnownIanaZone(clean)) return clean;
  const windows = ianaZoneOf(clean);
  if (windows) return windows;
  if (location && isKnownIanaZone(location)) return location;
  const segments = clean.split('/');
  for (let n = Math.min(3, segments.length - 1); n >= 2; n--) {
    const tail = segments.slice(-n).join('/');
    if (isKnownIanaZone(tail)) return tail;
  }
  return null;
}
