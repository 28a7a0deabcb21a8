import { ACCOUNT_TYPES } from '../accounts/types';
import { isBlankOrComment, readCsvLine, readCsvLines, splitLines, type CsvDelimiter, type CsvQuoteProblem } from '../csv/lines';
import {
  hostedMailboxFields,
  hostedMailboxSchema,
  serverProblem,
  type HostedMailboxField,
  type HostedMailboxValues,
  type ImportLineError,
} from './schemas';

/**
 * Reads hosted mailboxes from pasted or uploaded text: one mailbox per line,
 * `email;username;server[;type]` or the same separated by commas, with CSV quoting and an
 * optional header line (which may also put the columns in another order). Every line is
 * checked; a line with any error is reported and left out, the others are returned.
 */
export interface ParsedImport {
  /** Data lines read (without the header, blank and comment lines). */
  lines: number;
  rows: { line: number; mailbox: HostedMailboxValues }[];
  errors: ImportLineError[];
}

const REQUIRED: HostedMailboxField[] = ['email', 'username', 'server'];
const FORMAT = 'email;username;server;type';

/** Semicolons unless the first line uses only commas (a spreadsheet's "CSV" export). */
function separatorOf(firstLine: string): CsvDelimiter {
  const semicolons = readCsvLine(firstLine, ';').fields.length;
  const commas = readCsvLine(firstLine, ',').fields.length;
  return semicolons === 1 && commas > 1 ? ',' : ';';
}

const QUOTE_MESSAGES: Record<CsvQuoteProblem, string> = {
  unclosed_quote: 'A quotation mark (") is opened but not closed.',
  text_after_quote: 'A field in quotation marks must end with its closing quotation mark, right before the next separator; a " inside it is written twice ("").',
};

const headerNames: Record<string, HostedMailboxField> = {
  email: 'email',
  'e-mail': 'email',
  'email address': 'email',
  mail: 'email',
  username: 'username',
  'user name': 'username',
  user: 'username',
  login: 'username',
  server: 'server',
  host: 'server',
  type: 'type',
  'account type': 'type',
};

function isHeader(fields: string[]): boolean {
  const first = fields[0]?.trim().toLowerCase() ?? '';
  return headerNames[first] !== undefined || first === 'source.email';
}

function readHeader(fields: string[]): { columns: HostedMailboxField[] } | { error: string } {
  const columns: HostedMailboxField[] = [];
  for (const raw of fields) {
    const name = raw.trim().toLowerCase();
    const field = headerNames[name];
    if (!field) {
      return { error: `The header names a column “${raw.trim().slice(0, 40)}” that is not known. The columns are ${hostedMailboxFields.join(', ')} (type is optional).` };
    }
    if (columns.includes(field)) return { error: `The header names the ${field} column twice.` };
    columns.push(field);
  }
  const missing = REQUIRED.filter((f) => !columns.includes(f));
  if (missing.length) return { error: `The header has no ${missing.join(' and no ')} column. The columns are ${hostedMailboxFields.join(', ')} (type is optional).` };
  return { columns };
}

function fieldCountError(found: number, columns: number, hasHeader: boolean): string {
  if (found < 3) {
    return `This line has ${found === 1 ? '1 field' : `${found} fields`}; a hosted mailbox needs email, username and server (${FORMAT}, type optional).`;
  }
  if (!hasHeader && found >= 5) {
    return `This line has ${found} fields; a hosted mailbox has at most 4 (${FORMAT}). Hosted mailboxes never hold a password: leave it out.`;
  }
  return `This line has ${found} fields, ${columns === 4 ? 'at most 4' : `the header names ${columns}`} (${FORMAT}).`;
}

