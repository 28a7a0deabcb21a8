import type { Db } from '../db';
import type { Prisma } from '../generated/prisma/client';
import type { CollectionReport } from '../engine/groupware/copy-groupware';
import type { CollectionCheckpoint, GroupwareChange, GroupwareIssue, GroupwareStateStore } from '../engine/groupware/state';

const issueKey = (i: { collection: string; uid: string | null; reason: string }) => `${i.collection}\u0000${i.uid ?? ''}\u0000${i.reason}`;

/**
 * A migration's groupware checkpoints, counts and issues in PostgreSQL: one row per source
 * collection (its checkpoint holds UIDs and versions, never content) and one per item the
 * target refused.
 *
 * The copy works through the collections one after the other, so the collection last saved is
 * the one its progress and its issues are about; `saveReports` matches the copy's reports to
 * the collections in the order this store first saw them.
 */
export class DbGroupwareStateStore implements GroupwareStateStore {
  /** Source ids in the order the copy started them in this run. */
  private readonly started: string[] = [];

  constructor(
    private readonly db: Db,
    private readonly migrationId: string,
  ) {}

  /** The collection the copy works on now, or null before the first. */
  get current(): string | null {
    return this.started.at(-1) ?? null;
  }

  async loadCollections(): Promise<Map<string, CollectionCheckpoint>> {
    const rows = await this.db.migrationGroupwareCollection.findMany({ where: { migrationId: this.migrationId }, select: { sourceId: true, checkpoint: true } });
    return new Map(rows.map((row) => [row.sourceId, row.checkpoint as unknown as CollectionCheckpoint]));
  }

  async saveCollection(c: CollectionCheckpoint): Promise<void> {
    const isFirst = !this.started.includes(c.sourceId);
    if (isFirst) this.started.push(c.sourceId);
    const data = {
      kind: c.kind,
      sourceName: c.sourceName,
      targetName: c.targetName,
      targetNote: c.targetNote,
      checkpoint: c as unknown as Prisma.InputJsonValue,
    };
    await this.db.migrationGroupwareCollection.upsert({
      where: { migrationId_sourceId: { migrationId: this.migrationId, sourceId: c.sourceId } },
      create: { migrationId: this.migrationId, sourceId: c.sourceId, ...data },
      update: data,
    });
  }

  /**
   * Before the copy begins: every source collection with its item count. A collection seen for
   * the first time gets its row (nothing of it on the target yet); a known one keeps its
   * checkpoint and what is on the target, and takes the source's count of now.
   */
  async savePlan(plan: { checkpoint: CollectionCheckpoint; items: number }[]): Promise<void> {
    const rows = await this.db.migrationGroupwareCollection.findMany({ where: { migrationId: this.migrationId }, select: { sourceId: true, present: true } });
    const present = new Map(rows.map((r) => [r.sourceId, r.present]));
    for (const { checkpoint: c, items } of plan) {
      const known = present.get(c.sourceId);
      if (known !== undefined) {
        await this.saveProgress(c.sourceId, items, known);
        continue;
      }
      await this.db.migrationGroupwareCollection.create({
        data: {
          migrationId: this.migrationId,
          sourceId: c.sourceId,
          kind: c.kind,
          sourceName: c.sourceName,
          targetName: c.targetName,
          targetNote: c.targetNote,
          checkpoint: c as unknown as Prisma.InputJsonValue,
          items,
        },
      });
    }
  }

  /** A pass that meets the same refusal again (the same item, the same reason) keeps it once. */
  async recordIssues(issues: GroupwareIssue[]): Promise<void> {
    const sourceId = this.current;
    if (sourceId) {
      // Issues are recorded when a collection is through: what is on the target is all but what failed.
      const row = await this.db.migrationGroupwareCollection.findUnique({ where: { migrationId_sourceId: { migrationId: this.migrationId, sourceId } }, select: { items: true } });
      if (row) await this.saveProgress(sourceId, row.items, Math.max(0, row.items - issues.length));
    }
    if (issues.length === 0) return;
    const known = await this.db.migrationGroupwareIssue.findMany({ where: { migrationId: this.migrationId }, select: { collection: true, uid: true, reason: true } });
    const seen = new Set(known.map(issueKey));
    const fresh = issues.filter((i) => {
      const key = issueKey(i);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (fresh.length === 0) return;
    await this.db.migrationGroupwareIssue.createMany({
      data: fresh.map((i) => ({ migrationId: this.migrationId, kind: i.kind, collection: i.collection, uid: i.uid, size: i.size, reason: i.reason })),
    });
  }

  /** What a target had no place for, per item and property; an item written again keeps its rows once. */
  async recordChanges(changes: GroupwareChange[]): Promise<void> {
    const data = changes.flatMap((change) =>
      change.notMapped.map((note) => ({
        migrationId: this.migrationId,
        kind: change.kind,
        collection: change.collection,
        uid: change.uid ?? '',
        component: note.component,
        property: note.property ?? '',
        reason: note.reason,
      })),
    );
    if (data.length > 0) await this.db.migrationGroupwareChange.createMany({ data, skipDuplicates: true });
  }

  /** While a collection is copied: how many items the source has and how many of them are on the target. */
  async saveProgress(sourceId: string, items: number, present: number): Promise<void> {
    await this.db.migrationGroupwareCollection.updateMany({ where: { migrationId: this.migrationId, sourceId }, data: { items, present: Math.min(present, items) } });
  }

  /** The copy's counts per collection once the pass is through: what is on the target is every source item but those not copied. */
  async saveReports(reports: CollectionReport[]): Promise<void> {
    const rows = await this.db.migrationGroupwareCollection.findMany({ where: { migrationId: this.migrationId }, select: { sourceId: true, kind: true, sourceName: true } });
    const unmatched = new Set(rows.map((r) => r.sourceId));
    for (const [index, report] of reports.entries()) {
      const byOrder = this.started[index];
      const sourceId =
        byOrder && rows.some((r) => r.sourceId === byOrder && r.kind === report.kind && r.sourceName === report.source)
          ? byOrder
          : rows.find((r) => unmatched.has(r.sourceId) && r.kind === report.kind && r.sourceName === report.source)?.sourceId;
      if (!sourceId) continue;
      unmatched.delete(sourceId);
      await this.db.migrationGroupwareCollection.updateMany({
        where: { migrationId: this.migrationId, sourceId },
        data: {
          targetName: report.target,
          targetNote: report.note,
          items: report.items,
          present: Math.max(0, report.items - report.failed),
          copied: report.copied,
          updated: report.updated,
          skipped: report.skipped,
          failed: report.failed,
        },
      });
    }
  }
}
