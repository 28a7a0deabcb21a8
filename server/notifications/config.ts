import { env, type Env } from '../env';
import { fromAddressOf, parseSmtpUrl, type SmtpSettings } from './smtp-url';

/** How this installation sends migration e-mails; null when MAILFERRY_SMTP_URL is not set. */
export interface MailConfig {
  smtp: SmtpSettings;
  /** The From header as configured: "Mailferry <mailferry@example.com>". */
  from: string;
  fromAddress: string;
  /** Where users reach the portal, for the links in the e-mails, without a trailing slash. */
  portalUrl: string;
}

export function mailConfig(source: Env = env()): MailConfig | null {
  if (!source.MAILFERRY_SMTP_URL || !source.MAILFERRY_MAIL_FROM) return null;
  const fromAddress = fromAddressOf(source.MAILFERRY_MAIL_FROM);
  if (!fromAddress) return null;
  return { smtp: parseSmtpUrl(source.MAILFERRY_SMTP_URL), from: source.MAILFERRY_MAIL_FROM, fromAddress, portalUrl: portalUrl(source) };
}

/** Whether this installation sends migration e-mails, for the pages that say so. */
export const isMailConfigured = (source: Env = env()) => mailConfig(source) !== null;

/**
 * The portal's address as `npm start` gives it to the web server: NEXTAUTH_URL, else
 * http://localhost:PORT. A worker on another machine needs NEXTAUTH_URL set to link right.
 */
export function portalUrl(source: Env = env()): string {
  return (source.NEXTAUTH_URL ?? `http://localhost:${source.PORT}`).replace(/\/+$/, '');
}
