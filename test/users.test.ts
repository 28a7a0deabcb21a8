import { describe, expect, it } from 'vitest';
import { loadSessionUser } from '@/server/auth/session-user';
import { authenticate } from '@/server/auth/sign-in';
import { issueKeys } from '@/server/licensing/keys';
import { registerKey } from '@/server/licensing/registration';
import { reserveUnits } from '@/server/licensing/quota';
import { SEED_PASSWORD, seedOrganization, seedUser, testDb, uniqueEmail } from './helpers/database';
import { callerFor, codeOf } from './helpers/trpc';

const db = testDb();

/** A reseller with one customer, a second reseller with its own customer, and an admin. */
async function tenants() {
  const reseller = await seedOrganization(db, 'reseller');
  const customer = await seedOrganization(db, 'customer', reseller.organization.id);
  const otherReseller = await seedOrganization(db, 'reseller');
  const otherCustomer = await seedOrganization(db, 'customer', otherReseller.organization.id);
  const admin = await seedUser(db, 'admin', null);
  return { reseller, customer, otherReseller, otherCustomer, admin };
}

const newUser = () => ({ email: uniqueEmail('added'), name: 'Added Person', password: 'a long new password' });

async function auditActions(targetId: string) {
  const rows = await db.auditEvent.findMany({ where: { targetId }, select: { action: true, details: true }, orderBy: { id: 'asc' } });
  return rows;
}

describe('organization page', () => {
  it('shows name, mode, usage, users and migrations to admin, its reseller and itself; NOT_FOUND to anyone else', async () => {
    const t = await tenants();
    const id = t.customer.organization.id;
    const detail = await (await callerFor(db, t.admin.id)).manage.organization({ id });
    expect(detail).toMatchObject({
      id,
      name: t.customer.organization.name,
      kind: 'customer',
      quota: { mode: 'free', total: 2, used: 0, remaining: 2 },
      usage: { migrationsDone: 0 },
      migrations: { total: 0, active: 0 },
      can: { rename: true, delete: true, setKeyCap: false },
    });
    expect(detail.users.map((u) => u.email)).toEqual([t.customer.user.email]);
    expect(JSON.stringify(detail)).not.toMatch(/passwordHash|argon2/);
    expect((await (await callerFor(db, t.reseller.user.id)).manage.organization({ id })).id).toBe(id);
    const own = await (await callerFor(db, t.customer.user.id)).manage.organization({ id });
    expect(own.can).toEqual({ rename: true, delete: false, setKeyCap: false });

    expect(await codeOf((await callerFor(db, t.otherReseller.user.id)).manage.organization({ id }))).toBe('NOT_FOUND');
    expect(await codeOf((await callerFor(db, t.otherCustomer.user.id)).manage.organization({ id }))).toBe('NOT_FOUND');
    expect(await codeOf((await callerFor(db, t.customer.user.id)).manage.organization({ id: t.reseller.organization.id }))).toBe('NOT_FOUND');
    expect(await codeOf((await callerFor(db, null)).manage.organization({ id }))).toBe('UNAUTHORIZED');
  });

  it('renames for admin, reseller and the customer itself, with an audit entry; another tenant gets NOT_FOUND and nothing changes', async () => {
    const t = await tenants();
    const id = t.customer.organization.id;
    expect(await (await callerFor(db, t.admin.id)).manage.rename({ id, name: 'Renamed by admin' })).toEqual({ id, name: 'Renamed by admin' });
    await (await callerFor(db, t.reseller.user.id)).manage.rename({ id, name: 'Renamed by reseller' });
    await (await callerFor(db, t.customer.user.id)).manage.rename({ id, name: '  Renamed by itself ' });
    expect(await codeOf((await callerFor(db, t.otherReseller.user.id)).manage.rename({ id, name: 'Hijacked' }))).toBe('NOT_FOUND');
    expect(await codeOf((await callerFor(db, t.otherCustomer.user.id)).manage.rename({ id, name: 'Hijacked' }))).toBe('NOT_FOUND');
    expect(await codeOf((await callerFor(db, t.admin.id)).manage.rename({ id, name: 'x' }))).toBe('BAD_REQUEST');
    expect((await db.organization.findUniqueOrThrow({ where: { id } })).name).toBe('Renamed by itself');
    expect((await auditActions(id)).filter((a) => a.action === 'organization.rename').map((a) => a.details)).toEqual([
      { from: t.customer.organization.name, to: 'Renamed by admin' },
      { from: 'Renamed by admin', to: 'Renamed by reseller' },
      { from: 'Renamed by reseller', to: 'Renamed by itself' },
    ]);
  });
});

