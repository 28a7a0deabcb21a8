import { createDavFetch, DAV_REQUESTS_PER_HOST } from '../accounts/dav/dav-fetch';
import type { NetworkPolicy } from '../accounts/network/host-policy';
import { discoverEwsUrl } from '../accounts/ews/ews-client';
import { acquireAppToken, forgetAppToken, GRAPH_SCOPE } from '../accounts/m365/oauth';
import type { Microsoft365Credentials } from '../accounts/microsoft365-connection';
import { GROUPWARE, microsoftEndpoints, type MicrosoftEndpoints } from '../accounts/check';
import { env } from '../env';
import { createPinnedFetch, type PinnedFetch } from '../accounts/network/pinned-fetch';
import { davDiscoveryUrl, ewsDiscoveryStart } from '../accounts/server-address';
import { ConnectorError } from '../accounts/types';
import type { Db } from '../db';
import { copyGroupware, type CollectionReport } from '../engine/groupware/copy-groupware';
import { DavEndpoint } from '../engine/groupware/dav-endpoint';
import { EwsEndpoint } from '../engine/groupware/ews/ews-target';
import { MAILBOX_CONCURRENCY } from '../engine/groupware/graph/graph-http';
import { GraphEndpoint } from '../engine/groupware/graph/graph-target';
import type { GroupwareTarget } from '../engine/groupware/model';
import type { CollectionCheckpoint, GroupwareIssue, GroupwareStateStore } from '../engine/groupware/state';
import { createLogger } from '../logger';
import type { OpenedAccount } from './accounts';
import { acquireLeasesWhenFree, DEFAULT_DAV_CONNECTIONS_PER_HOST, releaseLease } from './connection-leases';
import { DbGroupwareStateStore } from './groupware-state';

const log = createLogger('migration');

/**
 * Whether a migration between these account types copies calendars, address books and task
 * lists: groupware on both sides (CalDAV/CardDAV, Exchange's EWS or Microsoft Graph), any pair.
 */
export function movesGroupware(sourceType: OpenedAccount['type'], targetType: OpenedAccount['type']): boolean {
  return GROUPWARE[sourceType] !== null && GROUPWARE[targetType] !== null;
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
  /** The organization's Microsoft 365 app, for office365 accounts (null: none connected). */
  microsoft365?: Microsoft365Credentials | null;
  /** Default: the installation's (MAILFERRY_MICROSOFT_*). */
  microsoftEndpoints?: MicrosoftEndpoints;
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


interface GroupwareSide {
  /** The lease of the server (or, for Microsoft 365, of the mailbox) over all workers. */
  lease: { key: string; connections: number; limit: number };
  open(pinned: PinnedFetch): Promise<GroupwareTarget>;
}

/** A CalDAV/CardDAV server's, an EWS server's and a Microsoft 365 mailbox's lease keys, apart from the IMAP server of the same name. */
const hostOf = (url: string) => (URL.canParse(url) ? new URL(url).host : url);

/** One side's groupware endpoint and what it leases: CalDAV/CardDAV, Exchange (EWS) or Microsoft 365 (Graph). */
function openSide(account: OpenedAccount, options: GroupwarePassOptions): GroupwareSide {
  const kind = GROUPWARE[account.type];
  const limit = options.connectionsPerHost ?? DEFAULT_DAV_CONNECTIONS_PER_HOST;
  switch (kind) {
    case 'dav': {
      const serverUrl = davDiscoveryUrl(account.server, account.groupwareUrl);
      const perHost = Math.min(DAV_REQUESTS_PER_HOST, limit);
      return {
        lease: { key: `dav:${hostOf(serverUrl)}`, connections: perHost, limit },
        open: (pinned) => DavEndpoint.open({ serverUrl, username: account.username, password: account.password, fetch: createDavFetch(pinned, { connectionsPerHost: perHost }) }),
      };
    }
    case 'ews': {
      const start = ewsDiscoveryStart(account.server, account.groupwareUrl);
      return {
        lease: { key: `ews:${hostOf(/^https?:\/\//i.test(start) ? start : `https://${start}/`)}`, connections: Math.min(DAV_REQUESTS_PER_HOST, limit), limit },
        open: async (pinned) => {
          const url = await discoverEwsUrl({ email: account.email, username: account.username, password: account.password, server: start, fetch: pinned });
          return new EwsEndpoint({ url, email: account.email, username: account.username, password: account.password, fetch: pinned });
        },
      };
    }
    case 'graph': {
      const user = account.email;
      // Graph allows 4 requests at once per mailbox and app, over every worker.
      return {
        lease: { key: `graph:${user.toLowerCase()}`, connections: MAILBOX_CONCURRENCY, limit: MAILBOX_CONCURRENCY },
        open: async (pinned) => {
          const app = options.microsoft365;
          if (!app) throw new ConnectorError('not_configured', 'the organization has no Microsoft 365 connection');
          const endpoints = options.microsoftEndpoints ?? microsoftEndpoints(env());
          const request = { ...app, scope: GRAPH_SCOPE, authorityHost: endpoints.authorityHost, fetch: pinned };
          return new GraphEndpoint({
            graphBaseUrl: endpoints.graphBaseUrl,
            user,
            fetch: pinned,
            token: async ({ renewed }: { renewed: boolean }) => {
              if (renewed) forgetAppToken(request);
              return (await acquireAppToken(request)).accessToken;
            },
          });
        },
      };
    }
    case null:
      throw new Error(`${account.type} accounts have no groupware`);
  }
}

/**
 * The groupware part of one pass: every calendar, address book and task list of the source to
 * the target, new and changed items only (copyGroupware: exactly once by UID), with the
 * migration's checkpoints, counts and refused items in the database. Deletions are not carried
 * over; attendees are never told (the copy keeps a scheduling target from sending anything).
 */
export async function runGroupwarePass(db: Db, migrationId: string, options: GroupwarePassOptions): Promise<GroupwarePassResult> {
  const sides = [openSide(options.source, options), openSide(options.target, options)] as const;
  // Every worker's requests to a server count against one limit: the pass leases as many as it
  // sends to that server at once (one lease where both sides are on the same server).
  const hosts = new Map<string, number>();
  const limits = new Map<string, number>();
  for (const side of sides) {
    hosts.set(side.lease.key, side.lease.connections);
    limits.set(side.lease.key, side.lease.limit);
  }
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  const leases = await acquireLeasesWhenFree(db, hosts, {
    ttlSeconds: Math.ceil(Math.max(0, Math.min(deadline - Date.now(), 86_400_000)) / 1000) + 300,
    limit: limits,
    until: Math.max(deadline, Date.now() + LEASE_WAIT_MIN_MS),
    onWait: options.checkpoint,
  });
  if (!leases) {
    log.info('groupware servers busy: the pass goes on in the next job', { migrationId });
    return { collections: [], issues: [], isComplete: false };
  }
  const pinned = createPinnedFetch(options.policy, { timeoutMs: 60_000 });
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
    recordChanges: (changes) => store.recordChanges(changes),
  };
  try {
    const [source, target] = await Promise.all([sides[0].open(pinned), sides[1].open(pinned)]);
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
