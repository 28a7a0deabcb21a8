import {
  AutodiscoverErrorCode,
  AutodiscoverResponseException,
  AutodiscoverService,
  ExchangeVersion,
  Uri,
  UserSettingName,
  WebCredentials,
  type GetUserSettingsResponse,
} from 'ews-javascript-api';
import { ConnectorError, type FetchLike } from '../types';
import { describeUrl, explainFailure, httpFailure } from './ews-errors';
import { FetchXhrApi } from './fetch-xhr-api';
import { childElements, escapeXml, NS, parseXml, textOf } from './xml';

/** One autodiscover answer: the EWS URL, or where to ask next. */
export type AutodiscoverAnswer =
  | { kind: 'ews'; url: string }
  | { kind: 'redirect_address'; email: string }
  | { kind: 'redirect_url'; url: string };

export interface AutodiscoverRequestOptions {
  /** The autodiscover.svc or autodiscover.xml URL to ask. */
  url: string;
  email: string;
  username: string;
  password: string;
  fetch: FetchLike;
  signal?: AbortSignal;
}

/**
 * SOAP autodiscover (GetUserSettings) through ews-javascript-api, pointed at one URL.
 * GetUsersSettings with a fixed Url is the only entry that stays on that URL: the
 * single-address GetUserSettings answers RedirectAddress by walking the domain on its own,
 * including a DNS SRV lookup and a plain-http GET that would bypass the injected fetch.
 * Per-user redirects are therefore returned to the caller, who counts hops.
 */
export async function soapAutodiscover(options: AutodiscoverRequestOptions): Promise<AutodiscoverAnswer> {
  // The library follows a service-level RedirectUrl itself (up to 10 times); two extra
  // requests are all we let it have.
  const xhr = new FetchXhrApi({ fetch: options.fetch, signal: options.signal, maxRequests: 3, credentials: { username: options.username, password: options.password } });
  const service = new AutodiscoverService(new Uri(options.url), ExchangeVersion.Exchange2010);
  service.Credentials = new WebCredentials(options.username, options.password);
  service.XHRApi = xhr;

  let response: GetUserSettingsResponse | undefined;
  try {
    const collection = await service.GetUsersSettings([options.email], UserSettingName.ExternalEwsUrl, UserSettingName.InternalEwsUrl);
    response = collection.Count > 0 ? collection.__thisIndexer(0) : undefined;
  } catch (error) {
    if (error instanceof AutodiscoverResponseException && !xhr.transportError) {
      throw new ConnectorError('groupware_not_found', `autodiscover ${describeUrl(options.url)}: ${AutodiscoverErrorCode[error.ErrorCode] ?? error.ErrorCode}`);
    }
    throw explainFailure(error, xhr, 'autodiscover', options.url);
  }
  if (!response) throw new ConnectorError('protocol_error', `autodiscover ${describeUrl(options.url)} answered no UserResponse`);

  switch (response.ErrorCode) {
    case AutodiscoverErrorCode.NoError: {
      // Mailferry runs outside the customer's network, so the external URL comes first.
      for (const name of [UserSettingName.ExternalEwsUrl, UserSettingName.InternalEwsUrl]) {
        const value: unknown = response.Settings.get(name);
        if (typeof value === 'string' && value.trim()) return { kind: 'ews', url: value.trim() };
      }
      throw new ConnectorError('groupware_not_found', `autodiscover ${describeUrl(options.url)} knows the user but returned no EWS URL`);
    }
    case AutodiscoverErrorCode.RedirectAddress:
      return { kind: 'redirect_address', email: response.RedirectTarget };
    case AutodiscoverErrorCode.RedirectUrl:
      return { kind: 'redirect_url', url: response.RedirectTarget };
    default:
      throw new ConnectorError(
        response.ErrorCode === AutodiscoverErrorCode.ServerBusy ? 'rate_limited' : 'groupware_not_found',
        `autodiscover ${describeUrl(options.url)}: ${AutodiscoverErrorCode[response.ErrorCode] ?? response.ErrorCode}`,
      );
  }
}

const POX_RESPONSE_SCHEMA = NS.poxOutlookResponse;

/**
 * POX autodiscover (Outlook provider, autodiscover.xml), which Exchange 2007+ serve.
 * ews-javascript-api leaves its legacy (POX) path unimplemented, so this is our own request,
 * sent through the same XHR layer as everything else.
 */
