/**
 * A stand-in for the Microsoft cloud the office365 connector talks to, built from the public
 * documentation, since none of it runs outside Microsoft:
 *
 * - the identity platform's v2.0 token endpoint, client-credentials grant only
 *   (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow), with
 *   AAD's error JSON and status codes (learn.microsoft.com/entra/identity-platform/reference-error-codes);
 * - Microsoft Graph v1.0 for mailboxes: calendars and events (recurrence, exceptions,
 *   attachments, time zones), contact folders and contacts (+ photo), To Do lists and tasks,
 *   extended properties, $batch, OData paging, Graph's error JSON and the Outlook service's
 *   throttling (microsoft-server/graph.ts, where every behaviour names its documentation page);
 * - startExchangeImap(): Exchange Online's IMAP endpoint, played by a private Dovecot whose
 *   oauth2 passdb asks this server whether a token may open a mailbox.
 *
 * Identity platform and Graph listen on two ports (two origins, as in production), HTTPS with
 * a throw-away CA. Tokens are RS256 JWTs shaped like AAD's v1 app-only tokens; clients must
 * treat them as opaque, the server checks signature, audience, lifetime and roles.
 */
import { generateKeyPair, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';
import { ensureDebianPackage, spawnDaemon, tail, type Daemon } from './child-process';
import { mailOwner, type MailOwner } from './dovecot';
import { freePorts } from './free-port';
import { GraphApi, type GroupwareSeed, type RequestCounts, type SeededIds, type SentMail, type ThrottleSwitch } from './microsoft-server/graph';
import { stableGuid } from './microsoft-server/ids';

export type { GroupwareSeed, RequestCounts, SeededIds, SentMail, ThrottleSwitch } from './microsoft-server/graph';
import { createTestCertificates } from './test-certificates';

/** Resources an app can ask a token for, by application id URI and by first-party app id. */
export const MICROSOFT_RESOURCES = {
  graph: { uri: 'https://graph.microsoft.com', appId: '00000003-0000-0000-c000-000000000000' },
  exchange: { uri: 'https://outlook.office365.com', appId: '00000002-0000-0ff1-ce00-000000000000' },
} as const;
export type MicrosoftResource = keyof typeof MICROSOFT_RESOURCES;

/** Application permissions (app roles) the test server knows, with the resource that defines each. */
export const APP_ROLES = {
  'Calendars.Read': 'graph',
  'Calendars.ReadWrite': 'graph',
  'Contacts.Read': 'graph',
  'Contacts.ReadWrite': 'graph',
  'Tasks.Read.All': 'graph',
  'Tasks.ReadWrite.All': 'graph',
  'User.Read.All': 'graph',
  'IMAP.AccessAsApp': 'exchange',
  full_access_as_app: 'exchange',
} as const satisfies Record<string, MicrosoftResource>;
export type AppRole = keyof typeof APP_ROLES;

export interface MicrosoftApp {
  clientId: string;
  /** A valid client secret value. */
  clientSecret: string;
  /** Secret values that exist but have expired (AADSTS7000222). */
  expiredSecrets?: string[];
  displayName?: string;
  /** Admin-consented application permissions, Graph and Exchange Online mixed. Read on every request. */
  roles: AppRole[];
  /** Disabled service principal (AADSTS7000112). */
  disabled?: boolean;
}

export interface MicrosoftUser {
  userPrincipalName: string;
  /** Object id; derived from the UPN when left out. */
  id?: string;
  displayName?: string;
  /** 'none': no Exchange Online licence, so Graph answers MailboxNotEnabledForRESTAPI. Default 'exchange'. */
  mailbox?: 'exchange' | 'none';
  /** Calendars besides the default "Calendar". */
  calendars?: string[];
  /** Folders below the default Contacts folder (what GET /contactFolders lists). */
  contactFolders?: string[];
  /** Display names of contacts in the default Contacts folder. */
  contacts?: string[];
  /** To Do lists besides the default "Tasks". */
  todoLists?: string[];
}

export interface MicrosoftTenant {
  /** Directory (tenant) id, a GUID. */
  id: string;
  /** Verified domains; the token endpoint accepts any of them in place of the id. The first is primary. */
  domains: string[];
  displayName?: string;
  apps: MicrosoftApp[];
  users: MicrosoftUser[];
}

export interface MicrosoftServerConfig {
  tenants: MicrosoftTenant[];
  /** Items per Graph page when the client sends no $top. Graph's default for these lists is 10. */
  pageSize?: number;
  /** expires_in of issued tokens. AAD issues 3599 (60-90 minutes with its own jitter). */
  tokenLifetimeSeconds?: number;
  /** Delay of every Graph mailbox request while it holds its concurrency slot. Default 0. */
  graphLatencyMs?: number;
  /** Concurrent requests per app per mailbox (graph/throttling-limits, Outlook service: 4). */
  mailboxConcurrency?: number;
  /** Requests per app per mailbox in 10 minutes (graph/throttling-limits, Outlook service: 10,000). */
  mailboxRequestLimit?: number;
}

export interface RecordedRequest {
  origin: 'login' | 'graph';
  method: string;
  /** Path and query as received. */
  path: string;
  status: number;
  /** Token requests: the form fields except client_secret. */
  form?: Record<string, string>;
}

export interface Fault {
  origin?: 'login' | 'graph';
  /** Substring of, or pattern for, the request path (with query). */
  path: string | RegExp;
  status: number;
  /** Retry-After header value, as sent. */
  retryAfter?: string;
  /** Raw body instead of the origin's usual error JSON (e.g. an HTML error page). */
  body?: string;
  /** How many matching requests fail. Default 1. */
  times?: number;
}

export interface IssueTokenOptions {
  tenantId: string;
  clientId: string;
  resource: MicrosoftResource;
  /** Defaults to the app's consented roles on that resource. */
  roles?: string[];
  /** Seconds from now; negative for an already expired token. */
  lifetimeSeconds?: number;
}

export interface MicrosoftServer {
  /** Stands for https://login.microsoftonline.com. */
  authorityHost: string;
  /** Stands for https://graph.microsoft.com. */
  graphBaseUrl: string;
  /**
   * Test-only RFC 7662 introspection (POST `token=`), standing in for the token validation
   * Exchange Online does internally; startExchangeImap points Dovecot at it. Not a Microsoft API.
   */
  introspectionUrl: string;
  caCertPem: string;
  /** Every request both origins answered, in order. */
  requests: RecordedRequest[];
  /** Makes the next matching request(s) fail with the given status. */
  injectFault(fault: Fault): void;
  /** A token as the token endpoint would mint it, or a deliberately wrong one (expired, other audience). */
  issueToken(options: IssueTokenOptions): string;
  /** Meeting requests, updates and cancellations Exchange would have sent from this mailbox. */
  sentMail(user: string): SentMail[];
  /** Graph requests that reached this mailbox (batched ones each count), by kind. */
  requestsFor(user: string): RequestCounts;
  /** Graph requests now holding one of the mailbox's concurrency slots. */
  inFlight(user: string): number;
  /** The next N mailbox requests answer 429 (or 503) with Retry-After and Graph's error JSON. */
  throttle(options: ThrottleSwitch): void;
  /** Admitted mailbox requests wait until the returned function is called (to hold slots in a test). */
  holdGraph(): () => void;
  /** Puts calendars, events, contacts and tasks straight into a mailbox (no mail is sent, no request counted). */
  seed(user: string, data: GroupwareSeed): SeededIds;
  stop(): Promise<void>;
}

interface TokenClaims {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  appid: string;
  app_displayname: string;
  idtyp: 'app';
  oid: string;
  sub: string;
  tid: string;
  roles?: string[];
  ver: '1.0';
}

interface Context {
  config: MicrosoftServerConfig;
  graph?: GraphApi;
  requests: RecordedRequest[];
  faults: (Fault & { left: number })[];
  authorityHost: string;
  graphBaseUrl: string;
  keys: { privateKey: KeyObject; publicKey: KeyObject; kid: string };
}

const INTROSPECTION_PATH = '/_mailferry-test/exchange/introspect';

export async function startMicrosoftServer(config: MicrosoftServerConfig): Promise<MicrosoftServer> {
  for (const tenant of config.tenants) validateTenant(tenant);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-microsoft-'));
  const login = { server: undefined as Server | undefined };
  const graph = { server: undefined as Server | undefined };
  try {
    const certificates = await createTestCertificates(path.join(dir, 'tls'), ['localhost', '127.0.0.1']);
    const tls = { cert: await readFile(certificates.certPath), key: await readFile(certificates.keyPath) };
    const keys = await new Promise<{ privateKey: KeyObject; publicKey: KeyObject }>((resolve, reject) =>
      generateKeyPair('rsa', { modulusLength: 2048 }, (error, publicKey, privateKey) => (error ? reject(error) : resolve({ publicKey, privateKey }))),
    );
    const context: Context = {
      config,
      requests: [],
      faults: [],
      authorityHost: '',
      graphBaseUrl: '',
      keys: { ...keys, kid: randomUUID().replace(/-/g, '').slice(0, 27) },
    };
    login.server = createServer(tls, (req, res) => void respond(context, 'login', req, res));
    graph.server = createServer(tls, (req, res) => void respond(context, 'graph', req, res));
    context.authorityHost = `https://127.0.0.1:${await listen(login.server)}`;
    context.graphBaseUrl = `https://127.0.0.1:${await listen(graph.server)}`;
    const graphApi = new GraphApi({
      config,
      graphBaseUrl: () => context.graphBaseUrl,
      checkToken: (token) => checkToken(context, token, 'graph'),
      findTenant: (id) => findTenant(config, id),
    });
    context.graph = graphApi;

    let stopping: Promise<void> | undefined;
    return {
      authorityHost: context.authorityHost,
      graphBaseUrl: context.graphBaseUrl,
      introspectionUrl: `${context.authorityHost}${INTROSPECTION_PATH}`,
      caCertPem: certificates.caCertPem,
      requests: context.requests,
      injectFault(fault) {
        context.faults.push({ ...fault, left: fault.times ?? 1 });
      },
      issueToken(options) {
        const tenant = findTenant(config, options.tenantId);
        const app = tenant?.apps.find((a) => a.clientId.toLowerCase() === options.clientId.toLowerCase());
        if (!tenant || !app) throw new Error(`no app ${options.clientId} in tenant ${options.tenantId}`);
        return mintToken(context, tenant, app, options.resource, options.roles, options.lifetimeSeconds);
      },
      sentMail: (user) => graphApi.sentMail(user),
      requestsFor: (user) => graphApi.requestsFor(user),
      inFlight: (user) => graphApi.inFlight(user),
      throttle: (options) => graphApi.throttle(options),
      holdGraph: () => graphApi.hold(),
      seed: (user, data) => graphApi.seed(user, data),
      stop() {
        stopping ??= (async () => {
          await Promise.all([close(login.server), close(graph.server)]);
          await rm(dir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (error) {
    await Promise.all([close(login.server), close(graph.server)]);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function validateTenant(tenant: MicrosoftTenant): void {
  if (!GUID.test(tenant.id)) throw new Error(`tenant id ${tenant.id} is not a GUID`);
  for (const app of tenant.apps) if (!GUID.test(app.clientId)) throw new Error(`client id ${app.clientId} is not a GUID`);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Port 0: the kernel picks a free port and we bind it in the same step, so no race.
    server.listen({ port: 0, host: '127.0.0.1' }, () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    // undici keeps connections alive; close() alone would wait for them to idle out.
    server.closeAllConnections();
  });
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function findTenant(config: MicrosoftServerConfig, idOrDomain: string): MicrosoftTenant | undefined {
  const key = idOrDomain.toLowerCase();
  return config.tenants.find((t) => t.id.toLowerCase() === key || t.domains.some((d) => d.toLowerCase() === key));
}

async function readRequestBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function respond(context: Context, origin: 'login' | 'graph', req: IncomingMessage, res: ServerResponse): Promise<void> {
  const record: RecordedRequest = { origin, method: req.method ?? 'GET', path: req.url ?? '/', status: 0 };
  context.requests.push(record);
  res.on('finish', () => {
    record.status = res.statusCode;
  });
  try {
    const fault = context.faults.find((f) => f.left > 0 && (f.origin ?? origin) === origin && (typeof f.path === 'string' ? record.path.includes(f.path) : f.path.test(record.path)));
    if (fault) {
      fault.left--;
      // Drain the body so the client's request completes before we answer.
      await readRequestBody(req).catch(() => '');
      sendFault(res, origin, fault, req);
      return;
    }
    if (origin === 'login') await handleLogin(context, req, res, record);
    else await context.graph!.handle(req, res);
  } catch (error) {
    if (!res.headersSent) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`test server error: ${error instanceof Error ? error.message : String(error)}`);
    } else {
      res.destroy();
    }
  }
}

function sendFault(res: ServerResponse, origin: 'login' | 'graph', fault: Fault, req: IncomingMessage): void {
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
  if (fault.body !== undefined) {
    res.writeHead(fault.status, { ...headers, 'content-type': 'text/html; charset=utf-8' });
    res.end(fault.body);
    return;
  }
  if (origin === 'graph') {
    const code = fault.status === 429 ? 'TooManyRequests' : fault.status === 503 ? 'ServiceNotAvailable' : 'InternalServerError';
    const message = fault.status === 429 ? 'Too many requests, please try again later.' : 'The service is temporarily unavailable.';
    graphError(res, req, fault.status, code, message, headers);
    return;
  }
  sendAadError(res, req, fault.status, fault.status === 429 ? 'temporarily_unavailable' : 'server_error', 90033, 'A transient error has occurred. Please try again.', headers);
}

// ----- identity platform -----------------------------------------------------------------

function aadTimestamp(date = new Date()): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** AAD's OAuth error body: RFC 6749 fields plus error_codes, trace and correlation ids. */
function sendAadError(
  res: ServerResponse,
  req: IncomingMessage,
  status: number,
  error: string,
  code: number,
  description: string,
  headers: Record<string, string> = {},
): void {
  const traceId = randomUUID();
  const correlationId = headerValue(req, 'client-request-id') ?? randomUUID();
  const timestamp = aadTimestamp();
  const body = {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`.replace(
      / (Trace ID|Correlation ID|Timestamp): /g,
      '\r\n$1: ',
    ),
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  };
  sendJson(res, status, body, { ...headers, 'cache-control': 'no-store, no-cache', pragma: 'no-cache', 'x-ms-request-id': traceId });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, contentType = 'application/json; charset=utf-8'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function handleLogin(context: Context, req: IncomingMessage, res: ServerResponse, record: RecordedRequest): Promise<void> {
  const url = new URL(req.url ?? '/', context.authorityHost);
  if (url.pathname === INTROSPECTION_PATH) {
    await handleIntrospection(context, req, res);
    return;
  }
  const match = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
  if (!match?.[1]) {
    res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<html><body>Not found</body></html>');
    return;
  }
  const tenantSegment = decodeURIComponent(match[1]);
  const tenant = findTenant(context.config, tenantSegment);
  if (!tenant) {
    const bad = !GUID.test(tenantSegment) && !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(tenantSegment);
    if (bad) {
      sendAadError(res, req, 400, 'invalid_request', 900023, `Specified tenant identifier '${tenantSegment}' is neither a valid DNS name, nor a valid external domain.`);
    } else {
      sendAadError(
        res,
        req,
        400,
        'invalid_request',
        90002,
        `Tenant '${tenantSegment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
      );
    }
    return;
  }
  if (req.method !== 'POST') {
    sendAadError(res, req, 400, 'invalid_request', 900561, `The endpoint only accepts POST, OPTIONS requests. Received a ${req.method ?? 'GET'} request.`);
    return;
  }
  const body = await readRequestBody(req);
  const isForm = (headerValue(req, 'content-type') ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
  const form = new URLSearchParams(isForm ? body : '');
  record.form = Object.fromEntries([...form].filter(([name]) => name !== 'client_secret'));
  const missing = (name: string) => sendAadError(res, req, 400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);

  const grantType = form.get('grant_type');
  if (!grantType) return missing('grant_type');
  if (grantType !== 'client_credentials') {
    sendAadError(res, req, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
    return;
  }
  const clientId = form.get('client_id');
  if (!clientId) return missing('client_id');
  if (!GUID.test(clientId)) {
    sendAadError(res, req, 400, 'unauthorized_client', 700038, `${clientId} is not a valid application identifier.`);
    return;
  }
  const app = tenant.apps.find((a) => a.clientId.toLowerCase() === clientId.toLowerCase());
  if (!app) {
    sendAadError(
      res,
      req,
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant.displayName ?? tenant.domains[0] ?? tenant.id}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
    return;
  }
  const scope = form.get('scope');
  if (!scope) return missing('scope');
  const secret = form.get('client_secret');
  if (!secret) {
    sendAadError(res, req, 401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    return;
  }
  if (app.expiredSecrets?.includes(secret)) {
    sendAadError(res, req, 401, 'invalid_client', 7000222, `The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`);
    return;
  }
  if (secret !== app.clientSecret) {
    sendAadError(res, req, 401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`);
    return;
  }
  if (app.disabled) {
    sendAadError(res, req, 400, 'unauthorized_client', 7000112, `Application '${app.clientId}'(${app.displayName ?? 'app'}) is disabled.`);
    return;
  }
  const scopeMatch = /^(\S+)\/\.default$/.exec(scope);
  if (!scopeMatch?.[1]) {
    sendAadError(res, req, 400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    return;
  }
  const resourceName = scopeMatch[1].toLowerCase();
  const resource = (Object.keys(MICROSOFT_RESOURCES) as MicrosoftResource[]).find(
    (r) => MICROSOFT_RESOURCES[r].uri === resourceName || MICROSOFT_RESOURCES[r].appId === resourceName,
  );
  if (!resource) {
    sendAadError(res, req, 400, 'invalid_resource', 500011, `The resource principal named ${scopeMatch[1]} was not found in the tenant named ${tenant.displayName ?? tenant.id}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`);
    return;
  }
  const lifetime = context.config.tokenLifetimeSeconds ?? 3599;
  sendJson(
    res,
    200,
    { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: mintToken(context, tenant, app, resource, undefined, lifetime) },
    { 'cache-control': 'no-store, no-cache', pragma: 'no-cache', 'x-ms-request-id': randomUUID() },
  );
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

function mintToken(context: Context, tenant: MicrosoftTenant, app: MicrosoftApp, resource: MicrosoftResource, roles: string[] | undefined, lifetimeSeconds = 3599): string {
  const now = Math.floor(Date.now() / 1000);
  const granted = roles ?? app.roles.filter((role) => APP_ROLES[role] === resource);
  const servicePrincipal = stableGuid(`${tenant.id}/${app.clientId}`);
  const claims: TokenClaims = {
    aud: MICROSOFT_RESOURCES[resource].uri,
    iss: `https://sts.windows.net/${tenant.id}/`,
    iat: now,
    nbf: now,
    exp: now + lifetimeSeconds,
    appid: app.clientId,
    app_displayname: app.displayName ?? 'Mailferry',
    idtyp: 'app',
    oid: servicePrincipal,
    sub: servicePrincipal,
    tid: tenant.id,
    // AAD leaves the claim out, rather than sending [], when nothing is consented.
    ...(granted.length > 0 ? { roles: [...granted] } : {}),
    ver: '1.0',
  };
  const header = { typ: 'JWT', alg: 'RS256', kid: context.keys.kid, x5t: context.keys.kid };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${signingInput}.${b64url(sign('sha256', Buffer.from(signingInput), context.keys.privateKey))}`;
}

type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; message: string };

function checkToken(context: Context, token: string, resource: MicrosoftResource): TokenCheck {
  const parts = token.split('.');
  const [header, payload, signature] = parts;
  if (parts.length !== 3 || !header || !payload || !signature) return { ok: false, message: 'CompactToken parsing failed with error code: 80049217' };
  const valid = verify('sha256', Buffer.from(`${header}.${payload}`), context.keys.publicKey, Buffer.from(signature, 'base64url'));
  if (!valid) return { ok: false, message: 'Access token validation failure. Signature is invalid.' };
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    return { ok: false, message: 'CompactToken parsing failed with error code: 80049217' };
  }
  const wanted = MICROSOFT_RESOURCES[resource];
  if (claims.aud !== wanted.uri && claims.aud !== wanted.appId) return { ok: false, message: 'Access token validation failure. Invalid audience.' };
  const now = Math.floor(Date.now() / 1000);
  if (claims.exp <= now) return { ok: false, message: 'Lifetime validation failed, the token is expired.' };
  if (claims.nbf > now + 300) return { ok: false, message: 'Lifetime validation failed, the token is not yet valid.' };
  if (!findTenant(context.config, claims.tid)) return { ok: false, message: 'Access token validation failure. Invalid issuer.' };
  return { ok: true, claims };
}

/**
 * What Exchange Online decides before it opens a mailbox for an app token, as an RFC 7662
 * answer Dovecot's oauth2 passdb understands: active only for a valid Exchange token; `scope`
 * carries the app roles (Dovecot requires IMAP.AccessAsApp there);
 * `mailbox_domain` is "*@<primary domain>", which Dovecot compares with the login's domain, since
 * an app token names no user and Dovecot cannot pass the login name to introspection.
 */
async function handleIntrospection(context: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    res.writeHead(405).end();
    return;
  }
  const token = new URLSearchParams(await readRequestBody(req)).get('token') ?? '';
  const check = checkToken(context, token, 'exchange');
  if (!check.ok) {
    sendJson(res, 200, { active: false });
    return;
  }
  const tenant = findTenant(context.config, check.claims.tid);
  sendJson(res, 200, {
    active: true,
    client_id: check.claims.appid,
    aud: check.claims.aud,
    tid: check.claims.tid,
    exp: check.claims.exp,
    scope: (check.claims.roles ?? []).join(' '),
    mailbox_domain: `*@${tenant?.domains[0] ?? 'invalid'}`,
  });
}

// ----- Microsoft Graph (faults only; the API is microsoft-server/graph.ts) ----------------

function graphError(res: ServerResponse, req: IncomingMessage, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  const requestId = randomUUID();
  const clientRequestId = headerValue(req, 'client-request-id') ?? requestId;
  sendJson(
    res,
    status,
    { error: { code, message, innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': requestId, 'client-request-id': clientRequestId } } },
    { ...headers, 'request-id': requestId, 'client-request-id': clientRequestId },
    'application/json',
  );
}

// ----- Exchange Online IMAP stand-in -------------------------------------------------------

const DOVECOT = '/usr/sbin/dovecot';

export interface ExchangeImapOptions {
  microsoft: MicrosoftServer;
  /** SASL mechanisms offered. Default ['xoauth2'], like outlook.office365.com (imapflow prefers OAUTHBEARER when offered). */
  mechanisms?: ('xoauth2' | 'oauthbearer')[];
  /** Dovecot's oauth2 and auth debug logging, for diagnosing a refused token. */
  debug?: boolean;
  startTimeoutMs?: number;
}

export interface ExchangeImapServer {
  host: '127.0.0.1';
  /** Implicit TLS only, as on outlook.office365.com:993. */
  port: number;
  caCertPem: string;
  logs(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A private Dovecot that plays outlook.office365.com:993: implicit TLS, SASL XOAUTH2 only, and
 * an oauth2 passdb that asks the Microsoft test server's introspection endpoint about every
 * token. Mailboxes are created on first login (static userdb), so any address of the tenant's
 * primary domain opens once the token is accepted. The rest of the setup mirrors
 * test/helpers/dovecot.ts (rootless support, no auth penalty, no chroot without root).
 */
export async function startExchangeImap(options: ExchangeImapOptions): Promise<ExchangeImapServer> {
  await ensureDebianPackage('dovecot-imapd', DOVECOT);
  const owner = await mailOwner();
  // Unix socket paths under base_dir are limited to 108 bytes: keep the folder short.
  const tmp = os.tmpdir().length > 40 ? '/tmp' : os.tmpdir();
  const rootDir = await mkdtemp(path.join(tmp, 'mailferry-exo-'));
  try {
    await chmod(rootDir, 0o755);
    const homeRoot = path.join(rootDir, 'home');
    await mkdir(homeRoot);
    await mkdir(path.join(rootDir, 'state'));
    if (process.getuid?.() === 0) await chown(homeRoot, owner.uid, owner.gid);
    const certificates = await createTestCertificates(path.join(rootDir, 'tls'), ['localhost', '127.0.0.1']);
    // Dovecot's auth process (user dovecot) verifies the introspection server against this CA.
    const microsoftCa = path.join(rootDir, 'microsoft-ca.crt');
    await writeFile(microsoftCa, options.microsoft.caCertPem, { mode: 0o644 });
    const oauth2Config = path.join(rootDir, 'oauth2.conf.ext');
    await writeFile(
      oauth2Config,
      [
        'introspection_mode = post',
        `introspection_url = ${options.microsoft.introspectionUrl}`,
        'username_attribute = mailbox_domain',
        // App tokens name no user: compare domains only (see handleIntrospection).
        'username_format = %Ld',
        'active_attribute = active',
        'active_value = true',
        // Exchange Online lets an app token log in to IMAP with this role only (full_access_as_app
        // is EWS). Dovecot 2.3 requires every scope listed here, so list exactly one.
        'scope = IMAP.AccessAsApp',
        `tls_ca_cert_file = ${microsoftCa}`,
        'timeout_msecs = 5000',
        `debug = ${options.debug ? 'yes' : 'no'}`,
        '',
      ].join('\n'),
      { mode: 0o644 },
    );

    const logPath = path.join(rootDir, 'dovecot.log');
    const configPath = path.join(rootDir, 'dovecot.conf');
    const mechanisms = options.mechanisms ?? ['xoauth2'];
    let daemon: Daemon | undefined;
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = (await freePorts(1))[0] ?? 0;
      await writeFile(configPath, exchangeImapConfig({ rootDir, port, owner, logPath, oauth2Config, mechanisms, certificates, debug: options.debug ?? false }));
      daemon = spawnDaemon(DOVECOT, ['-F', '-c', configPath], { outputFile: path.join(rootDir, 'master.out'), cwd: rootDir, removeOnExit: rootDir });
      const ready = await waitForTlsGreeting(daemon, logPath, port, certificates.caCertPem, options.startTimeoutMs ?? 15_000);
      if (ready === true) break;
      const log = `${await readFile(logPath, 'utf8').catch(() => '')}\n${await daemon.output()}`;
      await daemon.stop();
      if (/Address already in use/.test(log) && attempt < 3) continue;
      throw new Error(`Dovecot (Exchange IMAP stand-in) did not start (${ready}). Log tail:\n${tail(log)}`);
    }
    const running = daemon;
    let stopping: Promise<void> | undefined;
    return {
      host: '127.0.0.1',
      port,
      caCertPem: certificates.caCertPem,
      async logs() {
        return `${await readFile(logPath, 'utf8').catch(() => '')}\n${(await running.output()).trim()}`;
      },
      stop() {
        stopping ??= (async () => {
          await running.stop();
          await rm(rootDir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (error) {
    await rm(rootDir, { recursive: true, force: true });
    throw error;
  }
}


function exchangeImapConfig(input: {
  rootDir: string;
  port: number;
  owner: MailOwner;
  logPath: string;
  oauth2Config: string;
  mechanisms: readonly string[];
  certificates: { certPath: string; keyPath: string };
  debug: boolean;
}): string {
  const { rootDir, port, owner, logPath, oauth2Config, mechanisms, certificates } = input;
  if (/\s/.test(rootDir)) throw new Error(`Dovecot config paths may not contain spaces: ${rootDir}`);
  const noChroot = process.getuid?.() === 0 ? '' : '  # Rootless: chroot needs root.\n  chroot =\n';
  return `# Written by test/helpers/microsoft-server.ts (Exchange Online IMAP stand-in). Nothing from /etc/dovecot.
instance_name = mailferry-exo-${port}
base_dir = ${rootDir}/run
state_dir = ${rootDir}/state
log_path = ${logPath}
protocols = imap
listen = 127.0.0.1
default_internal_user = ${owner.internalUser}
default_internal_group = ${owner.internalGroup}
default_login_user = ${owner.loginUser}
first_valid_uid = ${owner.uid}
last_valid_uid = ${owner.uid}
first_valid_gid = ${owner.gid}
last_valid_gid = ${owner.gid}

ssl = required
ssl_cert = <${certificates.certPath}
ssl_key = <${certificates.keyPath}
disable_plaintext_auth = yes
auth_mechanisms = ${mechanisms.join(' ')}
auth_failure_delay = 0
auth_verbose = yes
auth_debug = ${input.debug ? 'yes' : 'no'}

mail_location = maildir:~/Maildir
mail_fsync = never

passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${oauth2Config}
}
userdb {
  driver = static
  args = uid=${owner.uid} gid=${owner.gid} home=${rootDir}/home/%Lu
}

namespace inbox {
  inbox = yes
  separator = /
}

protocol imap {
  mail_max_userip_connections = 100
}

service anvil {
  # No auth penalty for the refused-token tests (see test/helpers/dovecot.ts).
  unix_listener anvil-auth-penalty {
    mode = 0
  }
${noChroot}}

service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${port}
    ssl = yes
  }
${noChroot}}
`;
}

async function waitForTlsGreeting(daemon: Daemon, logPath: string, port: number, ca: string, timeoutMs: number): Promise<true | string> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no attempt';
  while (Date.now() < deadline) {
    if (daemon.hasExited()) {
      const { code, signal } = await daemon.exited;
      return `dovecot exited with ${signal ?? `code ${code}`}`;
    }
    const fatal = /: Fatal: .*/.exec(await readFile(logPath, 'utf8').catch(() => ''));
    if (fatal) return `a Dovecot process failed${fatal[0]}`;
    try {
      const greeting = await readTlsGreeting(port, ca, 2_000);
      return greeting.startsWith('* OK') ? true : `unexpected greeting ${JSON.stringify(greeting)}`;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
      await sleep(50);
    }
  }
  return `no greeting on 127.0.0.1:${port} within ${timeoutMs} ms (last error: ${lastError})`;
}

function readTlsGreeting(port: number, ca: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: [ca] });
    let buffer = '';
    const finish = (error: Error | null, line = '') => {
      socket.destroy();
      if (error) reject(error);
      else resolve(line);
    };
    socket.setTimeout(timeoutMs, () => finish(new Error(`timeout waiting for 127.0.0.1:${port}`)));
    socket.once('error', (error) => finish(error));
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      const end = buffer.indexOf('\r\n');
      if (end >= 0) finish(null, buffer.slice(0, end));
    });
    socket.once('end', () => finish(new Error(`127.0.0.1:${port} closed before greeting`)));
  });
}
