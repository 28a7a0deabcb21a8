import { parseTrustedProxies } from './runtime/forwarded-for.mjs';
import { fromAddressOf, parseSmtpUrl, SmtpUrlError } from './notifications/smtp-url';
import { isTimeZone } from './portal/time-zone';

/*
 * The environment is read without a schema library: every command-line run reads it, and
 * loading one would be a noticeable part of a short run's start.
 */

class Invalid extends Error {}

/** One variable: its value from the raw text, or Invalid with what is wrong. */
type Reader<T> = (raw: string | undefined) => T;

/** Unset, empty and blank all mean "not given"; values are trimmed. */
function given(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  return value ? value : undefined;
}

function text(check?: (value: string) => boolean, message = 'is not valid'): Reader<string | undefined> {
  return (raw) => {
    const value = given(raw);
    if (value !== undefined && check && !check(value)) throw new Invalid(message);
    return value;
  };
}

function wholeNumber(min: number, max: number): Reader<number | undefined> {
  return (raw) => {
    const value = given(raw);
    if (value === undefined) return undefined;
    const number = Number(value);
    if (!Number.isInteger(number) || number < min || number > max) throw new Invalid(`must be a whole number from ${min} to ${max}`);
    return number;
  };
}

function oneOf<const T extends string>(values: readonly T[]): Reader<T | undefined> {
  return (raw) => {
    const value = given(raw);
    if (value !== undefined && !values.includes(value as T)) throw new Invalid(`must be one of ${values.join(', ')}`);
    return value as T | undefined;
  };
}

function orDefault<T>(read: Reader<T | undefined>, fallback: T): Reader<T> {
  return (raw) => read(raw) ?? fallback;
}

function isTrustedProxyList(value: string): boolean {
  try {
    parseTrustedProxies(value);
    return true;
  } catch {
    return false;
  }
}

/** The SMTP URL's own reasons (server/notifications/smtp-url.ts); never its value, which holds a password. */
function smtpUrl(raw: string | undefined): string | undefined {
  const value = given(raw);
  if (value === undefined) return undefined;
  try {
    parseSmtpUrl(value);
  } catch (error) {
    if (error instanceof SmtpUrlError) throw new Invalid(error.message);
    throw error;
  }
  return value;
}

const isUrl = (value: string) => /^https?:\/\//i.test(value) && URL.canParse(value);
const port = wholeNumber(1, 65535);

/**
 * Every environment variable Mailferry reads. `npm start` fills DATABASE_URL and
 * NEXTAUTH_SECRET for its own processes when they are unset (embedded database, generated
 * secret kept in the data folder), so only their format is checked here.
 */
