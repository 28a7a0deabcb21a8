import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The server side of NTLM over HTTP, as IIS does it in front of an on-premise Exchange, from
 * [MS-NLMP] (learn.microsoft.com/openspecs/windows_protocols/ms-nlmp):
 * - 2.2.1.1 NEGOTIATE_MESSAGE, 2.2.1.2 CHALLENGE_MESSAGE, 2.2.1.3 AUTHENTICATE_MESSAGE (the
 *   "NTLMSSP\0" signature, the message type, 8-byte security buffers of length / maximum length
 *   / offset, NegotiateFlags of 2.2.2.5, the VERSION structure of 2.2.2.10);
 * - 2.2.2.1 AV_PAIR (the target information the client must echo in its NTLMv2 response);
 * - 3.3.2 NTLM v2 authentication: NTOWFv2 = HMAC_MD5(MD4(UNICODE(Passwd)),
 *   UNICODE(ConcatenationOf(Uppercase(User), UserDom))); NTProofStr = HMAC_MD5(ResponseKeyNT,
 *   ConcatenationOf(CHALLENGE_MESSAGE.ServerChallenge, temp)); the NtChallengeResponse is
 *   NTProofStr followed by temp (2.2.2.8 NTLMv2_RESPONSE, 2.2.2.7 NTLMv2_CLIENT_CHALLENGE).
 *
 * Strictest plausible choices where the documentation leaves it to the server's policy:
 * NTLMv1 and LM responses are refused (an Exchange domain at LmCompatibilityLevel 5), and an
 * AUTHENTICATE_MESSAGE is accepted only on the connection that received the challenge (HTTP
 * NTLM is connection-bound: the client must keep the connection alive between the two legs).
 * node:crypto on OpenSSL 3 has no MD4 (legacy provider), so MD4 is written out from RFC 1320.
 */

export const NTLM_FLAGS = {
  unicode: 0x00000001,
  requestTarget: 0x00000004,
  ntlm: 0x00000200,
  alwaysSign: 0x00008000,
  targetTypeDomain: 0x00010000,
  extendedSessionSecurity: 0x00080000,
  targetInfo: 0x00800000,
  version: 0x02000000,
  negotiate128: 0x20000000,
  negotiate56: 0x80000000,
} as const;

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

export interface NtlmIdentity {
  domain: string;
  computer: string;
  dnsDomain: string;
  dnsComputer: string;
}

export interface NtlmAuthenticate {
  user: string;
  domain: string;
  workstation: string;
  ntResponse: Buffer;
  lmResponse: Buffer;
  flags: number;
}

/** 1 NEGOTIATE, 2 CHALLENGE, 3 AUTHENTICATE, or undefined for anything that is not NTLMSSP. */
export function ntlmMessageType(token: Buffer): number | undefined {
  if (token.length < 12 || !token.subarray(0, 8).equals(SIGNATURE)) return undefined;
  return token.readUInt32LE(8);
}

/** A CHALLENGE_MESSAGE (2.2.1.2) answering a client's NEGOTIATE_MESSAGE, with a fresh ServerChallenge. */
export function challengeMessage(negotiate: Buffer, identity: NtlmIdentity, now = Date.now()): { message: Buffer; serverChallenge: Buffer } {
  const clientFlags = negotiate.length >= 16 ? negotiate.readUInt32LE(12) : 0;
  const unicode = (clientFlags & NTLM_FLAGS.unicode) !== 0;
  const flags =
    (unicode ? NTLM_FLAGS.unicode : 0x00000002) |
    NTLM_FLAGS.requestTarget | NTLM_FLAGS.ntlm | NTLM_FLAGS.alwaysSign | NTLM_FLAGS.targetTypeDomain |
    NTLM_FLAGS.extendedSessionSecurity | NTLM_FLAGS.targetInfo | NTLM_FLAGS.version | NTLM_FLAGS.negotiate128 | NTLM_FLAGS.negotiate56;
  const targetName = Buffer.from(identity.domain, unicode ? 'utf16le' : 'latin1');
  const targetInfo = avPairs(identity, now);
  const serverChallenge = randomBytes(8);
  const header = Buffer.alloc(56);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(2, 8);
  header.writeUInt16LE(targetName.length, 12);
  header.writeUInt16LE(targetName.length, 14);
  header.writeUInt32LE(56, 16);
  header.writeUInt32LE(flags >>> 0, 20);
  serverChallenge.copy(header, 24);
  header.writeUInt16LE(targetInfo.length, 40);
  header.writeUInt16LE(targetInfo.length, 42);
  header.writeUInt32LE(56 + targetName.length, 44);
  // VERSION: Windows Server 2019 (10.0.17763), NTLMSSP_REVISION_W2K3.
  header.writeUInt8(10, 48);
  header.writeUInt8(0, 49);
  header.writeUInt16LE(17763, 50);
  header.writeUInt8(0x0f, 55);
  return { message: Buffer.concat([header, targetName, targetInfo]), serverChallenge };
}

function avPairs(identity: NtlmIdentity, now: number): Buffer {
  const pair = (id: number, value: Buffer) => {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(id, 0);
    head.writeUInt16LE(value.length, 2);
    return Buffer.concat([head, value]);
  };
  const text = (value: string) => Buffer.from(value, 'utf16le');
  const timestamp = Buffer.alloc(8);
  // FILETIME: 100 ns intervals since 1601-01-01.
  timestamp.writeBigUInt64LE((BigInt(now) + 11644473600000n) * 10000n);
  return Buffer.concat([
    pair(2, text(identity.domain)),
    pair(1, text(identity.computer)),
    pair(4, text(identity.dnsDomain)),
    pair(3, text(identity.dnsComputer)),
    pair(7, timestamp),
    pair(0, Buffer.alloc(0)),
  ]);
}

