/**
 * App-only access tokens from the Microsoft identity platform (OAuth 2.0 client-credentials
 * grant, v2.0 endpoint) for the organization's saved Microsoft 365 connection: one Entra app
 * registration with application permissions, admin-consented in the customer's tenant.
 *
 * https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
 */
import { createHash } from 'node:crypto';
import { abortable } from '../network/host-policy';
import { ConnectorError, type FetchLike } from '../types';
import { fetchFailure, httpsBase, parseJson, readBody, scrub } from './http';

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
/** Exchange Online: IMAP.AccessAsApp for IMAP (full_access_as_app would be EWS). */
export const EXCHANGE_ONLINE_SCOPE = 'https://outlook.office365.com/.default';
/** Microsoft Graph (Calendars.*, Contacts.*, Tasks.*). */
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

export interface AppTokenRequest {
  /** Directory (tenant) id as a GUID, or one of the tenant's verified domains. */
  tenantId: string;
  /** Application (client) id, a GUID. */
  clientId: string;
  clientSecret: string;
  /** `{resource}/.default`: client credentials get every application permission consented for that resource. */
  scope: string;
  /** Default https://login.microsoftonline.com; other clouds and tests set their own. */
  authorityHost?: string;
  fetch: FetchLike;
  /** Stops this caller's wait; a request shared with other callers keeps running (bounded). */
  signal?: AbortSignal;
}

export interface AppToken {
  accessToken: string;
  expiresAt: Date;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i;

/**
 * A GUID or a domain name. `common`, `organizations` and `consumers` are refused: the
 * client-credentials grant needs one specific tenant (AADSTS50059 otherwise).
 */
export function isTenantId(value: string): boolean {
  return GUID.test(value) || DOMAIN.test(value);
}

export function isClientId(value: string): boolean {
  return GUID.test(value);
}

// Tokens live 60-90 minutes; handing out one with only seconds left would make a long IMAP
// login or a Graph paging run fail half-way.
const REFRESH_MARGIN_MS = 5 * 60_000;
const CACHE_LIMIT = 200;
// A shared token request does not stop when one waiting caller gives up, so it needs a bound of its own.
const REQUEST_TIMEOUT_MS = 20_000;
const BODY_LIMIT = 256 * 1024;

interface CachedToken {
  token: AppToken;
  refreshAt: number;
}

const cache = new Map<string, CachedToken>();
const pending = new Map<string, Promise<CachedToken>>();

/** Forgets every cached token (tests; after the admin rotates the secret nothing else is needed). */
export function clearAppTokenCache(): void {
  cache.clear();
  pending.clear();
}

/** Forgets the cached token of one app and scope: a service refused it (revoked, or expired early), the next ask gets a new one. */
export function forgetAppToken(request: Pick<AppTokenRequest, 'tenantId' | 'clientId' | 'clientSecret' | 'scope' | 'authorityHost'>): void {
  cache.delete(cacheKey(httpsBase(request.authorityHost ?? DEFAULT_AUTHORITY_HOST, 'Microsoft authority host'), request));
}

function cacheKey(authority: string, request: Pick<AppTokenRequest, 'tenantId' | 'clientId' | 'clientSecret' | 'scope'>): string {
  // The secret is part of the identity (a rotated secret must not reuse the old token), but a
  // heap dump or a debugger should not show it as a map key.
  const secretHash = createHash('sha256').update(request.clientSecret, 'utf8').digest('base64url');
  return [authority, request.tenantId.toLowerCase(), request.clientId.toLowerCase(), request.scope, secretHash].join('\n');
}

/**
 * An access token for `scope`, from the cache while it has more than a few minutes left.
 * Concurrent callers for the same app and scope (a mass check) share one request.
 *
 * Failures are ConnectorErrors: `not_configured` when the connection itself is wrong (unknown
 * tenant or app, wrong or expired secret, resource missing in the tenant), `protocol_error` for
 * anything the service should not have answered, socket-level reasons from the fetch.
 */
export async function acquireAppToken(request: AppTokenRequest): Promise<AppToken> {
  validate(request);
  const authority = httpsBase(request.authorityHost ?? DEFAULT_AUTHORITY_HOST, 'Microsoft authority host');
  const key = cacheKey(authority, request);
  const now = Date.now();
  const cached = cache.get(key);
  if (cached && cached.refreshAt > now) return cached.token;
  if (cached) cache.delete(key);

  let shared = pending.get(key);
  if (!shared) {
    const inFlight = requestToken(authority, request).then(
      (entry) => {
        settle();
        remember(key, entry);
        return entry;
      },
      (error: unknown) => {
        settle();
        throw error;
      },
    );
    // clearAppTokenCache() may have replaced this request meanwhile; leave the newer one alone.
    const settle = () => {
      if (pending.get(key) === inFlight) pending.delete(key);
    };
    pending.set(key, inFlight);
    shared = inFlight;
  }
  return (await untilAborted(shared, request.signal)).token;
}

function remember(key: string, entry: CachedToken): void {
  const now = Date.now();
  for (const [k, v] of cache) if (v.refreshAt <= now) cache.delete(k);
  // Map iteration is insertion order: the first key is the oldest.
  while (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (oldest.done) break;
    cache.delete(oldest.value);
  }
  if (entry.refreshAt > now) cache.set(key, entry);
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal?.aborted) return Promise.reject(fetchFailure(signal.reason, 'Microsoft token request', signal));
  return abortable(promise, signal).catch((error: unknown) => {
    throw signal?.aborted && error === signal.reason ? fetchFailure(signal.reason, 'Microsoft token request', signal) : error;
  });
}

