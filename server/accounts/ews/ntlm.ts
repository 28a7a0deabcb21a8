import { createHash, createHmac, randomBytes } from 'node:crypto';
import { ConnectorError, type FetchLike } from '../types';

/**
 * The client side of NTLM over HTTP, for on-premise Exchange servers that allow only Windows
 * authentication, from [MS-NLMP] (learn.microsoft.com/openspecs/windows_protocols/ms-nlmp):
 * - 2.2.1.1 NEGOTIATE_MESSAGE, 2.2.1.2 CHALLENGE_MESSAGE, 2.2.1.3 AUTHENTICATE_MESSAGE, with
 *   the 8-byte security buffers (length, maximum length, offset) and the flags of 2.2.2.5;
 * - 2.2.2.1 AV_PAIR: the server's target information, echoed in the NTLMv2 response with
 *   MsvAvFlags saying a MIC is present (2.2.2.1, 3.1.5.1.2);
 * - 3.3.2 NTLM v2: NTOWFv2 = HMAC_MD5(MD4(UNICODE(Passwd)), UNICODE(Uppercase(User) + UserDom));
 *   NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge + temp), the NtChallengeResponse
 *   NTProofStr + temp (2.2.2.7, 2.2.2.8); SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr);
 *   LmChallengeResponse Z(24) as the server gave a timestamp (3.1.5.1.2); the MIC is
 *   HMAC_MD5(ExportedSessionKey, NEGOTIATE + CHALLENGE + AUTHENTICATE) (3.1.5.1.2);
 * - Extended Protection for Authentication: MsvAvChannelBindings, the MD5 of the TLS
 *   channel's tls-server-end-point binding (RFC 5929), when the fetch tells the certificate.
 * Only NTLMv2 is spoken: NTLMv1 and LM are broken and refused by current domains.
 * node:crypto on OpenSSL 3 has no MD4 (it is in the legacy provider), so it is written out
 * from RFC 1320.
 *
 * HTTP NTLM ([MS-NTHT]) authenticates the connection, not the request: the NEGOTIATE leg, the
 * AUTHENTICATE leg and the requests after it must go over one kept-alive connection. `NtlmSession`
 * sends one request at a time and needs a fetch that keeps one connection per origin (the
 * pinned fetch's `single()`): a pool of several may send the AUTHENTICATE leg over another
 * connection than the NEGOTIATE leg, which the server refuses. A request answered 401 (the
 * connection was closed and a new one opened) authenticates again.
 */

const FLAGS = {
  unicode: 0x00000001,
  requestTarget: 0x00000004,
  ntlm: 0x00000200,
  alwaysSign: 0x00008000,
  extendedSessionSecurity: 0x00080000,
  targetInfo: 0x00800000,
  version: 0x02000000,
  negotiate128: 0x20000000,
  negotiate56: 0x80000000,
} as const;

