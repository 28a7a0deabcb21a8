/**
 * The mass migration's formal check on 5,000 generated records, timed in this process (the
 * server runs the same function): median, fastest and slowest of several runs, against the
 * target of 150 ms. `generateMassList` is the list the other mass benchmarks can reuse.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { DEFAULT_ALLOWED_PORTS } from '@/server/accounts/network/host-policy';
import { formalCheck } from '@/server/migrations/mass/formal-check';
import { MASS_HEADER, type MassCheckContext } from '@/server/migrations/mass/types';
import { Rng } from '../prng';

const TARGET_MS = 150;
const RECORDS = 5_000;
const RUNS = 15;
const WARM_UP = 3;

const TYPES = ['imap', 'imap', 'imap', 'zimbra', 'kolab', 'openxchange', 'exchange', 'office365'] as const;
const FIRST = ['anna', 'bernd', 'carla', 'dieter', 'eva', 'felix', 'greta', 'hans', 'ines', 'jonas', 'katrin', 'lukas', 'mia', 'noah', 'olga', 'paul'];
const LAST = ['mueller', 'schmidt', 'schneider', 'fischer', 'weber', 'meyer', 'wagner', 'becker', 'schulz', 'hoffmann'];

const pad = (n: number) => String(n).padStart(2, '0');

function server(rng: Rng, domain: string, type: string): string {
  if (type === 'office365') return rng.chance(0.7) ? '' : 'outlook.office365.com';
  switch (rng.int(0, 4)) {
    case 0:
      return `mail.${domain}`;
    case 1:
      return `imaps://mail.${domain}`;
    case 2:
      return `imap://imap.${domain}:143`;
    case 3:
      return `mail.${domain}:993`;
    default:
      return type === 'imap' ? `imaps://mx.${domain}:993` : `https://groupware.${domain}/dav/`;
  }
}

function password(rng: Rng): string {
  const base = `${FIRST[rng.int(0, FIRST.length - 1)]}-${rng.int(1000, 99999)}`;
  // A quarter need quoting: a ; or a " in the password.
  if (rng.chance(0.15)) return `"${base};x"`;
  if (rng.chance(0.1)) return `"${base}""q"`;
  return `${base}!`;
}

/** A start between tomorrow and a month ahead at a full or half hour, in either notation. */
function date(rng: Rng, base: Date, days: number, hour: number, minute: number): string {
  const day = new Date(Date.UTC(base.getUTCFullYear(), base.getUTCMonth(), base.getUTCDate() + days));
  const [y, m, d] = [day.getUTCFullYear(), pad(day.getUTCMonth() + 1), pad(day.getUTCDate())];
  return rng.chance(0.3) ? `${d}.${m}.${y} ${pad(hour)}:${pad(minute)}` : `${y}-${m}-${d} ${pad(hour)}:${pad(minute)}`;
}

/**
 * A list as a customer moving several domains would paste it: the header, mixed types, a
 * quarter of the passwords quoted, dates in both notations (a few dozen distinct ones, or every
 * one different with `distinctDates`), and about one line in a hundred with a mistake.
 */
export function generateMassList(count: number, options: { now: Date; seed?: string; distinctDates?: boolean }): string {
  const rng = new Rng(options.seed ?? 'mass-check');
  const lines = [MASS_HEADER];
  for (let i = 0; i < count; i++) {
    const type = TYPES[rng.int(0, TYPES.length - 1)]!;
    const targetType = rng.chance(0.6) ? type : TYPES[rng.int(0, TYPES.length - 1)]!;
    const domain = `example${i % 40}.com`;
    const targetDomain = `example${i % 40}.net`;
    const local = `${FIRST[i % FIRST.length]}.${LAST[Math.floor(i / FIRST.length) % LAST.length]}${Math.floor(i / (FIRST.length * LAST.length))}`;
    const days = options.distinctDates ? 1 + (i % 300) : rng.int(1, 30);
    const hour = options.distinctDates ? i % 24 : [18, 20, 22][rng.int(0, 2)]!;
    const minute = options.distinctDates ? (i % 2) * 30 : 0;
    const start = date(rng, options.now, days, hour, minute);
    const resync = rng.chance(0.6) ? date(rng, options.now, days + 7, hour, minute) : '';
    const fields = [
      type,
      `${local}@${domain}`,
      rng.chance(0.5) ? `${local}@${domain}` : local,
      password(rng),
      server(rng, domain, type),
      targetType,
      `${local}@${targetDomain}`,
      `${local}@${targetDomain}`,
      password(rng),
      server(rng, targetDomain, targetType),
      start,
      resync,
    ];
    if (rng.chance(0.01)) {
      // A typical mistake: a typo in an address, a missing password, a private address.
      const mistake = rng.int(0, 2);
      if (mistake === 0) fields[1] = fields[1]!.replace('@', ' at ');
      else if (mistake === 1) fields[8] = '';
      else fields[4] = '192.168.1.10';
    }
    lines.push(fields.join(';'));
  }
  return `${lines.join('\r\n')}\r\n`;
}

function stats(times: number[]): { median: number; min: number; max: number } {
  const sorted = [...times].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted.at(-1)! };
}

function time(text: string, context: MassCheckContext): { times: number[]; records: number; ok: number } {
  const times: number[] = [];
  let result = formalCheck(text, context);
  for (let run = 0; run < WARM_UP + RUNS; run++) {
    const started = performance.now();
    result = formalCheck(text, context);
    if (run >= WARM_UP) times.push(performance.now() - started);
  }
  return { times, records: result.records, ok: result.accepted.length };
}

export async function run(): Promise<string[]> {
  const now = new Date();
  const context: MassCheckContext = {
    zone: 'Europe/Berlin',
    now,
    active: [],
    microsoft365: true,
    hosts: { allow: ['10.20.0.0/16', 'mail.internal:10993'], allowedPorts: DEFAULT_ALLOWED_PORTS },
  };
  const lines: string[] = [];
  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
  for (const [label, distinctDates] of [
    ['shared dates', false],
    ['every date different', true],
  ] as const) {
    const text = generateMassList(RECORDS, { now, distinctDates });
    // The first call in a fresh process also pays for compiling the code and the patterns.
    const started = performance.now();
    if (label === 'shared dates') formalCheck(text, context);
    const cold = performance.now() - started;
    const { times, records, ok } = time(text, context);
    const { median, min, max } = stats(times);
    const verdict = median < TARGET_MS ? 'under' : 'OVER';
    lines.push(
      `formal check, ${records.toLocaleString('en-US')} records (${(text.length / 1e6).toFixed(2)} MB, ${ok.toLocaleString('en-US')} ok, ${label}): median ${fmt(median)}, min ${fmt(min)}, max ${fmt(max)} over ${RUNS} runs — ${verdict} the target of ${TARGET_MS} ms`,
    );
    if (label === 'shared dates') lines.push(`formal check, first call in a fresh process: ${fmt(cold)}`);
  }
  // Other work on the machine stretches the slowest runs; the load says how much there was.
  lines.push(`machine: ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(2)} (1 min)`);
  return lines;
}
