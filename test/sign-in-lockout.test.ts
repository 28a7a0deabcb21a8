import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ADDRESS_DELAY, addressDelayMs, authenticate, SIGN_IN_LIMITS, type SignInResult } from '@/server/auth/sign-in';
import { SEED_PASSWORD, seedOrganization, testDb, uniqueEmail } from './helpers/database';

const db = testDb();

/** A client address no other test in the run uses. */
const clientAddress = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

/** Records the waits instead of waiting them, so 50 attempts take seconds, not minutes. */
function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

async function seedAdmin() {
  const { user } = await seedOrganization(db, 'customer');
  await db.user.update({ where: { id: user.id }, data: { role: 'admin', organizationId: null } });
  return user;
}

/** Moves every sign-in window of `key`'s bucket back in time, as if the window had passed. */
async function endWindow(key: string, seconds: number) {
  await db.$executeRaw`UPDATE rate_limit_buckets SET window_start = window_start - make_interval(secs => ${seconds}) WHERE key = ${key}`;
}

describe('sign-in that others cannot lock', () => {
  it('50 wrong passwords for the admin from one client: the right one from another client signs in at once; the attacker stays refused until its window ends', async () => {
    const admin = await seedAdmin();
    const attacker = clientAddress();
    const clock = recordingSleep();
    const results: SignInResult[] = [];
    for (let i = 0; i < 50; i++) results.push(await authenticate(db, { email: admin.email, password: `guess number ${i}`, ip: attacker }, clock));

    const limit = SIGN_IN_LIMITS.perClientEmail.limit;
    expect(results.slice(0, limit - 1).map((r) => !r.ok && r.reason)).toEqual(Array(limit - 1).fill('invalid'));
    expect(results.slice(limit - 1).every((r) => !r.ok && r.reason === 'rate_limited')).toBe(true);
    const retryAfter = (results.at(-1) as { retryAfterSeconds: number }).retryAfterSeconds;
    expect(retryAfter).toBeGreaterThan(SIGN_IN_LIMITS.perClientEmail.windowSeconds - 60);

    // The owner, from anywhere else: no refusal, no wait.
    const owner = recordingSleep();
    const started = performance.now();
    const fromElsewhere = await authenticate(db, { email: admin.email, password: SEED_PASSWORD, ip: clientAddress() }, owner);
    const elapsed = performance.now() - started;
    expect(fromElsewhere).toMatchObject({ ok: true, user: { id: admin.id, role: 'admin' } });
    expect(owner.waits).toEqual([]);
    expect(elapsed).toBeLessThan(1_000);

    // The attacking client, even with the right password, until its window has passed.
    expect(await authenticate(db, { email: admin.email, password: SEED_PASSWORD, ip: attacker }, clock)).toMatchObject({ ok: false, reason: 'rate_limited' });
    await endWindow(`sign-in:client-email:${attacker}:${admin.email}`, SIGN_IN_LIMITS.perClientEmail.windowSeconds - 5);
    expect(await authenticate(db, { email: admin.email, password: SEED_PASSWORD, ip: attacker }, clock)).toMatchObject({ ok: false, reason: 'rate_limited' });
    await endWindow(`sign-in:client-email:${attacker}:${admin.email}`, 10);
    expect(await authenticate(db, { email: admin.email, password: SEED_PASSWORD, ip: attacker }, clock)).toMatchObject({ ok: true });
  }, 60_000);

  it('guesses spread over many clients only slow each wrong answer down, capped, and never refuse the right password', async () => {
    const { user } = await seedOrganization(db, 'customer');
    const clock = recordingSleep();
    for (let i = 0; i < 12; i++) {
      const result = await authenticate(db, { email: user.email, password: `spread guess ${i}`, ip: clientAddress() }, clock);
      expect(result).toEqual({ ok: false, reason: 'invalid' });
    }
    // 5 free failures, then 250 ms doubling up to the cap.
    expect(clock.waits).toEqual([250, 500, 1_000, 2_000, 3_000, 3_000, 3_000]);
    expect(Math.max(...clock.waits)).toBe(ADDRESS_DELAY.maxMs);

    const owner = recordingSleep();
    expect(await authenticate(db, { email: user.email, password: SEED_PASSWORD, ip: clientAddress() }, owner)).toMatchObject({ ok: true });
    expect(owner.waits).toEqual([]);
  }, 60_000);

  it('the address delay is real: a wrong answer after many failures takes its time', async () => {
    const { user } = await seedOrganization(db, 'customer');
    await db.$executeRaw`INSERT INTO rate_limit_buckets (key, window_start, count) VALUES (${`sign-in:email:${user.email}`}, now(), 6)`;
    const started = performance.now();
    expect(await authenticate(db, { email: user.email, password: 'one more guess', ip: clientAddress() })).toEqual({ ok: false, reason: 'invalid' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(addressDelayMs(7) - 5);
    expect(addressDelayMs(7)).toBe(500);
  });

  it('one client guessing many addresses is refused for all of them, other clients are not', async () => {
    const client = clientAddress();
    const clock = recordingSleep();
    for (let i = 0; i < SIGN_IN_LIMITS.perClient.limit; i++) {
      await authenticate(db, { email: uniqueEmail('spray'), password: 'not it at all', ip: client }, clock);
    }
    const { user } = await seedOrganization(db, 'customer');
    expect(await authenticate(db, { email: user.email, password: SEED_PASSWORD, ip: client })).toMatchObject({ ok: false, reason: 'rate_limited' });
    expect(await authenticate(db, { email: user.email, password: SEED_PASSWORD, ip: clientAddress() })).toMatchObject({ ok: true });
  }, 60_000);

  it('a disabled user is refused with the answer of a wrong password and the failure is counted', async () => {
    const { user } = await seedOrganization(db, 'customer');
    await db.user.update({ where: { id: user.id }, data: { disabledAt: new Date() } });
    const client = clientAddress();
    expect(await authenticate(db, { email: user.email, password: SEED_PASSWORD, ip: client })).toEqual({ ok: false, reason: 'invalid' });
    const bucket = await db.rateLimitBucket.findUnique({ where: { key: `sign-in:client-email:${client}:${user.email}` } });
    expect(bucket?.count).toBe(1);
  });
});
