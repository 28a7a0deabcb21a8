import { createHash } from 'node:crypto';
import type { Prisma } from '../generated/prisma/client';
import type { DbOrTx, Tx } from '../licensing/transaction';

/*
 * Deletion receipts: each time credentials are wiped or personal data is removed, a row says
 * what was deleted (kinds and counts, never values), when, and by which event. The receipts of
 * one organization form a chain: receipt N's digest is the SHA-256 of its fields and of receipt
 * N-1's digest, and the chain's end (count and last digest) is kept in deletion_receipt_heads.
 *
 * What the chain proves: a receipt edited after it was recorded (its digest no longer matches),
 * one removed from the middle (a gap in `seq`), receipts swapped or relinked (a `prev_digest`
 * that is not the previous receipt's digest), and the last receipts removed (the head counts
 * more, or names another digest). What it cannot prove on its own: someone with write access to
 * the database who recomputes every digest from the edit onwards and the head with them leaves
 * a consistent chain. Against that, the digests leave the database: a downloaded receipts file
 * (or the head digest written down) is an anchor; `ferry receipts verify ORG --anchor DIGEST`
 * says whether the chain still holds it at its place. Nor does a receipt prove that the rows it
 * counts were the only ones: it records what the deleting code counted.
 */

export type ReceiptEvent = 'credentials_wiped' | 'mass_line_passwords_wiped' | 'details_removed' | 'organization_data_removed' | 'expired_data_removed';

/** How a receipt's digest is computed, as the download states it for anyone to recompute. */
export const RECEIPT_ALGORITHM =
  'digest = lower-case hex SHA-256 of the UTF-8 bytes of the JSON object {createdAt, deleted, event, migrationId, organizationId, prevDigest, seq, trigger} ' +
  'with keys sorted at every level and no whitespace; createdAt in ISO 8601 UTC with milliseconds (2026-12-07T09:30:00.000Z); ' +
  'migrationId and prevDigest are null where absent; prevDigest is the digest of the receipt with seq - 1 (null for seq 1). ' +
  'The last receipt\'s seq and digest are the chain\'s head.';

export interface DeletionReceiptInput {
  organizationId: string;
  migrationId?: string | null;
  event: ReceiptEvent;
  /** By which event: migration.finished, migration.cancelled, mass.check_failed, customer, admin, retention. */
  trigger: string;
  /** What was deleted, by kind; kinds with 0 are left out. */
  deleted: Record<string, number>;
  at?: Date;
}

export interface DeletionReceipt {
  organizationId: string;
  seq: number;
  migrationId: string | null;
  event: string;
  trigger: string;
  deleted: Record<string, number>;
  createdAt: Date;
  prevDigest: string | null;
  digest: string;
}

/** JSON with keys sorted at every level: the same value always gives the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The digest of a receipt from its fields (RECEIPT_ALGORITHM). */
export function receiptDigest(receipt: Omit<DeletionReceipt, 'digest'>): string {
  const fields = {
    createdAt: receipt.createdAt.toISOString(),
    deleted: receipt.deleted,
    event: receipt.event,
    migrationId: receipt.migrationId,
    organizationId: receipt.organizationId,
    prevDigest: receipt.prevDigest,
    seq: receipt.seq,
    trigger: receipt.trigger,
  };
  return createHash('sha256').update(canonicalJson(fields), 'utf8').digest('hex');
}

const select = { organizationId: true, seq: true, migrationId: true, event: true, trigger: true, deleted: true, createdAt: true, prevDigest: true, digest: true } as const;

type Row = Prisma.DeletionReceiptGetPayload<{ select: typeof select }>;

function fromRow(row: Row): DeletionReceipt {
  return { ...row, deleted: (row.deleted ?? {}) as Record<string, number> };
}

/**
 * Records a receipt in the caller's transaction, so it exists exactly when the deletion does.
 * Nothing is recorded when every count is 0: wiping nothing is no event. Receipts of one
 * organization are serialized by an advisory lock on its id (held to the transaction's end);
 * not by the organization's row, which the ending transactions must not lock after their own
 * rows (a deadlock with anything that locks the organization first).
 */