const NEGOTIATE_FLAGS =
  FLAGS.unicode | FLAGS.requestTarget | FLAGS.ntlm | FLAGS.alwaysSign | FLAGS.extendedSessionSecurity | FLAGS.targetInfo | FLAGS.version | FLAGS.negotiate128 | FLAGS.negotiate56;

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');
/** VERSION (2.2.2.10): Windows 10 / Server 2019 build 17763, NTLMSSP_REVISION_W2K3. */
const VERSION = Buffer.from([10, 0, 0x63, 0x45, 0, 0, 0, 0x0f]);
const AV = { eol: 0, timestamp: 7, flags: 6, channelBindings: 10 } as const;
/** A response read whole before the next request goes out; the EWS transport bounds it again. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** MD4 (RFC 1320), for the NT hash. */
export function md4(input: Buffer): Buffer {
  const padding = (input.length % 64 < 56 ? 56 : 120) - (input.length % 64);
  const message = Buffer.concat([input, Buffer.from([0x80]), Buffer.alloc(padding - 1 + 8)]);
  message.writeBigUInt64LE(BigInt(input.length) * 8n, message.length - 8);
  const rotl = (x: number, s: number) => ((x << s) | (x >>> (32 - s))) >>> 0;
  let a = 0x67452301;
  let b = 0xefcdab89;
  let c = 0x98badcfe;
  let d = 0x10325476;
  const x = new Array<number>(16);
  for (let block = 0; block < message.length; block += 64) {
    for (let i = 0; i < 16; i++) x[i] = message.readUInt32LE(block + i * 4);
    const [aa, bb, cc, dd] = [a, b, c, d];
    const f = (p: number, q: number, r: number) => (p & q) | (~p & r);
    const g = (p: number, q: number, r: number) => (p & q) | (p & r) | (q & r);
    const h = (p: number, q: number, r: number) => p ^ q ^ r;
    // Round 1: [abcd k s] a = (a + F(b,c,d) + X[k]) <<< s.
    for (const i of [0, 4, 8, 12]) {
      a = rotl((a + f(b, c, d) + x[i]!) >>> 0, 3);
      d = rotl((d + f(a, b, c) + x[i + 1]!) >>> 0, 7);
      c = rotl((c + f(d, a, b) + x[i + 2]!) >>> 0, 11);
      b = rotl((b + f(c, d, a) + x[i + 3]!) >>> 0, 19);
    }
    // Round 2: a = (a + G(b,c,d) + X[k] + 5A827999) <<< s.
    for (const i of [0, 1, 2, 3]) {
      a = rotl((a + g(b, c, d) + x[i]! + 0x5a827999) >>> 0, 3);
      d = rotl((d + g(a, b, c) + x[i + 4]! + 0x5a827999) >>> 0, 5);
      c = rotl((c + g(d, a, b) + x[i + 8]! + 0x5a827999) >>> 0, 9);
      b = rotl((b + g(c, d, a) + x[i + 12]! + 0x5a827999) >>> 0, 13);
    }
    // Round 3: a = (a + H(b,c,d) + X[k] + 6ED9EBA1) <<< s.
    for (const i of [0, 2, 1, 3]) {
      a = rotl((a + h(b, c, d) + x[i]! + 0x6ed9eba1) >>> 0, 3);
      d = rotl((d + h(a, b, c) + x[i + 8]! + 0x6ed9eba1) >>> 0, 9);
      c = rotl((c + h(d, a, b) + x[i + 4]! + 0x6ed9eba1) >>> 0, 11);
      b = rotl((b + h(c, d, a) + x[i + 12]! + 0x6ed9eba1) >>> 0, 15);
    }
    a = (a + aa) >>> 0;
    b = (b + bb) >>> 0;
    c = (c + cc) >>> 0;
    d = (d + dd) >>> 0;
  }
  const out = Buffer.alloc(16);
  [a, b, c, d].forEach((word, i) => out.writeUInt32LE(word, i * 4));
  return out;
}

const hmacMd5 = (key: Buffer, ...data: Buffer[]) => {
  const hmac = createHmac('md5', key);
  for (const part of data) hmac.update(part);
  return hmac.digest();
};
const utf16 = (text: string) => Buffer.from(text, 'utf16le');

/** NTOWFv2 (3.3.2). */
export function ntowfV2(password: string, user: string, domain: string): Buffer {
  return hmacMd5(md4(utf16(password)), utf16(user.toUpperCase() + domain));
}

/**
 * User and domain as NTLM sends them: `DOMAIN\user` is split; a UPN (`user@domain`) goes as the
 * user name with an empty domain, which Windows resolves itself.
 */
export function ntlmUser(username: string): { user: string; domain: string } {
  const slash = username.indexOf('\\');
  if (slash > 0) return { domain: username.slice(0, slash), user: username.slice(slash + 1) };
  return { domain: '', user: username };
}

/** NEGOTIATE_MESSAGE (2.2.1.1): no domain or workstation supplied, with VERSION. */
export function negotiateMessage(): Buffer {
  const message = Buffer.alloc(40);
  SIGNATURE.copy(message, 0);
  message.writeUInt32LE(1, 8);
  message.writeUInt32LE(NEGOTIATE_FLAGS >>> 0, 12);
  // DomainNameFields and WorkstationFields empty, their offsets at the end of the message.
  message.writeUInt32LE(40, 20);
  message.writeUInt32LE(40, 28);
  VERSION.copy(message, 32);
  return message;
}

