import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkAccount, microsoftEndpoints, type CheckEnvironment } from '@/server/accounts/check';
import { checkPairForOrganization } from '@/server/accounts/check-service';
import { audienceOf, failureMessage, type MessageAudience } from '@/server/accounts/messages';
import { DEFAULT_ALLOWED_PORTS, resolveTarget, type Lookup, type NetworkPolicy } from '@/server/accounts/network/host-policy';
import { parseHostRules } from '@/server/accounts/network/host-rules';
import { createPinnedFetch } from '@/server/accounts/network/pinned-fetch';
import type { AccountInput } from '@/server/accounts/schemas';
import { ConnectorError } from '@/server/accounts/types';
import { parseEnv } from '@/server/env';
import { seedOrganization, testDb } from './helpers/database';
import { startDovecot, type DovecotServer } from './helpers/dovecot';
import { callerFor } from './helpers/trpc';

function policyOf(allow = ''): NetworkPolicy {
  return { allow: parseHostRules(allow).rules, insecure: [], extraCaPem: null, allowedPorts: DEFAULT_ALLOWED_PORTS };
}

const lookup = vi.fn<Lookup>(async (hostname) => {
  const table: Record<string, string[]> = {
    'mail.internal': ['10.0.0.5'],
    'mail6.internal': ['fd12:3456::5'],
    'self.example.com': ['127.0.0.1'],
    'metadata.example.com': ['169.254.169.254'],
    'carrier.example.com': ['100.64.1.2'],
    'docs.example.com': ['192.0.2.7'],
    'mail.example.com': ['104.16.132.229'],
  };
  const addresses = table[hostname];
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
});

/** The refusal of resolveTarget, in the words each audience reads. */
async function refusal(host: string, port: number, allow = ''): Promise<Record<MessageAudience, string> & { reason: string }> {
  const error: unknown = await resolveTarget(policyOf(allow), host, port, { lookup }).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  const { reason, facts } = error as ConnectorError;
  return { reason, admin: failureMessage(reason, { facts, audience: 'admin' }), customer: failureMessage(reason, { facts, audience: 'customer' }) };
}

describe('host-policy refusals: one sentence per reason, per audience', () => {
  it('a port that is not allowed: the admin is told which rule to add, the customer to ask', async () => {
    const literal = await refusal('127.0.0.1', 10143, '127.0.0.1');
    expect(literal.reason).toBe('blocked_host');
    expect(literal.admin).toBe('Port 10143 is not allowed for this server; an administrator can allow `127.0.0.1:10143` under Settings → Allowed private hosts.');
    expect(literal.customer).toBe("This server's port is not allowed; ask your administrator, or use the standard port (993 for IMAP over TLS, 143 for STARTTLS).");
    // Decided before any lookup; a name keeps its name, an IPv6 address gets brackets.
    expect((await refusal('mail.example.com', 2525)).admin).toContain('`mail.example.com:2525`');
    expect((await refusal('::1', 10143)).admin).toContain('`[::1]:10143`');
  });

  it('a private address: the admin learns what the name resolves to, the customer does not', async () => {
    const named = await refusal('mail.internal', 993);
    expect(named.admin).toBe(
      'mail.internal resolves to 10.0.0.5, a private network address, which Mailferry does not connect to unless allowed; an administrator can allow `mail.internal` under Settings → Allowed private hosts.',
    );
    expect(named.customer).toBe("This server is on a private network, which Mailferry may not reach. Use the server's public address, or ask your administrator.");
    expect(named.customer).not.toContain('10.0.0.5');
    expect((await refusal('mail6.internal', 993)).customer).toBe(named.customer);
    expect((await refusal('10.0.0.5', 143)).admin).toMatch(/^10\.0\.0\.5 is a private network address, .* allow `10\.0\.0\.5` under Settings/);
  });

  it('a private host on a non-standard port: the rule to add names the port', async () => {
    // Another rule names the port, so the port passes and the address decides.
    const result = await refusal('10.0.0.5', 10143, '10.0.0.9:10143');
    expect(result.admin).toContain('an administrator can allow `10.0.0.5:10143` under Settings');
    expect(result.customer).not.toMatch(/10\.0\.0\.5|10143/);
  });

  it('loopback, link-local and other kinds each have their own sentence', async () => {
    const loopback = await refusal('self.example.com', 993);
    expect(loopback.admin).toBe(
      'self.example.com resolves to 127.0.0.1, a loopback address (this machine itself), which Mailferry does not connect to unless allowed; an administrator can allow `self.example.com` under Settings → Allowed private hosts. Allow it only if the mail server runs on the machine Mailferry runs on.',
    );
    expect(loopback.customer).toBe('This server address points to the machine Mailferry runs on, which may not be used. Check the server address, or ask your administrator.');

    const linkLocal = await refusal('metadata.example.com', 443);
    expect(linkLocal.admin).toContain('169.254.169.254, a link-local address');
    expect(linkLocal.admin).toContain('Allow it only if a mail server really listens there.');
    expect(linkLocal.customer).toBe('This server address is a link-local address, which may not be used. Check the server address, or ask your administrator.');

    const carrier = await refusal('carrier.example.com', 993);
    expect(carrier.admin).toContain('100.64.1.2, a shared carrier-grade NAT address');
    const documentation = await refusal('docs.example.com', 993);
    expect(documentation.admin).toContain('192.0.2.7, an address reserved for documentation');
    for (const other of [carrier, documentation]) {
      expect(other.customer).toBe('This server address is not a public internet address. Check the server address, or ask your administrator.');
      expect(other.customer).not.toMatch(/\d+\.\d+/);
    }
    const privateNetwork = (await refusal('mail.internal', 993)).customer;
    expect(new Set([privateNetwork, loopback.customer, linkLocal.customer, carrier.customer]).size).toBe(4);
  });

  it('a name that does not resolve is named back, with where to look for each audience', async () => {
    const missing = await refusal('mial.example.com', 993);
    expect(missing.reason).toBe('unknown_host');
    expect(missing.customer).toBe('The server name mial.example.com could not be found. Check the spelling of the server address.');
    expect(missing.admin).toBe("The name mial.example.com could not be found from this installation. Check the spelling, and that this installation's DNS resolver knows the name.");
  });

  it('an address that is not http(s) says what to enter instead', async () => {
    const fetch = createPinnedFetch(policyOf(), { lookup });
    const error = (await fetch('ftp://mail.example.com/').catch((caught: unknown) => caught)) as ConnectorError;
    await fetch.close();
    expect(failureMessage(error.reason, { facts: error.facts })).toBe("A ftp:// address cannot be used here; enter an https:// address or the server's host name.");
  });

  it('without facts (an older caller) or without an audience, the customer wording holds', () => {
    expect(failureMessage('blocked_host')).toBe('Mailferry may not connect to this server address. Only public mail servers can be used unless your administrator allows others.');
    const facts = { kind: 'port_not_allowed', host: '127.0.0.1', port: 10143 } as const;
    expect(failureMessage('blocked_host', { facts })).toBe(failureMessage('blocked_host', { facts, audience: 'customer' }));
    expect(audienceOf('admin')).toBe('admin');
    expect(audienceOf('reseller')).toBe('customer');
    expect(audienceOf('customer')).toBe('customer');
    expect(audienceOf(undefined)).toBe('customer');
  });
});