export async function recordDeletionReceipt(tx: Tx, input: DeletionReceiptInput): Promise<DeletionReceipt | null> {
  const deleted = Object.fromEntries(Object.entries(input.deleted).filter(([, n]) => Number.isSafeInteger(n) && n > 0));
  if (Object.keys(deleted).length === 0) return null;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`deletion_receipts:${input.organizationId}`}, 0))`;
  const head = await tx.deletionReceiptHead.findUnique({ where: { organizationId: input.organizationId }, select: { count: true, digest: true } });
  const unsigned = {
    organizationId: input.organizationId,
    seq: (head?.count ?? 0) + 1,
    migrationId: input.migrationId ?? null,
    event: input.event,
    trigger: input.trigger,
    deleted,
    createdAt: input.at ?? new Date(),
    prevDigest: head?.digest ?? null,
  };
  const receipt: DeletionReceipt = { ...unsigned, digest: receiptDigest(unsigned) };
  await tx.deletionReceipt.create({ data: receipt });
  await tx.deletionReceiptHead.upsert({
    where: { organizationId: input.organizationId },
    create: { organizationId: input.organizationId, count: receipt.seq, digest: receipt.digest, updatedAt: receipt.createdAt },
    update: { count: receipt.seq, digest: receipt.digest, updatedAt: receipt.createdAt },
  });
  return receipt;
}

/** The organization's receipts, newest first, `limit` at a time; `before` is the last page's smallest seq. */
export async function listReceipts(db: DbOrTx, organizationId: string, options: { limit?: number; before?: number | null } = {}): Promise<{ receipts: DeletionReceipt[]; nextBefore: number | null }> {
  const limit = options.limit ?? 20;
  const rows = await db.deletionReceipt.findMany({
    where: { organizationId, ...(options.before ? { seq: { lt: options.before } } : {}) },
    orderBy: { seq: 'desc' },
    take: limit + 1,
    select,
  });
  const page = rows.slice(0, limit).map(fromRow);
  return { receipts: page, nextBefore: rows.length > limit ? page[page.length - 1]!.seq : null };
}

/** Every receipt of the organization, oldest first (the download, the check). */
export async function allReceipts(db: DbOrTx, organizationId: string): Promise<DeletionReceipt[]> {
  return (await db.deletionReceipt.findMany({ where: { organizationId }, orderBy: { seq: 'asc' }, select })).map(fromRow);
}

/** The receipts of one migration, oldest first. */
export async function receiptsOfMigration(db: DbOrTx, organizationId: string, migrationId: string): Promise<DeletionReceipt[]> {
  return (await db.deletionReceipt.findMany({ where: { organizationId, migrationId }, orderBy: { seq: 'asc' }, select })).map(fromRow);
}

export interface ChainProblem {
  /** The receipt it concerns (for missing ones: the first missing). */
  seq: number;
  problem: string;
}

export interface ChainVerdict {
  ok: boolean;
  count: number;
  /** The last receipt's digest, to keep as an anchor. */
  headDigest: string | null;
  problems: ChainProblem[];
}

const missing = (from: number, to: number) => (from === to ? `Receipt ${from} is missing.` : `Receipts ${from} to ${to} are missing.`);

/** Checks a chain given oldest first against its head (see the comment at the top). */
export function verifyReceipts(receipts: DeletionReceipt[], head: { count: number; digest: string } | null, options: { anchor?: string } = {}): ChainVerdict {
  const problems: ChainProblem[] = [];
  let previous: DeletionReceipt | null = null;
  for (const receipt of receipts) {
    const expected = (previous?.seq ?? 0) + 1;
    if (receipt.seq > expected) problems.push({ seq: expected, problem: missing(expected, receipt.seq - 1) });
    if (receiptDigest(receipt) !== receipt.digest) {
      problems.push({ seq: receipt.seq, problem: `Receipt ${receipt.seq} was changed after it was recorded: its digest does not match its content.` });
    }
    // After a gap the link cannot match: the gap is the problem, said once.
    if (receipt.seq === expected && receipt.prevDigest !== (previous?.digest ?? null)) {
      problems.push({
        seq: receipt.seq,
        problem: receipt.seq === 1 ? 'Receipt 1 names a previous receipt, but the chain starts with it.' : `Receipt ${receipt.seq} does not follow receipt ${receipt.seq - 1}: its link to the previous receipt does not match.`,
      });
    }
    previous = receipt;
  }
  const last = previous;
  if (head) {
    if (head.count > (last?.seq ?? 0)) problems.push({ seq: (last?.seq ?? 0) + 1, problem: `${missing((last?.seq ?? 0) + 1, head.count)} The chain ends at receipt ${head.count}.` });
    else if (head.count < (last?.seq ?? 0)) problems.push({ seq: head.count + 1, problem: `The chain ends at receipt ${head.count}, but receipts after it exist: they were added outside Mailferry.` });
    else if (last && head.digest !== last.digest) problems.push({ seq: last.seq, problem: `Receipt ${last.seq} is not the one the chain ended with: its digest differs from the recorded end.` });
  } else if (last) {
    problems.push({ seq: 1, problem: 'Receipts exist, but the record of the chain’s end is missing.' });
  }
  if (options.anchor) {
    const anchor = options.anchor.toLowerCase();
    if (!receipts.some((r) => r.digest === anchor)) problems.push({ seq: 0, problem: `No receipt has the digest ${anchor}: the chain was rewritten since it was written down, or it is another organization's.` });
  }
  problems.sort((a, b) => a.seq - b.seq);
  return { ok: problems.length === 0, count: receipts.length, headDigest: last?.digest ?? null, problems };
}

