import { isIPv4, isIPv6 } from './ip-syntax';

/**
 * Where an address points, as far as outgoing connections are concerned. Only `public` may be
 * reached without an admin allow rule; everything else is a way into the machine Mailferry
 * runs on, its network, or its cloud provider's metadata service.
 */
export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'cgnat'
  | 'unique_local'
  | 'site_local'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'benchmarking'
  | 'reserved'
  | 'invalid';

type Range = readonly [network: readonly number[], prefix: number, kind: AddressClass];

// Order matters: the first range that contains the address wins, so narrower ranges come first.
const IPV4_RANGES: readonly Range[] = [
  // Connecting to 0.0.0.0 reaches the local host on Linux, so "this network" is as bad as loopback.
  [[0, 0, 0, 0], 8, 'unspecified'],
  [[10, 0, 0, 0], 8, 'private'],
  [[100, 64, 0, 0], 10, 'cgnat'],
  [[127, 0, 0, 0], 8, 'loopback'],
  // Includes 169.254.169.254, the metadata service of AWS, GCP, Azure and OpenStack.
  [[169, 254, 0, 0], 16, 'link_local'],
  [[172, 16, 0, 0], 12, 'private'],
  // IETF protocol assignments (DS-Lite B4, NAT64 discovery, ...): never a mail server.
  [[192, 0, 0, 0], 24, 'reserved'],
  [[192, 0, 2, 0], 24, 'documentation'],
  // The deprecated 6to4 relay anycast prefix (RFC 7526).
  [[192, 88, 99, 0], 24, 'reserved'],
  [[192, 168, 0, 0], 16, 'private'],
  [[198, 18, 0, 0], 15, 'benchmarking'],
  [[198, 51, 100, 0], 24, 'documentation'],
  [[203, 0, 113, 0], 24, 'documentation'],
  [[224, 0, 0, 0], 4, 'multicast'],
  [[255, 255, 255, 255], 32, 'broadcast'],
  [[240, 0, 0, 0], 4, 'reserved'],
];

const IPV6_RANGES: readonly Range[] = [
  [[0x01, 0x00, 0, 0, 0, 0, 0, 0], 64, 'reserved'], // 100::/64 discard-only
  // 2001::/23 holds Teredo (2001::/32, which embeds an obfuscated client IPv4), ORCHID and
  // other protocol assignments; none of it hosts mail, so the whole block is refused.
  [[0x20, 0x01, 0x0d, 0xb8], 32, 'documentation'],
  [[0x20, 0x01, 0x00, 0x00], 23, 'reserved'],
  [[0x3f, 0xff], 20, 'documentation'], // RFC 9637
  [[0x5f, 0x00], 16, 'reserved'], // SRv6 SIDs, RFC 9602
  [[0xfc], 7, 'unique_local'],
  [[0xfe, 0x80], 10, 'link_local'],
  [[0xfe, 0xc0], 10, 'site_local'],
  [[0xff], 8, 'multicast'],
];

/** The only IPv6 block IANA hands out as global unicast; anything outside it is not a mail server. */
const IPV6_GLOBAL_UNICAST: Range = [[0x20], 3, 'public'];

/**
 * Classifies an IPv4 or IPv6 address (no brackets; a zone suffix is ignored). IPv6 forms that
 * carry an IPv4 address — IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96 and 6to4 2002::/16 —
 * are judged by the embedded IPv4, because that is where the packets end up.
 */
export function classifyAddress(address: string): AddressClass {
  const bytes = addressBytes(address);
  if (!bytes) return 'invalid';
  return bytes.length === 4 ? classifyIpv4(bytes) : classifyIpv6(bytes);
}

export function isPublicUnicast(address: string): boolean {
  return classifyAddress(address) === 'public';
}

/**
 * The address an attacker-supplied "host" denotes when it is an IP literal, normalized (dotted
 * quad, or RFC 5952 IPv6 without brackets); null when it is a DNS name. Besides the usual forms
 * it accepts what inet_aton() — and so getaddrinfo() and the WHATWG URL parser — accept:
 * `2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`, because `net.connect()` would reach
 * 127.0.0.1 for every one of them.
 */
export function parseIpLiteral(host: string): string | null {
  let text = host.trim();
  if (text.startsWith('[') && text.endsWith(']')) {
    text = text.slice(1, -1);
    return isIPv6(text) ? formatIpv6(text) : null;
  }
  // Every IPv6 address has a colon; the test spares the first call of the IPv6 pattern, which
  // takes milliseconds to compile, for the usual names and IPv4 addresses.
  if (text.includes(':') && isIPv6(text)) return formatIpv6(text);
  const ipv4 = parseLegacyIpv4(text);
  return ipv4 ? ipv4.join('.') : null;
}

/** The address as 4 or 16 bytes, or null when it is not an IP address. */
export function addressBytes(address: string): number[] | null {
  const text = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIPv4(text)) return text.split('.').map(Number);
  if (isIPv6(text)) return ipv6Bytes(text);
  return null;
}

