import { describe, expect, it } from 'vitest';
import { parseHostedMailboxCsv } from './csv';
import { countImportLines, importCsvSchema, MAX_IMPORT_LINES } from './schemas';

describe('hosted mailbox CSV', () => {
  it('reads semicolon lines with and without a type, lower-casing the email', () => {
    const result = parseHostedMailboxCsv('Anna@Example.com;anna;mail.example.com\r\nbob@example.com;bob@example.com;imaps://mail.example.com:993;Zimbra\n');
    expect(result.errors).toEqual([]);
    expect(result.lines).toBe(2);
    expect(result.rows).toEqual([
      { line: 1, mailbox: { email: 'anna@example.com', username: 'anna', server: 'mail.example.com', type: 'imap' } },
      { line: 2, mailbox: { email: 'bob@example.com', username: 'bob@example.com', server: 'imaps://mail.example.com:993', type: 'zimbra' } },
    ]);
  });

  it('reads a comma-separated export with a header in another order, quotes and a trailing separator', () => {
    const text = '\uFEFFEmail,Server,Username\n"carl@example.com",mail.example.com:143,"Carl ""C"" Smith",\n';
    const result = parseHostedMailboxCsv(text);
    expect(result.errors).toEqual([]);
    expect(result.rows).toEqual([{ line: 2, mailbox: { email: 'carl@example.com', username: 'Carl "C" Smith', server: 'mail.example.com:143', type: 'imap' } }]);
  });

  it('counts blank and comment lines in line numbers but not as data', () => {
    const result = parseHostedMailboxCsv('# hosted on mx1\n\nanna@example.com;anna;mx1.example.com\n\nnot-an-email;x;mx1.example.com\n');
    expect(result.lines).toBe(2);
    expect(result.rows.map((r) => r.line)).toEqual([3]);
    expect(result.errors).toEqual([{ line: 5, field: 'email', message: 'This is not a valid email address.' }]);
  });

  it('names every wrong field of a line in plain words', () => {
    const result = parseHostedMailboxCsv('bad;;mail example;pop3\n');
    expect(result.errors).toEqual([
      { line: 1, field: 'email', message: 'This is not a valid email address.' },
      { line: 1, field: 'username', message: 'The username is missing.' },
      { line: 1, field: 'server', message: 'The server address must not contain spaces.' },
      { line: 1, field: 'type', message: '“pop3” is not an account type; use imap, zimbra, kolab, openxchange, exchange, office365 (or leave it empty for imap).' },
    ]);
  });

  it('reports wrong field counts, never echoing a field that could be a password', () => {
    const result = parseHostedMailboxCsv('anna@example.com;anna\nbob@example.com;bob;S3cret;Pa55word!;mail.example.com\nx@example.com;x;"open\n');
    expect(result.rows).toEqual([]);
    expect(result.errors.map((e) => [e.line, e.field])).toEqual([
      [1, 'line'],
      [2, 'line'],
      [3, 'line'],
    ]);
    expect(result.errors[0]!.message).toMatch(/needs email, username and server/);
    expect(result.errors[1]!.message).toMatch(/never hold a password/);
    expect(result.errors[2]!.message).toMatch(/quotation mark/);
    expect(JSON.stringify(result)).not.toMatch(/S3cret|Pa55word/);
  });

  it('reports a second line with the same address, whatever its case', () => {
    const result = parseHostedMailboxCsv('anna@example.com;anna;mx.example.com\nANNA@example.com;anna2;mx.example.com\n');
    expect(result.rows).toHaveLength(1);
    expect(result.errors).toEqual([{ line: 2, field: 'email', message: 'anna@example.com is already on line 1 of this import.' }]);
  });

  it('stops at a header it cannot read', () => {
    const result = parseHostedMailboxCsv('email;password;server\na@example.com;x;mx.example.com\n');
    expect(result.rows).toEqual([]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ line: 1, field: 'line', message: expect.stringContaining('“password” that is not known') });
  });

  it('allows office365 without a server, as the migration form does', () => {
    expect(parseHostedMailboxCsv('a@contoso.example;a@contoso.example;;office365').rows[0]?.mailbox.server).toBe('');
    expect(parseHostedMailboxCsv('a@contoso.example;a@contoso.example;;imap').errors[0]).toMatchObject({ field: 'server', message: 'The server address is missing.' });
  });

  it('reads quoted fields and refuses an unclosed quote or text after a closing one, on that line only', () => {
    const result = parseHostedMailboxCsv(
      [
        '"h@example.com";"H; ""Hank""";"mx.example.com"',
        'c@example.com;"open;mx.example.com',
        'd@example.com;"d"x;mx.example.com',
        'e@example.com;e;mx.example.com',
      ].join('\n'),
    );
    expect(result.rows.map((r) => [r.line, r.mailbox.username])).toEqual([
      [1, 'H; "Hank"'],
      [4, 'e'],
    ]);
    expect(result.errors).toEqual([
      { line: 2, field: 'line', message: 'A quotation mark (") is opened but not closed.' },
      { line: 3, field: 'line', message: expect.stringMatching(/must end with its closing quotation mark/) },
    ]);
    const comma = parseHostedMailboxCsv('f@example.com,"F, Frank",mx.example.com\ng@example.com,"g');
    expect(comma.rows.map((r) => r.mailbox.username)).toEqual(['F, Frank']);
    expect(comma.errors).toEqual([{ line: 2, field: 'line', message: 'A quotation mark (") is opened but not closed.' }]);
  });

  it('limits an import to 5,000 lines with a message that says what to do', () => {
    const line = 'a@example.com;a;mx.example.com\n';
    expect(countImportLines(`${line}\n\n${line}`)).toBe(2);
    expect(countImportLines(`# mx1\nEmail,Username,Server\n${line}\n${line}`)).toBe(2);
    expect(importCsvSchema.safeParse({ text: `email;username;server\n${line.repeat(MAX_IMPORT_LINES)}` }).success).toBe(true);
    expect(importCsvSchema.safeParse({ text: line.repeat(MAX_IMPORT_LINES) }).success).toBe(true);
    const tooMany = importCsvSchema.safeParse({ text: line.repeat(MAX_IMPORT_LINES + 1) });
    expect(tooMany.success).toBe(false);
    expect(tooMany.error?.issues[0]?.message).toBe('This import has 5,001 lines; at most 5,000 can be imported at once. Split the file and import the parts one after the other.');
    expect(importCsvSchema.safeParse({ text: ' \n ' }).error?.issues[0]?.message).toBe('Paste the lines to import or choose a file.');
  });
});
