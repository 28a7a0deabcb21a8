import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client';
import { databaseUrl } from './env';

export type Db = PrismaClient;

const globalForDb = globalThis as unknown as { mailferryDb?: PrismaClient };

export function createDb(connectionString: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString, max: 10 }) });
}

/** The process-wide client, created on first use and reused across hot reloads. */
export function getDb(): PrismaClient {
  globalForDb.mailferryDb ??= createDb(databaseUrl());
  return globalForDb.mailferryDb;
}

export const db: PrismaClient = new Proxy({} as PrismaClient, {
  get(_target, property) {
    const client = getDb();
    const value = Reflect.get(client, property, client) as unknown;
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(client) : value;
  },
});

export async function disconnectDb(): Promise<void> {
  const client = globalForDb.mailferryDb;
  globalForDb.mailferryDb = undefined;
  await client?.$disconnect();
}
