import type { Db } from '../db';
import { recordAudit } from '../audit/audit';
import { hit, peek, reset, type RateLimitRule } from '../rate-limit/rate-limit';
import { decoyHash, verifyPassword } from './password';
import type { Role } from '../generated/prisma/enums';

export const SIGN_IN_LIMITS = {
  perEmail: { limit: 5, windowSeconds: 15 * 60 },
  perIp: { limit: 50, windowSeconds: 15 * 60 },
} satisfies Record<string, RateLimitRule>;

export interface SignedInUser {
  id: string;
  email: string;
  name: string | null;
  role: Role;
}

export type SignInResult =
  | { ok: true; user: SignedInUser }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number };

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Checks an email and password. Failures are counted per email and per client address; over
 * the limit the answer is "try again later" whether or not the password would have matched.
 */
export async function authenticate(
  db: Db,
  input: { email: string; password: string; ip?: string | null },
): Promise<SignInResult> {
  const email = normalizeEmail(input.email);
  const emailKey = `sign-in:email:${email}`;
  const ipKey = input.ip ? `sign-in:ip:${input.ip}` : undefined;

  const limits = await Promise.all([
    peek(db, emailKey, SIGN_IN_LIMITS.perEmail),
    ipKey ? peek(db, ipKey, SIGN_IN_LIMITS.perIp) : undefined,
  ]);
  const blocked = limits.filter((state) => state?.isLimited);
  if (blocked.length > 0) {
    return { ok: false, reason: 'rate_limited', retryAfterSeconds: Math.max(...blocked.map((s) => s!.retryAfterSeconds)) };
  }

  const user = await db.user.findUnique({
    where: { email },
    select: { id: true, email: true, name: true, role: true, passwordHash: true, organizationId: true },
  });
  const matches = await verifyPassword(user?.passwordHash ?? (await decoyHash()), input.password);
  if (!user || !matches) {
    // Failures are what is counted; the attempt that reaches the limit already says so.
    const after = await Promise.all([
      hit(db, emailKey, SIGN_IN_LIMITS.perEmail).then((s) => ({ ...s, isLimited: s.count >= SIGN_IN_LIMITS.perEmail.limit })),
      ipKey ? hit(db, ipKey, SIGN_IN_LIMITS.perIp).then((s) => ({ ...s, isLimited: s.count >= SIGN_IN_LIMITS.perIp.limit })) : undefined,
    ]);
    await recordAudit(db, {
      action: 'auth.sign_in_failed',
      actorUserId: user?.id,
      organizationId: user?.organizationId,
      details: { email },
      ip: input.ip,
    });
    const limited = after.filter((state) => state?.isLimited);
    if (limited.length > 0) {
      return { ok: false, reason: 'rate_limited', retryAfterSeconds: Math.max(...limited.map((s) => s!.retryAfterSeconds)) };
    }
    return { ok: false, reason: 'invalid' };
  }

  await reset(db, emailKey);
  await db.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
  await recordAudit(db, { action: 'auth.sign_in', actorUserId: user.id, organizationId: user.organizationId, ip: input.ip });
  return { ok: true, user: { id: user.id, email: user.email, name: user.name, role: user.role } };
}