const alice = { username: 'alice@example.test', password: 'Plain-port;secret' };
const account = (server: string, password = alice.password): AccountInput => ({ type: 'imap', email: alice.username, username: alice.username, password, server });

describe('TLS spoken to a port that does not speak it (real Dovecot)', () => {
  let dovecot: DovecotServer;
  let environment: CheckEnvironment;

  beforeAll(async () => {
    dovecot = await startDovecot({ users: [alice], tls: 'both' });
    environment = {
      policy: { ...policyOf('127.0.0.0/8'), allowedPorts: [...DEFAULT_ALLOWED_PORTS, dovecot.port, dovecot.tlsPort!] },
      timeoutMs: 8000,
      microsoftEndpoints: microsoftEndpoints(parseEnv({})),
    };
  });
  afterAll(async () => {
    await dovecot?.stop();
  });

  it('implicit TLS to the plain IMAP port suggests STARTTLS instead of blaming the certificate', async () => {
    const result = await checkAccount(account(`imaps://127.0.0.1:${dovecot.port}`), environment);
    expect(result).toEqual({ ok: false, reason: 'tls_error', protocol: 'imap', message: `This port does not speak TLS; try imap://127.0.0.1:${dovecot.port} for STARTTLS.` });
    // A host:port without a scheme means implicit TLS too.
    const bare = await checkAccount(account(`127.0.0.1:${dovecot.port}`), environment);
    expect(bare.ok ? '' : bare.message).toBe(`This port does not speak TLS; try imap://127.0.0.1:${dovecot.port} for STARTTLS.`);
  });

  it('a real TLS port with a certificate that is not trusted still says so', async () => {
    const result = await checkAccount(account(`imaps://127.0.0.1:${dovecot.tlsPort}`), environment);
    expect(result).toMatchObject({ ok: false, reason: 'tls_error' });
    expect(result.ok ? '' : result.message).toMatch(/certificate is not valid/);
  });

  it('following the advice works: STARTTLS on that port logs in', async () => {
    const result = await checkAccount(account(`imap://127.0.0.1:${dovecot.port}`), { ...environment, policy: { ...environment.policy, extraCaPem: dovecot.caCertPem } });
    expect(result.ok).toBe(true);
  });
});

describe('the wording follows the caller', () => {
  const db = testDb();
  // Port 10143 is no allowed port and no test names it in a rule: refused before any connection.
  const pair = { source: account('imaps://127.0.0.1:10143'), target: account('imaps://127.0.0.1:10144') };

  it("a customer's check and migration form get the customer's sentence", async () => {
    const { user } = await seedOrganization(db, 'customer');
    const asCustomer = await callerFor(db, user.id);
    const check = await asCustomer.accounts.checkPair(pair);
    expect(check.source).toMatchObject({ ok: false, reason: 'blocked_host', message: "This server's port is not allowed; ask your administrator, or use the standard port (993 for IMAP over TLS, 143 for STARTTLS)." });
    expect(JSON.stringify(check)).not.toContain('Settings');

    const submitted = await asCustomer.migrations.create({ ...pair, startAt: '2030-01-01T10:00', resyncAt: '' });
    expect(submitted).toMatchObject({ ok: false, source: { ok: false, reason: 'blocked_host' } });
    expect(submitted.ok ? '' : submitted.source.ok ? '' : submitted.source.message).toBe(check.source.ok ? '' : check.source.message);
  });

  it('an admin caller is told what to allow and where', async () => {
    const { user, organization } = await seedOrganization(db, 'customer');
    const check = await checkPairForOrganization(db, { userId: user.id, organizationId: organization.id, role: 'admin' }, pair);
    expect(check.source).toMatchObject({ ok: false, message: 'Port 10143 is not allowed for this server; an administrator can allow `127.0.0.1:10143` under Settings → Allowed private hosts.' });
  });
});
