import { z } from 'zod';
import { isTimeZone } from './portal/time-zone';

const port = z.coerce.number().int().min(1).max(65535);
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const postgresUrl = z
  .string()
  .trim()
  .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must start with postgres:// or postgresql://')
  .optional();

/**
 * Every environment variable Mailferry reads. `npm start` fills DATABASE_URL and
 * NEXTAUTH_SECRET for its own processes when they are unset (embedded database, generated
 * secret kept in the data folder), so only their format is checked here.
 */
export const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
    PORT: port.default(3000),
    // Not HOSTNAME: shells and containers set that to the machine's name.
    MAILFERRY_HOST: z.string().trim().min(1).default('0.0.0.0'),
    DATABASE_URL: postgresUrl.or(z.literal('').transform(() => undefined)),
    NEXTAUTH_URL: z.string().trim().url('must be a URL such as http://localhost:3000').optional(),
    NEXTAUTH_SECRET: optionalString.refine((v) => v === undefined || v.length >= 32, 'must be at least 32 characters'),
    MAILFERRY_DATA_DIR: optionalString,
    MAILFERRY_PG_PORT: port.default(54329),
    MAILFERRY_ADMIN_EMAIL: optionalString.pipe(z.string().email('must be an email address').optional()),
    MAILFERRY_ADMIN_PASSWORD: optionalString.refine(
      (v) => v === undefined || v.length >= 12,
      'must be at least 12 characters',
    ),
    /** Private hosts the account connectors may reach: host, IP or CIDR with optional :port, comma-separated. */
    MAILFERRY_ALLOWED_HOSTS: optionalString,
    /** Hosts where plain-text IMAP/HTTP and unverified certificates are accepted (same syntax). */
    MAILFERRY_INSECURE_HOSTS: optionalString,
    /** A PEM file of extra certificate authorities to trust for account servers. */
    MAILFERRY_TRUSTED_CA_FILE: optionalString,
    /** Sealing keys for stored secrets, "id:base64key" comma-separated, current first. */
    MAILFERRY_SEALING_KEYS: optionalString,
    /** Or a file holding them, one per line. Default: sealing-keys in the data folder. */
    MAILFERRY_SEALING_KEY_FILE: optionalString,
    /** Microsoft 365 endpoints; change them only for national clouds (e.g. login.microsoftonline.us). */
    MAILFERRY_MICROSOFT_AUTHORITY: z.string().trim().url().default('https://login.microsoftonline.com'),
    MAILFERRY_MICROSOFT_GRAPH: z.string().trim().url().default('https://graph.microsoft.com'),
    MAILFERRY_MICROSOFT_IMAP: z.string().trim().default('outlook.office365.com:993'),
    /** How long one migration job copies before it checkpoints and hands over to the next job. */
    MAILFERRY_JOB_TIME_BUDGET_SECONDS: z.coerce.number().int().min(10).max(3 * 3600).default(600),
    /** The time zone start and resync dates are entered in (IANA name); default the machine's. */
    MAILFERRY_TIMEZONE: optionalString.refine((v) => v === undefined || isTimeZone(v), 'must be an IANA time zone such as Europe/Berlin'),
    MAILFERRY_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
    MAILFERRY_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  })
  .superRefine((env, ctx) => {
    if ((env.MAILFERRY_ADMIN_EMAIL === undefined) !== (env.MAILFERRY_ADMIN_PASSWORD === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.MAILFERRY_ADMIN_EMAIL === undefined ? 'MAILFERRY_ADMIN_EMAIL' : 'MAILFERRY_ADMIN_PASSWORD'],
        message: 'must be set together with the other of MAILFERRY_ADMIN_EMAIL / MAILFERRY_ADMIN_PASSWORD',
      });
    }
  });

export type Env = z.infer<typeof envSchema>;

export class EnvError extends Error {
  constructor(readonly problems: { name: string; message: string }[]) {
    super(
      `Invalid environment:\n${problems.map((p) => `  ${p.name}: ${p.message}`).join('\n')}`,
    );
    this.name = 'EnvError';
  }
}

export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const result = envSchema.safeParse(source);
  if (result.success) return result.data;
  throw new EnvError(
    result.error.issues.map((issue) => ({ name: String(issue.path[0] ?? 'environment'), message: issue.message })),
  );
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
