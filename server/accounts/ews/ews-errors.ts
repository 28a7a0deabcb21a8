import { ServiceError, ServiceResponseException } from 'ews-javascript-api';
import { ConnectorError, type FailureReason } from '../types';
import type { RecordedResponse } from './fetch-xhr-api';
import { NS, parseXml, textOf } from './xml';

/** Node / undici error codes, found on the error or its `cause` chain. */
const CODE_REASONS: Record<string, FailureReason> = {
  ENOTFOUND: 'unknown_host',
  EAI_AGAIN: 'unknown_host',
  EAI_NONAME: 'unknown_host',
  ECONNREFUSED: 'connection_refused',
  ECONNRESET: 'connection_refused',
  EHOSTUNREACH: 'connection_refused',
  ENETUNREACH: 'connection_refused',
  UND_ERR_SOCKET: 'connection_refused',
  ETIMEDOUT: 'timed_out',
  UND_ERR_CONNECT_TIMEOUT: 'timed_out',
  UND_ERR_HEADERS_TIMEOUT: 'timed_out',
  UND_ERR_BODY_TIMEOUT: 'timed_out',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'tls_error',
  SELF_SIGNED_CERT_IN_CHAIN: 'tls_error',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'tls_error',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'tls_error',
  CERT_HAS_EXPIRED: 'tls_error',
  CERT_NOT_YET_VALID: 'tls_error',
  ERR_TLS_CERT_ALTNAME_INVALID: 'tls_error',
};

/**
 * What a thrown fetch error means. The injected fetch normally throws ConnectorError already
 * (host policy, TLS, timeouts) and that passes through unchanged; the mapping below only
 * covers a plain fetch, e.g. in tests or scripts.
 */
