import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyRing } from './keyring';

/**
 * Secrets at rest (account passwords, client secrets): AES-256-GCM with a fresh random 96-bit
 * IV per value, stored as `v1.<key id>.<iv>.<ciphertext+tag>` (base64url). The `context` (for
 * example "migration:<id>:source") is bound as associated data, so a sealed value copied into
 * another row does not open there.
 */
const VERSION = 'v1';

export class UnsealError extends Error {
  constructor(reason: string) {
    super(`Cannot open a sealed secret: ${reason}`);
    this.name = 'UnsealError';
  }
}

export function seal(ring: KeyRing, plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', ring.current.key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return [VERSION, ring.current.id, iv.toString('base64url'), body.toString('base64url')].join('.');
}

/** Fails closed: an unknown key, a changed byte or another context throws, never returns garbage. */
export function unseal(ring: KeyRing, sealed: string, context: string): string {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) throw new UnsealError('unknown format');
  const [, keyId, ivText, bodyText] = parts as [string, string, string, string];
  const key = ring.all.get(keyId);
  if (!key) throw new UnsealError(`key "${keyId}" is not configured`);
  const iv = Buffer.from(ivText, 'base64url');
  const body = Buffer.from(bodyText, 'base64url');
  if (iv.length !== 12 || body.length < 16) throw new UnsealError('truncated value');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - 16));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    throw new UnsealError('authentication failed (wrong key, context or modified value)');
  }
}

export function sealedKeyId(sealed: string): string | null {
  const parts = sealed.split('.');
  return parts.length === 4 && parts[0] === VERSION ? parts[1]! : null;
}
