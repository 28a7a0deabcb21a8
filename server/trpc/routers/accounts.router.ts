import { checkPairForOrganization } from '../../accounts/check-service';
import {
  deleteMicrosoft365Connection,
  describeMicrosoft365Connection,
  microsoft365ConnectionSchema,
  saveMicrosoft365Connection,
} from '../../accounts/microsoft365-connection';
import { accountPairSchema } from '../../accounts/schemas';
import { keyRing } from '../../crypto/runtime';
import { createTRPCRouter, customerProcedure } from '../init';

export const accountsRouter = createTRPCRouter({
  /** Live login check of a source and a target account; says which side failed and why. */
  checkPair: customerProcedure
    .input(accountPairSchema)
    .mutation(({ ctx, input }) => checkPairForOrganization(ctx.db, { userId: ctx.user.id, organizationId: ctx.organizationId, role: ctx.user.role }, input)),

  microsoft365: customerProcedure.query(({ ctx }) => describeMicrosoft365Connection(ctx.db, ctx.organizationId)),
  saveMicrosoft365: customerProcedure
    .input(microsoft365ConnectionSchema)
    .mutation(async ({ ctx, input }) => {
      await saveMicrosoft365Connection(ctx.db, await keyRing(), ctx.actor, ctx.organizationId, input);
      return describeMicrosoft365Connection(ctx.db, ctx.organizationId);
    }),
  deleteMicrosoft365: customerProcedure.mutation(({ ctx }) => deleteMicrosoft365Connection(ctx.db, ctx.actor, ctx.organizationId)),
});