export function transportError(error: unknown, url: string): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const where = describeUrl(url);
  if (isAbort(error)) return new ConnectorError('timed_out', `${where}: request aborted`, { cause: error });
  for (let current: unknown = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    const reason = CODE_REASONS[code] ?? (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') ? 'tls_error' : undefined);
    if (reason) return new ConnectorError(reason, `${where}: ${code}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ConnectorError('connection_refused', `${where}: ${message}`, { cause: error });
}

function isAbort(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'AbortError' || name === 'TimeoutError';
}

/** Why an HTTP answer other than 200 means there is no usable EWS / autodiscover here. */
export function httpFailure(response: RecordedResponse, what: string): ConnectorError {
  const where = `${what} ${describeUrl(response.url)}`;
  const { status } = response;
  if (status === 401) return new ConnectorError('auth_failed', `${where} answered HTTP 401`);
  if (status >= 300 && status < 400) {
    // Typically an OWA / reverse-proxy login form in front of EWS, which Basic auth cannot pass.
    const location = response.headers.get('location');
    return new ConnectorError('groupware_not_found', `${where} redirected (HTTP ${status})${location ? ` to ${describeUrl(location)}` : ''}`);
  }
  if (status === 429 || status === 503) return new ConnectorError('rate_limited', `${where} answered HTTP ${status}`);
  if (status === 500) {
    const fault = soapFault(response.body);
    if (fault) {
      const reason: FailureReason = fault.code === 'ErrorServerBusy' ? 'rate_limited' : 'protocol_error';
      return new ConnectorError(reason, `${where} answered a SOAP fault: ${fault.code ?? '?'}${fault.text ? ` (${fault.text})` : ''}`);
    }
    return new ConnectorError('protocol_error', `${where} answered HTTP 500 without a SOAP fault`);
  }
  if (status === 200) return notSoap(response, what);
  // 403 (EWS disabled for the mailbox or the virtual directory), 404, 405, 410, ...
  return new ConnectorError('groupware_not_found', `${where} answered HTTP ${status}`);
}

/** A 200 the library could not read: an HTML page means "no EWS here", broken XML a protocol error. */
export function notSoap(response: RecordedResponse, what: string): ConnectorError {
  const where = `${what} ${describeUrl(response.url)}`;
  const contentType = response.headers.get('content-type') ?? '';
  const document = parseXml(response.body);
  const isHtml = /html/i.test(contentType) || document?.documentElement.localName.toLowerCase() === 'html';
  if (isHtml || (!document && !/xml/i.test(contentType))) {
    return new ConnectorError('groupware_not_found', `${where} answered ${contentType || 'a body without content type'}, not SOAP`);
  }
  if (!document) return new ConnectorError('protocol_error', `${where} answered unparsable XML`);
  return new ConnectorError('protocol_error', `${where} answered XML that is not the expected ${what} response (<${document.documentElement.localName}>)`);
}

export function soapFault(body: string): { code?: string; text?: string } | undefined {
  const document = parseXml(body);
  if (!document) return undefined;
  const fault = document.getElementsByTagNameNS(NS.soap, 'Fault')[0] ?? document.getElementsByTagNameNS(NS.soap12, 'Fault')[0];
  if (!fault) return undefined;
  // EWS puts its own code into detail/e:ResponseCode; faultcode is "a:ErrorSchemaValidation" or so.
  const code = textOf(fault, NS.ewsErrors, 'ResponseCode') ?? fault.getElementsByTagName('faultcode')[0]?.textContent?.trim().replace(/^.*:/, '');
  const text = fault.getElementsByTagName('faultstring')[0]?.textContent?.trim();
  return { code: code || undefined, text: text ? truncate(text, 200) : undefined };
}

/** EWS ResponseCode (of a ResponseClass="Error" message) → reason. */
export function serviceErrorReason(code: string): FailureReason {
  switch (code) {
    case 'ErrorAccessDenied':
    case 'ErrorNotDelegate':
    case 'ErrorImpersonationDenied':
      return 'auth_failed';
    case 'ErrorFolderNotFound':
    case 'ErrorNonExistentMailbox':
    case 'ErrorMailboxStoreUnavailable':
    case 'ErrorMailboxMoveInProgress':
      return 'groupware_not_found';
    case 'ErrorServerBusy':
    case 'ErrorTooManyObjectsOpened':
      return 'rate_limited';
    default:
      return 'protocol_error';
  }
}

export function serviceErrorCode(error: ServiceResponseException): string {
  return ServiceError[error.ErrorCode] ?? String(error.ErrorCode);
}

/**
 * Turns whatever ews-javascript-api rejected with into a ConnectorError. The library's own
 * exceptions carry little (a transport failure arrives as a SoapFaultDetails holding only a
 * message), so the XHR layer's record of the transport error and the last HTTP answer decide.
 */
export function explainFailure(
  error: unknown,
  xhr: { transportError?: ConnectorError; lastResponse?: RecordedResponse },
  what: string,
  url: string,
): ConnectorError {
  if (error instanceof ConnectorError) return error;
  if (xhr.transportError) return xhr.transportError;
  if (error instanceof ServiceResponseException) {
    const code = serviceErrorCode(error);
    return new ConnectorError(serviceErrorReason(code), `${what} ${describeUrl(url)}: ${code}`);
  }
  const response = xhr.lastResponse;
  if (response && response.status !== 200) return httpFailure(response, what);
  if (response) {
    const failure = notSoap(response, what);
    const message = libraryMessage(error);
    return message && failure.reason === 'protocol_error'
      ? new ConnectorError('protocol_error', `${failure.detail}: ${truncate(message, 200)}`)
      : failure;
  }
  return new ConnectorError('protocol_error', `${what} ${describeUrl(url)}: ${truncate(libraryMessage(error) ?? 'request failed', 200)}`);
}

function libraryMessage(error: unknown): string | undefined {
  const message = (error as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' && message ? message : undefined;
}

/** A URL for a log line: no userinfo, no query (autodiscover redirects may carry tokens). */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * Defence in depth for the password: details are built from status codes, URLs and server
 * texts, none of which should hold it, but a server may echo what it got.
 */
export function redactError(error: ConnectorError, secrets: readonly string[]): ConnectorError {
  const present = secrets.filter((secret) => secret && error.detail.includes(secret));
  if (present.length === 0) return error;
  let detail = error.detail;
  for (const secret of present) detail = detail.split(secret).join('***');
  return new ConnectorError(error.reason, detail);
}