describe('users of an organization', () => {
  it('are added by admin, reseller and the customer itself; another tenant gets NOT_FOUND', async () => {
    const t = await tenants();
    const id = t.customer.organization.id;
    for (const actor of [t.admin.id, t.reseller.user.id, t.customer.user.id]) {
      const added = await (await callerFor(db, actor)).manage.addUser({ organizationId: id, user: newUser() });
      expect(added.role).toBe('customer');
    }
    expect(await codeOf((await callerFor(db, t.otherReseller.user.id)).manage.addUser({ organizationId: id, user: newUser() }))).toBe('NOT_FOUND');
    expect(await codeOf((await callerFor(db, t.otherCustomer.user.id)).manage.addUser({ organizationId: id, user: newUser() }))).toBe('NOT_FOUND');
    expect(await db.user.count({ where: { organizationId: id } })).toBe(4);
    const added = await db.user.findFirstOrThrow({ where: { organizationId: id, id: { not: t.customer.user.id } }, select: { id: true } });
    expect((await auditActions(added.id)).map((a) => a.action)).toEqual(['user.create']);
  });

  it('an address that exists answers the same to a reseller or customer whether it is in their organization or another', async () => {
    const t = await tenants();
    const id = t.customer.organization.id;
    const sentence = 'This address cannot be used for a new user. Choose another address.';
    for (const actor of [t.reseller.user.id, t.customer.user.id]) {
      const caller = await callerFor(db, actor);
      for (const email of [t.customer.user.email, t.otherCustomer.user.email, t.admin.email]) {
        await expect(caller.manage.addUser({ organizationId: id, user: { ...newUser(), email: email.toUpperCase() } })).rejects.toMatchObject({ code: 'CONFLICT', message: sentence });
      }
    }
    const resellerCaller = await callerFor(db, t.reseller.user.id);
    await expect(
      resellerCaller.reseller.createCustomer({ name: 'Another customer', user: { ...newUser(), email: t.otherCustomer.user.email } }),
    ).rejects.toMatchObject({ code: 'CONFLICT', message: sentence });
    // The admin may know.
    await expect((await callerFor(db, t.admin.id)).manage.addUser({ organizationId: id, user: { ...newUser(), email: t.otherCustomer.user.email } })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `A user with the email ${t.otherCustomer.user.email} already exists.`,
    });
  });

  it('are removed by those who manage them, never the last one or oneself; another tenant gets NOT_FOUND', async () => {
    const t = await tenants();
    const id = t.customer.organization.id;
    const second = await (await callerFor(db, t.admin.id)).manage.addUser({ organizationId: id, user: newUser() });
    const third = await (await callerFor(db, t.admin.id)).manage.addUser({ organizationId: id, user: newUser() });
    expect(await codeOf((await callerFor(db, t.otherReseller.user.id)).manage.removeUser({ userId: second.id }))).toBe('NOT_FOUND');
    expect(await codeOf((await callerFor(db, t.otherCustomer.user.id)).manage.removeUser({ userId: second.id }))).toBe('NOT_FOUND');
    // An admin account belongs to no organization and is not managed here.
    expect(await codeOf((await callerFor(db, t.reseller.user.id)).manage.removeUser({ userId: t.admin.id }))).toBe('NOT_FOUND');
    const self = (await callerFor(db, t.customer.user.id)).manage.removeUser({ userId: t.customer.user.id });
    await expect(self).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining('cannot remove yourself') });

    await (await callerFor(db, t.customer.user.id)).manage.removeUser({ userId: second.id });
    await (await callerFor(db, t.reseller.user.id)).manage.removeUser({ userId: third.id });
    expect(await db.user.count({ where: { id: { in: [second.id, third.id] } } })).toBe(0);
    const last = (await callerFor(db, t.admin.id)).manage.removeUser({ userId: t.customer.user.id });
    await expect(last).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: 'An organization keeps at least one user. Add another user first, or delete the organization.' });
    expect((await auditActions(second.id)).map((a) => a.action)).toEqual(['user.create', 'user.remove']);
  });

  it('a disabled user cannot sign in and its open session ends at the next request; enabled again it can', async () => {
    const t = await tenants();
    const target = t.customer.user;
    const before = await db.user.findUniqueOrThrow({ where: { id: target.id }, select: { sessionVersion: true } });
    expect(await loadSessionUser(db, target.id, before.sessionVersion)).not.toBeNull();

    expect(await codeOf((await callerFor(db, t.otherReseller.user.id)).manage.setUserDisabled({ userId: target.id, disabled: true }))).toBe('NOT_FOUND');
    expect(await codeOf((await callerFor(db, t.otherCustomer.user.id)).manage.setUserDisabled({ userId: target.id, disabled: true }))).toBe('NOT_FOUND');
    expect(await codeOf((await callerFor(db, target.id)).manage.setUserDisabled({ userId: target.id, disabled: true }))).toBe('PRECONDITION_FAILED');

    const disabled = await (await callerFor(db, t.reseller.user.id)).manage.setUserDisabled({ userId: target.id, disabled: true });
    expect(disabled.disabledAt).toBeInstanceOf(Date);
    // The session it had: gone, whatever version it carries; and it cannot start a new one.
    expect(await loadSessionUser(db, target.id, before.sessionVersion)).toBeNull();
    expect(await loadSessionUser(db, target.id)).toBeNull();
    expect(await authenticate(db, { email: target.email, password: SEED_PASSWORD, ip: '192.0.2.77' })).toEqual({ ok: false, reason: 'invalid' });

    await (await callerFor(db, t.admin.id)).manage.setUserDisabled({ userId: target.id, disabled: false });
    // The old session stays ended; a new sign-in works and carries the new version.
    expect(await loadSessionUser(db, target.id, before.sessionVersion)).toBeNull();
    const signedIn = await authenticate(db, { email: target.email, password: SEED_PASSWORD, ip: '192.0.2.77' });
    expect(signedIn).toMatchObject({ ok: true, user: { sessionVersion: before.sessionVersion + 1 } });
    expect(await loadSessionUser(db, target.id, before.sessionVersion + 1)).not.toBeNull();
    expect((await auditActions(target.id)).map((a) => a.action)).toEqual(['user.disable', 'user.enable']);
  });

  it('gets a new password, generated and shown once or typed; its sessions end; never in the audit log', async () => {
    const t = await tenants();
    const target = t.customer.user;
    expect(await codeOf((await callerFor(db, t.otherReseller.user.id)).manage.setUserPassword({ userId: target.id }))).toBe('NOT_FOUND');
    expect(await codeOf((await callerFor(db, t.otherCustomer.user.id)).manage.setUserPassword({ userId: target.id }))).toBe('NOT_FOUND');
    expect(await codeOf((await callerFor(db, target.id)).manage.setUserPassword({ userId: target.id }))).toBe('PRECONDITION_FAILED');
    expect(await codeOf((await callerFor(db, t.reseller.user.id)).manage.setUserPassword({ userId: target.id, password: 'short' }))).toBe('BAD_REQUEST');

    const generated = await (await callerFor(db, t.reseller.user.id)).manage.setUserPassword({ userId: target.id });
    expect(generated.generatedPassword).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(await loadSessionUser(db, target.id, 0)).toBeNull();
    expect(await authenticate(db, { email: target.email, password: SEED_PASSWORD, ip: '192.0.2.78' })).toEqual({ ok: false, reason: 'invalid' });
    expect(await authenticate(db, { email: target.email, password: generated.generatedPassword!, ip: '192.0.2.78' })).toMatchObject({ ok: true });

    const typed = await (await callerFor(db, t.admin.id)).manage.setUserPassword({ userId: target.id, password: 'typed by the admin' });
    expect(typed.generatedPassword).toBeNull();
    expect(await authenticate(db, { email: target.email, password: 'typed by the admin', ip: '192.0.2.78' })).toMatchObject({ ok: true });
    const audit = await auditActions(target.id);
    expect(audit.map((a) => a.action)).toEqual(['user.set_password', 'user.set_password']);
    expect(JSON.stringify(audit)).not.toContain(generated.generatedPassword!);
    expect(JSON.stringify(audit)).not.toContain('typed by the admin');
  });
});

