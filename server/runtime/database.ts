import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../database/embedded';
import { migrateDatabase } from '../database/migrate';
import type { Env } from '../env';
import { createLogger } from '../logger';

const log = createLogger('database');

export interface PreparedDatabase {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

export const EMBEDDED_DATABASE = 'mailferry';
export const EMBEDDED_USER = 'mailferry';

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

/**
 * The database for this process tree: the server named by DATABASE_URL, or else an embedded
 * PostgreSQL under the data folder. Either way it is migrated before it is handed out.
 */
export async function prepareDatabase(env: Env, dataDir: string, postgresPassword: string): Promise<PreparedDatabase> {
  if (env.DATABASE_URL) {
    await migrateDatabase(env.DATABASE_URL);
    return { url: env.DATABASE_URL, embedded: false, stop: async () => undefined };
  }
  const server = await startEmbeddedPostgres({
    dataDir: path.join(dataDir, 'postgres'),
    port: env.MAILFERRY_PG_PORT,
    user: EMBEDDED_USER,
    password: postgresPassword,
  });
  try {
    await ensureDatabase(server.url('postgres'), EMBEDDED_DATABASE);
    const url = server.url(EMBEDDED_DATABASE);
    await migrateDatabase(url);
    log.info('embedded PostgreSQL ready', { port: env.MAILFERRY_PG_PORT, dataDir: server.dataDir });
    return { url, embedded: true, stop: () => server.stop() };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
