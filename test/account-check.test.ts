import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { checkAccount, checkAccountPair, microsoftEndpoints, type CheckEnvironment } from '@/server/accounts/check';
import { checkDav } from '@/server/accounts/dav/dav-connector';
import { DEFAULT_ALLOWED_PORTS, type NetworkPolicy } from '@/server/accounts/network/host-policy';
import { parseHostRules } from '@/server/accounts/network/host-rules';
import { createPinnedFetch } from '@/server/accounts/network/pinned-fetch';
import type { AccountInput } from '@/server/accounts/schemas';
import { parseEnv } from '@/server/env';
import { startDovecot, type DovecotServer } from './helpers/dovecot';
import { startRadicale, type RadicaleServer } from './helpers/radicale';

// Passwords with characters that break naive quoting; each is grepped for in every log line.
const alice = { username: 'alice@example.test', password: 'S3cret;"pass wörd' };
const bob = { username: 'bob@example.test', password: 'another:Secret+42' };
const WRONG = 'definitely-Wrong-pw!';
const secrets = [alice.password, bob.password, WRONG];

const logLines: string[] = [];
function captureLogs() {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logLines.push(args.map(String).join(' '));
    });
  }
}

function policy(overrides: { allow?: string; insecure?: string; ca?: string | null; ports?: number[] } = {}): NetworkPolicy {
  return {
    allow: parseHostRules(overrides.allow ?? '127.0.0.0/8').rules,
    insecure: parseHostRules(overrides.insecure ?? '').rules,
    extraCaPem: overrides.ca ?? null,
    allowedPorts: [...DEFAULT_ALLOWED_PORTS, ...(overrides.ports ?? [])],
  };
}

function environment(p: NetworkPolicy): CheckEnvironment {
  return { policy: p, timeoutMs: 8000, microsoftEndpoints: microsoftEndpoints(parseEnv({})) };
}

const imapAccount = (server: string, user = alice, password = user.password): AccountInput => ({
  type: 'imap',
  email: user.username,
  username: user.username,
  password,
  server,
});

