import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateDatabase, migrationsDir, readMigrations } from '@/server/database/migrate';
import { freshDatabase } from './helpers/database';

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('migration runner', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it("records each migration in Prisma's _prisma_migrations table with its checksum, once", async () => {
    const database = await freshDatabase();
    cleanups.push(database.drop);
    const files = await readMigrations();
    expect(await migrateDatabase(database.url)).toEqual(files.map((f) => f.name));
    expect(await migrateDatabase(database.url)).toEqual([]);

    const rows = await query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
      database.url,
      'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows).toHaveLength(files.length);
    const first = files[0]!;
    const sql = await fs.readFile(path.join(migrationsDir, first.name, 'migration.sql'));
    expect(rows[0]).toMatchObject({
      migration_name: first.name,
      checksum: createHash('sha256').update(sql).digest('hex'),
      applied_steps_count: 1,
    });
    expect(rows[0]!.finished_at).toBeInstanceOf(Date);
    // The job queue's schema is installed too.
    expect(await query(database.url, "SELECT 1 FROM information_schema.schemata WHERE schema_name = 'graphile_worker'")).toHaveLength(1);
  });

  it('is safe when several processes migrate the same new database at once', async () => {
    const database = await freshDatabase();
    cleanups.push(database.drop);
    const results = await Promise.all([migrateDatabase(database.url), migrateDatabase(database.url), migrateDatabase(database.url)]);
    expect(results.flat().sort()).toEqual((await readMigrations()).map((f) => f.name));
  });

  it('refuses a migration that was edited after it was applied, and rolls back a failing one', async () => {
    const database = await freshDatabase();
    cleanups.push(database.drop);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mailferry-migrations-'));
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    await fs.cp(migrationsDir, dir, { recursive: true });
    await migrateDatabase(database.url, { dir });

    const [first] = await readMigrations(dir);
    await fs.appendFile(path.join(dir, first!.name, 'migration.sql'), '\n-- edited\n');
    await expect(migrateDatabase(database.url, { dir })).rejects.toThrow(/was changed after it was applied/);
    await fs.writeFile(path.join(dir, first!.name, 'migration.sql'), first!.sql);

    await fs.mkdir(path.join(dir, '29991231000000_broken'));
    await fs.writeFile(path.join(dir, '29991231000000_broken', 'migration.sql'), 'CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;');
    await expect(migrateDatabase(database.url, { dir })).rejects.toThrow(/29991231000000_broken failed: relation "no_such_table" does not exist/);
    expect(await query(database.url, "SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'")).toHaveLength(0);
    expect(await query(database.url, "SELECT 1 FROM _prisma_migrations WHERE migration_name = '29991231000000_broken'")).toHaveLength(0);
  });
});
