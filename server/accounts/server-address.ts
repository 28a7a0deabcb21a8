/**
 * The "server" a customer types for an account: `host`, `host:port`, `imaps://host[:port]`,
 * `imap://host[:port]`, or for DAV/EWS an `https://` URL. The answer says exactly how to
 * connect, and a plain-text connection is never chosen silently.
 */
export type MailSecurity = 'tls' | 'starttls';

export interface MailServer {
  host: string;
  port: number;
  /** tls: implicit TLS (IMAPS). starttls: plain connect, then STARTTLS is required. */
  security: MailSecurity;
}

export interface ParsedServer {
  /** Where to reach IMAP; null when the field is an https:// URL of a DAV/EWS endpoint. */
  mail: MailServer | null;
  /** The host, for discovering groupware endpoints (well-known URLs, autodiscover). */
  host: string;
  /** A groupware endpoint the customer gave explicitly. */
  url: URL | null;
}

export class ServerAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerAddressError';
  }
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

function checkHost(host: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.includes(':')) {
    if (!/^[0-9a-f:.]+$/i.test(bare)) throw new ServerAddressError('The server address is not a valid host name.');
    return bare.toLowerCase();
  }
  if (!HOSTNAME.test(bare)) throw new ServerAddressError('The server address is not a valid host name.');
  return bare.toLowerCase().replace(/\.$/, '');
}

function checkPort(text: string): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port < 1 || port > 65535) throw new ServerAddressError('The port must be a number from 1 to 65535.');
  return port;
}

/** Implicit TLS unless the customer asked for port 143 or imap://, which then must use STARTTLS. */
function securityFor(port: number, scheme: 'imaps' | 'imap' | null): MailSecurity {
  if (scheme === 'imaps') return 'tls';
  if (scheme === 'imap') return 'starttls';
  return port === 143 ? 'starttls' : 'tls';
}

export function parseServer(input: string): ParsedServer {
  const text = input.trim();
  if (!text) throw new ServerAddressError('Enter the server address.');
  if (/\s/.test(text)) throw new ServerAddressError('The server address must not contain spaces.');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme) {
    if (scheme === 'https' || scheme === 'http') {
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw new ServerAddressError('The server URL is not valid.');
      }
      if (url.username || url.password) throw new ServerAddressError('Do not put credentials in the server URL.');
      return { mail: null, host: checkHost(url.hostname), url };
    }
    if (scheme !== 'imap' && scheme !== 'imaps') {
      throw new ServerAddressError('Use imaps://, imap:// or https://, or just the host name.');
    }
    const rest = text.slice(scheme.length + 3).replace(/\/$/, '');
    if (rest.includes('/') || rest.includes('@')) throw new ServerAddressError('The server address must be only a host and an optional port.');
    const { host, port } = splitHostPort(rest);
    const resolvedPort = port ?? (scheme === 'imaps' ? 993 : 143);
    return { mail: { host, port: resolvedPort, security: securityFor(resolvedPort, scheme) }, host, url: null };
  }
  if (text.includes('/') || text.includes('@')) throw new ServerAddressError('The server address must be only a host and an optional port.');
  const { host, port } = splitHostPort(text);
  const resolvedPort = port ?? 993;
  return { mail: { host, port: resolvedPort, security: securityFor(resolvedPort, null) }, host, url: null };
}

function splitHostPort(text: string): { host: string; port: number | null } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return { host: checkHost(bracketed[1]!), port: bracketed[2] ? checkPort(bracketed[2]) : null };
  const parts = text.split(':');
  if (parts.length > 2) return { host: checkHost(text), port: null }; // a bare IPv6 address
  return { host: checkHost(parts[0]!), port: parts[1] !== undefined ? checkPort(parts[1]) : null };
}

export function formatMailServer(server: MailServer): string {
  const host = server.host.includes(':') ? `[${server.host}]` : server.host;
  return `${server.security === 'tls' ? 'imaps' : 'imap'}://${host}:${server.port}`;
}

/**
 * Parses the optional groupware address of an account: an http(s):// URL where its CalDAV and
 * CardDAV are found (RFC 6764 discovery starts there), for providers whose groupware is not on
 * the mail server's host.
 */
export function parseGroupwareUrl(input: string): URL {
  const text = input.trim();
  if (/\s/.test(text)) throw new ServerAddressError('The groupware address must not contain spaces.');
  if (!/^https?:\/\//i.test(text)) throw new ServerAddressError('The groupware address must start with https://.');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ServerAddressError('The groupware address is not a valid URL.');
  }
  if (url.username || url.password) throw new ServerAddressError('Do not put credentials in the groupware address.');
  checkHost(url.hostname);
  if (url.search || url.hash) throw new ServerAddressError('The groupware address must not have a query or fragment.');
  return url;
}

/**
 * Where an Exchange account's EWS is looked for: its groupware address when given (the EWS URL,
 * or a host whose autodiscover answers), else its server field (a URL, or the host).
 */
export function ewsDiscoveryStart(server: string, groupwareUrl?: string | null): string {
  if (groupwareUrl) return parseGroupwareUrl(groupwareUrl).href;
  const parsed = parseServer(server);
  return parsed.url?.href ?? parsed.host;
}

/**
 * Where CalDAV/CardDAV discovery starts for an account: its groupware address when given, else
 * the https:// URL of its server field, else that server's host (RFC 6764).
 */
export function davDiscoveryUrl(server: string, groupwareUrl?: string | null): string {
  if (groupwareUrl) return parseGroupwareUrl(groupwareUrl).href;
  const parsed = parseServer(server);
  return parsed.url?.href ?? `https://${parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host}/`;
}
