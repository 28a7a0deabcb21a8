import { describe, expect, it } from 'vitest';
import { keysCommand } from '@/server/cli/keys-command';
import type { Db } from '@/server/db';
import { parseEnv } from '@/server/env';
import { formatKey, parseKey } from '@/server/licensing/key-format';
import { hashKeyBody } from '@/server/licensing/key-generation';
import { issueKeys, listKeys, revokeKey } from '@/server/licensing/keys';
import {
  markReservationUsed,
  organizationMode,
  quotaOf,
  releaseReservation,
  requireUnits,
  reserveUnits,
  ReservationStateError,
  usageCounts,
} from '@/server/licensing/quota';
import { KeyRegistrationError, listLicences, registerKey } from '@/server/licensing/registration';
import { inject } from 'vitest';
import { seedOrganization, seedUser, testDb } from './helpers/database';
import { callerFor, codeOf } from './helpers/trpc';

const db = testDb();



async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    if (error instanceof KeyRegistrationError) return error.reason;
    throw error;
  }
}

/** A customer under a fresh reseller, and a way to register keys as that customer. */
async function customerWithReseller() {
  const reseller = await seedOrganization(db, 'reseller');
  const customer = await seedOrganization(db, 'customer', reseller.organization.id);
  const register = (key: string, organizationId = customer.organization.id) =>
    registerKey(db, { organizationId, actor: { userId: customer.user.id } }, { key });
  const issue = async (size: 5 | 10 | 25 | 50 | 100, count = 1) => (await issueKeys(db, null, { resellerId: reseller.organization.id, size, count })).keys;
  return { reseller, customer, register, issue };
}

/** A customer in commercial mode with exactly `units` remaining (licences of 5 and 10 add up). */
async function commercialCustomer(size: 5 | 10 = 5) {
  const setup = await customerWithReseller();
  const [key] = await setup.issue(size);
  await setup.register(key!.key);
  return setup;
}

