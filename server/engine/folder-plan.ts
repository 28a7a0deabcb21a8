import type { FolderCreationResult, FolderPlan, PlannedFolder, SpecialUse } from './folder-plan-types';

/**
 * A folder as LIST reports it. imapflow's ListResponse fits as is: `path` decoded from modified
 * UTF-7 (or raw UTF-8 under UTF8=ACCEPT), `delimiter` the hierarchy delimiter or null for a
 * flat namespace, `flags` the mailbox attributes.
 */
export interface ListedFolder {
  path: string;
  name?: string;
  delimiter?: string | null;
  flags: ReadonlySet<string> | readonly string[];
  /** Trusted as a server attribute unless `specialUseSource` says it was guessed from the name. */
  specialUse?: string | null;
  specialUseSource?: string;
  subscribed?: boolean;
}

/** The folder commands a plan needs: imapflow, or a raw session (see raw-folders.ts). */
export interface FolderClient {
  namespace?: { prefix?: string | null; delimiter?: string | null } | null;
  namespaces?: {
    personal: { prefix?: string | null; delimiter?: string | null }[];
    other?: { prefix?: string | null }[] | null | false;
    shared?: { prefix?: string | null }[] | null | false;
  } | null;
  list(): Promise<ListedFolder[]>;
  /** Creates and subscribes; `created` is false when the folder already existed. */
  mailboxCreate(path: string): Promise<{ created: boolean }>;
  mailboxSubscribe(path: string): Promise<boolean>;
  mailboxUnsubscribe(path: string): Promise<boolean>;
}

/** The account's personal namespace, as folder paths are written on that server. */
export interface FolderNamespace {
  /** Hierarchy delimiter; '' for a flat namespace (NIL delimiter). */
  delimiter: string;
  /** Personal namespace prefix ending with the delimiter ("INBOX." on Courier/Cyrus), or ''. */
  prefix: string;
  /** Prefixes of other users' and shared namespaces: their folders are not this account's. */
  otherPrefixes?: readonly string[];
}

/** A folder whose target name had to change beyond delimiter and prefix. */
export interface FolderRename {
  sourcePath: string;
  targetPath: string;
  reason: string;
}

/** FolderPlan plus the renames it made; `renamed` belongs in FolderPlan itself (see folder-plan-types.ts). */
export interface MappedFolderPlan extends FolderPlan {
  renamed: FolderRename[];
}

type MailSpecialUse = '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive';

const MAIL_SPECIAL_USES: readonly MailSpecialUse[] = ['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive'];

// Virtual folders first: a folder that claims \All as well as another use is still a view of
// mail that lives elsewhere.
const ATTRIBUTES: readonly [string, Exclude<SpecialUse, null>][] = [
  ['\\all', '\\All'],
  ['\\flagged', '\\Flagged'],
  ['\\sent', '\\Sent'],
  ['\\drafts', '\\Drafts'],
  ['\\trash', '\\Trash'],
  ['\\junk', '\\Junk'],
  ['\\archive', '\\Archive'],
  // Gmail's pre-RFC 6154 XLIST attributes, still sent by servers that copied its XLIST.
  ['\\allmail', '\\All'],
  ['\\starred', '\\Flagged'],
  ['\\spam', '\\Junk'],
];

