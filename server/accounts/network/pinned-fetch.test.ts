import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestCertificates, type TestCertificates } from '../../../test/helpers/test-certificates';
import { ConnectorError } from '../types';
import { DEFAULT_ALLOWED_PORTS, type Lookup, type NetworkPolicy } from './host-policy';
import { parseHostRules } from './host-rules';
import { classifySocketError, createPinnedFetch, type PinnedFetch, type PinnedFetchOptions } from './pinned-fetch';

interface Seen {
  method: string;
  url: string;
  host: string | undefined;
  servername: string | null;
  authorization: string | undefined;
  body: string;
}

interface TestServer {
  port: number;
  connections: number;
  requests: Seen[];
  server: net.Server;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

const routes: Handler = (req, res, body) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/redirect') {
    res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('to') ?? '/' });
    res.end('moved');
    return;
  }
  if (url.pathname === '/loop') {
    res.writeHead(302, { location: '/loop' });
    res.end();
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ path: url.pathname, method: req.method, body }));
};

async function listen(server: net.Server, host: string, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => resolve());
  });
  return (server.address() as net.AddressInfo).port;
}

async function startServer(kind: 'http' | 'https' | 'silent', host: string, port = 0): Promise<TestServer> {
  const state: TestServer = { port: 0, connections: 0, requests: [], server: undefined as unknown as net.Server };
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      state.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        host: req.headers.host,
        servername: (req.socket as tls.TLSSocket).servername || null,
        authorization: req.headers.authorization,
        body,
      });
      routes(req, res, body);
    });
  };
  if (kind === 'https') {
    state.server = https.createServer(
      { cert: await readFile(certs.certPath), key: await readFile(certs.keyPath) },
      onRequest,
    );
    // Counted at TCP level, so a connection that fails the TLS handshake is counted too.
    state.server.on('connection', () => state.connections++);
  } else if (kind === 'http') {
    state.server = http.createServer(onRequest);
    state.server.on('connection', () => state.connections++);
  } else {
    // Accepts and never says anything; it reads, or it would not notice the client leave.
    state.server = net.createServer((socket) => {
      state.connections++;
      socket.resume();
    });
  }
  state.server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  state.port = await listen(state.server, host, port);
  servers.push(state.server);
  return state;
}

let tmp: string;
let certs: TestCertificates;
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
const fetches: PinnedFetch[] = [];
let httpsServer: TestServer;
let httpServer: TestServer;
/** Dual-stack loopback server that every refused request aims at: it must never see a connection. */
let victim: TestServer;

const lookup = vi.fn<Lookup>(async (hostname) => {
  const table: Record<string, string> = {
    'mail.example.test': '127.0.0.1',
    'dav.example.test': '127.0.0.1',
    'other.example.test': '127.0.0.1',
    'loopback.example.test': '127.0.0.1',
    'internal.example.test': '10.0.0.1',
    'metadata.example.test': '169.254.169.254',
  };
  const address = table[hostname];
  if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return [{ address, family: 4 }];
});

function policyOf(allow: string, insecure = '', overrides: Partial<NetworkPolicy> = {}): NetworkPolicy {
  const parsedAllow = parseHostRules(allow);
  const parsedInsecure = parseHostRules(insecure);
  expect([...parsedAllow.errors, ...parsedInsecure.errors]).toEqual([]);
  return {
    allow: parsedAllow.rules,
    insecure: parsedInsecure.rules,
    extraCaPem: certs.caCertPem,
    // The test servers listen on random ports; the port rule is tested on its own below.
    allowedPorts: [...DEFAULT_ALLOWED_PORTS, httpsServer.port, httpServer.port, victim.port],
    ...overrides,
  };
}

function pinned(policy: NetworkPolicy, options: PinnedFetchOptions = {}): PinnedFetch {
  const fetch = createPinnedFetch(policy, { lookup, timeoutMs: 5_000, ...options });
  fetches.push(fetch);
  return fetch;
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const error: unknown = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return (error as ConnectorError).reason;
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mailferry-pinned-fetch-'));
  certs = await createTestCertificates(tmp, ['mail.example.test', 'dav.example.test']);
  httpsServer = await startServer('https', '127.0.0.1');
  httpServer = await startServer('http', '127.0.0.1');
  victim = await startServer('http', '::');
});

