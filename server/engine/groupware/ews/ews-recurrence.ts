/**
 * Recurrence rules (RFC 5545 RRULE) and EWS's Recurrence element (RecurrenceType for calendar
 * items, TaskRecurrenceType for tasks): a pattern and a range.
 * https://learn.microsoft.com/exchange/client-developer/web-service-reference/recurrence-recurrencetype
 * https://learn.microsoft.com/exchange/client-developer/web-service-reference/recurrence-taskrecurrencetype
 *
 * EWS patterns: DailyRecurrence (Interval), WeeklyRecurrence (Interval, DaysOfWeek,
 * FirstDayOfWeek), AbsoluteMonthlyRecurrence (Interval, DayOfMonth), RelativeMonthlyRecurrence
 * (Interval, DaysOfWeek, DayOfWeekIndex), AbsoluteYearlyRecurrence (DayOfMonth, Month),
 * RelativeYearlyRecurrence (DaysOfWeek, DayOfWeekIndex, Month), and for tasks the regenerating
 * Daily/Weekly/Monthly/YearlyRegeneration ("due n days after the last one was completed"),
 * which iCalendar cannot say. Ranges: NoEndRecurrence, EndDateRecurrence (a date),
 * NumberedRecurrence (NumberOfOccurrences), each with the StartDate of the series.
 * Yearly patterns have no Interval: "every 2 years" is a monthly pattern every 24 months, as
 * Outlook writes it.
 */

export const EWS_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
export type EwsWeekday = (typeof EWS_DAYS)[number];
/** DayOfWeekType: a weekday, or one of the groups of the relative patterns. */
export type EwsDayOfWeek = EwsWeekday | 'Day' | 'Weekday' | 'WeekendDay';
export const EWS_WEEK_INDEXES = ['First', 'Second', 'Third', 'Fourth', 'Last'] as const;
export type EwsWeekIndex = (typeof EWS_WEEK_INDEXES)[number];
export const EWS_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] as const;
export type EwsMonth = (typeof EWS_MONTHS)[number];

export type EwsPattern =
  | { type: 'DailyRecurrence'; interval: number }
  | { type: 'WeeklyRecurrence'; interval: number; daysOfWeek: EwsDayOfWeek[]; firstDayOfWeek?: EwsWeekday }
  | { type: 'AbsoluteMonthlyRecurrence'; interval: number; dayOfMonth: number }
  | { type: 'RelativeMonthlyRecurrence'; interval: number; daysOfWeek: EwsDayOfWeek; dayOfWeekIndex: EwsWeekIndex }
  | { type: 'AbsoluteYearlyRecurrence'; dayOfMonth: number; month: EwsMonth }
  | { type: 'RelativeYearlyRecurrence'; daysOfWeek: EwsDayOfWeek; dayOfWeekIndex: EwsWeekIndex; month: EwsMonth }
  | { type: 'DailyRegeneration' | 'WeeklyRegeneration' | 'MonthlyRegeneration' | 'YearlyRegeneration'; interval: number };

export type EwsRange =
  | { type: 'NoEndRecurrence'; startDate: string }
  | { type: 'EndDateRecurrence'; startDate: string; endDate: string }
  | { type: 'NumberedRecurrence'; startDate: string; numberOfOccurrences: number };

export interface EwsRecurrence {
  pattern: EwsPattern;
  range: EwsRange;
}

/** A recurrence rule in ical.js's JSON form (ICAL.Recur#toJSON), without UNTIL, which the caller places in time. */
export interface RuleJson {
  freq: string;
  interval?: number;
  count?: number;
  wkst?: string;
  byday?: string | string[];
  bymonthday?: number | number[];
  bymonth?: number | number[];
  bysetpos?: number | number[];
  [part: string]: unknown;
}

/** The first occurrence's date in the event's own zone: what patterns without explicit days take their day from. */
export interface Anchor {
  year: number;
  month: number;
  day: number;
  /** 0 = Sunday. */
  weekday: number;
}

const ICAL_DAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
const INDEX_OF: Record<string, EwsWeekIndex> = { '1': 'First', '2': 'Second', '3': 'Third', '4': 'Fourth', '-1': 'Last' };
const GROUPS: Record<string, string[]> = { Day: ICAL_DAYS, Weekday: ['MO', 'TU', 'WE', 'TH', 'FR'], WeekendDay: ['SU', 'SA'] };
const KNOWN_PARTS = new Set(['freq', 'interval', 'count', 'until', 'wkst', 'byday', 'bymonthday', 'bymonth', 'bysetpos']);

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

export function isoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function dayName(ical: string): EwsWeekday | null {
  const index = ICAL_DAYS.indexOf(ical);
  return index < 0 ? null : EWS_DAYS[index]!;
}

/** One day or group of days of a relative pattern, from plain BYDAY values (no ordinals). */
function groupOf(days: string[]): EwsDayOfWeek | null {
  const sorted = [...new Set(days)].sort().join(',');
  for (const [group, members] of Object.entries(GROUPS)) if ([...members].sort().join(',') === sorted) return group as EwsDayOfWeek;
  return days.length === 1 ? dayName(days[0]!) : null;
}

