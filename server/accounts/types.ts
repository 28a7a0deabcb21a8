/**
 * The vocabulary shared by every account connector (IMAP, CalDAV/CardDAV, EWS, Microsoft
 * Graph). A connector reports failures only as a ConnectorError with one of these reasons;
 * its `detail` is for the server log and never reaches the browser.
 */
export const ACCOUNT_TYPES = ['imap', 'zimbra', 'kolab', 'openxchange', 'exchange', 'office365'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];

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

export class ConnectorError extends Error {
  constructor(
    readonly reason: FailureReason,
    /** Technical detail for the server log (no secrets); never shown to the customer. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${reason}: ${detail}`, options);
    this.name = 'ConnectorError';
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
