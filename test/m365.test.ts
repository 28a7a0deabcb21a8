import { ImapFlow, type ImapFlowError } from 'imapflow';
import { Agent, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkGraphMailbox, DEFAULT_CONTACTS_ID } from '../server/accounts/m365/graph';
import { imapOAuthFailure, xoauth2Options } from '../server/accounts/m365/imap-oauth';
import { acquireAppToken, clearAppTokenCache, EXCHANGE_ONLINE_SCOPE, GRAPH_SCOPE, type AppTokenRequest } from '../server/accounts/m365/oauth';
import { ConnectorError, type FailureReason, type FetchLike } from '../server/accounts/types';
import { freePorts } from './helpers/free-port';
import { startExchangeImap, startMicrosoftServer, type ExchangeImapServer, type MicrosoftServer, type MicrosoftTenant } from './helpers/microsoft-server';

const TENANT_ID = '6f1c2e4a-0b7d-4c1e-9a53-2d8e7f604b11';
const OTHER_TENANT_ID = 'c3a9d0e2-5f61-4b8a-8e27-91b4c6d2f0a7';
const APP = { clientId: '0e5d6c3b-8a21-4f7e-b0c9-4d2a1e3f5b66', clientSecret: 'Qx8~app.secret_value-0001' };
const NARROW_APP = { clientId: '1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d', clientSecret: 'Nq7~narrow.secret_value-0002' };
const MAIL_ONLY_APP = { clientId: '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a', clientSecret: 'Mo3~mailonly.secret-0003' };
const EXPIRED_SECRET = 'Ex9~expired.secret-0004';

const tenant: MicrosoftTenant = {
  id: TENANT_ID,
  domains: ['contoso.test', 'contoso.onmicrosoft.test'],
  displayName: 'Contoso',
  apps: [
    {
      ...APP,
      expiredSecrets: [EXPIRED_SECRET],
      roles: ['Calendars.ReadWrite', 'Contacts.ReadWrite', 'Tasks.ReadWrite.All', 'IMAP.AccessAsApp'],
    },
    { ...NARROW_APP, roles: ['Calendars.Read'] },
    { ...MAIL_ONLY_APP, roles: ['Calendars.Read', 'Contacts.Read', 'Tasks.Read.All'] },
  ],
  users: [
    {
      userPrincipalName: 'alice@contoso.test',
      displayName: 'Alice Example',
      calendars: ['Work', 'Family', 'Holidays'],
      contactFolders: ['Clients', 'Suppliers', 'Family'],
      contacts: ['Bob Builder', 'Carol Singer', 'Dan Diver'],
      todoLists: ['Groceries', 'Renovation'],
    },
    { userPrincipalName: 'unlicensed@contoso.test', mailbox: 'none' },
  ],
};
const otherTenant: MicrosoftTenant = {
  id: OTHER_TENANT_ID,
  domains: ['fabrikam.test'],
  apps: [],
  users: [{ userPrincipalName: 'erin@fabrikam.test' }],
};

/** Every secret and token a test handled; no error may ever show one. */
const secrets = new Set<string>([APP.clientSecret, NARROW_APP.clientSecret, MAIL_ONLY_APP.clientSecret, EXPIRED_SECRET, 'Wr0ng~secret-value-9999']);

function assertNoSecrets(error: unknown): void {
  const texts: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const { message, detail, cause } = e as { message?: unknown; detail?: unknown; cause?: unknown };
    texts.push(String(message ?? ''), String(detail ?? ''));
    e = cause;
  }
  for (const secret of secrets) {
    const forms = [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)];
    for (const text of texts) {
      for (const form of forms) expect(text.includes(form), `error text shows a secret: ${text}`).toBe(false);
    }
  }
}

async function connectorError(promise: Promise<unknown>, reason: FailureReason): Promise<ConnectorError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a ConnectorError').toBeInstanceOf(ConnectorError);
  const error = caught as ConnectorError;
  assertNoSecrets(error);
  expect({ reason: error.reason, detail: error.detail }).toMatchObject({ reason });
  return error;
}

const dispatchers: Agent[] = [];

