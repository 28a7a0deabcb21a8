/**
 * HTTP plumbing shared by the token client and the Graph client: how a failed fetch becomes a
 * ConnectorError, bounded body reads, Retry-After, and scrubbing secrets out of server text
 * before it lands in an error detail.
 */
import { ConnectorError, type FailureReason } from '../types';

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

function socketReason(code: string): FailureReason | null {
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return 'unknown_host';
  if (code === 'ECONNREFUSED') return 'connection_refused';
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return 'timed_out';
  }
  if (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'tls_error';
  return null;
}

/** undici wraps the socket error as `TypeError('fetch failed', { cause })`, sometimes in an AggregateError. */
function errorCodes(error: unknown, depth = 0): string[] {
  if (depth > 5 || error === null || typeof error !== 'object') return [];
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof code === 'string' ? [code] : [];
  const nested = Array.isArray(errors) ? errors.flatMap((e) => errorCodes(e, depth + 1)) : [];
  return [...own, ...errorCodes(cause, depth + 1), ...nested];
}

/**
 * The error to throw when `fetch` itself rejected. A ConnectorError (the host policy's
 * blocked_host, for one) passes through untouched; the caller's own cancellation is rethrown
 * as it is, because giving up is the caller's decision, not a property of the server.
 */
export function fetchFailure(error: unknown, what: string, signal: AbortSignal | undefined): unknown {
  if (error instanceof ConnectorError) return error;
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof ConnectorError) return reason;
    if (reason instanceof Error && reason.name === 'TimeoutError') {
      return new ConnectorError('timed_out', `${what}: no answer in time`, { cause: error });
    }
    return reason ?? error;
  }
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new ConnectorError('timed_out', `${what}: no answer in time`, { cause: error });
  }
  const codes = errorCodes(error);
  for (const code of codes) {
    const reason = socketReason(code);
    if (reason) return new ConnectorError(reason, `${what}: ${code}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ConnectorError('protocol_error', `${what}: request failed (${[message, ...codes].join(', ')})`, { cause: error });
}

/**
 * Reads at most `limit` bytes of the body as UTF-8. A server that keeps streaming (or lies
 * about its size) must not be able to fill the worker's memory during a credential check.
 */
export async function readBody(response: Response, limit: number, what: string): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => {});
    throw new ConnectorError('protocol_error', `${what}: answer of ${declared} bytes exceeds ${limit}`);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let size = 0;
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new ConnectorError('protocol_error', `${what}: answer exceeds ${limit} bytes`);
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

/** JSON.parse that answers undefined instead of throwing: error bodies are often HTML. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Seconds from a Retry-After header (delta-seconds or HTTP-date); null when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | null {
  if (header === null || header.trim() === '') return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** setTimeout as a promise that the caller's signal cuts short. */
export function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Server-supplied text for an error detail: one line, bounded, and with every secret we hold
 * replaced, in case a server (or a proxy in front of it) echoes the request back.
 */
export function scrub(text: string, secrets: readonly string[], max = 300): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    // An echo of the request body or a header arrives form-, percent- or JSON-encoded.
    const forms = new Set([secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2), JSON.stringify(secret).slice(1, -1)]);
    for (const form of forms) out = out.split(form).join('[redacted]');
  }
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > max ? `${out.slice(0, max)}…` : out;
}

/** https:// base URL without a trailing slash; anything else is a configuration mistake. */
export function httpsBase(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConnectorError('not_configured', `${what} is not a URL: ${JSON.stringify(value.slice(0, 100))}`);
  }
  // Client secrets and bearer tokens travel in these requests.
  if (url.protocol !== 'https:') throw new ConnectorError('not_configured', `${what} must use https: ${url.origin}`);
  if (url.search || url.hash || url.username || url.password) {
    throw new ConnectorError('not_configured', `${what} may not carry a query, fragment or user info: ${url.origin}`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * An @odata.nextLink to follow: the bearer token goes along with it, so it may only point back
 * into the same Graph (`origin`, v1.0). `what` names the list ("Graph calendars of anna@…").
 */
export function graphNextLink(link: string, origin: string, what: string): string {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new ConnectorError('protocol_error', `${what}: @odata.nextLink is not a URL`);
  }
  if (url.origin !== origin || !url.pathname.startsWith('/v1.0/')) {
    throw new ConnectorError('protocol_error', `${what}: @odata.nextLink leaves ${origin} (${url.origin})`);
  }
  return url.href;
}

/** One page of an OData collection whose entries all have an id, and the link to the next page. */
export function odataPage(json: unknown, what: string): { value: ({ id: string } & Record<string, unknown>)[]; nextLink: string | undefined } {
  const body = json as { value?: unknown; '@odata.nextLink'?: unknown } | undefined;
  if (!body || typeof body !== 'object' || !Array.isArray(body.value)) throw new ConnectorError('protocol_error', `${what}: answer is not an OData collection`);
  const value = body.value.filter((item): item is { id: string } & Record<string, unknown> => !!item && typeof item === 'object' && typeof (item as { id?: unknown }).id === 'string');
  if (value.length !== body.value.length) throw new ConnectorError('protocol_error', `${what}: an entry has no id`);
  const next = body['@odata.nextLink'];
  if (next !== undefined && typeof next !== 'string') throw new ConnectorError('protocol_error', `${what}: @odata.nextLink is not a string`);
  return { value, nextLink: next };
}