const variables = {
  NODE_ENV: orDefault(oneOf(['development', 'production', 'test']), 'production'),
  PORT: orDefault(port, 3000),
  // Not HOSTNAME: shells and containers set that to the machine's name.
  MAILFERRY_HOST: orDefault(text(), '0.0.0.0'),
  DATABASE_URL: text((v) => /^postgres(ql)?:\/\//.test(v), 'must start with postgres:// or postgresql://'),
  NEXTAUTH_URL: text(isUrl, 'must be a URL such as http://localhost:3000'),
  NEXTAUTH_SECRET: text((v) => v.length >= 32, 'must be at least 32 characters'),
  MAILFERRY_DATA_DIR: text(),
  MAILFERRY_PG_PORT: orDefault(port, 54329),
  MAILFERRY_ADMIN_EMAIL: text((v) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v), 'must be an email address'),
  MAILFERRY_ADMIN_PASSWORD: text((v) => v.length >= 12, 'must be at least 12 characters'),
  /** Private hosts the account connectors may reach: host, IP or CIDR with optional :port, comma-separated. */
  MAILFERRY_ALLOWED_HOSTS: text(),
  /** Hosts where plain-text IMAP/HTTP and unverified certificates are accepted (same syntax). */
  MAILFERRY_INSECURE_HOSTS: text(),
  /** Reverse proxies whose X-Forwarded-For is believed: addresses or CIDR ranges; loopback when unset. */
  MAILFERRY_TRUSTED_PROXIES: text(isTrustedProxyList, 'must be IP addresses or CIDR ranges, comma-separated (e.g. 10.0.0.0/8,192.0.2.7)'),
  /** A PEM file of extra certificate authorities to trust for account servers. */
  MAILFERRY_TRUSTED_CA_FILE: text(),
  /** Sealing keys for stored secrets, "id:base64key" comma-separated, current first. */
  MAILFERRY_SEALING_KEYS: text(),
  /** Or a file holding them, one per line. Default: sealing-keys in the data folder. */
  MAILFERRY_SEALING_KEY_FILE: text(),
  /** Microsoft 365 endpoints; change them only for national clouds (e.g. login.microsoftonline.us). */
  MAILFERRY_MICROSOFT_AUTHORITY: orDefault(text(isUrl, 'must be a URL'), 'https://login.microsoftonline.com'),
  MAILFERRY_MICROSOFT_GRAPH: orDefault(text(isUrl, 'must be a URL'), 'https://graph.microsoft.com'),
  MAILFERRY_MICROSOFT_IMAP: orDefault(text(), 'outlook.office365.com:993'),
  /** How long one migration job copies before it checkpoints and hands over to the next job. */
  MAILFERRY_JOB_TIME_BUDGET_SECONDS: orDefault(wholeNumber(10, 3 * 3600), 600),
  /** The time zone start and resync dates are entered in (IANA name); default the machine's. */
  MAILFERRY_TIMEZONE: text(isTimeZone, 'must be an IANA time zone such as Europe/Berlin'),
  MAILFERRY_WORKER_CONCURRENCY: orDefault(wholeNumber(1, 64), 4),
  /**
   * How often each worker says in the database that it is alive. A worker silent for four beats is
   * taken for dead and its jobs go to another worker (server/jobs/heartbeat.ts).
   */
  MAILFERRY_WORKER_HEARTBEAT_SECONDS: orDefault(wholeNumber(1, 300), 15),
  /** The SMTP server migration e-mails go out through; without it none are sent. */
  MAILFERRY_SMTP_URL: smtpUrl,
  /** The sender of those e-mails: an address, or "Name <address>". */
  MAILFERRY_MAIL_FROM: text((v) => fromAddressOf(v) !== null, 'must be an e-mail address, or a name and an address such as Mailferry <mailferry@example.com>'),
  /** Days after its end that a migration keeps its personal data (addresses, folder names, reports); 0 keeps it forever. */
  MAILFERRY_RETENTION_DAYS: orDefault(wholeNumber(0, 36_500), 90),
  MAILFERRY_LOG_LEVEL: orDefault(oneOf(['debug', 'info', 'warn', 'error']), 'info'),
};

export type Env = { [Name in keyof typeof variables]: ReturnType<(typeof variables)[Name]> };

export class EnvError extends Error {
  constructor(readonly problems: { name: string; message: string }[]) {
    super(
      `Invalid environment:\n${problems.map((p) => `  ${p.name}: ${p.message}`).join('\n')}`,
    );
    this.name = 'EnvError';
  }
}

export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const problems: { name: string; message: string }[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, read] of Object.entries(variables)) {
    try {
      values[name] = read(source[name]);
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      problems.push({ name, message: error.message });
    }
  }
  const env = values as Env;
  if (problems.length === 0 && (env.MAILFERRY_ADMIN_EMAIL === undefined) !== (env.MAILFERRY_ADMIN_PASSWORD === undefined)) {
    problems.push({
      name: env.MAILFERRY_ADMIN_EMAIL === undefined ? 'MAILFERRY_ADMIN_EMAIL' : 'MAILFERRY_ADMIN_PASSWORD',
      message: 'must be set together with the other of MAILFERRY_ADMIN_EMAIL / MAILFERRY_ADMIN_PASSWORD',
    });
  }
  if (problems.length === 0 && env.MAILFERRY_SMTP_URL !== undefined && env.MAILFERRY_MAIL_FROM === undefined) {
    problems.push({ name: 'MAILFERRY_MAIL_FROM', message: 'must be set when MAILFERRY_SMTP_URL is: the address migration e-mails are sent from' });
  }
  if (problems.length === 0 && env.MAILFERRY_MAIL_FROM !== undefined && env.MAILFERRY_SMTP_URL === undefined) {
    problems.push({ name: 'MAILFERRY_SMTP_URL', message: 'must be set when MAILFERRY_MAIL_FROM is: the SMTP server migration e-mails are sent through (smtp:// or smtps://)' });
  }
  if (problems.length > 0) throw new EnvError(problems);
  return env;
}

let cached: Env | undefined;

/** The validated environment of this process (parsed once). */
export function env(): Env {
  cached ??= parseEnv();
  return cached;
}

/** For processes that need the database: DATABASE_URL must be known by now. */
export function databaseUrl(): string {
  const url = env().DATABASE_URL;
  if (!url) throw new EnvError([{ name: 'DATABASE_URL', message: 'is not set (start Mailferry with npm start, which provides it)' }]);
  return url;
}
