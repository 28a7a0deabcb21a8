import { describe, expect, it } from 'vitest';
import { isPortPermitted, isPortPermittedForName, judgeAddress } from './address-policy';
import { DEFAULT_ALLOWED_PORTS } from './host-policy';
import { parseHostRules } from './host-rules';

function policy(allow: string) {
  return { allow: parseHostRules(allow).rules, allowedPorts: DEFAULT_ALLOWED_PORTS };
}

describe('address policy', () => {
  it('permits the default ports, and others only where a rule names them', () => {
    expect(isPortPermitted(policy(''), 993)).toBe(true);
    expect(isPortPermitted(policy(''), 25)).toBe(false);
    expect(isPortPermitted(policy('mail.internal:2525'), 2525)).toBe(true);
  });

  it('refuses addresses that are not public unless a rule covers them, by address and port', () => {
    expect(judgeAddress(policy(''), { host: '93.184.215.14', address: '93.184.215.14', port: 993 })).toEqual({ ok: true });
    expect(judgeAddress(policy(''), { host: '10.0.0.5', address: '10.0.0.5', port: 993 })).toEqual({ ok: false, refused: 'address', kind: 'private' });
    expect(judgeAddress(policy('10.0.0.0/8'), { host: '10.0.0.5', address: '10.0.0.5', port: 993 })).toEqual({ ok: true });
    expect(judgeAddress(policy('mail.internal'), { host: 'mail.internal', address: '10.0.0.5', port: 993 })).toEqual({ ok: true });
    expect(judgeAddress(policy('10.0.0.0/8'), { host: '10.0.0.5', address: '10.0.0.5', port: 10993 })).toEqual({ ok: false, refused: 'port' });
    expect(judgeAddress(policy('10.0.0.5:10993'), { host: '10.0.0.5', address: '10.0.0.5', port: 10993 })).toEqual({ ok: true });
  });

  it('tells, before any lookup, whether a name could reach a port no default allows', () => {
    expect(isPortPermittedForName(policy(''), 'mail.example.com', 993)).toBe(true);
    expect(isPortPermittedForName(policy(''), 'mail.example.com', 10993)).toBe(false);
    expect(isPortPermittedForName(policy('mail.internal:10993'), 'mail.internal', 10993)).toBe(true);
    expect(isPortPermittedForName(policy('*.mail.internal:10993'), 'imap.mail.internal', 10993)).toBe(true);
    expect(isPortPermittedForName(policy('mail.internal:10993'), 'other.internal', 10993)).toBe(false);
    // Whatever the name resolves to may lie in the rule's network: decided after the lookup.
    expect(isPortPermittedForName(policy('10.0.0.0/8:10993'), 'other.internal', 10993)).toBe(true);
  });
});
