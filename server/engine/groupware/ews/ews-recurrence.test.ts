import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { recurrenceFromRule, ruleFromRecurrence, type Anchor, type RuleJson } from './ews-recurrence';
import { epochOfTime, ianaOf, ianaOfWindows, vtimezoneOf, windowsOf } from './ews-time';

// Monday, 5 January 2026.
const anchor: Anchor = { year: 2026, month: 1, day: 5, weekday: 1 };

function rule(text: string): RuleJson {
  const { until: _until, ...json } = ICAL.Recur.fromString(text).toJSON() as RuleJson & { until?: unknown };
  return json;
}

describe('RRULE ↔ EWS Recurrence', () => {
  const cases: [string, string, string][] = [
    ['FREQ=DAILY;INTERVAL=3;COUNT=4', 'DailyRecurrence', 'FREQ=DAILY;COUNT=4;INTERVAL=3'],
    ['FREQ=WEEKLY', 'WeeklyRecurrence', 'FREQ=WEEKLY'],
    ['FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR', 'WeeklyRecurrence', 'FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR'],
    ['FREQ=MONTHLY;BYMONTHDAY=15', 'AbsoluteMonthlyRecurrence', 'FREQ=MONTHLY;BYMONTHDAY=15'],
    ['FREQ=MONTHLY;BYMONTHDAY=-1', 'RelativeMonthlyRecurrence', 'FREQ=MONTHLY;BYMONTHDAY=-1'],
    ['FREQ=MONTHLY;BYDAY=2TU', 'RelativeMonthlyRecurrence', 'FREQ=MONTHLY;BYDAY=2TU'],
    ['FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1', 'RelativeMonthlyRecurrence', 'FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1'],
    ['FREQ=YEARLY', 'AbsoluteYearlyRecurrence', 'FREQ=YEARLY'],
    ['FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'RelativeYearlyRecurrence', 'FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3'],
    // Yearly patterns have no interval: every 2 years is every 24 months, and reads back as yearly.
    ['FREQ=YEARLY;INTERVAL=2', 'AbsoluteMonthlyRecurrence', 'FREQ=YEARLY;INTERVAL=2'],
  ];
  for (const [source, pattern, back] of cases) {
    it(`${source} → ${pattern} → ${back}`, () => {
      const recurrence = recurrenceFromRule(rule(source), anchor, null);
      expect('pattern' in recurrence && recurrence.pattern.type).toBe(pattern);
      if (!('pattern' in recurrence)) return;
      expect(recurrence.range.startDate).toBe('2026-01-05');
      const result = ruleFromRecurrence(recurrence, anchor);
      expect('rule' in result && ICAL.Recur.fromData(result.rule as never).toString()).toBe(back);
    });
  }

  it('UNTIL goes as the end date, COUNT as the number of occurrences', () => {
    const until = recurrenceFromRule(rule('FREQ=DAILY'), anchor, '2026-02-01');
    expect('range' in until && until.range).toEqual({ type: 'EndDateRecurrence', startDate: '2026-01-05', endDate: '2026-02-01' });
    const counted = recurrenceFromRule(rule('FREQ=WEEKLY;COUNT=6'), anchor, null);
    expect('range' in counted && counted.range).toEqual({ type: 'NumberedRecurrence', startDate: '2026-01-05', numberOfOccurrences: 6 });
  });

  for (const refused of ['FREQ=HOURLY', 'FREQ=MONTHLY;BYMONTHDAY=1,15', 'FREQ=MONTHLY;BYDAY=MO', 'FREQ=YEARLY;BYMONTH=1,7', 'FREQ=DAILY;BYHOUR=9,17', 'FREQ=YEARLY;BYWEEKNO=20']) {
    it(`${refused} has no EWS pattern, with a reason`, () => {
      const recurrence = recurrenceFromRule(rule(refused), anchor, null);
      expect('reason' in recurrence && recurrence.reason.length).toBeGreaterThan(10);
    });
  }

  it('a regenerating task has no rule', () => {
    const result = ruleFromRecurrence({ pattern: { type: 'DailyRegeneration', interval: 2 }, range: { type: 'NoEndRecurrence', startDate: '2026-01-05' } }, anchor);
    expect('reason' in result && result.reason).toMatch(/regenerating/);
  });
});

describe('time zones between iCalendar and Exchange', () => {
  it('IANA, Windows and vendor-prefixed TZIDs', () => {
    expect(windowsOf('Europe/Berlin')).toBe('W. Europe Standard Time');
    expect(ianaOf('/mozilla.org/20050126_1/Europe/Berlin')).toBe('Europe/Berlin');
    expect(ianaOf('Pacific Standard Time')).toBe('America/Los_Angeles');
    expect(ianaOf('MyTimezone')).toBeNull();
    expect(ianaOfWindows('UTC')).toBeNull();
    expect(ianaOfWindows('Tokyo Standard Time')).toBe('Asia/Tokyo');
  });

  it('a VTIMEZONE from the zone data places times as the zone does', () => {
    const zone = vtimezoneOf('Europe/Berlin', 2026, 2026);
    expect(zone.getAllSubcomponents('daylight')).toHaveLength(1);
    expect(zone.getAllSubcomponents('standard')).toHaveLength(2);
    expect(String(zone.getFirstSubcomponent('daylight')!.getFirstPropertyValue('dtstart'))).toBe('2026-03-29T02:00:00');
    const zones = new Map([['Europe/Berlin', new ICAL.Timezone({ component: zone, tzid: 'Europe/Berlin' })]]);
    const summer = ICAL.Time.fromDateTimeString('2026-07-01T12:00:00');
    const winter = ICAL.Time.fromDateTimeString('2026-12-01T12:00:00');
    expect(epochOfTime(summer, 'Europe/Berlin', zones)).toBe(Date.UTC(2026, 6, 1, 10) / 1000);
    expect(epochOfTime(winter, 'Europe/Berlin', zones)).toBe(Date.UTC(2026, 11, 1, 11) / 1000);
    // Without a VTIMEZONE, the IANA name alone.
    expect(epochOfTime(summer, 'Europe/Berlin', new Map())).toBe(Date.UTC(2026, 6, 1, 10) / 1000);
  });
});
