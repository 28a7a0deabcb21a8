import { z } from 'zod';
import { adminMigrationListSchema, listAllMigrations } from '../../migrations/admin-list';
import { addUserSchema, createCustomerSchema, createResellerSchema } from '../../organizations/schemas';
import { addUser, createCustomer, createReseller, getOrganization, listOrganizations } from '../../organizations/organizations';
import { serverTimeZoneName } from '../../portal/time-zone';
import { adminProcedure, createTRPCRouter } from '../init';

export const adminRouter = createTRPCRouter({
  listOrganizations: adminProcedure
    .input(z.object({ kind: z.enum(['reseller', 'customer']).optional() }).optional())
    .query(({ ctx, input }) => listOrganizations(ctx.db, ctx.scope, { kind: input?.kind })),
  getOrganization: adminProcedure
    .input(z.object({ id: z.string().uuid() }))
    .query(({ ctx, input }) => getOrganization(ctx.db, ctx.scope, input.id)),
  createReseller: adminProcedure.input(createResellerSchema).mutation(({ ctx, input }) => createReseller(ctx.db, ctx.actor, input)),
  createCustomer: adminProcedure.input(createCustomerSchema).mutation(({ ctx, input }) => createCustomer(ctx.db, ctx.actor, input)),
  addUser: adminProcedure.input(addUserSchema).mutation(({ ctx, input }) => addUser(ctx.db, ctx.scope, ctx.actor, input)),
  /** Every organization's migrations, a page at a time: addresses, types, state and counts, never a login. */
  listMigrations: adminProcedure.input(adminMigrationListSchema).query(({ ctx, input }) => listAllMigrations(ctx.db, input, serverTimeZoneName())),
});