export interface NtlmChallenge {
  flags: number;
  serverChallenge: Buffer;
  targetInfo: Buffer;
  /** MsvAvTimestamp of the target information, if the server gave one (FILETIME, 8 bytes). */
  timestamp: Buffer | null;
}

/** CHALLENGE_MESSAGE (2.2.1.2); null for anything else. */
export function parseChallenge(token: Buffer): NtlmChallenge | null {
  if (token.length < 48 || !token.subarray(0, 8).equals(SIGNATURE) || token.readUInt32LE(8) !== 2) return null;
  const flags = token.readUInt32LE(20);
  const serverChallenge = Buffer.from(token.subarray(24, 32));
  const length = token.readUInt16LE(40);
  const offset = token.readUInt32LE(44);
  if (offset + length > token.length) return null;
  const targetInfo = flags & FLAGS.targetInfo ? Buffer.from(token.subarray(offset, offset + length)) : Buffer.alloc(0);
  let timestamp: Buffer | null = null;
  for (const pair of avPairs(targetInfo)) if (pair.id === AV.timestamp && pair.value.length === 8) timestamp = pair.value;
  return { flags, serverChallenge, targetInfo, timestamp };
}

function avPairs(info: Buffer): { id: number; value: Buffer }[] {
  const out: { id: number; value: Buffer }[] = [];
  for (let at = 0; at + 4 <= info.length; ) {
    const id = info.readUInt16LE(at);
    const length = info.readUInt16LE(at + 2);
    if (id === AV.eol || at + 4 + length > info.length) break;
    out.push({ id, value: info.subarray(at + 4, at + 4 + length) });
    at += 4 + length;
  }
  return out;
}

function avPair(id: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16LE(id, 0);
  head.writeUInt16LE(value.length, 2);
  return Buffer.concat([head, value]);
}

/** FILETIME of now: 100 ns since 1601-01-01. */
function fileTime(now: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE((BigInt(now) + 11_644_473_600_000n) * 10_000n);
  return out;
}

/** One DER TLV at `at`: where its content starts and ends. */
function derElement(der: Buffer, at: number): { tag: number; start: number; end: number } {
  const tag = der[at]!;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i]!;
    start += bytes;
  }
  return { tag, start, end: start + length };
}

/** Hash names by the DER of the certificate's signature algorithm OID (RFC 5929 4.1: MD5 and SHA-1 become SHA-256). */
const SIGNATURE_HASHES: Record<string, string> = {
  '2a864886f70d01010c': 'sha384',
  '2a864886f70d01010d': 'sha512',
  '2a8648ce3d040303': 'sha384',
  '2a8648ce3d040304': 'sha512',
};

/**
 * The tls-server-end-point channel binding of RFC 5929 4.1 for a server certificate (DER):
 * the certificate hashed with its signature's hash function (SHA-256 for MD5, SHA-1 and
 * SHA-256 signatures).
 */
export function tlsServerEndPoint(certificate: Buffer): Buffer {
  let algorithm = 'sha256';
  try {
    const outer = derElement(certificate, 0);
    const tbs = derElement(certificate, outer.start);
    const signatureAlgorithm = derElement(certificate, tbs.end);
    const oid = derElement(certificate, signatureAlgorithm.start);
    if (oid.tag === 0x06) algorithm = SIGNATURE_HASHES[certificate.subarray(oid.start, oid.end).toString('hex')] ?? 'sha256';
  } catch {
    // Not DER as expected: SHA-256, as for most certificates.
  }
  return createHash(algorithm).update(certificate).digest();
}

/**
 * MsvAvChannelBindings (2.2.2.1): MD5 of the gss_channel_bindings_struct (RFC 2744 3.11) with
 * no addresses and "tls-server-end-point:" + the certificate's hash as application data, which
 * Exchange's Extended Protection for Authentication checks against its own certificate.
 */
