import type { Env } from '../env';
import { createLogger } from '../logger';
import { checkDav } from './dav/dav-connector';
import { checkEws, discoverEwsUrl } from './ews/ews-client';
import { checkImap } from './imap/imap-connector';
import { acquireAppToken } from './m365/oauth';
import { checkGraphMailbox } from './m365/graph';
import { imapOAuthFailure, xoauth2Options } from './m365/imap-oauth';
import { failureMessage, type MessageAudience } from './messages';
import type { Microsoft365Credentials } from './microsoft365-connection';
import type { Lookup, NetworkPolicy } from './network/host-policy';
import { createPinnedFetch } from './network/pinned-fetch';
import type { AccountInput } from './schemas';
import { davDiscoveryUrl, ewsDiscoveryStart, parseServer, type MailServer } from './server-address';
import { ConnectorError, type AccountType, type FailureReason, type ProtocolReport } from './types';

const log = createLogger('account-check');

export const DEFAULT_CHECK_TIMEOUT_MS = 20_000;

export interface MicrosoftEndpoints {
  authorityHost: string;
  graphBaseUrl: string;
  imapServer: MailServer;
}

export function microsoftEndpoints(env: Pick<Env, 'MAILFERRY_MICROSOFT_AUTHORITY' | 'MAILFERRY_MICROSOFT_GRAPH' | 'MAILFERRY_MICROSOFT_IMAP'>): MicrosoftEndpoints {
  const imap = parseServer(env.MAILFERRY_MICROSOFT_IMAP).mail;
  if (!imap) throw new Error('MAILFERRY_MICROSOFT_IMAP must be host[:port]');
  return { authorityHost: env.MAILFERRY_MICROSOFT_AUTHORITY.replace(/\/$/, ''), graphBaseUrl: env.MAILFERRY_MICROSOFT_GRAPH.replace(/\/$/, ''), imapServer: imap };
}

export interface CheckEnvironment {
  policy: NetworkPolicy;
  lookup?: Lookup;
  timeoutMs?: number;
  /** The organization's Microsoft 365 app registration, for office365 accounts. */
  microsoft365?: Microsoft365Credentials | null;
  microsoftEndpoints: MicrosoftEndpoints;
  /** Who reads the failure message (messages.ts); customer wording when not said. */
  audience?: MessageAudience;
}

export type AccountCheck =
  | { ok: true; reports: ProtocolReport[] }
  | { ok: false; reason: FailureReason; message: string; protocol: ProtocolReport['protocol'] | null };

export const GROUPWARE: Record<AccountType, 'dav' | 'ews' | 'graph' | null> = {
  imap: null,
  zimbra: 'dav',
  kolab: 'dav',
  openxchange: 'dav',
  exchange: 'ews',
  office365: 'graph',
};

async function checkMail(account: AccountInput, environment: CheckEnvironment, token: () => Promise<string>): Promise<ProtocolReport> {
  const common = { policy: environment.policy, lookup: environment.lookup, timeoutMs: environment.timeoutMs };
  if (account.type === 'office365') {
    const server = account.server ? (parseServer(account.server).mail ?? environment.microsoftEndpoints.imapServer) : environment.microsoftEndpoints.imapServer;
    const auth = xoauth2Options(account.username || account.email, await token());
    return checkImap({ ...common, server, auth }).catch((error: unknown) => {
      // A refused app token is the organization's connection, not a password to correct.
      const original = error instanceof ConnectorError && error.reason === 'auth_failed' ? error.cause : error;
      throw imapOAuthFailure(original) ?? error;
    });
  }
  const parsed = parseServer(account.server);
  const server = parsed.mail ?? { host: parsed.host, port: 993, security: 'tls' as const };
  return checkImap({ ...common, server, auth: { user: account.username, pass: account.password } });
}

