import { changeOwnPasswordSchema, updateAccountSchema } from '../../users/schemas';
import { accountOf, changeOwnPassword, updateOwnName } from '../../users/users';
import { managerProcedure } from '../domain-errors';
import { createTRPCRouter } from '../init';

/** The signed-in user's own account: name and password. */
export const accountRouter = createTRPCRouter({
  get: managerProcedure.query(({ ctx }) => accountOf(ctx.db, ctx.user.id)),
  updateName: managerProcedure.input(updateAccountSchema).mutation(({ ctx, input }) => updateOwnName(ctx.db, ctx.actor, input)),
  changePassword: managerProcedure.input(changeOwnPasswordSchema).mutation(({ ctx, input }) => changeOwnPassword(ctx.db, ctx.actor, input)),
});
