import { describe, expect, it } from 'vitest';
import { redact } from './logger';

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
});
