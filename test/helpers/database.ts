import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { hashPassword } from '@/server/auth/password';
import { migrateDatabase } from '@/server/database/migrate';
import { createDb, type Db } from '@/server/db';
import type { TenantScope } from '@/server/organizations/tenant-scope';

let shared: Db | undefined;

/** The run's migrated database (see test/global-setup.ts), one client per test file. */
export function testDb(): Db {
  if (!shared) {
    shared = createDb(inject('databaseUrl'));
    afterAll(async () => {
      await shared?.$disconnect();
      shared = undefined;
    });
  }
  return shared;
}

/** An empty database of its own on the test server, dropped by `drop()`. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `fresh_${randomBytes(6).toString('hex')}`;
  const adminUrl = inject('adminDatabaseUrl');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = adminUrl.replace(/\/postgres$/, `/${name}`);
  return {
    url,
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}@example.test`;
}

// Hashing is deliberately slow; seeded users share one hash of this password.
export const SEED_PASSWORD = 'correct horse battery';
let seedHash: Promise<string> | undefined;

export async function seedUser(db: Db, role: 'admin' | 'reseller' | 'customer', organizationId: string | null) {
  seedHash ??= hashPassword(SEED_PASSWORD);
  return db.user.create({
    data: { email: uniqueEmail(role), passwordHash: await seedHash, role, organizationId },
    select: { id: true, email: true, role: true, organizationId: true },
  });
}

export async function seedOrganization(db: Db, kind: 'reseller' | 'customer', resellerId: string | null = null) {
  const organization = await db.organization.create({
    data: { name: `${kind} ${randomUUID().slice(0, 6)}`, kind, resellerId },
    select: { id: true, name: true, kind: true },
  });
  const user = await seedUser(db, kind, organization.id);
  const scope: TenantScope = { role: kind, organizationId: organization.id };
  return { organization, user, scope };
}

/**
 * A migrated database of the file's own (job queue included), for tests whose jobs must not be
 * taken by the workers other test files start on the shared database meanwhile.
 */
export function isolatedDb(): { db(): Db } {
  let client: Db | undefined;
  let database: Awaited<ReturnType<typeof freshDatabase>> | undefined;
  beforeAll(async () => {
    database = await freshDatabase();
    await migrateDatabase(database.url);
    client = createDb(database.url);
  });
  afterAll(async () => {
    await client?.$disconnect();
    await database?.drop();
  });
  return {
    db() {
      if (!client) throw new Error('the isolated database is ready only inside the tests');
      return client;
    },
  };
}
