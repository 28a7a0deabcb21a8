/**
 * patternedRecurrence as Outlook expands it (learn.microsoft.com/graph/api/resources/patternedrecurrence,
 * /recurrencepattern, /recurrencerange; the stored form is MS-OXOCAL's RecurrencePattern,
 * learn.microsoft.com/openspecs/exchange_server_protocols/ms-oxocal 2.2.1.44.1).
 *
 * Occurrences are computed on local dates in the series' zone; the time of day is the
 * master's start time, so a weekly 09:00 meeting stays at 09:00 across a DST change.
 */
import { daysInMonth, dayNumber, formatDate, fromDayNumber, parseDate, weekday } from './time';

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const INDEXES = ['first', 'second', 'third', 'fourth', 'last'] as const;
const PATTERN_TYPES = ['daily', 'weekly', 'absoluteMonthly', 'relativeMonthly', 'absoluteYearly', 'relativeYearly'] as const;
const RANGE_TYPES = ['endDate', 'noEnd', 'numbered'] as const;

export interface RecurrencePattern {
  type: (typeof PATTERN_TYPES)[number];
  interval: number;
  month: number;
  dayOfMonth: number;
  daysOfWeek: (typeof DAYS)[number][];
  firstDayOfWeek: (typeof DAYS)[number];
  index: (typeof INDEXES)[number];
}

export interface RecurrenceRange {
  type: (typeof RANGE_TYPES)[number];
  startDate: string;
  endDate: string;
  recurrenceTimeZone: string;
  numberOfOccurrences: number;
}

export interface PatternedRecurrence {
  pattern: RecurrencePattern;
  range: RecurrenceRange;
}

export type RecurrenceCheck = { ok: true; recurrence: PatternedRecurrence } | { ok: false; message: string };

/**
 * Validates a client's patternedRecurrence and fills the defaults Graph reports back (unused
 * members as 0 / [] / "0001-01-01", firstDayOfWeek sunday, index first). Which members each
 * type requires is the table on the recurrencePattern page; a missing one is refused.
 */
export function checkRecurrence(input: unknown, defaultZone: string): RecurrenceCheck {
  if (typeof input !== 'object' || input === null) return { ok: false, message: 'recurrence must be an object.' };
  const { pattern, range } = input as { pattern?: Record<string, unknown>; range?: Record<string, unknown> };
  if (!pattern || !range) return { ok: false, message: 'recurrence needs a pattern and a range.' };
  const type = pattern.type as RecurrencePattern['type'];
  if (!PATTERN_TYPES.includes(type)) return { ok: false, message: `Unknown recurrence pattern type '${String(pattern.type)}'.` };
  const interval = pattern.interval;
  if (typeof interval !== 'number' || !Number.isInteger(interval) || interval < 1 || interval > 999) return { ok: false, message: 'The recurrence interval must be an integer from 1 to 999.' };
  const daysOfWeek = (pattern.daysOfWeek ?? []) as string[];
  if (!Array.isArray(daysOfWeek) || daysOfWeek.some((d) => !DAYS.includes(d as never))) return { ok: false, message: 'daysOfWeek holds an unknown day.' };
  const needsDays = type === 'weekly' || type === 'relativeMonthly' || type === 'relativeYearly';
  if (needsDays && daysOfWeek.length === 0) return { ok: false, message: `A ${type} pattern requires daysOfWeek.` };
  const firstDayOfWeek = (pattern.firstDayOfWeek ?? 'sunday') as RecurrencePattern['firstDayOfWeek'];
  if (!DAYS.includes(firstDayOfWeek)) return { ok: false, message: 'firstDayOfWeek is not a day.' };
  const index = (pattern.index ?? 'first') as RecurrencePattern['index'];
  if (!INDEXES.includes(index)) return { ok: false, message: 'index must be first, second, third, fourth or last.' };
  const dayOfMonth = pattern.dayOfMonth ?? 0;
  const needsDayOfMonth = type === 'absoluteMonthly' || type === 'absoluteYearly';
  if (needsDayOfMonth && (typeof dayOfMonth !== 'number' || !Number.isInteger(dayOfMonth) || dayOfMonth < 1 || dayOfMonth > 31)) return { ok: false, message: `A ${type} pattern requires dayOfMonth from 1 to 31.` };
  const month = pattern.month ?? 0;
  const needsMonth = type === 'absoluteYearly' || type === 'relativeYearly';
  if (needsMonth && (typeof month !== 'number' || !Number.isInteger(month) || month < 1 || month > 12)) return { ok: false, message: `A ${type} pattern requires month from 1 to 12.` };

  const rangeType = range.type as RecurrenceRange['type'];
  if (!RANGE_TYPES.includes(rangeType)) return { ok: false, message: `Unknown recurrence range type '${String(range.type)}'.` };
  const start = parseDate(range.startDate);
  if (!start) return { ok: false, message: 'The recurrence range requires startDate (yyyy-mm-dd).' };
  let endDate = '0001-01-01';
  if (rangeType === 'endDate') {
    const end = parseDate(range.endDate);
    if (!end) return { ok: false, message: 'An endDate range requires endDate (yyyy-mm-dd).' };
    if (dayNumber(end.year, end.month, end.day) < dayNumber(start.year, start.month, start.day)) return { ok: false, message: 'The recurrence endDate is before its startDate.' };
    endDate = formatDate(end);
  }
  let numberOfOccurrences = 0;
  if (rangeType === 'numbered') {
    const n = range.numberOfOccurrences;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 999) return { ok: false, message: 'A numbered range requires numberOfOccurrences from 1 to 999.' };
    numberOfOccurrences = n;
  }
  return {
    ok: true,
    recurrence: {
      pattern: {
        type,
        interval,
        month: needsMonth ? (month as number) : 0,
        dayOfMonth: needsDayOfMonth ? (dayOfMonth as number) : 0,
        daysOfWeek: daysOfWeek as RecurrencePattern['daysOfWeek'],
        firstDayOfWeek,
        index,
      },
      range: {
        type: rangeType,
        startDate: formatDate(start),
        endDate,
        recurrenceTimeZone: typeof range.recurrenceTimeZone === 'string' && range.recurrenceTimeZone ? range.recurrenceTimeZone : defaultZone,
        numberOfOccurrences,
      },
    },
  };
}

