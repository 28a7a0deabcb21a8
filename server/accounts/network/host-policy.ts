import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { ConnectorError } from '../types';
import { isPortPermitted, judgeAddress } from './address-policy';
import { matchesHostRules, normalizeName, type HostRule } from './host-rules';
import { parseIpLiteral } from './ip-ranges';

/**
 * What outgoing connections of the account connectors may reach. Customers type host names
 * into the portal, so without this a migration could be pointed at the database, the cloud
 * metadata service or anything else on Mailferry's own network.
 */
export interface NetworkPolicy {
  /** Hosts, addresses and ports the admin allows even though they are not public. */
  allow: HostRule[];
  /** Hosts whose certificate is not verified and which may be spoken to over plain http. */
  insecure: HostRule[];
  /** PEM of private CAs trusted in addition to Node's public roots. */
  extraCaPem: string | null;
  allowedPorts: readonly number[];
}

/**
 * Ports mail and groupware servers actually listen on. SMTP (25/465/587) is left out on
 * purpose: a migration never sends mail, and an open SMTP port is the classic target of
 * abusing a fetcher as a spam relay. Anything else needs an allow rule that names the port.
 * - 143, 993: IMAP with STARTTLS, IMAPS.
 * - 443, 80: HTTPS for CalDAV/CardDAV, EWS, autodiscover, OAuth and Graph; http only ever
 *   works for insecure hosts (pinned-fetch refuses it otherwise).
 * - 8443, 8008, 8080: HTTPS and HTTP alternates of DAV servers (Apple/Darwin CalendarServer
 *   uses 8443/8008; Baïkal and SOGo setups behind Tomcat or dev proxies often 8080).
 * - 2080, 2079: cPanel's CalDAV/CardDAV (https/http), common at shared hosters.
 * - 5232: Radicale's default.
 */
export const DEFAULT_ALLOWED_PORTS: readonly number[] = [143, 993, 443, 80, 8443, 8008, 8080, 2080, 2079, 5232];

export type Lookup = (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;

export interface ResolvedTarget {
  /** The host as given (lowercased, IP literals normalized): for SNI, the certificate check and Host. */
  host: string;
  port: number;
  /** The checked address to connect to; connecting by name again would allow DNS rebinding. */
  address: string;
  family: 4 | 6;
  /** Matches policy.insecure: certificate not verified, plain http allowed. */
  isInsecure: boolean;
}

export interface TlsOptions {
  servername: string | undefined;
  ca?: string[];
  rejectUnauthorized: boolean;
}

// verbatim: keep the resolver's order instead of letting Node reorder; we choose ourselves.
const systemLookup: Lookup = async (hostname) => {
  const answers = await dns.lookup(hostname, { all: true, verbatim: true });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/**
 * Resolves `host` once and checks every address it resolves to, so that a name with one
 * public and one private answer cannot slip through on a retry. Callers connect to the
 * returned `address` and never resolve the name again.
 */
export async function resolveTarget(
  policy: NetworkPolicy,
  host: string,
  port: number,
  options: { lookup?: Lookup; signal?: AbortSignal } = {},
): Promise<ResolvedTarget> {
  options.signal?.throwIfAborted();
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConnectorError('blocked_host', `invalid port ${String(port)} for ${host}`, { facts: { kind: 'invalid_port', host } });
  }
  // A port no rule names is refused before any DNS query reveals what we were asked to reach.
  if (!isPortPermitted(policy, port)) {
    throw new ConnectorError('blocked_host', `port ${port} is not allowed (host ${host})`, { facts: { kind: 'port_not_allowed', host: parseIpLiteral(host) ?? host, port } });
  }

  const literal = parseIpLiteral(host);
  let name: string;
  let answers: { address: string; family: 4 | 6 }[];
  if (literal !== null) {
    name = literal;
    answers = [{ address: literal, family: isIP(literal.split('%')[0]!) === 6 ? 6 : 4 }];
  } else {
    const normalized = normalizeName(host);
    if (normalized === null) throw new ConnectorError('unknown_host', `not a host name: ${JSON.stringify(host)}`, { facts: { kind: 'name_not_found', host } });
    name = normalized;
    answers = await lookupName(name, options.lookup ?? systemLookup, options.signal);
  }

  const candidates: ResolvedTarget[] = [];
  for (const answer of answers) {
    // The lookup is injectable; whatever it returns is parsed again rather than trusted.
    const address = parseIpLiteral(answer.address);
    if (address === null) {
      throw new ConnectorError('blocked_host', `${name} resolved to something that is not an address: ${answer.address}`);
    }
    const target = { host: name, address, port };
    const verdict = judgeAddress(policy, target);
    if (!verdict.ok && verdict.refused === 'address') {
      throw new ConnectorError('blocked_host', `${name} resolves to ${address} (${verdict.kind})`, {
        facts: { kind: 'address_not_public', host: name, port, address, addressClass: verdict.kind, isLiteral: literal !== null, ruleNeedsPort: !policy.allowedPorts.includes(port) },
      });
    }
    if (!verdict.ok) continue;
    candidates.push({
      ...target,
      family: isIP(address.split('%')[0]!) === 6 ? 6 : 4,
      isInsecure: matchesHostRules(policy.insecure, target),
    });
  }
  // Prefer IPv4: a server with a broken AAAA record is more common than one without IPv4.
  const chosen = candidates.find((candidate) => candidate.family === 4) ?? candidates[0];
  if (!chosen) throw new ConnectorError('blocked_host', `port ${port} is not allowed for ${name}`, { facts: { kind: 'port_not_allowed', host: name, port } });
  return chosen;
}

/**
 * TLS options for a connection to `target.address`. SNI and the certificate check use the
 * original name; with an IP literal there is no SNI (RFC 6066 forbids it) and Node verifies
 * against the IP itself.
 */
export function tlsOptions(policy: NetworkPolicy, target: ResolvedTarget): TlsOptions {
  const servername = isIP(target.host.split('%')[0]!) === 0 ? target.host : undefined;
  const options: TlsOptions = { servername, rejectUnauthorized: !target.isInsecure };
  // Passing `ca` replaces Node's store instead of extending it, so the public roots go along.
  if (policy.extraCaPem) options.ca = [...tls.rootCertificates, policy.extraCaPem];
  return options;
}

const UNKNOWN_HOST_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ENODATA', 'EAI_NONAME', 'EAI_FAIL', 'ESERVFAIL', 'EBADNAME']);

async function lookupName(
  name: string,
  lookup: Lookup,
  signal: AbortSignal | undefined,
): Promise<{ address: string; family: 4 | 6 }[]> {
  let answers: { address: string; family: 4 | 6 }[];
  try {
    answers = await abortable(lookup(name), signal);
  } catch (error) {
    if (signal?.aborted && error === signal.reason) throw error;
    const code = (error as { code?: unknown } | null)?.code;
    const detail = UNKNOWN_HOST_CODES.has(String(code)) ? String(code) : String(error);
    throw new ConnectorError('unknown_host', `lookup of ${name} failed: ${detail}`, { cause: error, facts: { kind: 'name_not_found', host: name } });
  }
  if (answers.length === 0) throw new ConnectorError('unknown_host', `${name} has no addresses`, { facts: { kind: 'name_not_found', host: name } });
  return answers;
}

/** Stops waiting for `promise` when `signal` aborts (getaddrinfo, for one, cannot be cancelled). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