// Folder names that default clients and servers create, per language (Outlook, Thunderbird,
// Apple Mail, Roundcube, SOGo, Horde, webmail of the big providers). Compared after
// normalizeName(), so case, accents, and '-', '_' or runs of spaces do not matter.
const NAMES: Record<MailSpecialUse, readonly string[]> = {
  '\\Sent': [
    ...['Sent', 'Sent Items', 'Sent Messages', 'Sent Mail', 'Sent E-mail', 'Outbox Sent', 'Sent Folder'],
    ...['Gesendet', 'Gesendete Objekte', 'Gesendete Elemente', 'Gesendete Nachrichten', 'Gesendete E-Mails'],
    ...['Envoyés', 'Éléments envoyés', 'Messages envoyés', 'Envoyé'],
    ...['Enviados', 'Elementos enviados', 'Mensajes enviados', 'Enviado'],
    ...['Posta inviata', 'Inviati', 'Elementi inviati', 'Inviata'],
    ...['Verzonden', 'Verzonden items', 'Verzonden berichten'],
    ...['Itens enviados', 'Enviadas', 'Mensagens enviadas'],
    ...['Wysłane', 'Elementy wysłane', 'Wysłane elementy'],
  ],
  '\\Drafts': [
    ...['Drafts', 'Draft'],
    ...['Entwürfe', 'Entwurf'],
    ...['Brouillons', 'Brouillon'],
    ...['Borradores', 'Borrador'],
    ...['Bozze', 'Bozza'],
    ...['Concepten', 'Concept'],
    ...['Rascunhos', 'Rascunho'],
    ...['Kopie robocze', 'Szkice'],
  ],
  '\\Trash': [
    ...['Trash', 'Deleted Items', 'Deleted Messages', 'Deleted', 'Bin'],
    ...['Papierkorb', 'Gelöschte Elemente', 'Gelöschte Objekte', 'Gelöschte Nachrichten', 'Gelöscht'],
    ...['Corbeille', 'Éléments supprimés', 'Messages supprimés'],
    ...['Papelera', 'Elementos eliminados', 'Elementos borrados', 'Mensajes eliminados', 'Eliminados'],
    ...['Cestino', 'Posta eliminata', 'Elementi eliminati'],
    ...['Prullenbak', 'Verwijderde items', 'Verwijderde berichten', 'Verwijderd'],
    ...['Lixeira', 'Lixo', 'Itens excluídos', 'Itens eliminados', 'Mensagens excluídas', 'Reciclagem'],
    ...['Kosz', 'Elementy usunięte', 'Usunięte'],
  ],
  '\\Junk': [
    ...['Junk', 'Junk E-mail', 'Junk Email', 'Junk Mail', 'Spam', 'Bulk Mail', 'Bulk'],
    ...['Junk-E-Mail', 'Spam-Mails', 'Unerwünscht'],
    ...['Courrier indésirable', 'Indésirables', 'Pourriel', 'Pourriels'],
    ...['Correo no deseado', 'No deseado', 'Correo basura'],
    ...['Posta indesiderata', 'Indesiderata'],
    ...['Ongewenste e-mail', 'Ongewenste email', 'Ongewenst'],
    ...['Lixo eletrônico', 'Lixo electrónico', 'Correio não solicitado'],
    ...['Wiadomości-śmieci', 'Niechciane'],
  ],
  '\\Archive': [
    ...['Archive', 'Archives', 'Archived'],
    ...['Archiv'],
    ...['Archivio'],
    ...['Archivo', 'Archivos'],
    ...['Archief'],
    ...['Arquivo', 'Arquivos'],
    ...['Archiwum'],
  ],
};

function normalizeName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[\s_-]+/g, ' ')
    .trim();
}

const NAME_INDEX = new Map<string, MailSpecialUse>(
  MAIL_SPECIAL_USES.flatMap((use) => NAMES[use].map((name) => [normalizeName(name), use] as const)),
);

// A segment containing the target's delimiter would silently become two levels; these look
// the same to a person but are ordinary characters to the server.
const LOOKALIKES: Record<string, string> = {
  '/': '\u2215', // DIVISION SLASH
  '.': '\u2024', // ONE DOT LEADER
  '\\': '\uFF3C', // FULLWIDTH REVERSE SOLIDUS
};
const FALLBACK_REPLACEMENT = '_';
// A flat target (NIL delimiter) cannot nest: the source hierarchy becomes part of the name.
const FLAT_JOINER = '/';

function flagSet(folder: Pick<ListedFolder, 'flags'>): Set<string> {
  return new Set([...folder.flags].map((flag) => flag.toLowerCase()));
}

function isInbox(path: string): boolean {
  return path.toUpperCase() === 'INBOX';
}

