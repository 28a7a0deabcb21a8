import { describe, expect, it } from 'vitest';
import { parseServer, ServerAddressError } from './server-address';

describe('server field', () => {
  it.each([
    ['mail.example.com', 'mail.example.com', 993, 'tls'],
    ['Mail.Example.com:993', 'mail.example.com', 993, 'tls'],
    ['mail.example.com:143', 'mail.example.com', 143, 'starttls'],
    ['imaps://mail.example.com', 'mail.example.com', 993, 'tls'],
    ['imaps://mail.example.com:1993', 'mail.example.com', 1993, 'tls'],
    ['imap://mail.example.com', 'mail.example.com', 143, 'starttls'],
    ['imap://mail.example.com:10143/', 'mail.example.com', 10143, 'starttls'],
    ['127.0.0.1:10993', '127.0.0.1', 10993, 'tls'],
    ['[::1]:143', '::1', 143, 'starttls'],
    ['  mail.example.com  ', 'mail.example.com', 993, 'tls'],
  ] as const)('%s → %s:%d over %s', (input, host, port, security) => {
    expect(parseServer(input).mail).toEqual({ host, port, security });
  });

  it('takes https URLs as groupware endpoints', () => {
    const parsed = parseServer('https://dav.example.com/dav/');
    expect(parsed.mail).toBeNull();
    expect(parsed.host).toBe('dav.example.com');
    expect(parsed.url?.href).toBe('https://dav.example.com/dav/');
  });

  it.each([
    ['', 'Enter the server address.'],
    ['pop3://mail.example.com', 'Use imaps://'],
    ['mail.example.com:99999', 'The port must be'],
    ['mail.example.com:abc', 'The port must be'],
    ['user@mail.example.com', 'only a host'],
    ['https://user:pw@dav.example.com/', 'Do not put credentials'],
    ['mail example.com', 'must not contain spaces'],
    ['-bad-.example.com', 'not a valid host name'],
  ])('refuses %j', (input, message) => {
    expect(() => parseServer(input)).toThrow(ServerAddressError);
    expect(() => parseServer(input)).toThrow(message);
  });
});
