import type { Db } from '../db';
import { recordAudit } from '../audit/audit';
import { generatePassword, hashPassword, verifyPassword } from '../auth/password';
import { hit, peek, reset, type RateLimitRule } from '../rate-limit/rate-limit';
import { quotaOf, usageCounts } from '../licensing/quota';
import { ACTIVE_STATES } from '../migrations/lifecycle';
import { OrganizationNotFoundError, type Actor } from '../organizations/organizations';
import { organizationsVisibleTo, type TenantScope } from '../organizations/tenant-scope';
import { DomainError, userNotFound } from './errors';

/** What deleting an organization removes and what it keeps, said before confirming. */
export const ORGANIZATION_DELETION = {
  deletes: [
    'every user of the organization (they can no longer sign in)',
    'its migrations with their addresses, usernames, servers and item reports',
    'its mass migration submissions',
    'its Microsoft 365 connection',
  ],
  keeps: [
    'the organization’s name, with how many migrations it used and ran',
    'its installed licence keys, so the reseller’s key list still shows what was used',
    'the audit log of who did what',
  ],
} as const;

async function visibleOrganization(db: Db, scope: TenantScope, id: string) {
  const organization = await db.organization.findFirst({
    where: { AND: [{ id }, organizationsVisibleTo(scope)] },
    select: { id: true, name: true, kind: true, resellerId: true, unusedKeyCap: true },
  });
  if (!organization) throw new OrganizationNotFoundError();
  return organization;
}

/** A user in an organization the scope manages; admins' own accounts belong to no organization and are not managed here. */
async function visibleUser(db: Db, scope: TenantScope, userId: string) {
  const user = await db.user.findFirst({
    where: { id: userId, organization: organizationsVisibleTo(scope) },
    select: { id: true, email: true, name: true, organizationId: true, disabledAt: true },
  });
  if (!user || !user.organizationId) throw userNotFound();
  return { ...user, organizationId: user.organizationId };
}

/** The organization page: name, mode, licences and usage, users, migrations. */
export async function organizationDetail(db: Db, scope: TenantScope, id: string) {
  const organization = await db.organization.findFirst({
    where: { AND: [{ id }, organizationsVisibleTo(scope)] },
    select: {
      id: true,
      name: true,
      kind: true,
      createdAt: true,
      unusedKeyCap: true,
      reseller: { select: { id: true, name: true } },
      users: {
        select: { id: true, email: true, name: true, lastLoginAt: true, disabledAt: true, createdAt: true },
        orderBy: [{ createdAt: 'asc' }, { email: 'asc' }],
      },
      _count: { select: { customers: { where: { deletedAt: null } } } },
    },
  });
  if (!organization) throw new OrganizationNotFoundError();
  const isReseller = organization.kind === 'reseller';
  const [quota, usage, migrations, activeMigrations, licences, unusedKeys, registeredKeys] = await Promise.all([
    isReseller ? null : quotaOf(db, id),
    usageCounts(db, id),
    db.migration.count({ where: { organizationId: id } }),
    db.migration.count({ where: { organizationId: id, state: { in: [...ACTIVE_STATES] } } }),
    db.licenceKey.count({ where: { organizationId: id, registeredAt: { not: null } } }),
    isReseller ? db.licenceKey.count({ where: { resellerId: id, registeredAt: null, revokedAt: null } }) : 0,
    isReseller ? db.licenceKey.count({ where: { resellerId: id, registeredAt: { not: null } } }) : 0,
  ]);
  const isOwn = scope.role !== 'admin' && scope.organizationId === id;
  return {
    ...organization,
    quota,
    usage,
    licences,
    migrations: { total: migrations, active: activeMigrations },
    /** Resellers: the keys it issued that nobody installed yet, and those installed. */
    issuedKeys: isReseller ? { unused: unusedKeys, registered: registeredKeys } : null,
    can: {
      // A customer may rename its organization and manage its users; deleting is for whoever created it.
      rename: true,
      delete: !isOwn,
      setKeyCap: scope.role === 'admin' && organization.kind === 'reseller',
    },
    deletion: isReseller
      ? { deletes: [...ORGANIZATION_DELETION.deletes.slice(0, 1), 'its unused licence keys (revoked, so they can no longer be installed)'], keeps: ORGANIZATION_DELETION.keeps }
      : ORGANIZATION_DELETION,
  };
}