describe('licence keys', () => {
  it('are issued in the requested size and number, stored only as a hash', async () => {
    const { reseller, issue } = await customerWithReseller();
    const keys = await issue(25, 3);
    expect(keys).toHaveLength(3);
    expect(new Set(keys.map((k) => k.key)).size).toBe(3);
    const stored = await db.licenceKey.findMany({ where: { resellerId: reseller.organization.id } });
    expect(stored).toHaveLength(3);
    for (const row of stored) {
      expect(row.size).toBe(25);
      expect(JSON.stringify(row)).not.toMatch(/MF-/);
      const plain = keys.find((k) => k.id === row.id)!.key;
      const parsed = parseKey(plain);
      expect(parsed.ok && hashKeyBody(parsed.body)).toBe(row.keyHash);
      expect(plain.endsWith(row.lastGroup)).toBe(true);
    }
    // The database refuses sizes that are not sold.
    await expect(db.licenceKey.create({ data: { keyHash: 'x', lastGroup: 'ABCDE', size: 7 } })).rejects.toThrow();
  });

  it('registers a key typed sloppily, switches the organization to commercial mode and adds up licences', async () => {
    const { customer, register, issue } = await customerWithReseller();
    const organizationId = customer.organization.id;
    expect(await organizationMode(db, organizationId)).toBe('free');
    expect(await quotaOf(db, organizationId)).toEqual({ mode: 'free', total: 2, used: 0, remaining: 2 });

    const [ten] = await issue(10);
    const [five] = await issue(5);
    const first = await register(` ${ten!.key.toLowerCase().replaceAll('-', ' ')} `);
    expect(first.becameCommercial).toBe(true);
    expect(first.licence).toMatchObject({ size: 10, maskedKey: `MF-•••••-•••••-•••••-${ten!.key.slice(-5)}` });
    expect(await organizationMode(db, organizationId)).toBe('commercial');
    const second = await register(five!.key.replaceAll('-', ''));
    expect(second.becameCommercial).toBe(false);
    expect(second.quota).toEqual({ mode: 'commercial', total: 15, used: 0, remaining: 15 });

    await requireUnits(db, organizationId, 12);
    const listed = await listLicences(db, organizationId);
    expect(listed.totalPurchased).toBe(15);
    expect(listed.quota).toEqual({ mode: 'commercial', total: 15, used: 12, remaining: 3 });
    expect(listed.licences.map((l) => [l.size, l.used])).toEqual([
      [10, 10],
      [5, 2],
    ]);
    expect(await reasonOf(register(ten!.key))).toBe('already_registered_here');
  });

  it('rejects a key with one character changed by its check character, without a database lookup', async () => {
    const { customer, issue } = await customerWithReseller();
    const [key] = await issue(10);
    const body = key!.key.replace(/^MF-/, '').replaceAll('-', '');
    const position = 7;
    const replacement = body[position] === 'K' ? 'M' : 'K';
    const typo = formatKey(body.slice(0, position) + replacement + body.slice(position + 1));

    let touched = 0;
    const noDatabase = new Proxy({} as Db, {
      get() {
        touched++;
        throw new Error('the database was asked');
      },
    });
    const attempt = registerKey(noDatabase, { organizationId: customer.organization.id, actor: { userId: customer.user.id } }, { key: typo });
    await expect(attempt).rejects.toMatchObject({ reason: 'check', message: expect.stringContaining('typo') });
    expect(touched).toBe(0);

    // Through the API: a clear BAD_REQUEST, and the key itself still registers afterwards.
    const asCustomer = await callerFor(db, customer.user.id);
    await expect(asCustomer.licensing.install({ key: typo })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('typo') });
    expect((await asCustomer.licensing.install({ key: key!.key })).licence.size).toBe(10);
  });

  it('answers a well-formed key that does not exist, and stops after too many failed lookups', async () => {
    const { register, customer } = await customerWithReseller();
    const asCustomer = await callerFor(db, customer.user.id);
    const { keys } = await issueKeys(db, null, { resellerId: null, size: 5, count: 1 });
    await db.licenceKey.delete({ where: { id: keys[0]!.id } });
    await expect(asCustomer.licensing.install({ key: keys[0]!.key })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('does not exist') });
    for (let i = 0; i < 9; i++) expect(await reasonOf(register(keys[0]!.key))).toBe('unknown');
    expect(await reasonOf(register(keys[0]!.key))).toBe('rate_limited');
  });

  it('refuses a revoked key, and a registered key cannot be revoked', async () => {
    const { reseller, customer, register, issue } = await customerWithReseller();
    const [revoked, registered] = await issue(5, 2);
    const actor = { userId: reseller.user.id };
    expect((await revokeKey(db, reseller.scope, actor, revoked!.id)).state).toBe('revoked');
    // Revoking twice changes nothing.
    expect((await revokeKey(db, reseller.scope, actor, revoked!.id)).state).toBe('revoked');
    await expect(register(revoked!.key)).rejects.toMatchObject({ reason: 'revoked', message: expect.stringContaining('revoked') });
    expect(await organizationMode(db, customer.organization.id)).toBe('free');

    await register(registered!.key);
    await expect(revokeKey(db, reseller.scope, actor, registered!.id)).rejects.toThrow(`installed by ${customer.organization.name}`);
    const { keys, summary } = await listKeys(db, reseller.scope);
    expect(summary).toMatchObject({ unused: 0, registered: 1, revoked: 1, registeredUnits: 5 });
    expect(keys.find((k) => k.id === registered!.id)).toMatchObject({ state: 'registered', organization: { id: customer.organization.id } });
  });

  it('lets exactly one of two organizations register the same key at the same moment', async () => {
    for (let round = 0; round < 5; round++) {
      const { reseller, issue } = await customerWithReseller();
      const [key] = await issue(50);
      const a = await seedOrganization(db, 'customer', reseller.organization.id);
      const b = await seedOrganization(db, 'customer');
      const results = await Promise.allSettled(
        [a, b].map((org) => registerKey(db, { organizationId: org.organization.id, actor: { userId: org.user.id } }, { key: key!.key })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const failure = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(failure.reason).toMatchObject({ reason: 'registered_elsewhere', message: expect.stringContaining('another organization') });
      const modes = await Promise.all([a, b].map((org) => organizationMode(db, org.organization.id)));
      expect(modes.sort()).toEqual(['commercial', 'free']);
    }
  });
});

