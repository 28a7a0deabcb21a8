import { auditActionsInUse, auditLogFilterOf, auditLogInputSchema, auditOrganizations, listAuditEvents } from '../../audit/audit-log';
import { env } from '../../env';
import { serverTimeZoneName } from '../../portal/time-zone';
import { withDomainErrors } from '../domain-errors';
import { adminProcedure, createTRPCRouter } from '../init';

/** The installation's audit log: admins only (a customer or reseller gets FORBIDDEN). */
export const auditRouter = createTRPCRouter({
  list: adminProcedure.input(auditLogInputSchema).query(({ ctx, input }) =>
    withDomainErrors(() => {
      const zone = serverTimeZoneName();
      return listAuditEvents(ctx.db, auditLogFilterOf(input, zone), { zone, retentionDays: env().MAILFERRY_RETENTION_DAYS });
    }),
  ),
  actions: adminProcedure.query(({ ctx }) => auditActionsInUse(ctx.db)),
  organizations: adminProcedure.query(({ ctx }) => auditOrganizations(ctx.db)),
});
