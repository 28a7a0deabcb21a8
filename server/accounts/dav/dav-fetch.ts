import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectorError, type FetchLike } from '../types';

export interface DavFetchOptions {
  /** Requests in flight to one host at once; groupware servers throttle hard above a few. */
  connectionsPerHost?: number;
  /** Tries of one request in all (network errors, 429, 502-504). */
  attempts?: number;
  /** First back-off; doubled per try. */
  backoffMs?: number;
  /** A Retry-After longer than this ends the request with rate_limited instead of waiting. */
  maxRetryAfterMs?: number;
  /** A response body larger than this is refused, so one huge multistatus cannot fill the memory. */
  maxResponseBytes?: number;
}

const RETRY_STATUSES = new Set([429, 502, 503, 504]);

/** What one DAV fetch sends to one host at once unless told otherwise (a groupware pass leases as many across workers). */
export const DAV_REQUESTS_PER_HOST = 4;

/** A counting semaphore per host. */
class HostSlots {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();
  constructor(private readonly limit: number) {}

  async acquire(host: string): Promise<() => void> {
    const running = this.active.get(host) ?? 0;
    if (running >= this.limit) {
      await new Promise<void>((resolve) => {
        const queue = this.waiting.get(host) ?? [];
        queue.push(resolve);
        this.waiting.set(host, queue);
      });
    } else this.active.set(host, running + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.get(host)?.shift();
      // The slot passes straight to the next waiter: the count stays.
      if (next) next();
      else this.active.set(host, (this.active.get(host) ?? 1) - 1);
    };
  }
}

/** Seconds or an HTTP date (RFC 9110 10.2.3), in ms from now; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * Reads the body up to `limit` bytes and hands back a Response that holds it, so callers
 * (tsdav among them) can read it as usual.
 */
async function boundedResponse(response: Response, limit: number): Promise<Response> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    throw new ConnectorError('protocol_error', `response of ${declared} bytes is larger than the limit of ${limit}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        throw new ConnectorError('protocol_error', `response larger than the limit of ${limit} bytes`);
      }
      chunks.push(value);
    }
  }
  // 204/304 may not carry a body in the Response constructor.
  const hasBody = ![101, 204, 205, 304].includes(response.status);
  const copy = new Response(hasBody ? Buffer.concat(chunks) : null, { status: response.status, statusText: response.statusText, headers: response.headers });
  // Callers log or compare the address a response came from.
  Object.defineProperty(copy, 'url', { value: response.url });
  return copy;
}

/**
 * The DAV connector's fetch: at most N requests per host at once, retries with exponential
 * back-off after network errors and 429/502/503/504, a server's Retry-After honoured, and
 * bounded response bodies. Wraps the pinned fetch, so the host policy still decides where it goes.
 */
export function createDavFetch(inner: FetchLike, options: DavFetchOptions = {}): FetchLike {
  const slots = new HostSlots(options.connectionsPerHost ?? DAV_REQUESTS_PER_HOST);
  const attempts = options.attempts ?? 5;
  const backoffMs = options.backoffMs ?? 500;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 120_000;
  const maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;

  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const body = init?.body;
    // A stream can be sent once only; everything the connector sends is a string or buffer.
    const canRetry = !(body instanceof ReadableStream);
    for (let attempt = 1; ; attempt++) {
      const release = await slots.acquire(url.host);
      let wait: number;
      try {
        const response = await inner(url, init);
        if (!RETRY_STATUSES.has(response.status) || attempt >= attempts || !canRetry) return await boundedResponse(response, maxResponseBytes);
        await response.body?.cancel();
        const asked = retryAfterMs(response.headers.get('retry-after'));
        if (asked !== null && asked > maxRetryAfterMs) {
          throw new ConnectorError('rate_limited', `${url.host} asks to wait ${Math.round(asked / 1000)} s (status ${response.status})`);
        }
        wait = asked ?? backoffMs * 2 ** (attempt - 1);
      } catch (error) {
        const isTransient = error instanceof ConnectorError ? ['timed_out', 'connection_refused'].includes(error.reason) : !(error instanceof DOMException);
        if (!isTransient || attempt >= attempts || !canRetry || init?.signal?.aborted) throw error;
        wait = backoffMs * 2 ** (attempt - 1);
      } finally {
        release();
      }
      await sleep(wait, undefined, init?.signal ? { signal: init.signal } : undefined);
    }
  };
}
