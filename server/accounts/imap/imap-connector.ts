import type { ImapFlow, ImapFlowOptions } from 'imapflow';
import { defaultImapLimits, ImapLimitError, type ImapLimits, type ImapSide } from '../../engine/imap-limits';
import { decodeMutf7, encodeMutf7 } from '../../engine/mutf7';
import { createLogger } from '../../logger';
import { resolveTarget, tlsOptions, type Lookup, type NetworkPolicy } from '../network/host-policy';
import { classifySocketError } from '../network/socket-errors';
import type { MailServer } from '../server-address';
import { ConnectorError, type ProtocolReport } from '../types';
import { guardImapFlow, imapflowLimitOptions, limitErrorOf } from './imapflow-guard';

const log = createLogger('imap');

export type ImapAuth = { user: string; pass: string } | { user: string; accessToken: string };

export interface ImapConnectOptions {
  server: MailServer;
  auth: ImapAuth;
  policy: NetworkPolicy;
  lookup?: Lookup;
  timeoutMs?: number;
  /** What the server may send (see engine/imap-limits.ts); the message size limit most of all. */
  limits?: ImapLimits;
  /** Which account this connection belongs to, for the reason a limit gives. */
  side?: ImapSide;
}

// Servers that accept the password but refuse IMAP for the account say so in the response
// text: Exchange ("User is authenticated but not connected"), Gmail/Workspace ("IMAP access is
// disabled"), Dovecot's allow_nets / nologin ("Account is temporarily unavailable"), Zimbra.
const IMAP_DISABLED = /imap (access )?(is )?(disabled|not enabled)|not connected|authenticated but not connected|account is temporarily unavailable|imap.*not allowed/i;

/** Maps an imapflow failure to the reasons a customer can act on. */
export function classifyImapError(error: unknown): ConnectorError {
  if (error instanceof ConnectorError) return error;
  if (error instanceof ImapLimitError) return new ConnectorError('protocol_error', error.message, { cause: error });
  const e = error as { authenticationFailed?: boolean; serverResponseCode?: string; responseText?: string; tlsFailed?: boolean; code?: string; message?: string };
  const text = `${e.responseText ?? ''} ${e.message ?? ''}`;
  if (e.tlsFailed || /STARTTLS/.test(e.message ?? '')) {
    return new ConnectorError('plaintext_refused', `server offers no STARTTLS: ${e.message ?? ''}`, { cause: error });
  }
  if (e.authenticationFailed || e.serverResponseCode === 'AUTHENTICATIONFAILED' || e.serverResponseCode === 'AUTHORIZATIONFAILED') {
    if (IMAP_DISABLED.test(text)) return new ConnectorError('imap_disabled', `login refused: ${e.responseText ?? e.message}`, { cause: error });
    // LOGINDISABLED: the server will not take a password over this connection.
    if (/login is disabled/i.test(e.message ?? '')) return new ConnectorError('plaintext_refused', 'server refuses LOGIN on this connection', { cause: error });
    return new ConnectorError('auth_failed', `login refused: ${e.serverResponseCode ?? ''} ${e.responseText ?? ''}`.trim(), { cause: error });
  }
  if (IMAP_DISABLED.test(text)) return new ConnectorError('imap_disabled', text.trim(), { cause: error });
  const socket = classifySocketError(error);
  if (socket) return new ConnectorError(socket, `${e.code ?? ''} ${e.message ?? ''}`.trim(), { cause: error });
  if (e.code === 'GREETING_TIMEOUT' || e.code === 'CONNECT_TIMEOUT' || e.code === 'ETIMEOUT' || /timeout/i.test(e.message ?? '')) {
    return new ConnectorError('timed_out', e.message ?? 'timeout', { cause: error });
  }
  return new ConnectorError('protocol_error', `${e.code ?? ''} ${e.message ?? String(error)}`.trim(), { cause: error });
}

