import { describe, expect, it } from 'vitest';
import { DEFAULT_ALLOWED_PORTS } from '../../accounts/network/host-policy';
import { ACCOUNT_TYPES } from '../../accounts/types';
import { migrationInputSchema } from '../schemas';
import { MASS_EXAMPLE_FILE_NAME, massExampleFile } from './example';
import { formalCheck } from './formal-check';
import { MASS_FIELDS, MASS_HEADER } from './types';

function checkExample(now: Date, zone: string) {
  return formalCheck(massExampleFile({ now, zone }), { zone, now, active: [], microsoft365: false, hosts: { allow: [], allowedPorts: DEFAULT_ALLOWED_PORTS } });
}

describe('mass migration example file', () => {
  it('explains every field, type, server form, date format, the time zone, office365 and quoting in comment lines', () => {
    const text = massExampleFile({ now: new Date('2027-01-10T12:00:00Z'), zone: 'Europe/Berlin' });
    const comments = text.split('\n').filter((line) => line.startsWith('#'));
    const explained = comments.join('\n');
    for (const field of MASS_FIELDS) expect(explained, field).toContain(field);
    for (const type of ACCOUNT_TYPES) expect(explained, type).toMatch(new RegExp(`#\\s+${type}\\s`));
    for (const form of ['mail.example.com:143', 'imaps://', 'imap://', 'https://']) expect(explained).toContain(form);
    expect(explained).toContain('YYYY-MM-DD HH:MM or DD.MM.YYYY HH:MM');
    expect(explained).toContain('Europe/Berlin');
    expect(explained).toMatch(/office365 signs in with the organization’s Microsoft 365 connection: its password may be\n#\s+left empty/);
    expect(explained).toContain('"pa;ss""x" is the password pa;ss"x');
    expect(explained).toMatch(/leave it empty for no resync/);
    expect(MASS_EXAMPLE_FILE_NAME).toBe('mailferry-mass-migration-example.csv');
  });

  it('holds the header and three records that pass the formal check as they are, one with a quoted password', () => {
    const now = new Date('2027-01-10T12:00:00Z');
    const result = checkExample(now, 'Europe/Berlin');
    expect(result.error).toBeNull();
    expect(result.records).toBe(3);
    expect(result.clean).toBe(true);
    const lines = massExampleFile({ now, zone: 'Europe/Berlin' }).split('\n');
    expect(lines.filter((line) => line === MASS_HEADER)).toHaveLength(1);
    expect(result.accepted[0]!.source.password).toBe('Winter;2027"!');
    // Start tomorrow evening, resync a week later; the other notation on another line.
    expect(result.accepted.map((r) => [r.startAt, r.resyncAt])).toEqual([
      ['2027-01-11T20:00', '2027-01-18T20:00'],
      ['2027-01-12T20:00', null],
      ['2027-01-13T20:00', '2027-01-20T20:00'],
    ]);
    expect(lines.some((line) => line.includes(';12.01.2027 20:00;'))).toBe(true);
    for (const record of result.accepted) {
      const parsed = migrationInputSchema.safeParse({ source: record.source, target: record.target, startAt: record.startAt, resyncAt: record.resyncAt ?? '' });
      expect(parsed.success).toBe(true);
      for (const account of [record.source, record.target]) expect(account.server === '' || /example\.(com|net|org)/.test(account.server)).toBe(true);
    }
  });

  it('passes in every time zone, at any time of day and across the year, the days the clocks change included', () => {
    const zones = Intl.supportedValuesOf('timeZone');
    expect(zones.length).toBeGreaterThan(300);
    const moments = ['2027-03-27T23:30:00Z', '2027-10-30T12:00:00Z', '2027-12-31T23:59:00Z', '2027-06-15T03:00:00Z', '2028-02-28T20:00:00Z'].map((t) => new Date(t));
    const failures: string[] = [];
    for (const zone of zones) {
      for (const now of moments) {
        const result = checkExample(now, zone);
        if (!result.clean || result.accepted.length !== 3) failures.push(`${zone} ${now.toISOString()}: ${JSON.stringify(result.lines.filter((l) => l.status !== 'ignored' && l.status !== 'ok'))}`);
        else if (result.accepted.some((r) => r.startUtc.getTime() <= now.getTime())) failures.push(`${zone} ${now.toISOString()}: a start is not in the future`);
      }
    }
    expect(failures).toEqual([]);
  });
});
