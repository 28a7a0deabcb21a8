import { regexes } from 'zod';
import { isPortPermitted, isPortPermittedForName, judgeAddress, type AddressPolicy } from '../../accounts/network/address-policy';
import { parseHostRules } from '../../accounts/network/host-rules';
import { parseIpLiteral, type AddressClass } from '../../accounts/network/ip-ranges';
import type { AccountInput } from '../../accounts/schemas';
import { parseServer, ServerAddressError } from '../../accounts/server-address';
import { ACCOUNT_TYPES, type AccountType } from '../../accounts/types';
import { isBlankOrComment, readCsvLine, readCsvLines, splitLines, type CsvLineFields } from '../../csv/lines';
import { resolveLocalTime } from '../../portal/time-zone';
import { resolveTiming } from '../timing';
import {
  MASS_FIELDS,
  MASS_HEADER,
  MAX_MASS_BYTES,
  MAX_MASS_RECORDS,
  type MassCheckContext,
  type MassCheckResult,
  type MassField,
  type MassLine,
  type MassRecord,
} from './types';

/**
 * The mass migration's formal check: every line of the pasted text judged without any network
 * access. The same function runs in the browser while the customer types and on the server,
 * where a submission is refused unless it is clean. Pure: no Node, no database, no logger.
 */

/** A line longer than this is not read as a record (a record is a few hundred characters). */
export const MAX_MASS_LINE_LENGTH = 8_000;

const DATE_FORMATS = 'YYYY-MM-DD HH:MM or DD.MM.YYYY HH:MM';
const STARTS_NOW_NOTE = 'The start is not in the future: the migration starts as soon as it is accepted.';

// The limits and the email pattern of accountSchema (server/accounts/schemas.ts), so that an
// accepted record also passes it.
const EMAIL = regexes.email;
const MAX_EMAIL = 254;
const MAX_USERNAME = 320;
const MAX_PASSWORD = 1024;
const MAX_SERVER = 500;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T| +)(\d{1,2}):(\d{2})$/;
const GERMAN_DATE = /^(\d{1,2})\.(\d{1,2})\.(\d{4}) +(\d{1,2}):(\d{2})$/;
const SHOWABLE = /^[\w.:/+ -]{1,40}$/;

const count = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, one: string, many: string) => `${count(n)} ${n === 1 ? one : many}`;

/** UTF-8 length without encoding the text (what TextEncoder would produce). */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isOverByteLimit(text: string): { over: boolean; bytes: number } {
  // Every UTF-16 unit is at least one byte and at most three.
  if (text.length > MAX_MASS_BYTES) return { over: true, bytes: utf8Length(text) };
  if (text.length * 3 <= MAX_MASS_BYTES) return { over: false, bytes: 0 };
  const bytes = utf8Length(text);
  return { over: bytes > MAX_MASS_BYTES, bytes };
}

/** Trailing empty fields beyond the 12 (a spreadsheet's trailing `;`) are not fields. */
function withoutTrailingEmpty(fields: string[]): string[] {
  let end = fields.length;
  while (end > MASS_FIELDS.length && fields[end - 1]!.trim() === '') end--;
  return end === fields.length ? fields : fields.slice(0, end);
}

function isHeader(fields: string[]): boolean {
  const names = withoutTrailingEmpty(fields);
  return names.length === MASS_FIELDS.length && names.every((name, i) => name.trim().toLowerCase() === MASS_FIELDS[i]);
}

function quoteProblem(problem: NonNullable<CsvLineFields['problem']>): string {
  return problem === 'unclosed_quote'
    ? 'A quotation mark (") is opened but not closed on this line. A field in quotation marks ends on its own line; a " inside it is written twice: "pa;ss""x" is pa;ss"x.'
    : 'A field in quotation marks must end with its closing mark, right before the next ; or the end of the line. A " inside it is written twice: "pa;ss""x" is pa;ss"x.';
}

