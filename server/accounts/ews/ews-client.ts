import {
  BasePropertySet,
  ConfigurationApi,
  ExchangeService,
  ExchangeVersion,
  Folder,
  FolderId,
  FolderSchema,
  Mailbox,
  PropertySet,
  ServiceResponseException,
  Uri,
  WebCredentials,
  WellKnownFolderName,
  type IXHRApi,
} from 'ews-javascript-api';
import { ConnectorError, type Collection, type FetchLike, type ProtocolReport } from '../types';
import { basicAuthorization, poxAutodiscover, soapAutodiscover, type AutodiscoverAnswer } from './autodiscover';
import { describeUrl, explainFailure, redactError, serviceErrorCode } from './ews-errors';
import { FetchXhrApi } from './fetch-xhr-api';

// Without this, an ExchangeService or AutodiscoverService whose XHRApi was not set (or one the
// library creates internally) would fall back to @ewsjs/xhr's axios client and reach the
// network past the host policy. Refusing globally makes such a slip loud.
const refusingXhrApi: IXHRApi = {
  apiName: 'mailferry-refuse',
  xhr: () => Promise.reject(new ConnectorError('not_configured', 'EWS request without the injected fetch')),
  xhrStream: () => Promise.reject(new ConnectorError('not_configured', 'EWS request without the injected fetch')),
  disconnect: () => {},
};
ConfigurationApi.ConfigureXHR(refusingXhrApi);

export interface EwsConnectionOptions {
  /** The EWS endpoint, e.g. https://mail.example.com/EWS/Exchange.asmx (http is up to the fetch). */
  url: string;
  username: string;
  password: string;
  /** The mailbox; sent as X-AnchorMailbox so Exchange 2013+ front ends route to its server. */
  email?: string;
  fetch: FetchLike;
  signal?: AbortSignal;
  /** Schema version requested from the server. Default Exchange2010, which every on-premise Exchange still serves. */
  version?: ExchangeVersion;
  /**
   * 'ntlm': Windows authentication (NTLMv2) from the first request; absent: Basic, and NTLM
   * when the server answers Basic with a 401 that offers only NTLM / Negotiate; 'basic': never NTLM.
   */
  authentication?: 'basic' | 'ntlm';
}

/**
 * An ExchangeService whose HTTP goes only through `options.fetch`, with Basic credentials.
 * Pass `xhr` to `explainFailure` (./ews-errors) to turn a rejected call into a ConnectorError.
 */
export function createEwsService(options: EwsConnectionOptions): { service: ExchangeService; xhr: FetchXhrApi } {
  const url = ewsEndpoint(options.url);
  // WebCredentials throws a plain Error on an empty value; a blank password is a failed login.
  if (!options.username || !options.password) throw new ConnectorError('auth_failed', 'username or password is empty');
  const xhr = new FetchXhrApi({
    fetch: options.fetch,
    signal: options.signal,
    credentials: { username: options.username, password: options.password },
    ...(options.authentication ? { authentication: options.authentication } : {}),
  });
  const service = new ExchangeService(options.version ?? ExchangeVersion.Exchange2010);
  service.XHRApi = xhr;
  service.Url = new Uri(url);
  service.Credentials = new WebCredentials(options.username, options.password);
  if (options.email) service.HttpHeaders.Add('X-AnchorMailbox', options.email);
  return { service, xhr };
}

export interface CheckEwsOptions {
  /** https://host/EWS/Exchange.asmx */
  url: string;
  username: string;
  password: string;
  email: string;
  fetch: FetchLike;
  signal?: AbortSignal;
  /** As EwsConnectionOptions has it. */
  authentication?: 'basic' | 'ntlm';
}

const GROUPWARE_FOLDERS = [
  { folder: WellKnownFolderName.Calendar, kind: 'calendar' },
  { folder: WellKnownFolderName.Contacts, kind: 'contacts' },
  { folder: WellKnownFolderName.Tasks, kind: 'tasks' },
] as const satisfies readonly { folder: WellKnownFolderName; kind: Collection['kind'] }[];

/**
 * Logs in to EWS and binds the calendar, contacts and tasks folders of `email`'s mailbox
 * (GetFolder with DistinguishedFolderId). One request per folder, one after the other, so
 * that a failure is explained by the answer that caused it.
 */
