/**
 * Microsoft Graph requests for one mailbox, as the groupware copy makes them: an app-only token
 * from the caller, the pinned fetch, bounded bodies, OData paging, JSON batching, and the
 * Outlook service's limits (graph/throttling-limits): at most 4 requests of this app in flight
 * per mailbox, 429 / 503 waited for as Retry-After says, up to a bound.
 *
 * https://learn.microsoft.com/graph/throttling
 * https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits
 * https://learn.microsoft.com/graph/json-batching
 * https://learn.microsoft.com/graph/paging
 */
import { randomUUID } from 'node:crypto';
import { delay, fetchFailure, graphNextLink, httpsBase, odataPage, parseJson, readBody, retryAfterSeconds, scrub } from '@/server/accounts/m365/http';
import { ConnectorError, type FetchLike } from '@/server/accounts/types';

/** graph/throttling-limits, Outlook service: 4 concurrent requests per app per mailbox. */
export const MAILBOX_CONCURRENCY = 4;
/** graph/json-batching: at most 20 requests in one batch. */
export const MAX_BATCH = 20;
/** As the DAV fetch: a server that asks for a longer wait ends the copy with rate_limited. */
export const MAX_RETRY_AFTER_SECONDS = 120;
// Retry-After is documented for every 429; a 503 without one waits as long as the first try.
const DEFAULT_WAIT_SECONDS = 1;
const MAX_TRIES = 8;
const BODY_LIMIT = 64 * 1024 * 1024;
// A collection of 100,000 items at 100 per page; a server that keeps sending nextLinks must stop.
const MAX_PAGES = 1000;

export interface GraphConnection {
  /** https://graph.microsoft.com, or a national cloud's. */
  graphBaseUrl: string;
  /** User principal name, primary SMTP address or object id of the mailbox. */
  user: string;
  /** An app-only token for Graph; asked again after a 401 (the cached one may have expired). */
  token: (options: { renewed: boolean }) => Promise<string>;
  /** The pinned fetch of the host policy. */
  fetch: FetchLike;
  signal?: AbortSignal;
  /** Waits longer than this fail with rate_limited. Default 120 s. */
  maxRetryAfterSeconds?: number;
}

export interface GraphAnswer {
  status: number;
  headers: Record<string, string>;
  /** JSON for JSON answers; for others (a photo) the bytes. */
  json: unknown;
  bytes: Buffer | null;
}

export interface BatchRequest {
  id: string;
  /** Below /v1.0/users/{user}, e.g. `contacts/{id}/photo/$value`. */
  path: string;
  headers?: Record<string, string>;
  /** GET unless named. */
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** A JSON body (content-type application/json is added). */
  body?: unknown;
  /** A body that is not JSON (a photo), with its content type; sent base64-encoded (graph/json-batching). */
  bytes?: Buffer;
  contentType?: string;
}

/** A write outside a batch. */
export interface WriteOptions {
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as they are, with `contentType` (a photo). */
  bytes?: Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

/** A counting semaphore per mailbox (shared by every endpoint of this process for that mailbox). */
class MailboxSlots {
  private active = 0;
  private readonly waiting: { weight: number; go: () => void }[] = [];

  async acquire(weight: number): Promise<() => void> {
    if (this.active + weight > MAILBOX_CONCURRENCY || this.waiting.length > 0) {
      await new Promise<void>((go) => this.waiting.push({ weight, go }));
    } else this.active += weight;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= weight;
      while (this.waiting.length > 0 && this.active + this.waiting[0]!.weight <= MAILBOX_CONCURRENCY) {
        const next = this.waiting.shift()!;
        this.active += next.weight;
        next.go();
      }
    };
  }
}

const slotsByMailbox = new Map<string, MailboxSlots>();

function slotsFor(origin: string, user: string): MailboxSlots {
  const key = `${origin}|${user.toLowerCase()}`;
  let slots = slotsByMailbox.get(key);
  if (!slots) {
    slots = new MailboxSlots();
    slotsByMailbox.set(key, slots);
  }
  return slots;
}

/** Graph's error JSON as one scrubbed line. */
function errorText(json: unknown, text: string, secrets: string[]): string {
  const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (error && typeof error === 'object') {
    const code = typeof error.code === 'string' ? scrub(error.code, secrets, 80) : '-';
    const message = typeof error.message === 'string' ? scrub(error.message, secrets) : '';
    return `${code}: ${message}`;
  }
  return scrub(text, secrets, 120);
}

export class GraphClient {
  readonly origin: string;
  /** https://…/v1.0/users/{user} */
  readonly userUrl: string;
  private readonly slots: MailboxSlots;
  private readonly maxWait: number;
  private token: string | null = null;
  /** HTTP requests sent (a $batch is one; a request sent again after a 429 counts again). */
  requestCount = 0;
  /** Requests carried inside $batch requests. */
  subRequestCount = 0;