export async function renameOrganization(db: Db, scope: TenantScope, actor: Actor, input: { id: string; name: string }) {
  const organization = await visibleOrganization(db, scope, input.id);
  if (organization.name === input.name) return { id: organization.id, name: organization.name };
  return db.$transaction(async (tx) => {
    const updated = await tx.organization.update({ where: { id: organization.id }, data: { name: input.name }, select: { id: true, name: true } });
    await recordAudit(tx, {
      action: 'organization.rename',
      actorUserId: actor.userId,
      organizationId: organization.id,
      targetType: 'organization',
      targetId: organization.id,
      details: { from: organization.name, to: updated.name },
      ip: actor.ip,
    });
    return updated;
  });
}

/**
 * Deletes an organization's users and personal data; the row stays with its name, licences and
 * usage counts (ORGANIZATION_DELETION). Refused while a migration is active or units are held,
 * for a reseller that still has customers, and for the caller's own organization.
 */
export async function deleteOrganization(db: Db, scope: TenantScope, actor: Actor, input: { id: string; confirmName: string }) {
  const organization = await visibleOrganization(db, scope, input.id);
  if (scope.role !== 'admin' && scope.organizationId === organization.id) {
    throw new DomainError('precondition', 'You cannot delete your own organization. Ask whoever created it.');
  }
  if (input.confirmName !== organization.name) {
    throw new DomainError('invalid', `Type the organization’s name, ${organization.name}, to confirm.`, 'confirmName');
  }
  return db.$transaction(async (tx) => {
    // Lock the usage row first: reservations and registrations of this organization wait for it.
    await tx.$executeRaw`SELECT 1 FROM organizations WHERE id = ${organization.id}::uuid FOR UPDATE`;
    const [active, held, customers] = await Promise.all([
      tx.migration.count({ where: { organizationId: organization.id, state: { in: [...ACTIVE_STATES] } } }),
      tx.quotaReservation.count({ where: { organizationId: organization.id, state: 'reserved' } }),
      tx.organization.count({ where: { resellerId: organization.id, deletedAt: null } }),
    ]);
    if (active > 0) {
      throw new DomainError(
        'precondition',
        `${organization.name} has ${active} active migration${active === 1 ? '' : 's'}. Cancel ${active === 1 ? 'it' : 'them'} or wait until ${active === 1 ? 'it ends' : 'they end'}, then delete the organization.`,
      );
    }
    if (held > 0) {
      throw new DomainError('precondition', `${organization.name} has a mass migration still being checked. Wait until it is done, then delete the organization.`);
    }
    if (customers > 0) {
      throw new DomainError('precondition', `${organization.name} still has ${customers} customer${customers === 1 ? '' : 's'}. Delete ${customers === 1 ? 'it' : 'them'} first.`);
    }
    const [users, migrations] = await Promise.all([
      tx.user.deleteMany({ where: { organizationId: organization.id } }),
      tx.migration.deleteMany({ where: { organizationId: organization.id } }),
    ]);
    await tx.massSubmission.deleteMany({ where: { organizationId: organization.id } });
    await tx.microsoft365Connection.deleteMany({ where: { organizationId: organization.id } });
    await tx.quotaReservation.deleteMany({ where: { organizationId: organization.id } });
    // A deleted reseller sells nothing more: its keys nobody installed are revoked.
    const revoked = await tx.licenceKey.updateMany({ where: { resellerId: organization.id, registeredAt: null, revokedAt: null }, data: { revokedAt: new Date() } });
    await tx.organization.update({ where: { id: organization.id }, data: { deletedAt: new Date() } });
    await recordAudit(tx, {
      action: 'organization.delete',
      actorUserId: actor.userId,
      organizationId: organization.id,
      targetType: 'organization',
      targetId: organization.id,
      details: { name: organization.name, users: users.count, migrations: migrations.count, keysRevoked: revoked.count },
      ip: actor.ip,
    });
    return { id: organization.id, name: organization.name, users: users.count, migrations: migrations.count };
  });
}

