import { Agent, fetch as undiciFetch } from 'undici';
import { ExchangeService, ExchangeVersion, Folder, Uri, WebCredentials, WellKnownFolderName } from 'ews-javascript-api';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkEws, discoverEwsUrl } from '@/server/accounts/ews/ews-client';
import { ConnectorError, type FetchLike } from '@/server/accounts/types';
import { basicAuth, startEwsServer, type EwsServer, type EwsSimulation, type EwsUser } from './helpers/ews-server';

// Colons, quotes and non-ASCII: Basic auth must carry them as UTF-8.
const alice: EwsUser = { email: 'alice@example.test', username: 'CONTOSO\\alice', password: 'Al:ice "pässwörd" 7', displayName: 'Alice' };
const bob: EwsUser = { email: 'bob@example.test', username: 'bob', password: 'bob-Secret-8812' };
const WRONG_PASSWORD = 'wrong-Passw0rd-1234';

const DEFAULT_SIMULATION: EwsSimulation = {
  ews: 'ok',
  autodiscover: 'both',
  missingFolders: [],
  redirectAddresses: {},
  redirectServers: {},
  internalEwsUrl: 'https://exchange01.corp.invalid/EWS/Exchange.asmx',
};

/** Rejection of `promise` as a ConnectorError (fails the test otherwise). */
async function connectorError(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

describe('EWS connector against the EWS test server (https)', () => {
  let server: EwsServer;
  let agent: Agent;
  /** Trusts the test CA only; records every URL asked for. */
  let fetchTls: FetchLike;
  const fetched: string[] = [];
  const thrown: ConnectorError[] = [];
  const consoleOutput: string[] = [];

  /** A fetch that pins names to the test server, like the policy fetch pins checked addresses. */
  function routedFetch(routes: Record<string, string>): FetchLike {
    return async (input, init) => {
      const url = new URL(String(input));
      fetched.push(url.href);
      const target = routes[url.host];
      if (!target) throw new ConnectorError('unknown_host', `${url.host} does not resolve`);
      const routed = new URL(`${url.pathname}${url.search}`, target);
      return fetchTls(routed.href, init);
    };
  }

  async function failure(promise: Promise<unknown>): Promise<ConnectorError> {
    const error = await connectorError(promise);
    thrown.push(error);
    return error;
  }

  const checkAlice = (overrides: Partial<Parameters<typeof checkEws>[0]> = {}) =>
    checkEws({ url: server.ewsUrl, username: alice.username, password: alice.password, email: alice.email, fetch: fetchTls, ...overrides });

  beforeAll(async () => {
    server = await startEwsServer({ users: [alice, bob] });
    agent = new Agent({ connect: { ca: server.caCertPem } });
    fetchTls = (input, init) => {
      fetched.push(String(input));
      return undiciFetch(input, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent }) as unknown as Promise<Response>;
    };
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        consoleOutput.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg) ?? String(arg))).join(' '));
      });
    }
  });

  afterEach(() => {
    server.simulate(DEFAULT_SIMULATION);
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    await agent?.close();
    await server?.stop();
  });

  describe('checkEws', () => {
    it('binds calendar, contacts and tasks and reports the server version', async () => {
      const before = server.requests.length;
      const report = await checkAlice();

      expect(report).toEqual({
        protocol: 'ews',
        capabilities: ['Exchange 15.1.2507.6 (V2017_07_11)', 'calendar', 'contacts', 'tasks'],
        collections: [
          { id: server.folderId(alice.email, 'calendar'), name: 'Calendar', kind: 'calendar' },
          { id: server.folderId(alice.email, 'contacts'), name: 'Contacts', kind: 'contacts' },
          { id: server.folderId(alice.email, 'tasks'), name: 'Tasks', kind: 'tasks' },
        ],
      });
      const requests = server.requests.slice(before);
      expect(requests.map((request) => [request.operation, request.status, request.user])).toEqual([
        ['GetFolder', 200, alice.username],
        ['GetFolder', 200, alice.username],
        ['GetFolder', 200, alice.username],
      ]);
      expect(requests[0]?.headers['x-anchormailbox']).toBe(alice.email);
      expect(requests[0]?.body).toContain('<t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>alice@example.test</t:EmailAddress>');
    });

    it('reports the folders a mailbox has when one is missing', async () => {
      server.simulate({ missingFolders: ['tasks'] });
      const report = await checkAlice();
      expect(report.collections.map((collection) => collection.kind)).toEqual(['calendar', 'contacts']);
      expect(report.capabilities).not.toContain('tasks');
    });

    it('answers groupware_not_found when none of the folders exists', async () => {
      server.simulate({ missingFolders: ['calendar', 'contacts', 'tasks'] });
      const error = await failure(checkAlice());
      expect(error.reason).toBe('groupware_not_found');
    });

    it('answers auth_failed for a wrong password, without the password in the error', async () => {
      const before = server.requests.length;
      const error = await failure(checkAlice({ password: WRONG_PASSWORD }));
      expect(error.reason).toBe('auth_failed');
      expect(error.detail).toContain('401');
      expect(server.requests.slice(before).map((request) => request.status)).toEqual([401]);
    });

    it('answers auth_failed when the credentials do not open the given mailbox', async () => {
      const error = await failure(checkAlice({ email: bob.email }));
      expect(error.reason).toBe('auth_failed');
      expect(error.detail).toContain('ErrorAccessDenied');
    });

    it('answers groupware_not_found for a wrong URL, a missing EWS directory and an HTML page', async () => {
      const wrongPath = await failure(checkAlice({ url: `${server.url}/EWS/Nothing.asmx` }));
      expect(wrongPath.reason).toBe('groupware_not_found');
      expect(wrongPath.detail).toContain('404');

      server.simulate({ ews: 'missing' });
      expect((await failure(checkAlice())).reason).toBe('groupware_not_found');

      server.simulate({ ews: 'html' });
      const html = await failure(checkAlice());
      expect(html.reason).toBe('groupware_not_found');
      expect(html.detail).toContain('text/html');
    });

    it('does not follow a redirect to a forms login page', async () => {
      server.simulate({ ews: 'login-redirect' });
      const before = server.requests.length;
      const error = await failure(checkAlice());
      expect(error.reason).toBe('groupware_not_found');
      expect(error.detail).toContain('/owa/auth/logon.aspx');
      expect(server.requests.slice(before).map((request) => [request.path, request.status])).toEqual([['/EWS/Exchange.asmx', 302]]);
    });

    it('answers protocol_error for a SOAP fault and rate_limited for ErrorServerBusy', async () => {
      server.simulate({ ews: 'soap-fault' });
      const fault = await failure(checkAlice());
      expect(fault.reason).toBe('protocol_error');
      expect(fault.detail).toContain('ErrorInternalServerError');

      server.simulate({ ews: 'busy' });
      expect((await failure(checkAlice())).reason).toBe('rate_limited');
    });

    it('passes a ConnectorError thrown by the injected fetch through unchanged', async () => {
      const blocked = new ConnectorError('blocked_host', '127.0.0.1 is a private address');
      const before = server.requests.length;
      const error = await connectorError(checkAlice({ fetch: () => Promise.reject(blocked) }));
      expect(error).toBe(blocked);
      expect(server.requests.length).toBe(before);
    });

    it('keeps concurrent checks with different fetches apart', async () => {
      const blocked = new ConnectorError('blocked_host', 'policy says no');
      const [good, bad] = await Promise.allSettled([checkAlice(), checkAlice({ fetch: () => Promise.reject(blocked) })]);
      expect(good.status === 'fulfilled' && good.value.collections).toHaveLength(3);
      expect(bad.status === 'rejected' && bad.reason).toBe(blocked);
    });

    it('maps a plain fetch failure (untrusted certificate) to tls_error', async () => {
      const error = await failure(checkAlice({ fetch: (input, init) => fetch(input, init) }));
      expect(error.reason).toBe('tls_error');
    });

    it('refuses to reach the network from a service without the injected fetch', async () => {
      const before = server.requests.length;
      const service = new ExchangeService(ExchangeVersion.Exchange2010);
      service.Url = new Uri(server.ewsUrl);
      service.Credentials = new WebCredentials(alice.username, alice.password);
      const rejection: unknown = await Folder.Bind(service, WellKnownFolderName.Calendar).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(String((rejection as { message?: unknown }).message)).toContain('not_configured');
      expect(server.requests.length).toBe(before);
    });
  });

  describe('discoverEwsUrl', () => {
    // Every name is pinned, so guessed hosts (autodiscover.example.test, ...) never reach DNS.
    const discover = (overrides: Partial<Parameters<typeof discoverEwsUrl>[0]> = {}) =>
      discoverEwsUrl({
        email: alice.email,
        username: alice.username,
        password: alice.password,
        server: `127.0.0.1:${server.port}`,
        fetch: routedFetch({ [`127.0.0.1:${server.port}`]: server.url }),
        ...overrides,
      });

    it('finds the external EWS URL with SOAP autodiscover on the typed server', async () => {
      const before = server.requests.length;
      await expect(discover()).resolves.toBe(server.ewsUrl);
      expect(server.requests.slice(before).map((request) => [request.operation, request.status])).toEqual([['GetUserSettings', 200]]);
      expect(server.requests.at(-1)?.body).toContain('<a:Setting>ExternalEwsUrl</a:Setting>');
    });

    it('falls back to POX autodiscover when the SOAP endpoint is missing', async () => {
      server.simulate({ autodiscover: 'pox' });
      const before = server.requests.length;
      await expect(discover({ server: server.url })).resolves.toBe(server.ewsUrl);
      expect(server.requests.slice(before).map((request) => [request.path, request.status])).toEqual([
        ['/autodiscover/autodiscover.svc', 404],
        ['/autodiscover/autodiscover.xml', 200],
      ]);
    });

    it('takes a typed .asmx URL as it is, without a request', async () => {
      const before = fetched.length;
      await expect(discover({ server: `${server.url}/EWS/Exchange.asmx` })).resolves.toBe(server.ewsUrl);
      expect(fetched.length).toBe(before);
    });

    it('asks autodiscover.<domain>, then <domain>, when no server is typed', async () => {
      const before = fetched.length;
      const url = await discover({ server: undefined, fetch: routedFetch({ 'example.test': server.url }) });
      expect(url).toBe(server.ewsUrl);
      expect(fetched.slice(before, before + 3)).toEqual([
        'https://autodiscover.example.test/autodiscover/autodiscover.svc',
        'https://autodiscover.example.test/autodiscover/autodiscover.xml',
        'https://example.test/autodiscover/autodiscover.svc',
      ]);
    });

    it('follows a RedirectAddress (SOAP) and a redirectAddr (POX) to the mailbox address', async () => {
      server.simulate({ redirectAddresses: { 'alice@old.test': alice.email } });
      await expect(discover({ email: 'alice@old.test' })).resolves.toBe(server.ewsUrl);
      server.simulate({ autodiscover: 'pox' });
      await expect(discover({ email: 'alice@old.test' })).resolves.toBe(server.ewsUrl);
    });

    it('follows a RedirectUrl (SOAP) and a redirectUrl (POX) to another autodiscover server', async () => {
      const other = await startEwsServer({ users: [alice] });
      const bothCas = new Agent({ connect: { ca: [server.caCertPem ?? '', other.caCertPem ?? ''] } });
      try {
        const fetchBoth: FetchLike = (input, init) =>
          undiciFetch(input, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: bothCas }) as unknown as Promise<Response>;
        server.simulate({ redirectServers: { [alice.email]: other.url } });
        await expect(discover({ fetch: fetchBoth })).resolves.toBe(other.ewsUrl);
        expect(other.requests.map((request) => [request.operation, request.status])).toEqual([['GetUserSettings', 200]]);

        server.simulate({ autodiscover: 'pox' });
        other.simulate({ autodiscover: 'pox' });
        await expect(discover({ fetch: fetchBoth })).resolves.toBe(other.ewsUrl);
        expect(other.requests.at(-1)?.path).toBe('/autodiscover/autodiscover.xml');
      } finally {
        await bothCas.close();
        await other.stop();
      }
    });

    it('refuses a redirect from https to http', async () => {
      server.simulate({ redirectServers: { [alice.email]: 'http://127.0.0.1:9' } });
      const before = fetched.length;
      const error = await failure(discover());
      expect(error.reason).toBe('protocol_error');
      expect(error.detail).toContain('http:');
      expect(fetched.slice(before).some((url) => url.startsWith('http:'))).toBe(false);
    });

    it('gives up on a redirect loop', async () => {
      server.simulate({ redirectAddresses: { 'a@loop.test': 'b@loop.test', 'b@loop.test': 'a@loop.test' } });
      const error = await failure(discover({ email: 'a@loop.test' }));
      expect(error.reason).toBe('groupware_not_found');
      expect(error.detail).toContain('redirects');
    });

    it('answers auth_failed for a wrong password, without trying guessed hosts', async () => {
      const before = fetched.length;
      const error = await failure(discover({ password: WRONG_PASSWORD }));
      expect(error.reason).toBe('auth_failed');
      expect(fetched.slice(before).filter((url) => url.includes('example.test'))).toEqual([]);
    });

    it('uses only the host of an IMAP server URL', async () => {
      const before = fetched.length;
      const url = await discover({ server: 'imaps://127.0.0.1:993', fetch: routedFetch({ '127.0.0.1': server.url }) });
      expect(url).toBe(server.ewsUrl);
      expect(fetched[before]).toBe('https://127.0.0.1/autodiscover/autodiscover.svc');
    });

    it('answers groupware_not_found when no autodiscover endpoint exists', async () => {
      server.simulate({ autodiscover: 'none' });
      const error = await failure(discover());
      expect(error.reason).toBe('groupware_not_found');
    });

    it('passes a blocked_host from the fetch through unchanged', async () => {
      const blocked = new ConnectorError('blocked_host', 'private address');
      const error = await connectorError(discover({ fetch: () => Promise.reject(blocked) }));
      expect(error).toBe(blocked);
      const unrouted = await connectorError(discover({ server: undefined, fetch: () => Promise.reject(blocked) }));
      expect(unrouted).toBe(blocked);
    });
  });

  describe('secrets', () => {
    it('keeps the password out of everything but the Authorization header', async () => {
      const secrets = [alice.password, WRONG_PASSWORD, bob.password];
      // The checks above must have sent credentials, or this test would prove nothing.
      const authorizations = server.requests.map((request) => request.headers.authorization ?? '');
      expect(authorizations).toContain(`Basic ${Buffer.from(`${alice.username}:${alice.password}`).toString('base64')}`);
      expect(authorizations).toContain(`Basic ${Buffer.from(`${alice.username}:${WRONG_PASSWORD}`).toString('base64')}`);
      expect(thrown.length).toBeGreaterThan(8);

      const withoutAuthorization = server.requests.map(({ headers: { authorization: _authorization, ...headers }, ...rest }) => ({ ...rest, headers }));
      const serverLog = JSON.stringify(withoutAuthorization);
      const errors = JSON.stringify(thrown.map((error) => ({ message: error.message, detail: error.detail, stack: error.stack })));
      for (const secret of secrets) {
        expect(serverLog).not.toContain(secret);
        expect(errors).not.toContain(secret);
        expect(consoleOutput.join('\n')).not.toContain(secret);
      }
    });
  });
});

