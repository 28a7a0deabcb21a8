import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  allowedVariant,
  compareSnapshots,
  compressUids,
  formatVerifyReport,
  headerFacts,
  messageFacts,
  type AccountSnapshot,
  type ImapServerKind,
  type MessageFacts,
} from './verify';

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

const crlf = (...lines: string[]) => Buffer.from(lines.join('\r\n'), 'latin1');
const DATE = 1_700_000_000_000;

/** A source message as snapshotted for a copy to `server`, and the bytes that server serves. */
function pair(raw: Buffer, served: Buffer, server: ImapServerKind) {
  return { source: messageFacts(1, raw, ['\\Seen'], DATE, server), target: messageFacts(7, served, ['\\Seen'], DATE) };
}

function judge(raw: Buffer, served: Buffer, server: ImapServerKind) {
  const { source, target } = pair(raw, served, server);
  return compareSnapshots(account('src', { INBOX: [source] }), account('dst', { INBOX: [target] }), { targetServer: server });
}

const eightBit = crlf('Message-ID: <a@x>', 'Subject: Gr\u00fc\u00dfe', 'From: J\u00fcrgen <j@x>', '', 'K\u00f6ln\r\n');
const munged = crlf('Message-ID: <a@x>', 'Subject: GrXXe', 'From: JXrgen <j@x>', '', 'K\u00f6ln\r\n');
const loneCr = crlf('Message-ID: <b@x>', 'Subject: cr', '', 'one\rline', 'end');
const asCourierServes = crlf('Message-ID: <b@x>', 'Subject: cr', '', 'oneline', 'end', '');

describe('target server allowances', () => {
  it('counts 8-bit header bytes served as X as matched for cyrus, and only there', () => {
    const cyrus = judge(eightBit, munged, 'cyrus');
    expect(cyrus.isExact).toBe(true);
    expect(cyrus.messages).toMatchObject({ matched: 1, allowed: 1, byteMismatches: 0 });
    expect(cyrus.allowancesUsed).toEqual({ 'cyrus: 8-bit header bytes as X': 1 });
    for (const server of ['dovecot', 'courier'] as const) {
      const report = judge(eightBit, munged, server);
      expect(report.isExact, server).toBe(false);
      expect(report.messages, server).toMatchObject({ matched: 1, allowed: 0, byteMismatches: 1 });
    }
  });

  it('still fails a cyrus copy whose bytes differ beyond the munging', () => {
    // 8-bit bytes in the body are never munged; an X there is damage.
    const bodyMunged = crlf('Message-ID: <a@x>', 'Subject: GrXXe', 'From: JXrgen <j@x>', '', 'KXln\r\n');
    expect(judge(eightBit, bodyMunged, 'cyrus').messages).toMatchObject({ allowed: 0, byteMismatches: 1 });
    // An ASCII header character turned into X is not munging either.
    const wrongX = crlf('Message-ID: <a@x>', 'Subject: XrXXe', 'From: JXrgen <j@x>', '', 'K\u00f6ln\r\n');
    expect(judge(eightBit, wrongX, 'cyrus').messages).toMatchObject({ allowed: 0, byteMismatches: 1 });
  });

  it('counts a dropped lone CR and an added final newline as matched for courier, and only there', () => {
    const courier = judge(loneCr, asCourierServes, 'courier');
    expect(courier.isExact).toBe(true);
    expect(courier.allowancesUsed).toEqual({ 'courier: lone CR dropped': 1, 'courier: final newline added': 1 });
    expect(judge(loneCr, asCourierServes, 'dovecot').messages).toMatchObject({ allowed: 0, byteMismatches: 1 });
    expect(judge(loneCr, asCourierServes, 'cyrus').messages).toMatchObject({ allowed: 0, byteMismatches: 1 });
    const noFinalNewline = crlf('Message-ID: <c@x>', '', 'last line');
    expect(judge(noFinalNewline, Buffer.concat([noFinalNewline, Buffer.from('\r\n')]), 'courier').isExact).toBe(true);
  });

  it('counts bare LFs served as CRLF as matched for courier only', () => {
    const bareLf = Buffer.from('Message-ID: <e@x>\r\n\r\nunix\nline\r\n');
    const served = Buffer.from('Message-ID: <e@x>\r\n\r\nunix\r\nline\r\n');
    expect(judge(bareLf, served, 'courier').allowancesUsed).toEqual({ 'courier: bare LF served as CRLF': 1 });
    expect(judge(bareLf, served, 'dovecot').messages).toMatchObject({ allowed: 0, byteMismatches: 1 });
    expect(judge(bareLf, served, 'cyrus').messages).toMatchObject({ allowed: 0, byteMismatches: 1 });
  });

  it('still fails a courier copy that lost more than the lone CR', () => {
    const lostLine = crlf('Message-ID: <b@x>', 'Subject: cr', '', 'oneline', '');
    expect(judge(loneCr, lostLine, 'courier').messages).toMatchObject({ allowed: 0, byteMismatches: 1 });
    // A CR before LF is a line end, not a lone CR: dropping it is damage.
    const crlfMessage = crlf('Message-ID: <d@x>', '', 'a', 'b', '');
    expect(judge(crlfMessage, Buffer.from('Message-ID: <d@x>\n\na\nb\n'), 'courier').messages).toMatchObject({ allowed: 0, byteMismatches: 1 });
  });

  it('allows dovecot nothing', () => {
    expect(allowedVariant(eightBit, 'dovecot')).toBeNull();
    expect(allowedVariant(loneCr, 'dovecot')).toBeNull();
    expect(allowedVariant(crlf('Subject: plain', '', 'body', ''), 'cyrus')).toBeNull();
  });

  it('keeps flag and date checks for messages matched under an allowance', () => {
    const source = messageFacts(1, eightBit, ['\\Seen', '$Label1'], DATE, 'cyrus');
    const target = messageFacts(9, munged, ['\\Seen'], DATE + 3_600_000);
    const report = compareSnapshots(account('src', { INBOX: [source] }), account('dst', { INBOX: [target] }), { targetServer: 'cyrus' });
    expect(report.messages).toMatchObject({ allowed: 1, flagMismatches: 1, keywordsLost: 1, dateMismatches: 1 });
    expect(report.isExact).toBe(false);
  });
});