describe('quota reservations', () => {
  it('grants exactly 5 of 20 concurrent reservations against 5 remaining units', async () => {
    const { customer } = await commercialCustomer(5);
    const organizationId = customer.organization.id;
    const results = await Promise.all(Array.from({ length: 20 }, () => reserveUnits(db, organizationId, 1)));
    const granted = results.filter((r) => r.ok);
    expect(granted).toHaveLength(5);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === 'not_enough_units')).toBe(true);
    expect(new Set(granted.flatMap((r) => (r.ok ? r.reservations.map((x) => x.id) : []))).size).toBe(5);
    expect(await quotaOf(db, organizationId)).toEqual({ mode: 'commercial', total: 5, used: 5, remaining: 0 });
    expect(await db.quotaReservation.count({ where: { organizationId, state: 'reserved', pool: 'commercial' } })).toBe(5);
    const refusal = results.find((r) => !r.ok)!;
    expect(!refusal.ok && refusal.message).toBe('All 5 purchased migrations are used up. Install another licence key to migrate more mailboxes.');
  });

  it('grants all or nothing for several units, also when requests of different sizes race', async () => {
    const { customer } = await commercialCustomer(10);
    const organizationId = customer.organization.id;
    const results = await Promise.all([3, 3, 3, 3, 2, 2].map((n) => reserveUnits(db, organizationId, n)));
    const reserved = results.reduce((sum, r) => sum + (r.ok ? r.reservations.length : 0), 0);
    expect(reserved).toBeLessThanOrEqual(10);
    expect((await quotaOf(db, organizationId)).used).toBe(reserved);
    expect(await db.quotaReservation.count({ where: { organizationId } })).toBe(reserved);
    // Whatever order they ran in, each refused request asked for more than was left at its turn.
    expect(results.every((r) => r.ok || r.requested > r.quota.remaining)).toBe(true);
    if (reserved < 10) {
      const tooMany = await reserveUnits(db, organizationId, 10 - reserved + 1);
      expect(tooMany).toMatchObject({ ok: false, reason: 'not_enough_units', message: `This needs ${11 - reserved} migrations, but only ${10 - reserved} of 10 remain.` });
    }
    await requireUnits(db, organizationId, 10 - reserved).catch(() => undefined);
    expect(await quotaOf(db, organizationId)).toMatchObject({ used: 10, remaining: 0 });
  });

  it('never gives free mode more than 2 migrations, however they are asked for', async () => {
    const customer = await seedOrganization(db, 'customer');
    const organizationId = customer.organization.id;
    const burst = await Promise.all(Array.from({ length: 10 }, () => reserveUnits(db, organizationId, 1)));
    expect(burst.filter((r) => r.ok)).toHaveLength(2);
    expect(burst.filter((r) => r.ok).every((r) => r.ok && r.pool === 'free')).toBe(true);
    expect(await quotaOf(db, organizationId)).toEqual({ mode: 'free', total: 2, used: 2, remaining: 0 });
    const refused = await reserveUnits(db, organizationId, 1);
    expect(refused).toMatchObject({ ok: false, message: 'Both free migrations are used up. Install a licence key to migrate more mailboxes.' });

    // Used free migrations stay used; released ones come back, but never beyond 2.
    const [first, second] = burst.flatMap((r) => (r.ok ? r.reservations : []));
    expect(await markReservationUsed(db, first!.id)).toBe(true);
    expect(await releaseReservation(db, second!.id)).toBe(true);
    expect((await quotaOf(db, organizationId)).remaining).toBe(1);
    expect(await reserveUnits(db, organizationId, 2)).toMatchObject({ ok: false });
    expect(await reserveUnits(db, organizationId, 1)).toMatchObject({ ok: true });
    expect(await reserveUnits(db, organizationId, 1)).toMatchObject({ ok: false });
    // Even a bug that bypassed reserveUnits could not write a third free migration.
    await expect(db.organizationUsage.update({ where: { organizationId }, data: { freeUnits: 3 } })).rejects.toThrow();
  });

  it('keeps free usage apart from purchased units', async () => {
    const { customer, register, issue } = await customerWithReseller();
    const organizationId = customer.organization.id;
    expect(await reserveUnits(db, organizationId, 2)).toMatchObject({ ok: true, pool: 'free' });
    const [key] = await issue(5);
    await register(key!.key);
    expect(await quotaOf(db, organizationId)).toEqual({ mode: 'commercial', total: 5, used: 0, remaining: 5 });
    expect(await reserveUnits(db, organizationId, 5)).toMatchObject({ ok: true, pool: 'commercial' });
    expect(await usageCounts(db, organizationId)).toMatchObject({ freeUnits: 2, commercialUnits: 5 });
  });

  it('releases and uses reservations once each, idempotently, and counts migrations done', async () => {
    const { customer } = await commercialCustomer(5);
    const organizationId = customer.organization.id;
    const [a, b] = await requireUnits(db, organizationId, 2);
    // Two workers releasing the same reservation at once: the unit comes back once.
    const releases = await Promise.all([releaseReservation(db, a!.id), releaseReservation(db, a!.id)]);
    expect(releases.sort()).toEqual([false, true]);
    expect((await quotaOf(db, organizationId)).used).toBe(1);
    await expect(markReservationUsed(db, a!.id)).rejects.toBeInstanceOf(ReservationStateError);

    expect(await markReservationUsed(db, b!.id)).toBe(true);
    expect(await markReservationUsed(db, b!.id)).toBe(false);
    await expect(releaseReservation(db, b!.id)).rejects.toBeInstanceOf(ReservationStateError);
    expect(await quotaOf(db, organizationId)).toEqual({ mode: 'commercial', total: 5, used: 1, remaining: 4 });
    expect(await usageCounts(db, organizationId)).toEqual({ freeUnits: 0, commercialUnits: 1, migrationsDone: 1 });
    await expect(releaseReservation(db, '00000000-0000-4000-8000-000000000000')).rejects.toThrow('Reservation not found.');
  });

  it('reserves inside the caller’s transaction, so a failure afterwards gives the units back', async () => {
    const { customer } = await commercialCustomer(5);
    const organizationId = customer.organization.id;
    await expect(
      db.$transaction(async (tx) => {
        await requireUnits(tx, organizationId, 3);
        throw new Error('creating the migrations failed');
      }),
    ).rejects.toThrow('creating the migrations failed');
    expect(await quotaOf(db, organizationId)).toMatchObject({ used: 0, remaining: 5 });
    await expect(requireUnits(db, organizationId, 6)).rejects.toMatchObject({ name: 'QuotaExhaustedError' });
  });

  it('keeps the counts when the reservations (personal data’s neighbours) are removed', async () => {
    const { customer } = await commercialCustomer(10);
    const organizationId = customer.organization.id;
    const reservations = await requireUnits(db, organizationId, 4);
    for (const r of reservations.slice(0, 3)) await markReservationUsed(db, r.id);
    // What a "remove my data" would do to migration rows and their reservations.
    await db.quotaReservation.deleteMany({ where: { organizationId } });
    expect(await usageCounts(db, organizationId)).toEqual({ freeUnits: 0, commercialUnits: 4, migrationsDone: 3 });
    expect((await quotaOf(db, organizationId)).remaining).toBe(6);
    const columns = await db.$queryRaw<{ column_name: string }[]>`
      SELECT column_name FROM information_schema.columns WHERE table_name = 'organization_usage' ORDER BY ordinal_position`;
    expect(columns.map((c) => c.column_name)).toEqual(['organization_id', 'free_units', 'commercial_units', 'migrations_done', 'updated_at']);
  });
});