// What OpenSSL says when the other side answers a ClientHello with something that is not TLS:
// a plain IMAP port sends its "* OK" greeting, which reads as a record of an unknown version
// ("wrong version number") or of an absurd length ("packet length too long"); an HTTP port
// answers with "HTTP/1.1 400" ("http request").
const NOT_TLS_CODES = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST', 'ERR_SSL_UNKNOWN_PROTOCOL']);
const NOT_TLS_TEXT = /wrong version number|packet length too long|http request|unknown protocol/i;

/** Whether a failed implicit-TLS handshake met a server that does not speak TLS on that port. */
export function isNotTlsAnswer(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let current: unknown = error; current && typeof current === 'object' && !seen.has(current); current = (current as { cause?: unknown }).cause) {
    seen.add(current);
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && NOT_TLS_CODES.has(code)) return true;
    if (typeof message === 'string' && NOT_TLS_TEXT.test(message)) return true;
  }
  return false;
}

/** A token of a command as imapflow's compiler takes it. */
interface CommandToken {
  type: string;
  value?: unknown;
}

/** Which arguments of each command imapflow 2.10 sends are mailbox names (0-based). */
const MAILBOX_ARGUMENTS: Record<string, readonly number[]> = {
  SELECT: [0],
  EXAMINE: [0],
  STATUS: [0],
  CREATE: [0],
  DELETE: [0],
  SUBSCRIBE: [0],
  UNSUBSCRIBE: [0],
  APPEND: [0],
  GETQUOTAROOT: [0],
  GETMETADATA: [0],
  SETMETADATA: [0],
  RENAME: [0, 1],
  COPY: [1],
  'UID COPY': [1],
  MOVE: [1],
  'UID MOVE': [1],
  LIST: [0, 1],
  LSUB: [0, 1],
  XLIST: [0, 1],
};

/**
 * imapflow's command arguments with every mailbox name as an IMAP string instead of an atom.
 *
 * imapflow builds mailbox names as ATOM tokens (`encodePath` in its tools.js, then the ATOM
 * case of handler/imap-compiler.js), and its compiler sends an ATOM unquoted whenever every
 * character is an ATOM-CHAR: `SELECT INBOX.Tilde~Name`. Courier refuses an unquoted name
 * containing `~` ("NO Mailbox does not exist"), and RFC 9051 gives no promise for atoms with
 * other characters servers treat specially. So every mailbox argument goes as a quoted string,
 * or, where it holds what a quoted string cannot (CR, LF, NUL), in the same modified UTF-7 the
 * raw sessions send (quoteMailbox in engine/raw-imap.ts), so both kinds of connection name a
 * folder alike. In a UTF-8 session (UTF8=ACCEPT or IMAP4rev2 enabled, which connectImap never
 * does) such a name goes as a literal.
 */
export function quoteMailboxArguments(command: string, attributes: unknown, isUtf8Session: boolean): unknown {
  const positions = MAILBOX_ARGUMENTS[command.toUpperCase()];
  if (!positions || !Array.isArray(attributes)) return attributes;
  return attributes.map((argument: unknown, index) => {
    if (!positions.includes(index)) return argument;
    const token = (typeof argument === 'string' ? { type: 'STRING', value: argument } : argument) as CommandToken | null;
    if (!token || typeof token !== 'object' || (token.type !== 'ATOM' && token.type !== 'STRING')) return argument;
    const value = String(token.value ?? '');
    if (/^[\x20-\x7e]*$/.test(value)) return { ...token, type: 'STRING', value };
    if (isUtf8Session) return { type: 'LITERAL', value: Buffer.from(value, 'utf8') };
    // imapflow leaves TAB, CR and LF as they are (its encodePath skips them).
    return { ...token, type: 'STRING', value: encodeMutf7(decodeMutf7(value)) };
  });
}

/** The parts of imapflow's connection this module reaches behind its public API (see below). */
interface ImapFlowInternals {
  exec(command: string, attributes?: unknown, options?: unknown): Promise<unknown>;
  run(command: string, ...args: unknown[]): Promise<unknown>;
  enabled: Set<string>;
}

/**
 * Every connection imapflow opens for the engine and the check passes through here: mailbox
 * names go quoted on all of them (quoteMailboxArguments). `exec` is the one method every
 * imapflow command sends through, so wrapping it on the instance covers them all.
 */
