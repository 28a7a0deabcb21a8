import fs from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '@/server/database/migrate';
import { parsePrismaSchema, type ParsedSchema } from '@/server/database/prisma-schema';
import { schemaDrift } from '@/server/database/schema-drift';
import { freshDatabase } from './helpers/database';

describe('schema drift', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let client: pg.Client;
  let schema: ParsedSchema;

  beforeAll(async () => {
    database = await freshDatabase();
    await migrateDatabase(database.url);
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    schema = parsePrismaSchema(await fs.readFile('prisma/schema.prisma', 'utf8'));
  });
  afterAll(async () => {
    await client.end();
    await database.drop();
  });

  it('reads every model of schema.prisma', () => {
    expect(schema.models.map((m) => m.table)).toEqual(expect.arrayContaining(['audit_events', 'organizations', 'rate_limit_buckets', 'users', 'network_settings']));
    const users = schema.models.find((m) => m.name === 'User')!;
    expect(users.fields.find((f) => f.name === 'organizationId')).toMatchObject({ column: 'organization_id', isOptional: true, dbType: 'Uuid' });
    expect(users.uniques).toContainEqual(['email']);
  });

  it('finds the migrated database equal to schema.prisma', async () => {
    expect(await schemaDrift(client, schema)).toEqual([]);
  });

  it('reports a column the schema does not know, a changed type and a changed nullability', async () => {
    await client.query('BEGIN');
    try {
      await client.query('ALTER TABLE users ADD COLUMN nickname text');
      await client.query('ALTER TABLE users ALTER COLUMN name SET NOT NULL');
      await client.query('ALTER TABLE rate_limit_buckets ALTER COLUMN count TYPE bigint');
      const problems = await schemaDrift(client, schema);
      expect(problems).toContain('users.nickname is not in the schema');
      expect(problems).toContain('users.name is NOT NULL, the schema says optional');
      expect(problems).toContain('rate_limit_buckets.count is int8, the schema says int4');
    } finally {
      await client.query('ROLLBACK');
    }
  });

  it('reports a model without a table and a missing unique index', async () => {
    const extended = parsePrismaSchema(
      `${await fs.readFile('prisma/schema.prisma', 'utf8')}\nmodel Ghost {\n  id String @id\n  @@map("ghosts")\n}\n`,
    );
    await client.query('BEGIN');
    try {
      await client.query('DROP INDEX users_email_key');
      const problems = await schemaDrift(client, extended);
      expect(problems).toContain('table ghosts (model Ghost) is missing');
      expect(problems).toContain('users has no unique index on (email)');
    } finally {
      await client.query('ROLLBACK');
    }
  });
});
