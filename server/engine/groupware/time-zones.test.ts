import { describe, expect, it } from 'vitest';
import { canonicalIanaZone, ianaZoneOf, isKnownIanaZone, vtimezoneOf, windowsZoneOf } from './time-zones';

describe('time zone names', () => {
  it.each([
    ['Europe/Berlin', 'W. Europe Standard Time'],
    ['Asia/Kolkata', 'India Standard Time'],
    ['Asia/Calcutta', 'India Standard Time'],
    ['America/New_York', 'Eastern Standard Time'],
    ['UTC', 'UTC'],
  ])('%s is %s on Windows', (iana, windows) => {
    expect(windowsZoneOf(iana)).toBe(windows);
  });

  it.each([
    ['W. Europe Standard Time', 'Europe/Berlin'],
    ['Pacific Standard Time', 'America/Los_Angeles'],
    ['Tokyo Standard Time', 'Asia/Tokyo'],
    ['Europe/Paris', 'Europe/Paris'],
  ])('%s is %s in IANA', (windows, iana) => {
    expect(ianaZoneOf(windows)).toBe(iana);
  });

  it('answers null for names CLDR does not know', () => {
    expect(windowsZoneOf('Mars/Olympus_Mons')).toBeNull();
    expect(ianaZoneOf('Customized Time Zone')).toBeNull();
  });
});

describe('VTIMEZONE of an IANA zone', () => {
  it('gives the tz database definition with the zone as TZID', () => {
    const text = vtimezoneOf('Europe/Berlin');
    expect(text).toMatch(/^BEGIN:VTIMEZONE\r\nTZID:Europe\/Berlin\r\n/);
    expect(text).toContain('TZOFFSETTO:+0200');
    expect(text).toContain('RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU');
    expect(isKnownIanaZone('Asia/Tokyo')).toBe(true);
  });

  it('answers null for names that are not IANA zones', () => {
    expect(vtimezoneOf('W. Europe Standard Time')).toBeNull();
    expect(isKnownIanaZone('Mars/Olympus_Mons')).toBe(false);
  });
});

describe('canonical IANA names', () => {
  it('writes a link with the name of its zone, as its VTIMEZONE does', () => {
    expect(canonicalIanaZone('America/Buenos_Aires')).toBe('America/Argentina/Buenos_Aires');
    expect(vtimezoneOf('America/Buenos_Aires')).toContain('TZID:America/Argentina/Buenos_Aires');
    expect(canonicalIanaZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(canonicalIanaZone('W. Europe Standard Time')).toBeNull();
  });
});
