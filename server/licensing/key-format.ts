/**
 * Licence keys as people see them: `MF-7QK4M-XC9RT-2HWPN-B6JEA`. Four groups of five
 * characters after the product prefix; 19 random characters and one check character.
 *
 * Shared by the browser (instant typo check in the install form) and the server: no imports.
 *
 * The alphabet leaves out every character that is easy to misread or mishear: 0/O, 1/I/L,
 * U (V), Z (2). It has 29 characters, a prime, so the check character can be a weighted sum
 * modulo 29 (the scheme of ISO/IEC 7064's pure systems): with distinct non-zero weights below
 * 29 it changes whenever one character is replaced by another, or any two different
 * characters swap places (adjacent transpositions included), so such typos are caught before
 * any database lookup.
 */
export const KEY_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXY';
export const KEY_PREFIX = 'MF';
/** Random characters; the check character follows them. */
export const KEY_RANDOM_LENGTH = 19;
export const KEY_BODY_LENGTH = KEY_RANDOM_LENGTH + 1;
export const KEY_GROUP_LENGTH = 5;
export const KEY_PLACEHOLDER = 'MF-XXXXX-XXXXX-XXXXX-XXXXX';

const MODULUS = KEY_ALPHABET.length; // 29, prime

/** The check character of 19 random characters (each from KEY_ALPHABET). */
export function checkCharacter(random: string): string {
  if (random.length !== KEY_RANDOM_LENGTH) throw new RangeError(`expected ${KEY_RANDOM_LENGTH} characters`);
  let sum = 0;
  for (let i = 0; i < random.length; i++) {
    const value = KEY_ALPHABET.indexOf(random[i]!);
    if (value < 0) throw new RangeError(`"${random[i]}" is not in the key alphabet`);
    // Weights 1..19: distinct and non-zero modulo 29.
    sum = (sum + (i + 1) * value) % MODULUS;
  }
  return KEY_ALPHABET[sum]!;
}

/** `MF-` and the 20-character body in groups of five. */
export function formatKey(body: string): string {
  const groups = body.match(new RegExp(`.{1,${KEY_GROUP_LENGTH}}`, 'g')) ?? [];
  return `${KEY_PREFIX}-${groups.join('-')}`;
}

/** A key as lists show it: every group hidden but the last. */
export function maskKey(lastGroup: string): string {
  const hidden = '•'.repeat(KEY_GROUP_LENGTH);
  return `${KEY_PREFIX}-${hidden}-${hidden}-${hidden}-${lastGroup}`;
}

export function lastGroupOf(body: string): string {
  return body.slice(-KEY_GROUP_LENGTH);
}

export type ParsedKey =
  | { ok: true; body: string; key: string }
  | { ok: false; reason: 'format' | 'check'; message: string };

const FORMAT_MESSAGE = `A licence key looks like ${KEY_PLACEHOLDER}: MF and four groups of five letters and digits.`;

/**
 * Reads a key as a person may type or paste it: any case, with or without dashes, with spaces.
 * Answers the canonical form, or why it cannot be a key (without asking the database).
 */
export function parseKey(input: string): ParsedKey {
  // Dashes of any width and spaces are decoration; people paste keys from mails and PDFs.
  const compact = input.toUpperCase().replace(/[\s\u00a0_.\-\u2010-\u2015\u2212]/g, '');
  if (compact === '') return { ok: false, reason: 'format', message: 'Enter a licence key.' };
  let body = compact;
  if (compact.length === KEY_BODY_LENGTH + KEY_PREFIX.length && compact.startsWith(KEY_PREFIX)) body = compact.slice(KEY_PREFIX.length);
  const foreign = [...new Set([...body].filter((c) => !KEY_ALPHABET.includes(c)))];
  if (foreign.length > 0 && body.length === KEY_BODY_LENGTH) {
    const list = foreign.map((c) => `“${c}”`).join(', ');
    return {
      ok: false,
      reason: 'format',
      message: `A licence key never contains ${list}. Keys have no 0, O, 1, I, L, U or Z; please check the key you received.`,
    };
  }
  if (body.length !== KEY_BODY_LENGTH || foreign.length > 0) return { ok: false, reason: 'format', message: FORMAT_MESSAGE };
  if (checkCharacter(body.slice(0, KEY_RANDOM_LENGTH)) !== body[KEY_RANDOM_LENGTH]) {
    return {
      ok: false,
      reason: 'check',
      message: 'This key contains a typo: one or more characters are wrong or swapped. Please compare it with your key character by character.',
    };
  }
  return { ok: true, body, key: formatKey(body) };
}
