import { DavAccount, resourceName, type DavCollection, type DavLogin } from '../../accounts/dav/dav-client';
import type { GroupwareCollection, GroupwareKind, GroupwareTarget, ItemRef, WriteResult } from './model';

/** Path segments servers give the collection they create for every account. */
const DEFAULT_SLUGS: Record<GroupwareKind, string[]> = {
  calendar: ['calendar', 'default', 'personal', 'home', 'calendars', 'events'],
  contacts: ['addressbook', 'contacts', 'default', 'personal', 'card'],
  tasks: ['tasks', 'todo', 'todos', 'default_task_list'],
};

function lastSegment(url: string): string {
  const parts = new URL(url).pathname.split('/').filter(Boolean);
  return decodeURIComponent(parts[parts.length - 1] ?? '');
}

/**
 * Which collection of each kind is the account's default: the server's own word where it gives
 * one (schedule-default-calendar-URL), else the collection servers create for every account
 * (`calendar`, `addressbook`, `tasks`, ...), else the only one of its kind.
 */
export function pickDefaults(collections: DavCollection[], scheduleDefault: string | null): Set<string> {
  const out = new Set<string>();
  for (const kind of ['calendar', 'contacts', 'tasks'] as const) {
    const ofKind = collections.filter((c) => c.kind === kind);
    const byServer = kind === 'calendar' ? ofKind.find((c) => c.url === scheduleDefault) : undefined;
    const bySlug = DEFAULT_SLUGS[kind].map((slug) => ofKind.find((c) => lastSegment(c.url).toLowerCase() === slug)).find(Boolean);
    const chosen = byServer ?? bySlug ?? (ofKind.length === 1 ? ofKind[0] : undefined);
    if (chosen) out.add(chosen.url);
  }
  return out;
}

/** A CalDAV/CardDAV account as a groupware source and target. */
export class DavEndpoint implements GroupwareTarget {
  private readonly featureCache = new Map<string, Promise<string[]>>();
  private readonly davCollections = new Map<string, DavCollection>();

  private constructor(readonly account: DavAccount) {}

  static async open(login: DavLogin): Promise<DavEndpoint> {
    return new DavEndpoint(await DavAccount.open(login));
  }

  async collections(): Promise<GroupwareCollection[]> {
    const found = await this.account.collections();
    const defaults = pickDefaults(found, found.some((c) => c.kind === 'calendar') ? await this.account.scheduleDefaultCalendar() : null);
    for (const c of found) this.davCollections.set(c.url, c);
    return found.map((c) => ({
      id: c.url,
      kind: c.kind,
      displayName: c.displayName?.trim() || lastSegment(c.url),
      color: c.color,
      description: c.description,
      isDefault: defaults.has(c.url),
      components: c.components,
      slug: lastSegment(c.url),
    }));
  }

  async list(collection: GroupwareCollection): Promise<ItemRef[]> {
    return (await this.account.resources(collection.id)).map((r) => ({ id: r.url, version: r.etag, size: r.size }));
  }

  async read(collection: GroupwareCollection, refs: ItemRef[]) {
    const objects = await this.account.multiget(collection.id, collection.kind, refs.map((r) => r.id));
    return objects.map((o) => ({ id: o.url, version: o.etag, data: o.data }));
  }

  private features(url: string): Promise<string[]> {
    let cached = this.featureCache.get(url);
    if (!cached) {
      cached = this.account.features(url);
      this.featureCache.set(url, cached);
    }
    return cached;
  }

  async isScheduling(collection: GroupwareCollection): Promise<boolean> {
    if (collection.kind === 'contacts') return false;
    // RFC 6638 names the feature calendar-auto-schedule; Xandikos says calendar-auto-scheduling.
    if ((await this.features(collection.id)).some((f) => f.startsWith('calendar-auto-schedul'))) return true;
    // A server may schedule without saying so in OPTIONS; a scheduling inbox or outbox gives it
    // away. Marking attendees on a server that does not schedule changes nothing (RFC 6638 7.1).
    const scheduling = await this.account.schedulingCollections();
    return scheduling.inbox !== null || scheduling.outbox !== null;
  }

  async vcardVersions(collection: GroupwareCollection): Promise<string[]> {
    return this.davCollections.get(collection.id)?.vcardVersions ?? [];
  }

  async create(spec: Omit<GroupwareCollection, 'id' | 'isDefault'>): Promise<GroupwareCollection> {
    const url = await this.account.createCollection(spec.kind, spec.slug, {
      displayName: spec.displayName,
      color: spec.color,
      description: spec.description,
      components: spec.components.length > 0 ? spec.components : spec.kind === 'tasks' ? ['VTODO'] : ['VEVENT', 'VTODO'],
    });
    const name = (await this.account.displayName(url).catch(() => null)) ?? spec.displayName;
    this.davCollections.set(url, { url, kind: spec.kind, components: spec.components, displayName: name, color: spec.color, description: spec.description, syncToken: null, vcardVersions: [] });
    return { ...spec, id: url, displayName: name, isDefault: false };
  }

  itemId(collection: GroupwareCollection, identity: string): string {
    return new URL(resourceName(identity, collection.kind), collection.id).href;
  }

  async write(collection: GroupwareCollection, id: string, data: string, condition: { create: true } | { version: string | null }): Promise<WriteResult> {
    const outcome = await this.account.put(id, data, collection.kind, 'create' in condition ? { create: true } : { etag: condition.version });
    return outcome.ok ? { ok: true, version: outcome.etag } : { ok: false, isConflict: outcome.isConflict, reason: outcome.reason };
  }
}