describe('credential check against a real Dovecot', () => {
  let dovecot: DovecotServer;
  let plainOnly: DovecotServer;
  let ports: number[];

  beforeAll(async () => {
    // Everything the connectors log, at every level, is grepped for secrets below.
    process.env.MAILFERRY_LOG_LEVEL = 'debug';
    captureLogs();
    [dovecot, plainOnly] = await Promise.all([startDovecot({ users: [alice, bob], tls: 'both' }), startDovecot({ users: [alice], tls: 'none' })]);
    ports = [dovecot.port, dovecot.tlsPort!, plainOnly.port];
  });
  afterAll(async () => {
    await Promise.all([dovecot?.stop(), plainOnly?.stop()]);
    vi.restoreAllMocks();
    process.env.MAILFERRY_LOG_LEVEL = 'warn';
  });

  it('logs in over implicit TLS when the private CA is trusted, and lists the folders', async () => {
    const result = await checkAccount(imapAccount(`imaps://127.0.0.1:${dovecot.tlsPort}`), environment(policy({ ca: dovecot.caCertPem, ports })));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const imap = result.reports[0]!;
    expect(imap.protocol).toBe('imap');
    expect(imap.collections.map((c) => c.name)).toEqual(expect.arrayContaining(['INBOX', 'Sent', 'Drafts', 'Trash']));
  });

  it('refuses an untrusted certificate unless its CA is configured or the host is marked insecure', async () => {
    const account = imapAccount(`127.0.0.1:${dovecot.tlsPort}`);
    expect(await checkAccount(account, environment(policy({ ports })))).toMatchObject({ ok: false, reason: 'tls_error', protocol: 'imap' });
    expect(await checkAccount(account, environment(policy({ ports, insecure: '127.0.0.1' })))).toMatchObject({ ok: true });
  });

  it('requires STARTTLS on a plain port and never falls back to plain text silently', async () => {
    expect(await checkAccount(imapAccount(`imap://127.0.0.1:${dovecot.port}`), environment(policy({ ca: dovecot.caCertPem, ports })))).toMatchObject({ ok: true });
    const withoutTls = imapAccount(`imap://127.0.0.1:${plainOnly.port}`);
    const refused = await checkAccount(withoutTls, environment(policy({ ports })));
    expect(refused).toMatchObject({ ok: false, reason: 'plaintext_refused' });
    expect(refused.ok ? '' : refused.message).toMatch(/no encrypted connection/);
    expect(await checkAccount(withoutTls, environment(policy({ ports, insecure: `127.0.0.1:${plainOnly.port}` })))).toMatchObject({ ok: true });
  });

  it('says the password is wrong, in words a customer understands', async () => {
    const result = await checkAccount(imapAccount(`imaps://127.0.0.1:${dovecot.tlsPort}`, alice, WRONG), environment(policy({ ca: dovecot.caCertPem, ports })));
    expect(result).toEqual({ ok: false, reason: 'auth_failed', message: 'The username or password is wrong.', protocol: 'imap' });
  });

  it('says which side of a pair failed', async () => {
    const env = environment(policy({ ca: dovecot.caCertPem, ports }));
    const good = imapAccount(`imaps://127.0.0.1:${dovecot.tlsPort}`, bob);
    const bad = imapAccount(`imaps://127.0.0.1:${dovecot.tlsPort}`, alice, WRONG);
    expect((await checkAccountPair(bad, good, { source: env, target: env })).failed).toBe('source');
    expect((await checkAccountPair(good, bad, { source: env, target: env })).failed).toBe('target');
    expect((await checkAccountPair(bad, bad, { source: env, target: env })).failed).toBe('both');
    const ok = await checkAccountPair(good, good, { source: env, target: env });
    expect(ok).toMatchObject({ ok: true, failed: null });
  });

  it('refuses loopback servers without the allowlist, before connecting', async () => {
    const result = await checkAccount(imapAccount(`imaps://127.0.0.1:${dovecot.tlsPort}`), environment(policy({ allow: '', ca: dovecot.caCertPem, ports })));
    expect(result).toMatchObject({ ok: false, reason: 'blocked_host' });
    // The customer's message names no address, port or banner.
    expect(result.ok ? '' : result.message).not.toMatch(/127\.0\.0\.1|\d{4,5}|dovecot/i);
  });

  it('reports a closed port as refused and an unknown name as unknown, without raw socket errors', async () => {
    const refused = await checkAccount(imapAccount('imaps://127.0.0.1:9'), environment(policy({ ports: [9] })));
    expect(refused).toMatchObject({ ok: false, reason: 'connection_refused', message: 'The server refused the connection. Check the server address and port.' });
    const unknown = await checkAccount(imapAccount('imaps://no-such-host.invalid'), environment(policy()));
    expect(unknown).toMatchObject({ ok: false, reason: 'unknown_host' });
    expect(JSON.stringify([refused, unknown])).not.toMatch(/ECONNREFUSED|ENOTFOUND|getaddrinfo/);
  });

  it('never writes a password, or its base64, to the log', async () => {
    expect(logLines.some((l) => l.includes('account check failed'))).toBe(true);
    const all = `${logLines.join('\n')}\n${await dovecot.logs()}`;
    for (const secret of secrets) {
      expect(all).not.toContain(secret);
      expect(all).not.toContain(Buffer.from(secret).toString('base64'));
      expect(all).not.toContain(Buffer.from(`\0${alice.username}\0${secret}`).toString('base64'));
    }
  });
});

