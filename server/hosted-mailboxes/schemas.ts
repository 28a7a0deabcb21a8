import { z } from 'zod';
import { parseServer, ServerAddressError } from '../accounts/server-address';
import { ACCOUNT_TYPES, type AccountType } from '../accounts/types';
import { isBlankOrComment, splitLines } from '../csv/lines';

/** Shared by the admin page and the procedures; keep this file free of server-only imports. */
export const MAX_IMPORT_LINES = 5_000;
/** Far above 5,000 realistic lines; it keeps a pasted file of the wrong kind from being sent. */
export const MAX_IMPORT_CHARACTERS = 2_000_000;
export const LIST_PAGE_SIZE = 50;
export const QUICK_SELECTION_LIMIT = 50;

export const hostedMailboxFields = ['email', 'username', 'server', 'type'] as const;
export type HostedMailboxField = (typeof hostedMailboxFields)[number];

/**
 * A hosted mailbox as an admin enters it (form and CSV line alike). The rules for email,
 * username and server are those of the migration form, so a quick selection always fills
 * values the form accepts.
 */
export const hostedMailboxSchema = z
  .object({
    email: z.string().trim().toLowerCase().email('Enter a valid email address').max(254, 'At most 254 characters'),
    username: z.string().trim().min(1, 'Enter the username').max(320, 'At most 320 characters'),
    server: z.string().trim().max(500, 'At most 500 characters'),
    type: z.enum(ACCOUNT_TYPES, { error: `Choose one of ${ACCOUNT_TYPES.join(', ')}` }).default('imap'),
  })
  .superRefine((mailbox, ctx) => {
    const problem = serverProblem(mailbox.server, mailbox.type);
    if (problem) ctx.addIssue({ code: 'custom', path: ['server'], message: problem });
  });

/** What is wrong with a (trimmed) server field, in the migration form's words; null when nothing. */
export function serverProblem(server: string, type: AccountType): string | null {
  if (type === 'office365' && !server) return null; // outlook.office365.com by default
  try {
    parseServer(server);
    return null;
  } catch (error) {
    return error instanceof ServerAddressError ? error.message : 'Invalid server address';
  }
}

export type HostedMailboxInput = z.input<typeof hostedMailboxSchema>;
export type HostedMailboxValues = z.output<typeof hostedMailboxSchema>;

export const listHostedMailboxesSchema = z
  .object({
    search: z.string().trim().max(254).optional(),
    page: z.number().int().min(1).max(10_000).default(1),
  })
  .optional();

export const quickSelectionSchema = z.object({ search: z.string().trim().max(254).optional() }).optional();

const HEADER_LINE = /^\s*"?(e-?mail|email address|mail)"?\s*[;,]/i;

/** Lines with a mailbox on them, the unit the import limit counts in: no blank, comment or header line. */
export function countImportLines(text: string): number {
  let count = 0;
  let first = true;
  for (const line of splitLines(text)) {
    if (isBlankOrComment(line)) continue;
    if (!(first && HEADER_LINE.test(line))) count++;
    first = false;
  }
  return count;
}

export function tooManyLinesMessage(lines: number): string {
  return `This import has ${lines.toLocaleString('en-GB')} lines; at most ${MAX_IMPORT_LINES.toLocaleString('en-GB')} can be imported at once. Split the file and import the parts one after the other.`;
}

export const importCsvSchema = z.object({
  text: z
    .string()
    .max(MAX_IMPORT_CHARACTERS, `The text is larger than ${MAX_IMPORT_CHARACTERS / 1_000_000} MB. Split the file and import the parts one after the other.`)
    .superRefine((text, ctx) => {
      const lines = countImportLines(text);
      if (lines === 0) ctx.addIssue({ code: 'custom', message: 'Paste the lines to import or choose a file.' });
      if (lines > MAX_IMPORT_LINES) ctx.addIssue({ code: 'custom', message: tooManyLinesMessage(lines) });
    }),
});

export interface ImportLineError {
  /** 1-based, as an editor shows it (blank and header lines count). */
  line: number;
  /** The field that is wrong; `line` when the line as a whole is (wrong number of fields, a duplicate). */
  field: HostedMailboxField | 'line';
  message: string;
}

export interface ImportResult {
  /** Data lines read (without the header, blank and comment lines). */
  lines: number;
  imported: number;
  /** Valid lines whose email address is already stored: left unchanged. */
  skipped: { line: number; email: string }[];
  /** Lines not imported, with the reason. */
  errors: ImportLineError[];
}
