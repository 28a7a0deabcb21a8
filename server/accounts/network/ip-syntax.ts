/**
 * The address and host-name syntax checks of Node's `node:net` (isIP, isIPv4, isIPv6) and
 * `node:url` (domainToASCII), without Node: the host policy's literal checks also run in the
 * browser (the mass migration's formal check), where those modules do not exist. The server
 * decides with the same functions, so both sides judge an address alike.
 */

// Node's own patterns (lib/internal/net.js), character for character: what they accept is what
// net.connect() and getaddrinfo() treat as an address rather than a name.
const V4_SEG = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const V4_STR = `(?:${V4_SEG}\\.){3}${V4_SEG}`;
const V6_SEG = '(?:[0-9a-fA-F]{1,4})';
const IPV4 = new RegExp(`^${V4_STR}$`);
const IPV6 = new RegExp(
  '^(?:' +
    `(?:${V6_SEG}:){7}(?:${V6_SEG}|:)|` +
    `(?:${V6_SEG}:){6}(?:${V4_STR}|:${V6_SEG}|:)|` +
    `(?:${V6_SEG}:){5}(?::${V4_STR}|(?::${V6_SEG}){1,2}|:)|` +
    `(?:${V6_SEG}:){4}(?:(?::${V6_SEG}){0,1}:${V4_STR}|(?::${V6_SEG}){1,3}|:)|` +
    `(?:${V6_SEG}:){3}(?:(?::${V6_SEG}){0,2}:${V4_STR}|(?::${V6_SEG}){1,4}|:)|` +
    `(?:${V6_SEG}:){2}(?:(?::${V6_SEG}){0,3}:${V4_STR}|(?::${V6_SEG}){1,5}|:)|` +
    `(?:${V6_SEG}:){1}(?:(?::${V6_SEG}){0,4}:${V4_STR}|(?::${V6_SEG}){1,6}|:)|` +
    `(?::(?:(?::${V6_SEG}){0,5}:${V4_STR}|(?::${V6_SEG}){1,7}|:))` +
    ')(?:%[0-9a-zA-Z-.:]{1,})?$',
);

/** A dotted quad without leading zeros, as `net.isIPv4`. */
export function isIPv4(text: string): boolean {
  return IPV4.test(text);
}

/** An IPv6 address, optionally with a zone (`fe80::1%eth0`), as `net.isIPv6`. */
export function isIPv6(text: string): boolean {
  return IPV6.test(text);
}

/** 4, 6 or 0, as `net.isIP`. */
export function isIP(text: string): 0 | 4 | 6 {
  if (isIPv4(text)) return 4;
  if (isIPv6(text)) return 6;
  return 0;
}

/**
 * The host's ASCII (punycode) form, lower-cased, or '' when it is not a valid host — what
 * `url.domainToASCII` answers. Node runs the WHATWG URL host parser by setting the host name of
 * `ws://x`; the URL class of every runtime does the same, but its setter ignores a value it
 * refuses instead of saying so, which a second base with another host name reveals.
 */
export function domainToAscii(domain: string): string {
  if (domain === '') return '';
  const first = new URL('ws://x');
  first.hostname = domain;
  if (first.hostname !== 'x') return first.hostname;
  const second = new URL('ws://y');
  second.hostname = domain;
  return second.hostname === 'x' ? 'x' : '';
}
