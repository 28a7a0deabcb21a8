import type { Db } from '../db';
import { createLogger } from '../logger';
import { pruneLeases } from '../migrations/connection-leases';
import { pruneExpired } from '../rate-limit/rate-limit';

const log = createLogger('maintenance');

export async function runMaintenance(db: Db): Promise<{ rateLimitBucketsRemoved: number; leasesRemoved: number }> {
  const rateLimitBucketsRemoved = await pruneExpired(db);
  const leasesRemoved = await pruneLeases(db);
  if (rateLimitBucketsRemoved > 0) log.info('pruned expired rate-limit windows', { count: rateLimitBucketsRemoved });
  return { rateLimitBucketsRemoved, leasesRemoved };
}