type MonthPart = { kind: 'absolute'; dayOfMonth: number } | { kind: 'relative'; daysOfWeek: EwsDayOfWeek; index: EwsWeekIndex };

function monthPart(rule: RuleJson, anchor: Anchor): MonthPart | string {
  const days = list(rule.byday).map(String);
  const monthDays = list(rule.bymonthday).map(Number);
  const positions = list(rule.bysetpos).map(Number);
  if (days.length === 0 && positions.length === 0) {
    if (monthDays.length === 0) return { kind: 'absolute', dayOfMonth: anchor.day };
    if (monthDays.length === 1 && monthDays[0]! >= 1 && monthDays[0]! <= 31) return { kind: 'absolute', dayOfMonth: monthDays[0]! };
    if (monthDays.length === 1 && monthDays[0] === -1) return { kind: 'relative', daysOfWeek: 'Day', index: 'Last' };
    return 'several days of the month, or counted from its end';
  }
  if (monthDays.length > 0) return 'days of the month together with weekdays';
  if (positions.length === 0) {
    const match = days.length === 1 ? /^([+-]?\d)(SU|MO|TU|WE|TH|FR|SA)$/.exec(days[0]!) : null;
    const index = match ? INDEX_OF[String(Number(match[1]))] : undefined;
    if (!match || !index) return 'weekdays without one position in the month (1st to 4th or last)';
    return { kind: 'relative', daysOfWeek: dayName(match[2]!)!, index };
  }
  const group = positions.length === 1 && days.every((d) => ICAL_DAYS.includes(d)) ? groupOf(days) : null;
  const index = INDEX_OF[String(positions[0])];
  if (!group || !index) return 'a set of weekdays Exchange has no name for, or several positions';
  return { kind: 'relative', daysOfWeek: group, index };
}

/**
 * The EWS pattern of a rule, or why there is none. `endDate` is UNTIL as a date of the
 * event's own zone, which the caller computes.
 */
export function recurrenceFromRule(rule: RuleJson, anchor: Anchor, endDate: string | null): EwsRecurrence | { reason: string } {
  const unknown = Object.keys(rule).filter((part) => !KNOWN_PARTS.has(part));
  if (unknown.length > 0) return { reason: `the rule uses ${unknown.map((p) => p.toUpperCase()).join(', ')}` };
  const interval = rule.interval ?? 1;
  const days = list(rule.byday).map(String);
  const months = list(rule.bymonth).map(Number);
  const hasMonthParts = list(rule.bymonthday).length > 0 || list(rule.bysetpos).length > 0 || months.length > 0;
  let pattern: EwsPattern | string;
  switch (rule.freq) {
    case 'DAILY':
      if (hasMonthParts) pattern = 'a daily rule limited to months or days of the month';
      else if (days.length === 0) pattern = { type: 'DailyRecurrence', interval };
      else if (interval === 1 && days.every((d) => ICAL_DAYS.includes(d))) pattern = { type: 'WeeklyRecurrence', interval: 1, daysOfWeek: days.map((d) => dayName(d)!) };
      else pattern = 'a daily rule on some weekdays every few days';
      break;
    case 'WEEKLY': {
      const wkst = rule.wkst ? dayName(rule.wkst) : null;
      if (hasMonthParts) pattern = 'a weekly rule limited to months or days of the month';
      else if (!days.every((d) => ICAL_DAYS.includes(d))) pattern = 'a weekly rule with numbered weekdays';
      else pattern = { type: 'WeeklyRecurrence', interval, daysOfWeek: (days.length ? days : [ICAL_DAYS[anchor.weekday]!]).map((d) => dayName(d)!), ...(wkst ? { firstDayOfWeek: wkst } : {}) };
      break;
    }
    case 'MONTHLY': {
      const part = months.length > 0 ? 'a monthly rule limited to some months' : monthPart(rule, anchor);
      pattern =
        typeof part === 'string'
          ? part
          : part.kind === 'absolute'
            ? { type: 'AbsoluteMonthlyRecurrence', interval, dayOfMonth: part.dayOfMonth }
            : { type: 'RelativeMonthlyRecurrence', interval, daysOfWeek: part.daysOfWeek, dayOfWeekIndex: part.index };
      break;
    }
    case 'YEARLY': {
      const month = months.length === 0 ? anchor.month : months.length === 1 ? months[0]! : null;
      const part = month === null ? 'a yearly rule in several months' : monthPart(rule, anchor);
      if (typeof part === 'string') pattern = part;
      else if (interval > 1 && month !== anchor.month) pattern = 'a rule every few years in another month than its first occurrence';
      else if (interval > 1)
        pattern =
          part.kind === 'absolute'
            ? { type: 'AbsoluteMonthlyRecurrence', interval: interval * 12, dayOfMonth: part.dayOfMonth }
            : { type: 'RelativeMonthlyRecurrence', interval: interval * 12, daysOfWeek: part.daysOfWeek, dayOfWeekIndex: part.index };
      else
        pattern =
          part.kind === 'absolute'
            ? { type: 'AbsoluteYearlyRecurrence', dayOfMonth: part.dayOfMonth, month: EWS_MONTHS[month! - 1]! }
            : { type: 'RelativeYearlyRecurrence', daysOfWeek: part.daysOfWeek, dayOfWeekIndex: part.index, month: EWS_MONTHS[month! - 1]! };
      break;
    }
    default:
      pattern = `a rule repeating ${String(rule.freq).toLowerCase()} (Exchange repeats daily at the most often)`;
  }
  if (typeof pattern === 'string') return { reason: pattern };
  if (typeof pattern === 'object' && 'interval' in pattern && (pattern.interval < 1 || pattern.interval > 999)) return { reason: 'the interval is out of Exchange\'s range' };
  const startDate = isoDate(anchor.year, anchor.month, anchor.day);
  const range: EwsRange =
    rule.count !== undefined
      ? { type: 'NumberedRecurrence', startDate, numberOfOccurrences: rule.count }
      : endDate
        ? { type: 'EndDateRecurrence', startDate, endDate }
        : { type: 'NoEndRecurrence', startDate };
  return { pattern, range };
}

