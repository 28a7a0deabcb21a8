import { describe, expect, it } from 'vitest';
import { migrationInputSchema } from './schemas';
import { resolveTiming } from './timing';

const now = new Date('2027-03-01T12:00:00Z');

describe('resolveTiming', () => {
  it('turns local times in the zone into UTC', () => {
    expect(resolveTiming({ startAt: '2027-07-01T09:00', resyncAt: '2027-07-02T09:00' }, 'Europe/Berlin', now)).toEqual({
      ok: true,
      startAt: new Date('2027-07-01T07:00:00Z'),
      resyncAt: new Date('2027-07-02T07:00:00Z'),
      startsNow: false,
      notes: [],
    });
  });

  it('refuses a time the clocks skip, on its own field', () => {
    expect(resolveTiming({ startAt: '2027-03-28T02:30' }, 'Europe/Berlin', now)).toEqual({
      ok: false,
      errors: { startAt: '2027-03-28 02:30 does not exist in Europe/Berlin: the clocks are put forward at that time. Choose a time an hour later.' },
    });
    expect(resolveTiming({ startAt: '2027-03-27T10:00', resyncAt: '2027-03-28T02:15' }, 'Europe/Berlin', now)).toMatchObject({ ok: false, errors: { resyncAt: expect.stringMatching(/does not exist/) } });
  });

  it('takes a repeated time at its first occurrence and says so', () => {
    const timing = resolveTiming({ startAt: '2027-10-31T02:30' }, 'Europe/Berlin', now);
    expect(timing).toMatchObject({ ok: true, startAt: new Date('2027-10-31T00:30:00Z'), notes: [expect.stringMatching(/occurs twice/)] });
  });

  it('starts a past start now, and wants the resync after that', () => {
    expect(resolveTiming({ startAt: '2027-02-01T10:00' }, 'UTC', now)).toMatchObject({ ok: true, startAt: now, startsNow: true });
    expect(resolveTiming({ startAt: '2027-02-01T10:00', resyncAt: '2027-02-02T10:00' }, 'UTC', now)).toMatchObject({ ok: false, errors: { resyncAt: expect.stringMatching(/future/) } });
  });
});

describe('migrationInputSchema', () => {
  const account = { type: 'imap' as const, email: 'a@example.com', username: 'a@example.com', password: 'pw', server: 'mail.example.com' };
  const target = { ...account, email: 'b@example.com', username: 'b@example.com' };

  it('accepts the form as the browser sends it: empty resync means none', () => {
    const parsed = migrationInputSchema.parse({ source: account, target, startAt: '2027-07-01 09:00', resyncAt: '' });
    expect(parsed.startAt).toBe('2027-07-01T09:00');
    expect(parsed.resyncAt).toBeUndefined();
  });

  it('wants a start, a resync after it, and two different mailboxes', () => {
    const paths = (input: unknown) => migrationInputSchema.safeParse(input).error?.issues.map((i) => i.path.join('.'));
    expect(paths({ source: account, target, startAt: '' })).toEqual(['startAt']);
    expect(paths({ source: account, target, startAt: '2027-07-01T09:00', resyncAt: '2027-07-01T09:00' })).toEqual(['resyncAt']);
    expect(paths({ source: account, target: account, startAt: '2027-07-01T09:00' })).toEqual(['target.email']);
  });
});
