import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authenticateMessage, channelBindings, md4, negotiateMessage, ntlmUser, ntowfV2, offersOnlyNtlm, parseChallenge, tlsServerEndPoint } from './ntlm';

const hex = (b: Buffer) => b.toString('hex');

/** A CHALLENGE_MESSAGE as [MS-NLMP] 4.2.4.3 gives it (NbDomainName "Domain", NbComputerName "Server"), with a timestamp added. */
function challengeBytes(timestamp: boolean): Buffer {
  const pair = (id: number, value: Buffer) => Buffer.concat([Buffer.from([id, 0, value.length, 0]), value]);
  const time = Buffer.alloc(8);
  time.writeBigUInt64LE(133_000_000_000_000_000n);
  const info = Buffer.concat([pair(2, Buffer.from('Domain', 'utf16le')), pair(1, Buffer.from('Server', 'utf16le')), ...(timestamp ? [pair(7, time)] : []), Buffer.alloc(4)]);
  const name = Buffer.from('Domain', 'utf16le');
  const header = Buffer.alloc(56);
  Buffer.from('NTLMSSP\0', 'latin1').copy(header);
  header.writeUInt32LE(2, 8);
  header.writeUInt16LE(name.length, 12);
  header.writeUInt16LE(name.length, 14);
  header.writeUInt32LE(56, 16);
  header.writeUInt32LE(0xe28a8233, 20);
  Buffer.from('0123456789abcdef', 'hex').copy(header, 24);
  header.writeUInt16LE(info.length, 40);
  header.writeUInt16LE(info.length, 42);
  header.writeUInt32LE(56 + name.length, 44);
  return Buffer.concat([header, name, info]);
}

function field(message: Buffer, offset: number): Buffer {
  const length = message.readUInt16LE(offset);
  const at = message.readUInt32LE(offset + 4);
  return message.subarray(at, at + length);
}

