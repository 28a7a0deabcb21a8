import type { ImapFlow, ImapFlowOptions } from 'imapflow';
import { createLogger } from '../../logger';
import { resolveTarget, tlsOptions, type Lookup, type NetworkPolicy } from '../network/host-policy';
import { classifySocketError } from '../network/socket-errors';
import type { MailServer } from '../server-address';
import { ConnectorError, type ProtocolReport } from '../types';

const log = createLogger('imap');

export type ImapAuth = { user: string; pass: string } | { user: string; accessToken: string };

export interface ImapConnectOptions {
  server: MailServer;
  auth: ImapAuth;
  policy: NetworkPolicy;
  lookup?: Lookup;
  timeoutMs?: number;
}

// Servers that accept the password but refuse IMAP for the account say so in the response
// text: Exchange ("User is authenticated but not connected"), Gmail/Workspace ("IMAP access is
// disabled"), Dovecot's allow_nets / nologin ("Account is temporarily unavailable"), Zimbra.
const IMAP_DISABLED = /imap (access )?(is )?(disabled|not enabled)|not connected|authenticated but not connected|account is temporarily unavailable|imap.*not allowed/i;

/** Maps an imapflow failure to the reasons a customer can act on. */
export function classifyImapError(error: unknown): ConnectorError {
  if (error instanceof ConnectorError) return error;
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
  const config: ImapFlowOptions = {
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
    emitLogs: false,
  } as ImapFlowOptions;
  // Loaded on first use: a copy that finds nothing to do never needs it.
  const { ImapFlow } = await import('imapflow');
  const client = new ImapFlow(config);
  // Without a listener, a socket error after connect() would be thrown as an uncaught event.
  client.on('error', (error: Error) => log.debug('connection error', { host: server.host, error }));
  try {
    await client.connect();
  } catch (error) {
    client.close();
    throw classifyImapError(error);
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
