import pg from 'pg';
import { createLogger } from '../logger';

const log = createLogger('pg');

/**
 * A pg pool whose idle and checked-out clients never crash the process when the server goes
 * away (restart, shutdown): node-postgres emits 'error' events that are fatal when unheard.
 */
export function createPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  // 57P01: the server is shutting down, which is expected when Mailferry stops.
  const report = (error: Error & { code?: string }) =>
    error.code === '57P01' ? log.debug('database connection closed by shutdown') : log.warn('database connection lost', { error });
  pool.on('error', report);
  pool.on('connect', (client) => client.on('error', report));
  return pool;
}