describe('NTLM', () => {
  it('computes MD4 as RFC 1320 A.5 and the NT hashes of [MS-NLMP] 4.2', () => {
    expect(hex(md4(Buffer.from('')))).toBe('31d6cfe0d16ae931b73c59d7e0c089c0');
    expect(hex(md4(Buffer.from('abc')))).toBe('a448017aaf21d8525fc10ae87aa6729d');
    expect(hex(md4(Buffer.from('message digest')))).toBe('d9130a8164549fe818874806e1c7014b');
    expect(hex(md4(Buffer.from('12345678901234567890123456789012345678901234567890123456789012345678901234567890')))).toBe('e33b4ddc9c38f2199c3e7b164fcc0536');
    // NTOWFv1 of "Password" (4.2.2.1.2) and NTOWFv2 of User / Domain / Password (4.2.4.1.1).
    expect(hex(md4(Buffer.from('Password', 'utf16le')))).toBe('a4f49c406510bdcab6824ee7c30fd852');
    expect(hex(ntowfV2('Password', 'User', 'Domain'))).toBe('0c868a403bfd7a93a3001ef22ef02e3f');
  });

  it('splits DOMAIN\\user and keeps a UPN whole with an empty domain', () => {
    expect(ntlmUser('CONTOSO\\alice')).toEqual({ domain: 'CONTOSO', user: 'alice' });
    expect(ntlmUser('alice@contoso.com')).toEqual({ domain: '', user: 'alice@contoso.com' });
    expect(ntlmUser('alice')).toEqual({ domain: '', user: 'alice' });
  });

  it('tells a 401 that offers only NTLM or Negotiate from one that offers Basic', () => {
    expect(offersOnlyNtlm('Negotiate, NTLM')).toBe(true);
    expect(offersOnlyNtlm('NTLM')).toBe(true);
    expect(offersOnlyNtlm('Negotiate, NTLM, Basic realm="mail.contoso.com"')).toBe(false);
    expect(offersOnlyNtlm('Basic realm="x"')).toBe(false);
    expect(offersOnlyNtlm(null)).toBe(false);
  });

  it('writes a NEGOTIATE_MESSAGE asking for Unicode, NTLM, extended session security and target information', () => {
    const message = negotiateMessage();
    expect(message.subarray(0, 8).toString('latin1')).toBe('NTLMSSP\0');
    expect(message.readUInt32LE(8)).toBe(1);
    const flags = message.readUInt32LE(12);
    for (const flag of [0x1, 0x4, 0x200, 0x80000, 0x800000]) expect(flags & flag).toBe(flag);
  });

  it('answers a CHALLENGE_MESSAGE with an NTLMv2 response the server can check, the target information echoed, and a MIC', () => {
    const challengeMessage = challengeBytes(true);
    const challenge = parseChallenge(challengeMessage)!;
    expect(hex(challenge.serverChallenge)).toBe('0123456789abcdef');
    expect(challenge.timestamp).not.toBeNull();
    const negotiate = negotiateMessage();
    const message = authenticateMessage({ negotiate, challengeMessage, challenge, username: 'Domain\\User', password: 'Password', clientChallenge: Buffer.from('aaaaaaaaaaaaaaaa', 'hex') });
    expect(message.readUInt32LE(8)).toBe(3);
    expect(field(message, 28).toString('utf16le')).toBe('Domain');
    expect(field(message, 36).toString('utf16le')).toBe('User');
    // LM response Z(24), as the server sent a timestamp.
    expect(field(message, 12)).toEqual(Buffer.alloc(24));
    const nt = field(message, 20);
    const proof = nt.subarray(0, 16);
    const temp = nt.subarray(16);
    expect([...temp.subarray(0, 2)]).toEqual([1, 1]);
    // The server's timestamp and the client challenge, then its pairs (MsvAvFlags added).
    expect(temp.subarray(8, 16)).toEqual(challenge.timestamp);
    expect(hex(temp.subarray(16, 24))).toBe('aaaaaaaaaaaaaaaa');
    expect(temp.includes(Buffer.from('Server', 'utf16le'))).toBe(true);
    const key = ntowfV2('Password', 'User', 'Domain');
    expect(proof).toEqual(createHmac('md5', key).update(Buffer.concat([challenge.serverChallenge, temp])).digest());
    // MIC: HMAC_MD5(SessionBaseKey, NEGOTIATE + CHALLENGE + AUTHENTICATE with the MIC zeroed).
    const sessionKey = createHmac('md5', key).update(proof).digest();
    const zeroed = Buffer.from(message);
    zeroed.fill(0, 72, 88);
    expect(message.subarray(72, 88)).toEqual(createHmac('md5', sessionKey).update(Buffer.concat([negotiate, challengeMessage, zeroed])).digest());
    // A wrong password gives another proof.
    const wrong = authenticateMessage({ negotiate, challengeMessage, challenge, username: 'Domain\\User', password: 'password', clientChallenge: Buffer.from('aaaaaaaaaaaaaaaa', 'hex') });
    expect(field(wrong, 20).subarray(0, 16)).not.toEqual(proof);
  });

  it('sends an LMv2 response when the server gives no timestamp, and refuses what is no CHALLENGE_MESSAGE', () => {
    const challengeMessage = challengeBytes(false);
    const challenge = parseChallenge(challengeMessage)!;
    expect(challenge.timestamp).toBeNull();
    const message = authenticateMessage({ negotiate: negotiateMessage(), challengeMessage, challenge, username: 'User@contoso.com', password: 'Password', clientChallenge: Buffer.from('aaaaaaaaaaaaaaaa', 'hex') });
    const lm = field(message, 12);
    expect(lm).toHaveLength(24);
    expect(lm.subarray(16)).toEqual(Buffer.from('aaaaaaaaaaaaaaaa', 'hex'));
    expect(field(message, 28)).toHaveLength(0);
    expect(parseChallenge(negotiateMessage())).toBeNull();
    expect(parseChallenge(Buffer.from('garbage'))).toBeNull();
  });

  it('binds the answer to a TLS certificate (RFC 5929 tls-server-end-point), Z(16) without one', () => {
    const certificate = Buffer.from('30820106', 'hex');
    expect(tlsServerEndPoint(certificate)).toEqual(createHash('sha256').update(certificate).digest());
    const application = Buffer.concat([Buffer.from('tls-server-end-point:'), createHash('sha256').update(certificate).digest()]);
    const struct = Buffer.concat([Buffer.alloc(16), Buffer.from([application.length, 0, 0, 0]), application]);
    expect(channelBindings(certificate)).toEqual(createHash('md5').update(struct).digest());
    const challengeMessage = challengeBytes(true);
    const challenge = parseChallenge(challengeMessage)!;
    const pairOf = (message: Buffer) => {
      const temp = field(message, 20).subarray(16);
      for (let at = 28; at + 4 <= temp.length; at += 4 + temp.readUInt16LE(at + 2)) if (temp.readUInt16LE(at) === 10) return temp.subarray(at + 4, at + 4 + temp.readUInt16LE(at + 2));
      return undefined;
    };
    const input = { negotiate: negotiateMessage(), challengeMessage, challenge, username: 'Domain\\User', password: 'Password' };
    expect(pairOf(authenticateMessage(input))).toEqual(Buffer.alloc(16));
    expect(pairOf(authenticateMessage({ ...input, serverCertificate: certificate }))).toEqual(channelBindings(certificate));
  });
});
