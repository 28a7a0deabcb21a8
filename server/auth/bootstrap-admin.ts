import type { Db } from '../db';
import { recordAudit } from '../audit/audit';
import { generatePassword, hashPassword } from './password';
import { normalizeEmail } from './sign-in';

export const DEFAULT_ADMIN_EMAIL = 'admin@mailferry.local';

export type BootstrapResult =
  | { created: false }
  | { created: true; email: string; generatedPassword: string | null };

/**
 * On an installation without any admin, creates one from MAILFERRY_ADMIN_EMAIL /
 * MAILFERRY_ADMIN_PASSWORD, or with a generated password that the caller prints once.
 */
export async function ensureAdmin(
  db: Db,
  env: { MAILFERRY_ADMIN_EMAIL?: string; MAILFERRY_ADMIN_PASSWORD?: string },
): Promise<BootstrapResult> {
  if (await db.user.findFirst({ where: { role: 'admin' }, select: { id: true } })) return { created: false };
  const email = normalizeEmail(env.MAILFERRY_ADMIN_EMAIL ?? DEFAULT_ADMIN_EMAIL);
  const generatedPassword = env.MAILFERRY_ADMIN_PASSWORD ? null : generatePassword();
  const passwordHash = await hashPassword(env.MAILFERRY_ADMIN_PASSWORD ?? generatedPassword!);
  return db.$transaction(async (tx) => {
    // Serialises concurrent first starts (several processes on one fresh database).
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(7264581114)`;
    if (await tx.user.findFirst({ where: { role: 'admin' }, select: { id: true } })) return { created: false } as const;
    const existing = await tx.user.findUnique({ where: { email }, select: { id: true } });
    if (existing) {
      throw new Error(`Cannot create the first admin: ${email} already belongs to a non-admin user. Set MAILFERRY_ADMIN_EMAIL to another address.`);
    }
    const admin = await tx.user.create({ data: { email, passwordHash, role: 'admin', name: 'Administrator' }, select: { id: true } });
    await recordAudit(tx, { action: 'user.bootstrap_admin', targetType: 'user', targetId: admin.id, details: { email } });
    return { created: true, email, generatedPassword } as const;
  });
}