/** The reason in words for the list of line errors, without echoing what might be a password. */
function messageFor(field: HostedMailboxField, value: string, schemaMessage: string): string {
  const empty = value.trim() === '';
  switch (field) {
    case 'email':
      if (empty) return 'The email address is missing.';
      if (value.trim().length > 254) return 'The email address is longer than 254 characters.';
      return 'This is not a valid email address.';
    case 'username':
      return empty ? 'The username is missing.' : 'The username is longer than 320 characters.';
    case 'server':
      if (empty) return 'The server address is missing.';
      return schemaMessage;
    case 'type': {
      const shown = /^[\w.-]{1,20}$/.test(value.trim()) ? `“${value.trim()}” is not an account type` : 'This is not an account type';
      return `${shown}; use ${ACCOUNT_TYPES.join(', ')} (or leave it empty for imap).`;
    }
  }
}

export function parseHostedMailboxCsv(input: string): ParsedImport {
  const physical = splitLines(input);
  const rows: ParsedImport['rows'] = [];
  const errors: ImportLineError[] = [];
  const firstLineOf = new Map<string, number>();
  let columns: HostedMailboxField[] = ['email', 'username', 'server', 'type'];
  let hasHeader = false;
  let lines = 0;

  const content = physical.flatMap((text, index) => (isBlankOrComment(text) ? [] : [{ text, line: index + 1 }]));
  if (content.length === 0) return { lines, rows, errors };
  const separator = separatorOf(content[0]!.text);
  const parsedLines = readCsvLines(
    content.map((c) => c.text),
    separator,
  );

  for (const [index, { line }] of content.entries()) {
    const { fields, problem } = parsedLines[index]!;
    if (problem) {
      lines++;
      errors.push({ line, field: 'line', message: QUOTE_MESSAGES[problem] });
      continue;
    }
    if (index === 0 && isHeader(fields)) {
      const header = readHeader(fields);
      if ('error' in header) {
        // Without knowing the columns no line can be read: report the header only.
        return { lines: 0, rows: [], errors: [{ line, field: 'line', message: header.error }] };
      }
      columns = header.columns;
      hasHeader = true;
      continue;
    }
    lines++;
    const minimum = columns.filter((c) => c !== 'type').length;
    // A trailing separator (common in spreadsheet exports) adds an empty field: ignore it.
    while (fields.length > columns.length && fields.at(-1)!.trim() === '') fields.pop();
    if (fields.length < minimum || fields.length > columns.length) {
      errors.push({ line, field: 'line', message: fieldCountError(fields.length, columns.length, hasHeader) });
      continue;
    }
    const raw: Record<HostedMailboxField, string> = { email: '', username: '', server: '', type: '' };
    columns.forEach((column, i) => {
      raw[column] = fields[i] ?? '';
    });
    const parsed = hostedMailboxSchema.safeParse({
      email: raw.email,
      username: raw.username,
      server: raw.server,
      type: raw.type.trim() ? raw.type.trim().toLowerCase() : undefined,
    });
    if (!parsed.success) {
      const reported = new Set<HostedMailboxField>();
      for (const issue of parsed.error.issues) {
        const field = issue.path[0] as HostedMailboxField;
        if (reported.has(field)) continue;
        reported.add(field);
        errors.push({ line, field, message: messageFor(field, raw[field], issue.message) });
      }
      // The server check needs a valid line around it, so it has not run yet: run it here, to
      // report every wrong field of the line at once.
      const type = ACCOUNT_TYPES.find((t) => t === raw.type.trim().toLowerCase()) ?? 'imap';
      const server = reported.has('server') ? null : serverProblem(raw.server.trim(), type);
      if (server) errors.push({ line, field: 'server', message: messageFor('server', raw.server, server) });
      continue;
    }
    const earlier = firstLineOf.get(parsed.data.email);
    if (earlier !== undefined) {
      errors.push({ line, field: 'email', message: `${parsed.data.email} is already on line ${earlier} of this import.` });
      continue;
    }
    firstLineOf.set(parsed.data.email, line);
    rows.push({ line, mailbox: parsed.data });
  }
  const order = ['line', ...hostedMailboxFields];
  errors.sort((a, b) => a.line - b.line || order.indexOf(a.field) - order.indexOf(b.field));
  return { lines, rows, errors };
}