export function channelBindings(certificate: Buffer): Buffer {
  const application = Buffer.concat([Buffer.from('tls-server-end-point:', 'latin1'), tlsServerEndPoint(certificate)]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(application.length);
  return createHash('md5').update(Buffer.concat([Buffer.alloc(16), length, application])).digest();
}

export interface AuthenticateInput {
  negotiate: Buffer;
  challengeMessage: Buffer;
  challenge: NtlmChallenge;
  username: string;
  password: string;
  /** Default empty: the workstation name is optional (2.2.1.3). */
  workstation?: string;
  /** The server's TLS certificate (DER), for the channel binding of Extended Protection; none over plain http. */
  serverCertificate?: Buffer | null;
  /** For tests: the client challenge and the time. */
  clientChallenge?: Buffer;
  now?: number;
}

/** AUTHENTICATE_MESSAGE (2.2.1.3) with an NTLMv2 response and a MIC. */
export function authenticateMessage(input: AuthenticateInput): Buffer {
  const { user, domain } = ntlmUser(input.username);
  const { challenge } = input;
  const responseKey = ntowfV2(input.password, user, domain);
  const clientChallenge = input.clientChallenge ?? randomBytes(8);
  const timestamp = challenge.timestamp ?? fileTime(input.now ?? Date.now());
  // The server's pairs, with MsvAvFlags 0x2 (a MIC is present), then MsvAvEOL.
  const pairs = avPairs(challenge.targetInfo).filter((pair) => pair.id !== AV.flags && pair.id !== AV.channelBindings);
  const flagsValue = Buffer.alloc(4);
  flagsValue.writeUInt32LE(0x2);
  // Z(16) when there is no TLS channel to bind to (2.2.2.1).
  const bindings = input.serverCertificate ? channelBindings(input.serverCertificate) : Buffer.alloc(16);
  const serverName = Buffer.concat([...pairs.map((pair) => avPair(pair.id, pair.value)), avPair(AV.flags, flagsValue), avPair(AV.channelBindings, bindings), avPair(AV.eol, Buffer.alloc(0))]);
  const temp = Buffer.concat([Buffer.from([1, 1]), Buffer.alloc(6), timestamp, clientChallenge, Buffer.alloc(4), serverName, Buffer.alloc(4)]);
  const proof = hmacMd5(responseKey, challenge.serverChallenge, temp);
  const ntResponse = Buffer.concat([proof, temp]);
  // With a server timestamp the LM response is Z(24) (3.1.5.1.2).
  const lmResponse = challenge.timestamp ? Buffer.alloc(24) : Buffer.concat([hmacMd5(responseKey, challenge.serverChallenge, clientChallenge), clientChallenge]);
  const sessionKey = hmacMd5(responseKey, proof);
  const flags = (challenge.flags & NEGOTIATE_FLAGS) | FLAGS.unicode | FLAGS.ntlm;

  const fields = [lmResponse, ntResponse, utf16(domain), utf16(user), utf16(input.workstation ?? ''), Buffer.alloc(0)];
  const headerLength = 88;
  const header = Buffer.alloc(headerLength);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(3, 8);
  let offset = headerLength;
  fields.forEach((field, i) => {
    header.writeUInt16LE(field.length, 12 + i * 8);
    header.writeUInt16LE(field.length, 14 + i * 8);
    header.writeUInt32LE(offset, 16 + i * 8);
    offset += field.length;
  });
  header.writeUInt32LE(flags >>> 0, 60);
  VERSION.copy(header, 64);
  const message = Buffer.concat([header, ...fields]);
  hmacMd5(sessionKey, input.negotiate, input.challengeMessage, message).copy(message, 72);
  return message;
}

/** The schemes a 401 offers (WWW-Authenticate, one header or several joined by commas). */
export function offeredSchemes(header: string | null): string[] {
  if (!header) return [];
  return header
    .split(',')
    .map((part) => /^\s*([A-Za-z][\w-]*)(?:\s|$)/.exec(part)?.[1]?.toLowerCase())
    .filter((scheme): scheme is string => Boolean(scheme) && !/=/.test(scheme!));
}

/** A 401 that offers NTLM (or Negotiate, which falls back to it) and not Basic. */
export function offersOnlyNtlm(header: string | null): boolean {
  const schemes = offeredSchemes(header);
  return !schemes.includes('basic') && (schemes.includes('ntlm') || schemes.includes('negotiate'));
}

function challengeToken(header: string | null, scheme: string): Buffer | null {
  for (const part of (header ?? '').split(',')) {
    const match = /^\s*(NTLM|Negotiate)\s+([A-Za-z0-9+/=]+)\s*$/i.exec(part);
    if (match && match[1]!.toLowerCase() === scheme.toLowerCase()) return Buffer.from(match[2]!, 'base64');
  }
  return null;
}

export interface NtlmSessionOptions {
  /** A fetch that keeps one connection per origin (the pinned fetch's `single()`). */
  fetch: FetchLike;
  username: string;
  password: string;
  /** Told of every HTTP request sent, handshake legs included. */
  onRequest?: () => void;
  /** The certificate (DER) the connection to this URL's server presented, for Extended Protection. */
  peerCertificate?: (url: string) => Buffer | null;
}

/**
 * Requests over one NTLM-authenticated connection, one at a time. The first request (and any
 * answered 401 later, on a connection the server or the pool closed) goes through the two
 * legs first; the response body is read before the next request goes out.
 */
export class NtlmSession {
  private isAuthenticated = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: NtlmSessionOptions) {
    if (!options.username || !options.password) throw new ConnectorError('auth_failed', 'username or password is empty');
  }

  fetch(url: string, init: RequestInit): Promise<Response> {
    const run = this.queue.then(() => this.send(url, init));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.delete('authorization');
    if (this.isAuthenticated) {
      const response = await this.request(url, { ...init, headers });
      if (response.status !== 401) return response;
      this.isAuthenticated = false;
    }
    return this.handshake(url, init, headers);
  }

  private async handshake(url: string, init: RequestInit, headers: Headers): Promise<Response> {
    const negotiate = negotiateMessage();
    // The first leg without the body: the server answers it 401 with its challenge anyway.
    const first = new Headers(headers);
    first.delete('content-type');
    let scheme = 'NTLM';
    let answer: Response | null = null;
    for (const candidate of ['NTLM', 'Negotiate']) {
      first.set('authorization', `${candidate} ${negotiate.toString('base64')}`);
      const response = await this.request(url, { ...init, method: init.method ?? 'POST', body: init.method === 'GET' ? undefined : '', headers: first });
      if (response.status === 401 && challengeToken(response.headers.get('www-authenticate'), candidate)) {
        scheme = candidate;
        answer = response;
        break;
      }
      if (response.status !== 401) return response;
    }
    const token = answer ? challengeToken(answer.headers.get('www-authenticate'), scheme) : null;
    const challenge = token ? parseChallenge(token) : null;
    if (!token || !challenge) throw new ConnectorError('auth_failed', 'the server offers NTLM but answered no NTLM challenge');
    const third = new Headers(headers);
    third.set('authorization', `${scheme} ${authenticateMessage({ negotiate, challengeMessage: token, challenge, username: this.options.username, password: this.options.password, serverCertificate: this.options.peerCertificate?.(url) ?? null }).toString('base64')}`);
    const response = await this.request(url, { ...init, headers: third });
    if (response.status === 401) throw new ConnectorError('auth_failed', 'the server refused the user name or password (NTLM)');
    this.isAuthenticated = true;
    return response;
  }

  /** One request, its body read at once so the connection is free for the next. */
  private async request(url: string, init: RequestInit): Promise<Response> {
    this.options.onRequest?.();
    const response = await this.options.fetch(url, { ...init, redirect: 'manual' });
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
      await response.body?.cancel();
      throw new ConnectorError('protocol_error', `response larger than ${MAX_BODY_BYTES} bytes`);
    }
    const body = await response.arrayBuffer();
    if (body.byteLength > MAX_BODY_BYTES) throw new ConnectorError('protocol_error', `response larger than ${MAX_BODY_BYTES} bytes`);
    const copy = new Response([101, 204, 205, 304].includes(response.status) ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers });
    Object.defineProperty(copy, 'url', { value: response.url || url });
    return copy;
  }
}
