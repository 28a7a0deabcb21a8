import { describe, expect, it } from 'vitest';
import { clientAddressFrom } from './client-address';

describe('client address for sign-in limits', () => {
  it('is the entry the last hop added, not what the client put first', () => {
    expect(clientAddressFrom('203.0.113.9')).toBe('203.0.113.9');
    expect(clientAddressFrom('1.2.3.4, 198.51.100.7')).toBe('198.51.100.7');
    expect(clientAddressFrom(['forged', '198.51.100.8'])).toBe('198.51.100.8');
    expect(clientAddressFrom(' , 2001:db8::1 ')).toBe('2001:db8::1');
  });

  it('is null without the header', () => {
    expect(clientAddressFrom(undefined)).toBeNull();
    expect(clientAddressFrom('')).toBeNull();
  });
});