async function checkGroupware(account: AccountInput, environment: CheckEnvironment, fetch: ReturnType<typeof createPinnedFetch>, graphToken: () => Promise<string>, signal: AbortSignal): Promise<ProtocolReport[]> {
  switch (GROUPWARE[account.type]) {
    case null:
      return [];
    case 'dav': {
      return checkDav({ serverUrl: davDiscoveryUrl(account.server, account.groupwareUrl), username: account.username, password: account.password, fetch });
    }
    case 'ews': {
      const url = await discoverEwsUrl({ email: account.email, username: account.username, password: account.password, server: ewsDiscoveryStart(account.server, account.groupwareUrl), fetch });
      return [await checkEws({ url, email: account.email, username: account.username, password: account.password, fetch, signal })];
    }
    case 'graph':
      return [await checkGraphMailbox({ user: account.email, token: await graphToken(), graphBaseUrl: environment.microsoftEndpoints.graphBaseUrl, fetch, signal })];
  }
}

function protocolOf(error: unknown, fallback: ProtocolReport['protocol'] | null): ProtocolReport['protocol'] | null {
  return (error as { protocol?: ProtocolReport['protocol'] }).protocol ?? fallback;
}

/**
 * Logs in to one account with every protocol its type uses (IMAP, and CalDAV/CardDAV, EWS or
 * Graph for groupware), within the time limit. The answer carries a reason and a message for
 * the customer; the technical cause goes to the server log, without secrets.
 */
export async function checkAccount(account: AccountInput, environment: CheckEnvironment): Promise<AccountCheck> {
  const timeoutMs = environment.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const env: CheckEnvironment = { ...environment, timeoutMs };
  const controller = new AbortController();
  const fetch = createPinnedFetch(env.policy, { lookup: env.lookup, timeoutMs });
  const tokens = new Map<string, Promise<string>>();
  const tokenFor = (scope: string) => () => {
    if (!env.microsoft365) return Promise.reject(new ConnectorError('not_configured', 'the organization has no Microsoft 365 connection'));
    let token = tokens.get(scope);
    if (!token) {
      token = acquireAppToken({ ...env.microsoft365, scope, authorityHost: env.microsoftEndpoints.authorityHost, fetch, signal: controller.signal }).then((t) => t.accessToken);
      tokens.set(scope, token);
    }
    return token;
  };
  const tag = (protocol: ProtocolReport['protocol']) => (error: unknown) => {
    throw Object.assign(error instanceof ConnectorError ? error : new ConnectorError('protocol_error', String((error as Error)?.message ?? error), { cause: error }), { protocol });
  };

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new ConnectorError('timed_out', `no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const groupwareProtocol = { dav: 'caldav', ews: 'ews', graph: 'graph' } as const;
    const kind = GROUPWARE[account.type];
    const [mail, groupware] = await Promise.race([
      Promise.all([
        checkMail(account, env, tokenFor('https://outlook.office365.com/.default')).catch(tag('imap')),
        checkGroupware(account, env, fetch, tokenFor('https://graph.microsoft.com/.default'), controller.signal).catch(tag(kind ? groupwareProtocol[kind] : 'imap')),
      ]),
      deadline,
    ]);
    return { ok: true, reports: [mail, ...groupware] };
  } catch (error) {
    const failure = error instanceof ConnectorError ? error : new ConnectorError('protocol_error', String((error as Error)?.message ?? error));
    const protocol = protocolOf(error, null);
    log.info('account check failed', { type: account.type, email: account.email, server: account.server, protocol, reason: failure.reason, detail: failure.detail });
    return { ok: false, reason: failure.reason, message: failureMessage(failure.reason, { facts: failure.facts, audience: env.audience }), protocol };
  } finally {
    clearTimeout(timer);
    controller.abort();
    await fetch.close().catch(() => undefined);
  }
}

export interface PairCheck {
  ok: boolean;
  source: AccountCheck;
  target: AccountCheck;
  /** Which side failed, for the customer's message. */
  failed: 'source' | 'target' | 'both' | null;
}

/** Both sides at once; each within its own time limit. */
export async function checkAccountPair(
  source: AccountInput,
  target: AccountInput,
  environments: { source: CheckEnvironment; target: CheckEnvironment },
): Promise<PairCheck> {
  const [s, t] = await Promise.all([checkAccount(source, environments.source), checkAccount(target, environments.target)]);
  const failed = !s.ok && !t.ok ? 'both' : !s.ok ? 'source' : !t.ok ? 'target' : null;
  return { ok: failed === null, source: s, target: t, failed };
}