function fieldCountProblem(found: number): string {
  return `This line has ${plural(found, 'field', 'fields')}; a record has ${MASS_FIELDS.length}, separated by ";": ${MASS_HEADER}.`;
}

const ADDRESS_KINDS: Record<AddressClass, string> = {
  public: 'a public address',
  unspecified: 'the unspecified address, which reaches this machine itself',
  loopback: 'a loopback address (this machine itself)',
  private: 'an address of a private network',
  link_local: 'a link-local address (the local network segment, where cloud metadata services live)',
  cgnat: 'an address of a provider’s shared network (carrier-grade NAT)',
  unique_local: 'an address of a private IPv6 network',
  site_local: 'a site-local IPv6 address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  documentation: 'an address reserved for documentation',
  benchmarking: 'an address reserved for network tests',
  reserved: 'a reserved address',
  invalid: 'not a valid address',
};

interface HostCheckPolicy extends AddressPolicy {
  /** The allowed ports as people read them, for the reason. */
  portList: string;
}

function portReason(port: number, policy: HostCheckPolicy): string {
  return `Port ${port} is not allowed: Mailferry connects to mail and groupware ports (${policy.portList}) unless an administrator allows another.`;
}

/**
 * Where the account's connections go, judged as the host policy would without DNS: an IP
 * literal by its address and the allow rules, every server by its port. Names are resolved
 * (and their addresses judged) only when the records are submitted.
 */
function hostProblem(server: string, policy: HostCheckPolicy): string | null {
  let parsed: ReturnType<typeof parseServer>;
  try {
    parsed = parseServer(server);
  } catch (error) {
    return error instanceof ServerAddressError ? error.message : 'This is not a server address.';
  }
  // An https:// endpoint is for groupware; mail still goes to the host's IMAPS port.
  const ports = parsed.mail ? [parsed.mail.port] : [parsed.url!.port ? Number(parsed.url!.port) : parsed.url!.protocol === 'http:' ? 80 : 443, 993];
  const literal = parseIpLiteral(parsed.host);
  if (literal === null && parsed.host.includes(':')) return 'The server address is not a valid IPv6 address.';
  for (const port of ports) {
    if (!isPortPermitted(policy, port)) return portReason(port, policy);
    if (literal === null) {
      if (!isPortPermittedForName(policy, parsed.host, port)) return portReason(port, policy);
      continue;
    }
    const verdict = judgeAddress(policy, { host: literal, address: literal, port });
    if (!verdict.ok && verdict.refused === 'address') {
      return `${literal} is ${ADDRESS_KINDS[verdict.kind]}. Mailferry connects only to public servers unless an administrator allows the address; give the server’s public name.`;
    }
    if (!verdict.ok) return portReason(port, policy);
  }
  return null;
}

interface SideCheck {
  account: AccountInput | null;
  /** Trimmed, lower-cased; '' when empty. For duplicates and the same-account rule. */
  email: string;
}

interface DateCheck {
  errors: Partial<Record<'startdate' | 'resyncdate', string>>;
  notes: string[];
  startAt: string;
  resyncAt: string | null;
  startUtc: Date | null;
  resyncUtc: Date | null;
}

type LocalDate = { ok: true; local: string } | { ok: false; message: string };

const pad = (value: number) => String(value).padStart(2, '0');

/** `YYYY-MM-DD HH:MM` or `D.M.YYYY H:MM` (one or two digits) → `YYYY-MM-DDTHH:MM`, if the date exists. */
function readLocalDate(text: string, what: string): LocalDate {
  const iso = ISO_DATE.exec(text);
  const german = iso ? null : GERMAN_DATE.exec(text);
  const shown = SHOWABLE.test(text) ? `“${text}”` : 'This';
  if (!iso && !german) return { ok: false, message: `${shown} is not a ${what} in an accepted format: use ${DATE_FORMATS}.` };
  const [year, month, day, hour, minute] = (iso ? [iso[1], iso[2], iso[3], iso[4], iso[5]] : [german![3], german![2], german![1], german![4], german![5]]).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const check = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || month > 12 || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59) {
    return { ok: false, message: `${shown} is not a date and time that exists; use ${DATE_FORMATS}.` };
  }
  return { ok: true, local: `${String(year).padStart(4, '0')}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}` };
}

