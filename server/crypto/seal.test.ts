import { describe, expect, it } from 'vitest';
import { newKeyEntry, parseKeyRing } from './keyring';
import { seal, sealedKeyId, unseal, UnsealError } from './seal';

describe('sealing', () => {
  const old = newKeyEntry('old');
  const ring = parseKeyRing(`${newKeyEntry('new')}\n${old}`, 'test');

  it('round-trips, with a fresh IV each time and the key id beside the value', () => {
    const a = seal(ring, 'pässwörd;"', 'ctx');
    const b = seal(ring, 'pässwörd;"', 'ctx');
    expect(a).not.toEqual(b);
    expect(a).not.toContain('pässwörd');
    expect(sealedKeyId(a)).toBe('new');
    expect(unseal(ring, a, 'ctx')).toBe('pässwörd;"');
  });

  it('fails closed on another context, a flipped byte or an unknown key', () => {
    const sealed = seal(ring, 'secret', 'migration:1:source');
    expect(() => unseal(ring, sealed, 'migration:2:source')).toThrow(UnsealError);
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    expect(() => unseal(ring, [...parts.slice(0, 3), body.toString('base64url')].join('.'), 'migration:1:source')).toThrow(UnsealError);
    expect(() => unseal(parseKeyRing(newKeyEntry('other'), 't'), sealed, 'migration:1:source')).toThrow(/key "new" is not configured/);
  });

  it('opens values sealed with an older key of the ring', () => {
    const oldRing = parseKeyRing(old, 'test');
    expect(unseal(ring, seal(oldRing, 'x', 'c'), 'c')).toBe('x');
  });

  it('rejects malformed key rings with a clear message', () => {
    expect(() => parseKeyRing('', 'F')).toThrow('F holds no sealing key');
    expect(() => parseKeyRing('a:c2hvcnQ=', 'F')).toThrow(/must be 32 bytes/);
    expect(() => parseKeyRing(`${newKeyEntry('a')},${newKeyEntry('a')}`, 'F')).toThrow(/appears twice/);
  });
});
