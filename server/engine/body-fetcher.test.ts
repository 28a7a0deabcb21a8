import { describe, expect, it } from 'vitest';
import { parseFetchItems, parseImapDateTime, parseStatusLine } from './body-fetcher';
import { appendedUids } from './pipelined-appender';

describe('FETCH response items', () => {
  it('reads numbers, lists, quoted strings and literals, in any order', () => {
    const items = parseFetchItems('UID 42 FLAGS (\\Seen $Label1) INTERNALDATE "17-Jul-1996 02:44:25 -0700" BODY[] \u0000 RFC822.SIZE 1234)');
    expect(items.get('UID')).toBe('42');
    expect(items.get('FLAGS')).toBe('\\Seen $Label1');
    expect(items.get('INTERNALDATE')).toBe('17-Jul-1996 02:44:25 -0700');
    expect(items.get('BODY[]')).toBe('\u00000');
    expect(items.get('RFC822.SIZE')).toBe('1234');
  });

  it('takes bracketed sections with spaces whole, nested lists and escaped quotes', () => {
    const items = parseFetchItems('BODY[HEADER.FIELDS (MESSAGE-ID)] \u0000 MODSEQ (12345) X-NAME "a \\"b\\" c" UID 7 FLAGS ()');
    expect(items.get('BODY[HEADER.FIELDS (MESSAGE-ID)]')).toBe('\u00000');
    expect(items.get('MODSEQ')).toBe('12345');
    expect(items.get('X-NAME')).toBe('a "b" c');
    expect(items.get('UID')).toBe('7');
    expect(items.get('FLAGS')).toBe('');
  });

  it('reads a UID that comes after the body', () => {
    const items = parseFetchItems('BODY[] \u0000 UID 9)');
    expect(items.get('UID')).toBe('9');
    expect(items.get('BODY[]')).toBe('\u00000');
  });
});

describe('IMAP date-time', () => {
  it('applies the zone, and takes a space-padded day', () => {
    expect(parseImapDateTime('17-Jul-1996 02:44:25 -0700')?.toISOString()).toBe('1996-07-17T09:44:25.000Z');
    expect(parseImapDateTime(' 6-Jun-2005 09:30:00 +0200')?.toISOString()).toBe('2005-06-06T07:30:00.000Z');
  });

  it('refuses what is not one', () => {
    expect(parseImapDateTime('yesterday')).toBeNull();
    expect(parseImapDateTime('17-Foo-1996 02:44:25 -0700')).toBeNull();
  });
});

describe('APPENDUID', () => {
  it('lists the UIDs of a MULTIAPPEND in order', () => {
    expect(appendedUids(' 38505 3955')).toEqual([3955]);
    expect(appendedUids(' 38505 3955:3957,3960')).toEqual([3955, 3956, 3957, 3960]);
  });

  it('gives nothing for what it cannot read', () => {
    expect(appendedUids(' 38505')).toEqual([]);
    expect(appendedUids(' 38505 9:3')).toEqual([]);
    expect(appendedUids(' 38505 x')).toEqual([]);
  });
});

describe('STATUS answers', () => {
  it('reads UIDNEXT, UIDVALIDITY, MESSAGES and HIGHESTMODSEQ, whatever the name looks like', () => {
    expect(parseStatusLine('* STATUS "Old (2019) Mail" (UIDNEXT 44 UIDVALIDITY 1700000000 MESSAGES 43 HIGHESTMODSEQ 98)')).toEqual({
      uidNext: 44,
      uidValidity: '1700000000',
      exists: 43,
      highestModseq: '98',
    });
    expect(parseStatusLine('* STATUS INBOX (MESSAGES 0 UIDNEXT 1 UIDVALIDITY 5)')).toEqual({ uidNext: 1, uidValidity: '5', exists: 0, highestModseq: null });
  });

  it('gives null without UIDVALIDITY or UIDNEXT', () => {
    expect(parseStatusLine('* STATUS INBOX (MESSAGES 3)')).toBeNull();
  });
});
