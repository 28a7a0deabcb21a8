import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compareSnapshots, compressUids, formatVerifyReport, headerFacts, type AccountSnapshot, type MessageFacts } from './verify';

function message(uid: number, id: number, options: { flags?: string[]; date?: number; extraHeader?: string; noMessageId?: boolean } = {}): MessageFacts {
  const text = [
    ...(options.extraHeader ? [options.extraHeader] : []),
    ...(options.noMessageId ? [] : [`Message-ID: <m${id}@example.test>`]),
    'Date: Mon, 02 Mar 2026 10:00:00 +0000',
    `Subject: message ${id}`,
    '',
    `body ${id}`,
  ].join('\r\n');
  const source = Buffer.from(text);
  return {
    uid,
    sha256: createHash('sha256').update(source).digest('hex'),
    size: source.length,
    flags: [...(options.flags ?? ['\\Seen'])].sort(),
    internalDate: options.date ?? 1_700_000_000_000,
    ...headerFacts(source),
  };
}

function account(label: string, folders: Record<string, MessageFacts[]>): AccountSnapshot {
  return { label, folders: new Map(Object.entries(folders).map(([name, messages]) => [name, { name, delimiter: '/', messages }])) };
}

describe('compareSnapshots', () => {
  it('calls an identical copy exact', () => {
    const folders = { INBOX: [message(1, 1), message(2, 2)], 'Archiv/2023': [message(1, 3)], Empty: [] };
    const report = compareSnapshots(account('src', folders), account('dst', folders));
    expect(report.isExact).toBe(true);
    expect(report.messages.matched).toBe(3);
    expect(report.source.messages).toBe(3);
    expect(formatVerifyReport(report)).toMatch(/EXACT$/);
  });

  it('finds missing, duplicated, extra, re-flagged, re-dated and rewritten messages', () => {
    const source = account('src', {
      INBOX: [
        message(1, 1),
        message(2, 2),
        message(3, 3, { flags: ['$Label1', '\\Seen'] }),
        message(4, 4),
        message(5, 5, { noMessageId: true }),
        message(6, 6),
      ],
      Gone: [message(1, 7)],
    });
    const target = account('dst', {
      INBOX: [
        message(10, 1),
        message(11, 1), // second copy of 1
        message(12, 3), // lost $Label1
        message(13, 4, { date: 1_600_000_000_000 }),
        message(14, 5, { noMessageId: true, extraHeader: 'X-TUID: abc' }), // no Message-ID: paired by headers
        message(15, 6, { extraHeader: 'X-TUID: def' }),
        message(16, 99), // unrelated
      ],
      Surplus: [message(1, 8)],
    });
    const report = compareSnapshots(source, target);
    expect(report.isExact).toBe(false);
    expect(report.folders.missing).toEqual(['Gone']);
    expect(report.folders.extra).toEqual(['Surplus']);
    expect(report.messages).toMatchObject({
      missing: 2, // message 2, and message 7 with its folder
      duplicates: 1,
      extra: 2, // message 99, and the Surplus folder's message
      flagMismatches: 1,
      keywordsLost: 1,
      dateMismatches: 1,
      byteMismatches: 2,
      matched: 5,
    });
    expect(report.flagsLost).toEqual({ $Label1: 1 });
    expect(report.headersAdded).toEqual({ 'x-tuid': 2 });
    expect(report.flagMismatchList).toEqual([{ folder: 'INBOX', sourceUid: 3, targetUid: 12, source: ['$Label1', '\\Seen'], target: ['\\Seen'] }]);
    expect(report.missingList).toEqual(expect.arrayContaining([{ folder: 'INBOX', uid: 2 }, { folder: 'Gone', uid: 1 }]));
    expect(formatVerifyReport(report, { verbose: true })).toContain('headers added: x-tuid×2');
  });

  it('pairs identical source duplicates by their flags, so a faithful copy is exact', () => {
    const source = account('src', { INBOX: [message(1, 1, { flags: ['\\Seen'] }), message(2, 1, { flags: ['\\Flagged'] })] });
    const target = account('dst', { INBOX: [message(7, 1, { flags: ['\\Flagged'] }), message(8, 1, { flags: ['\\Seen'] })] });
    expect(compareSnapshots(source, target).isExact).toBe(true);
  });

  it('maps folders across separators', () => {
    const source: AccountSnapshot = { label: 'src', folders: new Map([['A/B', { name: 'A/B', delimiter: '/', messages: [message(1, 1)] }]]) };
    const target: AccountSnapshot = { label: 'dst', folders: new Map([['A.B', { name: 'A.B', delimiter: '.', messages: [message(1, 1)] }]]) };
    expect(compareSnapshots(source, target).isExact).toBe(true);
  });
});

describe('compressUids', () => {
  it('writes runs as ranges', () => {
    expect(compressUids([1, 2, 3, 5, 7, 8])).toBe('1:3,5,7:8');
    expect(compressUids([4])).toBe('4');
  });
});
