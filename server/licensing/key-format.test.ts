import { describe, expect, it } from 'vitest';
import { checkCharacter, formatKey, KEY_ALPHABET, KEY_BODY_LENGTH, lastGroupOf, maskKey, parseKey } from './key-format';
import { generateKeyBody } from './key-generation';

const bodyOf = (key: string) => key.replace(/^MF-/, '').replaceAll('-', '');

describe('licence key format', () => {
  it('uses a prime-sized alphabet without easily confused characters', () => {
    expect(KEY_ALPHABET).toHaveLength(29);
    expect(new Set(KEY_ALPHABET).size).toBe(29);
    for (const confusable of '0O1ILUZ') expect(KEY_ALPHABET).not.toContain(confusable);
  });

  it('generates grouped keys whose check character matches', () => {
    for (let i = 0; i < 200; i++) {
      const body = generateKeyBody();
      expect(body).toMatch(new RegExp(`^[${KEY_ALPHABET}]{${KEY_BODY_LENGTH}}$`));
      const key = formatKey(body);
      expect(key).toMatch(/^MF-[2-9A-Y]{5}-[2-9A-Y]{5}-[2-9A-Y]{5}-[2-9A-Y]{5}$/);
      expect(parseKey(key)).toEqual({ ok: true, body, key });
    }
  });

  it('accepts lower case, spaces, other dashes and a missing prefix or missing dashes', () => {
    const key = formatKey(generateKeyBody());
    const body = bodyOf(key);
    for (const typed of [key.toLowerCase(), ` ${key} `, key.replaceAll('-', ' '), body, body.toLowerCase(), `MF${body}`, key.replaceAll('-', '–'), `mf ${body.match(/.{5}/g)!.join(' ')}`]) {
      expect(parseKey(typed), typed).toEqual({ ok: true, body, key });
    }
  });

  it('catches every single-character substitution by the check character', () => {
    for (let round = 0; round < 20; round++) {
      const body = generateKeyBody();
      for (let position = 0; position < KEY_BODY_LENGTH; position++) {
        for (const replacement of KEY_ALPHABET) {
          if (replacement === body[position]) continue;
          const typo = body.slice(0, position) + replacement + body.slice(position + 1);
          expect(parseKey(formatKey(typo))).toMatchObject({ ok: false, reason: 'check' });
        }
      }
    }
  });

  it('catches every transposition of two different characters, adjacent or not', () => {
    for (let round = 0; round < 20; round++) {
      const body = generateKeyBody();
      for (let i = 0; i < KEY_BODY_LENGTH; i++) {
        for (let j = i + 1; j < KEY_BODY_LENGTH; j++) {
          if (body[i] === body[j]) continue;
          const swapped = [...body];
          [swapped[i], swapped[j]] = [swapped[j]!, swapped[i]!];
          expect(parseKey(swapped.join(''))).toMatchObject({ ok: false, reason: 'check' });
        }
      }
    }
  });

  it('explains keys that cannot be keys at all', () => {
    expect(parseKey('')).toMatchObject({ ok: false, reason: 'format', message: 'Enter a licence key.' });
    expect(parseKey('MF-ABCDE-FGHJK')).toMatchObject({ ok: false, reason: 'format', message: expect.stringContaining('four groups of five') });
    const body = generateKeyBody();
    const withO = `O${body.slice(1)}`;
    expect(parseKey(withO)).toMatchObject({ ok: false, reason: 'format', message: expect.stringContaining('“O”') });
    expect(parseKey(`${body}!`)).toMatchObject({ ok: false, reason: 'format' });
  });

  it('masks all groups but the last', () => {
    const body = generateKeyBody();
    expect(maskKey(lastGroupOf(body))).toBe(`MF-•••••-•••••-•••••-${body.slice(15)}`);
  });

  it('computes the documented weighted sum', () => {
    // 19 × "2" (value 0) → 0 → "2"; one "3" (value 1) at position 2 (weight 2) → "4".
    expect(checkCharacter('2'.repeat(19))).toBe('2');
    expect(checkCharacter(`2${'3'}${'2'.repeat(17)}`)).toBe('4');
  });
});