function attributeOf(folder: ListedFolder): SpecialUse {
  const flags = flagSet(folder);
  // Attributes are atoms and compare case-insensitively (RFC 9051 section 9).
  for (const [attribute, use] of ATTRIBUTES) if (flags.has(attribute)) return use;
  // imapflow fills specialUse from its own name table too, at any depth ("Projects/Sent"):
  // only an answer from the server counts here.
  if (folder.specialUse && folder.specialUseSource !== 'name') {
    const match = ATTRIBUTES.find(([attribute]) => attribute === folder.specialUse?.toLowerCase());
    if (match) return match[1];
  }
  return null;
}

function specialUseFromName(path: string, delimiter: string): MailSpecialUse | null {
  const segments = delimiter ? path.split(delimiter) : [path];
  let name: string | undefined;
  if (segments.length === 1) {
    // "INBOX.Sent" as one name: a folder tree copied from a Courier/Cyrus server onto a '/'
    // server by a tool that did not translate the delimiter.
    name = /^INBOX[./](.+)$/i.exec(path)?.[1] ?? path;
  } else if (segments.length === 2 && isInbox(segments[0] ?? '')) {
    // Courier and Cyrus keep every folder under INBOX.
    name = segments[1];
  }
  return name === undefined ? null : (NAME_INDEX.get(normalizeName(name)) ?? null);
}

/**
 * The folder's special use: its RFC 6154 attribute when the server sends one, else a guess
 * from the name of a top-level folder (or one directly under INBOX). Names only ever suggest
 * Sent, Drafts, Trash, Junk or Archive; \All and \Flagged come from attributes alone.
 */
export function detectSpecialUse(folder: ListedFolder): SpecialUse {
  return attributeOf(folder) ?? specialUseFromName(folder.path, folder.delimiter ?? '');
}

function hasPrefix(path: string, prefix: string): boolean {
  // INBOX is case-insensitive, so an "INBOX." prefix is too.
  if (prefix.toUpperCase().startsWith('INBOX')) return path.slice(0, prefix.length).toUpperCase() === prefix.toUpperCase();
  return path.startsWith(prefix);
}

function normalizedPrefix(ns: Pick<FolderNamespace, 'delimiter' | 'prefix'>): string {
  // Some servers announce the prefix without its trailing delimiter ("INBOX" instead of "INBOX.").
  if (ns.prefix && ns.delimiter && !ns.prefix.endsWith(ns.delimiter)) return ns.prefix + ns.delimiter;
  return ns.prefix;
}

// Stands for INBOX itself among path names: below a personal prefix ("INBOX." on Courier), a
// first name "INBOX" is an ordinary folder of that name, so the name alone cannot say which.
const INBOX_ROOT = '\u0000INBOX';

/** The path below the personal namespace, split into names; INBOX itself is INBOX_ROOT. */
function relativeSegments(path: string, ns: Pick<FolderNamespace, 'delimiter' | 'prefix'>): string[] {
  if (isInbox(path)) return [INBOX_ROOT];
  const prefix = normalizedPrefix(ns);
  const isBelowPrefix = prefix !== '' && hasPrefix(path, prefix);
  const rest = isBelowPrefix ? path.slice(prefix.length) : path;
  // Empty names come from a leading or doubled delimiter, which no server accepts on CREATE.
  const segments = (ns.delimiter ? rest.split(ns.delimiter) : [rest]).filter((segment) => segment !== '');
  // Dovecot and others allow folders below INBOX ("INBOX/child").
  if (!isBelowPrefix && segments[0] !== undefined && isInbox(segments[0])) segments[0] = INBOX_ROOT;
  return segments;
}

function safeSegment(segment: string, delimiter: string): { segment: string; isReplaced: boolean } {
  if (!delimiter || !segment.includes(delimiter)) return { segment, isReplaced: false };
  return { segment: segment.split(delimiter).join(LOOKALIKES[delimiter] ?? FALLBACK_REPLACEMENT), isReplaced: true };
}

