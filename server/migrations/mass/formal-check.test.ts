import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ALLOWED_PORTS } from '../../accounts/network/host-policy';
import { migrationInputSchema } from '../schemas';
import { formalCheck, MAX_MASS_LINE_LENGTH } from './formal-check';
import { MASS_FIELDS, MASS_HEADER, MAX_MASS_BYTES, MAX_MASS_RECORDS, type MassCheckContext, type MassField, type MassLine } from './types';

const NOW = new Date('2027-01-10T12:00:00Z');
const ZONE = 'Europe/Berlin';

function context(overrides: Partial<MassCheckContext> = {}): MassCheckContext {
  return { zone: ZONE, now: NOW, active: [], microsoft365: false, hosts: { allow: [], allowedPorts: DEFAULT_ALLOWED_PORTS }, ...overrides };
}

const GOOD: Record<MassField, string> = {
  'source.type': 'imap',
  'source.email': 'anna@example.com',
  'source.username': 'anna',
  'source.password': 'Secret-1',
  'source.server': 'mail.example.com',
  'target.type': 'imap',
  'target.email': 'anna@example.net',
  'target.username': 'anna',
  'target.password': 'Secret-2',
  'target.server': 'mail.example.net',
  startdate: '2027-02-01 20:00',
  resyncdate: '2027-02-08 20:00',
};

