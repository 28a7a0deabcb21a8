import { findIana } from 'windows-iana';

/**
 * Occurrences of a recurring master, computed the way Exchange defines its patterns and ranges:
 * learn.microsoft.com/exchange/client-developer/web-service-reference/recurrence-recurrencetype
 * (DailyRecurrence, WeeklyRecurrence, AbsoluteMonthlyRecurrence, RelativeMonthlyRecurrence,
 * AbsoluteYearlyRecurrence, RelativeYearlyRecurrence; NoEndRecurrence, EndDateRecurrence,
 * NumberedRecurrence, each with the series' StartDate). Occurrences are whole days in the
 * master's StartTimeZone at the master's wall-clock start, so a weekly 09:00 meeting stays at
 * 09:00 across a summer-time change. The first occurrence is the first day on or after
 * StartDate that fits the pattern (not the StartDate itself, unlike an iCalendar DTSTART).
 * A DayOfMonth the month lacks (31 in April) falls on the month's last day, as [MS-OXOCAL]
 * 2.2.1.44.1 (RecurrencePattern) says for monthly patterns. InstanceIndex counts occurrences
 * from 1, deleted ones included (OccurrenceItemId:
 * learn.microsoft.com/exchange/client-developer/web-service-reference/occurrenceitemid).
 * Day-by-day evaluation on purpose: independent of the client's own RRULE conversion.
 */

export interface Pattern {
  type: string;
  interval: number;
  daysOfWeek: string[];
  dayOfWeekIndex?: string;
  dayOfMonth?: number;
  month?: number;
  firstDayOfWeek: number;
}

export interface Range {
  type: 'NoEndRecurrence' | 'EndDateRecurrence' | 'NumberedRecurrence';
  startDate: string;
  endDate?: string;
  numberOfOccurrences?: number;
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const INDEXES = ['First', 'Second', 'Third', 'Fourth', 'Last'];
/** How far a series without end is expanded (Exchange expands on demand; tests need far less). */
const MAX_OCCURRENCES = 2000;
const MAX_DAYS = 366 * 60;

export const dayIndex = (name: string) => DAYS.indexOf(name);
export const monthIndex = (name: string) => MONTHS.indexOf(name) + 1;
export const isWeekIndex = (name: string) => INDEXES.includes(name);
export const isDayOfWeek = (name: string) => DAYS.includes(name) || ['Day', 'Weekday', 'WeekendDay'].includes(name);

/** IANA zone of a Windows time zone id (CLDR windowsZones through windows-iana); undefined if unknown. */
export function ianaOfWindows(id: string): string | undefined {
  if (id === 'UTC') return 'Etc/UTC';
  return findIana(id)?.[0];
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallOf(epoch: number, zone: string): Wall {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(new Date(epoch));
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') };
}

function epochOfWall(wall: Wall, zone: string): number {
  const guess = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  let epoch = guess;
  for (let i = 0; i < 3; i++) {
    const seen = wallOf(epoch, zone);
    const offset = Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute, seen.second) - epoch;
    epoch = guess - offset;
  }
  return epoch;
}

/** Local date (YYYY-MM-DD) of an instant in a zone. */
export function localDate(epoch: number, zone: string): string {
  const wall = wallOf(epoch, zone);
  return `${wall.year}-${String(wall.month).padStart(2, '0')}-${String(wall.day).padStart(2, '0')}`;
}

const dayNumber = (date: string) => Math.floor(Date.parse(`${date.slice(0, 10)}T00:00:00Z`) / 86_400_000);
const dateOfDay = (day: number) => new Date(day * 86_400_000).toISOString().slice(0, 10);
const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

function matchesDaySet(weekday: number, set: string): boolean {
  if (set === 'Day') return true;
  if (set === 'Weekday') return weekday >= 1 && weekday <= 5;
  if (set === 'WeekendDay') return weekday === 0 || weekday === 6;
  return dayIndex(set) === weekday;
}

/** Whether a date is the index-th day of the set in its month (Last: the last such day). */
function isRelativeDay(year: number, month: number, day: number, set: string, index: string): boolean {
  const matching: number[] = [];
  for (let d = 1; d <= daysInMonth(year, month); d++) {
    if (matchesDaySet(new Date(Date.UTC(year, month - 1, d)).getUTCDay(), set)) matching.push(d);
  }
  const position = index === 'Last' ? matching.length - 1 : INDEXES.indexOf(index);
  return matching[position] === day;
}

function fits(pattern: Pattern, startDay: number, day: number): boolean {
  const date = new Date(day * 86_400_000);
  const [year, month, dom, weekday] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCDay()];
  const start = new Date(startDay * 86_400_000);
  const monthsSince = (year - start.getUTCFullYear()) * 12 + (month - start.getUTCMonth() - 1);
  const interval = Math.max(1, pattern.interval);
  switch (pattern.type) {
    case 'DailyRecurrence':
      return (day - startDay) % interval === 0;
    case 'WeeklyRecurrence': {
      if (!pattern.daysOfWeek.some((name) => dayIndex(name) === weekday)) return false;
      const weekStart = (d: number) => d - ((new Date(d * 86_400_000).getUTCDay() - pattern.firstDayOfWeek + 7) % 7);
      return ((weekStart(day) - weekStart(startDay)) / 7) % interval === 0;
    }
    case 'AbsoluteMonthlyRecurrence':
      return monthsSince % interval === 0 && dom === Math.min(pattern.dayOfMonth ?? 1, daysInMonth(year, month));
    case 'RelativeMonthlyRecurrence':
      return monthsSince % interval === 0 && isRelativeDay(year, month, dom, pattern.daysOfWeek[0] ?? 'Day', pattern.dayOfWeekIndex ?? 'First');
    case 'AbsoluteYearlyRecurrence':
      return month === pattern.month && dom === Math.min(pattern.dayOfMonth ?? 1, daysInMonth(year, month));
    case 'RelativeYearlyRecurrence':
      return month === pattern.month && isRelativeDay(year, month, dom, pattern.daysOfWeek[0] ?? 'Day', pattern.dayOfWeekIndex ?? 'First');
    default:
      return false;
  }
}

/**
 * Original starts (epoch ms, UTC) of every occurrence, in order; index i is InstanceIndex i + 1.
 * `masterStart` gives the wall-clock time of day; `durationMs` is not needed for starts.
 */
export function occurrenceStarts(pattern: Pattern, range: Range, masterStart: number, zone: string): number[] {
  const wall = wallOf(masterStart, zone);
  const startDay = dayNumber(range.startDate);
  const lastDay = range.type === 'EndDateRecurrence' && range.endDate ? dayNumber(range.endDate) : startDay + MAX_DAYS;
  const limit = range.type === 'NumberedRecurrence' ? Math.min(range.numberOfOccurrences ?? 0, MAX_OCCURRENCES) : MAX_OCCURRENCES;
  const starts: number[] = [];
  for (let day = startDay; day <= lastDay && starts.length < limit; day++) {
    if (!fits(pattern, startDay, day)) continue;
    const [year, month, dom] = dateOfDay(day).split('-').map(Number) as [number, number, number];
    starts.push(epochOfWall({ ...wall, year, month, day: dom }, zone));
  }
  return starts;
}