function joinTarget(segments: readonly string[], target: Pick<FolderNamespace, 'delimiter' | 'prefix'>): string {
  if (segments.length === 0) return '';
  const joined = segments.map((segment) => (segment === INBOX_ROOT ? 'INBOX' : segment)).join(target.delimiter || FLAT_JOINER);
  // INBOX and its children are outside any prefix: "INBOX.INBOX.x" would be a different folder.
  return segments[0] === INBOX_ROOT ? joined : normalizedPrefix(target) + joined;
}

/**
 * The source path written for the target: below the source's personal prefix, joined with the
 * target's delimiter, under the target's prefix. A name containing the target delimiter gets a
 * look-alike character instead (buildFolderPlan records that). '' for the namespace root itself.
 */
export function mapFolderPath(
  sourcePath: string,
  source: Pick<FolderNamespace, 'delimiter' | 'prefix'>,
  target: Pick<FolderNamespace, 'delimiter' | 'prefix'>,
): string {
  return joinTarget(
    relativeSegments(sourcePath, source).map((segment) => safeSegment(segment, target.delimiter).segment),
    target,
  );
}

/** detectSpecialUse, with "top-level" meaning directly below the namespace's prefix. */
function specialUseIn(folder: ListedFolder, ns: FolderNamespace): SpecialUse {
  const segments = relativeSegments(folder.path, ns);
  const attribute = attributeOf(folder);
  if (attribute || segments.length !== 1 || segments[0] === INBOX_ROOT) return attribute ?? detectSpecialUse(folder);
  return NAME_INDEX.get(normalizeName(segments[0] ?? '')) ?? null;
}

function foreignPrefix(path: string, ns: FolderNamespace): string | undefined {
  return ns.otherPrefixes?.find((prefix) => prefix !== '' && path.startsWith(prefix));
}

interface SourceEntry {
  folder: ListedFolder;
  index: number;
  segments: string[];
  specialUse: SpecialUse;
  hasAttribute: boolean;
  isSelectable: boolean;
  /** The target's special folder, when this entry won its special use. */
  specialTarget?: string;
}

/**
 * Maps every source folder to one target path. Special folders go to the target's folder of
 * the same use (attribute, else name), their children follow; the rest keep their names. No
 * two source folders share a target path: a later one gets " (2)", " (3)", … appended.
 * Names never depend on what exists on the target besides its special folders, so a resync
 * plans the same paths again.
 */
