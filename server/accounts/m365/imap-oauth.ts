/**
 * IMAP login to Exchange Online with an app-only token (SASL XOAUTH2), since basic auth is
 * gone there.
 *
 * How the IMAP connector uses it:
 *
 *   const { accessToken } = await acquireAppToken({ ...connection, scope: EXCHANGE_ONLINE_SCOPE, authorityHost, fetch, signal });
 *   new ImapFlow({ host: EXCHANGE_ONLINE_IMAP.host, port: 993, secure: true, auth: xoauth2Options(mailbox, accessToken) });
 *
 * - `mailbox` is the primary SMTP address (or UPN) of the mailbox to open. With an app token
 *   the XOAUTH2 `user=` field alone selects the mailbox; the token names only the app.
 * - The token must be for https://outlook.office365.com/.default; a Graph token is refused.
 * - Exchange accepts it only when the app has the Office 365 Exchange Online application
 *   permission IMAP.AccessAsApp (full_access_as_app is for EWS, not IMAP), and the tenant admin
 *   registered its service principal in Exchange (New-ServicePrincipal) and gave it the mailbox
 *   (Add-MailboxPermission -AccessRights FullAccess). Otherwise the answer is a bare
 *   `NO AUTHENTICATE failed.`, which imapflow reports as `authenticationFailed`: for office365
 *   that is the organization's connection, not the customer's password (see imapOAuthFailure).
 * - imapflow sends OAUTHBEARER when the server advertises it and XOAUTH2 otherwise; Exchange
 *   Online advertises only AUTH=XOAUTH2 (and SASL-IR, so the token rides on the command line).
 * - Exchange Online ends a session once its token expires (`* BYE Session invalidated -
 *   AccessTokenExpired`): long copies reconnect, asking acquireAppToken again each time (it
 *   caches, and hands out tokens with at least five minutes left).
 */
import { ConnectorError } from '../types';

export const EXCHANGE_ONLINE_IMAP = { host: 'outlook.office365.com', port: 993, secure: true } as const;

export interface Xoauth2Auth {
  user: string;
  accessToken: string;
}

/** The `auth` option of imapflow for an XOAUTH2 login. Without `pass`, imapflow never falls back to LOGIN. */
export function xoauth2Options(user: string, accessToken: string): Xoauth2Auth {
  // XOAUTH2 frames its fields with \x01: a control character would end the field early.
  if (user === '' || /[\s\x00-\x1f\x7f]/.test(user)) {
    throw new ConnectorError('auth_failed', `${JSON.stringify(user.slice(0, 80))} is not a mailbox address`);
  }
  if (accessToken === '' || /[\s\x00-\x1f\x7f]/.test(accessToken)) {
    throw new ConnectorError('protocol_error', 'the access token is empty or contains whitespace');
  }
  return { user, accessToken };
}

/**
 * The office365 reading of an imapflow login failure, or null when it is not about the login.
 * A refused token points at the organization's app registration or Exchange setup, not at a
 * password the customer could correct.
 */
export function imapOAuthFailure(error: unknown): ConnectorError | null {
  if (error instanceof ConnectorError) return error;
  const e = error as { authenticationFailed?: boolean; serverResponseCode?: string; response?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return null;
  if (e.authenticationFailed || e.serverResponseCode === 'AUTHENTICATIONFAILED') {
    const said = typeof e.response === 'string' ? e.response : typeof e.message === 'string' ? e.message : '';
    return new ConnectorError(
      'not_configured',
      `Exchange Online refused the app token for this mailbox (${said.slice(0, 200)}): check the IMAP.AccessAsApp consent, New-ServicePrincipal and Add-MailboxPermission, and that the mailbox exists`,
      { cause: error },
    );
  }
  if (typeof e.message === 'string' && /unsupported authentication mechanism/i.test(e.message)) {
    return new ConnectorError('protocol_error', 'the IMAP server offers neither XOAUTH2 nor OAUTHBEARER', { cause: error });
  }
  return null;
}
