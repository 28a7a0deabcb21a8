import type { Db } from '../db';
import { recordAudit } from '../audit/audit';
import { hashPassword } from '../auth/password';
import type { OrganizationKind, Role } from '../generated/prisma/enums';
import { Prisma } from '../generated/prisma/client';
import type { AddUserInput, CreateCustomerInput, CreateResellerInput } from './schemas';
import type { TenantScope } from './tenant-scope';
import { organizationsVisibleTo } from './tenant-scope';

/**
 * An address that belongs to a user already. Admins are told so; resellers and customers get a
 * sentence that does not say whether the address is used in another organization.
 */
export class EmailTakenError extends Error {
  constructor(
    readonly email: string,
    audience: 'admin' | 'tenant' = 'admin',
  ) {
    super(audience === 'admin' ? `A user with the email ${email} already exists.` : 'This address cannot be used for a new user. Choose another address.');
    this.name = 'EmailTakenError';
  }
}

export class OrganizationNotFoundError extends Error {
  constructor() {
    super('Organization not found.');
    this.name = 'OrganizationNotFoundError';
  }
}

const roleForKind: Record<OrganizationKind, Role> = { reseller: 'reseller', customer: 'customer' };

export interface Actor {
  userId: string;
  ip?: string | null;
}

async function createWithFirstUser(
  db: Db,
  actor: Actor,
  kind: OrganizationKind,
  input: { name: string; resellerId?: string | null; user: CreateResellerInput['user'] },
  audience: 'admin' | 'tenant' = 'admin',
) {
  const passwordHash = await hashPassword(input.user.password);
  try {
    return await db.$transaction(async (tx) => {
      const organization = await tx.organization.create({
        data: { name: input.name, kind, resellerId: input.resellerId ?? null },
        select: { id: true, name: true, kind: true, resellerId: true, createdAt: true },
      });
      const user = await tx.user.create({
        data: { email: input.user.email, name: input.user.name, passwordHash, role: roleForKind[kind], organizationId: organization.id },
        select: { id: true, email: true },
      });
      await recordAudit(tx, {
        action: `organization.create_${kind}`,
        actorUserId: actor.userId,
        organizationId: organization.id,
        targetType: 'organization',
        targetId: organization.id,
        details: { name: organization.name, firstUser: user.email },
        ip: actor.ip,
      });
      return organization;
    });
  } catch (error) {
    throw translateUniqueEmail(error, input.user.email, audience);
  }
}

function translateUniqueEmail(error: unknown, email: string, audience: 'admin' | 'tenant'): unknown {
  if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return new EmailTakenError(email, audience);
  return error;
}

export function createReseller(db: Db, actor: Actor, input: CreateResellerInput) {
  return createWithFirstUser(db, actor, 'reseller', input);
}

/**
 * A customer organization. Admins may attach it to any reseller; a reseller's customers are
 * always its own (the caller passes its organization as `resellerId`).
 */
export async function createCustomer(db: Db, actor: Actor, input: CreateCustomerInput, audience: 'admin' | 'tenant' = 'admin') {
  if (input.resellerId) {
    const reseller = await db.organization.findFirst({ where: { id: input.resellerId, kind: 'reseller', deletedAt: null }, select: { id: true } });
    if (!reseller) throw new OrganizationNotFoundError();
  }
  return createWithFirstUser(db, actor, 'customer', input, audience);
}

/** Adds a user to an organization the scope may manage (its own, or a reseller's customer). */
export async function addUser(db: Db, scope: TenantScope, actor: Actor, input: AddUserInput) {
  const organization = await db.organization.findFirst({
    where: { AND: [{ id: input.organizationId }, organizationsVisibleTo(scope)] },
    select: { id: true, kind: true },
  });
  if (!organization) throw new OrganizationNotFoundError();
  const passwordHash = await hashPassword(input.user.password);
  try {
    return await db.$transaction(async (tx) => {
      const user = await tx.user.create({
        data: {
          email: input.user.email,
          name: input.user.name,
          passwordHash,
          role: roleForKind[organization.kind],
          organizationId: organization.id,
        },
        select: { id: true, email: true, name: true, role: true, createdAt: true },
      });
      await recordAudit(tx, {
        action: 'user.create',
        actorUserId: actor.userId,
        organizationId: organization.id,
        targetType: 'user',
        targetId: user.id,
        details: { email: user.email },
        ip: actor.ip,
      });
      return user;
    });
  } catch (error) {
    throw translateUniqueEmail(error, input.user.email, scope.role === 'admin' ? 'admin' : 'tenant');
  }
}

const organizationListSelect = {
  id: true,
  name: true,
  kind: true,
  createdAt: true,
  reseller: { select: { id: true, name: true } },
  users: { select: { id: true, email: true, name: true, lastLoginAt: true, disabledAt: true }, orderBy: { createdAt: 'asc' } },
  _count: { select: { customers: { where: { deletedAt: null } } } },
} satisfies Prisma.OrganizationSelect;

export function listOrganizations(db: Db, scope: TenantScope, filter: { kind?: OrganizationKind } = {}) {
  return db.organization.findMany({
    where: { AND: [organizationsVisibleTo(scope), filter.kind ? { kind: filter.kind } : {}] },
    select: organizationListSelect,
    orderBy: [{ kind: 'asc' }, { name: 'asc' }],
  });
}

export async function getOrganization(db: Db, scope: TenantScope, id: string) {
  const organization = await db.organization.findFirst({
    where: { AND: [{ id }, organizationsVisibleTo(scope)] },
    select: organizationListSelect,
  });
  if (!organization) throw new OrganizationNotFoundError();
  return organization;
}
