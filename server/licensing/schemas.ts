import { z } from 'zod';

/** Shared by the forms in the browser and the procedures; keep this file free of server-only imports. */
export const KEY_SIZES = [5, 10, 25, 50, 100] as const;
export type KeySize = (typeof KEY_SIZES)[number];
export const MAX_KEYS_PER_ISSUE = 100;
/** Free mode: migrations for evaluation, ever. */
export const FREE_MIGRATIONS = 2;

export const keySizeSchema = z.literal(KEY_SIZES, { error: `Choose ${KEY_SIZES.join(', ')} migrations` });

export const issueKeysSchema = z.object({
  size: keySizeSchema,
  count: z.number({ error: 'Enter a number' }).int('Enter a whole number').min(1, 'At least 1 key').max(MAX_KEYS_PER_ISSUE, `At most ${MAX_KEYS_PER_ISSUE} keys at once`),
  /** Admins only: the reseller that issues the keys; null for the installation itself. Ignored for resellers. */
  resellerId: z.string().uuid().nullable().optional(),
});

export const installKeySchema = z.object({
  key: z.string().max(200, 'This is too long for a licence key'),
});

export const keyStateSchema = z.enum(['unused', 'registered', 'revoked']);
export type KeyState = z.infer<typeof keyStateSchema>;

export const listKeysSchema = z
  .object({
    /** Admins only: one reseller's keys, or null for the installation's own; all when absent. */
    resellerId: z.string().uuid().nullable().optional(),
  })
  .optional();

export type IssueKeysInput = z.infer<typeof issueKeysSchema>;