function icalDaysOf(day: EwsDayOfWeek): string[] {
  const group = GROUPS[day];
  if (group) return group;
  return [ICAL_DAYS[EWS_DAYS.indexOf(day as EwsWeekday)]!];
}

function ordinalOf(index: EwsWeekIndex): number {
  return index === 'Last' ? -1 : EWS_WEEK_INDEXES.indexOf(index) + 1;
}

function relativeParts(daysOfWeek: EwsDayOfWeek, index: EwsWeekIndex): Partial<RuleJson> {
  const days = icalDaysOf(daysOfWeek);
  if (daysOfWeek === 'Day' && index === 'Last') return { bymonthday: -1 };
  return days.length === 1 ? { byday: `${ordinalOf(index)}${days[0]}` } : { byday: days, bysetpos: ordinalOf(index) };
}

/**
 * The rule of an EWS recurrence, parts that equal the first occurrence's left out (FREQ=WEEKLY
 * rather than FREQ=WEEKLY;BYDAY=MO for a Monday series), or why there is none (regenerating
 * tasks). `endDate` is the range's last date, which the caller turns into UNTIL.
 */
export function ruleFromRecurrence(recurrence: EwsRecurrence, anchor: Anchor): { rule: RuleJson; endDate: string | null } | { reason: string } {
  const { pattern, range } = recurrence;
  const withInterval = (interval: number) => (interval > 1 ? { interval } : {});
  let rule: RuleJson;
  switch (pattern.type) {
    case 'DailyRecurrence':
      rule = { freq: 'DAILY', ...withInterval(pattern.interval) };
      break;
    case 'WeeklyRecurrence': {
      const days = [...new Set(pattern.daysOfWeek.flatMap(icalDaysOf))];
      const isAnchorOnly = days.length === 1 && days[0] === ICAL_DAYS[anchor.weekday];
      const wkst = pattern.firstDayOfWeek && pattern.firstDayOfWeek !== 'Monday' ? ICAL_DAYS[EWS_DAYS.indexOf(pattern.firstDayOfWeek)] : undefined;
      rule = { freq: 'WEEKLY', ...withInterval(pattern.interval), ...(isAnchorOnly ? {} : { byday: days.length === 1 ? days[0] : days }), ...(wkst ? { wkst } : {}) };
      break;
    }
    case 'AbsoluteMonthlyRecurrence': {
      const yearly = pattern.interval % 12 === 0;
      const day = pattern.dayOfMonth === anchor.day ? {} : { bymonthday: pattern.dayOfMonth };
      rule = yearly ? { freq: 'YEARLY', ...withInterval(pattern.interval / 12), ...day } : { freq: 'MONTHLY', ...withInterval(pattern.interval), ...day };
      break;
    }
    case 'RelativeMonthlyRecurrence': {
      const yearly = pattern.interval % 12 === 0;
      rule = { freq: yearly ? 'YEARLY' : 'MONTHLY', ...withInterval(yearly ? pattern.interval / 12 : pattern.interval), ...relativeParts(pattern.daysOfWeek, pattern.dayOfWeekIndex) };
      break;
    }
    case 'AbsoluteYearlyRecurrence': {
      const month = EWS_MONTHS.indexOf(pattern.month) + 1;
      const isAnchor = month === anchor.month && pattern.dayOfMonth === anchor.day;
      rule = { freq: 'YEARLY', ...(isAnchor ? {} : { bymonth: month, bymonthday: pattern.dayOfMonth }) };
      break;
    }
    case 'RelativeYearlyRecurrence':
      rule = { freq: 'YEARLY', ...relativeParts(pattern.daysOfWeek, pattern.dayOfWeekIndex), bymonth: EWS_MONTHS.indexOf(pattern.month) + 1 };
      break;
    default:
      return { reason: `a regenerating task (${pattern.type}: the next one is due a while after the last one was completed) has no iCalendar rule` };
  }
  if (range.type === 'NumberedRecurrence') rule.count = range.numberOfOccurrences;
  return { rule, endDate: range.type === 'EndDateRecurrence' ? range.endDate : null };
}
