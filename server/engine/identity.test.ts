import { describe, expect, it } from 'vitest';
import { comparableHeaders, IdentityCounter, identityFields, messageIdentity } from './identity';

const headers = (text: string) => Buffer.from(text, 'latin1');

describe('messageIdentity', () => {
  it('is the Message-ID with the Date, whatever the size the target reports', () => {
    const date = new Date('2024-05-01T10:00:00Z');
    expect(messageIdentity({ messageId: '<a@x>', date, size: 100 })).toBe(messageIdentity({ messageId: '<a@x>', date, size: 104 }));
    expect(messageIdentity({ messageId: '<a@x>', date })).not.toBe(messageIdentity({ messageId: '<a@x>', date: new Date('2024-05-01T10:00:01Z') }));
    expect(messageIdentity({ messageId: '<a@x>', date })).not.toBe(messageIdentity({ messageId: '<b@x>', date }));
  });

  it('recognises a header block that Courier stored with LF and Cyrus with its 8-bit bytes as X', () => {
    const sent = headers('Subject: Gr\xfc\xdfe\r\nFrom: a@x\r\nX-Long: one\r\n two\r\n\r\n');
    const courier = headers('Subject: Gr\xfc\xdfe\nFrom: a@x\nX-Long: one\n two\n\n');
    const cyrus = headers('Subject: GrXXe\r\nFrom: a@x\r\nX-Long: one\r\n two\r\n\r\n');
    expect(messageIdentity({ headers: courier })).toBe(messageIdentity({ headers: sent }));
    expect(messageIdentity({ headers: cyrus })).toBe(messageIdentity({ headers: sent }));
    expect(messageIdentity({ headers: headers('Subject: Other\r\nFrom: a@x\r\n\r\n') })).not.toBe(messageIdentity({ headers: sent }));
  });

  it('keeps what tells header blocks apart', () => {
    expect(comparableHeaders(headers('Subject: a b\r\nFrom: x\r\n'))).toBe('Subject: a b\nFrom: x');
    expect(comparableHeaders(headers('Subject: a\r\n'))).not.toBe(comparableHeaders(headers('Subject: b\r\n')));
  });

  it('needs the header block where there is no Message-ID', () => {
    expect(() => messageIdentity({ messageId: ' ', size: 1 })).toThrow(/header block/);
  });
});

describe('IdentityCounter', () => {
  it('counts copies', () => {
    const counter = new IdentityCounter();
    counter.add('a');
    counter.add('a');
    expect(counter.take('a')).toBe(true);
    expect(counter.has('a')).toBe(true);
    expect(counter.take('a')).toBe(true);
    expect(counter.take('a')).toBe(false);
    expect(counter.size).toBe(0);
  });
});

describe('identityFields', () => {
  it('reads Message-ID and Date as the envelope gives them: first of each, unfolded, trimmed', () => {
    const fields = identityFields(Buffer.from('Date: Mon, 05 Jan 2026 10:00:00\r\n +0100\r\nMessage-ID:   <a@b.test> \r\nmessage-id: <second@b.test>\r\n\r\n'));
    expect(fields).toEqual({ messageId: '<a@b.test>', date: new Date('2026-01-05T09:00:00Z') });
    expect(messageIdentity(fields)).toBe(messageIdentity({ messageId: '<a@b.test>', date: new Date('2026-01-05T09:00:00Z') }));
  });

  it('gives no Message-ID for a missing or empty one, and no Date for one that does not parse', () => {
    expect(identityFields(Buffer.from('Date: someday\r\n\r\n'))).toEqual({ messageId: null, date: null });
    expect(identityFields(Buffer.from('Message-ID: \r\n\r\n'))).toEqual({ messageId: null, date: null });
  });
});
