import { randomBytes } from 'node:crypto';
import { chmod } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { freePorts } from '../../test/helpers/free-port';

/**
 * A private, migrated PostgreSQL for a bench under `tmp` (its cluster in `tmp/cluster`), set as
 * this process's DATABASE_URL. Import the server's modules that read the environment after it.
 */
export async function startBenchDatabase(tmp: string): Promise<{ url: string; stop(): Promise<void> }> {
  const { startEmbeddedPostgres } = await import('../../server/database/embedded');
  const { migrateDatabase } = await import('../../server/database/migrate');
  const [port] = await freePorts(1, '127.0.0.1');
  // As root the server runs as user postgres, which must pass through the temp folder.
  await chmod(tmp, 0o711);
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(tmp, 'cluster'), port: port!, user: 'bench', password: randomBytes(12).toString('hex') });
  try {
    const admin = new pg.Client({ connectionString: postgres.url('postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE mailferry_bench');
    await admin.end();
    const url = postgres.url('mailferry_bench');
    await migrateDatabase(url);
    process.env.DATABASE_URL = url;
    return { url, stop: () => postgres.stop() };
  } catch (error) {
    await postgres.stop();
    throw error;
  }
}
