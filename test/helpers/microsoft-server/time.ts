/**
 * dateTimeTimeZone as Outlook handles it (learn.microsoft.com/graph/api/resources/datetimetimezone):
 * a wall-clock `dateTime` without offset plus a `timeZone` that is a Windows zone name
 * ("W. Europe Standard Time") or an IANA name ("Europe/Berlin"); both are accepted, anything
 * else is refused with TimeZoneNotSupportedException. Windows names are resolved through CLDR's
 * windowsZones table (the windows-iana package), offsets through the runtime's tz database.
 */
import { findIana } from 'windows-iana';

/** A local (wall-clock) date and time, no zone. */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const GRAPH_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$/;

export function parseGraphDateTime(value: unknown): LocalDateTime | undefined {
  if (typeof value !== 'string') return undefined;
  const match = GRAPH_DATE_TIME.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? '0')) as [number, number, number, number, number, number];
  const local = { year, month, day, hour, minute, second };
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  return local;
}

/** Graph writes seven fraction digits and no offset: "2026-01-05T09:00:00.0000000". */
export function formatGraphDateTime(local: LocalDateTime): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(local.year, 4)}-${p(local.month)}-${p(local.day)}T${p(local.hour)}:${p(local.minute)}:${p(local.second)}.0000000`;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const UTC_NAMES = new Set(['utc', 'etc/utc', 'gmt', 'etc/gmt', 'tzone://microsoft/utc', 'coordinated universal time']);

/** The IANA zone a Graph timeZone value stands for, or undefined when Outlook would refuse it. */
export function resolveZone(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.trim() === '') return undefined;
  if (UTC_NAMES.has(name.toLowerCase())) return 'UTC';
  const windows = findIana(name)[0];
  if (windows) return windows;
  if (!name.includes('/')) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return name;
  } catch {
    return undefined;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Offset of `zone` from UTC at instant `ms`, in milliseconds. */
function zoneOffset(ms: number, zone: string): number {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, formatter);
  }
  const parts = Object.fromEntries(formatter.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant a wall-clock time in `zone` names. A time skipped by a spring-forward gap moves
 * forward by the gap; an ambiguous autumn time takes the earlier instant (as Exchange does).
 */
export function localToUtc(local: LocalDateTime, zone: string): number {
  const naive = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  const first = naive - zoneOffset(naive, zone);
  const second = naive - zoneOffset(first, zone);
  if (first === second) return first;
  // Two candidates: take the earlier one that maps back to the same wall time, else the later.
  const earlier = Math.min(first, second);
  return utcToLocalMs(earlier, zone) === naive ? earlier : Math.max(first, second);
}

function utcToLocalMs(ms: number, zone: string): number {
  return ms + zoneOffset(ms, zone);
}

export function utcToLocal(ms: number, zone: string): LocalDateTime {
  const d = new Date(utcToLocalMs(ms, zone));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
}

/** A calendar date as a day number (days since 1970-01-01), for date arithmetic without zones. */
export function dayNumber(year: number, month: number, day: number): number {
  return Math.round(Date.UTC(year, month - 1, day) / 86_400_000);
}

export function fromDayNumber(n: number): { year: number; month: number; day: number } {
  const d = new Date(n * 86_400_000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(n: number): number {
  return (((n + 4) % 7) + 7) % 7;
}

export function parseDate(value: unknown): { year: number; month: number; day: number } | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return undefined;
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return { year, month, day };
}

export function formatDate(date: { year: number; month: number; day: number }): string {
  return `${String(date.year).padStart(4, '0')}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}