/** Reads an AUTHENTICATE_MESSAGE (2.2.1.3); undefined when its buffers point outside the message. */
export function parseAuthenticate(token: Buffer): NtlmAuthenticate | undefined {
  if (ntlmMessageType(token) !== 3 || token.length < 64) return undefined;
  const field = (offset: number): Buffer | undefined => {
    const length = token.readUInt16LE(offset);
    const start = token.readUInt32LE(offset + 4);
    if (length === 0) return Buffer.alloc(0);
    if (start + length > token.length) return undefined;
    return token.subarray(start, start + length);
  };
  const flags = token.readUInt32LE(60);
  const encoding = flags & NTLM_FLAGS.unicode ? 'utf16le' : 'latin1';
  const [lmResponse, ntResponse, domain, user, workstation] = [12, 20, 28, 36, 44].map(field);
  if (!lmResponse || !ntResponse || !domain || !user || !workstation) return undefined;
  return { lmResponse, ntResponse, domain: domain.toString(encoding), user: user.toString(encoding), workstation: workstation.toString(encoding), flags };
}

/** NTOWFv2 of [MS-NLMP] 3.3.2. */
export function ntowfV2(password: string, user: string, domain: string): Buffer {
  return createHmac('md5', md4(Buffer.from(password, 'utf16le'))).update(Buffer.from(user.toUpperCase() + domain, 'utf16le')).digest();
}

/**
 * Whether an NTLMv2 NtChallengeResponse proves the password: NTProofStr recomputed over the
 * server challenge and the client's temp. NTLMv1 (24 bytes) is refused.
 */
export function verifyNtlmV2(auth: NtlmAuthenticate, serverChallenge: Buffer, password: string): boolean {
  const response = auth.ntResponse;
  // 16 bytes NTProofStr + at least the 28-byte fixed part of NTLMv2_CLIENT_CHALLENGE.
  if (response.length < 16 + 28) return false;
  const proof = response.subarray(0, 16);
  const temp = response.subarray(16);
  // RespType and HiRespType are 1 (2.2.2.7).
  if (temp[0] !== 1 || temp[1] !== 1) return false;
  const expected = createHmac('md5', ntowfV2(password, auth.user, auth.domain)).update(Buffer.concat([serverChallenge, temp])).digest();
  return timingSafeEqual(proof, expected);
}

/** MD4 message digest (RFC 1320), for the NT hash. */
export function md4(input: Buffer): Buffer {
  const bitLength = BigInt(input.length) * 8n;
  const padLength = (input.length % 64 < 56 ? 56 : 120) - (input.length % 64);
  const message = Buffer.concat([input, Buffer.from([0x80]), Buffer.alloc(padLength - 1), Buffer.alloc(8)]);
  message.writeBigUInt64LE(bitLength, message.length - 8);
  let [a, b, c, d] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
  const rotl = (x: number, s: number) => ((x << s) | (x >>> (32 - s))) >>> 0;
  const f = (x: number, y: number, z: number) => (x & y) | (~x & z);
  const g = (x: number, y: number, z: number) => (x & y) | (x & z) | (y & z);
  const h = (x: number, y: number, z: number) => x ^ y ^ z;
  for (let block = 0; block < message.length; block += 64) {
    const x = Array.from({ length: 16 }, (_, i) => message.readUInt32LE(block + i * 4));
    const [aa, bb, cc, dd] = [a, b, c, d];
    const round1 = [3, 7, 11, 19];
    for (let i = 0; i < 16; i++) {
      const s = round1[i % 4]!;
      const t = rotl((a + f(b, c, d) + x[i]!) >>> 0, s);
      [a, b, c, d] = [d, t, b, c];
    }
    const round2 = [3, 5, 9, 13];
    for (let i = 0; i < 16; i++) {
      const k = (i % 4) * 4 + Math.floor(i / 4);
      const t = rotl((a + g(b, c, d) + x[k]! + 0x5a827999) >>> 0, round2[i % 4]!);
      [a, b, c, d] = [d, t, b, c];
    }
    const round3 = [3, 9, 11, 15];
    const order3 = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15];
    for (let i = 0; i < 16; i++) {
      const t = rotl((a + h(b, c, d) + x[order3[i]!]! + 0x6ed9eba1) >>> 0, round3[i % 4]!);
      [a, b, c, d] = [d, t, b, c];
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

/**
 * Extended Protection for Authentication (channel binding token, as IIS checks it with
 * extendedProtection tokenChecking="Require"): the MsvAvChannelBindings pair of the client's
 * NTLMv2 response must be MD5 of the gss_channel_bindings_struct whose application data is
 * "tls-server-end-point:" + SHA-256 of the server's certificate (RFC 5929 4.1; the test
 * certificate is signed with SHA-256).
 */
export function hasChannelBinding(auth: NtlmAuthenticate, certificateDer: Buffer): boolean {
  const temp = auth.ntResponse.subarray(16);
  let binding: Buffer | undefined;
  for (let at = 28; at + 4 <= temp.length; ) {
    const id = temp.readUInt16LE(at);
    const length = temp.readUInt16LE(at + 2);
    if (id === 0) break;
    if (id === 10) binding = temp.subarray(at + 4, at + 4 + length);
    at += 4 + length;
  }
  if (!binding || binding.length !== 16) return false;
  const application = Buffer.concat([Buffer.from('tls-server-end-point:'), createHash('sha256').update(certificateDer).digest()]);
  const struct = Buffer.alloc(20 + application.length);
  struct.writeUInt32LE(application.length, 16);
  application.copy(struct, 20);
  return timingSafeEqual(binding, createHash('md5').update(struct).digest());
}
