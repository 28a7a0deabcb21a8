import type { AddressClass } from './network/ip-ranges';
import type { FailureFacts, FailureReason } from './types';

/**
 * Who reads a failure. An admin runs the installation and is told what to allow and where;
 * everyone else (customers, resellers, and the mass check, which runs as its customer) is told
 * what to do without learning anything about this installation's network.
 */
export type MessageAudience = 'admin' | 'customer';

export function audienceOf(role: string | null | undefined): MessageAudience {
  return role === 'admin' ? 'admin' : 'customer';
}

export interface MessageContext {
  retryAfterSeconds?: number;
  /** The connector's structured facts (ConnectorError.facts), when it had any. */
  facts?: FailureFacts;
  /** Customer wording unless said otherwise: it is the one that reveals nothing. */
  audience?: MessageAudience;
}

const SETTINGS = 'Settings → Allowed private hosts';

/** `host` or `host:port` as an allow rule (and a server address) is written; IPv6 in brackets with a port. */
function hostAndPort(host: string, port: number | null): string {
  if (port === null) return host;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** What an address kind is, for an admin; the customer's sentences below never name the address. */
const ADDRESS_KIND: Record<Exclude<AddressClass, 'public'>, string> = {
  private: 'a private network address',
  unique_local: 'a private (unique local) IPv6 address',
  site_local: 'a private (site-local) IPv6 address',
  loopback: 'a loopback address (this machine itself)',
  link_local: 'a link-local address (such as the cloud metadata service)',
  cgnat: 'a shared carrier-grade NAT address',
  unspecified: 'the unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  documentation: 'an address reserved for documentation',
  benchmarking: 'an address reserved for benchmarking',
  reserved: 'a reserved address',
  invalid: 'not a valid address',
};

function addressMessage(facts: Extract<FailureFacts, { kind: 'address_not_public' }>, audience: MessageAudience): string {
  const kind = facts.addressClass === 'public' ? 'reserved' : facts.addressClass;
  if (audience === 'admin') {
    const rule = `\`${hostAndPort(facts.host, facts.ruleNeedsPort ? facts.port : null)}\``;
    const what = facts.isLiteral ? `${facts.address} is ${ADDRESS_KIND[kind]}` : `${facts.host} resolves to ${facts.address}, ${ADDRESS_KIND[kind]}`;
    const only =
      kind === 'loopback'
        ? ' Allow it only if the mail server runs on the machine Mailferry runs on.'
        : kind === 'link_local'
          ? ' Allow it only if a mail server really listens there.'
          : '';
    return `${what}, which Mailferry does not connect to unless allowed; an administrator can allow ${rule} under ${SETTINGS}.${only}`;
  }
  switch (kind) {
    case 'private':
    case 'unique_local':
    case 'site_local':
      return "This server is on a private network, which Mailferry may not reach. Use the server's public address, or ask your administrator.";
    case 'loopback':
      return 'This server address points to the machine Mailferry runs on, which may not be used. Check the server address, or ask your administrator.';
    case 'link_local':
      return 'This server address is a link-local address, which may not be used. Check the server address, or ask your administrator.';
    default:
      return 'This server address is not a public internet address. Check the server address, or ask your administrator.';
  }
}

function blockedMessage(facts: FailureFacts | undefined, audience: MessageAudience): string {
  switch (facts?.kind) {
    case 'port_not_allowed':
      return audience === 'admin'
        ? `Port ${facts.port} is not allowed for this server; an administrator can allow \`${hostAndPort(facts.host, facts.port)}\` under ${SETTINGS}.`
        : "This server's port is not allowed; ask your administrator, or use the standard port (993 for IMAP over TLS, 143 for STARTTLS).";
    case 'address_not_public':
      return addressMessage(facts, audience);
    case 'invalid_port':
      return 'The port must be a number from 1 to 65535. Check the server address.';
    case 'unsupported_scheme':
      return `A ${facts.scheme}:// address cannot be used here; enter an https:// address or the server's host name.`;
    default:
      return 'Mailferry may not connect to this server address. Only public mail servers can be used unless your administrator allows others.';
  }
}

/** What the reader sees for each failure: what happened and what to do, never technical detail. */
export function failureMessage(reason: FailureReason, context: MessageContext = {}): string {
  const audience = context.audience ?? 'customer';
  const facts = context.facts;
  switch (reason) {
    case 'unknown_host':
      if (facts?.kind === 'name_not_found') {
        return audience === 'admin'
          ? `The name ${facts.host} could not be found from this installation. Check the spelling, and that this installation's DNS resolver knows the name.`
          : `The server name ${facts.host} could not be found. Check the spelling of the server address.`;
      }
      return 'The server name could not be found. Check the spelling of the server address.';
    case 'connection_refused':
      return 'The server refused the connection. Check the server address and port.';
    case 'timed_out':
      return 'The server did not answer in time. Check the server address and port, then try again.';
    case 'tls_error':
      if (facts?.kind === 'not_tls') return `This port does not speak TLS; try imap://${hostAndPort(facts.host, facts.port)} for STARTTLS.`;
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
      return blockedMessage(facts, audience);
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
