import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { distinguishedFolderId, EwsError, MailboxStore, SchemaError, type DistinguishedFolder, type SentMeetingMessage } from './ews-server/mailbox';
import { challengeMessage, hasChannelBinding, ntlmMessageType, parseAuthenticate, verifyNtlmV2 } from './ews-server/ntlm';
import { OPERATIONS } from './ews-server/operations';
import { child, children, escapeXml, is, NS, parseXml, tElement } from './ews-server/xml';
import { createTestCertificates } from './test-certificates';

export type { DistinguishedFolder, SentMeetingMessage } from './ews-server/mailbox';

/**
 * A protocol-faithful stand-in for Exchange's EWS and Autodiscover endpoints, written from
 * Microsoft's public documentation (there is no runnable open-source Exchange):
 *
 * - EWS: https://learn.microsoft.com/exchange/client-developer/web-service-reference/getfolder-operation
 *   and the ServerVersionInfo / ResponseCode / SOAP fault shapes of EWS responses.
 * - SOAP Autodiscover: https://learn.microsoft.com/exchange/client-developer/web-service-reference/getusersettings-operation-soap
 * - POX Autodiscover: https://learn.microsoft.com/exchange/client-developer/web-service-reference/pox-autodiscover-request-and-response-for-exchange
 *
 * Groupware: GetFolder, FindFolder, CreateFolder, FindItem, GetItem, CreateItem, UpdateItem,
 * DeleteItem, CreateAttachment and GetAttachment on calendars, contacts and tasks, with the
 * recurrence model (masters, modified and deleted occurrences, OccurrenceItemId), extended
 * properties and the meeting messages Exchange would send (ews-server/operations.ts,
 * ews-server/mailbox.ts, ews-server/recurrence.ts).
 *
 * It authenticates with Basic and with NTLM (ews-server/ntlm.ts) like an on-premise Exchange,
 * answers throttled requests with ErrorServerBusy and its BackOffMilliseconds
 * (learn.microsoft.com/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange),
 * and validates requests strictly enough that a malformed request fails the way Exchange fails
 * it (schema validation fault, 415, 401, ...).
 */


export interface EwsUser {
  email: string;
  /** Accepted as given (e.g. `CONTOSO\\alice`) or, like Exchange, the email as UPN. */
  username: string;
  password: string;
  displayName?: string;
}


export interface EwsSimulation {
  /**
   * 'ok'; 'missing': no EWS virtual directory (IIS 404); 'soap-fault': every EWS request gets
   * HTTP 500 with an ErrorInternalServerError fault; 'busy': HTTP 500 with ErrorServerBusy;
   * 'html': a 200 HTML page (a default web site where EWS was expected); 'login-redirect': a
   * 302 to an OWA forms login, as a reverse proxy with forms authentication answers.
   */
  ews: 'ok' | 'missing' | 'soap-fault' | 'busy' | 'html' | 'login-redirect';
  /** Which autodiscover endpoints exist; the others answer 404. */
  autodiscover: 'both' | 'soap' | 'pox' | 'none';
  /** Folders every mailbox lacks; GetFolder answers ErrorFolderNotFound for them. */
  missingFolders: DistinguishedFolder[];
  /** Autodiscover for the key address answers "ask about this address instead". */
  redirectAddresses: Record<string, string>;
  /**
   * Autodiscover for the key address answers "ask that server instead" (SOAP RedirectUrl /
   * POX redirectUrl), naming the value's autodiscover.svc or autodiscover.xml.
   */
  redirectServers: Record<string, string>;
  /** The EWS URL autodiscover hands out as external; default this server's ewsUrl. */
  externalEwsUrl?: string;
  /** The internal EWS URL; by default a host that does not exist, as seen from outside. */
  internalEwsUrl: string;
  /** Which schemes EWS accepts: both (default), 'ntlm' only (Basic refused), or 'basic' only. */
  authentication?: 'basic+ntlm' | 'ntlm' | 'basic';
  /** Extended Protection for Authentication required: an NTLM answer without the TLS channel's binding is refused (https only). */
  extendedProtection?: boolean;
  /** The next this many EWS requests are answered ErrorServerBusy with `backOffMilliseconds`. */
  busyRequests?: number;
  backOffMilliseconds?: number;
}