/** Whether `bytes` lies in network/prefix; both must be of the same family. */
export function inPrefix(bytes: readonly number[], network: readonly number[], prefix: number): boolean {
  let bits = prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((network[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** The IPv4 address an IPv6 address forwards to (mapped, compatible, NAT64, 6to4), if any. */
export function embeddedIpv4(bytes: readonly number[]): number[] | null {
  if (bytes.length !== 16) return null;
  const head = (count: number) => bytes.slice(0, count);
  const isZero = (values: number[]) => values.every((value) => value === 0);
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (SIIT "translated", RFC 2765).
  if (isZero(head(10)) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12);
  if (isZero(head(8)) && bytes[8] === 0xff && bytes[9] === 0xff && bytes[10] === 0 && bytes[11] === 0) {
    return bytes.slice(12);
  }
  // ::a.b.c.d, deprecated IPv4-compatible; :: and ::1 are handled before this is asked.
  if (isZero(head(12))) return bytes.slice(12);
  // 64:ff9b::a.b.c.d, the well-known NAT64 prefix: a DNS64 resolver hands these out for IPv4 names.
  if (inPrefix(bytes, [0, 0x64, 0xff, 0x9b], 96)) return bytes.slice(12);
  // 2002:aabb:ccdd::/48, 6to4: the relay delivers to a.b.c.d.
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return bytes.slice(2, 6);
  return null;
}

function classifyIpv4(bytes: readonly number[]): AddressClass {
  for (const [network, prefix, kind] of IPV4_RANGES) {
    if (inPrefix(bytes, network, prefix)) return kind;
  }
  return 'public';
}

function classifyIpv6(bytes: readonly number[]): AddressClass {
  if (bytes.every((value) => value === 0)) return 'unspecified';
  if (bytes.slice(0, 15).every((value) => value === 0) && bytes[15] === 1) return 'loopback';
  const ipv4 = embeddedIpv4(bytes);
  if (ipv4) return classifyIpv4(ipv4);
  // The rest of 64:ff9b::/32 beyond /96 includes 64:ff9b:1::/48, NAT64 for private use (RFC 8215).
  if (inPrefix(bytes, [0, 0x64, 0xff, 0x9b], 32)) return 'private';
  for (const [network, prefix, kind] of IPV6_RANGES) {
    if (inPrefix(bytes, network, prefix)) return kind;
  }
  return inPrefix(bytes, IPV6_GLOBAL_UNICAST[0], IPV6_GLOBAL_UNICAST[1]) ? 'public' : 'reserved';
}

/**
 * inet_aton(): one to four parts separated by dots, each decimal, octal (leading 0) or hex
 * (0x); the last part fills all remaining bytes. A single trailing dot is allowed, as the URL
 * parser does.
 */
function parseLegacyIpv4(text: string): number[] | null {
  const parts = (text.endsWith('.') ? text.slice(0, -1) : text).split('.');
  if (parts.length < 1 || parts.length > 4) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    const value = parseIpv4Number(part);
    if (value === null) return null;
    numbers.push(value);
  }
  const last = numbers.pop()!;
  if (numbers.some((value) => value > 0xff)) return null;
  const lastBytes = 4 - numbers.length;
  if (last >= 2 ** (8 * lastBytes)) return null;
  const bytes = [...numbers];
  for (let i = lastBytes - 1; i >= 0; i--) bytes.push(Math.floor(last / 2 ** (8 * i)) % 256);
  return bytes;
}

function parseIpv4Number(part: string): number | null {
  let value: number;
  if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : parseInt(part.slice(2), 16);
  else if (/^0[0-7]+$/.test(part)) value = parseInt(part.slice(1), 8);
  else if (/^(0|[1-9][0-9]*)$/.test(part)) value = Number(part);
  else return null;
  return Number.isSafeInteger(value) ? value : null;
}

function ipv6Bytes(text: string): number[] {
  const address = text.split('%')[0]!;
  let groups: string[];
  const tail: number[] = [];
  const dotted = address.lastIndexOf(':');
  const last = address.slice(dotted + 1);
  if (last.includes('.')) {
    tail.push(...last.split('.').map(Number));
    groups = splitGroups(address.slice(0, dotted + 1), 6);
  } else {
    groups = splitGroups(address, 8);
  }
  const bytes: number[] = [];
  for (const group of groups) {
    const value = parseInt(group, 16);
    bytes.push(value >> 8, value & 0xff);
  }
  return [...bytes, ...tail];
}

/** Expands `::` so that `count` 16-bit groups remain; the input was validated by isIPv6. */
function splitGroups(text: string, count: number): string[] {
  const [before = '', after] = text.split('::');
  const head = before === '' ? [] : before.split(':').filter((group) => group !== '');
  if (after === undefined) return head;
  const rest = after === '' ? [] : after.split(':').filter((group) => group !== '');
  return [...head, ...Array<string>(count - head.length - rest.length).fill('0'), ...rest];
}

/**
 * RFC 5952 text: lowercase, the longest run of zero groups as `::`, mapped IPv4 in dotted form
 * (as Node reports socket addresses), zone kept.
 */
function formatIpv6(text: string): string {
  const zoneAt = text.indexOf('%');
  const zone = zoneAt === -1 ? '' : text.slice(zoneAt);
  const bytes = ipv6Bytes(text);
  if (bytes.slice(0, 10).every((value) => value === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes.slice(12).join('.')}${zone}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(':') + zone;
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLength).join(':');
  return `${left}::${right}${zone}`;
}
