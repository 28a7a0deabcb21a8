import { recordAudit } from '../audit/audit';
import type { Db } from '../db';
import { env } from '../env';
import { createLogger } from '../logger';
import { pruneLeases } from '../migrations/connection-leases';
import { removeExpiredPersonalData } from '../privacy/remove-personal-data';
import { pruneExpired } from '../rate-limit/rate-limit';

const log = createLogger('maintenance');

export interface MaintenanceResult {
  rateLimitBucketsRemoved: number;
  leasesRemoved: number;
  /** Migrations that ended more than MAILFERRY_RETENTION_DAYS ago and lost their personal data in this run. */
  migrationDetailsRemoved: number;
  /** Lines of mass submissions done before then that lost their addresses. */
  massRecordsBlanked: number;
  auditIpAddressesRemoved: number;
}

/**
 * The hourly clean-up. `now` and `retentionDays` are for tests; by default the clock and
 * MAILFERRY_RETENTION_DAYS (0 keeps migrations' details forever).
 */
export async function runMaintenance(db: Db, options: { now?: Date; retentionDays?: number } = {}): Promise<MaintenanceResult> {
  const rateLimitBucketsRemoved = await pruneExpired(db);
  const leasesRemoved = await pruneLeases(db);
  if (rateLimitBucketsRemoved > 0) log.info('pruned expired rate-limit windows', { count: rateLimitBucketsRemoved });
  const retention = await removeExpiredPersonalData(db, { days: options.retentionDays ?? env().MAILFERRY_RETENTION_DAYS, now: options.now });
  if (retention.migrations > 0) log.info('removed the personal data of migrations past the retention period', { count: retention.migrations });
  if (retention.migrations + retention.massRecords + retention.auditIpAddresses > 0) {
    await recordAudit(db, { action: 'privacy.retention', details: { days: options.retentionDays ?? env().MAILFERRY_RETENTION_DAYS, ...retention } });
  }
  return { rateLimitBucketsRemoved, leasesRemoved, migrationDetailsRemoved: retention.migrations, massRecordsBlanked: retention.massRecords, auditIpAddressesRemoved: retention.auditIpAddresses };
}