describe('deleting an organization', () => {
  it('is refused while a migration is active or units are held, in words; then deletes users and migrations and keeps counts and licences', async () => {
    const t = await tenants();
    const id = t.customer.organization.id;
    const { keys } = await issueKeys(db, null, { resellerId: t.reseller.organization.id, size: 5, count: 1 });
    await registerKey(db, { organizationId: id, actor: { userId: t.customer.user.id } }, { key: keys[0]!.key });
    const reserved = await reserveUnits(db, id, 1);
    expect(reserved.ok).toBe(true);
    const active = await db.migration.create({ data: { organizationId: id, startAt: new Date(), state: 'scheduled' }, select: { id: true } });
    await db.quotaReservation.update({ where: { id: (reserved as { reservations: { id: string }[] }).reservations[0]!.id }, data: { migrationId: active.id } });
    await db.organizationUsage.update({ where: { organizationId: id }, data: { migrationsDone: 3 } });
    const name = t.customer.organization.name;

    const admin = await callerFor(db, t.admin.id);
    expect(await codeOf((await callerFor(db, t.otherReseller.user.id)).manage.deleteOrganization({ id, confirmName: name }))).toBe('NOT_FOUND');
    expect(await codeOf((await callerFor(db, t.customer.user.id)).manage.deleteOrganization({ id, confirmName: name }))).toBe('PRECONDITION_FAILED');
    await expect(admin.manage.deleteOrganization({ id, confirmName: 'wrong name' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(admin.manage.deleteOrganization({ id, confirmName: name })).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: `${name} has 1 active migration. Cancel it or wait until it ends, then delete the organization.`,
    });
    await db.migration.update({ where: { id: active.id }, data: { state: 'finished', finishedAt: new Date() } });
    await db.quotaReservation.updateMany({ where: { organizationId: id }, data: { state: 'used' } });
    const extra = await reserveUnits(db, id, 1);
    await expect(admin.manage.deleteOrganization({ id, confirmName: name })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining('mass migration') });
    await db.quotaReservation.updateMany({ where: { id: (extra as { reservations: { id: string }[] }).reservations[0]!.id }, data: { state: 'used' } });

    const usageBefore = await db.organizationUsage.findUniqueOrThrow({ where: { organizationId: id } });
    const deleted = await (await callerFor(db, t.reseller.user.id)).manage.deleteOrganization({ id, confirmName: name });
    expect(deleted).toMatchObject({ id, name, users: 1, migrations: 1 });
    expect(await db.user.count({ where: { organizationId: id } })).toBe(0);
    expect(await db.migration.count({ where: { organizationId: id } })).toBe(0);
    expect(await db.organizationUsage.findUniqueOrThrow({ where: { organizationId: id } })).toMatchObject({
      freeUnits: usageBefore.freeUnits,
      commercialUnits: usageBefore.commercialUnits,
      migrationsDone: 3,
    });
    expect(await db.licenceKey.count({ where: { organizationId: id, registeredAt: { not: null } } })).toBe(1);
    // Gone for everyone, the admin included; the reseller's key list still shows the use.
    expect(await codeOf(admin.manage.organization({ id }))).toBe('NOT_FOUND');
    expect((await admin.admin.listOrganizations()).some((o) => o.id === id)).toBe(false);
    const { keys: listed } = await (await callerFor(db, t.reseller.user.id)).licenceKeys.list();
    expect(listed.find((k) => k.organization?.id === id)).toMatchObject({ state: 'registered', used: 2, organization: { name } });
    expect(await authenticate(db, { email: t.customer.user.email, password: SEED_PASSWORD, ip: '192.0.2.79' })).toEqual({ ok: false, reason: 'invalid' });
    expect((await auditActions(id)).map((a) => a.action)).toContain('organization.delete');
  });

  it('refuses a reseller that still has customers and revokes the unused keys of one that has none', async () => {
    const t = await tenants();
    const admin = await callerFor(db, t.admin.id);
    const reseller = t.reseller.organization;
    await expect(admin.manage.deleteOrganization({ id: reseller.id, confirmName: reseller.name })).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: `${reseller.name} still has 1 customer. Delete it first.`,
    });
    expect(await codeOf((await callerFor(db, t.reseller.user.id)).manage.deleteOrganization({ id: reseller.id, confirmName: reseller.name }))).toBe('PRECONDITION_FAILED');
    await admin.manage.deleteOrganization({ id: t.customer.organization.id, confirmName: t.customer.organization.name });
    await issueKeys(db, null, { resellerId: reseller.id, size: 10, count: 2 });
    await admin.manage.deleteOrganization({ id: reseller.id, confirmName: reseller.name });
    expect(await db.licenceKey.count({ where: { resellerId: reseller.id, revokedAt: null } })).toBe(0);
  });
});

