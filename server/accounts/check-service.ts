import type { Db } from '../db';
import { env } from '../env';
import type { Role } from '../generated/prisma/enums';
import { keyRing } from '../crypto/runtime';
import { UnsealError } from '../crypto/seal';
import { createLogger } from '../logger';
import { hit, type RateLimitRule } from '../rate-limit/rate-limit';
import { checkAccountPair, microsoftEndpoints, type CheckEnvironment, type PairCheck } from './check';
import { audienceOf } from './messages';
import { loadMicrosoft365Credentials } from './microsoft365-connection';
import { loadNetworkPolicy } from './network-settings';
import type { AccountInput } from './schemas';
import { parseServer } from './server-address';

const log = createLogger('account-check');

export const CHECK_LIMITS = {
  perUser: { limit: 30, windowSeconds: 600 },
  perAccount: { limit: 10, windowSeconds: 600 },
  perHost: { limit: 120, windowSeconds: 600 },
} satisfies Record<string, RateLimitRule>;

export class CheckRateLimitedError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many checks; try again in ${retryAfterSeconds} s`);
    this.name = 'CheckRateLimitedError';
  }
}

function hostOf(account: AccountInput): string {
  if (!account.server) return 'outlook.office365.com';
  try {
    return parseServer(account.server).host;
  } catch {
    return account.server.toLowerCase();
  }
}

const accountKey = (account: AccountInput) => `check:account:${account.type}:${account.username.toLowerCase()}@${hostOf(account)}`;

/**
 * Counts a check against the caller, each account and each remote host, in PostgreSQL so the
 * limits hold across processes: nobody can use the portal to hammer one server or guess one
 * mailbox's password.
 */
export async function consumeCheckAllowance(db: Db, userId: string, accounts: AccountInput[]): Promise<void> {
  const keys: [string, RateLimitRule][] = [[`check:user:${userId}`, CHECK_LIMITS.perUser]];
  for (const account of accounts) {
    keys.push([accountKey(account), CHECK_LIMITS.perAccount]);
    keys.push([`check:host:${hostOf(account)}`, CHECK_LIMITS.perHost]);
  }
  const unique = [...new Map(keys).entries()];
  const states = await Promise.all(unique.map(([key, rule]) => hit(db, key, rule)));
  const limited = states.filter((s) => s.isLimited);
  if (limited.length > 0) throw new CheckRateLimitedError(Math.max(...limited.map((s) => s.retryAfterSeconds)));
}

/**
 * The per-account allowance alone, shared with the single form's, for the records of a mass
 * submission (server/migrations/mass/check-records.ts says why the other two do not apply).
 * Null when the login may be tried; otherwise how long until it may.
 */
export async function consumeAccountAllowance(db: Db, account: AccountInput): Promise<{ retryAfterSeconds: number } | null> {
  const state = await hit(db, accountKey(account), CHECK_LIMITS.perAccount);
  return state.isLimited ? { retryAfterSeconds: state.retryAfterSeconds } : null;
}

/** The connectors' environment for accounts of one organization. */
export async function checkEnvironmentFor(db: Db, organizationId: string, needsMicrosoft365: boolean): Promise<CheckEnvironment> {
  const policy = await loadNetworkPolicy(db, env());
  let microsoft365 = null;
  if (needsMicrosoft365) {
    try {
      microsoft365 = await loadMicrosoft365Credentials(db, await keyRing(), organizationId);
    } catch (error) {
      // A secret sealed with a key this installation no longer has: treat as not configured.
      if (!(error instanceof UnsealError)) throw error;
      log.error('the Microsoft 365 client secret cannot be opened', { organizationId, error });
    }
  }
  return { policy, microsoft365, microsoftEndpoints: microsoftEndpoints(env()) };
}

export async function checkPairForOrganization(
  db: Db,
  /** `role` picks the wording of failure messages: an admin is told what to allow, everyone else what to do. */
  caller: { userId: string; organizationId: string; role?: Role },
  input: { source: AccountInput; target: AccountInput },
): Promise<PairCheck> {
  await consumeCheckAllowance(db, caller.userId, [input.source, input.target]);
  const environment = {
    ...(await checkEnvironmentFor(db, caller.organizationId, input.source.type === 'office365' || input.target.type === 'office365')),
    audience: audienceOf(caller.role),
  };
  return checkAccountPair(input.source, input.target, { source: environment, target: environment });
}
