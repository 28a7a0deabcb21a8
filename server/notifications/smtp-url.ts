/**
 * MAILFERRY_SMTP_URL: `smtp://user:password@host:587` (STARTTLS when the server offers it) or
 * `smtps://user:password@host:465` (TLS from the first byte). User and password are
 * percent-encoded, as in any URL. Kept free of nodemailer: the environment is read by every
 * command-line run.
 */
export interface SmtpSettings {
  /** TLS from the first byte (smtps://); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  host: string;
  port: number;
  /** Null for a relay that takes mail without a login. */
  auth: { user: string; pass: string } | null;
}

export class SmtpUrlError extends Error {}

/**
 * Reads the URL; a bad one throws SmtpUrlError with what is wrong. The messages never repeat
 * the value: it holds a password.
 */
export function parseSmtpUrl(text: string): SmtpSettings {
  const scheme = /^(smtps?):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (!scheme) throw new SmtpUrlError('must start with smtp:// or smtps:// (e.g. smtps://user:password@mail.example.com:465)');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SmtpUrlError('is not a valid URL; percent-encode special characters in the user and password (e.g. @ as %40)');
  }
  if (!url.hostname) throw new SmtpUrlError('must name the SMTP server (smtp://user:password@HOST:587)');
  if (url.pathname && url.pathname !== '/') throw new SmtpUrlError('must not have a path: only smtp://user:password@host:port');
  let user: string;
  let pass: string;
  try {
    user = decodeURIComponent(url.username);
    pass = decodeURIComponent(url.password);
  } catch {
    throw new SmtpUrlError('has a user or password that is not percent-encoded correctly');
  }
  if (user && !pass) throw new SmtpUrlError('has a user but no password (smtp://user:password@host:587)');
  if (!user && pass) throw new SmtpUrlError('has a password but no user (smtp://user:password@host:587)');
  const secure = scheme === 'smtps';
  // URL drops a port that is the scheme's default, which smtp(s) has none of: "" means unset.
  const port = url.port ? Number(url.port) : secure ? 465 : 587;
  // IPv6 literals come bracketed from URL; sockets want them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { secure, host, port, auth: user ? { user, pass } : null };
}

/**
 * MAILFERRY_MAIL_FROM: `mailferry@example.com` or `Mailferry <mailferry@example.com>`.
 * Returns the address part, or null when the text is neither.
 */
export function fromAddressOf(text: string): string | null {
  const match = /^(?:[^<>"]*|"[^"]*"\s*)<\s*([^\s<>@]+@[^\s<>@]+\.[^\s<>@]+)\s*>$/.exec(text) ?? /^([^\s<>@"]+@[^\s<>@]+\.[^\s<>@]+)$/.exec(text);
  return match?.[1] ?? null;
}