describe('account', () => {
  it('changes its own name, and its password with the current one; every older session ends', async () => {
    const { user } = await seedOrganization(db, 'customer');
    const caller = await callerFor(db, user.id);
    expect(await caller.account.updateName({ name: ' Clara Customer ' })).toEqual({ id: user.id, name: 'Clara Customer' });
    expect((await caller.account.get()).name).toBe('Clara Customer');

    await expect(caller.account.changePassword({ currentPassword: 'not the current one', newPassword: 'a brand new password' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: 'This is not your current password.',
    });
    await caller.account.changePassword({ currentPassword: SEED_PASSWORD, newPassword: 'a brand new password' });
    expect(await loadSessionUser(db, user.id, 0)).toBeNull();
    expect(await authenticate(db, { email: user.email, password: 'a brand new password', ip: '192.0.2.80' })).toMatchObject({ ok: true, user: { sessionVersion: 1 } });
    expect((await auditActions(user.id)).map((a) => a.action)).toEqual(['user.update_own_name', 'user.change_own_password']);
    expect(await codeOf((await callerFor(db, null)).account.get())).toBe('UNAUTHORIZED');
  });

  it('limits guesses of the current password, even the right one once over the limit', async () => {
    const { user } = await seedOrganization(db, 'customer');
    const caller = await callerFor(db, user.id);
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push(await codeOf(caller.account.changePassword({ currentPassword: `guess ${i}`, newPassword: 'a brand new password' })));
    expect(codes).toEqual(['BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST', 'TOO_MANY_REQUESTS']);
    expect(await codeOf(caller.account.changePassword({ currentPassword: SEED_PASSWORD, newPassword: 'a brand new password' }))).toBe('TOO_MANY_REQUESTS');
  });
});

describe('licence keys for billing', () => {
  it('admins export every reseller’s keys as CSV with state and usage; a reseller only its own; customers not at all', async () => {
    const t = await tenants();
    const { keys } = await issueKeys(db, null, { resellerId: t.reseller.organization.id, size: 10, count: 2 });
    await issueKeys(db, null, { resellerId: t.otherReseller.organization.id, size: 5, count: 1 });
    await registerKey(db, { organizationId: t.customer.organization.id, actor: { userId: t.customer.user.id } }, { key: keys[0]!.key });
    const reserved = await reserveUnits(db, t.customer.organization.id, 3);
    expect(reserved.ok).toBe(true);

    const admin = await (await callerFor(db, t.admin.id)).licenceKeys.exportCsv();
    const lines = admin.csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('Reseller,Key,Migrations,State,Issued,Registered to,Registered at,Migrations used,Revoked at');
    const ownLines = lines.filter((l) => l.startsWith(`${t.reseller.organization.name},`));
    expect(ownLines).toHaveLength(2);
    const registered = ownLines.find((l) => l.includes(',registered,'))!;
    expect(registered).toContain(`,10,registered,`);
    expect(registered).toContain(`,${t.customer.organization.name},`);
    expect(registered.split(',')[7]).toBe('3');
    expect(lines.some((l) => l.startsWith(`${t.otherReseller.organization.name},`))).toBe(true);
    expect(admin.csv).not.toContain(keys[0]!.key);

    const own = await (await callerFor(db, t.reseller.user.id)).licenceKeys.exportCsv();
    expect(own.rows).toBe(2);
    expect(own.csv).not.toContain(t.otherReseller.organization.name);
    expect(await codeOf((await callerFor(db, t.customer.user.id)).licenceKeys.exportCsv())).toBe('FORBIDDEN');
  });

  it('a reseller at its cap of unused keys is told the numbers; no cap by default; only admins set it', async () => {
    const t = await tenants();
    const reseller = await callerFor(db, t.reseller.user.id);
    expect(await reseller.licenceKeys.allowance()).toEqual({ cap: null, unused: 0, room: null });
    await reseller.licenceKeys.issue({ size: 5, count: 3 });
    expect(await codeOf(reseller.manage.setUnusedKeyCap({ resellerId: t.reseller.organization.id, cap: 100 }))).toBe('NOT_FOUND');
    expect(await codeOf((await callerFor(db, t.customer.user.id)).manage.setUnusedKeyCap({ resellerId: t.reseller.organization.id, cap: 100 }))).toBe('NOT_FOUND');
    const admin = await callerFor(db, t.admin.id);
    expect(await codeOf(admin.manage.setUnusedKeyCap({ resellerId: t.customer.organization.id, cap: 5 }))).toBe('NOT_FOUND');
    await admin.manage.setUnusedKeyCap({ resellerId: t.reseller.organization.id, cap: 5 });
    expect(await reseller.licenceKeys.allowance()).toEqual({ cap: 5, unused: 3, room: 2 });
    await expect(reseller.licenceKeys.issue({ size: 5, count: 3 })).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringContaining('You may hold at most 5 unused keys and hold 3 now, so at most 2 more can be issued (you asked for 3).'),
    });
    await reseller.licenceKeys.issue({ size: 5, count: 2 });
    await expect(reseller.licenceKeys.issue({ size: 5, count: 1 })).rejects.toMatchObject({ message: expect.stringContaining('so no more can be issued') });
    // Concurrent issues never get past the cap together.
    await admin.manage.setUnusedKeyCap({ resellerId: t.reseller.organization.id, cap: 7 });
    const results = await Promise.allSettled([reseller.licenceKeys.issue({ size: 5, count: 2 }), reseller.licenceKeys.issue({ size: 5, count: 2 })]);
    // One fits, the other is told why; any other outcome shows its reasons here.
    const outcomes = results.map((r) => (r.status === 'fulfilled' ? 'issued' : String((r.reason as Error).message)));
    expect(outcomes.filter((o) => o === 'issued')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'issued')).toEqual([expect.stringContaining('You may hold at most 7 unused keys and hold 7 now')]);
    expect(await db.licenceKey.count({ where: { resellerId: t.reseller.organization.id, registeredAt: null, revokedAt: null } })).toBe(7);
    await admin.manage.setUnusedKeyCap({ resellerId: t.reseller.organization.id, cap: null });
    await reseller.licenceKeys.issue({ size: 5, count: 1 });
    expect((await db.auditEvent.findMany({ where: { action: 'reseller.set_unused_key_cap', targetId: t.reseller.organization.id }, orderBy: { id: 'asc' } })).map((a) => a.details)).toEqual([
      { from: null, to: 5 },
      { from: 5, to: 7 },
      { from: 7, to: null },
    ]);
  });
});