function checkDates(startDate: LocalDate, resyncDate: LocalDate | null, context: MassCheckContext): DateCheck {
  const result: DateCheck = { errors: {}, notes: [], startAt: '', resyncAt: null, startUtc: null, resyncUtc: null };
  if (!startDate.ok) result.errors.startdate = startDate.message;
  if (resyncDate && !resyncDate.ok) result.errors.resyncdate = resyncDate.message;
  if (!startDate.ok) {
    // The resync can still be judged on its own: a time the clocks skip.
    if (resyncDate?.ok) {
      const alone = resolveLocalTime(resyncDate.local, context.zone);
      if (!alone.ok) result.errors.resyncdate = alone.message;
    }
    return result;
  }
  if (resyncDate && !resyncDate.ok) {
    const alone = resolveLocalTime(startDate.local, context.zone);
    if (!alone.ok) result.errors.startdate = alone.message;
    return result;
  }
  // The single form's rules: a skipped time refused, a repeated one taken at its first
  // occurrence, a past start meaning now, the resync after the start.
  const timing = resolveTiming({ startAt: startDate.local, resyncAt: resyncDate?.local ?? null }, context.zone, context.now);
  if (!timing.ok) {
    if (timing.errors.startAt) result.errors.startdate = timing.errors.startAt;
    if (timing.errors.resyncAt) result.errors.resyncdate = timing.errors.resyncAt;
    return result;
  }
  result.startAt = startDate.local;
  result.resyncAt = resyncDate?.local ?? null;
  result.startUtc = timing.startAt;
  result.resyncUtc = timing.resyncAt;
  result.notes = timing.startsNow ? [STARTS_NOW_NOTE, ...timing.notes] : timing.notes;
  return result;
}

class Checker {
  private readonly policy: HostCheckPolicy;
  private readonly servers = new Map<string, string | null>();
  private readonly dates = new Map<string, DateCheck>();
  private readonly locals = new Map<string, LocalDate>();

  constructor(private readonly context: MassCheckContext) {
    // Rules that do not parse were refused where they were set; they allow nothing here.
    const { rules } = parseHostRules(context.hosts.allow.join('\n'));
    this.policy = { allow: rules, allowedPorts: context.hosts.allowedPorts, portList: context.hosts.allowedPorts.join(', ') };
  }

  side(prefix: 'source' | 'target', values: string[], offset: number, fields: MassLine['fields']): SideCheck {
    const key = (name: string) => `${prefix}.${name}` as MassField;
    const typeText = values[offset]!.trim().toLowerCase();
    const emailText = values[offset + 1]!.trim().toLowerCase();
    const username = values[offset + 2]!.trim();
    const password = values[offset + 3]!;
    const server = values[offset + 4]!.trim();
    const before = Object.keys(fields).length;

    const type = ACCOUNT_TYPES.find((t) => t === typeText);
    if (!type) {
      const raw = values[offset]!.trim();
      const shown = raw === '' ? 'The account type is missing' : /^[\w.-]{1,20}$/.test(raw) ? `“${raw}” is not an account type` : 'This is not an account type';
      fields[key('type')] = `${shown}; use ${ACCOUNT_TYPES.slice(0, -1).join(', ')} or ${ACCOUNT_TYPES.at(-1)!}.`;
    }

    if (emailText === '') fields[key('email')] = 'The email address is missing.';
    else if (emailText.length > MAX_EMAIL) fields[key('email')] = `The email address is longer than ${MAX_EMAIL} characters.`;
    else if (!EMAIL.test(emailText)) fields[key('email')] = 'This is not a valid email address.';

    if (username === '') fields[key('username')] = 'The username is missing.';
    else if (username.length > MAX_USERNAME) fields[key('username')] = `The username is longer than ${MAX_USERNAME} characters.`;

    if (password.length > MAX_PASSWORD) fields[key('password')] = `The password is longer than ${count(MAX_PASSWORD)} characters.`;
    else if (password === '' && !(type === 'office365' && this.context.microsoft365)) {
      fields[key('password')] =
        type === 'office365'
          ? 'The password is missing. An office365 account may leave it empty only when the organization has a Microsoft 365 connection, and it has none.'
          : 'The password is missing.';
    }

    const serverProblem = this.server(server, type);
    if (serverProblem) fields[key('server')] = serverProblem;

    const isValid = Object.keys(fields).length === before;
    return { account: isValid ? { type: type!, email: emailText, username, password, server } : null, email: emailText };
  }

