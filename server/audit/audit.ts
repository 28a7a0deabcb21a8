import type { Db } from '../db';
import type { Prisma } from '../generated/prisma/client';
import { createLogger } from '../logger';

const log = createLogger('audit');

export interface AuditInput {
  action: string;
  actorUserId?: string | null;
  organizationId?: string | null;
  targetType?: string;
  targetId?: string;
  /** Never a secret: this is shown to admins. See `secretsIn`. */
  details?: Prisma.InputJsonValue;
  ip?: string | null;
}

type AuditClient = Pick<Db, 'auditEvent'>;

// Detail names that hold (or are) a secret, compared lower-case without "_" and "-", when their
// value is text or structure: a count or a flag about one ("keysRevoked", "generated") passes.
const SECRET_NAME = /pass(word|wd|phrase)?$|^pwd$|secret|token|sealed|credential|privatekey|apikey|cookie|authorization|^(licence|license)?key(body)?$|sessionid/;
// Values that are a secret whatever their name: a whole licence key, a PEM private key, a JWT,
// a value sealed by server/crypto/seal.ts.
const SECRET_VALUE = [
  /\bMF-?[2-9A-HJKMNP-TV-Y]{5}-?[2-9A-HJKMNP-TV-Y]{5}-?[2-9A-HJKMNP-TV-Y]{5}-?[2-9A-HJKMNP-TV-Y]{5}\b/i,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]+/,
  /^v1\.[\w-]+\.[\w-]{16}\.[\w-]{16,}$/,
];

/** The paths ("details.password", "details.lines[2].token") of what looks like a secret in `value`. */
export function secretsIn(value: unknown, path = 'details'): string[] {
  if (typeof value === 'string') return SECRET_VALUE.some((pattern) => pattern.test(value)) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => secretsIn(item, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) =>
      SECRET_NAME.test(key.toLowerCase().replace(/[-_]/g, '')) && (typeof item === 'string' || (item !== null && typeof item === 'object')) ? [`${path}.${key}`] : secretsIn(item, `${path}.${key}`),
    );
  }
  return [];
}

export class AuditSecretError extends Error {
  constructor(
    readonly action: string,
    readonly paths: string[],
  ) {
    super(`The audit entry "${action}" would hold what looks like a secret (${paths.join(', ')}); audit details take counts, codes and names only.`);
    this.name = 'AuditSecretError';
  }
}

/** `details` with every secret-looking part replaced by "[removed]". */
function withoutSecrets(value: unknown, paths: Set<string>, path = 'details'): unknown {
  if (paths.has(path)) return '[removed]';
  if (Array.isArray(value)) return value.map((item, i) => withoutSecrets(item, paths, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withoutSecrets(item, paths, `${path}.${key}`)]));
  return value;
}

/**
 * Records one audit entry. Details that look like a secret are a programming mistake: outside
 * production (tests, development) they throw, so the mistake is found before it ships; in
 * production the entry is still written, those parts replaced by "[removed]", and the mistake
 * logged by path, never by value. The action itself (a sign-in, a cancel) must not fail for a
 * wrong log line, and the secret must never reach the table.
 */
export async function recordAudit(db: AuditClient, input: AuditInput): Promise<void> {
  let details = input.details;
  const secrets = details === undefined ? [] : secretsIn(details);
  if (secrets.length > 0) {
    const error = new AuditSecretError(input.action, secrets);
    if (process.env.NODE_ENV !== 'production') throw error;
    log.error('audit details held what looks like a secret; those parts were left out', { action: input.action, paths: secrets });
    details = withoutSecrets(details, new Set(secrets)) as Prisma.InputJsonValue;
  }
  await db.auditEvent.create({
    data: {
      action: input.action,
      actorUserId: input.actorUserId ?? null,
      organizationId: input.organizationId ?? null,
      targetType: input.targetType,
      targetId: input.targetId,
      details,
      ip: input.ip ?? null,
    },
  });
}

/**
 * The end of a migration (finished, incomplete, failed), recorded by the worker in the ending
 * transaction. No actor (the worker ended it) and no failure text: a reason may name a server or
 * an address, which the audit log keeps longer than the migration's details.
 */
export async function recordMigrationEnd(
  tx: Pick<Db, 'auditEvent' | 'migration'>,
  migrationId: string,
  action: 'migration.finish' | 'migration.finish_incomplete' | 'migration.fail',
  details: Record<string, string | number | boolean | null> = {},
): Promise<void> {
  const migration = await tx.migration.findUnique({ where: { id: migrationId }, select: { organizationId: true, copiedMessages: true, totalMessages: true } });
  if (!migration) return;
  await recordAudit(tx, {
    action,
    organizationId: migration.organizationId,
    targetType: 'migration',
    targetId: migrationId,
    details: { copiedMessages: migration.copiedMessages, totalMessages: migration.totalMessages, ...details },
  });
}
