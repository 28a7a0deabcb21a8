import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { CHECK_LIMITS, CheckRateLimitedError, consumeCheckAllowance } from '@/server/accounts/check-service';
import { loadMicrosoft365Credentials } from '@/server/accounts/microsoft365-connection';
import { keyRing } from '@/server/crypto/runtime';
import { seedOrganization, seedUser, testDb } from './helpers/database';
import { callerFor, codeOf } from './helpers/trpc';

const db = testDb();



const connection = { tenantId: 'contoso.onmicrosoft.com', clientId: '11111111-2222-3333-4444-555555555555', clientSecret: 'very~secret~value~123' };

describe('Microsoft 365 connection', () => {
  it('stores the client secret sealed, never returns it, and keeps it to its organization', async () => {
    const a = await seedOrganization(db, 'customer');
    const b = await seedOrganization(db, 'customer');
    const asA = await callerFor(db, a.user.id);
    const saved = await asA.accounts.saveMicrosoft365(connection);
    expect(saved).toMatchObject({ tenantId: connection.tenantId, clientId: connection.clientId });
    expect(JSON.stringify(saved)).not.toContain('secret');

    const row = await db.microsoft365Connection.findUniqueOrThrow({ where: { organizationId: a.organization.id } });
    expect(row.clientSecretSealed).not.toContain(connection.clientSecret);
    expect(row.clientSecretSealed).toMatch(/^v1\.test\./);
    expect(await loadMicrosoft365Credentials(db, await keyRing(), a.organization.id)).toEqual(connection);
    // The sealed value is bound to its organization: copied to another, it does not open.
    await db.microsoft365Connection.create({ data: { ...row, organizationId: b.organization.id } });
    await expect(loadMicrosoft365Credentials(db, await keyRing(), b.organization.id)).rejects.toThrow(/Cannot open a sealed secret/);

    expect(await (await callerFor(db, b.user.id)).accounts.microsoft365()).toMatchObject({ tenantId: connection.tenantId });
    await asA.accounts.deleteMicrosoft365();
    expect(await asA.accounts.microsoft365()).toBeNull();
  });

  it('validates the ids before saving', async () => {
    const a = await seedOrganization(db, 'customer');
    expect(await codeOf((await callerFor(db, a.user.id)).accounts.saveMicrosoft365({ ...connection, clientId: 'not-a-guid' }))).toBe('BAD_REQUEST');
  });
});

describe('network settings', () => {
  it('are for admins only, validated, and saved', async () => {
    const customer = await seedOrganization(db, 'customer');
    expect(await codeOf((await callerFor(db, customer.user.id)).settings.network())).toBe('FORBIDDEN');
    const admin = await callerFor(db, (await seedUser(db, 'admin', null)).id);
    expect(await codeOf(admin.settings.updateNetwork({ allowedHosts: 'not a host!!', insecureHosts: '', trustedCaPem: null }))).toBe('BAD_REQUEST');
    expect(await codeOf(admin.settings.updateNetwork({ allowedHosts: '', insecureHosts: '', trustedCaPem: 'garbage' }))).toBe('BAD_REQUEST');
    const saved = await admin.settings.updateNetwork({ allowedHosts: 'mail.internal:993\n10.1.0.0/16', insecureHosts: '', trustedCaPem: null });
    expect(saved.allowedHosts).toBe('mail.internal:993\n10.1.0.0/16');
    expect((await admin.settings.network()).allowedHosts).toBe('mail.internal:993\n10.1.0.0/16');
    await admin.settings.updateNetwork({ allowedHosts: '', insecureHosts: '', trustedCaPem: null });
  });
});

describe('credential check limits', () => {
  const account = (n: number) => ({ type: 'imap' as const, email: `u${n}@example.test`, username: `u${n}@example.test`, password: 'x', server: `mail${n}.example.test` });

  it('stop one user after its allowance, with the time to wait', async () => {
    const { user } = await seedOrganization(db, 'customer');
    for (let i = 0; i < CHECK_LIMITS.perUser.limit; i++) await consumeCheckAllowance(db, user.id, [account(1000 + i)]);
    const error = await consumeCheckAllowance(db, user.id, [account(1)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckRateLimitedError);
    expect((error as CheckRateLimitedError).retryAfterSeconds).toBeGreaterThan(500);
  });

  it('stop guessing one account from many users', async () => {
    const target = { ...account(7), username: `victim-${Date.now()}@example.test` };
    let limited = false;
    for (let i = 0; i <= CHECK_LIMITS.perAccount.limit; i++) {
      const { user } = await seedOrganization(db, 'customer');
      limited = await consumeCheckAllowance(db, user.id, [target]).then(() => false, () => true);
    }
    expect(limited).toBe(true);
  });

  it('answer TOO_MANY_REQUESTS through the API with a plain message', async () => {
    const { user } = await seedOrganization(db, 'customer');
    for (let i = 0; i < CHECK_LIMITS.perUser.limit; i++) await consumeCheckAllowance(db, user.id, [account(2000 + i)]);
    const caller = await callerFor(db, user.id);
    const error = await caller.accounts.checkPair({ source: account(1), target: account(2) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe('TOO_MANY_REQUESTS');
    expect((error as TRPCError).message).toMatch(/^Too many checks in a short time\. Try again in \d+ minutes\.$/);
  });
});