describe('licensing API and tenant isolation', () => {
  it('lets a reseller issue, list and revoke only its own keys; another reseller’s key is NOT_FOUND', async () => {
    const resellerA = await seedOrganization(db, 'reseller');
    const resellerB = await seedOrganization(db, 'reseller');
    const asA = await callerFor(db, resellerA.user.id);
    const asB = await callerFor(db, resellerB.user.id);

    // Whatever the browser adds, a reseller's keys are its own.
    const issued = await asA.licenceKeys.issue({ size: 10, count: 2, resellerId: resellerB.organization.id });
    expect(issued.reseller?.id).toBe(resellerA.organization.id);
    expect(issued.keys).toHaveLength(2);
    expect((await asA.licenceKeys.list()).keys.map((k) => k.id).sort()).toEqual(issued.keys.map((k) => k.id).sort());
    expect((await asB.licenceKeys.list()).keys).toHaveLength(0);
    // Filters are the admin's; a reseller cannot widen its view with one.
    expect((await asB.licenceKeys.list({ resellerId: resellerA.organization.id })).keys).toHaveLength(0);

    expect(await codeOf(asB.licenceKeys.revoke({ id: issued.keys[0]!.id }))).toBe('NOT_FOUND');
    expect((await db.licenceKey.findUniqueOrThrow({ where: { id: issued.keys[0]!.id } })).revokedAt).toBeNull();
    expect((await asA.licenceKeys.revoke({ id: issued.keys[0]!.id })).state).toBe('revoked');
    expect(JSON.stringify(await asA.licenceKeys.list())).not.toMatch(/keyHash|key_hash/);
  });

  it('does not let customers issue, list or revoke keys', async () => {
    const { customer, issue } = await customerWithReseller();
    const [key] = await issue(5);
    const asCustomer = await callerFor(db, customer.user.id);
    expect(await codeOf(asCustomer.licenceKeys.issue({ size: 5, count: 1 }))).toBe('FORBIDDEN');
    expect(await codeOf(asCustomer.licenceKeys.list())).toBe('FORBIDDEN');
    expect(await codeOf(asCustomer.licenceKeys.revoke({ id: key!.id }))).toBe('FORBIDDEN');
    const reseller = await seedOrganization(db, 'reseller');
    expect(await codeOf((await callerFor(db, reseller.user.id)).licensing.install({ key: key!.key }))).toBe('FORBIDDEN');
  });

  it('lets an admin issue for a chosen reseller or the installation, and see and revoke every key', async () => {
    const admin = await seedUser(db, 'admin', null);
    const asAdmin = await callerFor(db, admin.id);
    const reseller = await seedOrganization(db, 'reseller');
    const forReseller = await asAdmin.licenceKeys.issue({ size: 100, count: 1, resellerId: reseller.organization.id });
    expect(forReseller.reseller?.id).toBe(reseller.organization.id);
    const direct = await asAdmin.licenceKeys.issue({ size: 50, count: 1, resellerId: null });
    expect(direct.reseller).toBeNull();
    const customer = await seedOrganization(db, 'customer');
    expect(await codeOf(asAdmin.licenceKeys.issue({ size: 5, count: 1, resellerId: customer.organization.id }))).toBe('NOT_FOUND');
    expect(await codeOf(asAdmin.licenceKeys.issue({ size: 7 as 5, count: 1 }))).toBe('BAD_REQUEST');
    expect(await codeOf(asAdmin.licenceKeys.issue({ size: 5, count: 101 }))).toBe('BAD_REQUEST');

    const filtered = await asAdmin.licenceKeys.list({ resellerId: reseller.organization.id });
    expect(filtered.keys.map((k) => k.id)).toEqual([forReseller.keys[0]!.id]);
    expect((await asAdmin.licenceKeys.list()).keys.map((k) => k.id)).toEqual(expect.arrayContaining([forReseller.keys[0]!.id, direct.keys[0]!.id]));
    expect((await asAdmin.licenceKeys.revoke({ id: forReseller.keys[0]!.id })).state).toBe('revoked');
    // The reseller sees that its key was revoked.
    expect((await (await callerFor(db, reseller.user.id)).licenceKeys.list()).keys[0]).toMatchObject({ state: 'revoked' });
  });

  it('answers clear codes for every installation failure and reports the quota', async () => {
    const { customer, reseller, issue } = await customerWithReseller();
    const asCustomer = await callerFor(db, customer.user.id);
    const other = await seedOrganization(db, 'customer');
    const asOther = await callerFor(db, other.user.id);
    const [key, revoked] = await issue(10, 2);
    await revokeKey(db, reseller.scope, { userId: reseller.user.id }, revoked!.id);

    expect(await asCustomer.licensing.quota()).toEqual({ mode: 'free', total: 2, used: 0, remaining: 2 });
    expect(await codeOf(asCustomer.licensing.install({ key: 'MF-12345' }))).toBe('BAD_REQUEST');
    expect(await codeOf(asCustomer.licensing.install({ key: revoked!.key }))).toBe('CONFLICT');
    expect((await asCustomer.licensing.install({ key: key!.key })).becameCommercial).toBe(true);
    expect(await codeOf(asOther.licensing.install({ key: key!.key }))).toBe('CONFLICT');
    expect(await asCustomer.organization.current()).toMatchObject({ mode: 'commercial' });
    expect(await asOther.organization.current()).toMatchObject({ mode: 'free' });
    const licences = await asCustomer.licensing.licences();
    expect(licences.licences).toHaveLength(1);
    expect(licences.quota).toEqual({ mode: 'commercial', total: 10, used: 0, remaining: 10 });
    expect((await asOther.licensing.licences()).licences).toHaveLength(0);
  });
});

