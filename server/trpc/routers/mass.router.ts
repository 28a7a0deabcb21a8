import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { keyRing } from '../../crypto/runtime';
import { organizationMode, quotaOf } from '../../licensing/quota';
import { massCheckContext } from '../../migrations/mass/context';
import { submitMassMigration } from '../../migrations/mass/submit';
import { latestMassSubmission, massSubmissionStatus } from '../../migrations/mass/submit-status';
import { MAX_MASS_BYTES } from '../../migrations/mass/types';
import { serverTimeZone, serverTimeZoneName } from '../../portal/time-zone';
import { createTRPCRouter, customerProcedure } from '../init';

/**
 * A text a little over the byte limit still reaches the submission, which names the limit and
 * the count in words; far beyond it the request is refused before any parsing.
 */
export const massSubmitSchema = z.object({ text: z.string().max(MAX_MASS_BYTES + 100_000, 'The text is far over the limit of 2 MB per submission.') });
export const massSubmissionIdSchema = z.object({ id: z.string().uuid() });

/** Mass migration belongs to commercial mode: a free organization is refused in words. */
const commercialProcedure = customerProcedure.use(async ({ ctx, next }) => {
  if ((await organizationMode(ctx.db, ctx.organizationId)) !== 'commercial') {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Mass migration is available once a licence key is installed.' });
  }
  return next();
});

/** Many migrations from one pasted list: always the caller's organization, never a password in an answer. */
export const massRouter = createTRPCRouter({
  /** What the formal check in the browser needs besides `now`, and the quota. */
  context: commercialProcedure.query(async ({ ctx }) => {
    const zone = serverTimeZone();
    const [check, quota] = await Promise.all([massCheckContext(ctx.db, ctx.organizationId, { zone: zone.name, now: new Date() }), quotaOf(ctx.db, ctx.organizationId)]);
    return { zone: check.zone, zoneOffset: zone.offset, active: check.active, microsoft365: check.microsoft365, hosts: check.hosts, quota };
  }),
  /** Checks the text again, reserves the units and queues the login check; or says why not. */
  submit: commercialProcedure
    .input(massSubmitSchema)
    .mutation(({ ctx, input }) =>
      submitMassMigration(ctx.db, keyRing, { userId: ctx.user.id, organizationId: ctx.organizationId, ip: ctx.ip }, input.text, { zone: serverTimeZoneName() }),
    ),
  /** Progress and per-line outcome of one submission. */
  status: commercialProcedure.input(massSubmissionIdSchema).query(async ({ ctx, input }) => {
    const status = await massSubmissionStatus(ctx.db, ctx.organizationId, input.id);
    if (!status) throw new TRPCError({ code: 'NOT_FOUND', message: 'This mass submission does not exist.' });
    return status;
  }),
  /** The newest submission, so a reloaded page shows its report. */
  latest: commercialProcedure.query(({ ctx }) => latestMassSubmission(ctx.db, ctx.organizationId)),
});
