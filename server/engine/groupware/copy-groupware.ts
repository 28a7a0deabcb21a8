import { componentNames, isSameItem, ItemFormatError, itemUid, prepareForTarget, type TargetNeeds } from './items';
import { holdsKind, type GroupwareCollection, type GroupwareKind, type GroupwareSource, type GroupwareTarget, type ItemRef } from './model';
import type { CollectionCheckpoint, GroupwareChange, GroupwareIssue, GroupwareStateStore, ItemCheckpoint } from './state';

export interface GroupwareCopyOptions {
  source: GroupwareSource;
  target: GroupwareTarget;
  state: GroupwareStateStore;
  /** Items written at once per collection (the DAV fetch also limits requests per host). Default 4. */
  concurrency?: number;
  /** Items read per multiget. Default 50. */
  batchSize?: number;
  /** Larger items are recorded and not sent. Default 50 MB. */
  maxItemBytes?: number;
  onProgress?: (progress: { collection: string; done: number; total: number }) => void;
  /**
   * Told before the first item is copied: every collection of the source with its item count,
   * so a status shows the whole of what is to be copied from the start (each collection is
   * then listed once, here, instead of when its turn comes).
   */
  onPlan?: (plan: { checkpoint: CollectionCheckpoint; items: number }[]) => Promise<void>;
  /**
   * When (Date.now() ms) the copy stops at its next checkpoint with work left, reporting
   * `isComplete: false`; a run that starts again goes on from the checkpoints. A run stops
   * only once its checkpoints hold an item more than when it began, so each gets further.
   */
  deadline?: number;
}

export interface CollectionReport {
  kind: GroupwareKind;
  source: string;
  target: string;
  /** On the source. */
  items: number;
  /** New on the target. */
  copied: number;
  /** Changed on the source since an earlier run, changed on the target. */
  updated: number;
  /** Already on the target as they are. */
  skipped: number;
  failed: number;
  /** Why the target's name differs from the source's, or null. */
  note: string | null;
}

export interface GroupwareCopySummary {
  /** The collections gone through completely (all of them, unless the copy stopped at its deadline). */
  collections: CollectionReport[];
  /** Items not copied, of the collections gone through completely. */
  issues: GroupwareIssue[];
  /** Items this run copied without something the target has no place for (recorded with each checkpoint). */
  changes: GroupwareChange[];
  seconds: number;
  /** False when the copy stopped at its deadline with work left. */
  isComplete: boolean;
}

const KIND_WORD: Record<GroupwareKind, string> = { calendar: 'calendar', contacts: 'address book', tasks: 'task list' };

/** A path segment the target can take as it is. */
function safeSlug(collection: GroupwareCollection, taken: Set<string>): string {
  const fromName = collection.displayName
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '')
    .toLowerCase();
  const base = /^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$/.test(collection.slug) ? collection.slug : fromName || collection.kind;
  let slug = base;
  for (let n = 2; taken.has(slug.toLowerCase()); n++) slug = `${base}-${n}`;
  return slug;
}

/**
 * Which target collection each source collection goes to: the one an earlier run chose; for the
 * default, the target's default of that kind (never a second "Calendar"); else one of the same
 * kind and path segment or name (a re-run without state); else a new one with the source's name,
 * colour and description.
 */
async function mapCollections(
  sources: GroupwareCollection[],
  target: GroupwareTarget,
  checkpoints: Map<string, CollectionCheckpoint>,
): Promise<{ pairs: { source: GroupwareCollection; target: GroupwareCollection; note: string | null }[]; targets: GroupwareCollection[] }> {
  const targets = await target.collections();
  const used = new Set<string>();
  const out: { source: GroupwareCollection; target: GroupwareCollection; note: string | null }[] = [];
  // Defaults first, so another source collection of the same name cannot take the target's default.
  const ordered = [...sources].sort((a, b) => Number(b.isDefault) - Number(a.isDefault));
  for (const source of ordered) {
    const earlier = checkpoints.get(source.id);
    let chosen = earlier ? targets.find((t) => t.id === earlier.targetId) : undefined;
    let note = earlier && chosen ? earlier.targetNote : null;
    const free = (t: GroupwareCollection) => holdsKind(t, source.kind) && !used.has(t.id);
    if (!chosen && source.isDefault) {
      chosen = targets.find((t) => t.kind === source.kind && !used.has(t.id) && t.isDefault);
      if (chosen && chosen.displayName !== source.displayName) {
        note = `"${source.displayName}" went into the target's default ${KIND_WORD[source.kind]} "${chosen.displayName}"`;
      }
    }
    chosen ??= targets.find((t) => free(t) && t.slug === source.slug) ?? targets.find((t) => free(t) && !t.isDefault && t.displayName === source.displayName);
    if (!chosen) {
      const taken = new Set(targets.map((t) => t.slug.toLowerCase()));
      const created = await target.create({
        kind: source.kind,
        displayName: source.displayName,
        color: source.color,
        description: source.description,
        components: source.components,
        slug: safeSlug(source, taken),
      });
      targets.push(created);
      chosen = created;
      if (created.displayName !== source.displayName) note = `The target named the ${KIND_WORD[source.kind]} "${source.displayName}" "${created.displayName}"`;
    }
    used.add(chosen.id);
    out.push({ source, target: chosen, note });
  }
  return { pairs: out, targets };
}