describe('folder mapping and exclusions', () => {
  it('follows the copy report for renamed and special folders, several sources into one target', () => {
    const source = account('src', { 'Punct %': [message(1, 1)], Gesendet: [message(1, 2), message(2, 3)], 'Éléments envoyés': [message(1, 4)], INBOX: [message(1, 5)] });
    const target = account('dst', { 'Punct _': [message(1, 1)], Sent: [message(1, 2), message(2, 4), message(3, 3)], INBOX: [message(1, 5)] });
    const folderMapping = [
      { sourcePath: 'Punct %', targetPath: 'Punct _' },
      { sourcePath: 'Gesendet', targetPath: 'Sent' },
      { sourcePath: 'Éléments envoyés', targetPath: 'Sent' },
    ];
    const report = compareSnapshots(source, target, { folderMapping });
    expect(report.isExact).toBe(true);
    expect(report.folders.matched).toBe(4);
    expect(report.perFolder['Gesendet + Éléments envoyés']).toMatchObject({ source: 3, target: 3, matched: 3 });
    // Without the mapping the same copy looks like lost folders.
    expect(compareSnapshots(source, target).folders.missing).toEqual(['Punct %', 'Gesendet', 'Éléments envoyés']);
  });

  it('names the folder a message was missing from when folders share a target', () => {
    const source = account('src', { Gesendet: [message(1, 2)], 'Éléments envoyés': [message(4, 4)] });
    const target = account('dst', { Sent: [message(1, 2)] });
    const report = compareSnapshots(source, target, { folderMapping: [{ sourcePath: 'Gesendet', targetPath: 'Sent' }, { sourcePath: 'Éléments envoyés', targetPath: 'Sent' }] });
    expect(report.missingList).toEqual([{ folder: 'Éléments envoyés', uid: 4 }]);
  });

  it('leaves out excluded source and target folders, by name or pattern', () => {
    const source = account('src', { INBOX: [message(1, 1)], 'Virtual/All': [message(1, 1)], 'Left out': [message(1, 2)] });
    const target = account('dst', { INBOX: [message(1, 1)], 'Server own': [message(1, 9)] });
    const report = compareSnapshots(source, target, { excludeSourceFolders: [/^Virtual\//, 'Left out'], excludeTargetFolders: ['Server own'] });
    expect(report.isExact).toBe(true);
    expect(report.folders.excluded).toEqual(['Virtual/All', 'Left out']);
    expect(report.source.messages).toBe(1);
    expect(compareSnapshots(source, target).isExact).toBe(false);
  });

  it('wants a source parent that exists only through its children on the target, by name', () => {
    const source: AccountSnapshot = { ...account('src', { 'Only Parent/Child': [message(1, 1)] }), containers: ['Only Parent'] };
    const withParent: AccountSnapshot = { ...account('dst', { 'Only Parent/Child': [message(1, 1)] }), containers: ['Only Parent'] };
    expect(compareSnapshots(source, withParent).isExact).toBe(true);
    const asFolder = account('dst', { 'Only Parent': [], 'Only Parent/Child': [message(1, 1)] });
    expect(compareSnapshots(source, asFolder).isExact).toBe(true);
    const without = account('dst', { 'Only Parent/Child': [message(1, 1)] });
    expect(compareSnapshots(source, without).folders.missing).toEqual(['Only Parent']);
  });

  it("replaces the source's namespace prefix by the target's", () => {
    const source: AccountSnapshot = { label: 'src', prefix: 'INBOX.', folders: new Map([['INBOX.A.B', { name: 'INBOX.A.B', delimiter: '.', messages: [message(1, 1)] }], ['INBOX', { name: 'INBOX', delimiter: '.', messages: [] }]]) };
    const target: AccountSnapshot = { label: 'dst', prefix: '', folders: new Map([['A/B', { name: 'A/B', delimiter: '/', messages: [message(1, 1)] }], ['INBOX', { name: 'INBOX', delimiter: '/', messages: [] }]]) };
    expect(compareSnapshots(source, target).isExact).toBe(true);
    expect(compareSnapshots(target, source).isExact).toBe(true);
  });
});

describe('compressUids', () => {
  it('writes runs as ranges', () => {
    expect(compressUids([1, 2, 3, 5, 7, 8])).toBe('1:3,5,7:8');
    expect(compressUids([4])).toBe('4');
  });
});
