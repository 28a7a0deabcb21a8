import { JsonStateFile } from '../json-state-file';
import type { GroupwareKind, NotMappedNote } from './model';

/** What the copy knows of one item it carried over. */
export interface ItemCheckpoint {
  /** UID, or `name:<name on the source>` for an item without one (or that ical.js cannot read). */
  identity: string;
  /** The source's version (ETag) when it was last carried over. */
  sourceVersion: string | null;
  targetId: string;
  targetVersion: string | null;
}

/** Where one collection's copy stands. */
export interface CollectionCheckpoint {
  kind: GroupwareKind;
  sourceId: string;
  sourceName: string;
  targetId: string;
  targetName: string;
  /** Why the target collection's name differs from the source's (renamed by the server, the target's default). */
  targetNote: string | null;
  /** The task list that takes the tasks of a source calendar whose target calendar takes only events. */
  tasksTargetId?: string;
  tasksTargetName?: string;
  /** By source item id. */
  items: Record<string, ItemCheckpoint>;
}

export interface GroupwareIssue {
  kind: GroupwareKind;
  /** The source collection's name. */
  collection: string;
  uid: string | null;
  size: number | null;
  /** Plain words; never the item's summary or content. */
  reason: string;
}

/** An item copied without something the target has no place for (an Exchange or Microsoft 365 target). */
export interface GroupwareChange {
  kind: GroupwareKind;
  /** The source collection's name. */
  collection: string;
  uid: string | null;
  notMapped: NotMappedNote[];
}

/** Checkpoints and issues of one groupware copy: in the database for the portal, in a file for the CLI. */
export interface GroupwareStateStore {
  loadCollections(): Promise<Map<string, CollectionCheckpoint>>;
  saveCollection(checkpoint: CollectionCheckpoint): Promise<void>;
  recordIssues(issues: GroupwareIssue[]): Promise<void>;
  /** The items of a collection copied with something left out, when the collection is done. */
  recordChanges?(changes: GroupwareChange[]): Promise<void>;
}

interface StateFile {
  version: 1;
  kind: 'groupware';
  collections: CollectionCheckpoint[];
  issues: GroupwareIssue[];
}

/**
 * The command line's state: one JSON file, replaced atomically (write, rename) at most every
 * `intervalMs`, and by close(). A run killed between two writes loses only the last few
 * checkpoints; the copy finds those items on the target by UID and does not add them again.
 */
export class FileGroupwareStateStore implements GroupwareStateStore {
  private readonly json: JsonStateFile<StateFile>;

  constructor(
    readonly file: string,
    intervalMs = 250,
  ) {
    this.json = new JsonStateFile<StateFile>(file, {
      empty: () => ({ version: 1, kind: 'groupware', collections: [], issues: [] }),
      check: (state) => {
        if (state.version !== 1 || state.kind !== 'groupware') throw new Error(`${file} is not a Mailferry groupware state file of a known version`);
      },
      intervalMs,
    });
  }

  private read(): Promise<StateFile> {
    return this.json.read();
  }

  private changed() {
    this.json.changed();
  }

  async loadCollections(): Promise<Map<string, CollectionCheckpoint>> {
    const state = await this.read();
    return new Map(state.collections.map((c) => [c.sourceId, structuredClone(c)]));
  }

  async saveCollection(checkpoint: CollectionCheckpoint): Promise<void> {
    const state = await this.read();
    const index = state.collections.findIndex((c) => c.sourceId === checkpoint.sourceId);
    const copy = structuredClone(checkpoint);
    if (index >= 0) state.collections[index] = copy;
    else state.collections.push(copy);
    this.changed();
  }

  async recordIssues(issues: GroupwareIssue[]): Promise<void> {
    if (issues.length === 0) return;
    const state = await this.read();
    // A re-run tries a refused item again and meets the same refusal: kept once.
    const key = (i: GroupwareIssue) => `${i.collection}\n${i.uid}\n${i.reason}`;
    const known = new Set(state.issues.map(key));
    state.issues.push(...issues.filter((i) => !known.has(key(i))));
    this.changed();
  }

  async issues(): Promise<GroupwareIssue[]> {
    return (await this.read()).issues;
  }

  close(): Promise<void> {
    return this.json.close();
  }
}

/** For tests and one-off runs. */
export class MemoryGroupwareStateStore implements GroupwareStateStore {
  readonly collections = new Map<string, CollectionCheckpoint>();
  readonly issues: GroupwareIssue[] = [];
  async loadCollections() {
    return new Map([...this.collections].map(([k, v]) => [k, structuredClone(v)]));
  }
  async saveCollection(checkpoint: CollectionCheckpoint) {
    this.collections.set(checkpoint.sourceId, structuredClone(checkpoint));
  }
  async recordIssues(issues: GroupwareIssue[]) {
    this.issues.push(...issues);
  }
}