afterEach(async () => {
  await Promise.all(fetches.splice(0).map((fetch) => fetch.close()));
  vi.restoreAllMocks();
  lookup.mockClear();
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  await rm(tmp, { recursive: true, force: true });
});

describe('TLS to a pinned address', () => {
  it('connects to the checked address and verifies the certificate against the original name', async () => {
    const fetch = pinned(policyOf('127.0.0.1/32'));
    const response = await fetch(`https://mail.example.test:${httpsServer.port}/echo`);
    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ path: '/echo', method: 'GET' });
    expect(httpsServer.requests.at(-1)).toMatchObject({
      servername: 'mail.example.test',
      host: `mail.example.test:${httpsServer.port}`,
    });
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it('fails with tls_error without the private CA', async () => {
    const fetch = pinned(policyOf('127.0.0.1/32', '', { extraCaPem: null }));
    const failure = fetch(`https://mail.example.test:${httpsServer.port}/echo`);
    await expect(failure).rejects.toThrow(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    expect(await reasonOf(failure)).toBe('tls_error');
  });

  it('fails with tls_error when the certificate is for another name', async () => {
    const fetch = pinned(policyOf('127.0.0.1/32'));
    const failure = fetch(`https://other.example.test:${httpsServer.port}/echo`);
    await expect(failure).rejects.toThrow(/ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(await reasonOf(failure)).toBe('tls_error');
  });

  it('checks an IP literal against the IP, which this certificate does not name', async () => {
    const fetch = pinned(policyOf('127.0.0.1/32'));
    expect(await reasonOf(fetch(`https://127.0.0.1:${httpsServer.port}/echo`))).toBe('tls_error');
  });

  it('skips verification only for insecure hosts', async () => {
    const fetch = pinned(policyOf('127.0.0.1/32', 'other.example.test', { extraCaPem: null }));
    const response = await fetch(`https://other.example.test:${httpsServer.port}/echo`);
    expect(response.status).toBe(200);
    await response.body?.cancel();
    expect(await reasonOf(fetch(`https://mail.example.test:${httpsServer.port}/echo`))).toBe('tls_error');
  });

  it('sends a request body and keeps the connection for the next request', async () => {
    const fetch = pinned(policyOf('127.0.0.1/32'));
    const before = httpsServer.connections;
    for (const body of ['one', 'two', 'three']) {
      const response = await fetch(`https://mail.example.test:${httpsServer.port}/echo`, { method: 'PROPFIND', body });
      expect(await response.json()).toMatchObject({ method: 'PROPFIND', body });
    }
    // Global fetch may hand a request to a new connection while the last one is being
    // released, so only reuse as such is asserted.
    expect(httpsServer.connections - before).toBeLessThan(3);
  });
});

describe('refused targets', () => {
  const hosts = [
    '127.0.0.1',
    '0.0.0.0',
    '[::1]',
    '[::ffff:127.0.0.1]',
    '169.254.169.254',
    '10.0.0.1',
    '100.64.0.1',
    '[fd00::1]',
    '2130706433',
    '0x7f000001',
    'loopback.example.test',
    'metadata.example.test',
  ];

  it.each(hosts)('refuses %s without opening a socket', async (host) => {
    const netConnect = vi.spyOn(net, 'connect');
    const tlsConnect = vi.spyOn(tls, 'connect');
    const fetch = pinned(policyOf('', '127.0.0.0/8'));
    const before = victim.connections;
    for (const scheme of ['https', 'http']) {
      expect(await reasonOf(fetch(`${scheme}://${host}:${victim.port}/`))).toBe('blocked_host');
    }
    expect(victim.connections).toBe(before);
    expect(netConnect).not.toHaveBeenCalled();
    expect(tlsConnect).not.toHaveBeenCalled();
  });

  it('can reach the victim server when allowed, so the refusals above are not an accident', async () => {
    const netConnect = vi.spyOn(net, 'connect');
    const fetch = pinned(policyOf('127.0.0.0/8, ::1, ::ffff:127.0.0.0/104', '127.0.0.0/8, ::1'));
    const before = victim.connections;
    for (const host of ['127.0.0.1', '[::1]', '2130706433', 'loopback.example.test']) {
      const response = await fetch(`http://${host}:${victim.port}/echo`);
      expect(response.status).toBe(200);
      await response.body?.cancel();
    }
    expect(victim.connections).toBeGreaterThan(before);
    // The spies above see undici's sockets.
    expect(netConnect).toHaveBeenCalled();
  });

  it('refuses schemes other than http and https', async () => {
    const fetch = pinned(policyOf('127.0.0.1/32'));
    expect(await reasonOf(fetch('file:///etc/passwd'))).toBe('blocked_host');
    expect(await reasonOf(fetch('not a url'))).toBe('protocol_error');
  });
});

describe('DNS rebinding', () => {
  it('connects to the address it checked, not to what a second lookup would say', async () => {
    // The first answer is public; the socket is redirected to a closed loopback port so that
    // nothing leaves the machine, while the spy records where undici was told to connect.
    const closedPort = await closedPortNumber();
    const realConnect = tls.connect.bind(tls) as (options: tls.ConnectionOptions) => tls.TLSSocket;
    const attempts: { host?: string; servername?: string }[] = [];
    vi.spyOn(tls, 'connect').mockImplementation(((options: tls.ConnectionOptions) => {
      attempts.push({ host: options.host, servername: options.servername });
      return realConnect({ ...options, host: '127.0.0.1', port: closedPort });
    }) as typeof tls.connect);
    const answers = ['93.184.215.14', '127.0.0.1'];
    const rebinding = vi.fn<Lookup>(async () => [{ address: answers.shift() ?? '127.0.0.1', family: 4 }]);
    const fetch = pinned(policyOf(''), { lookup: rebinding });

    expect(await reasonOf(fetch('https://rebind.example.test/'))).toBe('connection_refused');
    expect(rebinding).toHaveBeenCalledTimes(1);
    expect(attempts).toEqual([{ host: '93.184.215.14', servername: 'rebind.example.test' }]);
  });

  it('end to end on loopback: the second answer never gets a connection', async () => {
    // 127.0.0.2 plays the allowed server, 127.0.0.1 the internal one on the same port.
    const legit = await startServer('http', '127.0.0.2');
    const internal = await startServer('http', '127.0.0.1', legit.port);
    const answers = ['127.0.0.2', '127.0.0.1'];
    const rebinding = vi.fn<Lookup>(async () => [{ address: answers.shift() ?? '127.0.0.1', family: 4 }]);
    const fetch = pinned(policyOf('127.0.0.2/32', '127.0.0.0/8', { allowedPorts: [legit.port] }), { lookup: rebinding });

    const response = await fetch(`http://rebind.example.test:${legit.port}/echo`);
    expect(response.status).toBe(200);
    await response.body?.cancel();
    expect(legit.requests).toHaveLength(1);
    // The next request asks DNS again, gets the internal address and is refused.
    expect(await reasonOf(fetch(`http://rebind.example.test:${legit.port}/echo`))).toBe('blocked_host');
    expect(rebinding).toHaveBeenCalledTimes(2);
    expect(internal.connections).toBe(0);
  });
});

describe('redirects', () => {
  const base = () => `https://mail.example.test:${httpsServer.port}`;
  const redirect = (to: string, status = 302) => `${base()}/redirect?status=${status}&to=${encodeURIComponent(to)}`;

  it('follows a redirect and re-checks the new target', async () => {
    const fetch = pinned(policyOf('127.0.0.1/32'));
    const response = await fetch(redirect(`https://dav.example.test:${httpsServer.port}/final`));
    expect(await response.json()).toMatchObject({ path: '/final' });
    expect(response.url).toBe(`https://dav.example.test:${httpsServer.port}/final`);
    expect(lookup.mock.calls.map(([name]) => name)).toEqual(['mail.example.test', 'dav.example.test']);
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'blocked_host'],
    ['https://169.254.169.254/latest/meta-data/', 'blocked_host'],
    ['https://internal.example.test/', 'blocked_host'],
    ['http://[::1]/', 'blocked_host'],
    ['https://unknown.example.test/', 'unknown_host'],
    ['ftp://mail.example.test/', 'blocked_host'],
  ])('refuses a redirect to %s', async (to, reason) => {
    // Loopback is allowed and insecure, so only the redirect target decides.
    const fetch = pinned(policyOf('127.0.0.1/32', '127.0.0.1/32'));
    expect(await reasonOf(fetch(redirect(to)))).toBe(reason);
  });

  it('refuses a redirect to plain http unless the target is insecure', async () => {
    const to = `http://mail.example.test:${httpServer.port}/plain`;
    expect(await reasonOf(pinned(policyOf('127.0.0.1/32'))(redirect(to)))).toBe('plaintext_refused');
    const response = await pinned(policyOf('127.0.0.1/32', 'mail.example.test'))(redirect(to));
    expect(await response.json()).toMatchObject({ path: '/plain' });
  });

  it('caps the number of redirects', async () => {
    const fetch = pinned(policyOf('127.0.0.1/32'), { maxRedirects: 3 });
    const before = httpsServer.requests.length;
    expect(await reasonOf(fetch(`${base()}/loop`))).toBe('protocol_error');
    expect(httpsServer.requests.length - before).toBe(4);
  });

  it('hands the redirect to the caller with redirect: manual, and fails with redirect: error', async () => {
    const fetch = pinned(policyOf('127.0.0.1/32'));
    const response = await fetch(redirect('https://169.254.169.254/'), { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('https://169.254.169.254/');
    await response.body?.cancel();
    expect(await reasonOf(fetch(redirect('/echo'), { redirect: 'error' }))).toBe('protocol_error');
  });

  it('drops credentials on a redirect to another origin, keeps them on the same origin', async () => {
    const fetch = pinned(policyOf('127.0.0.1/32'));
    const headers = { authorization: 'Bearer secret' };
    await (await fetch(redirect('/same'), { headers })).body?.cancel();
    expect(httpsServer.requests.at(-1)).toMatchObject({ url: '/same', authorization: 'Bearer secret' });
    await (await fetch(redirect(`https://dav.example.test:${httpsServer.port}/cross`), { headers })).body?.cancel();
    expect(httpsServer.requests.at(-1)).toMatchObject({ url: '/cross', authorization: undefined });
  });

  it('turns POST into GET on 303 and keeps method and body on 307', async () => {
    const fetch = pinned(policyOf('127.0.0.1/32'));
    const seeOther = await fetch(redirect('/echo', 303), { method: 'POST', body: 'payload' });
    expect(await seeOther.json()).toMatchObject({ method: 'GET', body: '' });
    const temporary = await fetch(redirect('/echo', 307), { method: 'POST', body: 'payload' });
    expect(await temporary.json()).toMatchObject({ method: 'POST', body: 'payload' });
  });
});

describe('ports and plaintext', () => {
  it('refuses http:// unless the host is insecure', async () => {
    const url = `http://mail.example.test:${httpServer.port}/echo`;
    expect(await reasonOf(pinned(policyOf('127.0.0.1/32'))(url))).toBe('plaintext_refused');
    expect(await reasonOf(pinned(policyOf('127.0.0.1/32', 'dav.example.test'))(url))).toBe('plaintext_refused');
    const response = await pinned(policyOf('127.0.0.1/32', '127.0.0.1/32'))(url);
    expect(await response.json()).toMatchObject({ path: '/echo' });
  });

  it('refuses a port outside the allowed list unless an allow rule names it', async () => {
    const url = `https://mail.example.test:${httpsServer.port}/echo`;
    const overrides = { allowedPorts: DEFAULT_ALLOWED_PORTS };
    expect(await reasonOf(pinned(policyOf('127.0.0.1/32', '', overrides))(url))).toBe('blocked_host');
    expect(await reasonOf(pinned(policyOf(`127.0.0.1/32:${httpsServer.port + 1}`, '', overrides))(url))).toBe('blocked_host');
    const response = await pinned(policyOf(`127.0.0.1/32:${httpsServer.port}`, '', overrides))(url);
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });
});

describe('connection failures', () => {
  it('reports a closed port as connection_refused', async () => {
    const port = await closedPortNumber();
    const fetch = pinned(policyOf('127.0.0.1/32', '127.0.0.1/32', { allowedPorts: [port] }));
    expect(await reasonOf(fetch(`https://mail.example.test:${port}/`))).toBe('connection_refused');
    expect(await reasonOf(fetch(`http://mail.example.test:${port}/`))).toBe('connection_refused');
  });

  it.each(['https', 'http'])('reports a %s server that never answers as timed_out, in time', async (scheme) => {
    const silent = await startServer('silent', '127.0.0.1');
    const fetch = pinned(policyOf('127.0.0.1/32', '127.0.0.1/32', { allowedPorts: [silent.port] }), { timeoutMs: 300 });
    const started = performance.now();
    expect(await reasonOf(fetch(`${scheme}://mail.example.test:${silent.port}/`))).toBe('timed_out');
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(silent.connections).toBeGreaterThanOrEqual(1);
    await fetch.close();
    await vi.waitFor(async () => expect(await openConnections(silent.server)).toBe(0));
  });

  it('reports an unknown name as unknown_host', async () => {
    expect(await reasonOf(pinned(policyOf(''))('https://nowhere.example.test/'))).toBe('unknown_host');
  });

  it('lets the caller abort, with the caller\'s reason', async () => {
    const silent = await startServer('silent', '127.0.0.1');
    const fetch = pinned(policyOf('127.0.0.1/32', '', { allowedPorts: [silent.port] }));
    const controller = new AbortController();
    const pending = fetch(`https://mail.example.test:${silent.port}/`, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('cancelled by the job')), 50);
    await expect(pending).rejects.toThrow('cancelled by the job');
    // The handshake is still pending; close() must not leave that socket to the connect timeout.
    await fetch.close();
    await vi.waitFor(async () => expect(await openConnections(silent.server)).toBe(0), { timeout: 1_000 });
  });

  it('closes its sockets on close() and refuses to be used afterwards', async () => {
    const fetch = pinned(policyOf('127.0.0.1/32'));
    await (await fetch(`https://mail.example.test:${httpsServer.port}/echo`)).text();
    expect(await openConnections(httpsServer.server)).toBeGreaterThan(0);
    await fetch.close();
    await vi.waitFor(async () => expect(await openConnections(httpsServer.server)).toBe(0));
    await expect(fetch(`https://mail.example.test:${httpsServer.port}/echo`)).rejects.toThrow(/after close/);
  });
});

describe('classifySocketError', () => {
  const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

  it.each([
    [coded('ECONNREFUSED'), 'connection_refused'],
    [new TypeError('fetch failed', { cause: coded('ECONNREFUSED') }), 'connection_refused'],
    [new TypeError('fetch failed', { cause: new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')]) }), 'connection_refused'],
    [coded('ENOTFOUND'), 'unknown_host'],
    [coded('EAI_AGAIN'), 'unknown_host'],
    [coded('ETIMEDOUT'), 'timed_out'],
    [coded('UND_ERR_CONNECT_TIMEOUT'), 'timed_out'],
    [coded('UND_ERR_HEADERS_TIMEOUT'), 'timed_out'],
    [coded('GREETING_TIMEOUT'), 'timed_out'],
    [new DOMException('The operation timed out.', 'TimeoutError'), 'timed_out'],
    [coded('DEPTH_ZERO_SELF_SIGNED_CERT'), 'tls_error'],
    [coded('SELF_SIGNED_CERT_IN_CHAIN'), 'tls_error'],
    [coded('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'tls_error'],
    [coded('CERT_HAS_EXPIRED'), 'tls_error'],
    [coded('ERR_TLS_CERT_ALTNAME_INVALID'), 'tls_error'],
    [coded('ERR_SSL_WRONG_VERSION_NUMBER'), 'tls_error'],
    [coded('EPROTO'), 'tls_error'],
    [coded('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established'), 'tls_error'],
    [Object.assign(new Error('STARTTLS failed'), { tlsFailed: true }), 'tls_error'],
    [new Error('imap', { cause: new Error('wrapped', { cause: coded('CERT_NOT_YET_VALID') }) }), 'tls_error'],
    [new ConnectorError('blocked_host', 'x'), 'blocked_host'],
  ])('%s → %s', (error, reason) => {
    expect(classifySocketError(error)).toBe(reason);
  });

  it('returns null for what it does not know, and survives cycles', () => {
    expect(classifySocketError(new Error('boom'))).toBeNull();
    expect(classifySocketError('ECONNREFUSED')).toBeNull();
    expect(classifySocketError(null)).toBeNull();
    const cyclic: Error & { cause?: unknown } = new Error('a');
    cyclic.cause = cyclic;
    expect(classifySocketError(cyclic)).toBeNull();
  });
});

function openConnections(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

/** A loopback port nothing listens on (another process could take it, but not in these few ms). */
async function closedPortNumber(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server, '127.0.0.1');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
