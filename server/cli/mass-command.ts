import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_ALLOWED_PORTS } from '../accounts/network/host-policy';
import { formatHostRule, parseHostRules } from '../accounts/network/host-rules';
import type { Env } from '../env';
import { formalCheck } from '../migrations/mass/formal-check';
import { MASS_HEADER, type MassCheckContext, type MassCheckResult, type MassLine } from '../migrations/mass/types';
import { isTimeZone } from '../portal/time-zone';
import type { Command } from './commands';

/** What `mass check --json` prints per line: the verdict, never a value as typed. */
export interface MassCheckJsonLine {
  line: number;
  status: MassLine['status'];
  duplicateOf: number | null;
  fields: MassLine['fields'];
  problem: string | null;
}

export interface MassCheckJson {
  records: number;
  clean: boolean;
  error: string | null;
  lines: MassCheckJsonLine[];
}

class UsageError extends Error {}

/**
 * The portal's context without a database or network: the time zone and allow rules of the
 * environment, the default ports, no active migrations.
 */
export function massCliContext(env: Pick<Env, 'MAILFERRY_TIMEZONE' | 'MAILFERRY_ALLOWED_HOSTS'>, options: { now: Date; microsoft365: boolean }): MassCheckContext {
  const configured = env.MAILFERRY_TIMEZONE?.trim();
  const zone = configured && isTimeZone(configured) ? configured : Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const { rules, errors } = parseHostRules(env.MAILFERRY_ALLOWED_HOSTS ?? '');
  if (errors.length > 0) throw new UsageError(`MAILFERRY_ALLOWED_HOSTS: ${errors.join('; ')}`);
  return { zone, now: options.now, active: [], microsoft365: options.microsoft365, hosts: { allow: rules.map(formatHostRule), allowedPorts: DEFAULT_ALLOWED_PORTS } };
}

export function massCheckJson(result: MassCheckResult): MassCheckJson {
  return {
    records: result.records,
    clean: result.clean,
    error: result.error,
    lines: result.lines.map(({ line, status, duplicateOf, fields, problem }) => ({ line, status, duplicateOf, fields, problem })),
  };
}

const plural = (n: number, one: string, many: string) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** One line per record (ignored lines left out), then the summary. */
export function massCheckLines(result: MassCheckResult): string[] {
  if (result.error) return [`✗ ${result.error}`];
  const out: string[] = [];
  const counts = { ok: 0, invalid: 0, duplicate: 0 };
  for (const line of result.lines) {
    if (line.status === 'ignored') continue;
    counts[line.status]++;
    const notes = line.notes.map((note) => ` (${note})`).join('');
    if (line.status === 'ok') out.push(`line ${line.line}: ok${notes}`);
    else if (line.status === 'duplicate') out.push(`line ${line.line}: ${line.problem ?? 'duplicate'}`);
    else {
      // Reasons are sentences; on one line they read as a list.
      const bare = (sentence: string) => sentence.replace(/\.$/, '');
      const reasons = [...(line.problem ? [bare(line.problem)] : []), ...Object.entries(line.fields).map(([field, reason]) => `${field}: ${bare(reason)}`)];
      out.push(`line ${line.line}: invalid: ${reasons.join('; ')}`);
    }
  }
  const parts = [`${counts.ok.toLocaleString('en-US')} ok`, ...(counts.invalid ? [`${counts.invalid.toLocaleString('en-US')} invalid`] : []), ...(counts.duplicate ? [`${counts.duplicate.toLocaleString('en-US')} duplicate`] : [])];
  out.push(`${plural(result.records, 'record', 'records')}: ${parts.join(', ')}. ${result.clean ? 'Clean: the list can be submitted.' : 'Not clean: correct the lines above, then check again.'}`);
  return out;
}

const FLAGS = ['json', 'microsoft365'] as const;

/** `npm run` starts commands in the project folder; a relative path means the folder it was typed in. */
function userPath(file: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), file);
}

async function readList(file: string): Promise<string> {
  try {
    return file === '-' ? await readStdin() : await readFile(userPath(file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'there is no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : String((error as Error).message);
    throw new UsageError(`Cannot read ${file}: ${why}.`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const massCommand: Command = {
  name: 'mass',
  summary: 'Check a mass migration list (formal check, no network), as the portal does before a submission.',
  usage: [
    'npm run ferry -- mass check FILE [--json] [--microsoft365]',
    '',
    `FILE holds one record per line (or - for standard input): ${MASS_HEADER}`,
    'The time zone of the dates is MAILFERRY_TIMEZONE (else the machine\'s); private servers are',
    'allowed by MAILFERRY_ALLOWED_HOSTS, ports are the default ones. Host names are not resolved.',
    '',
    'Options:',
    '  --json           print one JSON object: {"records", "clean", "error", "lines": [{"line", "status",',
    '                   "duplicateOf", "fields", "problem"}]}',
    '  --microsoft365   the organization has a Microsoft 365 connection: office365 passwords may be empty',
    '',
    'Exit status: 0 clean, 1 not clean, 2 wrong usage or a file that cannot be read.',
  ].join('\n'),
  async run({ env, args, options, out }) {
    const fail = (message: string) => {
      console.error(`${message}\nUsage: ${this.usage.split('\n')[0]!} (--help tells more)`);
      return 2;
    };
    try {
      const [action, ...rest] = args;
      // `--json FILE` reads as an option with a value; the file is meant.
      const files = [...rest];
      for (const name of FLAGS) {
        const value = options[name];
        if (typeof value === 'string') files.push(value);
      }
      if (action !== 'check') return fail(action ? `Unknown action "${action}": the only one is check.` : 'Name the action: mass check FILE.');
      if (files.length !== 1) return fail(files.length === 0 ? 'Name the file to check.' : `Name one file (got ${files.length}).`);
      const unknown = Object.keys(options).filter((name) => !(FLAGS as readonly string[]).includes(name));
      if (unknown.length) return fail(`Unknown option ${unknown.map((name) => `--${name}`).join(', ')}.`);
      const json = options.json !== undefined;
      const context = massCliContext(env, { now: new Date(), microsoft365: options.microsoft365 !== undefined });
      const result = formalCheck(await readList(files[0]!), context);
      if (json) out(JSON.stringify(massCheckJson(result)));
      else for (const line of massCheckLines(result)) out(line);
      return result.clean ? 0 : 1;
    } catch (error) {
      if (error instanceof UsageError) return fail(error.message);
      throw error;
    }
  },
};