/** fetch that trusts the test CA, the way the host policy's fetch trusts the system store. */
function trustingFetch(caCertPem: string): FetchLike {
  const dispatcher = new Agent({ connect: { ca: caCertPem } });
  dispatchers.push(dispatcher);
  return (input, init) => undiciFetch(input, { ...(init as UndiciRequestInit), dispatcher }) as unknown as Promise<Response>;
}

let microsoft: MicrosoftServer;
let fetch: FetchLike;

beforeAll(async () => {
  microsoft = await startMicrosoftServer({ tenants: [tenant, otherTenant], pageSize: 2 });
  fetch = trustingFetch(microsoft.caCertPem);
});

afterAll(async () => {
  await microsoft?.stop();
  await Promise.all(dispatchers.map((d) => d.close()));
});

afterEach(() => {
  clearAppTokenCache();
});

function tokenRequest(overrides: Partial<AppTokenRequest> = {}): AppTokenRequest {
  return { tenantId: TENANT_ID, ...APP, scope: GRAPH_SCOPE, authorityHost: microsoft.authorityHost, fetch, ...overrides };
}

async function appToken(overrides: Partial<AppTokenRequest> = {}): Promise<string> {
  const { accessToken } = await acquireAppToken(tokenRequest(overrides));
  secrets.add(accessToken);
  return accessToken;
}

const tokenRequests = () => microsoft.requests.filter((r) => r.origin === 'login' && r.path.includes('/oauth2/v2.0/token')).length;

