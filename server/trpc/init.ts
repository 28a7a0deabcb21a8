import { initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { ZodError, type core } from 'zod';
import type { SessionUser } from '../auth/session-user';
import { db, type Db } from '../db';
import type { TenantScope } from '../organizations/tenant-scope';
import { CheckRateLimitedError } from '../accounts/check-service';
import { NetworkSettingsError } from '../accounts/network-settings';
import { EmailTakenError, OrganizationNotFoundError } from '../organizations/organizations';
import { failureMessage } from '../accounts/messages';
import { HostedMailboxExistsError, HostedMailboxNotFoundError } from '../hosted-mailboxes/hosted-mailboxes';
import { KeyNotRevocableError, LicenceKeyNotFoundError } from '../licensing/keys';
import { QuotaExhaustedError, ReservationNotFoundError } from '../licensing/quota';
import { KeyRegistrationError } from '../licensing/registration';
import { MigrationFieldError, MigrationNotCancellableError, MigrationNotFoundError } from '../migrations/errors';
import { createLogger } from '../logger';
import { MigrationStillActiveError, NotYourOrganizationError, OrganizationHasActiveMigrationsError } from '../privacy/remove-personal-data';

const log = createLogger('trpc');

export interface TRPCContext {
  db: Db;
  user: SessionUser | null;
  ip: string | null;
}

export function createContext(input: { user: SessionUser | null; ip?: string | null; db?: Db }): TRPCContext {
  return { db: input.db ?? db, user: input.user, ip: input.ip ?? null };
}

/**
 * zod 4's ZodError is not an Error, so TRPCError keeps a copy of it (with its `issues`) rather
 * than the instance itself: recognise it by its issues.
 */
function fieldErrorsOf(cause: unknown) {
  if (cause instanceof ZodError) return cause.flatten();
  const issues = (cause as { issues?: unknown } | undefined)?.issues;
  return Array.isArray(issues) ? new ZodError(issues as core.$ZodIssue[]).flatten() : null;
}

const t = initTRPC.context<TRPCContext>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    return {
      ...shape,
      data: {
        ...shape.data,
        // Field errors for forms; never the stack or a server-side cause.
        zodError: fieldErrorsOf(error.cause),
        stack: undefined,
      },
    };
  },
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Domain errors become the tRPC codes the browser understands; anything else is logged and hidden. */
const errorMapping = t.middleware(async ({ next, path }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof OrganizationNotFoundError) {
      result.error = new TRPCError({ code: 'NOT_FOUND', message: cause.message });
    } else if (cause instanceof EmailTakenError) {
      result.error = new TRPCError({ code: 'CONFLICT', message: cause.message });
    } else if (cause instanceof CheckRateLimitedError) {
      result.error = new TRPCError({ code: 'TOO_MANY_REQUESTS', message: failureMessage('rate_limited', { retryAfterSeconds: cause.retryAfterSeconds }) });
    } else if (cause instanceof NetworkSettingsError) {
      result.error = new TRPCError({ code: 'BAD_REQUEST', message: cause.message });
    } else if (cause instanceof LicenceKeyNotFoundError || cause instanceof ReservationNotFoundError) {
      result.error = new TRPCError({ code: 'NOT_FOUND', message: cause.message });
    } else if (cause instanceof KeyNotRevocableError) {
      result.error = new TRPCError({ code: 'CONFLICT', message: cause.message });
    } else if (cause instanceof KeyRegistrationError) {
      const code = { format: 'BAD_REQUEST', check: 'BAD_REQUEST', unknown: 'NOT_FOUND', revoked: 'CONFLICT', already_registered_here: 'CONFLICT', registered_elsewhere: 'CONFLICT', rate_limited: 'TOO_MANY_REQUESTS' } as const;
      result.error = new TRPCError({ code: code[cause.reason], message: cause.message });
    } else if (cause instanceof HostedMailboxExistsError) {
      result.error = new TRPCError({ code: 'CONFLICT', message: cause.message });
    } else if (cause instanceof HostedMailboxNotFoundError) {
      result.error = new TRPCError({ code: 'NOT_FOUND', message: cause.message });
    } else if (cause instanceof QuotaExhaustedError) {
      result.error = new TRPCError({ code: 'PRECONDITION_FAILED', message: cause.message });
    } else if (cause instanceof MigrationNotFoundError) {
      result.error = new TRPCError({ code: 'NOT_FOUND', message: cause.message });
    } else if (cause instanceof MigrationNotCancellableError) {
      result.error = new TRPCError({ code: 'CONFLICT', message: cause.message });
    } else if (cause instanceof OrganizationHasActiveMigrationsError) {
      // Named, so the customer knows which ones to cancel; stopping ones need only a minute.
      const named = cause.migrations.map((m) => `${m.source || 'a migration'} (${m.isStopping ? 'stopping — try again in a minute' : m.state.replace('_', ' ')})`);
      result.error = new TRPCError({ code: 'PRECONDITION_FAILED', message: named.length > 0 ? `${cause.message} Still active: ${named.join(', ')}.` : cause.message });
    } else if (cause instanceof MigrationStillActiveError) {
      result.error = new TRPCError({ code: 'PRECONDITION_FAILED', message: cause.message });
    } else if (cause instanceof NotYourOrganizationError) {
      result.error = new TRPCError({ code: 'NOT_FOUND', message: 'Organization not found.' });
    } else if (cause instanceof MigrationFieldError) {
      // Shaped like an input validation error, so forms show it on the field.
      const issues: core.$ZodIssue[] = Object.entries(cause.fields).map(([field, message]) => ({ code: 'custom', path: [field], message: message!, input: undefined }));
      result.error = new TRPCError({ code: 'BAD_REQUEST', message: cause.message, cause: Object.assign(new Error(cause.message), { issues }) });
    } else if (result.error.code === 'INTERNAL_SERVER_ERROR') {
      log.error('procedure failed', { path, error: cause ?? result.error });
      result.error = new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'Something went wrong on our side. Please try again.' });
    }
  }
  return result;
});

export const publicProcedure = t.procedure.use(errorMapping);

export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Please sign in.' });
  return next({ ctx: { ...ctx, user: ctx.user } });
});

function scopeOf(user: SessionUser): TenantScope {
  if (user.role === 'admin') return { role: 'admin' };
  if (!user.organization) throw new TRPCError({ code: 'FORBIDDEN', message: 'Your account has no organization.' });
  return { role: user.role, organizationId: user.organization.id };
}

function requireRole(...roles: SessionUser['role'][]) {
  return authedProcedure.use(({ ctx, next }) => {
    if (!roles.includes(ctx.user.role)) throw new TRPCError({ code: 'FORBIDDEN', message: 'You do not have access to this.' });
    const scope = scopeOf(ctx.user);
    return next({ ctx: { ...ctx, scope, actor: { userId: ctx.user.id, ip: ctx.ip } } });
  });
}

/** A hosting customer, scoped to its own organization. */
export const customerProcedure = requireRole('customer').use(({ ctx, next }) =>
  next({ ctx: { ...ctx, organizationId: ctx.user.organization!.id } }),
);
/** A reseller's staff, scoped to the reseller and the customers it owns. */
export const resellerProcedure = requireRole('reseller').use(({ ctx, next }) =>
  next({ ctx: { ...ctx, organizationId: ctx.user.organization!.id } }),
);
/** The installation's administrators: every tenant. */
export const adminProcedure = requireRole('admin');
/** Resellers (their own data) and admins (everyone's): `ctx.scope` tells them apart. */
export const resellerOrAdminProcedure = requireRole('reseller', 'admin');
