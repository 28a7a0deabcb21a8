import { migrationReceipts, migrationReceiptsSchema, receiptsListSchema, receiptsOrganizationFor, receiptsPage } from '../../privacy/receipt-views';
import { serverTimeZoneName } from '../../portal/time-zone';
import { managerProcedure } from '../domain-errors';
import { createTRPCRouter, customerProcedure } from '../init';

/** Deletion receipts: what was deleted, when, by which event (counts only), and whether the chain holds. */
export const receiptsRouter = createTRPCRouter({
  /** A customer's own organization, or any organization for an admin; newest first, with the chain's verdict. */
  list: managerProcedure.input(receiptsListSchema).query(async ({ ctx, input }) => {
    const organization = await receiptsOrganizationFor(ctx.db, ctx.user, input.organizationId);
    const zone = serverTimeZoneName();
    return { organization, zone, ...(await receiptsPage(ctx.db, organization.id, input, zone)) };
  }),
  /** One migration's receipts, scoped like the migration's page: another organization's is NOT_FOUND. */
  forMigration: customerProcedure.input(migrationReceiptsSchema).query(({ ctx, input }) => migrationReceipts(ctx.db, ctx.organizationId, input.migrationId, serverTimeZoneName())),
});
