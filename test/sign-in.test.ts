import { describe, expect, it, onTestFinished } from 'vitest';
import { migrateDatabase } from '@/server/database/migrate';
import { createDb } from '@/server/db';
import { authenticate } from '@/server/auth/sign-in';
import { ensureAdmin } from '@/server/auth/bootstrap-admin';
import { verifyPassword } from '@/server/auth/password';
import { freshDatabase, SEED_PASSWORD, seedOrganization, testDb, uniqueEmail } from './helpers/database';

const db = testDb();

describe('sign-in', () => {
  it('accepts the right password, case-insensitively on the email, and records the sign-in', async () => {
    const { user } = await seedOrganization(db, 'customer');
    const result = await authenticate(db, { email: `  ${user.email.toUpperCase()} `, password: SEED_PASSWORD, ip: '198.51.100.7' });
    expect(result).toMatchObject({ ok: true, user: { id: user.id, role: 'customer' } });
    const stored = await db.user.findUniqueOrThrow({ where: { id: user.id }, select: { lastLoginAt: true } });
    expect(stored.lastLoginAt).toBeInstanceOf(Date);
    const events = await db.auditEvent.findMany({ where: { actorUserId: user.id, action: 'auth.sign_in' } });
    expect(events).toHaveLength(1);
  });

  it('answers a wrong password and an unknown email the same way', async () => {
    const { user } = await seedOrganization(db, 'customer');
    expect(await authenticate(db, { email: user.email, password: 'wrong password!' })).toEqual({ ok: false, reason: 'invalid' });
    expect(await authenticate(db, { email: uniqueEmail('nobody'), password: SEED_PASSWORD })).toEqual({ ok: false, reason: 'invalid' });
  });

  it('gives a disabled user the answer of a wrong password, even for the right one', async () => {
    const { user } = await seedOrganization(db, 'customer');
    await db.user.update({ where: { id: user.id }, data: { disabledAt: new Date() } });
    expect(await authenticate(db, { email: user.email, password: SEED_PASSWORD, ip: '198.51.100.8' })).toEqual({ ok: false, reason: 'invalid' });
    await db.user.update({ where: { id: user.id }, data: { disabledAt: null } });
    expect(await authenticate(db, { email: user.email, password: SEED_PASSWORD, ip: '198.51.100.8' })).toMatchObject({ ok: true });
  });
});

describe('first admin', () => {
  it('is created once, from the environment or with a generated password', async () => {
    // An installation of its own: other test files create admins in the shared database.
    const database = await freshDatabase();
    await migrateDatabase(database.url);
    const db = createDb(database.url);
    onTestFinished(async () => {
      await db.$disconnect();
      await database.drop();
    });
    const email = uniqueEmail('admin');
    const first = await ensureAdmin(db, { MAILFERRY_ADMIN_EMAIL: email, MAILFERRY_ADMIN_PASSWORD: 'a long admin password' });
    expect(first).toEqual({ created: true, email, generatedPassword: null });
    expect(await ensureAdmin(db, { MAILFERRY_ADMIN_EMAIL: uniqueEmail('admin'), MAILFERRY_ADMIN_PASSWORD: 'another long one' })).toEqual({ created: false });
    const admin = await db.user.findUniqueOrThrow({ where: { email }, select: { role: true, organizationId: true, passwordHash: true } });
    expect(admin).toMatchObject({ role: 'admin', organizationId: null });
    expect(await verifyPassword(admin.passwordHash, 'a long admin password')).toBe(true);

    await db.user.deleteMany({ where: { role: 'admin' } });
    const generated = await ensureAdmin(db, {});
    expect(generated.created && generated.generatedPassword).toMatch(/^[A-Za-z0-9]{20}$/);
    const result = await authenticate(db, { email: 'admin@mailferry.local', password: (generated as { generatedPassword: string }).generatedPassword });
    expect(result).toMatchObject({ ok: true, user: { role: 'admin' } });
  });
});