export async function poxAutodiscover(options: AutodiscoverRequestOptions): Promise<AutodiscoverAnswer> {
  const xhr = new FetchXhrApi({ fetch: options.fetch, signal: options.signal, maxRequests: 1, credentials: { username: options.username, password: options.password } });
  const where = `autodiscover ${describeUrl(options.url)}`;
  const body =
    '<?xml version="1.0" encoding="utf-8"?>' +
    `<Autodiscover xmlns="${NS.poxRequest}"><Request>` +
    `<EMailAddress>${escapeXml(options.email)}</EMailAddress>` +
    `<AcceptableResponseSchema>${POX_RESPONSE_SCHEMA}</AcceptableResponseSchema>` +
    '</Request></Autodiscover>';
  try {
    await xhr.xhr({
      type: 'POST',
      url: options.url,
      headers: { 'Content-Type': 'text/xml; charset=utf-8', Authorization: basicAuthorization(options.username, options.password) },
      data: body,
    });
  } catch {
    if (xhr.transportError) throw xhr.transportError;
    const response = xhr.lastResponse;
    if (!response) throw new ConnectorError('protocol_error', `${where}: no response`);
    const location = response.headers.get('location');
    // Microsoft's client algorithm: a 302 from autodiscover.xml names the next autodiscover URL.
    if ([301, 302, 303, 307, 308].includes(response.status) && location) {
      return { kind: 'redirect_url', url: new URL(location, options.url).href };
    }
    throw httpFailure(response, 'autodiscover');
  }

  const response = xhr.lastResponse;
  const document = response ? parseXml(response.body) : undefined;
  const root = document?.documentElement;
  if (!root || root.localName !== 'Autodiscover' || root.namespaceURI !== NS.poxResponse) {
    throw new ConnectorError(document ? 'protocol_error' : 'groupware_not_found', `${where} answered no Autodiscover response`);
  }
  const error = Array.from(root.getElementsByTagName('*')).find((element) => element.localName === 'Error');
  if (error) {
    const code = childElements(error, null, 'ErrorCode')[0]?.textContent?.trim();
    const message = childElements(error, null, 'Message')[0]?.textContent?.trim();
    throw new ConnectorError('groupware_not_found', `${where} answered error ${code ?? '?'}${message ? ` (${message})` : ''}`);
  }

  const account = document.getElementsByTagNameNS(POX_RESPONSE_SCHEMA, 'Account')[0];
  if (!account) throw new ConnectorError('protocol_error', `${where} answered no Account`);
  const action = textOf(account, POX_RESPONSE_SCHEMA, 'Action');
  if (action === 'redirectAddr') {
    const email = textOf(account, POX_RESPONSE_SCHEMA, 'RedirectAddr');
    if (email) return { kind: 'redirect_address', email };
  } else if (action === 'redirectUrl') {
    const url = textOf(account, POX_RESPONSE_SCHEMA, 'RedirectUrl');
    if (url) return { kind: 'redirect_url', url };
  } else {
    const url = ewsUrlFromProtocols(childElements(account, POX_RESPONSE_SCHEMA, 'Protocol'));
    if (url) return { kind: 'ews', url };
    throw new ConnectorError('groupware_not_found', `${where} lists no EwsUrl`);
  }
  throw new ConnectorError('protocol_error', `${where} answered action ${action ?? '(none)'} without a target`);
}

/**
 * EXPR is the Outlook Anywhere (external) protocol block, EXCH the internal one, WEB the OWA
 * one; Exchange 2013+ may add `<Protocol Type="mapiHttp">` with the type as an attribute.
 */
function ewsUrlFromProtocols(protocols: Element[]): string | undefined {
  const typeOf = (protocol: Element) =>
    (textOf(protocol, POX_RESPONSE_SCHEMA, 'Type') ?? protocol.getAttribute('Type') ?? '').toUpperCase();
  const ranked = [...protocols].sort((a, b) => rank(typeOf(a)) - rank(typeOf(b)));
  for (const protocol of ranked) {
    const url = childElements(protocol, POX_RESPONSE_SCHEMA, 'EwsUrl')[0]?.textContent?.trim();
    if (url) return url;
  }
  return undefined;
}

function rank(type: string): number {
  const order = ['EXPR', 'EXCH', 'WEB'];
  const index = order.indexOf(type);
  return index === -1 ? order.length : index;
}

/** Same encoding as ews-javascript-api's WebCredentials (UTF-8, then base64). */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

