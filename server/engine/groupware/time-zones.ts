/**
 * Windows time zone names (what Exchange and Microsoft Graph speak: "W. Europe Standard Time")
 * and IANA names (what iCalendar clients use: "Europe/Berlin"), both ways, from CLDR's
 * windowsZones data (the windows-iana package carries it).
 */
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
