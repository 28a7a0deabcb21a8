import { GROUPWARE } from '../accounts/check';
import { createDavFetch } from '../accounts/dav/dav-fetch';
import type { NetworkPolicy } from '../accounts/network/host-policy';
import { createPinnedFetch } from '../accounts/network/pinned-fetch';
import { davDiscoveryUrl } from '../accounts/server-address';
import type { Db } from '../db';
import { copyGroupware, type CollectionReport } from '../engine/groupware/copy-groupware';
import { DavEndpoint } from '../engine/groupware/dav-endpoint';
import type { CollectionCheckpoint, GroupwareIssue, GroupwareStateStore } from '../engine/groupware/state';
import { createLogger } from '../logger';
import type { OpenedAccount } from './accounts';
import { DbGroupwareStateStore } from './groupware-state';

const log = createLogger('migration');

/** Whether a migration between these account types copies calendars, address books and task lists (CalDAV/CardDAV on both sides). */
export function movesGroupware(sourceType: OpenedAccount['type'], targetType: OpenedAccount['type']): boolean {
  return GROUPWARE[sourceType] === 'dav' && GROUPWARE[targetType] === 'dav';
}

export interface GroupwarePassOptions {
  source: OpenedAccount;
  target: OpenedAccount;
  policy: NetworkPolicy;
  /** Called at every checkpoint: throws to stop the copy (the migration was cancelled). */
  checkpoint: () => Promise<void>;
  /** Where each account's CalDAV/CardDAV discovery starts; davDiscoveryUrl of its server unless a test points elsewhere. */
  davUrlOf?: (account: OpenedAccount, side: 'source' | 'target') => string;
}

export interface GroupwarePassResult {
  collections: CollectionReport[];
  issues: GroupwareIssue[];
}

/**
 * The groupware part of one pass: every calendar, address book and task list of the source to
 * the target, new and changed items only (copyGroupware: exactly once by UID), with the
 * migration's checkpoints, counts and refused items in the database. Deletions are not carried
 * over; attendees are never told (the copy keeps a scheduling target from sending anything).
 */
export async function runGroupwarePass(db: Db, migrationId: string, options: GroupwarePassOptions): Promise<GroupwarePassResult> {
  const urlOf = options.davUrlOf ?? ((account: OpenedAccount) => davDiscoveryUrl(account.server, account.groupwareUrl));
  const pinned = createPinnedFetch(options.policy, { timeoutMs: 60_000 });
  const fetch = createDavFetch(pinned);
  const store = new DbGroupwareStateStore(db, migrationId);
  let pendingSave: Promise<void> = Promise.resolve();
  const state: GroupwareStateStore = {
    loadCollections: () => store.loadCollections(),
    saveCollection: async (checkpoint: CollectionCheckpoint) => {
      await store.saveCollection(checkpoint);
      await options.checkpoint();
    },
    recordIssues: async (issues) => {
      await pendingSave;
      await store.recordIssues(issues);
    },
  };
  try {
    const [source, target] = await Promise.all([
      DavEndpoint.open({ serverUrl: urlOf(options.source, 'source'), username: options.source.username, password: options.source.password, fetch }),
      DavEndpoint.open({ serverUrl: urlOf(options.target, 'target'), username: options.target.username, password: options.target.password, fetch }),
    ]);
    const summary = await copyGroupware({
      source,
      target,
      state,
      onProgress: ({ done, total }) => {
        const sourceId = store.current;
        if (!sourceId) return;
        pendingSave = pendingSave.then(() => store.saveProgress(sourceId, total, done)).catch((error: Error) => log.warn('groupware progress not saved', { migrationId, error }));
      },
    });
    await pendingSave;
    await store.saveReports(summary.collections);
    const failed = summary.issues.length;
    if (failed > 0) log.warn('groupware items not copied', { migrationId, failed });
    return { collections: summary.collections, issues: summary.issues };
  } finally {
    await pendingSave;
    await pinned.close().catch(() => undefined);
  }
}
