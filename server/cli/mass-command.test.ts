import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseEnv } from '../env';
import { MASS_HEADER } from '../migrations/mass/types';
import { parseArgs } from './commands';
import { massCommand, type MassCheckJson } from './mass-command';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-mass-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const full = path.join(dir, name);
  await writeFile(full, text);
  return full;
}

const row = (source: string, target: string, extra: { password?: string; server?: string; start?: string; resync?: string; type?: string } = {}) =>
  [
    extra.type ?? 'imap',
    source,
    'user',
    extra.password ?? 'Pass-1',
    extra.server ?? 'mail.example.com',
    'imap',
    target,
    'user',
    'Pass-2',
    'mail.example.net',
    extra.start ?? '2099-02-01 20:00',
    extra.resync ?? '',
  ].join(';');

async function ferry(argv: string[], environment: Record<string, string> = {}) {
  const out: string[] = [];
  const errors: string[] = [];
  const stderr = vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
  try {
    const { args, options } = parseArgs(argv);
    const code = await massCommand.run({ env: parseEnv({ MAILFERRY_TIMEZONE: 'Europe/Berlin', ...environment }), args, options, out: (line) => out.push(line) });
    return { code, out, err: errors.join('\n') };
  } finally {
    stderr.mockRestore();
  }
}

