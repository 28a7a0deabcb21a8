/**
 * The submit part of `npm run bench:mass`: 500 records, all logins good, against a private
 * Dovecot on loopback and a private embedded PostgreSQL (nothing of the project's own data is
 * touched). Submits the text with the server's function, runs the background login check
 * itself (what the worker's job calls) and prints records checked per second, the time from
 * submit until every migration exists, and the database rows each record leaves behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startDovecot, type DovecotServer } from '../../../test/helpers/dovecot';
import { startBenchDatabase } from '../bench-database';

const RECORDS = 500;
const PASSWORD = 'Bench;"pw 500';

const quote = (value: string) => (/[;"\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
const userOf = (n: number, side: 'src' | 'dst') => `bench${n}-${side}@example.test`;

/** Rows of every table the portal writes, and the job queue's. */
async function rowCounts(url: string): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(
      `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS name FROM pg_tables
        WHERE schemaname = 'public' OR (schemaname = 'graphile_worker' AND tablename = '_private_jobs') ORDER BY 1`,
    );
    const counts = new Map<string, number>();
    for (const { name } of tables) {
      const { rows } = await client.query<{ count: string }>(`SELECT count(*) AS count FROM ${name}`);
      counts.set(name.replace(/^public\./, ''), Number(rows[0]!.count));
    }
    return counts;
  } finally {
    await client.end();
  }
}

export async function run(): Promise<string[]> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'mailferry-bench-mass-'));
  let dovecot: DovecotServer | undefined;
  let stopPostgres: (() => Promise<void>) | undefined;
  try {
    const users = Array.from({ length: RECORDS }, (_, i) => [
      { username: userOf(i + 1, 'src'), password: PASSWORD },
      { username: userOf(i + 1, 'dst'), password: PASSWORD },
    ]).flat();
    dovecot = await startDovecot({ users, tls: 'none' });

    // Before the first read of the environment: this process's own database and the loopback Dovecot.
    process.env.MAILFERRY_LOG_LEVEL ??= 'warn';
    process.env.MAILFERRY_ALLOWED_HOSTS = `127.0.0.1/32:${dovecot.port}`;
    process.env.MAILFERRY_INSECURE_HOSTS = '127.0.0.1';
    process.env.MAILFERRY_SEALING_KEYS = `bench:${randomBytes(32).toString('base64')}`;

    const database = await startBenchDatabase(tmp);
    stopPostgres = () => database.stop();
    const { url } = database;

    const { createDb } = await import('../../../server/db');
    const { keyRing } = await import('../../../server/crypto/runtime');
    const { issueKeys } = await import('../../../server/licensing/keys');
    const { registerKey } = await import('../../../server/licensing/registration');
    const { submitMassMigration } = await import('../../../server/migrations/mass/submit');
    const { checkMassRecords } = await import('../../../server/migrations/mass/check-records');
    const { MASS_HEADER } = await import('../../../server/migrations/mass/types');

    const db = createDb(url);
    try {
      const organization = await db.organization.create({ data: { name: 'Bench customer', kind: 'customer' }, select: { id: true } });
      const user = await db.user.create({
        data: { email: 'bench@example.test', passwordHash: 'not-used', role: 'customer', organizationId: organization.id },
        select: { id: true },
      });
      for (let i = 0; i < RECORDS / 100; i++) {
        const { keys } = await issueKeys(db, null, { resellerId: null, size: 100, count: 1 });
        await registerKey(db, { organizationId: organization.id, actor: { userId: user.id } }, { key: keys[0]!.key });
      }

      const server = `imap://127.0.0.1:${dovecot.port}`;
      const start = new Date(Date.now() + 86_400_000).toISOString().slice(0, 16).replace('T', ' ');
      const lines = Array.from({ length: RECORDS }, (_, i) => {
        const source = userOf(i + 1, 'src');
        const target = userOf(i + 1, 'dst');
        return ['imap', source, source, PASSWORD, server, 'imap', target, target, PASSWORD, server, start, ''].map(quote).join(';');
      });
      const text = `${MASS_HEADER}\n${lines.join('\n')}\n`;

      const before = await rowCounts(url);
      const submittedAt = performance.now();
      const result = await submitMassMigration(db, keyRing, { userId: user.id, organizationId: organization.id }, text, { zone: 'UTC' });
      if (!result.ok) throw new Error(`the submission was refused: ${result.message}`);
      const submitMs = performance.now() - submittedAt;

      const checkStarted = performance.now();
      const outcome = await checkMassRecords(db, result.submissionId, { ring: await keyRing(), timeBudgetMs: 3_600_000 });
      const checkMs = performance.now() - checkStarted;
      const totalMs = performance.now() - submittedAt;
      const submission = await db.massSubmission.findUniqueOrThrow({ where: { id: result.submissionId }, select: { state: true, created: true, failed: true } });
      if (outcome !== 'done' || submission.created !== RECORDS) {
        throw new Error(`expected ${RECORDS} migrations, got ${submission.created} (${submission.failed} failed, check ${outcome})`);
      }
      const after = await rowCounts(url);

      const grown = [...after]
        .map(([table, count]) => ({ table, rows: count - (before.get(table) ?? 0) }))
        .filter((t) => t.rows !== 0)
        .sort((a, b) => b.rows - a.rows || a.table.localeCompare(b.table));
      const total = grown.reduce((sum, t) => sum + t.rows, 0);
      const perRecord = (rows: number) => (rows / RECORDS).toFixed(3);
      return [
        `submit of ${RECORDS} records (formal check, ${RECORDS} units reserved, records sealed and stored): ${submitMs.toFixed(0)} ms`,
        `login check of ${RECORDS} records (2 logins each, all good, 8 records / 4 logins per host at once): ${checkMs.toFixed(0)} ms = ${((RECORDS / checkMs) * 1000).toFixed(1)} records/s`,
        `total from submit until all ${RECORDS} migrations exist: ${(totalMs / 1000).toFixed(2)} s`,
        `database rows per record: ${perRecord(total)} rows/record (${total} rows for ${RECORDS} records)`,
        ...grown.map((t) => `  ${t.table}: ${perRecord(t.rows)} rows/record (${t.rows} rows)`),
      ];
    } finally {
      await db.$disconnect();
    }
  } finally {
    await dovecot?.stop();
    await stopPostgres?.();
    await rm(tmp, { recursive: true, force: true });
  }
}
