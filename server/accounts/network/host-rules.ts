import { addressBytes, embeddedIpv4, inPrefix, parseIpLiteral } from './ip-ranges';
import { domainToAscii, isIP, isIPv4, isIPv6 } from './ip-syntax';

/**
 * One entry of MAILFERRY_ALLOWED_HOSTS or MAILFERRY_INSECURE_HOSTS. A name rule trusts
 * whatever the name resolves to; a CIDR rule trusts addresses, whatever name led there.
 */
export type HostRule =
  | { kind: 'name'; name: string; isWildcard: boolean; port: number | null }
  | { kind: 'cidr'; network: string; prefix: number; family: 4 | 6; port: number | null };

export interface HostRuleTarget {
  host: string;
  address: string;
  port: number;
}

/**
 * Parses a comma- or newline-separated list. Entries: `mail.internal`, `*.example.com`,
 * `192.0.2.7`, `10.0.0.0/8`, `::1`, `fd00::/8`, each optionally with a port:
 * `mail.internal:993`, `127.0.0.1/32:10143`, `[::1]:993`, `[fd00::]/8:443`. A bare IPv6 address
 * cannot carry a port (its colons make it ambiguous), so it must be bracketed for one.
 * `#` starts a comment up to the end of the line.
 */
export function parseHostRules(text: string): { rules: HostRule[]; errors: string[] } {
  const rules: HostRule[] = [];
  const errors: string[] = [];
  const entries = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .flatMap((line) => line.split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    const result = parseHostRule(entry);
    if (typeof result === 'string') errors.push(`"${entry}": ${result}`);
    else rules.push(result);
  }
  return { rules, errors };
}

export function formatHostRule(rule: HostRule): string {
  if (rule.kind === 'name') {
    const name = rule.isWildcard ? `*.${rule.name}` : rule.name;
    return rule.port === null ? name : `${name}:${rule.port}`;
  }
  const fullPrefix = rule.family === 4 ? 32 : 128;
  const cidr = rule.prefix === fullPrefix ? rule.network : `${rule.network}/${rule.prefix}`;
  if (rule.port === null) return cidr;
  return rule.family === 6 ? `[${rule.network}]${rule.prefix === fullPrefix ? '' : `/${rule.prefix}`}:${rule.port}` : `${cidr}:${rule.port}`;
}

/**
 * Whether any rule covers the connection: by host name (case-insensitive, `*.` matching any
 * subdomain but not the domain itself) or by address in CIDR, and by port when the rule names
 * one. An IPv4-mapped IPv6 address also matches IPv4 rules, since the packets go to that IPv4.
 */
export function matchesHostRules(rules: readonly HostRule[], target: HostRuleTarget): boolean {
  return rules.some((rule) => matchesHostRule(rule, target));
}

export function matchesHostRule(rule: HostRule, target: HostRuleTarget): boolean {
  if (rule.port !== null && rule.port !== target.port) return false;
  if (rule.kind === 'name') {
    const host = normalizeName(target.host);
    if (host === null) return false;
    return rule.isWildcard ? host.endsWith(`.${rule.name}`) : host === rule.name;
  }
  const bytes = addressBytes(target.address.split('%')[0]!);
  if (!bytes) return false;
  const network = addressBytes(rule.network)!;
  if (bytes.length === network.length) return inPrefix(bytes, network, rule.prefix);
  // Only the mapped form: NAT64 or 6to4 addresses are not the IPv4 host an admin listed.
  const mapped = bytes.length === 16 && isMappedIpv4(bytes) ? embeddedIpv4(bytes) : null;
  return mapped !== null && network.length === 4 && inPrefix(mapped, network, rule.prefix);
}

function parseHostRule(entry: string): HostRule | string {
  let body = entry;
  let port: number | null = null;

  if (body.startsWith('[')) {
    const close = body.indexOf(']');
    if (close === -1) return 'missing "]"';
    const inside = body.slice(1, close);
    let rest = body.slice(close + 1);
    let prefixText = '';
    const prefixMatch = /^\/(\d+)/.exec(rest);
    if (prefixMatch) {
      prefixText = prefixMatch[0];
      rest = rest.slice(prefixText.length);
    }
    if (rest !== '') {
      if (!rest.startsWith(':')) return 'unexpected text after "]"';
      const parsed = parsePort(rest.slice(1));
      if (parsed === null) return 'port must be a number from 1 to 65535';
      port = parsed;
    }
    if (!isIPv6(inside.split('/')[0]!)) return 'brackets must hold an IPv6 address';
    return parseCidr(inside + prefixText, port);
  }

  const colons = body.split(':').length - 1;
  if (colons === 1) {
    const at = body.lastIndexOf(':');
    const parsed = parsePort(body.slice(at + 1));
    if (parsed === null) return 'port must be a number from 1 to 65535';
    port = parsed;
    body = body.slice(0, at);
  }
  if (colons > 1 || body.includes('/') || isIP(body) !== 0) return parseCidr(body, port);

  // Digits and dots only would be read as an IPv4 address by getaddrinfo, never as a name.
  if (/^[0-9.]+$/.test(body) || /^0x[0-9a-f]*$/i.test(body)) return 'not a valid IP address';
  const isWildcard = body.startsWith('*.');
  const name = normalizeName(isWildcard ? body.slice(2) : body);
  if (name === null) return 'not a valid host name, IP address or CIDR';
  if (isWildcard && !name.includes('.')) return 'a wildcard needs at least two labels after "*."';
  return { kind: 'name', name, isWildcard, port };
}

function parseCidr(text: string, port: number | null): HostRule | string {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : null;
  if (family === null) return 'not a valid IP address';
  if (address.includes('%')) return 'a zone index is not allowed';
  const maxPrefix = family === 4 ? 32 : 128;
  let prefix = maxPrefix;
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxPrefix) {
      return `prefix length must be a number from 0 to ${maxPrefix}`;
    }
    prefix = Number(prefixText);
  }
  // Host bits are cleared so that `10.1.2.3/8` means 10.0.0.0/8, as ip route would read it.
  const bytes = addressBytes(address)!.map((value, index) => {
    const bits = prefix - index * 8;
    if (bits >= 8) return value;
    if (bits <= 0) return 0;
    return value & ((0xff << (8 - bits)) & 0xff);
  });
  return { kind: 'cidr', network: formatBytes(bytes), prefix, family, port };
}

function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
}

/** Lowercase ASCII (punycode) without a trailing dot, or null when it is not a host name. */
export function normalizeName(host: string): string | null {
  const trimmed = host.trim().replace(/\.$/, '');
  if (trimmed === '' || isIP(trimmed) !== 0) return null;
  const ascii = domainToAscii(trimmed).toLowerCase();
  // domainToAscii runs the URL host parser, which turns `1.2.3.0x10` into an IPv4 address.
  if (ascii === '' || ascii.length > 253 || isIP(ascii) !== 0) return null;
  // Underscores appear in real internal names (e.g. _dmarc-style or Windows hosts).
  const label = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
  return ascii.split('.').every((part) => label.test(part)) ? ascii : null;
}

function isMappedIpv4(bytes: readonly number[]): boolean {
  return bytes.slice(0, 10).every((value) => value === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

function formatBytes(bytes: readonly number[]): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  // Reuse the RFC 5952 formatting of the literal parser.
  return parseIpLiteral(groups.join(':'))!;
}
