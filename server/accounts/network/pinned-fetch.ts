import { Socket } from 'node:net';
import tls from 'node:tls';
import { buildConnector, type Dispatcher, fetch as undiciFetch, Pool } from 'undici';
import { ConnectorError, type FetchLike } from '../types';
import { classifySocketError } from './socket-errors';

export { classifySocketError };
import { resolveTarget, tlsOptions, type Lookup, type NetworkPolicy, type ResolvedTarget } from './host-policy';

export interface PinnedFetchOptions {
  lookup?: Lookup;
  /** Until the response headers of the last hop arrive, and as inactivity limit of the body. */
  timeoutMs?: number;
  maxRedirects?: number;
  /** Connections per origin and address; default unlimited (undici's pool). */
  connections?: number;
}

/**
 * fetch that only reaches what the policy allows; `close()` drops its connections (also those
 * of the fetches `single()` gave). `single()`: a new fetch of the same policy with one
 * connection per origin and address of its own, for authentication bound to the connection
 * (NTLM): each session asks for its own, so a connection authenticated for one user never
 * carries another's requests.
 */
export type PinnedFetch = FetchLike & {
  close(): Promise<void>;
  single(): PinnedFetch;
  /** The certificate (DER) the latest TLS connection to this URL's origin presented; null before one, or over http. */
  peerCertificate(url: string | URL): Buffer | null;
};

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_POOLS = 32;

/** Callers (and the libraries they hand this fetch to) get Node's own Response class. */
function asGlobalResponse(response: Awaited<ReturnType<typeof undiciFetch>>): Response {
  const hasBody = ![101, 204, 205, 304].includes(response.status);
  const copy = new Response(hasBody ? (response.body as ReadableStream<Uint8Array> | null) : null, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers as unknown as Headers,
  });
  Object.defineProperty(copy, 'url', { value: response.url });
  return copy;
}

/**
 * Keeps the pool's HTTP parser from pausing while a response body waits to be read. undici
 * asserts, uncatchably, when a server closes the connection while the parser is paused (a
 * response over the stream's high-water mark that arrives together with the FIN; Radicale and
 * other HTTP/1.0-style servers do this), which would end the whole process. Every response is
 * read right away and bounded by its reader, so buffering it costs nothing extra.
 */
function withoutPause(dispatch: Dispatcher['dispatch']): Dispatcher['dispatch'] {
  return (options, handler) => {
    // Interceptors see handlers of undici's controller API: every callback gets the controller first.
    const controllers = new WeakMap<object, object>();
    const unpausable = (controller: object): object => {
      let wrapped = controllers.get(controller);
      if (!wrapped) {
        wrapped = new Proxy(controller, {
          get(target, property) {
            if (property === 'pause') return () => undefined;
            const value: unknown = Reflect.get(target, property, target);
            return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          },
        });
        controllers.set(controller, wrapped);
      }
      return wrapped;
    };
    const wrappedHandler = new Proxy(handler, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        const method = value as (...args: unknown[]) => unknown;
        if (typeof property === 'string' && /^on(Request|Response)/.test(property)) {
          return (controller: unknown, ...rest: unknown[]) =>
            method.call(target, controller !== null && typeof controller === 'object' ? unpausable(controller) : controller, ...rest);
        }
        return method.bind(target);
      },
    });
    return dispatch(options, wrappedHandler);
  };
}

/**
 * A fetch for the connectors (DAV, EWS, autodiscover, OAuth, Graph). Every request and every
 * redirect hop is resolved and checked by the host policy, and the socket is opened to exactly
 * the checked address — the name is never resolved a second time, so a DNS answer that
 * changes between check and connect (rebinding) cannot redirect us into the local network.
 * TLS still uses the original name for SNI and the certificate check.
 *
 * Runs on undici's own fetch with its pools as dispatcher (Node's bundled fetch is another
 * undici version), and answers with Node's global Response class; connections are pooled per
 * (origin, checked address).
 */
