import { DavAccount, resourceName } from '@/server/accounts/dav/dav-client';
import type { FetchLike } from '@/server/accounts/types';
import type { CorpusCollection, CorpusItem } from './corpus';

export interface LoadTarget {
  /** Where discovery starts, e.g. `http://127.0.0.1:5232/`. */
  serverUrl: string;
  username: string;
  password: string;
  fetch?: FetchLike;
}

/** Collection URL by slug, after load(). */
export type LoadedCollections = Map<string, string>;

/**
 * Puts a corpus into an account as a groupware client would: each collection created in the
 * account's home (or reused when it exists, like a server's default calendar), each item PUT
 * under a name of its own (not the one the copy would choose).
 */
export async function loadCorpus(target: LoadTarget, collections: CorpusCollection[], options: { concurrency?: number } = {}): Promise<LoadedCollections> {
  const account = await DavAccount.open({ serverUrl: target.serverUrl, username: target.username, password: target.password, fetch: target.fetch ?? ((input, init) => fetch(input, init)) });
  const existing = await account.collections();
  const out: LoadedCollections = new Map();
  for (const collection of collections) {
    const home = collection.kind === 'contacts' ? account.addressBookHome : account.calendarHome;
    const there = existing.find((c) => c.url === new URL(`${encodeURIComponent(collection.slug)}/`, home ?? target.serverUrl).href);
    const url =
      there?.url ??
      (await account.createCollection(collection.kind, collection.slug, {
        displayName: collection.displayName,
        color: collection.color,
        description: collection.description,
        components: collection.kind === 'tasks' ? ['VTODO'] : ['VEVENT', 'VTODO'],
      }));
    out.set(collection.slug, url);
    await putItems(account, url, collection.kind, collection.items, options.concurrency ?? 4);
  }
  return out;
}

/** PUTs (creates or replaces) items in a collection, named `src-<name of the UID>`. */
export async function putItems(account: DavAccount, collectionUrl: string, kind: CorpusCollection['kind'], items: CorpusItem[], concurrency = 4): Promise<void> {
  let next = 0;
  const work = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      const result = await account.put(new URL(`src-${resourceName(item.uid, kind)}`, collectionUrl).href, item.data, kind, { etag: null });
      if (!result.ok) throw new Error(`loading ${item.uid} into ${collectionUrl}: ${result.reason}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, work));
}
