import { GROUPWARE } from '../accounts/check';
import { createDavFetch, DAV_REQUESTS_PER_HOST } from '../accounts/dav/dav-fetch';
import type { NetworkPolicy } from '../accounts/network/host-policy';
import { createPinnedFetch } from '../accounts/network/pinned-fetch';
import { davDiscoveryUrl } from '../accounts/server-address';
import type { Db } from '../db';
import { copyGroupware, type CollectionReport } from '../engine/groupware/copy-groupware';
import { DavEndpoint } from '../engine/groupware/dav-endpoint';
import type { CollectionCheckpoint, GroupwareIssue, GroupwareStateStore } from '../engine/groupware/state';
import { createLogger } from '../logger';
import type { OpenedAccount } from './accounts';
import { acquireLeasesWhenFree, DEFAULT_DAV_CONNECTIONS_PER_HOST, releaseLease } from './connection-leases';
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
  /** When (Date.now() ms) the job's time budget is spent: the copy stops at its next checkpoint and the pass is not complete. */
  deadline?: number;
  /** DAV requests at once to one server over all workers and migrations (connection leases). */
  connectionsPerHost?: number;
}

export interface GroupwarePassResult {
  /** The collections gone through completely. */
  collections: CollectionReport[];
  issues: GroupwareIssue[];
  /** False when the time budget ended the pass with work left: a next job goes on from the checkpoints. */
  isComplete: boolean;
}

/** However short the budget left, a pass waits this long for a full DAV server before it hands over. */
const LEASE_WAIT_MIN_MS = 30_000;

/** A CalDAV/CardDAV server's lease key: its own, apart from the IMAP server of the same name. */
const davLeaseHost = (url: string) => `dav:${URL.canParse(url) ? new URL(url).host : url}`;

/**
 * The groupware part of one pass: every calendar, address book and task list of the source to
 * the target, new and changed items only (copyGroupware: exactly once by UID), with the
 * migration's checkpoints, counts and refused items in the database. Deletions are not carried
 * over; attendees are never told (the copy keeps a scheduling target from sending anything).
 */
export async function runGroupwarePass(db: Db, migrationId: string, options: GroupwarePassOptions): Promise<GroupwarePassResult> {
  const urlOf = (account: OpenedAccount) => davDiscoveryUrl(account.server, account.groupwareUrl);
  const sourceUrl = urlOf(options.source);
  const targetUrl = urlOf(options.target);
  // Every worker's DAV requests to a server count against one limit: the pass leases as many as
  // its fetch sends to that host at once (one lease where both sides are on the same server).
  const perHost = Math.min(DAV_REQUESTS_PER_HOST, options.connectionsPerHost ?? DEFAULT_DAV_CONNECTIONS_PER_HOST);
  const hosts = new Map([sourceUrl, targetUrl].map((url) => [davLeaseHost(url), perHost]));
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  const leases = await acquireLeasesWhenFree(db, hosts, {
    ttlSeconds: Math.ceil(Math.max(0, Math.min(deadline - Date.now(), 86_400_000)) / 1000) + 300,
    limit: options.connectionsPerHost ?? DEFAULT_DAV_CONNECTIONS_PER_HOST,
    until: Math.max(deadline, Date.now() + LEASE_WAIT_MIN_MS),
    onWait: options.checkpoint,
  });
  if (!leases) {
    log.info('groupware servers busy: the pass goes on in the next job', { migrationId });
    return { collections: [], issues: [], isComplete: false };
  }
  const pinned = createPinnedFetch(options.policy, { timeoutMs: 60_000 });
  const fetch = createDavFetch(pinned, { connectionsPerHost: perHost });
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
      DavEndpoint.open({ serverUrl: sourceUrl, username: options.source.username, password: options.source.password, fetch }),
      DavEndpoint.open({ serverUrl: targetUrl, username: options.target.username, password: options.target.password, fetch }),
    ]);
    const summary = await copyGroupware({
      source,
      target,
      state,
      ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
      onPlan: (plan) => store.savePlan(plan),
      onProgress: ({ done, total }) => {
        const sourceId = store.current;
        if (!sourceId) return;
        pendingSave = pendingSave.then(() => store.saveProgress(sourceId, total, done)).catch((error: Error) => log.warn('groupware progress not saved', { migrationId, error }));
      },
    });
    await pendingSave;
    // Stopped at the budget, only the collections gone through have their counts; the one it
    // stopped in keeps its progress until the next job goes on.
    await store.saveReports(summary.collections);
    const failed = summary.issues.length;
    if (failed > 0) log.warn('groupware items not copied', { migrationId, failed });
    if (!summary.isComplete) log.info('groupware copy stopped at the time budget: the next job goes on', { migrationId });
    return { collections: summary.collections, issues: summary.issues, isComplete: summary.isComplete };
  } finally {
    await pendingSave;
    await pinned.close().catch(() => undefined);
    await Promise.all(leases.map((id) => releaseLease(db, id)));
  }
}
