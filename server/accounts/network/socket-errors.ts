import { ConnectorError, type FailureReason } from '../types';

// Kept apart from pinned-fetch.ts so that IMAP-only paths (the copy engine, the command line)
// do not load the HTTP client just to read an error code.

const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  // imapflow
  'ETIMEOUT',
  'CONNECT_TIMEOUT',
  'GREETING_TIMEOUT',
  'UPGRADE_TIMEOUT',
]);
const REFUSED_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH']);
const UNKNOWN_HOST_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ENODATA', 'EAI_NONAME', 'EAI_FAIL']);
const TLS_CODES = new Set([
  'EPROTO',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'HOSTNAME_MISMATCH',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'STARTTLS_INJECTION',
]);

/**
 * Maps what a socket, TLS handshake or DNS lookup failed with onto a FailureReason, looking
 * through wrappers: fetch rejects with TypeError("fetch failed") whose `cause` holds the
 * socket error, Happy Eyeballs reports an AggregateError, imapflow marks TLS failures with
 * `tlsFailed`. Null when nothing recognizable is found.
 */
export function classifySocketError(error: unknown): FailureReason | null {
  const queue: unknown[] = [error];
  const seen = new Set<unknown>();
  while (queue.length > 0) {
    const current = queue.shift();
    if (current === null || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    if (current instanceof ConnectorError) return current.reason;
    const reason = classifyOne(current as SocketErrorLike);
    if (reason) return reason;
    const { cause, errors } = current as { cause?: unknown; errors?: unknown };
    queue.push(cause);
    if (Array.isArray(errors)) queue.push(...(errors as unknown[]));
  }
  return null;
}

interface SocketErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  library?: unknown;
  tlsFailed?: unknown;
}

function classifyOne(error: SocketErrorLike): FailureReason | null {
  const code = typeof error.code === 'string' ? error.code : '';
  const message = typeof error.message === 'string' ? error.message : '';
  if (
    error.tlsFailed === true ||
    TLS_CODES.has(code) ||
    code.startsWith('CERT_') ||
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    error.library === 'SSL routines' ||
    // The server hung up mid-handshake, typically TLS spoken to a plaintext port.
    message.includes('before secure TLS connection was established')
  ) {
    return 'tls_error';
  }
  if (TIMEOUT_CODES.has(code) || error.name === 'TimeoutError') return 'timed_out';
  if (REFUSED_CODES.has(code)) return 'connection_refused';
  if (UNKNOWN_HOST_CODES.has(code)) return 'unknown_host';
  return null;
}

