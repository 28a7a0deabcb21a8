import { describe, expect, it } from 'vitest';
import { retryAfterSeconds, scrub } from './http';
import { isClientId, isTenantId } from './oauth';

describe('Retry-After', () => {
  it('reads delta-seconds and HTTP dates, and ignores nonsense', () => {
    const now = Date.parse('2026-11-28T10:00:00Z');
    expect(retryAfterSeconds('3', now)).toBe(3);
    expect(retryAfterSeconds('Sat, 28 Nov 2026 10:00:04 GMT', now)).toBe(4);
    expect(retryAfterSeconds('Sat, 28 Nov 2026 09:59:00 GMT', now)).toBe(0);
    expect(retryAfterSeconds('soon', now)).toBeNull();
    expect(retryAfterSeconds(null, now)).toBeNull();
  });
});

describe('scrub', () => {
  it('replaces every secret, flattens and bounds server text', () => {
    expect(scrub('a\r\nsecret-1 and secret-1 again', ['secret-1'])).toBe('a [redacted] and [redacted] again');
    const secret = 'a+b c~"';
    const echoed = `client_secret=${new URLSearchParams({ s: secret }).toString().slice(2)}&json=${JSON.stringify({ s: secret })}`;
    expect(scrub(echoed, [secret])).toBe('client_secret=[redacted]&json={"s":"[redacted]"}');
    expect(scrub('x'.repeat(400), [])).toHaveLength(301);
  });
});

describe('tenant and client ids', () => {
  it('takes a GUID or a domain for the tenant and only a GUID for the app', () => {
    expect(isTenantId('6f1c2e4a-0b7d-4c1e-9a53-2d8e7f604b11')).toBe(true);
    expect(isTenantId('contoso.onmicrosoft.com')).toBe(true);
    expect(isTenantId('common')).toBe(false);
    expect(isTenantId('organizations')).toBe(false);
    expect(isTenantId('contoso.com/../x')).toBe(false);
    expect(isTenantId('contoso.com?x=1')).toBe(false);
    expect(isClientId('0e5d6c3b-8a21-4f7e-b0c9-4d2a1e3f5b66')).toBe(true);
    expect(isClientId('contoso.com')).toBe(false);
  });
});
