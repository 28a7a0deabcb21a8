import { describe, expect, it } from 'vitest';
import { isSecretField, redact } from './logger';

describe('log redaction', () => {
  it('replaces values under secret-looking keys at any depth', () => {
    const out = redact({ user: 'a@b.c', password: 'hunter2', nested: { clientSecret: 's', list: [{ accessToken: 't' }] }, Authorization: 'Basic x' });
    expect(JSON.stringify(out)).not.toMatch(/hunter2|"s"|"t"|Basic x/);
    expect(out).toMatchObject({ user: 'a@b.c', password: '[redacted]', nested: { clientSecret: '[redacted]' } });
  });

  it('keeps only name, message and code of errors', () => {
    const error = Object.assign(new Error('boom'), { code: 'ECONNREFUSED', config: { password: 'p' } });
    expect(redact(error)).toEqual({ name: 'Error', message: 'boom', code: 'ECONNREFUSED' });
  });

  it('masks whole known fields, never other fields or text that merely contains a secret word', () => {
    const out = redact({ password: 'x', pass: 'x', message: 'Exchange.asmx', bypassed: 3, tokens: 2, endpoint: 'https://h/EWS/Exchange.asmx' });
    expect(out).toEqual({ password: '[redacted]', pass: '[redacted]', message: 'Exchange.asmx', bypassed: 3, tokens: 2, endpoint: 'https://h/EWS/Exchange.asmx' });
    for (const key of ['clientSecret', 'accessToken', 'refresh_token', 'admin-password', 'Authorization', 'apiKey']) expect(isSecretField(key), key).toBe(true);
    for (const key of ['passes', 'bypass', 'tokenCount', 'secretary', 'user']) expect(isSecretField(key), key).toBe(false);
  });
});
