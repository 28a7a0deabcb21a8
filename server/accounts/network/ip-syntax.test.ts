import net from 'node:net';
import { domainToASCII } from 'node:url';
import { describe, expect, it } from 'vitest';
import { domainToAscii, isIP, isIPv4, isIPv6 } from './ip-syntax';

// The browser-safe checks must answer exactly as Node's, which the host policy relied on before.

const ADDRESSES = [
  '127.0.0.1', '0.0.0.0', '255.255.255.255', '256.0.0.1', '01.2.3.4', '1.2.3', '1.2.3.4.', ' 1.2.3.4', '1.2.3.4 ', '1.2.3.04',
  '::', '::1', '1::', 'fe80::1%eth0', 'fe80::1%', '::ffff:127.0.0.1', '::ffff:127.0.0.01', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9',
  '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1::3:4:5:6:7:8', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:1.2.3.4', ':1', '1:', ':::', '1:::2',
  '2001:db8::8a2e:370:7334', '2001:DB8::1', 'g::1', '12345::', '[::1]', '64:ff9b::192.0.2.1', 'fe80::1%25eth0', '0x7f.1', '2130706433', '',
];

/** Mostly valid IPv6 and IPv4 forms: groups of 1-4 digits, a run compressed to ::, an IPv4 tail, a zone. */
function randomAddress(random: () => number): string {
  const int = (n: number) => Math.floor(random() * n);
  if (random() < 0.2) return Array.from({ length: 4 }, () => String(int(300))).join('.');
  const tail = random() < 0.2;
  const groups = Array.from({ length: tail ? 6 : 8 }, () => int(0x10000).toString(16).slice(0, 1 + int(4)));
  if (tail) groups.push(Array.from({ length: 4 }, () => String(int(260))).join('.'));
  let text = groups.join(':');
  if (random() < 0.6) {
    const start = int(groups.length);
    const end = start + int(groups.length - start + 1);
    text = `${groups.slice(0, start).join(':')}::${groups.slice(end).join(':')}`;
  }
  return random() < 0.1 ? `${text}%eth${int(3)}` : text;
}

function randomText(random: () => number): string {
  const alphabet = '0123456789abcdefABCDEF:.%g ';
  return Array.from({ length: 1 + Math.floor(random() * 20) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
}

describe('IP syntax without node:net', () => {
  it('answers as net.isIPv4, net.isIPv6 and net.isIP', () => {
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    // Random strings seldom form addresses; these do, with one character changed.
    const variants = ADDRESSES.flatMap((address) => [address, ...Array.from({ length: 5 }, () => mutate(address, random))]);
    const generated = Array.from({ length: 5_000 }, () => randomAddress(random));
    const samples = [...variants, ...generated, ...generated.map((a) => mutate(a, random)), ...Array.from({ length: 20_000 }, () => randomText(random))];
    const differences = samples.filter((s) => isIPv4(s) !== net.isIPv4(s) || isIPv6(s) !== net.isIPv6(s) || isIP(s) !== net.isIP(s));
    expect(differences).toEqual([]);
    expect(samples.filter((s) => net.isIP(s) !== 0).length).toBeGreaterThan(2_000);
  });
});

function mutate(text: string, random: () => number): string {
  const chars = [...text];
  const at = Math.floor(random() * (chars.length + 1));
  const replacement = '0:.f%'[Math.floor(random() * 5)]!;
  if (random() < 0.5) chars.splice(at, 1, replacement);
  else chars.splice(at, 0, replacement);
  return chars.join('');
}

describe('host names without node:url', () => {
  it('answers as url.domainToASCII', () => {
    const names = [
      'mail.example.com', 'MAIL.Example.COM', 'münchen.de', 'xn--mnchen-3ya.de', 'faß.de', 'ＥＸＡＭＰＬＥ.com', 'a\u00adb.com', 'ex_ample.com',
      'a..b', '.a', 'a.', '-a.com', 'a-.com', 'x', 'y', 'X', 'a/b', 'a?b', 'a#b', 'a@b', 'a:b', 'a:80', 'a\\b', 'a b', ' a', 'a\tb', '%', 'a%2eb', 'a%zz',
      '1.2.3.0x10', '0x7f.1', '127.1', '999.1.1.1', '1.2.3.4.5', '[::1]', '::1', '[::1', 'xn--', 'xn--a', '', '*.example.com', 'a<b', 'a^b', 'a|b',
      '\u0000', 'ab\u0000', 'a\u3002b', '\u{1F600}.com', 'xn--zca.de', 'ß', 'İ.com', 'a'.repeat(64), `${'a'.repeat(63)}.com`,
    ];
    expect(names.map(domainToAscii)).toEqual(names.map((name) => domainToASCII(name)));
  });
});
