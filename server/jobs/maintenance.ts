import type { Db } from '../db';
import { createLogger } from '../logger';
import { pruneExpired } from '../rate-limit/rate-limit';

const log = createLogger('maintenance');

export async function runMaintenance(db: Db): Promise<{ rateLimitBucketsRemoved: number }> {
  const rateLimitBucketsRemoved = await pruneExpired(db);
  if (rateLimitBucketsRemoved > 0) log.info('pruned expired rate-limit windows', { count: rateLimitBucketsRemoved });
  return { rateLimitBucketsRemoved };
}
