import type { Db } from '../db';
import { recordAudit } from '../audit/audit';
import { hit, peek, reset, type RateLimitRule } from '../rate-limit/rate-limit';
import { decoyHash, verifyPassword } from './password';
import type { Role } from '../generated/prisma/enums';

/**
 * Refusals are counted per client: a client that guesses one address (perClientEmail) or many
 * (perClient) is refused for the rest of the window. Failures for an address from everywhere
 * (perEmail) never refuse anyone, or a stranger could keep the address's owner out; they only
 * make each further wrong answer slower (ADDRESS_DELAY).
 */
export const SIGN_IN_LIMITS = {
  perClientEmail: { limit: 5, windowSeconds: 15 * 60 },
  perClient: { limit: 50, windowSeconds: 15 * 60 },
  perEmail: { limit: Number.MAX_SAFE_INTEGER, windowSeconds: 15 * 60 },
} satisfies Record<string, RateLimitRule>;

/** A wrong password for an address that failed this often in the window waits before its answer. */
export const ADDRESS_DELAY = { afterFailures: 5, firstMs: 250, maxMs: 3_000 } as const;

/** The wait before the answer to the `failures`-th wrong password for one address in a window. */
export function addressDelayMs(failures: number): number {
  if (failures <= ADDRESS_DELAY.afterFailures) return 0;
  const doublings = Math.min(failures - ADDRESS_DELAY.afterFailures - 1, 16);
  return Math.min(ADDRESS_DELAY.maxMs, ADDRESS_DELAY.firstMs * 2 ** doublings);
}

export interface SignedInUser {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  sessionVersion: number;
}

export type SignInResult =
  | { ok: true; user: SignedInUser }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number };

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export interface AuthenticateOptions {
  /** Waits the address delay; tests pass their own clock. */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Checks an email and password. A client over one of its limits is told to try again later,
 * whether or not the password would have matched; the right password from any other client
 * signs in at once. A disabled user gets the answer of a wrong password.
 */
export async function authenticate(
  db: Db,
  input: { email: string; password: string; ip?: string | null },
  options: AuthenticateOptions = {},
): Promise<SignInResult> {
  const email = normalizeEmail(input.email);
  // Without a client address (not a web request) only the address's own counter applies.
  const clientKeys = input.ip
    ? { perClientEmail: `sign-in:client-email:${input.ip}:${email}`, perClient: `sign-in:client:${input.ip}` }
    : null;
  const emailKey = `sign-in:email:${email}`;

  const limits = clientKeys
    ? await Promise.all([peek(db, clientKeys.perClientEmail, SIGN_IN_LIMITS.perClientEmail), peek(db, clientKeys.perClient, SIGN_IN_LIMITS.perClient)])
    : [];
  const blocked = limits.filter((state) => state.isLimited);
  if (blocked.length > 0) {
    return { ok: false, reason: 'rate_limited', retryAfterSeconds: Math.max(...blocked.map((s) => s.retryAfterSeconds)) };
  }

  const user = await db.user.findUnique({
    where: { email },
    select: { id: true, email: true, name: true, role: true, passwordHash: true, organizationId: true, disabledAt: true, sessionVersion: true },
  });
  const matches = await verifyPassword(user?.passwordHash ?? (await decoyHash()), input.password);
  if (!user || !matches || user.disabledAt) {
    // Failures are what is counted; the attempt that reaches a client's limit already says so.
    const [perEmail, perClientEmail, perClient] = await Promise.all([
      hit(db, emailKey, SIGN_IN_LIMITS.perEmail),
      clientKeys ? hit(db, clientKeys.perClientEmail, SIGN_IN_LIMITS.perClientEmail) : null,
      clientKeys ? hit(db, clientKeys.perClient, SIGN_IN_LIMITS.perClient) : null,
    ]);
    await recordAudit(db, {
      action: 'auth.sign_in_failed',
      actorUserId: user?.id,
      organizationId: user?.organizationId,
      details: user?.disabledAt && matches ? { email, disabled: true } : { email },
      ip: input.ip,
    });
    const delay = addressDelayMs(perEmail.count);
    if (delay > 0) await (options.sleep ?? realSleep)(delay);
    const limited = [
      { state: perClientEmail, rule: SIGN_IN_LIMITS.perClientEmail },
      { state: perClient, rule: SIGN_IN_LIMITS.perClient },
    ].flatMap(({ state, rule }) => (state && state.count >= rule.limit ? [state] : []));
    if (limited.length > 0) {
      return { ok: false, reason: 'rate_limited', retryAfterSeconds: Math.max(...limited.map((state) => state.retryAfterSeconds)) };
    }
    return { ok: false, reason: 'invalid' };
  }

  if (clientKeys) await reset(db, clientKeys.perClientEmail);
  await db.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
  await recordAudit(db, { action: 'auth.sign_in', actorUserId: user.id, organizationId: user.organizationId, ip: input.ip });
  return { ok: true, user: { id: user.id, email: user.email, name: user.name, role: user.role, sessionVersion: user.sessionVersion } };
}
