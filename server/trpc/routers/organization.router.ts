import { organizationMode } from '../../licensing/quota';
import { createTRPCRouter, customerProcedure } from '../init';

export const organizationRouter = createTRPCRouter({
  /** The customer's own organization and its mode (free or commercial). */
  current: customerProcedure.query(async ({ ctx }) => ({
    id: ctx.organizationId,
    name: ctx.user.organization!.name,
    mode: await organizationMode(ctx.db, ctx.organizationId),
  })),
});