/** CSV writing for the tests: a field with ; or " is quoted, its quotation marks doubled. */
const quote = (value: string) => (/[;"]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

function record(overrides: Partial<Record<MassField, string>> = {}): string {
  return MASS_FIELDS.map((field) => quote(overrides[field] ?? GOOD[field])).join(';');
}

function check(text: string, overrides: Partial<MassCheckContext> = {}) {
  return formalCheck(text, context(overrides));
}

/** The verdict on the only record of a one-record text. */
function one(overrides: Partial<Record<MassField, string>>, contextOverrides: Partial<MassCheckContext> = {}): MassLine {
  const result = check(record(overrides), contextOverrides);
  expect(result.lines).toHaveLength(1);
  return result.lines[0]!;
}

function reason(field: MassField, value: string, contextOverrides: Partial<MassCheckContext> = {}): string | undefined {
  return one({ [field]: value }, contextOverrides).fields[field];
}

describe('formal check: reading the text', () => {
  it('accepts a good record as it is', () => {
    const result = check(record());
    expect(result).toMatchObject({ records: 1, clean: true, error: null });
    expect(result.lines[0]).toMatchObject({ line: 1, status: 'ok', fields: {}, problem: null, duplicateOf: null });
  });

  it('drops a UTF-8 byte order mark, so a header in the first line is still recognised', () => {
    const result = check(`\uFEFF${MASS_HEADER}\n${record()}`);
    expect(result.lines.map((l) => l.status)).toEqual(['ignored', 'ok']);
    expect(result.lines[0]!.raw).toBe(MASS_HEADER);
    expect(result.records).toBe(1);
    expect(result.clean).toBe(true);
    const first = check(`\uFEFF${record()}`).lines[0]!;
    expect(first.raw).toBe(record());
    expect(first.values[0]).toBe('imap');
  });

  it('splits lines at CRLF, LF and CR, and a final line break starts no line', () => {
    const a = record({ 'source.email': 'a@example.com' });
    const b = record({ 'source.email': 'b@example.com' });
    const c = record({ 'source.email': 'c@example.com' });
    const result = check(`${a}\r\n${b}\r${c}\n`);
    expect(result.lines.map((l) => [l.line, l.status, l.raw])).toEqual([
      [1, 'ok', a],
      [2, 'ok', b],
      [3, 'ok', c],
    ]);
  });

  it('ignores blank lines and lines whose first character that is not blank is #, but counts them as lines', () => {
    const result = check(`  \n# source;comment;"unclosed\n\t  # indented comment\n\n${record()}\n`);
    expect(result.lines.map((l) => [l.line, l.status])).toEqual([
      [1, 'ignored'],
      [2, 'ignored'],
      [3, 'ignored'],
      [4, 'ignored'],
      [5, 'ok'],
    ]);
    expect(result.lines[1]!.values).toEqual([]);
    expect(result.records).toBe(1);
  });

  it('recognises the header only as the first line that is not blank or a comment, in any case and quoted', () => {
    const quotedHeader = MASS_FIELDS.map((f, i) => (i % 2 ? ` ${f.toUpperCase()} ` : `"${f}"`)).join(';');
    expect(check(`# list\n\n${quotedHeader}\n${record()}`).lines.map((l) => l.status)).toEqual(['ignored', 'ignored', 'ignored', 'ok']);
    const late = check(`${record()}\n${MASS_HEADER}`);
    expect(late.records).toBe(2);
    expect(late.lines[1]).toMatchObject({ status: 'invalid' });
    expect(late.lines[1]!.fields['source.type']).toMatch(/not an account type/);
  });

  it('reads quoted fields: "pa;ss""x" is pa;ss"x', () => {
    const text = record().replace('Secret-1', '"pa;ss""x"');
    const result = check(text);
    expect(result.lines[0]!.status).toBe('ok');
    expect(result.lines[0]!.values[3]).toBe('pa;ss"x');
    expect(result.accepted[0]!.source.password).toBe('pa;ss"x');
  });

  it('reports a quotation mark left open on its own line only, and reads the next lines as usual', () => {
    const open = record().replace('Secret-1', '"Secret-1');
    const next = record({ 'source.email': 'bob@example.com' });
    const result = check(`${open}\n${next}\n${record({ 'source.email': 'carl@example.com', 'source.password': 'with"quote' })}`);
    expect(result.lines.map((l) => l.status)).toEqual(['invalid', 'ok', 'ok']);
    expect(result.lines[0]!.problem).toMatch(/quotation mark \(".*not closed on this line/);
    expect(result.lines[0]!.fields).toEqual({});
    expect(result.accepted[1]!.source.password).toBe('with"quote');
  });

  it('reports text after a closing quotation mark', () => {
    const line = one({}, {});
    expect(line.status).toBe('ok');
    const result = check(record().replace('Secret-1', '"Secret"-1'));
    expect(result.lines[0]!.status).toBe('invalid');
    expect(result.lines[0]!.problem).toMatch(/must end with its closing mark/);
  });

  it('names the number of fields found and expected, too few or too many', () => {
    const fewer = check(MASS_FIELDS.slice(0, 11).map((f) => GOOD[f]).join(';'));
    expect(fewer.lines[0]).toMatchObject({ status: 'invalid', fields: {} });
    expect(fewer.lines[0]!.problem).toBe(`This line has 11 fields; a record has 12, separated by ";": ${MASS_HEADER}.`);
    expect(fewer.lines[0]!.values).toHaveLength(11);
    const more = check(`${record()};extra`);
    expect(more.lines[0]!.problem).toMatch(/^This line has 13 fields; a record has 12/);
    expect(check('just one').lines[0]!.problem).toMatch(/^This line has 1 field; a record has 12/);
  });

  it('drops empty trailing fields beyond the twelve, as a spreadsheet adds them', () => {
    const result = check(`${record()};;  ;\n${record({ 'source.email': 'b@example.com', resyncdate: '' })};`);
    expect(result.lines.map((l) => l.status)).toEqual(['ok', 'ok']);
    expect(result.lines[0]!.values).toHaveLength(12);
  });

  it('refuses a line longer than the maximum, naming both lengths', () => {
    const long = record({ 'source.password': 'x'.repeat(MAX_MASS_LINE_LENGTH) });
    const result = check(`${long}\n${record({ 'source.email': 'b@example.com' })}`);
    expect(result.lines[0]!.status).toBe('invalid');
    expect(result.lines[0]!.problem).toBe(`This line has ${long.length.toLocaleString('en-US')} characters; a record has at most 8,000.`);
    expect(result.lines[1]!.status).toBe('ok');
  });
});

describe('formal check: limits and empty text', () => {
  it('refuses more than 5,000 records before reading any, naming the count', () => {
    const lines = Array.from({ length: MAX_MASS_RECORDS + 1 }, (_, i) => record({ 'source.email': `u${i}@example.com` }));
    const result = check(`${MASS_HEADER}\n# comment\n${lines.join('\n')}`);
    expect(result).toEqual({
      records: 5_001,
      clean: false,
      error: 'This list has 5,001 records; at most 5,000 can be submitted at once. Split it and submit the parts one after the other.',
      lines: [],
      accepted: [],
    });
  });

  it('reads 5,000 records, with a header and comments besides', () => {
    const lines = Array.from({ length: MAX_MASS_RECORDS }, (_, i) => record({ 'source.email': `u${i}@example.com`, 'source.password': `"p;${i}"` }));
    const result = check(`${MASS_HEADER}\n# comment\n${lines.join('\n')}\n`);
    expect(result.error).toBeNull();
    expect(result.records).toBe(5_000);
    expect(result.accepted).toHaveLength(5_000);
    expect(result.clean).toBe(true);
  });

  it('refuses more than 2 MB counted in UTF-8 bytes, naming the size', () => {
    // Under 2,000,000 characters, but "ü" takes two bytes.
    const comment = `# ${'ü'.repeat(99)}\n`;
    const text = `${comment.repeat(Math.ceil(MAX_MASS_BYTES / new TextEncoder().encode(comment).length) + 10)}${record()}`;
    expect(text.length).toBeLessThan(MAX_MASS_BYTES);
    const bytes = new TextEncoder().encode(text).length;
    const result = check(text);
    expect(result.error).toBe(
      `This list has ${bytes.toLocaleString('en-US')} bytes; at most 2,000,000 bytes (2 MB) can be submitted at once. Split it and submit the parts one after the other.`,
    );
    expect(result.lines).toEqual([]);
    expect(result.clean).toBe(false);
    expect(check(`${'#'.repeat(MAX_MASS_BYTES - record().length - 1)}\n${record()}`).error).toBeNull();
  });

  it('asks for records when there are none', () => {
    for (const text of ['', '\n\n', `# only a comment\n${MASS_HEADER}\n`]) {
      const result = check(text);
      expect(result.clean).toBe(false);
      expect(result.records).toBe(0);
      expect(result.error).toMatch(/^Paste the records or choose a file/);
    }
  });
});

describe('formal check: fields', () => {
  it('names the allowed types for an unknown one, and reads types in any case', () => {
    expect(reason('source.type', 'pop3')).toBe('“pop3” is not an account type; use imap, zimbra, kolab, openxchange, exchange or office365.');
    expect(reason('target.type', '')).toMatch(/^The account type is missing; use imap,/);
    const result = check(record({ 'source.type': 'Zimbra', 'target.type': ' IMAP ' }));
    expect(result.accepted[0]!.source.type).toBe('zimbra');
    expect(result.accepted[0]!.target.type).toBe('imap');
  });

  it('refuses a malformed or missing email address, and lower-cases a good one', () => {
    expect(reason('source.email', 'anna(at)example.com')).toBe('This is not a valid email address.');
    expect(reason('target.email', 'anna@localhost')).toBe('This is not a valid email address.');
    expect(reason('target.email', '  ')).toBe('The email address is missing.');
    expect(reason('source.email', `${'a'.repeat(250)}@example.com`)).toBe('The email address is longer than 254 characters.');
    expect(check(record({ 'source.email': ' Anna@Example.COM ' })).accepted[0]!.source.email).toBe('anna@example.com');
  });

  it('refuses an empty username', () => {
    expect(reason('source.username', ' ')).toBe('The username is missing.');
    expect(reason('target.username', 'u'.repeat(321))).toBe('The username is longer than 320 characters.');
  });

  it('refuses an empty password, except for office365 with a Microsoft 365 connection', () => {
    expect(reason('source.password', '')).toBe('The password is missing.');
    const office = { 'target.type': 'office365', 'target.password': '', 'target.server': '' };
    expect(one(office).fields['target.password']).toBe(
      'The password is missing. An office365 account may leave it empty only when the organization has a Microsoft 365 connection, and it has none.',
    );
    expect(one(office, { microsoft365: true }).status).toBe('ok');
    expect(reason('target.password', 'p'.repeat(1025))).toBe('The password is longer than 1,024 characters.');
    // Spaces can be part of a password: kept as typed.
    expect(check(record({ 'source.password': ' pass word ' })).accepted[0]!.source.password).toBe(' pass word ');
  });

  it('refuses a server that cannot be read, or a port out of range; office365 may leave it empty', () => {
    expect(reason('source.server', 'mail example.com')).toBe('The server address must not contain spaces.');
    expect(reason('source.server', 'mail.example.com:70000')).toBe('The port must be a number from 1 to 65535.');
    expect(reason('source.server', 'pop3://mail.example.com')).toBe('Use imaps://, imap:// or https://, or just the host name.');
    expect(reason('target.server', '')).toBe('The server address is missing.');
    expect(one({ 'target.type': 'office365', 'target.server': '' }).status).toBe('ok');
  });

  it('refuses IP literals the host policy refuses, in every spelling', () => {
    const refused: [string, RegExp][] = [
      ['127.0.0.1', /^127\.0\.0\.1 is a loopback address/],
      ['imaps://10.1.2.3', /^10\.1\.2\.3 is an address of a private network/],
      ['172.16.5.4:143', /^172\.16\.5\.4 is an address of a private network/],
      ['192.168.1.1', /^192\.168\.1\.1 is an address of a private network/],
      ['https://169.254.169.254/latest/', /^169\.254\.169\.254 is a link-local address/],
      ['100.64.0.1', /^100\.64\.0\.1 is an address of a provider’s shared network/],
      ['[::1]:993', /^::1 is a loopback address/],
      ['imaps://[::ffff:7f00:1]', /^::ffff:127\.0\.0\.1 is a loopback address/],
      ['[fd00::25]', /^fd00::25 is an address of a private IPv6 network/],
      ['2130706433', /^127\.0\.0\.1 is a loopback address/],
      ['0x7f.1', /^127\.0\.0\.1 is a loopback address/],
      ['0.0.0.0', /^0\.0\.0\.0 is the unspecified address/],
    ];
    for (const [server, expected] of refused) expect(reason('source.server', server), server).toMatch(expected);
    expect(reason('source.server', '127.0.0.1')).toMatch(/only to public servers unless an administrator allows the address/);
    expect(one({ 'source.server': '8.8.8.8', 'target.server': '[2001:4860:4860::8888]:993' }).status).toBe('ok');
  });

  it('lets an allow rule admit a private address, with its port when the rule names one', () => {
    const hosts = (allow: string[]) => ({ hosts: { allow, allowedPorts: DEFAULT_ALLOWED_PORTS } });
    expect(reason('source.server', '10.1.2.3', hosts(['10.0.0.0/8']))).toBeUndefined();
    expect(reason('source.server', '[::ffff:10.1.2.3]', hosts(['10.0.0.0/8']))).toBeUndefined();
    expect(reason('source.server', '10.1.2.3', hosts(['192.168.0.0/16']))).toMatch(/private network/);
    expect(reason('source.server', '10.1.2.3:10993', hosts(['10.0.0.0/8']))).toMatch(/^Port 10993 is not allowed/);
    expect(reason('source.server', '10.1.2.3:10993', hosts(['10.1.2.3:10993']))).toBeUndefined();
    expect(reason('source.server', '10.1.2.4:10993', hosts(['10.1.2.3:10993']))).toMatch(/private network/);
    // A rule that does not parse allows nothing.
    expect(reason('source.server', '10.1.2.3', hosts(['10.0.0.0/99']))).toMatch(/private network/);
  });

  it('refuses a port the policy does not allow; a name rule naming the port admits its host only', () => {
    expect(reason('source.server', 'mail.example.com:25')).toBe(
      'Port 25 is not allowed: Mailferry connects to mail and groupware ports (143, 993, 443, 80, 8443, 8008, 8080, 2080, 2079, 5232) unless an administrator allows another.',
    );
    expect(reason('source.server', 'https://dav.example.com:2525/')).toMatch(/^Port 2525 is not allowed/);
    expect(reason('source.server', 'mail.example.com:8443')).toBeUndefined();
    const hosts = { hosts: { allow: ['mail.internal:10993', '10.0.0.0/8:2525'], allowedPorts: DEFAULT_ALLOWED_PORTS } };
    expect(reason('source.server', 'mail.internal:10993', hosts)).toBeUndefined();
    expect(reason('source.server', 'other.internal:10993', hosts)).toMatch(/^Port 10993 is not allowed/);
    // An address rule may cover whatever a name resolves to: that is decided at submission.
    expect(reason('source.server', 'mail.example.com:2525', hosts)).toBeUndefined();
  });

  it('never resolves host names: a name passes, its addresses are checked at submission', () => {
    expect(one({ 'source.server': 'localhost', 'target.server': 'mail.internal' }).status).toBe('ok');
  });

  it('refuses a date in another format or one that does not exist, naming both formats', () => {
    expect(reason('startdate', '2027/02/01 20:00')).toBe('“2027/02/01 20:00” is not a start date and time in an accepted format: use YYYY-MM-DD HH:MM or DD.MM.YYYY HH:MM.');
    expect(reason('startdate', '2027-02-01')).toMatch(/not a start date and time in an accepted format: use YYYY-MM-DD HH:MM or DD\.MM\.YYYY HH:MM/);
    expect(reason('resyncdate', '31.02.2027 10:00')).toBe('“31.02.2027 10:00” is not a date and time that exists; use YYYY-MM-DD HH:MM or DD.MM.YYYY HH:MM.');
    expect(reason('startdate', '2027-02-01 24:00')).toMatch(/not a date and time that exists/);
    expect(reason('startdate', '2027-13-01 10:00')).toMatch(/not a date and time that exists/);
    expect(reason('startdate', '')).toBe('The start date is missing; use YYYY-MM-DD HH:MM or DD.MM.YYYY HH:MM.');
  });

  it('reads German dates, with one or two digits for day, month and hour', () => {
    const result = check(
      [record({ startdate: '01.02.2027 20:00', resyncdate: '8.2.2027 9:05' }), record({ 'source.email': 'b@example.com', startdate: '2027-02-01 20:00', resyncdate: '2027-02-08 09:05' })].join('\n'),
    );
    expect(result.clean).toBe(true);
    expect(result.accepted.map((r) => [r.startAt, r.resyncAt])).toEqual([
      ['2027-02-01T20:00', '2027-02-08T09:05'],
      ['2027-02-01T20:00', '2027-02-08T09:05'],
    ]);
    expect(result.accepted[0]!.startUtc).toEqual(new Date('2027-02-01T19:00:00Z'));
  });

  it('refuses a time the clocks skip, with the single form’s reason', () => {
    expect(reason('startdate', '2027-03-28 02:30')).toBe('2027-03-28 02:30 does not exist in Europe/Berlin: the clocks are put forward at that time. Choose a time an hour later.');
    expect(reason('resyncdate', '28.03.2027 02:30')).toMatch(/^2027-03-28 02:30 does not exist in Europe\/Berlin/);
    // Judged on its own when the other date is wrong.
    expect(one({ startdate: 'soon', resyncdate: '2027-03-28 02:30' }).fields.resyncdate).toMatch(/does not exist in Europe\/Berlin/);
  });

  it('takes a repeated hour at its first occurrence, with a note', () => {
    const result = check(record({ startdate: '2027-10-31 02:30', resyncdate: '' }));
    expect(result.lines[0]!.status).toBe('ok');
    expect(result.lines[0]!.notes).toEqual(['2027-10-31 02:30 occurs twice in Europe/Berlin (the clocks are put back); the first occurrence (UTC+02:00) is used.']);
    expect(result.accepted[0]!.startUtc).toEqual(new Date('2027-10-31T00:30:00Z'));
  });

  it('takes a start in the past as now, with a note', () => {
    const result = check(record({ startdate: '2026-12-24 10:00', resyncdate: '' }));
    expect(result.lines[0]!.status).toBe('ok');
    expect(result.lines[0]!.notes).toEqual(['The start is not in the future: the migration starts as soon as it is accepted.']);
    expect(result.accepted[0]!.startUtc).toEqual(NOW);
    expect(result.accepted[0]!.startAt).toBe('2026-12-24T10:00');
  });

  it('refuses a resync that is not after the start', () => {
    expect(reason('resyncdate', GOOD.startdate)).toBe('The resync must be later than the start.');
    expect(reason('resyncdate', '2027-01-31 20:00')).toBe('The resync must be later than the start.');
    expect(one({ startdate: '2026-12-24 10:00', resyncdate: '2027-01-01 10:00' }).fields.resyncdate).toBe(
      'The resync must be in the future: the start is in the past, so the migration starts now.',
    );
    expect(one({ resyncdate: '' }).status).toBe('ok');
  });

  it('refuses the same mailbox as source and target', () => {
    const same = { 'target.email': 'ANNA@example.com', 'target.username': 'Anna', 'target.server': 'MAIL.example.com' };
    expect(one(same).fields['target.email']).toBe('The target must be a different mailbox than the source.');
    expect(one({ ...same, 'target.server': 'mail2.example.com' }).status).toBe('ok');
  });

  it('reports every wrong field of a line at once, in the order of the fields, and never a password', () => {
    const line = one({ resyncdate: 'later', 'source.email': 'x', 'target.type': 'pop', 'source.password': '', 'target.password': 'Hunter2;"' });
    expect(Object.keys(line.fields)).toEqual(['source.email', 'source.password', 'target.type', 'resyncdate']);
    expect(line.status).toBe('invalid');
    expect(JSON.stringify(line.fields)).not.toContain('Hunter2');
  });
});

describe('formal check: duplicates', () => {
  it('marks a repeated source and target, compared without case, as a duplicate of the first line', () => {
    const result = check([record(), record({ 'source.email': 'bob@example.com' }), record({ 'source.email': ' ANNA@Example.com', 'target.email': 'Anna@EXAMPLE.net' })].join('\n'));
    expect(result.lines.map((l) => [l.status, l.duplicateOf, l.problem])).toEqual([
      ['ok', null, null],
      ['ok', null, null],
      ['duplicate', 1, 'duplicate of line 1'],
    ]);
    expect(result.clean).toBe(false);
    expect(result.accepted.map((r) => r.line)).toEqual([1, 2]);
  });

  it('marks a line repeating an invalid line as its duplicate', () => {
    const result = check([record({ 'source.password': '' }), record()].join('\n'));
    expect(result.lines.map((l) => [l.status, l.duplicateOf])).toEqual([
      ['invalid', null],
      ['duplicate', 1],
    ]);
  });

  it('marks a pair of an active migration as already being migrated', () => {
    const result = check(record({ 'source.email': 'Anna@Example.com' }), { active: [{ source: 'anna@example.com', target: 'anna@example.net' }] });
    expect(result.lines[0]).toMatchObject({ status: 'duplicate', duplicateOf: null, problem: 'already being migrated' });
    expect(result.accepted).toEqual([]);
    expect(result.clean).toBe(false);
  });

  it('keeps a line with a wrong field invalid (red wins) while it still names the line it repeats', () => {
    const result = check([record(), record({ 'target.password': '' })].join('\n'));
    expect(result.lines[1]).toMatchObject({ status: 'invalid', duplicateOf: 1, problem: 'duplicate of line 1', fields: { 'target.password': 'The password is missing.' } });
  });

  it('leaves a line whose fields cannot be read out of duplicate detection', () => {
    const result = check([`${record()};extra`, record()].join('\n'));
    expect(result.lines.map((l) => [l.status, l.duplicateOf])).toEqual([
      ['invalid', null],
      ['ok', null],
    ]);
  });
});

describe('formal check: runs in the browser', () => {
  it('bundles for the browser without any Node module, server-only code or the whole of zod', async () => {
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: [path.join(import.meta.dirname, 'formal-check.ts'), path.join(import.meta.dirname, 'example.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      outdir: 'out',
      minify: true,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => /^node:|server\/(env|db|logger|crypto)|network\/host-policy/.test(input))).toEqual([]);
    expect(inputs).toContain('node_modules/papaparse/papaparse.min.js');
    expect(result.outputFiles.reduce((n, f) => n + f.contents.length, 0)).toBeLessThan(120_000);
  });
});

describe('formal check: accepted records', () => {
  it('holds every ok record as the single form would send it, and each passes its schema', () => {
    const text = [
      MASS_HEADER,
      record({ 'source.type': 'Kolab', 'source.email': ' Anna@Example.COM ', 'source.username': ' anna ', 'source.password': ' pa;ss"x ', 'source.server': ' imaps://mail.example.com ' }),
      record({ 'source.email': 'bob@example.com', 'target.type': 'office365', 'target.password': '', 'target.server': '', startdate: '1.2.2027 8:00', resyncdate: '' }),
    ].join('\n');
    const result = check(text, { microsoft365: true });
    expect(result.clean).toBe(true);
    expect(result.accepted).toEqual([
      {
        line: 2,
        source: { type: 'kolab', email: 'anna@example.com', username: 'anna', password: ' pa;ss"x ', server: 'imaps://mail.example.com' },
        target: { type: 'imap', email: 'anna@example.net', username: 'anna', password: 'Secret-2', server: 'mail.example.net' },
        startAt: '2027-02-01T20:00',
        resyncAt: '2027-02-08T20:00',
        startUtc: new Date('2027-02-01T19:00:00Z'),
        resyncUtc: new Date('2027-02-08T19:00:00Z'),
      },
      {
        line: 3,
        source: { type: 'imap', email: 'bob@example.com', username: 'anna', password: 'Secret-1', server: 'mail.example.com' },
        target: { type: 'office365', email: 'anna@example.net', username: 'anna', password: '', server: '' },
        startAt: '2027-02-01T08:00',
        resyncAt: null,
        startUtc: new Date('2027-02-01T07:00:00Z'),
        resyncUtc: null,
      },
    ]);
    for (const accepted of result.accepted) {
      const parsed = migrationInputSchema.safeParse({ source: accepted.source, target: accepted.target, startAt: accepted.startAt, resyncAt: accepted.resyncAt ?? '' });
      expect(parsed.error?.issues ?? []).toEqual([]);
      expect(parsed.data).toMatchObject({ source: accepted.source, target: accepted.target, startAt: accepted.startAt });
    }
  });

  it('keeps <script> and other markup as plain text, in values, raw and accepted records', () => {
    const markup = '<script>alert(1)</script>';
    const result = check(record({ 'source.username': markup, 'source.password': `<img src=x onerror="x">` }));
    expect(result.lines[0]!.status).toBe('ok');
    expect(result.lines[0]!.values[2]).toBe(markup);
    expect(result.lines[0]!.raw).toContain(markup);
    expect(result.accepted[0]!.source.username).toBe(markup);
    expect(result.accepted[0]!.source.password).toBe('<img src=x onerror="x">');
    // A reason never repeats such a value.
    expect(reason('source.type', markup)).toBe('This is not an account type; use imap, zimbra, kolab, openxchange, exchange or office365.');
  });
});
