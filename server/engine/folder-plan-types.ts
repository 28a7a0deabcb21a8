/** How the source's folders map onto the target's. Built by folder-plan.ts. */
export type SpecialUse = '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive' | '\\All' | '\\Flagged' | '\\Important' | null;

export interface PlannedFolder {
  /** Full path on the source (as imapflow reports it: decoded UTF-8, source delimiter). */
  sourcePath: string;
  /** Full path on the target (decoded UTF-8, target delimiter and namespace prefix applied). */
  targetPath: string;
  /** The special use detected on the source (attribute or name heuristic). */
  specialUse: SpecialUse;
  /** Whether the source folder is subscribed (the target subscription is kept the same). */
  isSubscribed: boolean;
  /** \Noselect folders only exist to hold children: created on the target, nothing copied. */
  isSelectable: boolean;
  /** Why targetPath is not simply the source name (a special-use mapping, a collision, a refused name). */
  note?: string | null;
}

export interface FolderPlan {
  folders: PlannedFolder[];
  /** Source folders left out on purpose (e.g. \Flagged / \Important virtual folders, which would copy messages twice). */
  skipped: { sourcePath: string; reason: string }[];
  /** Decisions a person should know about, in plain words (which of two Sent folders became the target's Sent). */
  notices?: { folder: string | null; text: string }[];
  /** Source folders that hold groupware, left out of the mail copy (see GroupwareFolderOption). */
  groupware?: GroupwareFolder[];
}

export interface FolderCreationResult {
  sourcePath: string;
  /** Where the folder is on the target: the planned path, or the name it got when the server refused that one. */
  targetPath: string;
  /** The planned path when the server refused it and the folder was created under another name. */
  refusedPath?: string;
  status: 'existed' | 'created' | 'refused';
  /** The server's answer when refused, or when the planned name was refused and the folder renamed (no message content ever). */
  reason?: string;
  /** The server would not give the folder the source's subscription state. */
  subscriptionRefused?: boolean;
}

/** What a folder that shows up over IMAP but holds groupware holds, as the plan names it. */
export type GroupwareFolderType = 'event' | 'contact' | 'task' | 'note' | 'journal' | 'configuration' | 'freebusy' | 'file';

/**
 * Groupware moves by its own path (CalDAV/CardDAV), so the folders in which the source's
 * server also shows it over IMAP are left out of the mail copy. `kind` says how they are told
 * apart: Kolab marks them with `/vendor/kolab/folder-type` metadata (or annotations), Zimbra
 * and Exchange by their names (Calendar, Contacts, Tasks, Notes, Journal, …) at the top level.
 */
export interface GroupwareFolderOption {
  kind: 'kolab' | 'zimbra' | 'exchange';
  /** Types the groupware copy carries ("moved as groupware"); the others are "skipped". Default: event, contact, task. */
  carried?: readonly GroupwareFolderType[];
}

/** A source folder left out of the mail copy because it holds groupware. */
export interface GroupwareFolder {
  sourcePath: string;
  type: GroupwareFolderType;
  /** 'moved': the groupware copy carries what it holds; 'skipped': nothing copies it. */
  treatment: 'moved' | 'skipped';
  /** How it was recognised: the server's folder-type metadata, or its name. */
  by: 'metadata' | 'name';
}