export interface EwsServerOptions {
  users: EwsUser[];
  /** Default true: https with a throw-away CA (`caCertPem`). */
  tls?: boolean;
  simulation?: Partial<EwsSimulation>;
}

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  path: string;
  /** Lower-case names, as received (Authorization included). */
  headers: Record<string, string>;
  body: string;
  /** The EWS operation (GetFolder, FindItem, ...), 'GetUserSettings', 'pox', or undefined when refused before dispatch. */
  operation?: string;
  /** Username of the matched credentials. */
  user?: string;
  status: number;
}

export interface EwsServer {
  /** Base URL, e.g. https://127.0.0.1:PORT (no trailing slash). */
  url: string;
  ewsUrl: string;
  autodiscoverSoapUrl: string;
  autodiscoverPoxUrl: string;
  port: number;
  /** PEM of the CA that signed the server certificate; undefined without TLS. */
  caCertPem: string | undefined;
  /** Every request in arrival order. */
  requests: RecordedRequest[];
  /** Changes what the server simulates from now on. */
  simulate(simulation: Partial<EwsSimulation>): void;
  /** Stable FolderId of a user's distinguished folder, as GetFolder returns it. */
  folderId(email: string, folder: DistinguishedFolder): string;
  /** EWS requests per operation of a user (username as configured), throttled ones included. */
  requestCounts(user: string): Record<string, number>;
  /** Meeting requests, updates and cancellations the server would have sent for the mailbox of `email`. */
  sentMail(email: string): SentMeetingMessage[];
  /** Puts a folder straight into a mailbox; `parent` is a folder id or a distinguished name. Returns its FolderId. */
  seedFolder(email: string, folder: { parent: string; displayName: string; element?: 'Folder' | 'CalendarFolder' | 'ContactsFolder' | 'TasksFolder'; folderClass?: string }): string;
  /**
   * Puts an item straight into a folder, from the item element as CreateItem takes it (t:
   * prefix bound to the types namespace by the helper). Returns its ItemId.
   */
  seedItem(email: string, folder: string, itemXml: string, options?: { timeZone?: string }): string;
  /** Marks an occurrence (1-based InstanceIndex) of a seeded master deleted, or modified with the given property elements. */
  seedOccurrence(email: string, masterId: string, index: number, change: { deleted: true } | { propertiesXml: string }): void;
  /** Adds a contact photo to a seeded contact. */
  seedPhoto(email: string, contactId: string, photo: { contentType: string; content: Buffer }): void;
  /** The mailbox state, for assertions. */
  store: MailboxStore;
  stop(): Promise<void>;
}

const SERVER_VERSION = { major: 15, minor: 1, majorBuild: 2507, minorBuild: 6, version: 'V2017_07_11' };
const REQUEST_SERVER_VERSIONS = new Set([
  'Exchange2007', 'Exchange2007_SP1', 'Exchange2010', 'Exchange2010_SP1', 'Exchange2010_SP2',
  'Exchange2013', 'Exchange2013_SP1', 'Exchange2015', 'Exchange2016', 'V2015_10_05', 'V2016_01_06', 'V2016_04_13', 'V2016_07_13', 'V2016_10_10', 'V2017_01_07', 'V2017_04_14', 'V2017_07_11',
]);
const GET_USER_SETTINGS_ACTION = 'http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings';
const MAX_BODY = 1024 * 1024;

