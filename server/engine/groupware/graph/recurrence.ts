import ICAL from 'ical.js';
import type { GraphDayOfWeek, GraphPatternedRecurrence, GraphRecurrencePattern, GraphWeekIndex } from './graph-types';

/**
 * RRULE (RFC 5545 3.3.10) ↔ Graph's patternedRecurrence (recurrencePattern + recurrenceRange).
 * Graph repeats daily, weekly on some weekdays, monthly / yearly on a day of the month or on the
 * first..fourth or last of some weekdays; it ends on a day, after a count or never. Everything
 * else (BYHOUR, BYWEEKNO, BYYEARDAY, several month days, "every Monday of the month", hourly
 * rules, BYSETPOS other than 1..4 / -1) has no Graph form and is reported, not guessed.
 */

const DAYS: Record<string, GraphDayOfWeek> = { SU: 'sunday', MO: 'monday', TU: 'tuesday', WE: 'wednesday', TH: 'thursday', FR: 'friday', SA: 'saturday' };
const DAY_CODES = Object.fromEntries(Object.entries(DAYS).map(([code, day]) => [day, code])) as Record<GraphDayOfWeek, string>;
/** ICAL.Time's day of the week, 1 = Sunday. */
const WEEKDAY_BY_NUMBER = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
const INDEX: Record<number, GraphWeekIndex> = { 1: 'first', 2: 'second', 3: 'third', 4: 'fourth', [-1]: 'last' };
const INDEX_NUMBER: Record<GraphWeekIndex, number> = { first: 1, second: 2, third: 3, fourth: 4, last: -1 };

/** The day a recurrence starts on, as the event's own zone has it. */
export interface LocalStart {
  year: number;
  month: number;
  day: number;
  /** 1 = Sunday, as ICAL.Time.dayOfWeek(). */
  dayOfWeek: number;
}

