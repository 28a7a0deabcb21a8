import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../types';
import { httpFailure, redactError, transportError } from './ews-errors';

const URL_ = 'https://mail.example.test/EWS/Exchange.asmx?token=abc';

function response(status: number, body = '', headers: Record<string, string> = {}) {
  return { url: URL_, status, headers: new Headers(headers), body };
}

describe('transportError', () => {
  it('passes a ConnectorError through as the same object', () => {
    const blocked = new ConnectorError('blocked_host', 'private address');
    expect(transportError(blocked, URL_)).toBe(blocked);
  });

  it.each([
    ['ENOTFOUND', 'unknown_host'],
    ['ECONNREFUSED', 'connection_refused'],
    ['UND_ERR_CONNECT_TIMEOUT', 'timed_out'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'tls_error'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'tls_error'],
  ])('maps undici cause code %s to %s', (code, reason) => {
    const error = new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
    const mapped = transportError(error, URL_);
    expect(mapped.reason).toBe(reason);
    expect(mapped.detail).not.toContain('token=abc');
  });

  it('maps an abort to timed_out', () => {
    expect(transportError(new DOMException('aborted', 'AbortError'), URL_).reason).toBe('timed_out');
  });
});

describe('httpFailure', () => {
  it.each([
    [401, 'auth_failed'],
    [403, 'groupware_not_found'],
    [404, 'groupware_not_found'],
    [302, 'groupware_not_found'],
    [503, 'rate_limited'],
    [500, 'protocol_error'],
  ])('maps HTTP %i to %s', (status, reason) => {
    expect(httpFailure(response(status), 'EWS').reason).toBe(reason);
  });

  it('reads the EWS code of a SOAP fault', () => {
    const fault =
      '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>' +
      '<faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorServerBusy</faultcode><faultstring>busy</faultstring>' +
      '<detail><e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorServerBusy</e:ResponseCode></detail>' +
      '</s:Fault></s:Body></s:Envelope>';
    const error = httpFailure(response(500, fault), 'EWS');
    expect(error.reason).toBe('rate_limited');
    expect(error.detail).toContain('ErrorServerBusy');
  });

  it('tells an HTML page (no EWS) from broken XML', () => {
    expect(httpFailure(response(200, '<html><body>hi</body></html>', { 'content-type': 'text/html' }), 'EWS').reason).toBe('groupware_not_found');
    expect(httpFailure(response(200, '<a><b></a>', { 'content-type': 'text/xml' }), 'EWS').reason).toBe('protocol_error');
  });
});

describe('redactError', () => {
  it('removes every secret from the detail and the message', () => {
    const error = redactError(new ConnectorError('protocol_error', 'server said: hunter2 is not hunter2!'), ['hunter2']);
    expect(error.detail).toBe('server said: *** is not ***!');
    expect(error.message).not.toContain('hunter2');
  });

  it('returns the same object when there is nothing to remove', () => {
    const error = new ConnectorError('auth_failed', 'HTTP 401');
    expect(redactError(error, ['hunter2'])).toBe(error);
  });
});