export async function startEwsServer(options: EwsServerOptions): Promise<EwsServer> {
  const users = options.users.map((user) => ({ ...user, email: user.email.toLowerCase() }));
  const simulation: EwsSimulation = {
    ews: 'ok',
    autodiscover: 'both',
    missingFolders: [],
    redirectAddresses: {},
    redirectServers: {},
    internalEwsUrl: 'https://exchange01.corp.invalid/EWS/Exchange.asmx',
    authentication: 'basic+ntlm',
    busyRequests: 0,
    backOffMilliseconds: 5000,
    ...options.simulation,
  };
  const tls = options.tls ?? true;
  const requests: RecordedRequest[] = [];
  const store = new MailboxStore();
  const counts = new Map<string, Record<string, number>>();
  /** NTLM is connection-bound: the pending challenge, then the authenticated user, per socket. */
  const ntlmState = new WeakMap<Socket, { challenge?: Buffer; scheme?: string; user?: string }>();

  let certDir: string | undefined;
  let caCertPem: string | undefined;
  let certificateDer: Buffer | undefined;
  let server: Server;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`test server error: ${error instanceof Error ? error.message : String(error)}`);
    });
  };
  if (tls) {
    certDir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-ews-'));
    const certificates = await createTestCertificates(certDir, ['localhost', '127.0.0.1']);
    caCertPem = certificates.caCertPem;
    const cert = await readFile(certificates.certPath);
    certificateDer = new X509Certificate(cert).raw;
    server = createHttpsServer({ cert, key: await readFile(certificates.keyPath) }, handler);
  } else {
    server = createHttpServer(handler);
  }
  // Port 0: the kernel picks a free port atomically, no race with other processes.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const ewsUrl = `${url}/EWS/Exchange.asmx`;

  const folderId = (email: string, folder: DistinguishedFolder) => distinguishedFolderId(email, folder);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')])),
      body: body ?? '',
      status: 0,
    };
    requests.push(record);
    const reply = (status: number, headers: Record<string, string | string[]>, text: string) => {
      record.status = status;
      res.writeHead(status, { 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    if (body === undefined) return reply(413, { 'content-type': 'text/html' }, iisError(413, 'Request Entity Too Large'));

    const pathname = new URL(req.url ?? '/', 'http://x').pathname.toLowerCase();
    const endpoint =
      pathname === '/ews/exchange.asmx' && simulation.ews !== 'missing' ? 'ews'
      : pathname === '/autodiscover/autodiscover.svc' && ['both', 'soap'].includes(simulation.autodiscover) ? 'soap'
      : pathname === '/autodiscover/autodiscover.xml' && ['both', 'pox'].includes(simulation.autodiscover) ? 'pox'
      : undefined;
    // IIS answers an unknown path before any authentication.
    if (!endpoint) return reply(404, { 'content-type': 'text/html' }, iisError(404, 'Not Found'));

    if (endpoint === 'ews' && simulation.ews === 'login-redirect') {
      return reply(302, { location: `${url}/owa/auth/logon.aspx?url=${encodeURIComponent(ewsUrl)}&reason=0`, 'content-type': 'text/html' }, '<html><body>Object moved</body></html>');
    }
    const challenges = endpoint === 'ews' && simulation.authentication === 'ntlm' ? ['Negotiate', 'NTLM']
      : endpoint === 'ews' && simulation.authentication === 'basic' ? [`Basic realm="${req.headers.host ?? '127.0.0.1'}"`]
      : ['Negotiate', 'NTLM', `Basic realm="${req.headers.host ?? '127.0.0.1'}"`];
    const unauthorized = () => reply(401, { 'www-authenticate': challenges, 'content-type': 'text/html' }, iisError(401, 'Unauthorized'));
    let user: (EwsUser & { email: string }) | undefined;
    const ntlm = /^(NTLM|Negotiate)\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
    if (ntlm && simulation.authentication !== 'basic') {
      const state = ntlmState.get(req.socket) ?? {};
      ntlmState.set(req.socket, state);
      const token = Buffer.from(ntlm[2] ?? '', 'base64');
      const type = ntlmMessageType(token);
      if (type === 1) {
        const { message, serverChallenge } = challengeMessage(token, { domain: 'CONTOSO', computer: 'EXCHANGE01', dnsDomain: 'contoso.test', dnsComputer: 'exchange01.contoso.test' });
        state.challenge = serverChallenge;
        state.scheme = ntlm[1];
        state.user = undefined;
        return reply(401, { 'www-authenticate': `${ntlm[1]} ${message.toString('base64')}`, 'content-type': 'text/html' }, iisError(401, 'Unauthorized'));
      }
      const auth = type === 3 ? parseAuthenticate(token) : undefined;
      const challenge = state.challenge;
      state.challenge = undefined;
      if (!auth || !challenge) return unauthorized();
      const candidate = users.find((entry) => {
        const name = entry.username.toLowerCase();
        return name === `${auth.domain}\\${auth.user}`.toLowerCase() || (name === auth.user.toLowerCase() && !name.includes('\\')) || entry.email === auth.user.toLowerCase();
      });
      if (!candidate || !verifyNtlmV2(auth, challenge, candidate.password)) return unauthorized();
      if (simulation.extendedProtection && certificateDer && !hasChannelBinding(auth, certificateDer)) return unauthorized();
      state.user = candidate.username;
      user = candidate;
    } else if (!req.headers.authorization && ntlmState.get(req.socket)?.user) {
      // IIS keeps an NTLM-authenticated keep-alive connection authenticated.
      const name = ntlmState.get(req.socket)?.user;
      user = users.find((entry) => entry.username === name);
    } else if (endpoint !== 'ews' || simulation.authentication !== 'ntlm') {
      user = authenticate(req.headers.authorization);
    }
    if (!user) return unauthorized();
    record.user = user.username;

    if (endpoint === 'pox' && req.method === 'GET') {
      // Exchange answers a GET on autodiscover.xml with error 600 rather than an HTTP error.
      record.operation = 'pox';
      return reply(200, { 'content-type': 'text/xml; charset=utf-8' }, poxError(600, 'Invalid Request'));
    }
    if (req.method !== 'POST') return reply(405, { allow: 'POST', 'content-type': 'text/html' }, iisError(405, 'Method Not Allowed'));
    const contentType = (req.headers['content-type'] ?? '').toLowerCase();
    const isSoap12 = contentType.startsWith('application/soap+xml');
    if (!contentType.startsWith('text/xml') && !(endpoint === 'soap' && isSoap12)) {
      return reply(415, { 'content-type': 'text/html' }, iisError(415, 'Unsupported Media Type'));
    }

    if (endpoint === 'ews' && simulation.ews === 'html') {
      return reply(200, { 'content-type': 'text/html' }, '<html><head><title>IIS Windows Server</title></head><body>Welcome</body></html>');
    }
    const document = parseXml(record.body);
    if (endpoint === 'ews') {
      const operationElement = document?.documentElement && child(document.documentElement, NS.soap, 'Body');
      const name = (operationElement && children(operationElement)[0]?.localName) ?? 'unknown';
      record.operation = name;
      const perUser = counts.get(user.username) ?? {};
      perUser[name] = (perUser[name] ?? 0) + 1;
      counts.set(user.username, perUser);
      const [status, xml] = handleEws(document, user);
      return reply(status, { 'content-type': 'text/xml; charset=utf-8' }, xml);
    }
    if (endpoint === 'soap') {
      record.operation = 'GetUserSettings';
      const [status, xml] = handleSoapAutodiscover(document, isSoap12);
      return reply(status, { 'content-type': `${isSoap12 ? 'application/soap+xml' : 'text/xml'}; charset=utf-8` }, xml);
    }
    record.operation = 'pox';
    return reply(200, { 'content-type': 'text/xml; charset=utf-8' }, handlePox(document));
  }

  function authenticate(header: string | undefined): (EwsUser & { email: string }) | undefined {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
    if (!match?.[1]) return undefined;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const name = decoded.slice(0, colon).toLowerCase();
    const password = decoded.slice(colon + 1);
    return users.find((user) => (user.username.toLowerCase() === name || user.email === name) && user.password === password);
  }

  // --- EWS ---------------------------------------------------------------------------------

  function handleEws(document: Document | undefined, user: EwsUser & { email: string }): [number, string] {
    if (simulation.ews === 'soap-fault') return [500, ewsFault('ErrorInternalServerError', 'An internal server error occurred. The operation failed.')];
    if (simulation.ews === 'busy') return [500, ewsFault('ErrorServerBusy', 'The server cannot service this request right now. Try again later.', '<t:Value Name="BackOffMilliseconds">5000</t:Value>')];
    if ((simulation.busyRequests ?? 0) > 0) {
      simulation.busyRequests = (simulation.busyRequests ?? 0) - 1;
      return [500, ewsFault('ErrorServerBusy', 'The server cannot service this request right now. Try again later.', `<t:Value Name="BackOffMilliseconds">${simulation.backOffMilliseconds ?? 5000}</t:Value>`)];
    }

    const envelope = document?.documentElement;
    if (!envelope || !is(envelope, NS.soap, 'Envelope')) return [500, schemaFault('The root element is not a SOAP 1.1 Envelope.')];
    const header = child(envelope, NS.soap, 'Header');
    const requestVersion = header && child(header, NS.types, 'RequestServerVersion');
    if (requestVersion && !REQUEST_SERVER_VERSIONS.has(requestVersion.getAttribute('Version') ?? '')) {
      return [500, ewsFault('ErrorInvalidServerVersion', 'The specified server version is invalid.')];
    }
    const body = child(envelope, NS.soap, 'Body');
    const operation = body && children(body)[0];
    if (!operation) return [500, schemaFault('The SOAP Body is empty.')];
    const run = operation.namespaceURI === NS.messages ? OPERATIONS[operation.localName] : undefined;
    if (!run) {
      return [500, ewsFault('ErrorInvalidRequest', `This test server does not implement ${operation.namespaceURI ?? ''}:${operation.localName}.`)];
    }
    const timeZone = header && child(header, NS.types, 'TimeZoneContext');
    const timeZoneId = timeZone && child(timeZone, NS.types, 'TimeZoneDefinition')?.getAttribute('Id');
    try {
      const messages = run(
        { store, mailbox: store.mailbox(user.email), ...(timeZoneId ? { timeZoneContext: timeZoneId } : {}), missingFolders: simulation.missingFolders, knownAddresses: users.map((entry) => entry.email) },
        operation,
      );
      return [200, ewsEnvelope(`<m:${operation.localName}Response xmlns:m="${NS.messages}" xmlns:t="${NS.types}"><m:ResponseMessages>${messages}</m:ResponseMessages></m:${operation.localName}Response>`)];
    } catch (error) {
      if (error instanceof SchemaError) return [500, schemaFault(error.message)];
      throw error;
    }
  }

  // --- SOAP Autodiscover -----------------------------------------------------------------

  function handleSoapAutodiscover(document: Document | undefined, isSoap12: boolean): [number, string] {
    const soapNs = isSoap12 ? NS.soap12 : NS.soap;
    const envelope = document?.documentElement;
    const header = envelope && is(envelope, soapNs, 'Envelope') ? child(envelope, soapNs, 'Header') : undefined;
    const body = envelope && is(envelope, soapNs, 'Envelope') ? child(envelope, soapNs, 'Body') : undefined;
    if (!header || !body) return [500, autodiscoverFault(soapNs, 'The message is not a SOAP envelope with Header and Body.')];
    // WCF dispatches on wsa:Action; without it the request never reaches the service.
    const action = child(header, NS.addressing, 'Action')?.textContent?.trim();
    if (action !== GET_USER_SETTINGS_ACTION) return [500, autodiscoverFault(soapNs, `The SOAP action '${action ?? ''}' is not supported.`)];
    const message = child(body, NS.autodiscover, 'GetUserSettingsRequestMessage');
    const request = message && child(message, NS.autodiscover, 'Request');
    const usersElement = request && child(request, NS.autodiscover, 'Users');
    const settingsElement = request && child(request, NS.autodiscover, 'RequestedSettings');
    const mailboxes = usersElement ? children(usersElement).map((user) => user.getElementsByTagNameNS(NS.autodiscover, 'Mailbox')[0]?.textContent?.trim() ?? '') : [];
    const requested = settingsElement ? children(settingsElement).map((setting) => setting.textContent?.trim() ?? '') : [];
    if (mailboxes.length === 0 || mailboxes.includes('') || requested.length === 0) {
      return [200, autodiscoverEnvelope(soapNs, '<ErrorCode>InvalidRequest</ErrorCode><ErrorMessage>The request is invalid.</ErrorMessage><UserResponses/>')];
    }

    const responses = mailboxes.map((mailbox) => {
      const address = mailbox.toLowerCase();
      const redirect = simulation.redirectAddresses[address];
      if (redirect) {
        return `<UserResponse><ErrorCode>RedirectAddress</ErrorCode><ErrorMessage>Redirection address.</ErrorMessage><RedirectTarget>${escapeXml(redirect)}</RedirectTarget><UserSettingErrors/><UserSettings/></UserResponse>`;
      }
      const redirectServer = simulation.redirectServers[address];
      if (redirectServer) {
        return `<UserResponse><ErrorCode>RedirectUrl</ErrorCode><ErrorMessage>Redirection URL.</ErrorMessage><RedirectTarget>${escapeXml(`${redirectServer}/autodiscover/autodiscover.svc`)}</RedirectTarget><UserSettingErrors/><UserSettings/></UserResponse>`;
      }
      const user = users.find((candidate) => candidate.email === address);
      if (!user) {
        return `<UserResponse><ErrorCode>InvalidUser</ErrorCode><ErrorMessage>Invalid user: '${escapeXml(mailbox)}'</ErrorMessage><RedirectTarget i:nil="true"/><UserSettingErrors/><UserSettings/></UserResponse>`;
      }
      const known: Record<string, string> = {
        UserDisplayName: user.displayName ?? user.email,
        ExternalEwsUrl: simulation.externalEwsUrl ?? ewsUrl,
        InternalEwsUrl: simulation.internalEwsUrl,
        CasVersion: `${SERVER_VERSION.major}.${String(SERVER_VERSION.minor).padStart(2, '0')}.${SERVER_VERSION.majorBuild}.${String(SERVER_VERSION.minorBuild).padStart(3, '0')}`,
        EwsSupportedSchemas: 'Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, Exchange2013, Exchange2013_SP1, Exchange2015, Exchange2016',
      };
      const settings = requested
        .filter((name) => name in known)
        .map((name) => `<UserSetting i:type="StringSetting"><Name>${name}</Name><Value>${escapeXml(known[name] ?? '')}</Value></UserSetting>`)
        .join('');
      const errors = requested
        .filter((name) => !(name in known))
        .map((name) => `<UserSettingError><ErrorCode>InvalidSetting</ErrorCode><ErrorMessage>The requested setting is invalid.</ErrorMessage><SettingName>${escapeXml(name)}</SettingName></UserSettingError>`)
        .join('');
      return `<UserResponse><ErrorCode>NoError</ErrorCode><ErrorMessage>No error.</ErrorMessage><RedirectTarget i:nil="true"/><UserSettingErrors>${errors}</UserSettingErrors><UserSettings>${settings}</UserSettings></UserResponse>`;
    });
    return [200, autodiscoverEnvelope(soapNs, `<ErrorCode>NoError</ErrorCode><ErrorMessage/><UserResponses>${responses.join('')}</UserResponses>`)];
  }

  // --- POX Autodiscover ------------------------------------------------------------------

  function handlePox(document: Document | undefined): string {
    const root = document?.documentElement;
    const request = root && is(root, NS.poxRequest, 'Autodiscover') ? child(root, NS.poxRequest, 'Request') : undefined;
    const address = request && child(request, NS.poxRequest, 'EMailAddress')?.textContent?.trim().toLowerCase();
    const schema = request && child(request, NS.poxRequest, 'AcceptableResponseSchema')?.textContent?.trim();
    if (!request || !address) return poxError(600, 'Invalid Request');
    if (schema !== NS.poxOutlook) return poxError(601, 'The requested schema version is not supported');

    const redirect = simulation.redirectAddresses[address];
    if (redirect) {
      return poxOutlook(`<Account><AccountType>email</AccountType><Action>redirectAddr</Action><RedirectAddr>${escapeXml(redirect)}</RedirectAddr></Account>`);
    }
    const redirectServer = simulation.redirectServers[address];
    if (redirectServer) {
      return poxOutlook(`<Account><AccountType>email</AccountType><Action>redirectUrl</Action><RedirectUrl>${escapeXml(`${redirectServer}/autodiscover/autodiscover.xml`)}</RedirectUrl></Account>`);
    }
    const user = users.find((candidate) => candidate.email === address);
    if (!user) {
      return poxOutlook(`<Error Time="${new Date().toISOString().slice(11, 23)}" Id="2477272013"><ErrorCode>500</ErrorCode><Message>The e-mail address cannot be found.</Message><DebugData/></Error>`);
    }
    const external = simulation.externalEwsUrl ?? ewsUrl;
    return poxOutlook(
      `<User><DisplayName>${escapeXml(user.displayName ?? user.email)}</DisplayName>` +
        `<LegacyDN>/o=Mailferry Test/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=${escapeXml(user.username)}</LegacyDN>` +
        `<AutoDiscoverSMTPAddress>${escapeXml(user.email)}</AutoDiscoverSMTPAddress><DeploymentId>7c4d0f8e-3d5b-4b4e-9a1c-2f0e0b9f1a11</DeploymentId></User>` +
        '<Account><AccountType>email</AccountType><Action>settings</Action><MicrosoftOnline>False</MicrosoftOnline>' +
        `<Protocol><Type>EXCH</Type><Server>exchange01.corp.invalid</Server><ServerVersion>73C18880</ServerVersion><EwsUrl>${escapeXml(simulation.internalEwsUrl)}</EwsUrl></Protocol>` +
        `<Protocol><Type>EXPR</Type><Server>${escapeXml(new URL(external).host)}</Server><SSL>On</SSL><AuthPackage>Basic</AuthPackage><EwsUrl>${escapeXml(external)}</EwsUrl></Protocol>` +
        '</Account>',
    );
  }

  let stopped: Promise<void> | undefined;
  return {
    url,
    ewsUrl,
    autodiscoverSoapUrl: `${url}/autodiscover/autodiscover.svc`,
    autodiscoverPoxUrl: `${url}/autodiscover/autodiscover.xml`,
    port,
    caCertPem,
    requests,
    simulate(update) {
      Object.assign(simulation, update);
    },
    folderId,
    requestCounts(user) {
      return { ...(counts.get(user) ?? {}) };
    },
    sentMail(email) {
      return [...store.mailbox(email).sent];
    },
    seedFolder(email, folder) {
      const mailbox = store.mailbox(email);
      const parent = store.folder(mailbox, folder.parent) ?? store.folder(mailbox, distinguishedFolderId(email, folder.parent as DistinguishedFolder));
      if (!parent) throw new Error(`no folder ${folder.parent}`);
      return store.createFolder(mailbox, parent.id, folder.displayName, folder.element ?? 'Folder', folder.folderClass).id;
    },
    seedItem(email, folder, itemXml, seedOptions = {}) {
      const mailbox = store.mailbox(email);
      const target = store.folder(mailbox, folder) ?? store.folder(mailbox, distinguishedFolderId(email, folder as DistinguishedFolder));
      if (!target) throw new Error(`no folder ${folder}`);
      const element = parseXml(itemXml.replace(/^<t:(\w+)/, `<t:$1 xmlns:t="${NS.types}"`))?.documentElement;
      if (!element) throw new Error('seedItem: the item XML does not parse');
      try {
        return store.createItem(mailbox, target.id, element, seedOptions.timeZone, { allowReadOnly: false }).id;
      } catch (error) {
        if (error instanceof EwsError || error instanceof SchemaError) throw new Error(`seedItem: ${error.message}`);
        throw error;
      }
    },
    seedOccurrence(email, masterId, index, change) {
      const mailbox = store.mailbox(email);
      const { item, occurrence } = store.resolve(mailbox, tElement('OccurrenceItemId', undefined, { RecurringMasterId: masterId, InstanceIndex: String(index) }));
      if (!occurrence) throw new Error('seedOccurrence: not an occurrence');
      if ('deleted' in change) {
        item.deleted.add(occurrence.originalStart);
        item.exceptions.delete(occurrence.originalStart);
      } else {
        const holder = parseXml(`<r xmlns:t="${NS.types}">${change.propertiesXml}</r>`)?.documentElement;
        if (!holder) throw new Error('seedOccurrence: the properties do not parse');
        item.exceptions.set(occurrence.originalStart, new Map(children(holder).map((element) => [element.localName, element])));
      }
    },
    seedPhoto(email, contactId, photo) {
      const mailbox = store.mailbox(email);
      const item = store.item(mailbox, contactId);
      if (!item || item.kind !== 'Contact') throw new Error('seedPhoto: not a contact');
      item.attachments.push({ id: store.nextId(mailbox, 'a'), name: 'ContactPicture.jpg', contentType: photo.contentType, content: photo.content.toString('base64'), isContactPhoto: true });
    },
    store,
    stop() {
      stopped ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        if (certDir) await rm(certDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function serverVersionInfo(): string {
  const { major, minor, majorBuild, minorBuild, version } = SERVER_VERSION;
  return (
    `<h:ServerVersionInfo MajorVersion="${major}" MinorVersion="${minor}" MajorBuildNumber="${majorBuild}" MinorBuildNumber="${minorBuild}" Version="${version}" ` +
    `xmlns:h="${NS.types}" xmlns="${NS.types}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>`
  );
}

function ewsEnvelope(body: string): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    `<s:Envelope xmlns:s="${NS.soap}"><s:Header>${serverVersionInfo()}</s:Header>` +
    `<s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">${body}</s:Body></s:Envelope>`
  );
}


function ewsFault(code: string, text: string, messageXml = ''): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    `<s:Envelope xmlns:s="${NS.soap}"><s:Header>${serverVersionInfo()}</s:Header><s:Body><s:Fault>` +
    `<faultcode xmlns:a="${NS.types}">a:${code}</faultcode><faultstring xml:lang="en-US">${escapeXml(text)}</faultstring>` +
    `<detail><e:ResponseCode xmlns:e="${NS.errors}">${code}</e:ResponseCode><e:Message xmlns:e="${NS.errors}">${escapeXml(text)}</e:Message>` +
    (messageXml ? `<t:MessageXml xmlns:t="${NS.types}">${messageXml}</t:MessageXml>` : '') +
    '</detail></s:Fault></s:Body></s:Envelope>'
  );
}

function schemaFault(violation: string): string {
  return ewsFault('ErrorSchemaValidation', `The request failed schema validation: ${violation}`, `<t:LineNumber>1</t:LineNumber><t:LinePosition>1</t:LinePosition><t:Violation>${escapeXml(violation)}</t:Violation>`);
}

function autodiscoverEnvelope(soapNs: string, response: string): string {
  const { major, minor, majorBuild, minorBuild } = SERVER_VERSION;
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    `<s:Envelope xmlns:s="${soapNs}" xmlns:a="${NS.addressing}"><s:Header>` +
    `<a:Action s:mustUnderstand="1">${GET_USER_SETTINGS_ACTION}Response</a:Action>` +
    `<h:ServerVersionInfo xmlns:h="${NS.autodiscover}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">` +
    `<h:MajorVersion>${major}</h:MajorVersion><h:MinorVersion>${minor}</h:MinorVersion><h:MajorBuildNumber>${majorBuild}</h:MajorBuildNumber>` +
    `<h:MinorBuildNumber>${minorBuild}</h:MinorBuildNumber><h:Version>Exchange2015</h:Version></h:ServerVersionInfo></s:Header>` +
    `<s:Body><GetUserSettingsResponseMessage xmlns="${NS.autodiscover}"><Response xmlns:i="http://www.w3.org/2001/XMLSchema-instance">${response}</Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>`
  );
}

