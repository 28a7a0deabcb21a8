import { changeOwnPasswordSchema, updateAccountSchema } from '../../users/schemas';
import { notificationSettingsOf, setNotificationsSchema, setOwnNotifications } from '../../users/notifications';
import { accountOf, changeOwnPassword, updateOwnName } from '../../users/users';
import { managerProcedure } from '../domain-errors';
import { createTRPCRouter } from '../init';

/** The signed-in user's own account: name, password and migration e-mails. */
export const accountRouter = createTRPCRouter({
  get: managerProcedure.query(({ ctx }) => accountOf(ctx.db, ctx.user.id)),
  updateName: managerProcedure.input(updateAccountSchema).mutation(({ ctx, input }) => updateOwnName(ctx.db, ctx.actor, input)),
  changePassword: managerProcedure.input(changeOwnPasswordSchema).mutation(({ ctx, input }) => changeOwnPassword(ctx.db, ctx.actor, input)),
  notifications: managerProcedure.query(({ ctx }) => notificationSettingsOf(ctx.db, ctx.user.id)),
  setNotifications: managerProcedure.input(setNotificationsSchema).mutation(({ ctx, input }) => setOwnNotifications(ctx.db, ctx.actor, input)),
});
