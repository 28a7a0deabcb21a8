import { describe, expect, it } from 'vitest';
import { formatHostRule, matchesHostRules, parseHostRules, type HostRule } from './host-rules';

function rulesOf(text: string): HostRule[] {
  const { rules, errors } = parseHostRules(text);
  expect(errors).toEqual([]);
  return rules;
}

describe('parseHostRules', () => {
  it('reads names, addresses and CIDRs, with and without ports, separated by commas and newlines', () => {
    const rules = rulesOf(
      'mail.internal, Mail.Example.COM.:993\n*.corp.example\n127.0.0.1/32:10143, 10.0.0.0/8\n::1/128\nfd00::/8, [::1]:993\n[fd00::]/8:443\n192.0.2.7:143\n2001:db8::1',
    );
    expect(rules).toEqual([
      { kind: 'name', name: 'mail.internal', isWildcard: false, port: null },
      { kind: 'name', name: 'mail.example.com', isWildcard: false, port: 993 },
      { kind: 'name', name: 'corp.example', isWildcard: true, port: null },
      { kind: 'cidr', network: '127.0.0.1', prefix: 32, family: 4, port: 10143 },
      { kind: 'cidr', network: '10.0.0.0', prefix: 8, family: 4, port: null },
      { kind: 'cidr', network: '::1', prefix: 128, family: 6, port: null },
      { kind: 'cidr', network: 'fd00::', prefix: 8, family: 6, port: null },
      { kind: 'cidr', network: '::1', prefix: 128, family: 6, port: 993 },
      { kind: 'cidr', network: 'fd00::', prefix: 8, family: 6, port: 443 },
      { kind: 'cidr', network: '192.0.2.7', prefix: 32, family: 4, port: 143 },
      { kind: 'cidr', network: '2001:db8::1', prefix: 128, family: 6, port: null },
    ]);
  });

  it('ignores blank entries and comments, and clears host bits of a CIDR', () => {
    expect(rulesOf('  ,\n# the lab\n10.1.2.3/8 # lab net\n\n')).toEqual([
      { kind: 'cidr', network: '10.0.0.0', prefix: 8, family: 4, port: null },
    ]);
    expect(rulesOf('fd12:3456::1/16')).toEqual([{ kind: 'cidr', network: 'fd12::', prefix: 16, family: 6, port: null }]);
  });

  it('converts international names to punycode', () => {
    expect(rulesOf('mail.bücher.example')).toEqual([
      { kind: 'name', name: 'mail.xn--bcher-kva.example', isWildcard: false, port: null },
    ]);
  });

  it('names every bad entry and keeps the good ones', () => {
    const { rules, errors } = parseHostRules(
      'ok.example, mail.internal:0, mail.internal:70000, 10.0.0.0/33, fd00::/129, [::1, [mail.example]:993, 300.1.1.1, 127.1, bad_host!.example, *.com, [::1]x, host:port',
    );
    expect(rules).toEqual([{ kind: 'name', name: 'ok.example', isWildcard: false, port: null }]);
    expect(errors).toHaveLength(12);
    for (const entry of ['mail.internal:0', 'mail.internal:70000', '10.0.0.0/33', 'fd00::/129', '[::1', '[mail.example]:993', '300.1.1.1', '127.1', 'bad_host!.example', '*.com', '[::1]x', 'host:port']) {
      expect(errors.some((error) => error.startsWith(`"${entry}"`))).toBe(true);
    }
  });
});

describe('formatHostRule', () => {
  it('writes what parseHostRules reads back', () => {
    const text = ['mail.internal', '*.example.com:993', '127.0.0.1', '127.0.0.1:10143', '10.0.0.0/8', '10.0.0.0/8:443', '::1', '[::1]:993', 'fd00::/8', '[fd00::]/8:443'];
    const rules = rulesOf(text.join(','));
    expect(rules.map(formatHostRule)).toEqual(text);
    expect(rulesOf(rules.map(formatHostRule).join('\n'))).toEqual(rules);
  });
});

describe('matchesHostRules', () => {
  const rules = rulesOf('mail.internal, *.corp.example:993, 127.0.0.1/32:10143, 10.0.0.0/8, fd00::/8, [::1]:993');

  it.each([
    [{ host: 'mail.internal', address: '192.168.1.5', port: 443 }, true],
    [{ host: 'MAIL.INTERNAL.', address: '192.168.1.5', port: 443 }, true],
    [{ host: 'other.internal', address: '192.168.1.5', port: 443 }, false],
    [{ host: 'imap.corp.example', address: '192.168.1.5', port: 993 }, true],
    [{ host: 'a.b.corp.example', address: '192.168.1.5', port: 993 }, true],
    [{ host: 'imap.corp.example', address: '192.168.1.5', port: 143 }, false],
    [{ host: 'corp.example', address: '192.168.1.5', port: 993 }, false],
    [{ host: 'evilcorp.example', address: '192.168.1.5', port: 993 }, false],
    [{ host: 'x.test', address: '127.0.0.1', port: 10143 }, true],
    [{ host: 'x.test', address: '127.0.0.1', port: 993 }, false],
    [{ host: 'x.test', address: '127.0.0.2', port: 10143 }, false],
    [{ host: 'x.test', address: '::ffff:127.0.0.1', port: 10143 }, true],
    [{ host: '10.9.8.7', address: '10.9.8.7', port: 1 }, true],
    [{ host: 'x.test', address: '11.0.0.1', port: 443 }, false],
    [{ host: 'x.test', address: 'fd12::1', port: 443 }, true],
    [{ host: 'x.test', address: 'fe80::1', port: 443 }, false],
    [{ host: 'x.test', address: '::1', port: 993 }, true],
    [{ host: 'x.test', address: '::1', port: 443 }, false],
    // NAT64 of 10.0.0.1: not the IPv4 host the admin listed.
    [{ host: 'x.test', address: '64:ff9b::a00:1', port: 443 }, false],
  ])('%o → %s', (target, expected) => {
    expect(matchesHostRules(rules, target)).toBe(expected);
  });

  it('does not let a name rule match an IP literal host', () => {
    expect(matchesHostRules(rulesOf('mail.internal'), { host: '127.0.0.1', address: '127.0.0.1', port: 993 })).toBe(false);
  });

  it('matches nothing without rules, and everything with 0.0.0.0/0 and ::/0', () => {
    expect(matchesHostRules([], { host: 'a.test', address: '127.0.0.1', port: 1 })).toBe(false);
    const all = rulesOf('0.0.0.0/0, ::/0');
    expect(matchesHostRules(all, { host: 'a.test', address: '127.0.0.1', port: 1 })).toBe(true);
    expect(matchesHostRules(all, { host: 'a.test', address: 'fe80::1%eth0', port: 1 })).toBe(true);
  });
});
