import { describe, expect, it } from 'vitest';
import { fromAddressOf, parseSmtpUrl } from './smtp-url';

describe('SMTP URL', () => {
  it('reads STARTTLS and TLS servers with their default ports and a percent-encoded login', () => {
    expect(parseSmtpUrl('smtp://mailer%40example.com:p%3Ass%40w0rd@smtp.example.com')).toEqual({
      secure: false,
      host: 'smtp.example.com',
      port: 587,
      auth: { user: 'mailer@example.com', pass: 'p:ss@w0rd' },
    });
    expect(parseSmtpUrl('SMTPS://u:p@smtp.example.com')).toMatchObject({ secure: true, port: 465 });
    expect(parseSmtpUrl('smtp://u:p@127.0.0.1:2525/')).toMatchObject({ host: '127.0.0.1', port: 2525 });
    expect(parseSmtpUrl('smtp://[::1]:25')).toEqual({ secure: false, host: '::1', port: 25, auth: null });
  });

  it('refuses what it cannot use, without the value in the message', () => {
    for (const bad of ['http://u:secretpw@smtp.example.com', 'smtp://u@smtp.example.com', 'smtp://:secretpw@smtp.example.com', 'smtp://u:secretpw@smtp.example.com/x', 'smtp://u:%E0%A4%A@smtp.example.com', 'smtp://u:secretpw@']) {
      expect(() => parseSmtpUrl(bad), bad).toThrow();
      try {
        parseSmtpUrl(bad);
      } catch (error) {
        expect((error as Error).message).not.toContain('secretpw');
      }
    }
  });

  it("finds the sender's address", () => {
    expect(fromAddressOf('mailferry@example.com')).toBe('mailferry@example.com');
    expect(fromAddressOf('Mailferry <mailferry@example.com>')).toBe('mailferry@example.com');
    expect(fromAddressOf('"Mailferry, Support" <help@example.com>')).toBe('help@example.com');
    expect(fromAddressOf('Mailferry')).toBeNull();
    expect(fromAddressOf('a@b')).toBeNull();
  });
});
