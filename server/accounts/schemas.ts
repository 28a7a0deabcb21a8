import { z } from 'zod';
import { parseGroupwareUrl, parseServer, ServerAddressError } from './server-address';
import { ACCOUNT_TYPES, GROUPWARE_ADDRESS_TYPES } from './types';

/** One side of a migration as a customer enters it; shared by the forms and the procedures. */
export const accountSchema = z
  .object({
    type: z.enum(ACCOUNT_TYPES),
    email: z.string().trim().toLowerCase().email('Enter a valid email address').max(254),
    username: z.string().trim().min(1, 'Enter the username').max(320),
    // Not trimmed: spaces can be part of a password. Microsoft 365 accounts sign in with the
    // organization's app registration instead.
    password: z.string().max(1024),
    server: z.string().trim().max(500),
    /** Where its calendars, contacts and tasks are, when not on the server's host (DAV types only). */
    groupwareUrl: z.string().trim().max(500).optional(),
  })
  .superRefine((account, ctx) => {
    if (account.groupwareUrl) {
      if (!(GROUPWARE_ADDRESS_TYPES as readonly string[]).includes(account.type)) {
        ctx.addIssue({ code: 'custom', path: ['groupwareUrl'], message: 'A groupware address is used only for Zimbra, Kolab, Open-Xchange and Exchange accounts.' });
      } else {
        try {
          parseGroupwareUrl(account.groupwareUrl);
        } catch (error) {
          ctx.addIssue({ code: 'custom', path: ['groupwareUrl'], message: error instanceof ServerAddressError ? error.message : 'Invalid groupware address' });
        }
      }
    }
    if (account.type !== 'office365' && account.password.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'Enter the password' });
    }
    if (account.type === 'office365' && !account.server) return; // outlook.office365.com by default
    try {
      parseServer(account.server);
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['server'], message: error instanceof ServerAddressError ? error.message : 'Invalid server address' });
    }
  });

export type AccountInput = z.infer<typeof accountSchema>;

export const accountPairSchema = z.object({ source: accountSchema, target: accountSchema });