/**
 * Where the tasks of a source calendar that also holds tasks go when the target calendar takes
 * only events (Exchange, Microsoft 365): the task list an earlier run chose; for the default
 * calendar, the target's default task list; else the task list of the calendar's name, made on
 * first need.
 */
async function taskListFor(source: GroupwareCollection, target: GroupwareTarget, targets: GroupwareCollection[], earlier: string | undefined): Promise<GroupwareCollection> {
  const lists = targets.filter((t) => t.kind === 'tasks');
  const chosen =
    (earlier ? lists.find((t) => t.id === earlier) : undefined) ??
    (source.isDefault ? lists.find((t) => t.isDefault) : undefined) ??
    lists.find((t) => t.displayName === source.displayName);
  if (chosen) return chosen;
  const created = await target.create({
    kind: 'tasks',
    displayName: source.displayName,
    color: source.color,
    description: source.description,
    components: ['VTODO'],
    slug: safeSlug({ ...source, kind: 'tasks' }, new Set(targets.map((t) => t.slug.toLowerCase()))),
  });
  targets.push(created);
  return created;
}

/**
 * One item's address however it is spelled: servers list a name written as `a@b.ics` as
 * `a%40b.ics` (Radicale does), and the checkpoint holds the name as it was written.
 */
function itemKey(id: string): string {
  try {
    const url = new URL(id);
    return `${url.origin}${decodeURIComponent(url.pathname)}`;
  } catch {
    return id;
  }
}

async function pool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, run));
}

/**
 * Copies every calendar, address book and task list of the source to the target, each item
 * exactly once by UID per collection: an item is named after its UID on the target, items the
 * target holds already are found by UID (also those a killed run wrote after its last
 * checkpoint), a changed source item (ETag) is written over its copy, an unchanged one is not
 * read again. Deletions are not carried over. A refused item is recorded with its collection,
 * UID, size and the server's reason, and the rest goes on.
 */