export function buildFolderPlan(
  sourceFolders: readonly ListedFolder[],
  targetFolders: readonly ListedFolder[],
  sourceNs: FolderNamespace,
  targetNs: FolderNamespace,
): MappedFolderPlan {
  const skipped: FolderPlan['skipped'] = [];
  const renamed: FolderRename[] = [];
  const entries: SourceEntry[] = [];
  const seenPaths = new Set<string>();

  sourceFolders.forEach((folder, index) => {
    const flags = flagSet(folder);
    const skip = (reason: string): void => {
      skipped.push({ sourcePath: folder.path, reason });
    };
    const foreign = foreignPrefix(folder.path, sourceNs);
    if (foreign !== undefined) return skip(`belongs to another user's or a shared namespace ("${foreign}"), not to this account`);
    // RFC 5258: listed only because it has children (or is a stale subscription).
    if (flags.has('\\nonexistent')) return skip('does not exist (\\NonExistent): the server lists it only as the parent of other folders');
    if (seenPaths.has(folder.path)) return skip('listed twice by the server');
    seenPaths.add(folder.path);
    const segments = relativeSegments(folder.path, sourceNs);
    if (segments.length === 0) return skip('is the namespace root, not a folder');
    const specialUse = specialUseIn(folder, sourceNs);
    // Gmail's "[Gmail]/All Mail" and "[Gmail]/Starred" show messages that live in other folders.
    if (specialUse === '\\All') return skip('virtual folder with every message (\\All): copying it would duplicate the other folders');
    if (specialUse === '\\Flagged') return skip('virtual folder of flagged messages (\\Flagged): copying it would duplicate them');
    entries.push({
      folder,
      index,
      segments,
      specialUse,
      hasAttribute: attributeOf(folder) !== null,
      isSelectable: !flags.has('\\noselect'),
    });
  });

  const targetSpecial = targetSpecialFolders(targetFolders, targetNs);
  for (const use of MAIL_SPECIAL_USES) {
    const candidates = entries.filter((entry) => entry.specialUse === use && entry.isSelectable);
    const winner = candidates.find((entry) => entry.hasAttribute) ?? candidates[0];
    const targets = targetSpecial.get(use) ?? [];
    if (!winner || targets.length === 0) continue;
    const natural = mapFolderPath(winner.folder.path, sourceNs, targetNs);
    // Among name matches prefer the folder a previous run created under the source's name, so
    // a resync does not switch to another folder that merely has a matching name.
    const chosen = targets.find((t) => t.hasAttribute) ?? targets.find((t) => t.path === natural) ?? targets[0];
    if (chosen) winner.specialTarget = chosen.path;
  }

  const assigned = new Map<string, string>();
  const owners = new Map<string, string>();
  // Keyed by source path: below a prefix, "INBOX.Foo" and a "Foo" outside it have the same names.
  const targetOf = (path: string): string => {
    const known = assigned.get(path);
    if (known !== undefined) return known;
    const segments = relativeSegments(path, sourceNs);
    const last = safeSegment(segments[segments.length - 1] ?? '', targetNs.delimiter).segment;
    if (segments.length <= 1) return joinTarget([last], targetNs);
    return targetOf(path.slice(0, path.lastIndexOf(sourceNs.delimiter))) + (targetNs.delimiter || FLAT_JOINER) + last;
  };

  const rank = (entry: SourceEntry) => (isInbox(entry.folder.path) ? 0 : entry.specialTarget !== undefined ? 1 : 2);
  const order = [...entries].sort(
    (a, b) => rank(a) - rank(b) || a.segments.length - b.segments.length || a.index - b.index,
  );
  for (const entry of order) {
    const natural = entry.specialTarget ?? targetOf(entry.folder.path);
    let targetPath = natural;
    const owner = owners.get(natural);
    if (owner !== undefined) {
      // "INBOX (2)" must stay inside the target's namespace.
      const base = isInbox(natural) ? `${normalizedPrefix(targetNs)}INBOX` : natural;
      for (let n = 2; owners.has(targetPath); n++) targetPath = `${base} (${n})`;
      renamed.push({ sourcePath: entry.folder.path, targetPath, reason: `"${natural}" is already the target of "${owner}"` });
    } else if (entry.specialTarget === undefined) {
      const last = entry.segments[entry.segments.length - 1] ?? '';
      if (safeSegment(last, targetNs.delimiter).isReplaced) {
        renamed.push({
          sourcePath: entry.folder.path,
          targetPath,
          reason: `the name contains "${targetNs.delimiter}", the target's hierarchy delimiter; replaced by a look-alike so it does not create subfolders`,
        });
      }
    }
    assigned.set(entry.folder.path, targetPath);
    owners.set(targetPath, entry.folder.path);
  }

  const planned = dropEmptyContainers(entries, sourceFolders, assigned, sourceNs, targetNs, skipped);
  const folders: PlannedFolder[] = planned.map((entry) => ({
    sourcePath: entry.folder.path,
    targetPath: assigned.get(entry.folder.path) ?? '',
    specialUse: entry.specialUse,
    // imapflow reports INBOX as subscribed whatever LSUB says; other servers never list it in LSUB.
    isSubscribed: entry.folder.subscribed === true || isInbox(entry.folder.path),
    isSelectable: entry.isSelectable,
  }));
  const plannedPaths = new Set(folders.map((f) => f.sourcePath));
  return { folders, skipped, renamed: renamed.filter((r) => plannedPaths.has(r.sourcePath)) };
}

interface TargetSpecial {
  path: string;
  hasAttribute: boolean;
}

