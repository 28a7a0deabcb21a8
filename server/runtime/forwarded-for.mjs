/**
 * Installed in the web server's process (forwarded-for-preload.mjs, `node --import`) before
 * Next.js starts. Next.js takes
 * X-Forwarded-For as the client sends it and fills it from the connection only when it is
 * missing, so without this a client could name itself anew with every request and escape the
 * per-client sign-in and check limits. Here every request's X-Forwarded-For becomes one address:
 * the connection's peer, or, when the peer is a trusted reverse proxy, the rightmost entry that
 * is not itself a trusted proxy. Trusted proxies: MAILFERRY_TRUSTED_PROXIES (addresses or CIDR
 * ranges, comma-separated); loopback when unset, for a proxy on the same machine.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export const DEFAULT_TRUSTED_PROXIES = '127.0.0.0/8,::1';

/** `::ffff:10.0.0.1` is 10.0.0.1; anything that is not an address is null. */
function plainAddress(text) {
  const value = String(text ?? '').trim().replace(/^\[(.*)\]$/, '$1');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(value);
  const address = mapped ? mapped[1] : value;
  return net.isIP(address) ? address : null;
}

/** The trusted proxies as a BlockList; throws with the entry that is not an address or range. */
export function parseTrustedProxies(text) {
  const list = new net.BlockList();
  for (const raw of String(text).split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const [base, bits, extra] = entry.split('/');
    const address = plainAddress(base);
    const family = address && net.isIP(address) === 6 ? 'ipv6' : 'ipv4';
    const max = family === 'ipv6' ? 128 : 32;
    if (!address || extra !== undefined || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= max))) {
      throw new Error(`"${entry}" is not an IP address or a CIDR range such as 10.0.0.0/8`);
    }
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

const isTrusted = (trusted, address) => trusted.check(address, net.isIP(address) === 6 ? 'ipv6' : 'ipv4');

/**
 * The client of a request that came from `peer` with the given X-Forwarded-For: walking from
 * the connection back along the header, the first hop that is not a trusted proxy. Entries
 * left of it were written by the client and are never believed.
 */
export function resolveClientAddress(forwardedFor, peer, trusted) {
  const from = plainAddress(peer);
  if (!from) return null;
  if (!isTrusted(trusted, from)) return from;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '');
  const hops = header.split(',').map((entry) => entry.trim()).filter(Boolean);
  let client = from;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = plainAddress(hops[i]);
    // A proxy that wrote something that is not an address: trust stops at the proxy itself.
    if (!hop) break;
    client = hop;
    if (!isTrusted(trusted, hop)) break;
  }
  return client;
}

function wrap(listener, trusted) {
  return function withClientAddress(request, response) {
    const client = resolveClientAddress(request.headers['x-forwarded-for'], request.socket?.remoteAddress, trusted);
    if (client) request.headers['x-forwarded-for'] = client;
    else delete request.headers['x-forwarded-for'];
    return listener.call(this, request, response);
  };
}

/** Every HTTP(S) server this process creates rewrites X-Forwarded-For before its handler runs. */
export function installClientAddress(trusted) {
  for (const library of [http, https]) {
    const original = library.createServer;
    library.createServer = function createServer(...args) {
      const at = args.findIndex((arg) => typeof arg === 'function');
      if (at >= 0) args[at] = wrap(args[at], trusted);
      const server = original.apply(this, args);
      const on = server.on;
      // A listener added later (server.on('request', …)) is wrapped as well.
      server.on = server.addListener = function (event, handler) {
        return on.call(this, event, event === 'request' && typeof handler === 'function' ? wrap(handler, trusted) : handler);
      };
      return server;
    };
  }
}
