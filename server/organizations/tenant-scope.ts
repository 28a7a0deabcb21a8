import type { Prisma } from '../generated/prisma/client';

/**
 * Who is asking, reduced to what decides which tenants they may see. Every query that reads
 * an organization's data goes through `organizationsVisibleTo`, so the rule lives here only.
 */
export type TenantScope =
  | { role: 'admin' }
  | { role: 'reseller'; organizationId: string }
  | { role: 'customer'; organizationId: string };

/** A deleted organization (its row kept for its counts and licences) is visible to nobody. */
export function organizationsVisibleTo(scope: TenantScope): Prisma.OrganizationWhereInput {
  switch (scope.role) {
    case 'admin':
      return { deletedAt: null };
    case 'reseller':
      return { deletedAt: null, OR: [{ id: scope.organizationId }, { resellerId: scope.organizationId }] };
    case 'customer':
      return { deletedAt: null, id: scope.organizationId };
  }
}

/** Where-clause for rows that carry an `organizationId` (migrations, licences, ...). */
export function ownedBy(scope: TenantScope): { organizationId?: string; organization?: Prisma.OrganizationWhereInput } {
  return scope.role === 'admin' ? {} : { organization: organizationsVisibleTo(scope) };
}
