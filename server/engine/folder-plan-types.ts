/** How the source's folders map onto the target's. Built by folder-plan.ts. */
export type SpecialUse = '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive' | '\\All' | '\\Flagged' | null;

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
}

export interface FolderPlan {
  folders: PlannedFolder[];
  /** Source folders left out on purpose (e.g. \All / \Flagged virtual folders, which would copy messages twice). */
  skipped: { sourcePath: string; reason: string }[];
}

export interface FolderCreationResult {
  targetPath: string;
  status: 'existed' | 'created' | 'refused';
  /** The server's answer when refused (no message content ever). */
  reason?: string;
}
