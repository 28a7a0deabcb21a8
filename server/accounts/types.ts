/**
 * The vocabulary shared by every account connector (IMAP, CalDAV/CardDAV, EWS, Microsoft
 * Graph). A connector reports failures only as a ConnectorError with one of these reasons;
 * its `detail` is for the server log and never reaches the browser.
 */
import type { AddressClass } from './network/ip-ranges';

export const ACCOUNT_TYPES = ['imap', 'zimbra', 'kolab', 'openxchange', 'exchange', 'office365'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];
/** The groupware types whose calendars, contacts and tasks are reached over CalDAV/CardDAV. */
export const DAV_ACCOUNT_TYPES = ['zimbra', 'kolab', 'openxchange'] as const satisfies readonly AccountType[];
/** The types that take a groupware address: a CalDAV/CardDAV URL, or for Exchange its EWS URL. */
export const GROUPWARE_ADDRESS_TYPES = [...DAV_ACCOUNT_TYPES, 'exchange'] as const satisfies readonly AccountType[];

export type FailureReason =
  | 'unknown_host'
  | 'connection_refused'
  | 'timed_out'
  | 'tls_error'
  | 'plaintext_refused'
  | 'auth_failed'
  | 'imap_disabled'
  | 'groupware_not_found'
  | 'blocked_host'
  | 'not_configured'
  | 'protocol_error'
  | 'rate_limited';

/**
 * What the message for a failure may use beyond its reason: the host policy's refusal and the
 * handshake that met no TLS. `address` is what a name resolved to; only an admin is told it.
 */
export type FailureFacts =
  | { kind: 'port_not_allowed'; host: string; port: number }
  | { kind: 'invalid_port'; host: string }
  /** ruleNeedsPort: the port is not one of the allowed ports, so an allow rule must name it. */
  | { kind: 'address_not_public'; host: string; port: number; address: string; addressClass: AddressClass; isLiteral: boolean; ruleNeedsPort: boolean }
  | { kind: 'unsupported_scheme'; scheme: string }
  | { kind: 'name_not_found'; host: string }
  | { kind: 'not_tls'; host: string; port: number };

export class ConnectorError extends Error {
  /** Set where the message can say more than the reason alone (see messages.ts). */
  readonly facts: FailureFacts | undefined;

  constructor(
    readonly reason: FailureReason,
    /** Technical detail for the server log (no secrets); never shown to the customer. */
    readonly detail: string,
    options?: { cause?: unknown; facts?: FailureFacts },
  ) {
    super(`${reason}: ${detail}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConnectorError';
    this.facts = options?.facts;
  }
}

/** fetch as the connectors use it; the host policy supplies one that pins checked addresses. */
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface Collection {
  /** Absolute URL or server id of the folder / calendar / address book. */
  id: string;
  name: string;
  kind: 'mail' | 'calendar' | 'contacts' | 'tasks';
}

export interface ProtocolReport {
  protocol: 'imap' | 'caldav' | 'carddav' | 'ews' | 'graph';
  /** Short facts worth showing an admin, e.g. "IDLE", "CONDSTORE", "2 calendars". */
  capabilities: string[];
  collections: Collection[];
}