export async function checkEws(options: CheckEwsOptions): Promise<ProtocolReport> {
  const secrets = secretsOf(options.username, options.password);
  try {
    const { service, xhr } = createEwsService(options);
    const properties = new PropertySet(BasePropertySet.IdOnly, [FolderSchema.DisplayName]);
    const collections: Collection[] = [];
    for (const { folder, kind } of GROUPWARE_FOLDERS) {
      const id = options.email ? new FolderId(folder, new Mailbox(options.email)) : new FolderId(folder);
      try {
        const bound = await Folder.Bind(service, id, properties);
        collections.push({ id: bound.Id.UniqueId, name: bound.DisplayName || kind, kind });
      } catch (error) {
        // A mailbox may lack one of them (deleted by a tool, never provisioned); report the rest.
        if (error instanceof ServiceResponseException && serviceErrorCode(error) === 'ErrorFolderNotFound') continue;
        throw explainFailure(error, xhr, 'EWS', options.url);
      }
    }
    if (collections.length === 0) {
      throw new ConnectorError('groupware_not_found', `EWS ${describeUrl(options.url)}: no calendar, contacts or tasks folder`);
    }
    const info = service.ServerInfo;
    const capabilities = info
      ? [`Exchange ${info.MajorVersion}.${info.MinorVersion}.${info.MajorBuildNumber}.${info.MinorBuildNumber}${info.VersionString ? ` (${info.VersionString})` : ''}`]
      : [];
    capabilities.push(...collections.map((collection) => collection.kind));
    return { protocol: 'ews', capabilities, collections };
  } catch (error) {
    throw redactError(error instanceof ConnectorError ? error : new ConnectorError('protocol_error', `EWS ${describeUrl(options.url)}: unexpected failure`), secrets);
  }
}

export interface DiscoverEwsUrlOptions {
  email: string;
  username: string;
  password: string;
  /** What the customer typed as server: host, host:port, or a URL (EWS or autodiscover). */
  server?: string;
  fetch: FetchLike;
  signal?: AbortSignal;
}

/** RedirectAddress / RedirectUrl hops followed before giving up. */
const MAX_AUTODISCOVER_REDIRECTS = 3;
/** Ports of the IMAP server the same field may name; they never serve autodiscover. */
const IMAP_PORTS = new Set(['143', '993']);

interface Attempt {
  kind: 'soap' | 'pox';
  url: string;
  /** The customer's own server, whose failure explains more than a guessed host's. */
  isTyped: boolean;
}

/**
 * Finds the EWS URL of `email`'s mailbox. A typed URL ending in .asmx is taken as it is;
 * otherwise SOAP autodiscover (GetUserSettings: ExternalEwsUrl, then InternalEwsUrl) and POX
 * autodiscover (autodiscover.xml) are asked on the typed server, then on
 * autodiscover.<domain> and <domain>, following a few redirects, every request through
 * `options.fetch`.
 */
export async function discoverEwsUrl(options: DiscoverEwsUrlOptions): Promise<string> {
  const secrets = secretsOf(options.username, options.password);
  try {
    const typed = parseTypedServer(options.server);
    if (typed?.ewsUrl) return typed.ewsUrl;
    if (!options.username || !options.password) throw new ConnectorError('auth_failed', 'username or password is empty');

    let email = options.email.trim();
    let queue = attemptsFor(email, typed?.attempts ?? []);
    const failures: { attempt: Attempt; error: ConnectorError }[] = [];
    let redirects = 0;

    for (let attempt = queue.shift(); attempt; attempt = queue.shift()) {
      if (options.signal?.aborted) throw new ConnectorError('timed_out', 'autodiscover aborted');
      let answer: AutodiscoverAnswer;
      try {
        const request = { url: attempt.url, email, username: options.username, password: options.password, fetch: options.fetch, signal: options.signal };
        answer = attempt.kind === 'soap' ? await soapAutodiscover(request) : await poxAutodiscover(request);
      } catch (error) {
        const failure = error instanceof ConnectorError ? error : explainFailure(error, {}, 'autodiscover', attempt.url);
        failures.push({ attempt, error: failure });
        // The customer's own server rejected the password: guessed hosts would only receive it too.
        if (failure.reason === 'auth_failed' && attempt.isTyped) queue = queue.filter((next) => next.isTyped);
        continue;
      }

      if (answer.kind === 'ews') {
        const url = httpUrl(answer.url);
        if (url) return url.href;
        failures.push({ attempt, error: new ConnectorError('protocol_error', `autodiscover ${describeUrl(attempt.url)} returned an EWS URL that is not http(s)`) });
        continue;
      }

      if (++redirects > MAX_AUTODISCOVER_REDIRECTS) {
        throw new ConnectorError('groupware_not_found', `autodiscover: more than ${MAX_AUTODISCOVER_REDIRECTS} redirects`);
      }
      if (answer.kind === 'redirect_address') {
        const next = answer.email.trim();
        if (!/^[^@\s]+@[^@\s]+$/.test(next)) {
          failures.push({ attempt, error: new ConnectorError('protocol_error', `autodiscover ${describeUrl(attempt.url)} redirected to an invalid address`) });
          continue;
        }
        email = next;
        // A new address may live in another domain: start over, the customer's server first.
        queue = attemptsFor(email, typed?.attempts ?? []);
      } else {
        const next = redirectAttempt(answer.url, attempt);
        if (next instanceof ConnectorError) failures.push({ attempt, error: next });
        else queue.unshift(next);
      }
    }
    throw chooseFailure(failures);
  } catch (error) {
    throw redactError(error instanceof ConnectorError ? error : new ConnectorError('protocol_error', 'autodiscover: unexpected failure'), secrets);
  }
}