/** Beyond this many occurrences a noEnd series is cut, so an expansion always ends. */
const EXPANSION_LIMIT = 5_000;

/**
 * Every occurrence date of the series in order, as day numbers, from range.startDate on, up to
 * the range's end (or `untilDay` for noEnd series, inclusive).
 *
 * A dayOfMonth past the end of a month (31 in April, 29 in February of a common year) falls on
 * the month's last day: MS-OXCICAL 2.1.3.2.2.3 imports RRULE BYMONTHDAY=-1 ("last day") as Day
 * 31, which only means "last day" if Exchange clamps. A yearly February 29 series therefore
 * falls on February 28 in common years and keeps its count.
 */
export function occurrenceDays(recurrence: PatternedRecurrence, untilDay: number): number[] {
  const { pattern, range } = recurrence;
  const start = parseDate(range.startDate)!;
  const startDay = dayNumber(start.year, start.month, start.day);
  const end = range.type === 'endDate' ? (() => {
    const e = parseDate(range.endDate)!;
    return dayNumber(e.year, e.month, e.day);
  })() : untilDay;
  const limit = range.type === 'numbered' ? range.numberOfOccurrences : EXPANSION_LIMIT;
  const days: number[] = [];
  const push = (day: number): boolean => {
    if (day < startDay) return true;
    if (range.type !== 'numbered' && day > end) return false;
    days.push(day);
    return days.length < limit;
  };
  const wanted = new Set(pattern.daysOfWeek.map((d) => DAYS.indexOf(d)));
  // Periods are walked until a period starts after the last possible day.
  const lastDay = range.type === 'numbered' ? Number.POSITIVE_INFINITY : end;
  const maxPeriods = 200_000;

  switch (pattern.type) {
    case 'daily':
      for (let day = startDay, i = 0; day <= lastDay && i < maxPeriods; day += pattern.interval, i++) if (!push(day)) break;
      break;
    case 'weekly': {
      const firstDow = DAYS.indexOf(pattern.firstDayOfWeek);
      const weekStart = startDay - ((weekday(startDay) - firstDow + 7) % 7);
      outer: for (let week = weekStart, i = 0; week <= lastDay && i < maxPeriods; week += 7 * pattern.interval, i++) {
        for (let offset = 0; offset < 7; offset++) {
          const day = week + offset;
          if (wanted.has(weekday(day)) && !push(day)) break outer;
        }
      }
      break;
    }
    case 'absoluteMonthly':
    case 'relativeMonthly':
    case 'absoluteYearly':
    case 'relativeYearly': {
      const yearly = pattern.type === 'absoluteYearly' || pattern.type === 'relativeYearly';
      const stepMonths = yearly ? 12 * pattern.interval : pattern.interval;
      // Yearly series run in the pattern's month; the first candidate year is the start's.
      let monthIndex = yearly ? start.year * 12 + (pattern.month - 1) : start.year * 12 + (start.month - 1);
      if (yearly && monthIndex < start.year * 12 + (start.month - 1)) monthIndex += 12;
      for (let i = 0; i < maxPeriods; i++, monthIndex += stepMonths) {
        const year = Math.floor(monthIndex / 12);
        const month = (monthIndex % 12) + 1;
        if (dayNumber(year, month, 1) > lastDay) break;
        const day = pattern.type === 'absoluteMonthly' || pattern.type === 'absoluteYearly'
          ? dayNumber(year, month, Math.min(pattern.dayOfMonth, daysInMonth(year, month)))
          : relativeDay(year, month, wanted, pattern.index);
        if (day !== undefined && !push(day)) break;
      }
      break;
    }
  }
  return days;
}

/**
 * The index-th day of the month whose weekday is in `wanted`: with several days ("first weekday"
 * = monday…friday, index first) the index counts over all of them, as MS-OXOCAL's MonthNth does.
 */
function relativeDay(year: number, month: number, wanted: Set<number>, index: RecurrencePattern['index']): number | undefined {
  const matching: number[] = [];
  for (let d = 1; d <= daysInMonth(year, month); d++) {
    const day = dayNumber(year, month, d);
    if (wanted.has(weekday(day))) matching.push(day);
  }
  return index === 'last' ? matching.at(-1) : matching[INDEXES.indexOf(index)];
}

export { fromDayNumber };
