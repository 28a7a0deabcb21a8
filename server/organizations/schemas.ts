import { z } from 'zod';

/** Shared by the forms in the browser and the procedures; keep this file free of server-only imports. */
export const MIN_PASSWORD_LENGTH = 12;

export const organizationNameSchema = z.string().trim().min(2, 'Enter at least 2 characters').max(120, 'At most 120 characters');

export const newUserSchema = z.object({
  email: z.string().trim().toLowerCase().email('Enter a valid email address').max(254),
  name: z.string().trim().max(120).optional().transform((v) => (v ? v : undefined)),
  password: z.string().min(MIN_PASSWORD_LENGTH, `At least ${MIN_PASSWORD_LENGTH} characters`).max(200),
});

/** A reseller organization and its first user (admin only). */
export const createResellerSchema = z.object({
  name: organizationNameSchema,
  user: newUserSchema,
});

/** A customer organization and its first user; an admin may place it under a reseller. */
export const createCustomerSchema = z.object({
  name: organizationNameSchema,
  resellerId: z.string().uuid().optional(),
  user: newUserSchema,
});

/** A further user in an organization the caller manages. */
export const addUserSchema = z.object({
  organizationId: z.string().uuid(),
  user: newUserSchema,
});

export type CreateResellerInput = z.infer<typeof createResellerSchema>;
export type CreateCustomerInput = z.infer<typeof createCustomerSchema>;
export type AddUserInput = z.infer<typeof addUserSchema>;