  private server(server: string, type: AccountType | undefined): string | null {
    // outlook.office365.com, or the national cloud's, when empty.
    if (server === '') return type === 'office365' ? null : 'The server address is missing.';
    if (server.length > MAX_SERVER) return `The server address is longer than ${MAX_SERVER} characters.`;
    let problem = this.servers.get(server);
    if (problem === undefined) {
      problem = hostProblem(server, this.policy);
      this.servers.set(server, problem);
    }
    return problem;
  }

  timing(start: string, resync: string): DateCheck {
    const startDate: LocalDate = start === '' ? { ok: false, message: `The start date is missing; use ${DATE_FORMATS}.` } : this.local(start, 'start date and time');
    const resyncDate = resync === '' ? null : this.local(resync, 'resync date and time');
    // 5,000 records usually share a few dozen dates, whatever their notation; Intl's time zone
    // arithmetic is the slow part. Reasons quote the text as typed, so those go by the text.
    const key =
      startDate.ok && (resyncDate === null || resyncDate.ok) ? `=${startDate.local}\u0000${resyncDate?.local ?? ''}` : `?${start}\u0000${resync}`;
    let result = this.dates.get(key);
    if (!result) {
      result = checkDates(startDate, resyncDate, this.context);
      this.dates.set(key, result);
    }
    return result;
  }

  private local(text: string, what: string): LocalDate {
    const key = `${what}\u0000${text}`;
    let result = this.locals.get(key);
    if (!result) {
      result = readLocalDate(text, what);
      this.locals.set(key, result);
    }
    return result;
  }
}

function inFieldOrder(fields: MassLine['fields']): MassLine['fields'] {
  const ordered: MassLine['fields'] = {};
  for (const name of MASS_FIELDS) if (fields[name] !== undefined) ordered[name] = fields[name];
  return ordered;
}

function ignored(line: number, raw: string): MassLine {
  return { line, status: 'ignored', duplicateOf: null, fields: {}, problem: null, notes: [], values: [], raw };
}

