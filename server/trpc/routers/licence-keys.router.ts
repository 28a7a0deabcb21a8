import { z } from 'zod';
import { issueKeys, keysCsv, listKeys, revokeKey, unusedKeyAllowance } from '../../licensing/keys';
import { withDomainErrors } from '../domain-errors';
import { issueKeysSchema, listKeysSchema } from '../../licensing/schemas';
import { createTRPCRouter, resellerOrAdminProcedure, resellerProcedure } from '../init';

/** The key stock: a reseller manages the keys it issued, an admin every key. */
export const licenceKeysRouter = createTRPCRouter({
  list: resellerOrAdminProcedure.input(listKeysSchema).query(({ ctx, input }) => listKeys(ctx.db, ctx.scope, { resellerId: input?.resellerId })),
  /** A reseller's keys are always its own, whatever the browser sends; an admin chooses the reseller (or none). */
  issue: resellerOrAdminProcedure.input(issueKeysSchema).mutation(({ ctx, input }) =>
    withDomainErrors(() =>
      issueKeys(ctx.db, ctx.actor, {
        size: input.size,
        count: input.count,
        resellerId: ctx.scope.role === 'reseller' ? ctx.scope.organizationId : (input.resellerId ?? null),
      }),
    ),
  ),
  /** Every key the caller manages, as CSV for billing. */
  exportCsv: resellerOrAdminProcedure.query(({ ctx }) => keysCsv(ctx.db, ctx.scope)),
  /** The reseller's cap on unused keys and how many it holds. */
  allowance: resellerProcedure.query(({ ctx }) => unusedKeyAllowance(ctx.db, ctx.organizationId)),
  revoke: resellerOrAdminProcedure.input(z.object({ id: z.string().uuid() })).mutation(({ ctx, input }) => revokeKey(ctx.db, ctx.scope, ctx.actor, input.id)),
});