describe('ferry mass check', () => {
  it('prints ok for every record of a clean list, without its blank, comment and header lines, and exits 0', async () => {
    const list = await file('clean.csv', `# two mailboxes\n${MASS_HEADER}\n\n${row('a@example.com', 'a@example.net')}\r\n${row('b@example.com', 'b@example.net', { password: '"pa;ss""x"' })}\n`);
    const result = await ferry(['check', list]);
    expect(result.out).toEqual(['line 4: ok', 'line 5: ok', '2 records: 2 ok. Clean: the list can be submitted.']);
    expect(result.code).toBe(0);
  });

  it('prints the reasons of every wrong line and duplicate, never a password, and exits 1', async () => {
    const list = await file(
      'mixed.csv',
      [
        row('a@example.com', 'a@example.net'),
        row('bad', 'b@example.net', { password: '', start: '31.02.2099 10:00' }),
        row('A@Example.com', 'a@example.net', { password: 'Hunter2-Secret' }),
        'imap;x@example.com;"Hunter3-Secret',
        row('c@example.com', 'c@example.net', { start: '2000-01-01 10:00' }),
      ].join('\n'),
    );
    const result = await ferry(['check', list]);
    expect(result.out).toEqual([
      'line 1: ok',
      'line 2: invalid: source.email: This is not a valid email address; source.password: The password is missing; startdate: “31.02.2099 10:00” is not a date and time that exists; use YYYY-MM-DD HH:MM or DD.MM.YYYY HH:MM',
      'line 3: duplicate of line 1',
      expect.stringMatching(/^line 4: invalid: A quotation mark \(".*not closed on this line/),
      'line 5: ok (The start is not in the future: the migration starts as soon as it is accepted.)',
      '5 records: 2 ok, 2 invalid, 1 duplicate. Not clean: correct the lines above, then check again.',
    ]);
    expect(result.code).toBe(1);
    expect(result.out.join('\n')).not.toMatch(/Hunter|Pass-/);
  });

  it('prints exactly the agreed JSON with --json, before or after the file', async () => {
    const list = await file('json.csv', `${MASS_HEADER}\n${row('a@example.com', 'a@example.net')}\n${row('a@example.com', 'a@example.net', { password: 'Hunter2' })}\nonly;three;fields\n`);
    for (const argv of [['check', list, '--json'], ['check', '--json', list]]) {
      const result = await ferry(argv);
      expect(result.code).toBe(1);
      expect(result.out).toHaveLength(1);
      const report = JSON.parse(result.out[0]!) as MassCheckJson;
      expect(report).toEqual({
        records: 3,
        clean: false,
        error: null,
        lines: [
          { line: 1, status: 'ignored', duplicateOf: null, fields: {}, problem: null },
          { line: 2, status: 'ok', duplicateOf: null, fields: {}, problem: null },
          { line: 3, status: 'duplicate', duplicateOf: 2, fields: {}, problem: 'duplicate of line 2' },
          { line: 4, status: 'invalid', duplicateOf: null, fields: {}, problem: expect.stringMatching(/^This line has 3 fields; a record has 12/) },
        ],
      });
      expect(result.out[0]).not.toMatch(/Hunter|Pass-|values|raw|notes/);
    }
    const clean = await ferry(['check', await file('one.csv', row('a@example.com', 'a@example.net')), '--json']);
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.out[0]!)).toMatchObject({ records: 1, clean: true, error: null });
  });

  it('reads the dates in MAILFERRY_TIMEZONE', async () => {
    const list = await file('dst.csv', row('a@example.com', 'a@example.net', { start: '2099-03-29 02:30' }));
    const berlin = await ferry(['check', list]);
    expect(berlin.out[0]).toBe('line 1: invalid: startdate: 2099-03-29 02:30 does not exist in Europe/Berlin: the clocks are put forward at that time. Choose a time an hour later');
    expect((await ferry(['check', list], { MAILFERRY_TIMEZONE: 'Asia/Tokyo' })).out[0]).toBe('line 1: ok');
  });

  it('allows private servers that MAILFERRY_ALLOWED_HOSTS names, and refuses rules it cannot read', async () => {
    const list = await file('private.csv', row('a@example.com', 'a@example.net', { server: 'imaps://10.1.2.3' }));
    expect((await ferry(['check', list])).out[0]).toMatch(/^line 1: invalid: source.server: 10\.1\.2\.3 is an address of a private network/);
    expect((await ferry(['check', list], { MAILFERRY_ALLOWED_HOSTS: 'mail.internal:993,10.0.0.0/8' })).out[0]).toBe('line 1: ok');
    const broken = await ferry(['check', list], { MAILFERRY_ALLOWED_HOSTS: '10.0.0.0/99' });
    expect(broken.code).toBe(2);
    expect(broken.err).toMatch(/^MAILFERRY_ALLOWED_HOSTS: "10\.0\.0\.0\/99": prefix length/);
  });

  it('lets office365 lines leave the password empty with --microsoft365', async () => {
    const list = await file('m365.csv', row('a@example.com', 'a@example.net', { type: 'office365', password: '', server: '' }));
    expect((await ferry(['check', list])).out[0]).toMatch(/source.password: The password is missing\. An office365 account may leave it empty only when/);
    expect((await ferry(['check', list, '--microsoft365'])).out[0]).toBe('line 1: ok');
  });

  it('says why a list over the limit or without records is refused, and exits 1', async () => {
    const big = await file('big.csv', Array.from({ length: 5_001 }, (_, i) => row(`u${i}@example.com`, `u${i}@example.net`)).join('\n'));
    const result = await ferry(['check', big]);
    expect(result.out).toEqual(['✗ This list has 5,001 records; at most 5,000 can be submitted at once. Split it and submit the parts one after the other.']);
    expect(result.code).toBe(1);
    const json = await ferry(['check', big, '--json']);
    expect(JSON.parse(json.out[0]!)).toEqual({ records: 5_001, clean: false, error: expect.stringContaining('5,001 records'), lines: [] });
    expect((await ferry(['check', await file('empty.csv', `# nothing yet\n${MASS_HEADER}\n`)])).code).toBe(1);
  });

  it('exits 2 for wrong usage and for a file it cannot read, saying why', async () => {
    const list = await file('usage.csv', row('a@example.com', 'a@example.net'));
    const cases: [string[], RegExp][] = [
      [[], /Name the action: mass check FILE/],
      [['verify', list], /Unknown action "verify"/],
      [['check'], /Name the file to check/],
      [['check', list, list], /Name one file \(got 2\)/],
      [['check', list, '--fresh'], /Unknown option --fresh/],
      [['check', path.join(dir, 'missing.csv')], /Cannot read .*missing\.csv: there is no such file/],
      [['check', dir], /Cannot read .*: it is a folder/],
    ];
    for (const [argv, message] of cases) {
      const result = await ferry(argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.err).toMatch(message);
      expect(result.err).toContain('Usage: npm run ferry -- mass check FILE');
      expect(result.out).toEqual([]);
    }
  });

  it('runs as `npm run ferry -- mass check FILE --json` with only the JSON on standard output', async () => {
    const list = await file('spawned.csv', `${row('a@example.com', 'a@example.net')}\n${row('a@example.com', 'a@example.net')}\n`);
    const child = spawn(process.execPath, [path.resolve('scripts/ferry.mjs'), 'mass', 'check', list, '--json'], {
      env: { ...process.env, MAILFERRY_TIMEZONE: 'Europe/Berlin', MAILFERRY_ALLOWED_HOSTS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ records: 2, clean: false, lines: [{ line: 1, status: 'ok' }, { line: 2, status: 'duplicate', duplicateOf: 1 }] });
  }, 60_000);
});
