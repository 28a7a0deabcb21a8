import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../server/database/embedded';
import { migrateDatabase } from '../server/database/migrate';
import { freePorts } from './helpers/free-port';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated database shared by the run; tests isolate themselves with unique names. */
    databaseUrl: string;
    /** The same server's maintenance database, for tests that need a fresh database of their own. */
    adminDatabaseUrl: string;
  }
}

let server: EmbeddedPostgres | undefined;
let dataDir: string | undefined;

/** A private PostgreSQL for the whole test run, started from the embedded binaries. */
export async function setup(project: TestProject): Promise<void> {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mailferry-test-pg-'));
  // mkdtemp makes it 0700; as root the server runs as user postgres, which must pass through.
  await fs.chmod(dataDir, 0o711);
  const [port] = await freePorts(1, '127.0.0.1');
  server = await startEmbeddedPostgres({
    dataDir: path.join(dataDir, 'cluster'),
    port: port!,
    user: 'mailferry_test',
    password: randomBytes(12).toString('hex'),
  });
  const admin = new pg.Client({ connectionString: server.url('postgres') });
  await admin.connect();
  await admin.query('CREATE DATABASE mailferry_test');
  await admin.end();
  const databaseUrl = server.url('mailferry_test');
  await migrateDatabase(databaseUrl);
  project.provide('databaseUrl', databaseUrl);
  project.provide('adminDatabaseUrl', server.url('postgres'));
  process.env.DATABASE_URL = databaseUrl;
}

export async function teardown(): Promise<void> {
  await server?.stop();
  if (server) await fs.rm(server.dataDir, { recursive: true, force: true });
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
}
