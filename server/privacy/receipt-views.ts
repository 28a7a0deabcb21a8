import { z } from 'zod';
import type { SessionUser } from '../auth/session-user';
import type { DbOrTx } from '../licensing/transaction';
import { MigrationNotFoundError } from '../migrations/errors';
import { formatInZone } from '../migrations/list-migrations';
import { DomainError } from '../users/errors';
import { allReceipts, deletedInWords, listReceipts, RECEIPT_ALGORITHM, receiptInWords, receiptsOfMigration, verifyReceipts, verifyReceiptChain, type ChainVerdict, type DeletionReceipt } from './receipts';

/** Customers leave the organization out (their own); admins name it. */
export const receiptsListSchema = z.object({
  organizationId: z.uuid('This is not an organization’s id.').optional(),
  limit: z.number().int().min(1).max(100).default(20),
  /** The `nextCursor` of the page before. */
  cursor: z.number().int().min(1).nullish(),
});

export const migrationReceiptsSchema = z.object({ migrationId: z.uuid('This is not a migration’s id.') });

/** Whose receipts a user may read: a customer its own organization's, an admin any organization's. */
export async function receiptsOrganizationFor(db: DbOrTx, user: SessionUser, requested?: string | null): Promise<{ id: string; name: string }> {
  const notFound = () => new DomainError('not_found', 'Organization not found.');
  if (user.role === 'admin') {
    if (!requested) throw new DomainError('invalid', 'Say which organization.', 'organizationId');
    if (!z.uuid().safeParse(requested).success) throw notFound();
    const found = await db.organization.findFirst({ where: { id: requested, deletedAt: null }, select: { id: true, name: true } });
    if (!found) throw notFound();
    return found;
  }
  if (user.role === 'customer' && user.organization) {
    if (requested && requested !== user.organization.id) throw notFound();
    return { id: user.organization.id, name: user.organization.name };
  }
  // Resellers see their customers' migrations as counts only: receipts are the customer's.
  throw new DomainError('not_found', 'Deletion receipts are shown to the organization they belong to and to administrators.');
}

export interface ReceiptView {
  seq: number;
  at: Date;
  /** "7 Dec 2026, 09:30" in the server's zone. */
  atLocal: string;
  migrationId: string | null;
  event: string;
  trigger: string;
  /** "Passwords deleted when the migration finished". */
  what: string;
  deleted: Record<string, number>;
  /** "2 passwords, 14 folder records". */
  deletedWords: string;
  digest: string;
}

function toView(receipt: DeletionReceipt, zone: string): ReceiptView {
  return {
    seq: receipt.seq,
    at: receipt.createdAt,
    atLocal: formatInZone(receipt.createdAt, zone),
    migrationId: receipt.migrationId,
    event: receipt.event,
    trigger: receipt.trigger,
    what: receiptInWords(receipt),
    deleted: receipt.deleted,
    deletedWords: deletedInWords(receipt.deleted),
    digest: receipt.digest,
  };
}

/** A page of the organization's receipts, newest first, with the verdict on the whole chain. */
export async function receiptsPage(db: DbOrTx, organizationId: string, input: { limit?: number; cursor?: number | null }, zone: string): Promise<{ receipts: ReceiptView[]; nextCursor: number | null; verdict: ChainVerdict }> {
  const [page, verdict] = await Promise.all([listReceipts(db, organizationId, { limit: input.limit, before: input.cursor }), verifyReceiptChain(db, organizationId)]);
  return { receipts: page.receipts.map((r) => toView(r, zone)), nextCursor: page.nextBefore, verdict };
}

/** One migration's receipts, oldest first; another organization's migration is not found. */
export async function migrationReceipts(db: DbOrTx, organizationId: string, migrationId: string, zone: string): Promise<ReceiptView[]> {
  const migration = await db.migration.findFirst({ where: { id: migrationId, organizationId }, select: { id: true } });
  if (!migration) throw new MigrationNotFoundError();
  return (await receiptsOfMigration(db, organizationId, migrationId)).map((r) => toView(r, zone));
}

/** The download: everything anyone needs to recompute each digest and the chain. */
export async function receiptsDocument(db: DbOrTx, organization: { id: string; name: string }, now = new Date()) {
  const [receipts, head] = await Promise.all([allReceipts(db, organization.id), db.deletionReceiptHead.findUnique({ where: { organizationId: organization.id }, select: { count: true, digest: true } })]);
  const verdict = verifyReceipts(receipts, head);
  return {
    format: 'mailferry-deletion-receipts',
    formatVersion: 1,
    generatedAt: now.toISOString(),
    organization: { id: organization.id, name: organization.name },
    algorithm: RECEIPT_ALGORITHM,
    head: head ? { count: head.count, digest: head.digest } : null,
    verdict: { ok: verdict.ok, count: verdict.count, problems: verdict.problems },
    receipts: receipts.map((r) => ({
      seq: r.seq,
      organizationId: r.organizationId,
      migrationId: r.migrationId,
      event: r.event,
      trigger: r.trigger,
      deleted: r.deleted,
      createdAt: r.createdAt.toISOString(),
      prevDigest: r.prevDigest,
      digest: r.digest,
      description: `${receiptInWords(r)}: ${deletedInWords(r.deleted)}`,
    })),
  };
}

/** The download's file name: mailferry-deletion-receipts-<org>-<date>.json (the org's id, the UTC date). */
export const receiptsFileName = (organizationId: string, now = new Date()) => `mailferry-deletion-receipts-${organizationId}-${now.toISOString().slice(0, 10)}.json`;
