import type { IXHRApi, IXHROptions } from 'ews-javascript-api';
import { ConnectorError, type FetchLike } from '../types';
import { transportError } from './ews-errors';
import { NtlmSession, offersOnlyNtlm } from './ntlm';

/** What the last HTTP exchange answered, kept so failures can be explained by status code. */
export interface RecordedResponse {
  url: string;
  status: number;
  headers: Headers;
  body: string;
}

export interface FetchXhrApiOptions {
  fetch: FetchLike;
  signal?: AbortSignal;
  /**
   * Upper bound on requests through this instance. ews-javascript-api follows autodiscover
   * RedirectUrl answers on its own, up to 10 times; this keeps a hostile server from walking
   * us further than the few hops we allow.
   */
  maxRequests?: number;
  /** Default 32 MiB; a response bigger than this fails with protocol_error. */
  maxResponseBytes?: number;
  /**
   * For NTLM: 'ntlm' authenticates every request with NTLM (the Basic header the caller sets
   * is not sent); absent, a request is sent as the caller made it and, answered 401 by a
   * server that offers NTLM / Negotiate and not Basic, sent again with NTLM, as are all after it.
   * 'basic' never switches.
   */
  authentication?: 'basic' | 'ntlm';
  /** What NTLM logs in with (DOMAIN\user or user@domain). */
  credentials?: { username: string; password: string };
  /** Told of every HTTP request sent, NTLM's handshake legs included. */
  onRequest?: () => void;
}

/** A fetch that can give one with a single connection per origin (the pinned fetch's `single()`). */
type MaybeSingle = FetchLike & { single?: () => FetchLike & { peerCertificate?: (url: string) => Buffer | null } };

/** The shape ews-javascript-api reads from its XHR layer (@ewsjs/xhr builds the same). */
interface XhrLikeResponse {
  readyState: 4;
  status: number;
  statusText: string;
  responseURL: string;
  responseType: '';
  responseText: string;
  response: string;
  headers: Record<string, string>;
  getAllResponseHeaders(): string;
  getResponseHeader(name: string): string | null;
}

const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/**
 * ews-javascript-api's XHR layer backed by the injected fetch, so every EWS and autodiscover
 * request passes the host policy. Set it per ExchangeService / AutodiscoverService
 * (`service.XHRApi = ...`): checks for different accounts run concurrently with different
 * fetches, and the library's global XHR setting would mix them up.
 *
 * The library flattens a rejected request into a SoapFaultDetails that keeps only the message
 * (and for autodiscover, sometimes into `undefined`), so the original transport error and the
 * last HTTP answer are kept here for the caller to explain the failure.
 */
export class FetchXhrApi implements IXHRApi {
  readonly apiName = 'mailferry-fetch';
  /** First error the fetch threw (already a ConnectorError, or mapped to one). */
  transportError: ConnectorError | undefined;
  lastResponse: RecordedResponse | undefined;
  requestCount = 0;

  private readonly controller = new AbortController();
  private ntlm: NtlmSession | undefined;

  constructor(private readonly options: FetchXhrApiOptions) {
    if (options.authentication === 'ntlm') this.ntlm = this.ntlmSession();
  }

  /** Whether requests go with NTLM (asked for, or the server offered nothing else). */
  get isNtlm(): boolean {
    return this.ntlm !== undefined;
  }

  private ntlmSession(): NtlmSession {
    const credentials = this.options.credentials;
    if (!credentials) throw new ConnectorError('auth_failed', 'NTLM without a user name and password');
    // NTLM authenticates the connection: the legs and the requests after go over one.
    const fetch = this.options.fetch as MaybeSingle;
    const single = fetch.single?.();
    return new NtlmSession({
      fetch: single ?? fetch,
      username: credentials.username,
      password: credentials.password,
      ...(this.options.onRequest ? { onRequest: this.options.onRequest } : {}),
      // Extended Protection: the NTLM answer is bound to the TLS connection's certificate.
      ...(single?.peerCertificate ? { peerCertificate: (url: string) => single.peerCertificate!(url) } : {}),
    });
  }

