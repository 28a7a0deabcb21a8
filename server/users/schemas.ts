import { z } from 'zod';
import { MIN_PASSWORD_LENGTH, organizationNameSchema } from '../organizations/schemas';

/** Shared by the forms in the browser and the procedures; keep this file free of server-only imports. */
export const newPasswordSchema = z.string().min(MIN_PASSWORD_LENGTH, `At least ${MIN_PASSWORD_LENGTH} characters`).max(200, 'At most 200 characters');
export const displayNameSchema = z.string().trim().max(120, 'At most 120 characters');

export const organizationIdSchema = z.object({ id: z.string().uuid() });
export const renameOrganizationSchema = z.object({ id: z.string().uuid(), name: organizationNameSchema });
/** The name typed again to confirm, so a deletion is never one stray click. */
export const deleteOrganizationSchema = z.object({ id: z.string().uuid(), confirmName: z.string().trim() });

export const userIdSchema = z.object({ userId: z.string().uuid() });
export const setUserDisabledSchema = z.object({ userId: z.string().uuid(), disabled: z.boolean() });
/** Without `password`, one is generated and shown once. */
export const setUserPasswordSchema = z.object({ userId: z.string().uuid(), password: newPasswordSchema.optional() });

export const updateAccountSchema = z.object({ name: displayNameSchema });
export const changeOwnPasswordSchema = z.object({
  currentPassword: z.string().min(1, 'Enter your current password').max(200),
  newPassword: newPasswordSchema,
});

export const unusedKeyCapSchema = z.object({
  resellerId: z.string().uuid(),
  /** null: no cap. */
  cap: z.number({ error: 'Enter a number' }).int('Enter a whole number').min(0, 'At least 0').max(100_000, 'At most 100,000').nullable(),
});
