import { quotaOf } from '../../licensing/quota';
import { listLicences, registerKey } from '../../licensing/registration';
import { installKeySchema } from '../../licensing/schemas';
import { createTRPCRouter, customerProcedure } from '../init';

/** A customer's own licences and quota. */
export const licensingRouter = createTRPCRouter({
  /** Mode, remaining and total migrations, for the migration forms. */
  quota: customerProcedure.query(({ ctx }) => quotaOf(ctx.db, ctx.organizationId)),
  /** Every registered licence (masked key, size, registered at, usage) and the totals. */
  licences: customerProcedure.query(({ ctx }) => listLicences(ctx.db, ctx.organizationId)),
  /** Install key: validate and register to the caller's organization, as one step. */
  install: customerProcedure
    .input(installKeySchema)
    .mutation(({ ctx, input }) => registerKey(ctx.db, { organizationId: ctx.organizationId, actor: ctx.actor }, input)),
});