function targetSpecialFolders(targetFolders: readonly ListedFolder[], targetNs: FolderNamespace): Map<MailSpecialUse, TargetSpecial[]> {
  const byUse = new Map<MailSpecialUse, TargetSpecial[]>();
  for (const folder of targetFolders) {
    const flags = flagSet(folder);
    if (flags.has('\\nonexistent') || flags.has('\\noselect') || foreignPrefix(folder.path, targetNs) !== undefined) continue;
    const use = specialUseIn(folder, targetNs);
    if (use === null || use === '\\All' || use === '\\Flagged') continue;
    const list = byUse.get(use) ?? [];
    list.push({ path: folder.path, hasAttribute: attributeOf(folder) !== null });
    byUse.set(use, list);
  }
  return byUse;
}

/**
 * A \Noselect folder that only held subfolders, all of which went elsewhere (Gmail's "[Gmail]"
 * once Sent, Trash, Spam, All Mail and Starred are mapped or skipped), would leave an empty
 * folder on the target. A \Noselect folder without children on the source stays.
 */
function dropEmptyContainers(
  entries: readonly SourceEntry[],
  sourceFolders: readonly ListedFolder[],
  assigned: ReadonlyMap<string, string>,
  sourceNs: FolderNamespace,
  targetNs: FolderNamespace,
  skipped: FolderPlan['skipped'],
): SourceEntry[] {
  const kept = new Set(entries);
  const containers = entries
    .filter((entry) => !entry.isSelectable && !isInbox(entry.folder.path))
    .sort((a, b) => b.segments.length - a.segments.length);
  const delimiter = targetNs.delimiter || FLAT_JOINER;
  for (const container of containers) {
    const childPrefix = container.folder.path + sourceNs.delimiter;
    const hadChildren = sourceNs.delimiter !== '' && sourceFolders.some((folder) => folder.path.startsWith(childPrefix));
    if (!hadChildren) continue;
    const targetPath = assigned.get(container.folder.path) ?? '';
    const holdsAny = [...kept].some((entry) => (assigned.get(entry.folder.path) ?? '').startsWith(targetPath + delimiter));
    if (holdsAny) continue;
    kept.delete(container);
    skipped.push({
      sourcePath: container.folder.path,
      reason: 'only holds subfolders (\\Noselect), and all of them are mapped to other folders or skipped',
    });
  }
  return entries.filter((entry) => kept.has(entry));
}

/**
 * The personal namespace of a connected client. imapflow substitutes { prefix: '', delimiter:
 * '.' } when the server sends a NIL personal namespace, so the delimiter LIST reported for the
 * folders (INBOX first) wins over the namespace's when they disagree.
 */
export function readNamespace(client: Pick<FolderClient, 'namespace' | 'namespaces'>, folders: readonly ListedFolder[] = []): FolderNamespace {
  const personal = client.namespaces?.personal[0] ?? client.namespace;
  const listed =
    folders.find((folder) => isInbox(folder.path) && folder.delimiter)?.delimiter ?? folders.find((folder) => folder.delimiter)?.delimiter;
  const delimiter = listed || personal?.delimiter || '';
  const prefix = normalizedPrefix({ delimiter, prefix: personal?.prefix ?? '' });
  const others = [...(client.namespaces?.other || []), ...(client.namespaces?.shared || [])];
  return { delimiter, prefix, otherPrefixes: others.map((ns) => ns.prefix ?? '').filter((p) => p !== '') };
}

/** Lists both accounts and maps the source's folders onto the target's. */
export async function planFolders(source: FolderClient, target: FolderClient): Promise<MappedFolderPlan> {
  const [sourceFolders, targetFolders] = await Promise.all([source.list(), target.list()]);
  return buildFolderPlan(sourceFolders, targetFolders, readNamespace(source, sourceFolders), readNamespace(target, targetFolders));
}

interface ImapCommandError {
  responseStatus?: string;
  responseText?: string;
  serverResponseCode?: string;
  code?: string;
}