  constructor(private readonly connection: GraphConnection) {
    const base = httpsBase(connection.graphBaseUrl, 'Microsoft Graph base URL');
    if (connection.user === '' || connection.user.length > 320 || /[\s\x00-\x1f\x7f/]/.test(connection.user)) {
      throw new ConnectorError('groupware_not_found', `${JSON.stringify(connection.user.slice(0, 80))} is not a user principal name`);
    }
    this.origin = new URL(base).origin;
    this.userUrl = `${base}/v1.0/users/${encodeURIComponent(connection.user)}`;
    this.slots = slotsFor(this.origin, connection.user);
    this.maxWait = connection.maxRetryAfterSeconds ?? MAX_RETRY_AFTER_SECONDS;
  }

  get user(): string {
    return this.connection.user;
  }

  /** GET of a path below the user (or a nextLink); 404 is answered, other failures thrown. */
  async get(pathOrUrl: string, what: string, headers: Record<string, string> = {}): Promise<GraphAnswer> {
    const url = pathOrUrl.startsWith('https://') ? graphNextLink(pathOrUrl, this.origin, `Graph ${what} of ${this.user}`) : `${this.userUrl}/${pathOrUrl}`;
    return this.send('GET', url, what, headers, undefined, 1);
  }

  /**
   * POST / PATCH / PUT / DELETE of a path below the user. Throttled answers (429 / 503) are
   * waited for and sent again, as Graph did not carry them out; a dropped connection is not:
   * whether a POST was carried out is then unknown, and the caller decides. Answers of 400 and
   * above other than 401 / 403 / 429 / 503 are returned, for the caller to judge.
   */
  async write(method: 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, what: string, options: WriteOptions = {}): Promise<GraphAnswer> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Buffer | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.bytes) {
      headers['content-type'] = options.contentType ?? 'application/octet-stream';
      body = options.bytes;
    }
    return this.send(method, `${this.userUrl}/${path}`, what, headers, body, 1, true);
  }

  /** Every entry of an OData collection, following @odata.nextLink. */
  async all(path: string, what: string, headers: Record<string, string> = {}): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    const seen = new Set<string>();
    let next: string | undefined = path;
    for (let page = 0; next !== undefined; page++) {
      if (page >= MAX_PAGES) throw new ConnectorError('protocol_error', `Graph ${what} of ${this.user}: more than ${MAX_PAGES} pages`);
      const answer = await this.get(next, what, headers);
      if (answer.status !== 200) throw this.failure(answer, what);
      const { value, nextLink } = odataPage(answer.json, `Graph ${what} of ${this.user}`);
      items.push(...value);
      if (nextLink !== undefined) {
        if (seen.has(nextLink)) throw new ConnectorError('protocol_error', `Graph ${what} of ${this.user}: @odata.nextLink repeats an earlier page`);
        seen.add(nextLink);
      }
      next = nextLink;
    }
    return items;
  }

  /**
   * Requests below the user through $batch, at most 4 in one batch and without dependsOn: Graph
   * runs a batch's independent requests at once, and batching does not lift the mailbox's 4
   * concurrent requests (graph/throttling, "Throttling and batching"), so a batch holds as many
   * of the mailbox's slots as it carries requests. A request answered 429 / 503 inside the batch goes again after its
   * Retry-After (a throttled write was not carried out, so it goes again too). Answers by id;
   * a 404 is an answer, not a failure, and so is any other status of a sub-request.
   */
  async batch(requests: BatchRequest[], what: string): Promise<Map<string, GraphAnswer>> {
    const answers = new Map<string, GraphAnswer>();
    let pending = [...requests];
    for (let round = 1; pending.length > 0; round++) {
      const chunks: BatchRequest[][] = [];
      for (let i = 0; i < pending.length; i += MAILBOX_CONCURRENCY) chunks.push(pending.slice(i, i + MAILBOX_CONCURRENCY));
      const again: BatchRequest[] = [];
      let wait = 0;
      for (const chunk of chunks) {
        const body = JSON.stringify({
          requests: chunk.map((r) => ({
            id: r.id,
            method: r.method ?? 'GET',
            url: `/users/${encodeURIComponent(this.user)}/${r.path}`,
            headers: { ...(r.headers ?? {}), ...(r.body !== undefined ? { 'content-type': 'application/json' } : r.bytes ? { 'content-type': r.contentType ?? 'application/octet-stream' } : {}) },
            ...(r.body !== undefined ? { body: r.body } : r.bytes ? { body: r.bytes.toString('base64') } : {}),
          })),
        });
        this.subRequestCount += chunk.length;
        const answer = await this.send('POST', `${this.origin}/v1.0/$batch`, what, { 'content-type': 'application/json' }, body, chunk.length);
        if (answer.status !== 200) throw this.failure(answer, what);
        const responses = (answer.json as { responses?: unknown } | undefined)?.responses;
        if (!Array.isArray(responses)) throw new ConnectorError('protocol_error', `Graph ${what} of ${this.user}: the batch answer has no responses`);
        const byId = new Map<string, Record<string, unknown>>();
        for (const r of responses as Record<string, unknown>[]) if (r && typeof r === 'object' && typeof r.id === 'string') byId.set(r.id, r);
        for (const request of chunk) {
          const response = byId.get(request.id);
          if (!response) throw new ConnectorError('protocol_error', `Graph ${what} of ${this.user}: the batch answer lacks request ${request.id}`);
          const status = Number(response.status);
          const headers = Object.fromEntries(Object.entries((response.headers ?? {}) as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), String(v)]));
          if (status === 429 || status === 503) {
            const seconds = retryAfterSeconds(headers['retry-after'] ?? null) ?? DEFAULT_WAIT_SECONDS;
            if (seconds > this.maxWait) throw new ConnectorError('rate_limited', `Graph ${what} of ${this.user}: asked to wait ${seconds} s (status ${status})`);
            if (round >= MAX_TRIES) throw new ConnectorError('rate_limited', `Graph ${what} of ${this.user}: still throttled after ${round} tries (status ${status})`);
            wait = Math.max(wait, seconds);
            again.push(request);
            continue;
          }
          answers.set(request.id, batchAnswer(status, headers, response.body));
        }
      }
      if (again.length > 0) await this.pause(wait, what);
      pending = again;
    }
    return answers;
  }

  /** A ConnectorError for an answer the caller cannot use. */
  failure(answer: GraphAnswer, what: string): ConnectorError {
    const facts = `HTTP ${answer.status} ${errorText(answer.json, answer.bytes?.toString('utf8').slice(0, 500) ?? '', this.secrets())} (request-id ${answer.headers['request-id'] ?? '-'})`;
    if (answer.status === 401) return new ConnectorError('not_configured', `Graph rejected the app token for ${what} of ${this.user}: ${facts}`);
    if (answer.status === 403) return new ConnectorError('not_configured', `the Microsoft 365 app may not read ${what} of ${this.user}: ${facts}`);
    if (answer.status === 404) return new ConnectorError('groupware_not_found', `Graph ${what} of ${this.user}: not found (${facts})`);
    return new ConnectorError('protocol_error', `Graph ${what} of ${this.user}: ${facts}`);
  }

  private secrets(): string[] {
    return this.token ? [this.token] : [];
  }

  private async pause(seconds: number, what: string): Promise<void> {
    await delay(seconds * 1000, this.connection.signal).catch((error: unknown) => {
      throw fetchFailure(error, `Graph ${what} of ${this.user}`, this.connection.signal);
    });
  }

  private async send(method: string, url: string, what: string, headers: Record<string, string>, body: string | Buffer | undefined, weight: number, answerFailures = false): Promise<GraphAnswer> {
    const where = `Graph ${what} of ${this.user}`;
    let renewed = false;
    for (let attempt = 1; ; attempt++) {
      this.token ??= await this.connection.token({ renewed });
      const release = await this.slots.acquire(weight);
      let answer: GraphAnswer;
      this.requestCount++;
      try {
        const response = await this.connection.fetch(url, {
          method,
          headers: { accept: 'application/json', ...headers, authorization: `Bearer ${this.token}`, 'client-request-id': randomUUID() },
          body: body as BodyInit | undefined,
          // fetch would replay the Authorization header on a redirect; Graph does not redirect these.
          redirect: 'manual',
          // A signal of its own per request: fetch leaves an abort listener on the signal it is
          // given, and thousands of requests on the copy's one signal would pile them up.
          signal: this.connection.signal ? AbortSignal.any([this.connection.signal]) : undefined,
        });
        const text = await readBody(response, BODY_LIMIT, where);
        const type = response.headers.get('content-type') ?? '';
        answer = {
          status: response.status,
          headers: Object.fromEntries([...response.headers].map(([k, v]) => [k.toLowerCase(), v])),
          json: type.includes('json') ? parseJson(text) : undefined,
          bytes: type.includes('json') ? null : Buffer.from(text, 'utf8'),
        };
      } catch (error) {
        throw fetchFailure(error, where, this.connection.signal);
      } finally {
        release();
      }
      if (answer.status === 401 && !renewed) {
        renewed = true;
        this.token = null;
        continue;
      }
      if (answer.status === 429 || answer.status === 503) {
        const seconds = retryAfterSeconds(answer.headers['retry-after'] ?? null) ?? DEFAULT_WAIT_SECONDS * 2 ** (attempt - 1);
        if (seconds > this.maxWait) throw new ConnectorError('rate_limited', `${where}: asked to wait ${seconds} s (status ${answer.status})`);
        if (attempt >= MAX_TRIES) throw new ConnectorError('rate_limited', `${where}: still throttled after ${attempt} tries (status ${answer.status})`);
        await this.pause(seconds, what);
        continue;
      }
      if (answer.status >= 400 && answer.status !== 404 && (!answerFailures || answer.status === 401 || answer.status === 403)) throw this.failure(answer, what);
      return answer;
    }
  }
}

/** A batched answer: JSON bodies as they are; others (a photo) arrive base64-encoded (graph/json-batching). */
function batchAnswer(status: number, headers: Record<string, string>, body: unknown): GraphAnswer {
  const type = headers['content-type'] ?? '';
  if (typeof body === 'string' && !type.includes('json')) return { status, headers, json: undefined, bytes: Buffer.from(body, 'base64') };
  return { status, headers, json: body, bytes: null };
}