export function createPinnedFetch(policy: NetworkPolicy, options: PinnedFetchOptions = {}): PinnedFetch {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxRedirects = options.maxRedirects ?? 5;
  const pools = new Map<string, Pool>();
  const composed = new WeakMap<Pool, Dispatcher>();
  // A pool destroyed while a TLS handshake is pending only lets go of that socket at the
  // connect timeout, so close() destroys what is still open itself.
  const sockets = new Set<Socket>();
  let secureContext: tls.SecureContext | undefined;
  /** Per origin, the certificate of the latest TLS connection (for channel bindings). */
  const certificates = new Map<string, Buffer>();
  let isClosed = false;

  function poolFor(url: URL, target: ResolvedTarget): Dispatcher {
    const key = `${url.origin}|${target.address}|${target.isInsecure}`;
    const known = pools.get(key);
    if (known) return composed.get(known)!;
    const { servername, ca, rejectUnauthorized } = tlsOptions(policy, target);
    // Parsing ~140 root certificates for every connection is measurable; the context is shared.
    if (ca) secureContext ??= tls.createSecureContext({ ca });
    const connector = buildConnector({ timeout: timeoutMs, rejectUnauthorized, ...(ca ? { secureContext } : {}) });
    const pool = new Pool(url.origin, {
      // undici would resolve `hostname` itself; it gets the checked address instead, while
      // `servername` (SNI and certificate check) keeps the name from the URL.
      connect: (connectOptions, callback) => {
        // undici's connector returns the socket, though its type says void.
        const socket: unknown = connector(
          { ...connectOptions, hostname: target.address, ...(servername ? { servername } : {}) },
          callback,
        );
        if (socket instanceof Socket) {
          sockets.add(socket);
          socket.once('close', () => sockets.delete(socket));
        }
        if (socket instanceof tls.TLSSocket) {
          socket.once('secureConnect', () => {
            const raw = socket.getPeerCertificate()?.raw;
            if (raw) certificates.set(url.origin, raw);
          });
        }
      },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      ...(options.connections ? { connections: options.connections } : {}),
    });
    // Large providers rotate addresses, so one long migration meets many; keep the newest.
    if (pools.size >= MAX_POOLS) {
      const [oldestKey, oldest] = pools.entries().next().value!;
      pools.delete(oldestKey);
      void oldest.close();
    }
    pools.set(key, pool);
    composed.set(pool, pool.compose(withoutPause));
    return pool;
  }

  async function checkUrl(url: URL, signal: AbortSignal): Promise<ResolvedTarget> {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new ConnectorError('blocked_host', `unsupported URL scheme ${url.protocol}`, { facts: { kind: 'unsupported_scheme', scheme: url.protocol.replace(/:$/, '') } });
    }
    const isPlain = url.protocol === 'http:';
    if (isPlain && policy.insecure.length === 0) throw plaintextRefused(url);
    const port = url.port === '' ? (isPlain ? 80 : 443) : Number(url.port);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const target = await resolveTarget(policy, host, port, { lookup: options.lookup, signal });
    if (isPlain && !target.isInsecure) throw plaintextRefused(url);
    return target;
  }

  const pinnedFetch = async (input: string | URL, init: RequestInit = {}): Promise<Response> => {
    if (isClosed) throw new Error('createPinnedFetch: used after close()');
    const redirectMode = init.redirect ?? 'follow';
    const callerSignal = init.signal ?? undefined;
    const timer = new AbortController();
    const timeout = setTimeout(
      () => timer.abort(new ConnectorError('timed_out', `no response within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const signal = callerSignal ? AbortSignal.any([callerSignal, timer.signal]) : timer.signal;

    let url: URL;
    try {
      url = new URL(input);
    } catch (error) {
      clearTimeout(timeout);
      throw new ConnectorError('protocol_error', `not a URL: ${String(input)}`, { cause: error });
    }
    let method = (init.method ?? 'GET').toUpperCase();
    let body = init.body;
    const headers = new Headers(init.headers);

    try {
      for (let hop = 0; ; hop++) {
        const target = await checkUrl(url, signal);
        let response: Response;
        try {
          response = (await undiciFetch(url, {
            ...init,
            method,
            body,
            headers,
            redirect: 'manual',
            signal,
            dispatcher: poolFor(url, target),
          } as unknown as Parameters<typeof undiciFetch>[1]).then(asGlobalResponse));
        } catch (error) {
          if (error instanceof ConnectorError || callerSignal?.aborted) throw error;
          const reason = classifySocketError(error) ?? 'protocol_error';
          throw new ConnectorError(reason, `${method} ${url.origin} (${target.address}): ${describeError(error)}`, {
            cause: error,
          });
        }

        const location = response.headers.get('location');
        if (!REDIRECT_STATUSES.has(response.status) || location === null || redirectMode === 'manual') {
          return response;
        }
        await response.body?.cancel();
        if (redirectMode === 'error') {
          throw new ConnectorError('protocol_error', `${url.origin} redirected (${response.status}), redirects not allowed`);
        }
        if (hop >= maxRedirects) {
          throw new ConnectorError('protocol_error', `more than ${maxRedirects} redirects, last from ${url.href}`);
        }
        let next: URL;
        try {
          next = new URL(location, url);
        } catch (error) {
          throw new ConnectorError('protocol_error', `invalid redirect location from ${url.origin}`, { cause: error });
        }
        // The fetch standard's method rewriting: 303 always, 301/302 for POST become a GET without body.
        if ((response.status === 303 && method !== 'HEAD') || ((response.status === 301 || response.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
          for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) {
            headers.delete(name);
          }
        } else if (body instanceof ReadableStream) {
          throw new ConnectorError('protocol_error', `${url.origin} redirected (${response.status}) a streamed body that cannot be sent again`);
        }
        // Credentials for one server must not follow a redirect to another.
        if (next.origin !== url.origin) {
          for (const name of ['authorization', 'cookie', 'proxy-authorization']) headers.delete(name);
        }
        url = next;
      }
    } finally {
      clearTimeout(timeout);
    }
  };

  const singles = new Set<PinnedFetch>();
  const fetchWithClose: PinnedFetch = Object.assign(pinnedFetch, {
    single(): PinnedFetch {
      if (isClosed) throw new ConnectorError('protocol_error', 'the connection pool is closed');
      const one = createPinnedFetch(policy, { ...options, connections: 1 });
      singles.add(one);
      return one;
    },
    peerCertificate(input: string | URL): Buffer | null {
      try {
        return certificates.get(new URL(input).origin) ?? null;
      } catch {
        return null;
      }
    },
    async close() {
      isClosed = true;
      await Promise.all([...singles].map((one) => one.close()));
      singles.clear();
      const open = [...pools.values()];
      pools.clear();
      // destroy, not close: close() would wait for any response body a caller never read.
      await Promise.all(open.map((pool) => pool.destroy()));
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
  });
  return fetchWithClose;
}

function plaintextRefused(url: URL): ConnectorError {
  return new ConnectorError('plaintext_refused', `http:// to ${url.host} is only allowed for insecure hosts`);
}

function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    parts.push(typeof code === 'string' ? `${code} ${current.message}` : current.message);
    current = current.cause;
  }
  return parts.join(' <- ') || String(error);
}