function quoteMailboxNames(client: ImapFlow) {
  const internals = client as unknown as ImapFlowInternals;
  const exec = internals.exec.bind(client);
  internals.exec = (command, attributes, options) =>
    exec(command, quoteMailboxArguments(command, attributes, internals.enabled.has('UTF8=ACCEPT') || internals.enabled.has('IMAP4REV2') || internals.enabled.has('IMAP4rev2')), options);
}

/**
 * An authenticated IMAP session to the checked address of `server`, with the certificate
 * verified against the name the customer gave. Implicit TLS or required STARTTLS; plain text
 * only for hosts the admin marked insecure.
 */
export async function connectImap(options: ImapConnectOptions): Promise<ImapFlow> {
  const { server, policy } = options;
  const target = await resolveTarget(policy, server.host, server.port, { lookup: options.lookup });
  const tls = tlsOptions(policy, target);
  const timeout = options.timeoutMs ?? 20_000;
  const limits = options.limits ?? defaultImapLimits();
  const config: ImapFlowOptions = {
    ...imapflowLimitOptions(limits),
    host: target.address,
    port: server.port,
    secure: server.security === 'tls',
    // Required STARTTLS; opportunistic only where the admin allowed plain text.
    doSTARTTLS: server.security === 'starttls' ? (target.isInsecure ? undefined : true) : undefined,
    servername: tls.servername,
    tls: { ...tls, minVersion: 'TLSv1.2' },
    auth: options.auth,
    logger: false,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: Math.max(timeout, 60_000),
    disableAutoIdle: true,
    // imapflow would ENABLE UTF8=ACCEPT and IMAP4rev2 where offered. Courier, once a client
    // enabled UTF8=ACCEPT, drops every later session of that client that did not, and the raw
    // sessions never do; a rev2 session would name folders in UTF-8 where the raw ones use
    // modified UTF-7. Only CONDSTORE is enabled, below.
    disableAutoEnable: true,
    emitLogs: false,
  } as ImapFlowOptions;
  // Loaded on first use: a copy that finds nothing to do never needs it.
  const { ImapFlow } = await import('imapflow');
  const client = new ImapFlow(config);
  // Without a listener, a socket error after connect() would be thrown as an uncaught event.
  client.on('error', (error: Error) => log.debug('connection error', { host: server.host, error }));
  quoteMailboxNames(client);
  guardImapFlow(client, limits, options.side);
  try {
    await client.connect();
    // Flag changes are read with CHANGEDSINCE, which imapflow sends only once CONDSTORE is enabled.
    if (client.capabilities.has('CONDSTORE')) await (client as unknown as ImapFlowInternals).run('ENABLE', ['CONDSTORE']);
  } catch (error) {
    client.close();
    // A server past a limit fails with the reason, not as a protocol error.
    const limit = limitErrorOf(client);
    if (limit) throw limit;
    const failure = classifyImapError(error);
    if (failure.reason === 'tls_error' && server.security === 'tls' && isNotTlsAnswer(error)) {
      throw new ConnectorError('tls_error', `no TLS on port ${server.port}: ${failure.detail}`, { cause: error, facts: { kind: 'not_tls', host: server.host, port: server.port } });
    }
    throw failure;
  }
  return client;
}

/** Logs in, lists the folders and logs out. */
export async function checkImap(options: ImapConnectOptions): Promise<ProtocolReport> {
  const client = await connectImap(options);
  try {
    const folders = await client.list();
    const capabilities = [...client.capabilities.keys()].filter((c) => /^(IDLE|CONDSTORE|QRESYNC|UIDPLUS|MOVE|SPECIAL-USE|COMPRESS=DEFLATE|QUOTA|UTF8=ACCEPT|OBJECTID|LITERAL\+)$/.test(c));
    return {
      protocol: 'imap',
      capabilities,
      collections: folders.map((f) => ({ id: f.path, name: f.path, kind: 'mail' as const })),
    };
  } catch (error) {
    throw classifyImapError(error);
  } finally {
    await client.logout().catch(() => client.close());
  }
}
