import { spawn } from 'node:child_process';
import { request } from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseTrustedProxies, resolveClientAddress } from './forwarded-for.mjs';

const trusted = parseTrustedProxies('127.0.0.0/8,::1,10.0.0.0/8');

describe('the client address behind X-Forwarded-For', () => {
  it('is the peer when the peer is not a trusted proxy, whatever the client wrote', () => {
    expect(resolveClientAddress('1.2.3.4', '203.0.113.9', trusted)).toBe('203.0.113.9');
    expect(resolveClientAddress(undefined, '::ffff:203.0.113.9', trusted)).toBe('203.0.113.9');
  });

  it('is the hop a trusted proxy saw, skipping trusted proxies, never what the client put left of it', () => {
    expect(resolveClientAddress('forged, 198.51.100.7', '127.0.0.1', trusted)).toBe('198.51.100.7');
    expect(resolveClientAddress('6.6.6.6, 198.51.100.7, 10.1.2.3', '127.0.0.1', trusted)).toBe('198.51.100.7');
    expect(resolveClientAddress(['6.6.6.6', '2001:db8::5'], '::1', trusted)).toBe('2001:db8::5');
    // A trusted proxy without the header: the proxy itself is all that is known.
    expect(resolveClientAddress(undefined, '127.0.0.1', trusted)).toBe('127.0.0.1');
    // Something that is not an address ends the walk at the last hop that was.
    expect(resolveClientAddress('198.51.100.7, garbage', '127.0.0.1', trusted)).toBe('127.0.0.1');
  });

  it('refuses a trusted-proxy entry that is not an address or a range', () => {
    expect(() => parseTrustedProxies('10.0.0.0/33')).toThrow(/10\.0\.0\.0\/33/);
    expect(() => parseTrustedProxies('proxy.internal')).toThrow(/not an IP address/);
    expect(() => parseTrustedProxies('192.0.2.7, 2001:db8::/32')).not.toThrow();
  });
});

describe('the web server process', () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill();
  });

  /** A plain HTTP server started the way the portal's is (preload via NODE_OPTIONS); it echoes the header it got. */
  async function echoServer(trustedProxies: string | undefined): Promise<number> {
    const preload = path.join(import.meta.dirname, 'forwarded-for-preload.mjs');
    const script = `require('node:http').createServer((q, s) => s.end(String(q.headers['x-forwarded-for']))).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;
    const child = spawn(process.execPath, ['-e', script], {
      env: { ...process.env, NODE_OPTIONS: `--import=${preload}`, ...(trustedProxies === undefined ? {} : { MAILFERRY_TRUSTED_PROXIES: trustedProxies }) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    return new Promise((resolve, reject) => {
      child.stdout!.once('data', (data: Buffer) => resolve(Number(String(data).trim())));
      child.once('exit', (code) => reject(new Error(`the server exited with ${code}`)));
    });
  }

  const get = (port: number, forwardedFor: string) =>
    new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, headers: { 'x-forwarded-for': forwardedFor } }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += String(chunk)));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });

  it('replaces a header a direct client forged with the connection’s address', async () => {
    const port = await echoServer('192.0.2.1');
    expect(await get(port, '6.6.6.6')).toBe('127.0.0.1');
  });

  it('keeps the address a trusted proxy on the same machine added (loopback is trusted by default)', async () => {
    const port = await echoServer(undefined);
    expect(await get(port, '6.6.6.6, 198.51.100.7')).toBe('198.51.100.7');
  });
});