describe('EWS test server', () => {
  let server: EwsServer;
  const getFolder = (body: string) =>
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" ` +
    `xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">` +
    `<soap:Header><t:RequestServerVersion Version="Exchange2010"/></soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`;
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(server.ewsUrl, { method: 'POST', headers: { authorization: basicAuth(bob), 'content-type': 'text/xml; charset=utf-8', ...headers }, body });

  beforeAll(async () => {
    server = await startEwsServer({ users: [bob], tls: false });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('answers a well-formed GetFolder', async () => {
    const response = await post(
      getFolder('<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder>'),
    );
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('<m:ResponseCode>NoError</m:ResponseCode>');
    expect(text).toContain('<t:DisplayName>Inbox</t:DisplayName>');
    expect(text).toContain('MajorVersion="15"');
  });

  it('fails malformed requests the way Exchange does', async () => {
    const noShape = await post(getFolder('<m:GetFolder><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>'));
    expect(noShape.status).toBe(500);
    expect(await noShape.text()).toContain('ErrorSchemaValidation');

    // GetFolder in the types namespace instead of messages.
    const wrongNamespace = await post(getFolder('<t:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape></t:GetFolder>'));
    expect(wrongNamespace.status).toBe(500);

    const notXml = await post('GetFolder calendar');
    expect(await notXml.text()).toContain('ErrorSchemaValidation');

    expect((await post(getFolder(''), { 'content-type': 'application/json' })).status).toBe(415);
  });

  it('asks for Basic credentials', async () => {
    const response = await post(getFolder(''), { authorization: basicAuth({ username: bob.username, password: 'nope' }) });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/Basic realm="127\.0\.0\.1:\d+"/);
  });
});

describe('EWS connector over plain http', () => {
  let server: EwsServer;

  beforeAll(async () => {
    server = await startEwsServer({ users: [alice], tls: false });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('checks and discovers when the injected fetch allows http', async () => {
    const report = await checkEws({ url: server.ewsUrl, username: alice.username, password: alice.password, email: alice.email, fetch });
    expect(report.collections).toHaveLength(3);
    await expect(discoverEwsUrl({ email: alice.email, username: alice.username, password: alice.password, server: server.url, fetch })).resolves.toBe(server.ewsUrl);
  });
});
