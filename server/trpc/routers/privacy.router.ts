import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { env } from '../../env';
import { serverTimeZoneName } from '../../portal/time-zone';
import { countsBeforeSummary, describeRemoval, removalPreview } from '../../privacy/removal-preview';
import { cancelActiveMigrations, removeOrganizationPersonalData } from '../../privacy/remove-personal-data';
import { authedProcedure, createTRPCRouter } from '../init';

/** Customers leave it out (their own organization); admins name the organization. */
export const privacyTargetSchema = z.object({ organizationId: z.uuid('This is not an organization’s id.').optional() }).optional();

/**
 * "Remove my data": a customer for its own organization, an admin for any. Resellers are not
 * asked (FORBIDDEN); a customer naming another organization finds none (NOT_FOUND).
 */
const privacyProcedure = authedProcedure.input(privacyTargetSchema).use(async ({ ctx, input, next }) => {
  const user = ctx.user;
  let organizationId: string;
  if (user.role === 'admin') {
    if (!input?.organizationId) throw new TRPCError({ code: 'BAD_REQUEST', message: 'Say which organization.' });
    organizationId = input.organizationId;
    const found = await ctx.db.organization.findFirst({ where: { id: organizationId, deletedAt: null }, select: { id: true } });
    if (!found) throw new TRPCError({ code: 'NOT_FOUND', message: 'Organization not found.' });
  } else if (user.role === 'customer' && user.organization) {
    if (input?.organizationId && input.organizationId !== user.organization.id) throw new TRPCError({ code: 'NOT_FOUND', message: 'Organization not found.' });
    organizationId = user.organization.id;
  } else {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'You do not have access to this.' });
  }
  return next({ ctx: { ...ctx, organizationId, role: user.role } });
});

export const privacyRouter = createTRPCRouter({
  /** What a removal would delete and keep (counts), the active migrations in its way, the retention period. */
  overview: privacyProcedure.query(({ ctx }) => removalPreview(ctx.db, ctx.organizationId, { retentionDays: env().MAILFERRY_RETENTION_DAYS })),
  /** Cancels every active migration, as each one's Cancel would: unstarted ones get their unit back. */
  cancelActive: privacyProcedure.mutation(async ({ ctx }) => {
    const results = await cancelActiveMigrations(ctx.db, ctx.organizationId, { userId: ctx.user.id, ip: ctx.ip });
    return { cancelled: results.length, unitsReturned: results.filter((r) => r.isUnitReturned).length };
  }),
  /** Removes the personal data; refused (PRECONDITION_FAILED, naming them) while a migration is active. */
  remove: privacyProcedure.mutation(async ({ ctx }) => {
    const at = new Date();
    const counts = await removeOrganizationPersonalData(ctx.db, ctx.organizationId, {
      actor: { userId: ctx.user.id, role: ctx.role === 'admin' ? 'admin' : 'customer', organizationId: ctx.user.organization?.id ?? null },
      at,
    });
    return { at, removed: describeRemoval(counts) };
  }),
  /** The migrations whose details were removed: how many, when, by month and state. */
  countsBefore: privacyProcedure.query(({ ctx }) => countsBeforeSummary(ctx.db, ctx.organizationId, serverTimeZoneName())),
});