export interface RecurrenceMapping {
  recurrence: GraphPatternedRecurrence | null;
  /** Why the rule has no Graph form (recurrence is then null). */
  unmappable: string | null;
  /** Parts written differently on the way back (same occurrences). */
  rewritten: string[];
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

export function isoDate(year: number, month: number, day: number): string {
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/**
 * An RRULE as Graph's recurrence. `untilDay` turns the rule's UNTIL into the last day an
 * occurrence may start on (in the event's zone); the caller knows the zone.
 */
export function rruleToGraph(rule: ICAL.Recur, start: LocalStart, timeZone: string, untilDay: (until: ICAL.Time) => string): RecurrenceMapping {
  const parts = rule.parts as Record<string, (string | number)[] | undefined>;
  const fail = (why: string): RecurrenceMapping => ({ recurrence: null, unmappable: why, rewritten: [] });
  const rewritten: string[] = [];
  const known = new Set(['BYDAY', 'BYMONTHDAY', 'BYMONTH', 'BYSETPOS']);
  for (const [name, values] of Object.entries(parts)) {
    if (values && values.length > 0 && !known.has(name)) return fail(`${name} has no Microsoft 365 form`);
  }
  const interval = rule.interval || 1;
  const byDay = (parts.BYDAY ?? []).map(String);
  const byMonthDay = (parts.BYMONTHDAY ?? []).map(Number);
  const byMonth = (parts.BYMONTH ?? []).map(Number);
  const bySetPos = (parts.BYSETPOS ?? []).map(Number);
  const startDay = WEEKDAY_BY_NUMBER[start.dayOfWeek - 1]!;
  const weekStart = rule.wkst ? WEEKDAY_BY_NUMBER[rule.wkst - 1]! : 'MO';
  let pattern: GraphRecurrencePattern;

  /** BYDAY=2TU, or BYDAY=MO,TU;BYSETPOS=1: Graph's index with its weekdays. */
  const relative = (): { index: GraphWeekIndex; daysOfWeek: GraphDayOfWeek[] } | null => {
    const parsed = byDay.map((d) => /^([+-]?\d)?(SU|MO|TU|WE|TH|FR|SA)$/.exec(d));
    if (parsed.length === 0 || parsed.some((m) => !m)) return null;
    if (parsed.length === 1 && parsed[0]![1] && bySetPos.length === 0) {
      const index = INDEX[Number(parsed[0]![1])];
      return index ? { index, daysOfWeek: [DAYS[parsed[0]![2]!]!] } : null;
    }
    if (bySetPos.length === 1 && parsed.every((m) => !m![1])) {
      const index = INDEX[bySetPos[0]!];
      return index ? { index, daysOfWeek: parsed.map((m) => DAYS[m![2]!]!) } : null;
    }
    return null;
  };

  switch (rule.freq) {
    case 'DAILY': {
      if (byMonthDay.length || byMonth.length || bySetPos.length) return fail('a daily rule limited to some days has no Microsoft 365 form');
      if (byDay.length === 0) {
        pattern = { type: 'daily', interval };
        break;
      }
      // "Every weekday": Graph says it as a weekly rule, the same days.
      if (interval !== 1 || byDay.some((d) => !DAYS[d])) return fail('a daily rule on some weekdays every few days has no Microsoft 365 form');
      pattern = { type: 'weekly', interval: 1, daysOfWeek: byDay.map((d) => DAYS[d]!), firstDayOfWeek: DAYS[weekStart]! };
      rewritten.push('RRULE FREQ=DAILY with BYDAY: written as the weekly rule of the same days');
      break;
    }
    case 'WEEKLY': {
      if (byMonthDay.length || byMonth.length || bySetPos.length || byDay.some((d) => !DAYS[d])) return fail('a weekly rule with more than weekdays has no Microsoft 365 form');
      if (byDay.length === 0) rewritten.push("RRULE BYDAY: the start's weekday written out, as Microsoft 365 wants");
      pattern = { type: 'weekly', interval, daysOfWeek: (byDay.length ? byDay : [startDay]).map((d) => DAYS[d]!), firstDayOfWeek: DAYS[weekStart]! };
      break;
    }
    case 'MONTHLY': {
      if (byMonth.length) return fail('a monthly rule limited to some months has no Microsoft 365 form');
      if (byDay.length === 0) {
        if (byMonthDay.length > 1 || bySetPos.length || (byMonthDay[0] !== undefined && (byMonthDay[0] < 1 || byMonthDay[0] > 31))) return fail('a monthly rule on several or counted-back days of the month has no Microsoft 365 form');
        if (byMonthDay.length === 0) rewritten.push("RRULE BYMONTHDAY: the start's day of the month written out, as Microsoft 365 wants");
        pattern = { type: 'absoluteMonthly', interval, dayOfMonth: byMonthDay[0] ?? start.day };
        break;
      }
      const rel = byMonthDay.length ? null : relative();
      if (!rel) return fail(`a monthly rule on ${byDay.join(',')}${bySetPos.length ? ` with BYSETPOS=${bySetPos.join(',')}` : ''} has no Microsoft 365 form`);
      pattern = { type: 'relativeMonthly', interval, ...rel };
      break;
    }
    case 'YEARLY': {
      if (byMonth.length > 1) return fail('a yearly rule in several months has no Microsoft 365 form');
      const month = byMonth[0] ?? start.month;
      if (byDay.length === 0) {
        if (byMonthDay.length > 1 || bySetPos.length || (byMonthDay[0] !== undefined && byMonthDay[0] < 1)) return fail('a yearly rule on several or counted-back days has no Microsoft 365 form');
        if (byMonth.length === 0 || byMonthDay.length === 0) rewritten.push("RRULE BYMONTH/BYMONTHDAY: the start's day and month written out, as Microsoft 365 wants");
        pattern = { type: 'absoluteYearly', interval, month, dayOfMonth: byMonthDay[0] ?? start.day };
        break;
      }
      const rel = byMonthDay.length || byMonth.length === 0 ? null : relative();
      if (!rel) return fail(`a yearly rule on ${byDay.join(',')} has no Microsoft 365 form`);
      pattern = { type: 'relativeYearly', interval, month, ...rel };
      break;
    }
    default:
      return fail(`FREQ=${rule.freq} has no Microsoft 365 form`);
  }

  // WKST changes only a weekly rule every few weeks; Monday is RFC 5545's default.
  if ('wkst' in (rule.toJSON() as object) && (pattern.type !== 'weekly' || weekStart === 'MO')) rewritten.push('RRULE WKST: left out where it changes nothing');
  const startDate = isoDate(start.year, start.month, start.day);
  const range: GraphPatternedRecurrence['range'] = rule.count
    ? { type: 'numbered', startDate, numberOfOccurrences: rule.count, recurrenceTimeZone: timeZone }
    : rule.until
      ? { type: 'endDate', startDate, endDate: untilDay(rule.until), recurrenceTimeZone: timeZone }
      : { type: 'noEnd', startDate, recurrenceTimeZone: timeZone };
  return { recurrence: { pattern, range }, unmappable: null, rewritten };
}

/** Graph's recurrence as an RRULE; `until` gives the UNTIL of an end day (a date, or the last start's instant). */
export function graphToRrule(recurrence: GraphPatternedRecurrence, until: (endDate: string) => ICAL.Time): ICAL.Recur {
  const { pattern, range } = recurrence;
  const parts: Record<string, (string | number)[]> = {};
  const days = (pattern.daysOfWeek ?? []).map((d) => DAY_CODES[d]);
  let freq: 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';
  switch (pattern.type) {
    case 'daily':
      freq = 'DAILY';
      break;
    case 'weekly':
      freq = 'WEEKLY';
      parts.BYDAY = days;
      break;
    case 'absoluteMonthly':
      freq = 'MONTHLY';
      parts.BYMONTHDAY = [pattern.dayOfMonth ?? 1];
      break;
    case 'relativeMonthly':
    case 'absoluteYearly':
    case 'relativeYearly':
      freq = pattern.type === 'relativeMonthly' ? 'MONTHLY' : 'YEARLY';
      if (pattern.type !== 'relativeMonthly') parts.BYMONTH = [pattern.month ?? 1];
      if (pattern.type === 'absoluteYearly') parts.BYMONTHDAY = [pattern.dayOfMonth ?? 1];
      else {
        const index = INDEX_NUMBER[pattern.index ?? 'first'];
        if (days.length === 1) parts.BYDAY = [`${index}${days[0]}`];
        else {
          parts.BYDAY = days;
          parts.BYSETPOS = [index];
        }
      }
      break;
  }
  const data: Record<string, unknown> = { freq, interval: pattern.interval || 1, parts };
  // Only a weekly rule every few weeks depends on the week's first day (RFC 5545 3.3.10, WKST).
  if (pattern.type === 'weekly' && pattern.firstDayOfWeek && pattern.firstDayOfWeek !== 'monday') data.wkst = WEEKDAY_BY_NUMBER.indexOf(DAY_CODES[pattern.firstDayOfWeek]) + 1;
  if (range.type === 'numbered' && range.numberOfOccurrences) data.count = range.numberOfOccurrences;
  if (range.type === 'endDate' && range.endDate) data.until = until(range.endDate);
  return ICAL.Recur.fromData(data as never);
}
