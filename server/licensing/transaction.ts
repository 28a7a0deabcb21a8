import type { Db } from '../db';
import type { Prisma } from '../generated/prisma/client';

export type Tx = Prisma.TransactionClient;
/** A client, or a transaction already open, so callers can reserve units in their own transaction. */
export type DbOrTx = Db | Tx;

// Reservations wait for each other on one row lock; under a burst (20 at once on a 10-connection
// pool) the later ones wait for a connection and then for the lock, longer than Prisma's 2 s / 5 s.
const OPTIONS = { maxWait: 15_000, timeout: 20_000 } as const;

/**
 * Runs `fn` in a new transaction, or in the caller's when it passes one. A transaction client
 * has `$transaction` too (Prisma 7 nests with savepoints), but not `$connect`; nesting is
 * avoided on purpose: the row lock is held until the caller's transaction ends either way.
 */
export function inTransaction<T>(db: DbOrTx, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (typeof (db as Partial<Db>).$connect === 'function') return (db as Db).$transaction(fn, OPTIONS);
  return fn(db as Tx);
}
