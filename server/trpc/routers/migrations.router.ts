import { keyRing } from '../../crypto/runtime';
import { cancelMigration } from '../../migrations/cancel-migration';
import { finishedListSchema, getMigration, listFinishedMigrations, listMigrations } from '../../migrations/list-migrations';
import { getMigrationDetail } from '../../migrations/migration-detail';
import { listNotCopied, notCopiedSchema } from '../../migrations/not-copied';
import { migrationIdSchema, migrationInputSchema, migrationListSchema } from '../../migrations/schemas';
import { submitMigration } from '../../migrations/submit-migration';
import { serverTimeZoneName } from '../../portal/time-zone';
import { createTRPCRouter, customerProcedure } from '../init';

/** A customer's migrations: always the caller's organization, never a password in an answer. */
export const migrationsRouter = createTRPCRouter({
  /** Checks both logins, then reserves a unit and schedules the migration; or says which side failed. */
  create: customerProcedure
    .input(migrationInputSchema)
    .mutation(({ ctx, input }) =>
      submitMigration(ctx.db, keyRing, { userId: ctx.user.id, organizationId: ctx.organizationId, ip: ctx.ip, role: ctx.user.role }, input, { zone: serverTimeZoneName() }),
    ),
  list: customerProcedure.input(migrationListSchema).query(({ ctx, input }) => listMigrations(ctx.db, ctx.organizationId, input.list, serverTimeZoneName())),
  /** Ended migrations a page at a time, by finished date, optionally narrowed by an address prefix. */
  finished: customerProcedure.input(finishedListSchema).query(({ ctx, input }) => listFinishedMigrations(ctx.db, ctx.organizationId, input, serverTimeZoneName())),
  get: customerProcedure.input(migrationIdSchema).query(({ ctx, input }) => getMigration(ctx.db, ctx.organizationId, input.id, serverTimeZoneName())),
  /** Per-folder counts, what was not copied and why, renamed folders and notices. */
  detail: customerProcedure.input(migrationIdSchema).query(({ ctx, input }) => getMigrationDetail(ctx.db, ctx.organizationId, input.id, serverTimeZoneName())),
  /** The items not copied (folder, UID, size, date, reason), a page at a time. */
  notCopied: customerProcedure.input(notCopiedSchema).query(({ ctx, input }) => listNotCopied(ctx.db, ctx.organizationId, input)),
  cancel: customerProcedure
    .input(migrationIdSchema)
    .mutation(({ ctx, input }) => cancelMigration(ctx.db, { userId: ctx.user.id, organizationId: ctx.organizationId, ip: ctx.ip }, input.id)),
});
