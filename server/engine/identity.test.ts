import { describe, expect, it } from 'vitest';
import { comparableHeaders, IdentityCounter, messageIdentity } from './identity';

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
