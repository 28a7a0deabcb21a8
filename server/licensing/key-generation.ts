import { createHash, randomInt } from 'node:crypto';
import { checkCharacter, KEY_ALPHABET, KEY_RANDOM_LENGTH } from './key-format';

/** 19 characters from a 29-character alphabet: about 92 random bits, then the check character. */
export function generateKeyBody(): string {
  let random = '';
  for (let i = 0; i < KEY_RANDOM_LENGTH; i++) random += KEY_ALPHABET[randomInt(KEY_ALPHABET.length)];
  return random + checkCharacter(random);
}

/**
 * What the database stores instead of the key: SHA-256 of the normalized body. A pepper would
 * add nothing here: with ~92 random bits per key, the hash cannot be reversed by guessing.
 */
export function hashKeyBody(body: string): string {
  return createHash('sha256').update(`mailferry-licence-key:v1:${body}`).digest('hex');
}
