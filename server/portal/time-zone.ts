/**
 * Times in the server's time zone (MAILFERRY_TIMEZONE, else the machine's), as customers enter
 * start and resync dates, converted to and from UTC correctly across daylight-saving changes.
 */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export function serverTimeZoneName(): string {
  const configured = process.env.MAILFERRY_TIMEZONE?.trim();
  if (configured && isTimeZone(configured)) return configured;
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(zone: string, at: number): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, Number(p.value)]));
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** Minutes the zone is ahead of UTC at the instant `at`. */
export function zoneOffsetMinutes(zone: string, at: number): number {
  const w = wallClock(zone, at);
  return Math.round((Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(at / 1000) * 1000) / 60_000);
}

export function formatOffset(minutes: number): string {
  const sign = minutes >= 0 ? '+' : '-';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** The server's time zone and its current UTC offset, e.g. { name: 'Europe/Berlin', offset: '+01:00' }. */
export function serverTimeZone(at: Date = new Date()): { name: string; offset: string } {
  const name = serverTimeZoneName();
  return { name, offset: formatOffset(zoneOffsetMinutes(name, at.getTime())) };
}

export type LocalTimeResult =
  | { ok: true; utc: Date; note: string | null }
  | { ok: false; message: string };

/**
 * "2027-03-28T02:30" in `zone` → the UTC instant. A time that does not exist (clocks jump
 * forward) is refused with the reason; a time that exists twice (clocks go back) is taken at
 * its first occurrence, still in summer time, and the note says so.
 */
export function resolveLocalTime(local: string, zone: string): LocalTimeResult {
  const match = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})$/.exec(local.trim());
  if (!match) return { ok: false, message: 'Enter the date and time as YYYY-MM-DD HH:MM.' };
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [number, number, number, number, number];
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  const check = new Date(asUtc);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59) {
    return { ok: false, message: 'This date does not exist.' };
  }
  // The offsets in force a day before and after cover both sides of any DST change.
  const offsets = [...new Set([zoneOffsetMinutes(zone, asUtc - 86_400_000), zoneOffsetMinutes(zone, asUtc + 86_400_000)])];
  const matches = offsets
    .map((offset) => asUtc - offset * 60_000)
    .filter((instant) => {
      const w = wallClock(zone, instant);
      return w.year === year && w.month === month && w.day === day && w.hour === hour && w.minute === minute;
    })
    .sort((a, b) => a - b);
  if (matches.length === 0) {
    return { ok: false, message: `${local.replace('T', ' ')} does not exist in ${zone}: the clocks are put forward at that time. Choose a time an hour later.` };
  }
  const note =
    matches.length > 1
      ? `${local.replace('T', ' ')} occurs twice in ${zone} (the clocks are put back); the first occurrence (UTC${formatOffset(Math.round((asUtc - matches[0]!) / 60_000))}) is used.`
      : null;
  return { ok: true, utc: new Date(matches[0]!), note };
}
