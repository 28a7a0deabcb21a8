import { z } from 'zod';
import { addHostedMailbox, importHostedMailboxes, listHostedMailboxes, quickSelection, removeHostedMailbox } from '../../hosted-mailboxes/hosted-mailboxes';
import { hostedMailboxSchema, importCsvSchema, listHostedMailboxesSchema, quickSelectionSchema } from '../../hosted-mailboxes/schemas';
import { adminProcedure, createTRPCRouter, customerProcedure } from '../init';

/** Mailboxes hosted on this installation: managed by admins, offered to customers for quick selection. */
export const hostedMailboxesRouter = createTRPCRouter({
  list: adminProcedure.input(listHostedMailboxesSchema).query(({ ctx, input }) => listHostedMailboxes(ctx.db, input)),
  add: adminProcedure.input(hostedMailboxSchema).mutation(({ ctx, input }) => addHostedMailbox(ctx.db, ctx.actor, input)),
  remove: adminProcedure.input(z.object({ id: z.string().uuid() })).mutation(({ ctx, input }) => removeHostedMailbox(ctx.db, ctx.actor, input.id)),
  importCsv: adminProcedure.input(importCsvSchema).mutation(({ ctx, input }) => importHostedMailboxes(ctx.db, ctx.actor, input.text)),
  /** For the migration form: `{ id, email, username, server, type }[]` sorted by email, at most 50. */
  quickSelection: customerProcedure.input(quickSelectionSchema).query(({ ctx, input }) => quickSelection(ctx.db, input?.search)),
});