describe('acquireAppToken', () => {
  it('gets a client-credentials token and caches it per tenant, app, scope and secret', async () => {
    const before = tokenRequests();
    const started = Date.now();
    const first = await acquireAppToken(tokenRequest());
    secrets.add(first.accessToken);
    expect(first.accessToken.split('.')).toHaveLength(3);
    expect(first.expiresAt.getTime()).toBeGreaterThanOrEqual(started + 3_590_000);
    expect(first.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 3_600_000);

    const sent = microsoft.requests.at(-1);
    expect(sent).toMatchObject({ method: 'POST', path: `/${TENANT_ID}/oauth2/v2.0/token`, status: 200 });
    expect(sent?.form).toEqual({ client_id: APP.clientId, scope: GRAPH_SCOPE, grant_type: 'client_credentials' });

    // Same app and scope, tenant id written differently: served from the cache.
    const again = await acquireAppToken(tokenRequest({ tenantId: TENANT_ID.toUpperCase() }));
    expect(again.accessToken).toBe(first.accessToken);
    expect(tokenRequests()).toBe(before + 1);

    // Another scope is another token.
    const exchange = await appToken({ scope: EXCHANGE_ONLINE_SCOPE });
    expect(exchange).not.toBe(first.accessToken);
    expect(tokenRequests()).toBe(before + 2);

    // A different secret must not be answered from the cache of the right one.
    await connectorError(acquireAppToken(tokenRequest({ clientSecret: 'Wr0ng~secret-value-9999' })), 'not_configured');
    expect(tokenRequests()).toBe(before + 3);
  });

  it('shares one request among concurrent callers and accepts a tenant domain', async () => {
    const before = tokenRequests();
    const tokens = await Promise.all(Array.from({ length: 5 }, () => acquireAppToken(tokenRequest({ tenantId: 'contoso.onmicrosoft.test' }))));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(tokenRequests()).toBe(before + 1);
    expect(microsoft.requests.at(-1)?.path).toBe('/contoso.onmicrosoft.test/oauth2/v2.0/token');
  });

  it('says which part of the connection is wrong', async () => {
    const wrongSecret = await connectorError(acquireAppToken(tokenRequest({ clientSecret: 'Wr0ng~secret-value-9999' })), 'not_configured');
    expect(wrongSecret.detail).toMatch(/client secret is wrong.*invalid_client AADSTS7000215/);
    expect(microsoft.requests.at(-1)?.status).toBe(401);

    const expired = await connectorError(acquireAppToken(tokenRequest({ clientSecret: EXPIRED_SECRET })), 'not_configured');
    expect(expired.detail).toMatch(/client secret has expired.*AADSTS7000222/);

    const unknownApp = await connectorError(acquireAppToken(tokenRequest({ clientId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' })), 'not_configured');
    expect(unknownApp.detail).toMatch(/application \(client id\) is not registered.*unauthorized_client AADSTS700016/);
    expect(microsoft.requests.at(-1)?.status).toBe(400);

    const unknownTenant = await connectorError(acquireAppToken(tokenRequest({ tenantId: 'dddddddd-0000-4000-8000-000000000000' })), 'not_configured');
    expect(unknownTenant.detail).toMatch(/tenant does not exist.*AADSTS90002/);
    const unknownDomain = await connectorError(acquireAppToken(tokenRequest({ tenantId: 'nowhere.example' })), 'not_configured');
    expect(unknownDomain.detail).toMatch(/AADSTS90002/);

    // A token for a resource the tenant does not have.
    const resource = await connectorError(acquireAppToken(tokenRequest({ scope: 'https://nothing.example/.default' })), 'not_configured');
    expect(resource.detail).toMatch(/AADSTS500011/);
  });

  it('refuses malformed ids before sending anything', async () => {
    const before = microsoft.requests.length;
    for (const tenantId of ['common', 'organizations', 'not a tenant', '6f1c2e4a-0b7d-4c1e-9a53', '']) {
      const error = await connectorError(acquireAppToken(tokenRequest({ tenantId })), 'not_configured');
      expect(error.detail).toMatch(/tenant id/);
    }
    const client = await connectorError(acquireAppToken(tokenRequest({ clientId: 'my-app' })), 'not_configured');
    expect(client.detail).toMatch(/client id "my-app" is not a GUID/);
    await connectorError(acquireAppToken(tokenRequest({ clientSecret: '' })), 'not_configured');
    await connectorError(acquireAppToken(tokenRequest({ authorityHost: microsoft.authorityHost.replace('https:', 'http:') })), 'not_configured');
    expect(microsoft.requests.length).toBe(before);
  });

  it('reports server failures and unparsable answers as protocol errors', async () => {
    microsoft.injectFault({ origin: 'login', path: '/oauth2/v2.0/token', status: 503 });
    const unavailable = await connectorError(acquireAppToken(tokenRequest()), 'protocol_error');
    expect(unavailable.detail).toMatch(/HTTP 503 server_error AADSTS90033/);

    microsoft.injectFault({ origin: 'login', path: '/oauth2/v2.0/token', status: 502, body: '<html><body>Bad gateway</body></html>' });
    const html = await connectorError(acquireAppToken(tokenRequest()), 'protocol_error');
    expect(html.detail).toMatch(/HTTP 502 without an OAuth error/);

    microsoft.injectFault({ origin: 'login', path: '/oauth2/v2.0/token', status: 200, body: '{"token_type":"Bearer"}' });
    await connectorError(acquireAppToken(tokenRequest()), 'protocol_error');

    // Failures are not cached: the next attempt asks again and succeeds.
    await appToken();
  });

  it('lets the host policy\'s ConnectorError through unchanged and maps socket failures', async () => {
    const blocked = new ConnectorError('blocked_host', 'login.microsoftonline.com resolves to a private address');
    const blockingFetch: FetchLike = () => Promise.reject(blocked);
    await expect(acquireAppToken(tokenRequest({ fetch: blockingFetch }))).rejects.toBe(blocked);

    const [closedPort] = await freePorts(1);
    await connectorError(acquireAppToken(tokenRequest({ authorityHost: `https://127.0.0.1:${closedPort}` })), 'connection_refused');

    // Node's own fetch does not trust the test CA.
    await connectorError(acquireAppToken(tokenRequest({ fetch: globalThis.fetch })), 'tls_error');
  });

  it('keeps the secret out of the error even when the server echoes it', async () => {
    const echoing: FetchLike = async (_input, init) => {
      const sent = new URLSearchParams(String(init?.body));
      const body = { error: 'invalid_request', error_description: `AADSTS900144: bad request ${sent.toString()}\r\nTrace ID: x`, error_codes: [900144] };
      return new Response(JSON.stringify(body), { status: 400, headers: { 'content-type': 'application/json' } });
    };
    const error = await connectorError(acquireAppToken(tokenRequest({ fetch: echoing })), 'protocol_error');
    expect(error.detail).toMatch(/AADSTS900144: bad request client_id=[^&]+&client_secret=\[redacted\]&/);

    const echoingHtml: FetchLike = async (_input, init) => new Response(`<pre>${String(init?.body)}</pre>`, { status: 500 });
    await connectorError(acquireAppToken(tokenRequest({ fetch: echoingHtml })), 'protocol_error');
  });

  it('stops waiting when the caller aborts', async () => {
    const controller = new AbortController();
    const hanging: FetchLike = () => new Promise<Response>(() => {});
    const pending = acquireAppToken(tokenRequest({ fetch: hanging, signal: controller.signal }));
    controller.abort(new ConnectorError('timed_out', 'check deadline'));
    await expect(pending).rejects.toMatchObject({ reason: 'timed_out', detail: 'check deadline' });
  });
});

describe('checkGraphMailbox', () => {
  const check = (token: string, user = 'alice@contoso.test', overrides: { fetch?: FetchLike; signal?: AbortSignal } = {}) =>
    checkGraphMailbox({ user, token, graphBaseUrl: microsoft.graphBaseUrl, fetch, ...overrides });

  it('lists calendars, contact folders and To Do lists across pages', async () => {
    const token = await appToken();
    const firstRequest = microsoft.requests.length;
    const report = await check(token);
    expect(report.protocol).toBe('graph');
    expect(report.capabilities).toEqual(['4 calendars', '4 contact folders', '3 task lists']);
    const byKind = (kind: string) => report.collections.filter((c) => c.kind === kind).map((c) => c.name);
    expect(byKind('calendar')).toEqual(['Calendar', 'Work', 'Family', 'Holidays']);
    expect(byKind('contacts')).toEqual(['Contacts', 'Clients', 'Suppliers', 'Family']);
    expect(byKind('tasks')).toEqual(['Tasks', 'Groceries', 'Renovation']);
    expect(report.collections.find((c) => c.name === 'Contacts')?.id).toBe(DEFAULT_CONTACTS_ID);
    expect(new Set(report.collections.map((c) => c.id)).size).toBe(report.collections.length);

    // pageSize 2: every list of 3 or 4 items took two pages, each via @odata.nextLink.
    const graphPaths = microsoft.requests.slice(firstRequest).map((r) => r.path);
    const user = 'alice%40contoso.test';
    expect(graphPaths).toEqual([
      `/v1.0/users/${user}/calendars?$select=id,name`,
      `/v1.0/users/${user}/calendars?$select=id%2Cname&$skip=2`,
      `/v1.0/users/${user}/contacts?$top=1&$select=id`,
      `/v1.0/users/${user}/contactFolders?$select=id,displayName`,
      `/v1.0/users/${user}/contactFolders?$select=id%2CdisplayName&$skip=2`,
      `/v1.0/users/${user}/todo/lists`,
      expect.stringMatching(new RegExp(`^/v1\\.0/users/${user}/todo/lists\\?\\$skiptoken=`)),
    ]);
  });

  it('reports a user the tenant does not know, or one without a mailbox', async () => {
    const token = await appToken();
    const unknown = await connectorError(check(token, 'nobody@contoso.test'), 'groupware_not_found');
    expect(unknown.detail).toMatch(/not a user of the tenant.*404 ErrorInvalidUser/);

    const unlicensed = await connectorError(check(token, 'unlicensed@contoso.test'), 'groupware_not_found');
    expect(unlicensed.detail).toMatch(/no Exchange Online mailbox.*MailboxNotEnabledForRESTAPI/);

    // A user of another tenant is unknown to this tenant's app.
    await connectorError(check(token, 'erin@fabrikam.test'), 'groupware_not_found');
  });

  it('names every permission the app lacks', async () => {
    const token = await appToken({ ...NARROW_APP });
    const error = await connectorError(check(token), 'not_configured');
    expect(error.detail).toMatch(/may not read contacts \(Contacts\.Read or Contacts\.ReadWrite; Graph said HTTP 403 ErrorAccessDenied/);
    expect(error.detail).toMatch(/task lists \(Tasks\.Read\.All or Tasks\.ReadWrite\.All/);
    expect(error.detail).not.toMatch(/Calendars/);
  });

  it('refuses a bad, expired or wrong-audience token without showing it', async () => {
    const garbage = 'eyJhbGciOiJub25lIn0.not-a-token.at-all';
    secrets.add(garbage);
    const bad = await connectorError(check(garbage), 'not_configured');
    expect(bad.detail).toMatch(/rejected the app token.*401 InvalidAuthenticationToken/);

    const expired = microsoft.issueToken({ tenantId: TENANT_ID, clientId: APP.clientId, resource: 'graph', lifetimeSeconds: -60 });
    secrets.add(expired);
    expect((await connectorError(check(expired), 'not_configured')).detail).toMatch(/token is expired/);

    const exchangeToken = await appToken({ scope: EXCHANGE_ONLINE_SCOPE });
    expect((await connectorError(check(exchangeToken), 'not_configured')).detail).toMatch(/Invalid audience/);
  });

  it('waits once for a short Retry-After, then gives up', async () => {
    const token = await appToken();
    microsoft.injectFault({ origin: 'graph', path: '/calendars', status: 429, retryAfter: '1' });
    const started = Date.now();
    const report = await check(token);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(report.capabilities[0]).toBe('4 calendars');

    microsoft.injectFault({ origin: 'graph', path: '/calendars', status: 503, retryAfter: '1', times: 2 });
    const twice = await connectorError(check(token), 'protocol_error');
    expect(twice.detail).toMatch(/still throttled.*HTTP 503 ServiceNotAvailable/);

    // Longer than a check may wait: no waiting at all.
    microsoft.injectFault({ origin: 'graph', path: '/calendars', status: 429, retryAfter: '120' });
    const startedLong = Date.now();
    const long = await connectorError(check(token), 'protocol_error');
    expect(Date.now() - startedLong).toBeLessThan(900);
    expect(long.detail).toMatch(/Retry-After 120 s/);
  });

  it('passes the host policy\'s ConnectorError through and never follows a foreign nextLink', async () => {
    const token = await appToken();
    const blocked = new ConnectorError('blocked_host', 'graph.microsoft.com is not allowed');
    await expect(check(token, 'alice@contoso.test', { fetch: () => Promise.reject(blocked) })).rejects.toBe(blocked);

    const visited: string[] = [];
    const redirecting: FetchLike = async (input) => {
      visited.push(String(input));
      const body = { value: [{ id: 'AAMk1', name: 'Calendar' }], '@odata.nextLink': 'https://collector.example/v1.0/users/alice/calendars?$skip=1' };
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const error = await connectorError(check(token, 'alice@contoso.test', { fetch: redirecting }), 'protocol_error');
    expect(error.detail).toMatch(/nextLink leaves/);
    expect(visited.every((url) => url.startsWith(microsoft.graphBaseUrl))).toBe(true);
  });

  it('keeps the token out of the error even when Graph echoes it', async () => {
    const token = await appToken();
    const echoing: FetchLike = async (_input, init) => {
      const authorization = new Headers(init?.headers).get('authorization') ?? '';
      return new Response(JSON.stringify({ error: { code: 'BadRequest', message: `Malformed header: ${authorization}` } }), { status: 400 });
    };
    const error = await connectorError(check(token, 'alice@contoso.test', { fetch: echoing }), 'protocol_error');
    expect(error.detail).toMatch(/HTTP 400 BadRequest: Malformed header: Bearer \[redacted\]/);
  });

  it('maps unexpected answers to protocol errors', async () => {
    const token = await appToken();
    microsoft.injectFault({ origin: 'graph', path: '/calendars', status: 500 });
    await connectorError(check(token), 'protocol_error');
    // A wrong base path answers 400 "Resource not found for the segment", not a missing mailbox.
    await connectorError(checkGraphMailbox({ user: 'alice@contoso.test', token, graphBaseUrl: `${microsoft.graphBaseUrl}/beta`, fetch }), 'protocol_error');
  });
});

describe('XOAUTH2 login at an Exchange Online stand-in (Dovecot with an oauth2 passdb)', () => {
  let imap: ExchangeImapServer;

  beforeAll(async () => {
    imap = await startExchangeImap({ microsoft });
  });

  afterAll(async () => {
    await imap?.stop();
  });

  async function login(user: string, token: string): Promise<ImapFlow> {
    const client = new ImapFlow({
      host: imap.host,
      port: imap.port,
      secure: true,
      tls: { ca: [imap.caCertPem] },
      auth: xoauth2Options(user, token),
      logger: false,
    });
    client.on('error', () => {});
    await client.connect();
    return client;
  }

  /** The imapflow error, and why Dovecot's oauth2 passdb said no (so each case fails for its own reason). */
  async function refused(user: string, token: string): Promise<{ error: ImapFlowError; why: string }> {
    const failures = async () => [...(await imap.logs()).matchAll(/oauth2 failed: (.*)$/gm)].map((m) => m[1]);
    const before = (await failures()).length;
    try {
      const client = await login(user, token);
      await client.logout();
    } catch (error) {
      const added = (await failures()).slice(before);
      return { error: error as ImapFlowError, why: added.length === 1 ? (added[0] ?? '') : `${added.length} oauth2 failures logged` };
    }
    throw new Error(`${user} was let in; Dovecot log:\n${await imap.logs()}`);
  }

  it('opens the mailbox with an Exchange Online app token', async () => {
    const token = await appToken({ scope: EXCHANGE_ONLINE_SCOPE });
    const client = await login('alice@contoso.test', token).catch(async (error: unknown) => {
      throw new Error(`login failed: ${String(error)}\n${await imap.logs()}`);
    });
    try {
      expect((await client.list()).map((f) => f.path)).toContain('INBOX');
    } finally {
      await client.logout();
    }
    // imapflow would pick OAUTHBEARER if offered; like Exchange Online, this server offers only XOAUTH2.
    expect(await imap.logs()).toMatch(/Login: user=<alice@contoso\.test>, method=XOAUTH2/);
  });

  it('refuses a bad token, a Graph token, an app without IMAP access and a mailbox outside the tenant', async () => {
    const bad = await refused('alice@contoso.test', 'not-a-valid-token');
    expect(bad.error.authenticationFailed).toBe(true);
    expect(bad.why).toBe('Introspection failed: Provided token is not valid');
    const mapped = imapOAuthFailure(bad.error);
    expect(mapped?.reason).toBe('not_configured');
    assertNoSecrets(mapped);

    const graphToken = await appToken();
    const wrongAudience = await refused('alice@contoso.test', graphToken);
    expect(wrongAudience.error.authenticationFailed).toBe(true);
    expect(wrongAudience.why).toBe('Introspection failed: Provided token is not valid');
    assertNoSecrets(imapOAuthFailure(wrongAudience.error));

    const noImapRole = await refused('alice@contoso.test', await appToken({ ...MAIL_ONLY_APP, scope: EXCHANGE_ONLINE_SCOPE }));
    expect(noImapRole.error.authenticationFailed).toBe(true);
    expect(noImapRole.why).toBe("Introspection failed: Token is not valid for scope 'IMAP.AccessAsApp'");

    const otherTenant = await refused('erin@fabrikam.test', await appToken({ scope: EXCHANGE_ONLINE_SCOPE }));
    expect(otherTenant.error.authenticationFailed).toBe(true);
    expect(otherTenant.why).toBe("Introspection failed: Username 'fabrikam.test' did not match 'contoso.test'");

    const expiredToken = microsoft.issueToken({ tenantId: TENANT_ID, clientId: APP.clientId, resource: 'exchange', lifetimeSeconds: -60 });
    secrets.add(expiredToken);
    const expired = await refused('alice@contoso.test', expiredToken);
    expect(expired.error.authenticationFailed).toBe(true);
    expect(expired.why).toBe('Introspection failed: Provided token is not valid');
  });
});
