import type { FailureReason } from './types';

/** What a customer reads for each failure: what happened and what to do, never technical detail. */
export function failureMessage(reason: FailureReason, context: { retryAfterSeconds?: number } = {}): string {
  switch (reason) {
    case 'unknown_host':
      return 'The server name could not be found. Check the spelling of the server address.';
    case 'connection_refused':
      return 'The server refused the connection. Check the server address and port.';
    case 'timed_out':
      return 'The server did not answer in time. Check the server address and port, then try again.';
    case 'tls_error':
      return "A secure connection could not be made: the server's certificate is not valid for this address or is not trusted.";
    case 'plaintext_refused':
      return 'The server offers no encrypted connection on this port. Use port 993 (IMAPS) or a server that supports STARTTLS.';
    case 'auth_failed':
      return 'The username or password is wrong.';
    case 'imap_disabled':
      return 'The login is correct, but IMAP access is disabled for this mailbox. Enable IMAP for it and try again.';
    case 'groupware_not_found':
      return 'Calendars and contacts could not be found on this server. Enter the groupware address (https://…) as the server, or use the account type IMAP.';
    case 'blocked_host':
      return 'Mailferry may not connect to this server address. Only public mail servers can be used unless your administrator allows others.';
    case 'not_configured':
      return "Your organization's Microsoft 365 connection is missing or not valid. Check the tenant ID, client ID and client secret.";
    case 'protocol_error':
      return 'The server answered in an unexpected way. Check the account type and the server address.';
    case 'rate_limited': {
      const seconds = context.retryAfterSeconds ?? 60;
      return `Too many checks in a short time. Try again in ${seconds >= 90 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} s`}.`;
    }
  }
}
