import { describe, expect, it } from 'vitest';
import { formatOffset, isTimeZone, resolveLocalTime, zoneOffsetMinutes } from './time-zone';

describe('server time zone', () => {
  it('converts an ordinary local time to UTC', () => {
    expect(resolveLocalTime('2027-01-15T09:30', 'Europe/Berlin')).toEqual({ ok: true, utc: new Date('2027-01-15T08:30:00Z'), note: null });
    expect(resolveLocalTime('2027-07-15 09:30', 'Europe/Berlin')).toEqual({ ok: true, utc: new Date('2027-07-15T07:30:00Z'), note: null });
    expect(resolveLocalTime('2027-07-15T09:30', 'UTC')).toEqual({ ok: true, utc: new Date('2027-07-15T09:30:00Z'), note: null });
  });

  it('refuses a time skipped when the clocks go forward (2027-03-28 02:30 in Berlin)', () => {
    const result = resolveLocalTime('2027-03-28T02:30', 'Europe/Berlin');
    expect(result).toEqual({ ok: false, message: '2027-03-28 02:30 does not exist in Europe/Berlin: the clocks are put forward at that time. Choose a time an hour later.' });
    expect(resolveLocalTime('2027-03-28T03:00', 'Europe/Berlin')).toMatchObject({ ok: true, utc: new Date('2027-03-28T01:00:00Z') });
  });

  it('takes the first of a time that occurs twice when the clocks go back (2027-10-31 02:30 in Berlin)', () => {
    const result = resolveLocalTime('2027-10-31T02:30', 'Europe/Berlin');
    expect(result).toMatchObject({ ok: true, utc: new Date('2027-10-31T00:30:00Z') });
    expect(result.ok && result.note).toBe('2027-10-31 02:30 occurs twice in Europe/Berlin (the clocks are put back); the first occurrence (UTC+02:00) is used.');
  });

  it('refuses malformed and impossible dates', () => {
    expect(resolveLocalTime('31.12.2027 10:00', 'UTC')).toMatchObject({ ok: false, message: 'Enter the date and time as YYYY-MM-DD HH:MM.' });
    expect(resolveLocalTime('2027-02-30T10:00', 'UTC')).toMatchObject({ ok: false, message: 'This date does not exist.' });
    expect(resolveLocalTime('2027-02-10T24:10', 'UTC')).toMatchObject({ ok: false });
  });

  it('knows offsets and zone names', () => {
    expect(formatOffset(zoneOffsetMinutes('Europe/Berlin', Date.parse('2027-01-01T00:00:00Z')))).toBe('+01:00');
    expect(formatOffset(zoneOffsetMinutes('America/St_Johns', Date.parse('2027-01-01T00:00:00Z')))).toBe('-03:30');
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
