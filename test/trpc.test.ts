import { describe, expect, it } from 'vitest';
import { isCsrfSafe } from '@/server/trpc/http';
import { seedOrganization, seedUser, testDb, uniqueEmail } from './helpers/database';
import { callerFor, codeOf } from './helpers/trpc';

const db = testDb();



const newUser = () => ({ email: uniqueEmail('new'), password: 'twelve chars or more' });

describe('tRPC procedures and tenant scoping', () => {
  it('requires a session, and the right role, for each procedure builder', async () => {
    const anonymous = await callerFor(db, null);
    expect(await anonymous.session.me()).toBeNull();
    expect(await codeOf(anonymous.admin.listOrganizations())).toBe('UNAUTHORIZED');
    expect(await codeOf(anonymous.reseller.listCustomers())).toBe('UNAUTHORIZED');
    expect(await codeOf(anonymous.organization.current())).toBe('UNAUTHORIZED');

    const customer = await seedOrganization(db, 'customer');
    const asCustomer = await callerFor(db, customer.user.id);
    expect(await codeOf(asCustomer.admin.listOrganizations())).toBe('FORBIDDEN');
    expect(await codeOf(asCustomer.reseller.listCustomers())).toBe('FORBIDDEN');
    expect(await asCustomer.organization.current()).toEqual({ id: customer.organization.id, name: customer.organization.name, mode: 'free' });

    const reseller = await seedOrganization(db, 'reseller');
    expect(await codeOf((await callerFor(db, reseller.user.id)).admin.createReseller({ name: 'Sneaky', user: newUser() }))).toBe('FORBIDDEN');
  });

  it('lets a reseller create and see only its own customers; another tenant id is NOT_FOUND', async () => {
    const resellerA = await seedOrganization(db, 'reseller');
    const resellerB = await seedOrganization(db, 'reseller');
    const asA = await callerFor(db, resellerA.user.id);
    const asB = await callerFor(db, resellerB.user.id);

    const created = await asA.reseller.createCustomer({ name: 'Alpha Hosting', user: newUser() });
    // Whatever the browser might add, a reseller's customer belongs to that reseller.
    const stored = await db.organization.findUniqueOrThrow({ where: { id: created.id } });
    expect(stored).toMatchObject({ kind: 'customer', resellerId: resellerA.organization.id });

    expect((await asA.reseller.listCustomers()).map((o) => o.id)).toContain(created.id);
    expect((await asB.reseller.listCustomers()).map((o) => o.id)).not.toContain(created.id);
    expect(await codeOf(asB.reseller.getCustomer({ id: created.id }))).toBe('NOT_FOUND');
    expect(await codeOf(asB.reseller.addUser({ organizationId: created.id, user: newUser() }))).toBe('NOT_FOUND');
    expect((await asA.reseller.getCustomer({ id: created.id })).name).toBe('Alpha Hosting');
    const added = await asA.reseller.addUser({ organizationId: created.id, user: newUser() });
    expect(added.role).toBe('customer');
  });

  it('lets an admin create resellers and customers under them, and never returns password hashes', async () => {
    const admin = await seedUser(db, 'admin', null);
    const asAdmin = await callerFor(db, admin.id);
    const reseller = await asAdmin.admin.createReseller({ name: 'Resell Ltd', user: newUser() });
    const customer = await asAdmin.admin.createCustomer({ name: 'Shop GmbH', resellerId: reseller.id, user: newUser() });
    const all = await asAdmin.admin.listOrganizations();
    const listed = all.find((o) => o.id === customer.id)!;
    expect(listed.reseller).toEqual({ id: reseller.id, name: 'Resell Ltd' });
    expect(JSON.stringify(all)).not.toMatch(/passwordHash|argon2/);
    expect(await codeOf(asAdmin.admin.createCustomer({ name: 'Orphan', resellerId: customer.id, user: newUser() }))).toBe('NOT_FOUND');

    const audit = await db.auditEvent.findMany({ where: { actorUserId: admin.id }, select: { action: true } });
    expect(audit.map((a) => a.action).sort()).toEqual(['organization.create_customer', 'organization.create_reseller']);
  });

  it('refuses a second user with the same email, whatever its case, and creates nothing', async () => {
    const admin = await seedUser(db, 'admin', null);
    const asAdmin = await callerFor(db, admin.id);
    const user = newUser();
    await asAdmin.admin.createReseller({ name: 'First', user });
    const before = await db.organization.count();
    expect(await codeOf(asAdmin.admin.createReseller({ name: 'Second', user: { ...user, email: user.email.toUpperCase() } }))).toBe('CONFLICT');
    expect(await db.organization.count()).toBe(before);
  });

  it('rejects invalid input with field errors', async () => {
    const admin = await seedUser(db, 'admin', null);
    const asAdmin = await callerFor(db, admin.id);
    expect(await codeOf(asAdmin.admin.createReseller({ name: 'x', user: { email: 'not-an-email', password: 'short' } }))).toBe('BAD_REQUEST');
  });
});

describe('CSRF guard', () => {
  const post = (type: string | null) =>
    new Request('http://localhost/api/trpc/admin.createReseller', { method: 'POST', headers: type ? { 'content-type': type } : {}, body: '{}' });
  it('accepts JSON posts and reads, and refuses posts a cross-site form could send', () => {
    expect(isCsrfSafe(post('application/json'))).toBe(true);
    expect(isCsrfSafe(post('application/json; charset=utf-8'))).toBe(true);
    expect(isCsrfSafe(new Request('http://localhost/api/trpc/session.me'))).toBe(true);
    expect(isCsrfSafe(post('text/plain'))).toBe(false);
    expect(isCsrfSafe(post('application/x-www-form-urlencoded'))).toBe(false);
    expect(isCsrfSafe(post('multipart/form-data; boundary=x'))).toBe(false);
    expect(isCsrfSafe(post(null))).toBe(false);
  });
});