function autodiscoverFault(soapNs: string, text: string): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    `<s:Envelope xmlns:s="${soapNs}"><s:Body><s:Fault><faultcode xmlns:a="http://schemas.microsoft.com/ws/2005/05/addressing/none">a:ActionNotSupported</faultcode>` +
    `<faultstring xml:lang="en-US">${escapeXml(text)}</faultstring></s:Fault></s:Body></s:Envelope>`
  );
}

function poxOutlook(inner: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="${NS.poxResponse}"><Response xmlns="${NS.poxOutlook}">${inner}</Response></Autodiscover>`;
}

function poxError(code: number, message: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="${NS.poxResponse}"><Response>` +
    `<Error Time="${new Date().toISOString().slice(11, 23)}" Id="2477272013"><ErrorCode>${code}</ErrorCode><Message>${escapeXml(message)}</Message><DebugData/></Error>` +
    '</Response></Autodiscover>'
  );
}

function iisError(status: number, text: string): string {
  return `<!DOCTYPE html><html><head><title>${status} - ${text}</title></head><body><h1>Server Error</h1><h2>${status} - ${text}.</h2></body></html>`;
}

/** `Authorization` header value for a user, for tests that talk to the server directly. */
export function basicAuth(user: Pick<EwsUser, 'username' | 'password'>): string {
  return `Basic ${Buffer.from(`${user.username}:${user.password}`, 'utf8').toString('base64')}`;
}
