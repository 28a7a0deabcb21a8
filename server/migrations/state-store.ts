import type { Db } from '../db';
import type { CopyIssue, CopyNotice, FolderCheckpoint, StateStore } from '../engine/state';

/** A migration's checkpoints, issues and notices in PostgreSQL. */
export class DbStateStore implements StateStore {
  constructor(
    private readonly db: Db,
    private readonly migrationId: string,
  ) {}

  async loadCheckpoints(): Promise<Map<string, FolderCheckpoint>> {
    const rows = await this.db.migrationFolder.findMany({ where: { migrationId: this.migrationId } });
    return new Map(
      rows.map((row) => [
        row.sourcePath,
        {
          sourcePath: row.sourcePath,
          targetPath: row.targetPath,
          sourceUidValidity: row.sourceUidValidity,
          lastUid: row.lastUid,
          targetUidValidity: row.targetUidValidity,
          targetUidFloor: row.targetUidFloor,
          highestModseq: row.highestModseq,
          messagesCopied: row.messagesCopied,
          bytesCopied: Number(row.bytesCopied),
          messagesSkipped: row.messagesSkipped,
          messagesFailed: row.messagesFailed,
          targetNote: row.targetNote,
          targetMessages: row.targetMessages,
          targetUidNext: row.targetUidNext,
          messagesGone: row.messagesGone,
        },
      ]),
    );
  }

  async saveCheckpoint(c: FolderCheckpoint): Promise<void> {
    const data = {
      targetPath: c.targetPath,
      sourceUidValidity: c.sourceUidValidity,
      lastUid: c.lastUid,
      targetUidValidity: c.targetUidValidity,
      targetUidFloor: c.targetUidFloor,
      highestModseq: c.highestModseq,
      messagesCopied: c.messagesCopied,
      bytesCopied: BigInt(c.bytesCopied),
      messagesSkipped: c.messagesSkipped,
      messagesFailed: c.messagesFailed,
      targetNote: c.targetNote,
      targetMessages: c.targetMessages,
      targetUidNext: c.targetUidNext,
      messagesGone: c.messagesGone,
    };
    await this.db.migrationFolder.upsert({
      where: { migrationId_sourcePath: { migrationId: this.migrationId, sourcePath: c.sourcePath } },
      create: { migrationId: this.migrationId, sourcePath: c.sourcePath, ...data },
      update: data,
    });
  }

  async recordIssues(issues: CopyIssue[]): Promise<void> {
    if (issues.length === 0) return;
    await this.db.migrationIssue.createMany({
      data: issues.map((i) => ({ migrationId: this.migrationId, folder: i.folder, uid: i.uid, size: i.size === null ? null : BigInt(i.size), messageDate: i.date ?? null, reason: i.reason })),
    });
  }

  /** A notice said again by a later pass (the same words about the same folder) is kept once. */
  async recordNotices(notices: CopyNotice[]): Promise<void> {
    if (notices.length === 0) return;
    const known = await this.db.migrationNotice.findMany({ where: { migrationId: this.migrationId }, select: { folder: true, text: true } });
    const keyOf = (n: { folder: string | null; text: string }) => `${n.folder ?? ''}\u0000${n.text}`;
    const seen = new Set(known.map(keyOf));
    const fresh = notices.filter((n) => {
      const key = keyOf(n);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (fresh.length === 0) return;
    await this.db.migrationNotice.createMany({ data: fresh.map((n) => ({ migrationId: this.migrationId, folder: n.folder, text: n.text })) });
  }
}