describe('CalDAV/CardDAV discovery against a real Radicale', () => {
  let radicale: RadicaleServer;
  const carol = { username: 'carol', password: 'Cal;Dav"secret' };

  beforeAll(async () => {
    radicale = await startRadicale({ users: [carol] });
    await radicale.createCollections(carol.username, {
      calendars: [{ slug: 'work', displayName: 'Work', components: ['VEVENT'] }, { slug: 'todo', displayName: 'Todo', components: ['VTODO'] }],
      addressBooks: [{ slug: 'contacts', displayName: 'Contacts' }],
    });
  });
  afterAll(async () => radicale?.stop());

  const fetchFor = (insecure: boolean) =>
    createPinnedFetch(policy({ ports: [radicale.port], insecure: insecure ? `127.0.0.1:${radicale.port}` : '' }), { timeoutMs: 8000 });

  it('finds the calendars, task lists and address books from the server root (RFC 6764)', async () => {
    const reports = await checkDav({ serverUrl: radicale.url, username: carol.username, password: carol.password, fetch: fetchFor(true) });
    const collections = reports.flatMap((r) => r.collections.map((c) => `${c.kind}:${c.name}`)).sort();
    expect(collections).toEqual(['calendar:Work', 'contacts:Contacts', 'tasks:Todo']);
  });

  it('says the password is wrong', async () => {
    await expect(checkDav({ serverUrl: radicale.url, username: carol.username, password: WRONG, fetch: fetchFor(true) })).rejects.toMatchObject({ reason: 'auth_failed' });
  });

  it('refuses plain http unless the host is marked insecure', async () => {
    await expect(checkDav({ serverUrl: radicale.url, username: carol.username, password: carol.password, fetch: fetchFor(false) })).rejects.toMatchObject({
      reason: 'plaintext_refused',
    });
  });
});

describe('ferry check', () => {
  let dovecot: DovecotServer;
  let dir: string;
  beforeAll(async () => {
    dovecot = await startDovecot({ users: [alice], tls: 'both' });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mailferry-cli-'));
    await fs.writeFile(path.join(dir, 'ca.pem'), dovecot.caCertPem!);
    await fs.writeFile(path.join(dir, 'password'), `${alice.password}\n`);
    await fs.writeFile(path.join(dir, 'wrong'), `${WRONG}\n`);
  });
  afterAll(async () => {
    await dovecot?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const ferry = (args: string[], env: Record<string, string>) =>
    spawnSync(process.execPath, ['scripts/ferry.mjs', 'check', ...args], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: process.env.PATH, NODE_ENV: 'production', DATABASE_URL: inject('databaseUrl'), MAILFERRY_SEALING_KEYS: process.env.MAILFERRY_SEALING_KEYS, ...env },
    });

  it('checks an account from the command line, with the same answers and the host policy', () => {
    const url = `imaps://${encodeURIComponent(alice.username)}@127.0.0.1:${dovecot.tlsPort}`;
    const policyEnv = { MAILFERRY_ALLOWED_HOSTS: `127.0.0.1/32:${dovecot.tlsPort}`, MAILFERRY_TRUSTED_CA_FILE: path.join(dir, 'ca.pem') };
    const ok = ferry([url, '--password-file', path.join(dir, 'password')], policyEnv);
    expect(ok.stdout).toContain('✓ The login works.');
    expect(ok.stdout).toMatch(/imap\s+\d+ folders/);
    expect(ok.status).toBe(0);

    const wrong = ferry([url, '--password-file', path.join(dir, 'wrong')], policyEnv);
    expect(wrong.stdout).toContain('✗ The username or password is wrong.');
    expect(wrong.status).toBe(1);

    const blocked = ferry([url], { MAILFERRY_PASSWORD: alice.password });
    // Whoever runs the command line runs the installation: told what to allow, and where.
    expect(blocked.stdout).toContain(`✗ Port ${dovecot.tlsPort} is not allowed for this server; an administrator can allow \`127.0.0.1:${dovecot.tlsPort}\` under Settings`);
    expect(blocked.status).toBe(1);
    expect(`${ok.stdout}${ok.stderr}${wrong.stdout}${wrong.stderr}${blocked.stdout}${blocked.stderr}`).not.toContain(alice.password);
  }, 60_000);
});
