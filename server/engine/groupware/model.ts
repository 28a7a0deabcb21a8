/**
 * The neutral model of the groupware copy: what every groupware system holds, whatever its
 * protocol. The DAV systems (Zimbra, Kolab, Open-Xchange) reach it through CalDAV/CardDAV;
 * Exchange and Microsoft 365 plug in as further endpoints of the same shape.
 */

export type GroupwareKind = 'calendar' | 'contacts' | 'tasks';

export interface GroupwareCollection {
  /** The endpoint's own id (the collection URL for DAV). */
  id: string;
  kind: GroupwareKind;
  displayName: string;
  color: string | null;
  description: string | null;
  /** The account's default calendar / address book / task list. */
  isDefault: boolean;
  /** Calendar components it takes (VEVENT, VTODO); empty for address books. */
  components: string[];
  /** Last path segment, or what the endpoint names it by; used as the name of a new collection on the target. */
  slug: string;
}

/** An item as listed, before its content is read. */
export interface ItemRef {
  /** The endpoint's id of the item (its URL for DAV). */
  id: string;
  /** Changes whenever the item does (ETag). */
  version: string | null;
  size: number | null;
}

/** One calendar resource (an event or task with its overridden instances and time zones) or one vCard. */
export interface GroupwareItem extends ItemRef {
  /** Null for a vCard without UID (vCard 3 allows it): its identity is then its id on the source. */
  uid: string | null;
  /** The iCalendar or vCard text. */
  data: string;
}

/** Something of an item the target has no place for, or keeps in another form (never the item's values). */
export interface NotMappedNote {
  /** VEVENT, VTODO, VALARM, VTIMEZONE, VCARD. */
  component: string;
  /** The property, upper-case; null for a whole component. */
  property: string | null;
  /** In words, without the item's values. */
  reason: string;
}

export type WriteResult =
  | {
      ok: true;
      version: string | null;
      /** The id the target gave the item, where it chooses ids itself (Exchange, Microsoft 365); else the id written to. */
      id?: string;
      /** What the target could not keep of this item: the copy reports it with the item. */
      notMapped?: NotMappedNote[];
    }
  | { ok: false; isConflict: boolean; reason: string };

/** What the copy reads from. */
export interface GroupwareSource {
  collections(): Promise<GroupwareCollection[]>;
  list(collection: GroupwareCollection): Promise<ItemRef[]>;
  read(collection: GroupwareCollection, refs: ItemRef[]): Promise<{ id: string; version: string | null; data: string }[]>;
}

/** What the copy writes to. */
export interface GroupwareTarget extends GroupwareSource {
  /** Implicit scheduling (RFC 6638): the copy must keep it from sending anything. */
  isScheduling(collection: GroupwareCollection): Promise<boolean>;
  /** vCard versions the address book takes; empty: any. */
  vcardVersions(collection: GroupwareCollection): Promise<string[]>;
  create(spec: Omit<GroupwareCollection, 'id' | 'isDefault'>): Promise<GroupwareCollection>;
  /**
   * The id a new item with this identity gets: the same on every run. A target that chooses ids
   * itself answers a placeholder, and `write` with `create` gives the real id in its result.
   */
  itemId(collection: GroupwareCollection, identity: string): string;
  /**
   * `create`: only if nothing is there; else only if the item still has `version`. A target that
   * cannot tell whether an item with this identity exists (no ids of its own to write to) finds
   * it before it creates, so a retry never writes it twice.
   */
  write(collection: GroupwareCollection, id: string, data: string, condition: { create: true } | { version: string | null }): Promise<WriteResult>;
}

/**
 * Can a target collection stand for a source collection of this kind? Servers that ignore the
 * component set of MKCALENDAR (Xandikos) list a task list made there as a calendar that also
 * takes VTODO: it is still the task list.
 */
export function holdsKind(collection: GroupwareCollection, kind: GroupwareKind): boolean {
  return collection.kind === kind || (kind === 'tasks' && collection.kind === 'calendar' && collection.components.includes('VTODO'));
}
