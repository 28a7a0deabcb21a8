/**
 * A small structured logger. Values under keys that look like secrets are replaced before a
 * line is written, so a password passed by mistake never reaches the log.
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/**
 * Fields whose whole value is a secret: these names, and names ending in one of the words
 * (`clientSecret`, `accessToken`, `admin_password`). Only whole fields are masked, never a
 * part of other text: a secret is kept out of messages and other fields in the first place.
 */
const SECRET_FIELDS = new Set(['pass', 'passwd', 'password', 'secret', 'token', 'authorization', 'cookie', 'setcookie', 'ciphertext', 'credential', 'credentials', 'apikey']);
const SECRET_ENDINGS = ['password', 'passwordhash', 'passwd', 'cookie', 'cookies', 'sealingkey', 'sealingkeys', 'secret', 'token', 'ciphertext', 'credential', 'credentials', 'apikey'];

export function isSecretField(key: string): boolean {
  const name = key.toLowerCase().replace(/[-_]/g, '');
  return SECRET_FIELDS.has(name) || SECRET_ENDINGS.some((ending) => name.endsWith(ending));
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: value.message, code: (value as { code?: unknown }).code };
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = isSecretField(key) ? '[redacted]' : redact(item, depth + 1);
  }
  return out;
}

function threshold(): number {
  const level = (process.env.MAILFERRY_LOG_LEVEL ?? 'info') as Level;
  return order[level] ?? order.info;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(scope: string): Logger;
}

export function createLogger(scope: string): Logger {
  const write = (level: Level, message: string, fields?: Record<string, unknown>) => {
    if (order[level] < threshold()) return;
    const extra = fields ? ` ${JSON.stringify(redact(fields))}` : '';
    const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${scope}] ${message}${extra}`;
    if (level === 'error' || level === 'warn') console.error(line);
    else console.log(line);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (sub) => createLogger(`${scope}:${sub}`),
  };
}

export const logger = createLogger('mailferry');