function attemptsFor(email: string, typedAttempts: readonly Attempt[]): Attempt[] {
  const attempts = [...typedAttempts];
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  const domainOrigins = domain && email.includes('@') && isHostName(domain) ? [`https://autodiscover.${domain}`, `https://${domain}`] : [];
  for (const origin of domainOrigins) attempts.push(...originAttempts(origin, false));
  const seen = new Set<string>();
  return attempts.filter((attempt) => !seen.has(attempt.url) && seen.add(attempt.url));
}

function originAttempts(origin: string, isTyped: boolean): Attempt[] {
  return [
    { kind: 'soap', url: `${origin}/autodiscover/autodiscover.svc`, isTyped },
    { kind: 'pox', url: `${origin}/autodiscover/autodiscover.xml`, isTyped },
  ];
}

/**
 * The `server` field is shared with IMAP, so it may hold `imaps://host:993` or `host:993`:
 * only the host of such a value is useful here.
 */
function parseTypedServer(server: string | undefined): { ewsUrl?: string; attempts: Attempt[] } | undefined {
  const typed = server?.trim();
  if (!typed) return undefined;
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(typed);
  let url: URL;
  try {
    url = new URL(hasScheme ? typed : `https://${typed}`);
  } catch {
    throw new ConnectorError('unknown_host', 'the server is neither a host name nor a URL');
  }
  if (url.username || url.password) throw new ConnectorError('unknown_host', 'the server URL must not contain credentials');
  if (!hasScheme && url.pathname !== '/') throw new ConnectorError('unknown_host', 'the server is neither a host name nor a URL');

  if (url.protocol === 'http:' || url.protocol === 'https:') {
    if (/\.asmx$/i.test(url.pathname)) return { ewsUrl: url.href, attempts: [] };
    const origin = hasScheme || !IMAP_PORTS.has(url.port) ? url.origin : `https://${url.hostname}`;
    const attempts = originAttempts(origin, true);
    if (/\/autodiscover\.svc$/i.test(url.pathname)) attempts.unshift({ kind: 'soap', url: url.href, isTyped: true });
    if (/\/autodiscover\.xml$/i.test(url.pathname)) attempts.unshift({ kind: 'pox', url: url.href, isTyped: true });
    return { attempts };
  }
  if (url.protocol === 'imap:' || url.protocol === 'imaps:') return { attempts: originAttempts(`https://${url.hostname}`, true) };
  throw new ConnectorError('unknown_host', `the server URL has an unsupported scheme ${url.protocol}`);
}

function redirectAttempt(target: string, from: Attempt): Attempt | ConnectorError {
  let url: URL;
  try {
    url = new URL(target, from.url);
  } catch {
    return new ConnectorError('protocol_error', `autodiscover ${describeUrl(from.url)} redirected to an invalid URL`);
  }
  // Microsoft's rule is https only; an http redirect is accepted only from an http endpoint,
  // i.e. where the fetch already allowed plain text.
  const downgrade = url.protocol === 'http:' && new URL(from.url).protocol === 'https:';
  if (downgrade || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    return new ConnectorError('protocol_error', `autodiscover ${describeUrl(from.url)} redirected to ${url.protocol} (refused)`);
  }
  if (/\/autodiscover\.svc$/i.test(url.pathname)) return { kind: 'soap', url: url.href, isTyped: from.isTyped };
  if (/\/autodiscover\.xml$/i.test(url.pathname)) return { kind: 'pox', url: url.href, isTyped: from.isTyped };
  return new ConnectorError('protocol_error', `autodiscover ${describeUrl(from.url)} redirected to ${describeUrl(url.href)}, which is no autodiscover endpoint`);
}

/**
 * Which of the collected failures to report: a wrong password anywhere, else what the
 * customer's own server said (unless it just had no autodiscover), else a reason all guesses
 * shared (e.g. every host blocked by the policy), else "not found" with the list in the detail.
 */
function chooseFailure(failures: readonly { attempt: Attempt; error: ConnectorError }[]): ConnectorError {
  const auth = failures.find(({ error }) => error.reason === 'auth_failed');
  if (auth) return auth.error;
  const typed = failures.find(({ attempt, error }) => attempt.isTyped && error.reason !== 'groupware_not_found');
  if (typed) return typed.error;
  const first = failures[0];
  if (first && failures.every(({ error }) => error.reason === first.error.reason)) return first.error;
  const summary = failures.map(({ error }) => `${error.reason}: ${error.detail}`).join('; ');
  return new ConnectorError('groupware_not_found', `autodiscover found no EWS URL${summary ? ` (${summary})` : ''}`);
}

function ewsEndpoint(raw: string): string {
  const url = httpUrl(raw.trim());
  if (!url) throw new ConnectorError('groupware_not_found', 'the EWS URL is not an http(s) URL');
  if (url.username || url.password) throw new ConnectorError('groupware_not_found', 'the EWS URL must not contain credentials');
  return url.href;
}

function httpUrl(raw: string): URL | undefined {
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}

function isHostName(name: string): boolean {
  return /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(name);
}

function secretsOf(username: string, password: string): string[] {
  return password ? [password, basicAuthorization(username, password).slice('Basic '.length)] : [];
}