/** Checks the organization's chain as stored. */
export async function verifyReceiptChain(db: DbOrTx, organizationId: string, options: { anchor?: string } = {}): Promise<ChainVerdict> {
  const [receipts, head] = await Promise.all([allReceipts(db, organizationId), db.deletionReceiptHead.findUnique({ where: { organizationId }, select: { count: true, digest: true } })]);
  return verifyReceipts(receipts, head, options);
}

/** How each kind reads in a sentence: singular, plural. */
const KINDS: Record<string, [string, string]> = {
  passwords: ['password', 'passwords'],
  massLinePasswords: ['password of a mass line', 'passwords of mass lines'],
  migrations: ['migration’s details', 'migrations’ details'],
  accounts: ['account’s address, username and server', 'accounts’ addresses, usernames and servers'],
  folders: ['folder record', 'folder records'],
  issues: ['item report', 'item reports'],
  notices: ['folder notice', 'folder notices'],
  verifications: ['verification record', 'verification records'],
  groupwareCollections: ['calendar or address book record', 'calendar and address book records'],
  groupwareIssues: ['calendar or contact item report', 'calendar and contact item reports'],
  groupwareChanges: ['calendar or contact change report', 'calendar and contact change reports'],
  notifications: ['e-mail error text', 'e-mail error texts'],
  massRecords: ['mass submission line', 'mass submission lines'],
  jobs: ['queued job', 'queued jobs'],
  rateLimitBuckets: ['check counter', 'check counters'],
  connectionLeases: ['connection lease', 'connection leases'],
  auditIpAddresses: ['audit entry’s IP address', 'audit entries’ IP addresses'],
  hostedMailboxes: ['hosted mailbox link', 'hosted mailbox links'],
};

/** "2 passwords, 14 folder records", in the order of the kinds above. */
export function deletedInWords(deleted: Record<string, number>): string {
  const order = Object.keys(KINDS);
  return Object.entries(deleted)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => (order.indexOf(a) === -1 ? 99 : order.indexOf(a)) - (order.indexOf(b) === -1 ? 99 : order.indexOf(b)))
    .map(([kind, n]) => `${n} ${KINDS[kind]?.[n === 1 ? 0 : 1] ?? kind}`)
    .join(', ');
}

const TRIGGERS: Record<string, string> = {
  'migration.finished': 'when the migration finished',
  'migration.incomplete': 'when the migration ended incomplete',
  'migration.failed': 'when the migration failed',
  'migration.cancelled': 'when the migration was cancelled',
  'mass.check_failed': 'when its login check failed',
  customer: 'at the organization’s request',
  admin: 'by an administrator',
  retention: 'after the retention period',
};

/** What happened, in words: "Passwords deleted when the migration finished". */
export function receiptInWords(receipt: Pick<DeletionReceipt, 'event' | 'trigger'>): string {
  const why = TRIGGERS[receipt.trigger] ?? `(${receipt.trigger})`;
  switch (receipt.event) {
    case 'credentials_wiped':
      return `Passwords deleted ${why}`;
    case 'mass_line_passwords_wiped':
      return `Passwords of a mass line deleted ${why}`;
    case 'details_removed':
      return `Migration details removed ${why}`;
    case 'organization_data_removed':
      return `Organization’s personal data removed ${why}`;
    case 'expired_data_removed':
      return `Old IP addresses and mass lines removed ${why}`;
    default:
      return `${receipt.event} ${why}`;
  }
}
