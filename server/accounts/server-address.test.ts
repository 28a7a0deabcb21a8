import { describe, expect, it } from 'vitest';
import { accountSchema } from './schemas';
import { davDiscoveryUrl, parseServer, ServerAddressError } from './server-address';

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

describe('groupware address', () => {
  it('is where DAV discovery starts when given, else the server field decides', () => {
    expect(davDiscoveryUrl('imap://mail.example.com:143', 'https://dav.example.com/groupware/')).toBe('https://dav.example.com/groupware/');
    expect(davDiscoveryUrl('imap://mail.example.com:143', null)).toBe('https://mail.example.com/');
    expect(davDiscoveryUrl('https://ox.example.com/servlet/dav/', '')).toBe('https://ox.example.com/servlet/dav/');
    expect(davDiscoveryUrl('mail.example.com', ' https://[2001:db8::1]:8443/dav ')).toBe('https://[2001:db8::1]:8443/dav');
  });

  const account = { type: 'zimbra', email: 'a@example.com', username: 'a@example.com', password: 'x', server: 'mail.example.com' } as const;
  const problem = (input: object) => {
    const result = accountSchema.safeParse({ ...account, ...input });
    return result.success ? null : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  };

  it('is optional, and accepted for the DAV groupware types', () => {
    expect(problem({})).toBeNull();
    expect(problem({ groupwareUrl: '' })).toBeNull();
    for (const type of ['zimbra', 'kolab', 'openxchange']) expect(problem({ type, groupwareUrl: 'https://dav.example.com/' })).toBeNull();
    expect(problem({ type: 'exchange', groupwareUrl: 'https://mail.example.com/EWS/Exchange.asmx' })).toBeNull();
  });

  it.each([
    [{ type: 'imap', groupwareUrl: 'https://dav.example.com/' }, 'groupwareUrl: A groupware address is used only for Zimbra, Kolab, Open-Xchange and Exchange accounts.'],
    [{ type: 'office365', groupwareUrl: 'https://dav.example.com/' }, 'groupwareUrl: A groupware address is used only for Zimbra, Kolab, Open-Xchange and Exchange accounts.'],
    [{ groupwareUrl: 'dav.example.com' }, 'groupwareUrl: The groupware address must start with https://.'],
    [{ groupwareUrl: 'ftp://dav.example.com/' }, 'groupwareUrl: The groupware address must start with https://.'],
    [{ groupwareUrl: 'https://anna:secret@dav.example.com/' }, 'groupwareUrl: Do not put credentials in the groupware address.'],
    [{ groupwareUrl: 'https://dav.example.com/a b' }, 'groupwareUrl: The groupware address must not contain spaces.'],
    [{ groupwareUrl: 'https://dav.exa_mple.com/' }, 'groupwareUrl: The server address is not a valid host name.'],
    [{ groupwareUrl: 'https://dav.example.com/?user=anna' }, 'groupwareUrl: The groupware address must not have a query or fragment.'],
  ])('refuses %j', (input, message) => {
    expect(problem(input)).toBe(message);
  });
});
