import type { Lookup, NetworkPolicy } from '../accounts/network/host-policy';
import type { Db } from '../db';
import type { MailboxEndpoint } from '../engine/copy-mailbox';
import { verifyMailbox, type FolderToVerify, type FolderVerdict, type MailboxVerdict } from '../engine/verify-mailbox';
import { recordMigrationEvent } from './events';
import { gapOf } from './lifecycle';

export type VerifiedPass = 'run' | 'resync';

/**
 * The folders a migration's verification covers: every folder the copy has a checkpoint for,
 * and every folder the copy reported messages of without one (the target refused to create
 * it: it holds none of them there).
 */
export async function foldersToVerify(db: Pick<Db, 'migrationFolder' | 'migrationIssue'>, migrationId: string): Promise<FolderToVerify[]> {
  const [checkpoints, issueFolders] = await Promise.all([
    db.migrationFolder.findMany({ where: { migrationId }, select: { sourcePath: true, targetPath: true }, orderBy: { sourcePath: 'asc' } }),
    db.migrationIssue.findMany({ where: { migrationId }, select: { folder: true }, distinct: ['folder'], orderBy: { folder: 'asc' } }),
  ]);
  const known = new Set(checkpoints.map((c) => c.sourcePath));
  return [...checkpoints, ...issueFolders.filter((i) => !known.has(i.folder)).map((i) => ({ sourcePath: i.folder, targetPath: null }))];
}

/** Replaces the migration's stored verification with this one, folder by folder. */
export async function saveVerification(db: Db, migrationId: string, pass: VerifiedPass, verdict: MailboxVerdict, at = new Date()): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.migrationVerification.deleteMany({ where: { migrationId } });
    await tx.migrationVerification.createMany({
      data: verdict.folders.map((f) => ({
        migrationId,
        sourcePath: f.sourcePath,
        targetPath: f.targetPath,
        pass,
        sourceMessages: f.sourceMessages,
        presentMessages: f.present,
        missingMessages: f.missing,
        missingReported: f.missingReported,
        missingUids: f.missingUids,
        unverifiedReason: f.unverified,
        sourceState: f.sourceState,
        targetState: f.targetState,
        verifiedAt: at,
      })),
    });
    // A finished migration verified again that now has a gap is no longer a plain "finished".
    if (gapOf(verdict.folders.map(toGapRow))) {
      const changed = await tx.migration.updateMany({ where: { id: migrationId, state: 'finished' }, data: { state: 'incomplete' } });
      if (changed.count > 0) await recordMigrationEvent(tx, migrationId, 'verification_gap');
    }
  });
}

export interface VerifyEndpoints {
  source: MailboxEndpoint;
  target: MailboxEndpoint;
  policy: NetworkPolicy;
  lookup?: Lookup;
  signal?: AbortSignal;
}

/**
 * Verifies what a migration's target holds now against its source (see verifyMailbox) and
 * stores the verdict. Messages the copy reported as not copied count as missing, with their
 * reason known; anything else missing was lost or deleted on the target since. A folder pair
 * unchanged on both servers since the last verification keeps its verdict without a fetch.
 */
export async function verifyMigration(db: Db, migrationId: string, pass: VerifiedPass, endpoints: VerifyEndpoints): Promise<MailboxVerdict> {
  const [folders, issues, earlier] = await Promise.all([
    foldersToVerify(db, migrationId),
    db.migrationIssue.findMany({ where: { migrationId, uid: { not: null } }, select: { folder: true, uid: true, size: true, reason: true } }),
    db.migrationVerification.findMany({ where: { migrationId } }),
  ]);
  const previous = new Map<string, FolderVerdict>(
    earlier.map((r) => [
      r.sourcePath,
      {
        sourcePath: r.sourcePath,
        targetPath: r.targetPath,
        sourceMessages: r.sourceMessages,
        present: r.presentMessages,
        missing: r.missingMessages,
        missingUids: r.missingUids,
        missingReported: r.missingReported,
        unverified: r.unverifiedReason,
        sourceState: r.sourceState,
        targetState: r.targetState,
      },
    ]),
  );
  const verdict = await verifyMailbox({
    ...endpoints,
    folders,
    previous,
    notCopied: issues.map((i) => ({ folder: i.folder, uid: i.uid, size: i.size === null ? null : Number(i.size), reason: i.reason })),
  });
  await saveVerification(db, migrationId, pass, verdict);
  return verdict;
}

const toGapRow = (f: MailboxVerdict['folders'][number]) => ({ missingMessages: f.missing, missingReported: f.missingReported, unverifiedReason: f.unverified });

