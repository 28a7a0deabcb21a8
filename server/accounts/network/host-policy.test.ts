import tls from 'node:tls';
import { describe, expect, it, vi } from 'vitest';
import { ConnectorError } from '../types';
import { DEFAULT_ALLOWED_PORTS, resolveTarget, tlsOptions, type Lookup, type NetworkPolicy } from './host-policy';
import { parseHostRules } from './host-rules';

function policyOf(allow = '', insecure = '', overrides: Partial<NetworkPolicy> = {}): NetworkPolicy {
  return {
    allow: parseHostRules(allow).rules,
    insecure: parseHostRules(insecure).rules,
    extraCaPem: null,
    allowedPorts: DEFAULT_ALLOWED_PORTS,
    ...overrides,
  };
}

function stubLookup(table: Record<string, string[]>) {
  return vi.fn<Lookup>(async (hostname) => {
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  });
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const error: unknown = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return (error as ConnectorError).reason;
}

describe('resolveTarget', () => {
  const lookup = stubLookup({
    'mail.example.com': ['2606:4700::6810:84e5', '104.16.132.229'],
    'v6only.example.com': ['2606:4700::6810:84e5'],
    'internal.example.com': ['127.0.0.1'],
    'mixed.example.com': ['104.16.132.229', '10.0.0.1'],
    'mapped.example.com': ['::ffff:127.0.0.1'],
    'legacy.example.com': ['2130706433'],
    'garbage.example.com': ['not an address'],
    'empty.example.com': [],
  });

  it('resolves a public name and prefers IPv4', async () => {
    await expect(resolveTarget(policyOf(), 'Mail.Example.com.', 993, { lookup })).resolves.toEqual({
      host: 'mail.example.com',
      port: 993,
      address: '104.16.132.229',
      family: 4,
      isInsecure: false,
    });
    await expect(resolveTarget(policyOf(), 'v6only.example.com', 443, { lookup })).resolves.toMatchObject({
      address: '2606:4700::6810:84e5',
      family: 6,
    });
  });

  it('refuses a name when any of its addresses is not public', async () => {
    expect(await reasonOf(resolveTarget(policyOf(), 'internal.example.com', 993, { lookup }))).toBe('blocked_host');
    expect(await reasonOf(resolveTarget(policyOf(), 'mixed.example.com', 993, { lookup }))).toBe('blocked_host');
    expect(await reasonOf(resolveTarget(policyOf(), 'mapped.example.com', 993, { lookup }))).toBe('blocked_host');
    expect(await reasonOf(resolveTarget(policyOf(), 'legacy.example.com', 993, { lookup }))).toBe('blocked_host');
    expect(await reasonOf(resolveTarget(policyOf(), 'garbage.example.com', 993, { lookup }))).toBe('blocked_host');
  });

  it('names the address in the detail, for the server log', async () => {
    await expect(resolveTarget(policyOf(), 'mixed.example.com', 993, { lookup })).rejects.toThrow(/10\.0\.0\.1 \(private\)/);
  });

  it.each([
    '127.0.0.1', '0.0.0.0', '::1', '[::1]', '::ffff:127.0.0.1', '::ffff:7f00:1', '169.254.169.254', '10.0.0.1',
    '100.64.0.1', 'fd00::1', '[fd00::1]', 'fe80::1', '2130706433', '0x7f000001', '0177.0.0.1', '127.1', '0', '224.0.0.1',
    '64:ff9b::7f00:1', '2002:7f00:1::',
  ])('refuses the literal %s without asking DNS', async (host) => {
    const spy = stubLookup({});
    expect(await reasonOf(resolveTarget(policyOf(), host, 993, { lookup: spy }))).toBe('blocked_host');
    expect(spy).not.toHaveBeenCalled();
  });

  it('accepts a public literal without DNS, normalized, and without SNI', async () => {
    const spy = stubLookup({});
    const target = await resolveTarget(policyOf(), '[2606:4700:0:0::1111]', 443, { lookup: spy });
    expect(target).toEqual({ host: '2606:4700::1111', port: 443, address: '2606:4700::1111', family: 6, isInsecure: false });
    expect(spy).not.toHaveBeenCalled();
    expect(tlsOptions(policyOf(), target).servername).toBeUndefined();
  });

  it('allows what an allow rule names, by address or by host name', async () => {
    await expect(resolveTarget(policyOf('127.0.0.1/32'), 'internal.example.com', 993, { lookup })).resolves.toMatchObject({
      address: '127.0.0.1',
    });
    await expect(resolveTarget(policyOf('internal.example.com'), 'internal.example.com', 993, { lookup })).resolves.toMatchObject({
      address: '127.0.0.1',
    });
    await expect(resolveTarget(policyOf('10.0.0.0/8'), 'mixed.example.com', 993, { lookup })).resolves.toMatchObject({
      address: '104.16.132.229',
    });
    await expect(resolveTarget(policyOf('127.0.0.1'), '0x7f000001', 993, { lookup })).resolves.toMatchObject({
      host: '127.0.0.1',
      address: '127.0.0.1',
    });
    // A rule for another address or port does not help.
    expect(await reasonOf(resolveTarget(policyOf('127.0.0.2'), 'internal.example.com', 993, { lookup }))).toBe('blocked_host');
    expect(await reasonOf(resolveTarget(policyOf('127.0.0.1:143'), 'internal.example.com', 993, { lookup }))).toBe('blocked_host');
  });

  it('refuses a port outside allowedPorts before any DNS query, unless an allow rule names that port', async () => {
    const spy = stubLookup({ 'mail.example.com': ['104.16.132.229'], 'internal.example.com': ['127.0.0.1'] });
    expect(await reasonOf(resolveTarget(policyOf(), 'mail.example.com', 25, { lookup: spy }))).toBe('blocked_host');
    expect(await reasonOf(resolveTarget(policyOf('127.0.0.1/32'), 'internal.example.com', 10143, { lookup: spy }))).toBe('blocked_host');
    expect(spy).not.toHaveBeenCalled();

    await expect(resolveTarget(policyOf('127.0.0.1/32:10143'), 'internal.example.com', 10143, { lookup: spy })).resolves.toMatchObject({
      port: 10143,
    });
    await expect(resolveTarget(policyOf('mail.example.com:4190'), 'mail.example.com', 4190, { lookup: spy })).resolves.toMatchObject({
      address: '104.16.132.229',
    });
    // The port rule is for another host: still refused, now after the lookup.
    expect(await reasonOf(resolveTarget(policyOf('other.example.com:4190'), 'mail.example.com', 4190, { lookup: spy }))).toBe(
      'blocked_host',
    );
    await expect(resolveTarget(policyOf(), 'mail.example.com', 443, { lookup: spy }).then((t) => t.port)).resolves.toBe(443);
    for (const port of [0, -1, 65536, 1.5, Number.NaN]) {
      expect(await reasonOf(resolveTarget(policyOf(), 'mail.example.com', port, { lookup: spy }))).toBe('blocked_host');
    }
  });

  it('reports a name that does not resolve as unknown_host', async () => {
    expect(await reasonOf(resolveTarget(policyOf(), 'nowhere.example.com', 993, { lookup }))).toBe('unknown_host');
    expect(await reasonOf(resolveTarget(policyOf(), 'empty.example.com', 993, { lookup }))).toBe('unknown_host');
    const again: Lookup = async () => {
      throw Object.assign(new Error('queryA EAI_AGAIN'), { code: 'EAI_AGAIN' });
    };
    expect(await reasonOf(resolveTarget(policyOf(), 'mail.example.com', 993, { lookup: again }))).toBe('unknown_host');
    expect(await reasonOf(resolveTarget(policyOf(), 'bad host/name', 993, { lookup }))).toBe('unknown_host');
    expect(await reasonOf(resolveTarget(policyOf(), '', 993, { lookup }))).toBe('unknown_host');
  });

  it('uses the system resolver by default (localhost is refused)', async () => {
    expect(await reasonOf(resolveTarget(policyOf(), 'localhost', 993))).toBe('blocked_host');
  });

  it('stops waiting for DNS when the signal aborts', async () => {
    const never: Lookup = () => new Promise(() => {});
    const controller = new AbortController();
    const pending = resolveTarget(policyOf(), 'mail.example.com', 993, { lookup: never, signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });

  it('marks a target insecure when it matches the insecure list', async () => {
    const policy = policyOf('127.0.0.1/32', 'internal.example.com');
    await expect(resolveTarget(policy, 'internal.example.com', 993, { lookup })).resolves.toMatchObject({ isInsecure: true });
    await expect(resolveTarget(policy, 'mail.example.com', 993, { lookup })).resolves.toMatchObject({ isInsecure: false });
  });
});

describe('tlsOptions', () => {
  const target = { host: 'mail.example.com', port: 993, address: '104.16.132.229', family: 4 as const, isInsecure: false };

  it('verifies against the original name with Node\'s roots', () => {
    expect(tlsOptions(policyOf(), target)).toEqual({ servername: 'mail.example.com', rejectUnauthorized: true });
  });

  it('adds a private CA to the public roots instead of replacing them', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const options = tlsOptions(policyOf('', '', { extraCaPem: pem }), target);
    expect(options.ca).toHaveLength(tls.rootCertificates.length + 1);
    expect(options.ca?.at(-1)).toBe(pem);
    expect(options.ca).toEqual(expect.arrayContaining([...tls.rootCertificates]));
  });

  it('turns verification off only for insecure targets, and sends no SNI for IPs', () => {
    expect(tlsOptions(policyOf(), { ...target, isInsecure: true }).rejectUnauthorized).toBe(false);
    expect(tlsOptions(policyOf(), { ...target, host: '104.16.132.229' }).servername).toBeUndefined();
  });
});