function refusal(error: unknown): string | null {
  const e = (error ?? {}) as ImapCommandError;
  // Only the server's NO/BAD for this one name; a dropped connection or throttling ends the run.
  if ((e.responseStatus !== 'NO' && e.responseStatus !== 'BAD') || e.code === 'ETHROTTLE') return null;
  // Dovecot appends its command timing: "Mailbox name too long (0.001 + 0.000 secs)."
  const text = (e.responseText ?? '').replace(/\s*\(\d+(?:\.\d+)?(?: \+ \d+(?:\.\d+)?)* secs\)/, '').trim();
  return `${e.serverResponseCode ? `[${e.serverResponseCode}] ` : ''}${text || `${e.responseStatus}`}`;
}

/**
 * Creates the plan's folders that the target lacks, parents before children, and gives new
 * folders the source's subscription state (existing ones only gain a subscription, the
 * target user's own choice is never removed). A folder the server refuses is reported with
 * its answer, and so is everything below it; the rest goes on.
 */
export async function ensureTargetFolders(target: FolderClient, plan: FolderPlan): Promise<FolderCreationResult[]> {
  const listed = await target.list();
  const { delimiter } = readNamespace(target, listed);
  const existing = new Map(listed.map((folder) => [folder.path, folder]));
  const depth = (path: string) => (delimiter ? path.split(delimiter).length : 1);
  const order = [...plan.folders].sort((a, b) => depth(a.targetPath) - depth(b.targetPath));
  const results = new Map<string, FolderCreationResult>();
  const refused: string[] = [];

  for (const folder of order) {
    const { targetPath } = folder;
    if (results.has(targetPath)) continue;
    // The nearest refused ancestor names the cause best.
    const refusedParent = refused.filter((parent) => delimiter && targetPath.startsWith(parent + delimiter)).pop();
    if (refusedParent !== undefined) {
      results.set(targetPath, { targetPath, status: 'refused', reason: `its parent folder "${refusedParent}" was refused` });
      refused.push(targetPath);
      continue;
    }
    const found = existing.get(isInbox(targetPath) ? 'INBOX' : targetPath);
    const foundFlags = found ? flagSet(found) : new Set<string>();
    // Dovecot's maildir++ lists the parents of nested folders as \NonExistent; a \Noselect
    // placeholder is enough only where the source folder is one too.
    const isUsable = found && !foundFlags.has('\\nonexistent') && (!foundFlags.has('\\noselect') || !folder.isSelectable);
    if (isUsable) {
      const isKept = !folder.isSubscribed || found.subscribed || (await target.mailboxSubscribe(targetPath));
      results.set(targetPath, withSubscription({ targetPath, status: 'existed' }, isKept));
      continue;
    }
    let isCreated: boolean;
    try {
      // imapflow answers RFC 5530 ALREADYEXISTS with created: false instead of throwing.
      isCreated = (await target.mailboxCreate(targetPath)).created;
    } catch (error) {
      const reason = refusal(error);
      if (reason === null) throw error;
      // Servers without RFC 5530 response codes say it only in words.
      if (!/already exists/i.test(reason)) {
        results.set(targetPath, { targetPath, status: 'refused', reason });
        refused.push(targetPath);
        continue;
      }
      isCreated = false;
    }
    // mailboxCreate() subscribes every folder it creates; an existing one keeps its state.
    const isKept = isCreated
      ? folder.isSubscribed || (await target.mailboxUnsubscribe(targetPath))
      : !folder.isSubscribed || (await target.mailboxSubscribe(targetPath));
    results.set(targetPath, withSubscription({ targetPath, status: isCreated ? 'created' : 'existed' }, isKept));
  }
  return plan.folders.flatMap((folder) => results.get(folder.targetPath) ?? []).filter(uniqueBy((r) => r.targetPath));
}

/** imapflow reports a refused (UN)SUBSCRIBE only as false, without the server's text. */
function withSubscription(result: FolderCreationResult, isKept: boolean): FolderCreationResult {
  return isKept ? result : { ...result, reason: "the server refused to change the folder's subscription to match the source" };
}

function uniqueBy<T>(key: (item: T) => string): (item: T) => boolean {
  const seen = new Set<string>();
  return (item) => {
    if (seen.has(key(item))) return false;
    seen.add(key(item));
    return true;
  };
}
