import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../types';
import { createDavFetch, DAV_REQUESTS_PER_HOST, retryAfterMs } from './dav-fetch';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let base: string;
let handler: Handler = (_req, res) => res.end('ok');
let inFlight = 0;
let maxInFlight = 0;
const arrivals: number[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    arrivals.push(Date.now());
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function reset(next: Handler) {
  handler = next;
  arrivals.length = 0;
  maxInFlight = 0;
}

const plain = (input: string | URL, init?: RequestInit) => fetch(input, init);

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates, and nothing else', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs('Mon, 07 Dec 2026 10:00:05 GMT', Date.parse('Mon, 07 Dec 2026 10:00:00 GMT'))).toBe(5000);
    expect(retryAfterMs('soon')).toBeNull();
    expect(retryAfterMs(null)).toBeNull();
  });
});

describe('createDavFetch', () => {
  it('waits as long as a 429 asks (Retry-After) and then gets the answer', async () => {
    let calls = 0;
    reset((_req, res) => {
      calls++;
      if (calls === 1) {
        res.writeHead(429, { 'retry-after': '1' });
        res.end('slow down');
      } else res.end('<multistatus/>');
    });
    const davFetch = createDavFetch(plain, { backoffMs: 10 });
    const response = await davFetch(`${base}/cal/`, { method: 'PROPFIND', body: '<propfind/>' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('<multistatus/>');
    expect(calls).toBe(2);
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(950);
  });

  it('backs off after 503s without Retry-After and gives the last answer after its tries', async () => {
    reset((_req, res) => {
      res.writeHead(503);
      res.end('busy');
    });
    const davFetch = createDavFetch(plain, { attempts: 3, backoffMs: 50 });
    const response = await davFetch(`${base}/busy`);
    expect(response.status).toBe(503);
    expect(arrivals).toHaveLength(3);
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(45);
    expect(arrivals[2]! - arrivals[1]!).toBeGreaterThanOrEqual(95);
  });

  it('does not wait hours for a server that asks it to: rate_limited instead', async () => {
    reset((_req, res) => {
      res.writeHead(429, { 'retry-after': '7200' });
      res.end();
    });
    const davFetch = createDavFetch(plain, { maxRetryAfterMs: 60_000 });
    const error = await davFetch(`${base}/x`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).reason).toBe('rate_limited');
    expect(arrivals).toHaveLength(1);
  });

  it('keeps at most N requests in flight to one host', async () => {
    reset((_req, res) => setTimeout(() => res.end('ok'), 60));
    const davFetch = createDavFetch(plain, { connectionsPerHost: 3 });
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => davFetch(`${base}/item-${i}.ics`).then((r) => r.text())));
    expect(answers).toEqual(Array.from({ length: 12 }, () => 'ok'));
    expect(maxInFlight).toBe(3);
  });

  it('keeps to the requests a groupware pass leases per host when told no other number', async () => {
    reset((_req, res) => setTimeout(() => res.end('ok'), 60));
    const davFetch = createDavFetch(plain);
    await Promise.all(Array.from({ length: 3 * DAV_REQUESTS_PER_HOST }, (_, i) => davFetch(`${base}/item-${i}.vcf`).then((r) => r.text())));
    expect(maxInFlight).toBe(DAV_REQUESTS_PER_HOST);
  });

  it('refuses an answer larger than its limit, declared or streamed, without reading it all', async () => {
    const davFetch = createDavFetch(plain, { maxResponseBytes: 64 * 1024 });
    reset((_req, res) => {
      res.writeHead(207, { 'content-length': String(1024 * 1024) });
      res.end(Buffer.alloc(1024 * 1024, 0x61));
    });
    await expect(davFetch(`${base}/declared`)).rejects.toThrow(/larger than the limit/);
    reset((_req, res) => {
      res.writeHead(207);
      const chunk = Buffer.alloc(16 * 1024, 0x62);
      let sent = 0;
      const more = () => {
        if (res.destroyed || sent >= 200) return res.end();
        sent++;
        res.write(chunk, more);
      };
      more();
    });
    await expect(davFetch(`${base}/streamed`)).rejects.toThrow(/larger than the limit/);
  });
});