export function formalCheck(text: string, context: MassCheckContext): MassCheckResult {
  const physical = splitLines(text);
  const lines: MassLine[] = [];
  const recordIndexes: number[] = [];
  let firstContent = true;
  for (let i = 0; i < physical.length; i++) {
    const raw = physical[i]!;
    if (isBlankOrComment(raw)) continue;
    if (firstContent) {
      firstContent = false;
      if (raw.length <= MAX_MASS_LINE_LENGTH && isHeader(readCsvLine(raw, ';').fields)) continue;
    }
    recordIndexes.push(i);
  }
  const records = recordIndexes.length;
  const refuse = (error: string): MassCheckResult => ({ records, clean: false, error, lines: [], accepted: [] });

  const size = isOverByteLimit(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  if (size.over) {
    return refuse(
      `This list has ${count(size.bytes)} bytes; at most ${count(MAX_MASS_BYTES)} bytes (${MAX_MASS_BYTES / 1_000_000} MB) can be submitted at once. Split it and submit the parts one after the other.`,
    );
  }
  if (records > MAX_MASS_RECORDS) {
    return refuse(`This list has ${count(records)} records; at most ${count(MAX_MASS_RECORDS)} can be submitted at once. Split it and submit the parts one after the other.`);
  }

  const parsed = readCsvLines(
    recordIndexes.map((i) => physical[i]!),
    ';',
  );
  const checker = new Checker(context);
  const firstLineOf = new Map<string, number>();
  const active = new Set(context.active.map((pair) => `${pair.source.trim().toLowerCase()}\u0000${pair.target.trim().toLowerCase()}`));
  const accepted: MassRecord[] = [];
  let next = 0;

  for (let i = 0; i < physical.length; i++) {
    const raw = physical[i]!;
    const line = i + 1;
    if (recordIndexes[next] !== i) {
      lines.push(ignored(line, raw));
      continue;
    }
    const { fields: values, problem: quoting } = parsed[next]!;
    next++;
    const verdict: MassLine = { line, status: 'invalid', duplicateOf: null, fields: {}, problem: null, notes: [], values, raw };
    lines.push(verdict);

    if (raw.length > MAX_MASS_LINE_LENGTH) {
      verdict.problem = `This line has ${count(raw.length)} characters; a record has at most ${count(MAX_MASS_LINE_LENGTH)}.`;
      continue;
    }
    if (quoting) {
      verdict.problem = quoteProblem(quoting);
      continue;
    }
    const record = withoutTrailingEmpty(values);
    if (record.length !== MASS_FIELDS.length) {
      verdict.problem = fieldCountProblem(record.length);
      continue;
    }
    verdict.values = record;

    const source = checker.side('source', record, 0, verdict.fields);
    const target = checker.side('target', record, 5, verdict.fields);
    const dates = checker.timing(record[10]!.trim(), record[11]!.trim());
    Object.assign(verdict.fields, dates.errors);
    verdict.notes = [...dates.notes];

    // The single form's rule (server/migrations/schemas.ts): the same mailbox on both sides.
    const sameUser = record[2]!.trim().toLowerCase() === record[7]!.trim().toLowerCase();
    const sameServer = record[4]!.trim().toLowerCase() === record[9]!.trim().toLowerCase();
    if (source.email !== '' && source.email === target.email && sameUser && sameServer && !verdict.fields['target.email']) {
      verdict.fields['target.email'] = 'The target must be a different mailbox than the source.';
    }

    if (source.email !== '' && target.email !== '') {
      const pair = `${source.email}\u0000${target.email}`;
      const earlier = firstLineOf.get(pair);
      if (earlier !== undefined) {
        verdict.duplicateOf = earlier;
        verdict.problem = `duplicate of line ${earlier}`;
      } else {
        firstLineOf.set(pair, line);
        if (active.has(pair)) verdict.problem = 'already being migrated';
      }
    }

    const wrong = Object.keys(verdict.fields).length;
    if (wrong > 0) {
      if (wrong > 1) verdict.fields = inFieldOrder(verdict.fields);
      continue;
    }
    if (verdict.problem !== null) {
      verdict.status = 'duplicate';
      continue;
    }
    verdict.status = 'ok';
    accepted.push({
      line,
      source: source.account!,
      target: target.account!,
      startAt: dates.startAt,
      resyncAt: dates.resyncAt,
      startUtc: dates.startUtc!,
      resyncUtc: dates.resyncUtc,
    });
  }

  if (records === 0) return { records, clean: false, error: 'Paste the records or choose a file: there is no record in this text.', lines, accepted: [] };
  const clean = lines.every((l) => l.status === 'ok' || l.status === 'ignored');
  return { records, clean, error: null, lines, accepted };
}
