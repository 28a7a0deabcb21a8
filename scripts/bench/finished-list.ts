/**
 * How fast the *Finished migrations* list answers for one organization with 10,000 ended
 * migrations: the first page, a later page by cursor, a search that hits and one that misses,
 * each through the same function the API calls, against a private embedded PostgreSQL (nothing
 * of the project's own data is touched). Prints p50 / p95 / max per query against the 200 ms
 * target at p95.
 *
 *   node --import tsx scripts/bench/finished-list.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { startBenchDatabase } from './bench-database';

const MIGRATIONS = 10_000;
const RUNS = 60;
const TARGET_MS = 200;
const ZONE = 'Europe/Berlin';

/** Ended migrations with both accounts and their verification, a few failed and incomplete ones with their reasons, in one statement each. */
async function seed(url: string, organizationId: string, otherId: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const [org, count] of [[organizationId, MIGRATIONS], [otherId, MIGRATIONS]] as const) {
      await client.query(
        `WITH made AS (
           INSERT INTO migrations (id, organization_id, state, start_at, started_at, finished_at, failure_reason, total_messages, copied_messages, failed_messages, created_at, updated_at)
           SELECT gen_random_uuid(), $1::uuid,
                  (CASE WHEN n % 20 = 0 THEN 'failed' WHEN n % 17 = 0 THEN 'incomplete' WHEN n % 31 = 0 THEN 'cancelled' ELSE 'finished' END)::migration_state,
                  at - interval '2 hours', at - interval '2 hours', at,
                  CASE WHEN n % 20 = 0 THEN 'The source server refused the login.' END,
                  1000 + n % 500, 1000 + n % 500 - (CASE WHEN n % 17 = 0 THEN 3 ELSE 0 END), CASE WHEN n % 17 = 0 THEN 3 ELSE 0 END,
                  at - interval '3 hours', at
             FROM (SELECT n, timestamptz '2026-01-01 00:00Z' + (n / 3) * interval '7 minutes' AS at FROM generate_series(1, $2::int) AS n) AS g
           RETURNING id, total_messages
         ), numbered AS (SELECT id, row_number() OVER () AS n FROM made)
         INSERT INTO migration_accounts (migration_id, side, type, email, username, server)
         SELECT id, side::migration_side, 'imap',
                CASE side WHEN 'source' THEN 'user' || n || '@old-' || $3 || '.example' ELSE 'User' || n || '@new-' || $3 || '.example' END,
                'login' || n, 'imap://mail.example'
           FROM numbered CROSS JOIN (VALUES ('source'), ('target')) AS s(side)`,
        [org, count, org === organizationId ? 'mine' : 'theirs'],
      );
    }
    // Every migration that did not fail was verified: three folders each, every 17th with a gap.
    await client.query(
      `INSERT INTO migration_verifications (migration_id, source_path, target_path, pass, source_messages, present_messages, missing_messages, missing_reported, missing_uids, verified_at)
       SELECT m.id, f.path, f.path, 'run', m.total_messages / 3, m.total_messages / 3 - CASE WHEN m.state = 'incomplete' AND f.path = 'INBOX' THEN 3 ELSE 0 END,
              CASE WHEN m.state = 'incomplete' AND f.path = 'INBOX' THEN 3 ELSE 0 END, CASE WHEN m.state = 'incomplete' AND f.path = 'INBOX' THEN 1 ELSE 0 END, '{}', m.finished_at
         FROM migrations AS m CROSS JOIN (VALUES ('INBOX'), ('Sent'), ('Archive')) AS f(path)
        WHERE m.state <> 'failed'`,
    );
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

function summary(name: string, times: number[]): { line: string; p95: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const p95 = at(0.95);
  const ms = (v: number) => v.toFixed(1).padStart(7);
  return { line: `  ${name.padEnd(28)} p50 ${ms(at(0.5))} ms   p95 ${ms(p95)} ms   max ${ms(sorted.at(-1)!)} ms   ${p95 <= TARGET_MS ? 'ok' : 'OVER TARGET'}`, p95 };
}

export async function main(): Promise<number> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'mailferry-bench-finished-'));
  let stopPostgres: (() => Promise<void>) | undefined;
  try {
    process.env.MAILFERRY_LOG_LEVEL ??= 'warn';
    const database = await startBenchDatabase(tmp);
    stopPostgres = () => database.stop();
    const { url } = database;

    const { createDb } = await import('../../server/db');
    const { listFinishedMigrations } = await import('../../server/migrations/list-migrations');
    const db = createDb(url);
    try {
      const [mine, theirs] = await Promise.all(
        ['Bench customer', 'Other customer'].map((name) => db.organization.create({ data: { name, kind: 'customer' }, select: { id: true } })),
      );
      const seeded = performance.now();
      await seed(url, mine!.id, theirs!.id);
      console.log(`Seeded ${MIGRATIONS.toLocaleString('en-GB')} ended migrations in each of two organizations in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);

      const list = (input: Parameters<typeof listFinishedMigrations>[2]) => listFinishedMigrations(db, mine!.id, input, ZONE);
      // A cursor 40 pages in: what "Load more" sends after a long scroll.
      let cursor: string | null = null;
      for (let i = 0; i < 40; i++) cursor = (await list({ cursor })).nextCursor;
      const oldestCursor = (await list({ sort: 'oldest' })).nextCursor;

      const cases: { name: string; run: () => Promise<{ items: unknown[] }>; expect: (n: number) => boolean }[] = [
        { name: 'first page (newest)', run: () => list({}), expect: (n) => n === 25 },
        { name: 'page 41 by cursor', run: () => list({ cursor }), expect: (n) => n === 25 },
        { name: 'second page (oldest first)', run: () => list({ sort: 'oldest', cursor: oldestCursor }), expect: (n) => n === 25 },
        { name: 'search, hit (user12)', run: () => list({ search: 'USER12' }), expect: (n) => n === 25 },
        { name: 'search, single hit', run: () => list({ search: 'user9999@old' }), expect: (n) => n === 1 },
        { name: 'search, miss', run: () => list({ search: 'nobody@' }), expect: (n) => n === 0 },
      ];
      const lines: string[] = [];
      let worst = 0;
      for (const c of cases) {
        for (let i = 0; i < 5; i++) await c.run(); // warm-up: plans and connections
        const times: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const started = performance.now();
          const page = await c.run();
          times.push(performance.now() - started);
          if (!c.expect(page.items.length)) throw new Error(`${c.name}: unexpected ${page.items.length} rows`);
        }
        const s = summary(c.name, times);
        worst = Math.max(worst, s.p95);
        lines.push(s.line);
      }
      console.log(`Finished list, ${MIGRATIONS.toLocaleString('en-GB')} migrations, ${RUNS} runs each (target p95 ≤ ${TARGET_MS} ms):`);
      for (const line of lines) console.log(line);
      console.log(worst <= TARGET_MS ? `All within the target (worst p95 ${worst.toFixed(1)} ms).` : `Worst p95 ${worst.toFixed(1)} ms is over the target.`);
      return worst <= TARGET_MS ? 0 : 1;
    } finally {
      await db.$disconnect();
    }
  } finally {
    await stopPostgres?.();
    await rm(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
