import { z } from 'zod';
import { accountSchema } from '../accounts/schemas';

/** A local date-time as `<input type="datetime-local">` gives it: 2027-03-28T02:30. */
export const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;

const localDateTime = (missing: string) =>
  z
    .string()
    .trim()
    .min(1, missing)
    .transform((value) => value.replace(' ', 'T'))
    .refine((value) => LOCAL_DATE_TIME.test(value), 'Enter the date and time as YYYY-MM-DD HH:MM');

/**
 * One migration as a customer enters it: the same schema validates the form in the browser and
 * the `migrations.create` input. Dates are local times in the server's time zone; they become
 * UTC on the server (server/migrations/timing.ts), where a time that does not exist is refused.
 */
export const migrationInputSchema = z
  .object({
    source: accountSchema,
    target: accountSchema,
    startAt: localDateTime('Enter the start date and time'),
    /** Optional: empty means no resync. */
    resyncAt: z
      .string()
      .trim()
      .transform((value) => value.replace(' ', 'T'))
      .refine((value) => value === '' || LOCAL_DATE_TIME.test(value), 'Enter the date and time as YYYY-MM-DD HH:MM')
      .optional()
      .transform((value) => value || undefined),
  })
  .superRefine((input, ctx) => {
    // Same-length ISO strings compare like the times they name.
    if (input.resyncAt && LOCAL_DATE_TIME.test(input.startAt) && input.resyncAt <= input.startAt) {
      ctx.addIssue({ code: 'custom', path: ['resyncAt'], message: 'The resync must be later than the start.' });
    }
    const same = (a: typeof input.source, b: typeof input.target) =>
      a.email === b.email && a.username.toLowerCase() === b.username.toLowerCase() && a.server.toLowerCase() === b.server.toLowerCase();
    if (same(input.source, input.target)) {
      ctx.addIssue({ code: 'custom', path: ['target', 'email'], message: 'The target must be a different mailbox than the source.' });
    }
  });

export type MigrationInput = z.infer<typeof migrationInputSchema>;
export type MigrationFormValues = z.input<typeof migrationInputSchema>;

export const migrationIdSchema = z.object({ id: z.string().uuid('Unknown migration') });

export const MIGRATION_LISTS = ['active', 'finished', 'all'] as const;
export const migrationListSchema = z.object({ list: z.enum(MIGRATION_LISTS) });
export type MigrationList = (typeof MIGRATION_LISTS)[number];