export async function copyGroupware(options: GroupwareCopyOptions): Promise<GroupwareCopySummary> {
  const started = performance.now();
  const { source, target, state } = options;
  const concurrency = options.concurrency ?? 4;
  const batchSize = options.batchSize ?? 50;
  const maxItemBytes = options.maxItemBytes ?? 50 * 1024 * 1024;
  const checkpoints = await state.loadCollections();
  const { pairs, targets } = await mapCollections(await source.collections(), target, checkpoints);
  const reports: CollectionReport[] = [];
  const allIssues: GroupwareIssue[] = [];
  const allChanges: GroupwareChange[] = [];
  /** Whether a checkpoint of this run holds an item more: until then the deadline waits, so a run never ends where the last one did. */
  let hasWritten = false;
  const isOverdue = () => hasWritten && options.deadline !== undefined && Date.now() >= options.deadline;
  const summary = (isComplete: boolean): GroupwareCopySummary => ({ collections: reports, issues: allIssues, changes: allChanges, seconds: (performance.now() - started) / 1000, isComplete });
  const planned = pairs.map((pair): CollectionCheckpoint => {
    const earlier = checkpoints.get(pair.source.id);
    return {
      kind: pair.source.kind,
      sourceId: pair.source.id,
      sourceName: pair.source.displayName,
      targetId: pair.target.id,
      targetName: pair.target.displayName,
      targetNote: pair.note,
      items: earlier && earlier.targetId === pair.target.id ? earlier.items : {},
      ...(earlier && earlier.targetId === pair.target.id && earlier.tasksTargetId ? { tasksTargetId: earlier.tasksTargetId, tasksTargetName: earlier.tasksTargetName } : {}),
    };
  });
  const stop = async (from: number) => {
    // The collections made on the target by this run are remembered before it stops: the next
    // run finds them by the checkpoint, also where the target renamed them.
    for (const checkpoint of planned.slice(from)) {
      if (checkpoints.get(checkpoint.sourceId)?.targetId !== checkpoint.targetId) await state.saveCollection(checkpoint);
    }
    return summary(false);
  };

  const listings = new Map<string, ItemRef[]>();
  if (options.onPlan) {
    for (const pair of pairs) listings.set(pair.source.id, await source.list(pair.source));
    await options.onPlan(planned.map((checkpoint) => ({ checkpoint, items: listings.get(checkpoint.sourceId)!.length })));
  }

  for (const [index, pair] of pairs.entries()) {
    if (isOverdue()) return stop(index);
    const { source: from, target: to } = pair;
    const checkpoint = planned[index]!;
    await state.saveCollection(checkpoint);
    const report: CollectionReport = { kind: from.kind, source: from.displayName, target: to.displayName, items: 0, copied: 0, updated: 0, skipped: 0, failed: 0, note: pair.note };
    const issues: GroupwareIssue[] = [];
    const changes: GroupwareChange[] = [];
    const fail = (uid: string | null, size: number | null, reason: string) => {
      report.failed++;
      issues.push({ kind: from.kind, collection: from.displayName, uid, size, reason });
    };

    const needs: TargetNeeds = { isScheduling: await target.isScheduling(to), vcardVersions: await target.vcardVersions(to) };
    const sourceRefs = listings.get(from.id) ?? (await source.list(from));
    listings.delete(from.id);
    report.items = sourceRefs.length;
    const listed = new Map(sourceRefs.map((r) => [r.id, r]));
    // The target's items by identity: those the state knows, and the others read once; for the
    // collection chosen and for the task list that takes the calendar's tasks, if any.
    type TargetItem = { id: string; version: string | null; data?: string; where: GroupwareCollection };
    const targetRefs = new Map<string, ItemRef>();
    const byIdentity = new Map<string, TargetItem>();
    const knownIdentities = new Map(Object.values(checkpoint.items).map((item) => [itemKey(item.targetId), item.identity]));
    const loadTargetItems = async (where: GroupwareCollection) => {
      const refs = await target.list(where);
      const unknown: ItemRef[] = [];
      for (const ref of refs) {
        targetRefs.set(itemKey(ref.id), ref);
        const identity = knownIdentities.get(itemKey(ref.id));
        if (identity !== undefined) byIdentity.set(identity, { id: ref.id, version: ref.version, where });
        else unknown.push(ref);
      }
      for (let i = 0; i < unknown.length; i += batchSize) {
        for (const object of await target.read(where, unknown.slice(i, i + batchSize))) {
          let uid: string | null = null;
          try {
            uid = itemUid(object.data);
          } catch {
            // An unreadable item on the target is no copy of ours.
          }
          // An item without a readable UID is found through the state, or by its name when written again.
          if (uid) byIdentity.set(uid, { id: object.id, version: object.version, data: object.data, where });
        }
      }
    };
    await loadTargetItems(to);
    // A target calendar that takes only events (Exchange, Microsoft 365): the tasks of a source
    // calendar that holds both go to a task list, found or made on first need.
    const routesTasks = from.kind === 'calendar' && to.components.length > 0 && !to.components.includes('VTODO');
    let taskList: Promise<GroupwareCollection> | null = null;
    const taskListOnce = () =>
      (taskList ??= (async () => {
        const list = await taskListFor(from, target, targets, checkpoint.tasksTargetId);
        if (checkpoint.tasksTargetId !== list.id) {
          checkpoint.tasksTargetId = list.id;
          checkpoint.tasksTargetName = list.displayName;
        }
        if (list.id !== to.id) await loadTargetItems(list);
        report.note = [report.note, `Its tasks went into the task list "${list.displayName}": the target's calendars take only events`].filter(Boolean).join('; ');
        return list;
      })());
    if (routesTasks && checkpoint.tasksTargetId) await taskListOnce();

    const toRead: ItemRef[] = [];
    for (const ref of sourceRefs) {
      const known = checkpoint.items[ref.id];
      if (known && ref.version !== null && known.sourceVersion === ref.version && targetRefs.has(itemKey(known.targetId))) report.skipped++;
      else if (ref.size !== null && ref.size > maxItemBytes) fail(null, ref.size, `larger than the limit of ${Math.round(maxItemBytes / (1024 * 1024))} MB`);
      else toRead.push(ref);
    }

    const seenInRun = new Set<string>();
    let done = report.skipped + report.failed;
    options.onProgress?.({ collection: from.displayName, done, total: report.items });
    for (let i = 0; i < toRead.length; i += batchSize) {
      const batch = toRead.slice(i, i + batchSize);
      const objects = await source.read(from, batch);
      const readIds = new Set(objects.map((o) => o.id));
      for (const ref of batch) if (!readIds.has(ref.id)) fail(null, ref.size, 'gone from the source while it was copied');
      await pool(objects, concurrency, async (object) => {
        const size = Buffer.byteLength(object.data);
        let uid: string | null = null;
        let data = object.data;
        let isReadable = true;
        try {
          uid = itemUid(object.data);
          data = prepareForTarget(object.data, from.kind, needs);
        } catch (error) {
          if (!(error instanceof ItemFormatError)) throw error;
          // Servers keep what ical.js cannot read (vCard 2.1 parameters, say): it travels as it is,
          // unless the target schedules and the attendees could not be kept from being told.
          if (needs.isScheduling && from.kind !== 'contacts') return fail(null, size, error.message);
          isReadable = false;
        }
        if (size > maxItemBytes) return fail(uid, size, `larger than the limit of ${Math.round(maxItemBytes / (1024 * 1024))} MB`);
        // Without a UID the item is known by its name on the source.
        const identity = uid ?? `name:${decodeURIComponent(new URL(object.id).pathname.split('/').pop() ?? object.id)}`;
        if (seenInRun.has(identity)) return fail(uid, size, 'another item of the collection has the same UID');
        seenInRun.add(identity);
        const components = isReadable && to.kind !== 'contacts' ? componentNames(data) : [];
        const dest = routesTasks && components.length > 0 && components.every((c) => c === 'VTODO') ? await taskListOnce() : to;
        // A calendar that takes no tasks would refuse them with a bare 403.
        if (dest.components.length > 0 && !components.every((c) => dest.components.includes(c))) {
          return fail(uid, size, `the target ${KIND_WORD[dest.kind]} does not take ${components.filter((c) => !dest.components.includes(c)).join(', ')}`);
        }

        const noteChanges = (written: { notMapped?: GroupwareChange['notMapped'] }) => {
          if (written.notMapped && written.notMapped.length > 0) changes.push({ kind: from.kind, collection: from.displayName, uid, notMapped: written.notMapped });
        };
        const save = (targetId: string, targetVersion: string | null, where: GroupwareCollection = dest) => {
          // The listing's ETag is what the next run compares with.
          const item: ItemCheckpoint = { identity, sourceVersion: listed.get(object.id)?.version ?? object.version, targetId, targetVersion };
          checkpoint.items[object.id] = item;
          byIdentity.set(identity, { id: targetId, version: targetVersion, where });
          hasWritten = true;
        };

        let existing = byIdentity.get(identity);
        if (!existing) {
          const id = target.itemId(dest, identity);
          const written = await target.write(dest, id, data, { create: true });
          if (written.ok) {
            report.copied++;
            noteChanges(written);
            return save(written.id ?? id, written.version);
          }
          if (!written.isConflict) return fail(uid, size, written.reason);
          // Written by a run that was killed before its checkpoint: compare, as below.
          const [there] = await target.read(dest, [{ id, version: null, size: null }]);
          if (!there) return fail(uid, size, 'the target reports the item both present and absent');
          existing = { id, version: there.version, data: there.data, where: dest };
        }
        const where = existing.where;
        const current = existing.data ?? (await target.read(where, [{ id: existing.id, version: existing.version, size: null }]))[0]?.data;
        if (current !== undefined && isSameItem(data, current)) {
          report.skipped++;
          return save(existing.id, existing.version, where);
        }
        const written = await target.write(where, existing.id, data, { version: existing.version });
        if (!written.ok) return fail(uid, size, written.reason);
        report.updated++;
        noteChanges(written);
        save(written.id ?? existing.id, written.version, where);
      });
      await state.saveCollection(checkpoint);
      // With the checkpoint that skips these items next time: what the target left out of them.
      if (changes.length > 0) {
        const recorded = changes.splice(0);
        await state.recordChanges?.(recorded);
        allChanges.push(...recorded);
      }
      done += objects.length;
      options.onProgress?.({ collection: from.displayName, done: Math.min(done, report.items), total: report.items });
      // Stopped here, the checkpoint just saved is where the next run goes on. The refusals met
      // so far are not recorded: those items are not in the checkpoint, and the next run meets them again.
      if (i + batchSize < toRead.length && isOverdue()) return stop(index + 1);
    }
    await state.recordIssues(issues);
    allIssues.push(...issues);
    reports.push(report);
  }
  return summary(true);
}
