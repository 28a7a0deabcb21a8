import { TRPCError } from '@trpc/server';
import type { core } from 'zod';
import { DomainError, type DomainMeaning } from '../users/errors';
import { authedProcedure } from './init';
import type { TenantScope } from '../organizations/tenant-scope';

const codeFor = {
  not_found: 'NOT_FOUND',
  conflict: 'CONFLICT',
  precondition: 'PRECONDITION_FAILED',
  invalid: 'BAD_REQUEST',
  rate_limited: 'TOO_MANY_REQUESTS',
} as const satisfies Record<DomainMeaning, TRPCError['code']>;

/** A DomainError becomes its tRPC code with its sentence; an `invalid` one with a field also a field error for forms. */
export function toTrpcError(error: DomainError): TRPCError {
  if (error.meaning === 'invalid' && error.field) {
    const issues: core.$ZodIssue[] = [{ code: 'custom', path: [error.field], message: error.message, input: undefined }];
    return new TRPCError({ code: 'BAD_REQUEST', message: error.message, cause: Object.assign(new Error(error.message), { issues }) });
  }
  return new TRPCError({ code: codeFor[error.meaning], message: error.message });
}

/**
 * Any signed-in user with the scope of its role, for procedures that every role may call on
 * what it manages (its organization, a reseller's customers, everything for admins).
 */
export const managerProcedure = authedProcedure.use(async ({ ctx, next }) => {
  const user = ctx.user;
  if (user.role !== 'admin' && !user.organization) throw new TRPCError({ code: 'FORBIDDEN', message: 'Your account has no organization.' });
  const scope: TenantScope = user.role === 'admin' ? { role: 'admin' } : { role: user.role, organizationId: user.organization!.id };
  const result = await next({ ctx: { ...ctx, scope, actor: { userId: user.id, ip: ctx.ip } } });
  if (!result.ok && result.error.cause instanceof DomainError) result.error = toTrpcError(result.error.cause);
  return result;
});

/** For procedures built on other builders: a DomainError thrown by `run` becomes its tRPC error. */
export async function withDomainErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw error instanceof DomainError ? toTrpcError(error) : error;
  }
}