function validate(request: AppTokenRequest): void {
  const show = (value: string) => JSON.stringify(value.slice(0, 80));
  if (!isTenantId(request.tenantId)) {
    throw new ConnectorError('not_configured', `tenant id ${show(request.tenantId)} is neither a GUID nor a domain name`);
  }
  if (!isClientId(request.clientId)) {
    throw new ConnectorError('not_configured', `client id ${show(request.clientId)} is not a GUID`);
  }
  if (request.clientSecret.length === 0) throw new ConnectorError('not_configured', 'client secret is empty');
  if (!/^\S+\/\.default$/.test(request.scope)) {
    // Our own constant went wrong, not the customer's connection.
    throw new ConnectorError('protocol_error', `scope ${show(request.scope)} is not "{resource}/.default", as client credentials require`);
  }
}

async function requestToken(authority: string, request: AppTokenRequest): Promise<CachedToken> {
  const url = `${authority}/${encodeURIComponent(request.tenantId)}/oauth2/v2.0/token`;
  const body = new URLSearchParams({
    client_id: request.clientId,
    client_secret: request.clientSecret,
    scope: request.scope,
    grant_type: 'client_credentials',
  });
  const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  const started = Date.now();
  let response: Response;
  let text: string;
  try {
    response = await request.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body.toString(),
      // A redirected POST would carry the client secret to wherever the Location points.
      redirect: 'manual',
      signal,
    });
    text = await readBody(response, BODY_LIMIT, 'Microsoft token endpoint');
  } catch (error) {
    throw fetchFailure(error, `Microsoft token endpoint ${authority}`, signal);
  }
  const json = parseJson(text);
  if (response.status === 200) return parseToken(json, started, request);
  throw tokenError(response.status, json, text, request);
}

function parseToken(json: unknown, started: number, request: AppTokenRequest): CachedToken {
  const body = (json ?? {}) as { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
  const seconds = typeof body.expires_in === 'string' ? Number(body.expires_in) : body.expires_in;
  if (typeof body.access_token !== 'string' || body.access_token === '' || typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer' || typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new ConnectorError('protocol_error', `Microsoft token endpoint answered 200 without a bearer token for ${request.scope}`);
  }
  // Counted from when the request left, so clock skew and latency only ever shorten the life.
  const expiresAt = started + seconds * 1000;
  const lifetime = seconds * 1000;
  return {
    token: { accessToken: body.access_token, expiresAt: new Date(expiresAt) },
    refreshAt: expiresAt - Math.min(REFRESH_MARGIN_MS, lifetime / 2),
  };
}

interface AadError {
  error?: unknown;
  error_description?: unknown;
  error_codes?: unknown;
  trace_id?: unknown;
  correlation_id?: unknown;
}

/** What each AADSTS code means for the saved connection; https://login.microsoftonline.com/error?code=N */
const NOT_CONFIGURED: Record<number, string> = {
  90002: 'the tenant does not exist',
  900023: 'the tenant id is not valid',
  50059: 'no tenant could be determined',
  700016: 'the application (client id) is not registered or not consented in this tenant',
  700038: 'the client id is not a valid application id',
  7000112: 'the application is disabled in this tenant',
  7000215: 'the client secret is wrong (use the secret value, not the secret id)',
  7000222: 'the client secret has expired',
  7000218: 'no client secret was accepted',
  500011: 'the resource (Exchange Online or Microsoft Graph) does not exist in this tenant',
  1002012: 'the scope is not valid for client credentials',
  70011: 'the scope is not valid',
};

function tokenError(status: number, json: unknown, text: string, request: AppTokenRequest): ConnectorError {
  const secrets = [request.clientSecret];
  if (json === undefined || typeof json !== 'object' || json === null || typeof (json as AadError).error !== 'string') {
    return new ConnectorError('protocol_error', `Microsoft token endpoint answered HTTP ${status} without an OAuth error: ${scrub(text, secrets, 120)}`);
  }
  const body = json as AadError;
  const error = body.error as string;
  const description = typeof body.error_description === 'string' ? body.error_description : '';
  const codes = Array.isArray(body.error_codes) ? body.error_codes.filter((c): c is number => typeof c === 'number') : [];
  const fromText = /AADSTS(\d+)/.exec(description)?.[1];
  const code = codes[0] ?? (fromText ? Number(fromText) : undefined);
  const trace = typeof body.trace_id === 'string' ? ` trace ${scrub(body.trace_id, secrets, 40)}` : '';
  // Only the first line: the rest is trace/correlation ids and a timestamp we already have.
  const said = scrub(description.split(/\r?\n/)[0] ?? '', secrets);
  const facts = `HTTP ${status} ${error}${code !== undefined ? ` AADSTS${code}` : ''}${trace}: ${said}`;

  const meaning = code !== undefined ? NOT_CONFIGURED[code] : undefined;
  if (meaning) return new ConnectorError('not_configured', `Microsoft 365 connection not valid: ${meaning} (${facts})`);
  if (status >= 500) return new ConnectorError('protocol_error', `Microsoft token endpoint failed (${facts})`);
  if (error === 'invalid_client' || error === 'unauthorized_client' || error === 'invalid_scope' || error === 'invalid_resource') {
    return new ConnectorError('not_configured', `Microsoft 365 connection not valid: ${error} (${facts})`);
  }
  return new ConnectorError('protocol_error', `Microsoft token endpoint refused the request (${facts})`);
}
