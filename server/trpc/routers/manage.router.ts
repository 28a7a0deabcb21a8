import { setUnusedKeyCap } from '../../licensing/keys';
import { addUser } from '../../organizations/organizations';
import { addUserSchema } from '../../organizations/schemas';
import {
  deleteOrganizationSchema,
  organizationIdSchema,
  renameOrganizationSchema,
  setUserDisabledSchema,
  setUserPasswordSchema,
  unusedKeyCapSchema,
  userIdSchema,
} from '../../users/schemas';
import { deleteOrganization, organizationDetail, removeUser, renameOrganization, setUserDisabled, setUserPassword } from '../../users/users';
import { managerProcedure } from '../domain-errors';
import { createTRPCRouter } from '../init';

/**
 * An organization and its users, for whoever manages them: admins every organization, a reseller
 * its own and its customers, a customer its own. Anything else answers NOT_FOUND.
 */
export const manageRouter = createTRPCRouter({
  organization: managerProcedure.input(organizationIdSchema).query(({ ctx, input }) => organizationDetail(ctx.db, ctx.scope, input.id)),
  rename: managerProcedure.input(renameOrganizationSchema).mutation(({ ctx, input }) => renameOrganization(ctx.db, ctx.scope, ctx.actor, input)),
  deleteOrganization: managerProcedure.input(deleteOrganizationSchema).mutation(({ ctx, input }) => deleteOrganization(ctx.db, ctx.scope, ctx.actor, input)),
  addUser: managerProcedure.input(addUserSchema).mutation(({ ctx, input }) => addUser(ctx.db, ctx.scope, ctx.actor, input)),
  removeUser: managerProcedure.input(userIdSchema).mutation(({ ctx, input }) => removeUser(ctx.db, ctx.scope, ctx.actor, input.userId)),
  setUserDisabled: managerProcedure.input(setUserDisabledSchema).mutation(({ ctx, input }) => setUserDisabled(ctx.db, ctx.scope, ctx.actor, input)),
  setUserPassword: managerProcedure.input(setUserPasswordSchema).mutation(({ ctx, input }) => setUserPassword(ctx.db, ctx.scope, ctx.actor, input)),
  /** Admins only; anyone else is told the reseller does not exist. */
  setUnusedKeyCap: managerProcedure.input(unusedKeyCapSchema).mutation(({ ctx, input }) => setUnusedKeyCap(ctx.db, ctx.scope, ctx.actor, input)),
});