export async function removeUser(db: Db, scope: TenantScope, actor: Actor, userId: string) {
  const user = await visibleUser(db, scope, userId);
  if (user.id === actor.userId) throw new DomainError('precondition', 'You cannot remove yourself. Ask another user of your organization, or your administrator.');
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT 1 FROM organizations WHERE id = ${user.organizationId}::uuid FOR UPDATE`;
    const others = await tx.user.count({ where: { organizationId: user.organizationId, id: { not: user.id } } });
    if (others === 0) throw new DomainError('precondition', 'An organization keeps at least one user. Add another user first, or delete the organization.');
    await tx.user.delete({ where: { id: user.id } });
    await recordAudit(tx, {
      action: 'user.remove',
      actorUserId: actor.userId,
      organizationId: user.organizationId,
      targetType: 'user',
      targetId: user.id,
      details: { email: user.email },
      ip: actor.ip,
    });
    return { id: user.id };
  });
}

/** Disabling ends the user's sessions at their next request; enabling lets it sign in again. */
export async function setUserDisabled(db: Db, scope: TenantScope, actor: Actor, input: { userId: string; disabled: boolean }) {
  const user = await visibleUser(db, scope, input.userId);
  if (user.id === actor.userId) throw new DomainError('precondition', 'You cannot disable yourself.');
  if (!!user.disabledAt === input.disabled) return { id: user.id, disabledAt: user.disabledAt };
  return db.$transaction(async (tx) => {
    const updated = await tx.user.update({
      where: { id: user.id },
      data: input.disabled ? { disabledAt: new Date(), sessionVersion: { increment: 1 } } : { disabledAt: null },
      select: { id: true, disabledAt: true },
    });
    await recordAudit(tx, {
      action: input.disabled ? 'user.disable' : 'user.enable',
      actorUserId: actor.userId,
      organizationId: user.organizationId,
      targetType: 'user',
      targetId: user.id,
      details: { email: user.email },
      ip: actor.ip,
    });
    return updated;
  });
}

/**
 * A new password for another user, typed or generated; the generated one is returned this once
 * for the admin to pass on. The user's sessions end.
 */
export async function setUserPassword(db: Db, scope: TenantScope, actor: Actor, input: { userId: string; password?: string }) {
  const user = await visibleUser(db, scope, input.userId);
  if (user.id === actor.userId) throw new DomainError('precondition', 'Change your own password on your Account page.');
  const generated = input.password ? null : generatePassword();
  const passwordHash = await hashPassword(input.password ?? generated!);
  await db.$transaction(async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { passwordHash, sessionVersion: { increment: 1 } } });
    await recordAudit(tx, {
      action: 'user.set_password',
      actorUserId: actor.userId,
      organizationId: user.organizationId,
      targetType: 'user',
      targetId: user.id,
      details: { email: user.email, generated: generated !== null },
      ip: actor.ip,
    });
  });
  return { id: user.id, email: user.email, generatedPassword: generated };
}

// ---------------------------------------------------------------------------------------------
// The signed-in user's own account.

export async function accountOf(db: Db, userId: string) {
  return db.user.findUniqueOrThrow({
    where: { id: userId },
    select: { id: true, email: true, name: true, role: true, lastLoginAt: true, createdAt: true, organization: { select: { id: true, name: true, kind: true } } },
  });
}

export async function updateOwnName(db: Db, actor: Actor, input: { name: string }) {
  return db.$transaction(async (tx) => {
    const user = await tx.user.update({ where: { id: actor.userId }, data: { name: input.name || null }, select: { id: true, name: true, organizationId: true } });
    await recordAudit(tx, { action: 'user.update_own_name', actorUserId: actor.userId, organizationId: user.organizationId, targetType: 'user', targetId: user.id, ip: actor.ip });
    return { id: user.id, name: user.name };
  });
}

/** Guessing the current password from a stolen session is as limited as guessing at sign-in. */
export const CURRENT_PASSWORD_LIMIT = { limit: 5, windowSeconds: 15 * 60 } satisfies RateLimitRule;

/**
 * Changes the signed-in user's password when the current one matches. Every session of the user
 * ends, this one too: the browser signs in again with the new password at once, so it stays.
 */
export async function changeOwnPassword(db: Db, actor: Actor, input: { currentPassword: string; newPassword: string }) {
  const key = `account-password:${actor.userId}`;
  const limited = (retryAfterSeconds: number) => {
    const minutes = Math.ceil(retryAfterSeconds / 60);
    return new DomainError('rate_limited', `Too many wrong current passwords. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`);
  };
  const before = await peek(db, key, CURRENT_PASSWORD_LIMIT);
  if (before.isLimited) throw limited(before.retryAfterSeconds);
  const user = await db.user.findUniqueOrThrow({ where: { id: actor.userId }, select: { id: true, passwordHash: true, organizationId: true } });
  if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
    const state = await hit(db, key, CURRENT_PASSWORD_LIMIT);
    if (state.count >= CURRENT_PASSWORD_LIMIT.limit) throw limited(state.retryAfterSeconds);
    throw new DomainError('invalid', 'This is not your current password.', 'currentPassword');
  }
  if (input.currentPassword === input.newPassword) throw new DomainError('invalid', 'Choose a password different from the current one.', 'newPassword');
  const passwordHash = await hashPassword(input.newPassword);
  await db.$transaction(async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { passwordHash, sessionVersion: { increment: 1 } } });
    await recordAudit(tx, { action: 'user.change_own_password', actorUserId: user.id, organizationId: user.organizationId, targetType: 'user', targetId: user.id, ip: actor.ip });
  });
  await reset(db, key);
  return { ok: true as const };
}
