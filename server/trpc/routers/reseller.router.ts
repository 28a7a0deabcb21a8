import { z } from 'zod';
import { migrationCountsByCustomer } from '../../migrations/migration-counts';
import { addUserSchema, createCustomerSchema } from '../../organizations/schemas';
import { addUser, createCustomer, getOrganization, listOrganizations } from '../../organizations/organizations';
import { createTRPCRouter, resellerProcedure } from '../init';

export const resellerRouter = createTRPCRouter({
  listCustomers: resellerProcedure.query(({ ctx }) => listOrganizations(ctx.db, ctx.scope, { kind: 'customer' })),
  /** Per own customer: how many migrations are active, finished and failed (counts only). */
  migrationCounts: resellerProcedure.query(({ ctx }) => migrationCountsByCustomer(ctx.db, ctx.scope)),
  getCustomer: resellerProcedure
    .input(z.object({ id: z.string().uuid() }))
    .query(({ ctx, input }) => getOrganization(ctx.db, ctx.scope, input.id)),
  /** A reseller's customers are always its own, whatever the browser sends. */
  createCustomer: resellerProcedure
    .input(createCustomerSchema.omit({ resellerId: true }))
    .mutation(({ ctx, input }) => createCustomer(ctx.db, ctx.actor, { ...input, resellerId: ctx.organizationId }, 'tenant')),
  addUser: resellerProcedure.input(addUserSchema).mutation(({ ctx, input }) => addUser(ctx.db, ctx.scope, ctx.actor, input)),
});