describe('keys command line', () => {
  const run = async (argv: string[]) => {
    const lines: string[] = [];
    const [sub, ...rest] = argv;
    const options: Record<string, string | true> = {};
    for (let i = 0; i < rest.length; i += 2) options[rest[i]!.replace(/^--/, '')] = rest[i + 1]!;
    const code = await keysCommand.run({ env: parseEnv({ DATABASE_URL: inject('databaseUrl') }), args: [sub!], options, out: (line) => lines.push(line) });
    return { code, lines };
  };

  it('issues keys for a reseller named by one of its users, one key a line, and lists them', async () => {
    const reseller = await seedOrganization(db, 'reseller');
    const issued = await run(['issue', '--size', '10', '--count', '3', '--reseller', reseller.user.email.toUpperCase()]);
    expect(issued.code).toBe(0);
    expect(issued.lines).toHaveLength(3);
    for (const line of issued.lines) expect(parseKey(line)).toMatchObject({ ok: true, key: line });
    const stored = await db.licenceKey.findMany({ where: { resellerId: reseller.organization.id } });
    expect(stored.map((k) => k.size)).toEqual([10, 10, 10]);

    const listed = await run(['list', '--reseller', reseller.user.email]);
    expect(listed.code).toBe(0);
    expect(listed.lines.join('\n')).toContain(issued.lines[0]!.slice(-5));
    expect(listed.lines.join('\n')).toMatch(/unused/);
  });

  it('refuses a wrong size, a customer’s email and an unknown email', async () => {
    const customer = await seedOrganization(db, 'customer');
    const reseller = await seedOrganization(db, 'reseller');
    const wrongSize = await run(['issue', '--size', '7', '--count', '1', '--reseller', reseller.user.email]);
    expect(wrongSize.code).toBe(2);
    expect(wrongSize.lines.join('\n')).toContain('5, 10, 25, 50, 100');
    expect((await run(['issue', '--size', '5', '--count', '1', '--reseller', customer.user.email])).code).toBe(1);
    expect((await run(['issue', '--size', '5', '--count', '1', '--reseller', 'nobody@example.test'])).code).toBe(1);
    expect(await db.licenceKey.count({ where: { resellerId: reseller.organization.id } })).toBe(0);
  });
});
