import { describe, expect, it } from 'vitest';
import { isBlankOrComment, readCsvLine, readCsvLines, splitLines } from './lines';

describe('CSV lines', () => {
  it('splits at CRLF, LF and CR, drops a byte order mark, and a final line break starts no line', () => {
    expect(splitLines('\uFEFFa\r\nb\rc\nd\n')).toEqual(['a', 'b', 'c', 'd']);
    expect(splitLines('a\n\n')).toEqual(['a', '']);
    expect(splitLines('')).toEqual([]);
    expect(splitLines('\uFEFF')).toEqual([]);
    expect(splitLines('\n')).toEqual(['']);
    // Only a leading BOM is one.
    expect(splitLines('a\uFEFF')).toEqual(['a\uFEFF']);
  });

  it('knows blank and comment lines', () => {
    expect(['', '   ', '\t', '# x', '  #x'].map(isBlankOrComment)).toEqual([true, true, true, true, true]);
    expect(['a', ' a # b', '"#"'].map(isBlankOrComment)).toEqual([false, false, false]);
  });

  it('reads RFC 4180 quoting with either delimiter', () => {
    expect(readCsvLine('a;"pa;ss""x";;c', ';')).toEqual({ fields: ['a', 'pa;ss"x', '', 'c'], problem: null });
    expect(readCsvLine('a,"b,c",d', ',')).toEqual({ fields: ['a', 'b,c', 'd'], problem: null });
    expect(readCsvLine('a,"b;c"', ';')).toEqual({ fields: ['a,"b', 'c"'], problem: null });
    expect(readCsvLine('', ';')).toEqual({ fields: [''], problem: null });
  });

  it('reports an unclosed quotation mark, and text after a closing one', () => {
    expect(readCsvLine('a;"b', ';').problem).toBe('unclosed_quote');
    expect(readCsvLine('a;"b"c;d', ';').problem).toBe('text_after_quote');
    expect(readCsvLine('a;b"c;d', ';')).toEqual({ fields: ['a', 'b"c', 'd'], problem: null });
  });

  it('never lets a quoted field span lines: an open quotation mark stays on its line', () => {
    const lines = ['a;b', 'c;"d', 'e;"f"', 'g;h"', '"i', '', 'j;k'];
    expect(readCsvLines(lines, ';')).toEqual([
      { fields: ['a', 'b'], problem: null },
      { fields: ['c', 'd'], problem: 'unclosed_quote' },
      { fields: ['e', 'f'], problem: null },
      { fields: ['g', 'h"'], problem: null },
      { fields: ['i'], problem: 'unclosed_quote' },
      { fields: [''], problem: null },
      { fields: ['j', 'k'], problem: null },
    ]);
  });

  it('reads many lines at once exactly as one by one, with and without open quotation marks', () => {
    // A small seeded generator, so a failure can be repeated.
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pieces = ['a', 'b c', ';', '"', '""', '"x;y"', ' ', 'ü', ''];
    for (let round = 0; round < 50; round++) {
      const lines = Array.from({ length: 40 }, () => Array.from({ length: Math.floor(random() * 8) }, () => pieces[Math.floor(random() * pieces.length)]).join(''));
      expect(readCsvLines(lines, ';')).toEqual(lines.map((line) => readCsvLine(line, ';')));
    }
    expect(readCsvLines([], ';')).toEqual([]);
    expect(readCsvLines([''], ';')).toEqual([{ fields: [''], problem: null }]);
  });
});