  async xhr(xhrOptions: IXHROptions): Promise<XMLHttpRequest> {
    const maxRequests = this.options.maxRequests ?? Infinity;
    if (this.requestCount >= maxRequests) {
      throw this.fail(new ConnectorError('groupware_not_found', `gave up after ${maxRequests} requests (redirect loop?)`));
    }
    this.requestCount++;

    // A signal per request: undici adds an abort listener to the signal of each, kept as long as the signal lives.
    const signal = AbortSignal.any(this.options.signal ? [this.options.signal, this.controller.signal] : [this.controller.signal]);
    let response: Response;
    let body: string;
    try {
      const init: RequestInit = {
        method: xhrOptions.type ?? 'GET',
        headers: requestHeaders(xhrOptions.headers),
        body: typeof xhrOptions.data === 'string' ? xhrOptions.data : undefined,
        // A redirect is never followed behind the library's back: autodiscover judges 302s
        // itself, and an EWS POST answered with a redirect usually points at an OWA login form.
        redirect: 'manual',
        signal,
      };
      if (this.ntlm) {
        response = await this.ntlm.fetch(xhrOptions.url, init);
      } else {
        this.options.onRequest?.();
        response = await this.options.fetch(xhrOptions.url, init);
        if (response.status === 401 && this.options.credentials && this.options.authentication !== 'basic' && offersOnlyNtlm(response.headers.get('www-authenticate'))) {
          await response.body?.cancel();
          this.ntlm = this.ntlmSession();
          response = await this.ntlm.fetch(xhrOptions.url, init);
        }
      }
      body = await readLimited(response, this.options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
    } catch (error) {
      throw this.fail(transportError(error, xhrOptions.url));
    }

    this.lastResponse = { url: xhrOptions.url, status: response.status, headers: response.headers, body };
    const xhr = xhrLike(xhrOptions.url, response, body);
    // Same contract as @ewsjs/xhr: only 200 resolves. AutodiscoverRequest would otherwise hand
    // a non-200 body back as if it were a parsed response.
    if (response.status === 200) return xhr as unknown as XMLHttpRequest;
    throw xhr;
  }

  async xhrStream(): Promise<XMLHttpRequest> {
    // Streaming notifications (GetStreamingEvents) are not used by Mailferry.
    throw this.fail(new ConnectorError('protocol_error', 'EWS streaming requests are not supported'));
  }

  disconnect(): void {
    this.controller.abort();
  }

  private fail(error: ConnectorError): XhrLikeResponse & { cause: ConnectorError } {
    this.transportError ??= error;
    // status 0 is what ews-javascript-api's autodiscover code treats as "could not connect".
    return Object.assign(xhrLike('', undefined, ''), { status: 0, statusText: error.message, cause: error });
  }
}

function requestHeaders(raw: unknown): Headers {
  const headers = new Headers();
  if (raw && typeof raw === 'object') {
    for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
      // fetch negotiates and decodes content coding itself; the library's own value would only
      // tell the server we can take encodings undici might not decode.
      if (name.toLowerCase() === 'accept-encoding') continue;
      if (typeof value === 'string') headers.set(name, value);
    }
  }
  return headers;
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new ConnectorError('protocol_error', `response larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function xhrLike(url: string, response: Response | undefined, body: string): XhrLikeResponse {
  const headers: Record<string, string> = {};
  response?.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return {
    readyState: 4,
    status: response?.status ?? 0,
    statusText: response?.statusText ?? '',
    responseURL: url,
    responseType: '',
    responseText: body,
    response: body,
    headers,
    getAllResponseHeaders: () =>
      Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join(''),
    getResponseHeader: (name: string) => headers[name.toLowerCase()] ?? null,
  };
}
