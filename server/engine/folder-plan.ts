import { createHash } from 'node:crypto';
import type { FolderCreationResult, FolderPlan, GroupwareFolder, GroupwareFolderOption, GroupwareFolderType, PlannedFolder, SpecialUse } from './folder-plan-types';

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
  /** Kolab folder types by path ("event", "contact.default", "mail"), where the session can ask the server (see raw-folders.ts). */
  folderTypes?(paths: readonly string[]): Promise<ReadonlyMap<string, string>>;
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
  // RFC 8457: a server-chosen view of important messages (Gmail's "Important").
  ['\\important', '\\Important'],
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

// Gmail keeps its system folders in a container ("[Gmail]", or "[Google Mail]" in Germany and
// the UK). A source reached without XLIST or SPECIAL-USE (or copied by a tool that lost them)
// still names them the same way; below that container the views can be named safely.
const GMAIL_CONTAINER = /^\[(?:gmail|google mail)\]$/i;
const GMAIL_NAMES: Record<string, Exclude<SpecialUse, null>> = {
  'sent mail': '\\Sent',
  drafts: '\\Drafts',
  trash: '\\Trash',
  bin: '\\Trash',
  spam: '\\Junk',
  'all mail': '\\All',
  starred: '\\Flagged',
  important: '\\Important',
};

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

function isMailSpecialUse(use: SpecialUse): use is MailSpecialUse {
  return (MAIL_SPECIAL_USES as readonly SpecialUse[]).includes(use);
}

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
  if (attribute) return attribute;
  if (segments.length === 2 && GMAIL_CONTAINER.test(segments[0] ?? '')) return GMAIL_NAMES[normalizeName(segments[1] ?? '')] ?? null;
  if (segments.length !== 1 || segments[0] === INBOX_ROOT) return detectSpecialUse(folder);
  return NAME_INDEX.get(normalizeName(segments[0] ?? '')) ?? null;
}

/**
 * Source folders that claim a mail special use by their name alone, where two or more claim
 * the same one: the plan gives that use to the one with the most messages, so their counts are
 * needed (see planFolders).
 */
export function contestedRoleFolders(sourceFolders: readonly ListedFolder[], sourceNs: FolderNamespace): string[] {
  const byUse = new Map<SpecialUse, string[]>();
  const withAttribute = new Set<SpecialUse>();
  for (const folder of sourceFolders) {
    const flags = flagSet(folder);
    if (flags.has('\\noselect') || flags.has('\\nonexistent') || foreignPrefix(folder.path, sourceNs) !== undefined) continue;
    const use = specialUseIn(folder, sourceNs);
    if (use === null || !isMailSpecialUse(use)) continue;
    if (attributeOf(folder) !== null) withAttribute.add(use);
    byUse.set(use, [...(byUse.get(use) ?? []), folder.path]);
  }
  return [...byUse].filter(([use, paths]) => paths.length > 1 && !withAttribute.has(use)).flatMap(([, paths]) => paths);
}

const ROLE_NAMES: Record<MailSpecialUse, string> = {
  '\\Sent': 'Sent',
  '\\Drafts': 'Drafts',
  '\\Trash': 'Trash',
  '\\Junk': 'Junk',
  '\\Archive': 'Archive',
};

function messagesWord(count: number | undefined): string {
  return count === undefined ? '' : ` (${count} message${count === 1 ? '' : 's'})`;
}

function foreignPrefix(path: string, ns: FolderNamespace): string | undefined {
  return ns.otherPrefixes?.find((prefix) => prefix !== '' && path.startsWith(prefix));
}

/**
 * The option copyMailbox takes for a source of this account type when groupware moves by its
 * own path (see GroupwareFolderOption); undefined for types whose IMAP shows no groupware.
 */
export function groupwareFolderOptionFor(sourceType: string): GroupwareFolderOption | undefined {
  if (sourceType === 'kolab') return { kind: 'kolab' };
  if (sourceType === 'zimbra') return { kind: 'zimbra' };
  if (sourceType === 'exchange' || sourceType === 'office365') return { kind: 'exchange' };
  return undefined;
}

/** What the groupware copy carries unless the option says otherwise. */
export const CARRIED_GROUPWARE: readonly GroupwareFolderType[] = ['event', 'contact', 'task'];

const KOLAB_TYPES: readonly GroupwareFolderType[] = ['event', 'contact', 'task', 'note', 'journal', 'configuration', 'freebusy', 'file'];

/**
 * A Kolab folder-type value as the plan sees it: "event", "event.default" → 'event'; "mail"
 * and "mail.*" (inbox, sentitems, …) and anything unknown → null, which stays mail.
 */
export function kolabFolderType(value: string | null | undefined): GroupwareFolderType | null {
  const type = (value ?? '').trim().toLowerCase().split('.')[0] ?? '';
  return (KOLAB_TYPES as readonly string[]).includes(type) ? (type as GroupwareFolderType) : null;
}

// The top-level folders Zimbra's and Exchange's IMAP list beside the mail, holding what their
// groupware holds (their folders below are calendars, address books, … too). Zimbra names its
// system folders in English whatever the user's language; Exchange names them in the language
// the mailbox was set up with.
const GROUPWARE_NAMES: Record<'zimbra' | 'exchange', Record<string, GroupwareFolderType>> = {
  zimbra: { calendar: 'event', contacts: 'contact', 'emailed contacts': 'contact', tasks: 'task', notes: 'note', journal: 'journal' },
  exchange: Object.fromEntries(
    (
      [
        ['event', ['Calendar', 'Kalender', 'Calendrier', 'Calendario', 'Agenda', 'Calendário']],
        ['contact', ['Contacts', 'Suggested Contacts', 'Kontakte', 'Contactos', 'Contatti', 'Contactpersonen', 'Contatos']],
        ['task', ['Tasks', 'Aufgaben', 'Tâches', 'Tareas', 'Attività', 'Taken', 'Tarefas']],
        ['note', ['Notes', 'Notizen', 'Notas', 'Note', 'Notities', 'Anotações']],
        ['journal', ['Journal', 'Diario', 'Logboek', 'Diário']],
      ] as const
    ).flatMap(([type, names]) => names.map((name) => [normalizeName(name), type as GroupwareFolderType])),
  ),
};

const GROUPWARE_WORDS: Record<GroupwareFolderType, string> = {
  event: 'calendar events',
  contact: 'contacts',
  task: 'tasks',
  note: 'notes',
  journal: 'journal entries',
  configuration: 'groupware settings',
  freebusy: 'free/busy information',
  file: 'files',
};

const KIND_NAMES: Record<GroupwareFolderOption['kind'], string> = { kolab: 'Kolab', zimbra: 'Zimbra', exchange: 'Exchange' };

/** A source folder that holds groupware, before the plan decides (see groupwareCandidates). */
interface GroupwareCandidate {
  type: GroupwareFolderType;
  by: 'metadata' | 'name';
  /** The server's folder-type value, for metadata. */
  value?: string;
}

/**
 * The source folders that hold groupware: for Kolab those whose folder type (`folderTypes`,
 * from the server's metadata) is not mail, for Zimbra and Exchange the top-level folders with
 * a groupware name and everything below them. INBOX and other users' folders never are.
 */
export function groupwareCandidates(
  sourceFolders: readonly ListedFolder[],
  sourceNs: FolderNamespace,
  option: GroupwareFolderOption,
  folderTypes: ReadonlyMap<string, string> = new Map(),
): Map<string, GroupwareCandidate> {
  const found = new Map<string, GroupwareCandidate>();
  for (const folder of sourceFolders) {
    if (isInbox(folder.path) || foreignPrefix(folder.path, sourceNs) !== undefined) continue;
    if (option.kind === 'kolab') {
      const value = folderTypes.get(folder.path);
      const type = kolabFolderType(value);
      if (type && value) found.set(folder.path, { type, by: 'metadata', value });
      continue;
    }
    const top = relativeSegments(folder.path, sourceNs)[0];
    const type = top === undefined || top === INBOX_ROOT ? undefined : GROUPWARE_NAMES[option.kind][normalizeName(top)];
    if (type) found.set(folder.path, { type, by: 'name' });
  }
  return found;
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
  options: {
    messageCounts?: ReadonlyMap<string, number>;
    /** Leave folders that hold groupware out of the mail copy (see GroupwareFolderOption). */
    groupwareFolders?: GroupwareFolderOption;
    /** Kolab folder types by source path, as the server's metadata gives them. */
    folderTypes?: ReadonlyMap<string, string>;
  } = {},
): MappedFolderPlan {
  const skipped: FolderPlan['skipped'] = [];
  const groupware: GroupwareFolder[] = [];
  const renamed: FolderRename[] = [];
  const notices: NonNullable<FolderPlan['notices']> = [];
  const counts = options.messageCounts ?? new Map<string, number>();
  const entries: SourceEntry[] = [];
  const seenPaths = new Set<string>();
  const option = options.groupwareFolders;
  const candidates = option ? groupwareCandidates(sourceFolders, sourceNs, option, options.folderTypes) : new Map<string, GroupwareCandidate>();
  const carried = new Set(option?.carried ?? CARRIED_GROUPWARE);

  sourceFolders.forEach((folder, index) => {
    const flags = flagSet(folder);
    const skip = (reason: string): void => {
      skipped.push({ sourcePath: folder.path, reason });
    };
    const foreign = foreignPrefix(folder.path, sourceNs);
    if (foreign !== undefined) return skip(`belongs to another user's or a shared namespace ("${foreign}"), not to this account`);
    // RFC 5258: listed only because it has children (or is a stale subscription).
    if (flags.has('\\nonexistent')) return skip('does not exist (\\NonExistent): the server lists it only as the parent of other folders');
    if (seenPaths.has(folder.path)) return skip('is listed twice by the server');
    seenPaths.add(folder.path);
    const segments = relativeSegments(folder.path, sourceNs);
    if (segments.length === 0) return skip('is the namespace root, not a folder');
    const candidate = candidates.get(folder.path);
    if (candidate && option) {
      const count = counts.get(folder.path);
      const kind = KIND_NAMES[option.kind];
      const what = GROUPWARE_WORDS[candidate.type];
      // A name alone does not prove what is inside: over IMAP these servers show their folders
      // of groupware empty, so messages in one are the customer's mail, and they are copied.
      // (No counts in the words: a notice said again in the same words is kept once.)
      if (candidate.by === 'name' && count !== undefined && count > 0) {
        notices.push({ folder: folder.path, text: `"${folder.path}" is copied as mail: on ${kind} a folder of this name holds ${what}, but this one holds messages.` });
      } else {
        const treatment = carried.has(candidate.type) ? 'moved' : 'skipped';
        groupware.push({ sourcePath: folder.path, type: candidate.type, treatment, by: candidate.by });
        const why = candidate.by === 'metadata' ? `${kind} folder type "${candidate.value}"` : `${/^[AEIOU]/.test(kind) ? 'an' : 'a'} ${kind} folder of ${what}`;
        notices.push({
          folder: folder.path,
          text:
            treatment === 'moved'
              ? `"${folder.path}" is not copied as mail: it holds ${what} (${why}), moved as groupware.`
              : `"${folder.path}" is skipped: it holds ${what} (${why}), which the groupware copy does not carry.`,
        });
        return;
      }
    }
    const specialUse = specialUseIn(folder, sourceNs);
    // Gmail's "[Gmail]/Starred" and "Important" show messages that live in other folders. Its
    // "All Mail" (\All) is planned: it is copied last, with only the messages no other folder
    // holds (archived mail), so nothing is doubled and nothing archived is lost.
    if (specialUse === '\\Flagged') return skip('is a virtual folder of flagged messages (\\Flagged): copying it would duplicate them');
    if (specialUse === '\\Important') return skip('is a virtual folder of messages marked important (\\Important): copying it would duplicate them');
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
    // The server's attribute decides; among names alone, the folder with the most messages
    // (the one the customer really used), the first listed on a tie.
    const byCount = [...candidates].sort((a, b) => (counts.get(b.folder.path) ?? -1) - (counts.get(a.folder.path) ?? -1) || a.index - b.index);
    const winner = candidates.find((entry) => entry.hasAttribute) ?? byCount[0];
    for (const loser of candidates) if (loser !== winner) loser.specialUse = null;
    const targets = targetSpecial.get(use) ?? [];
    if (winner && candidates.length > 1) {
      const others = candidates.filter((entry) => entry !== winner).map((entry) => `"${entry.folder.path}"${messagesWord(counts.get(entry.folder.path))}`);
      const why = winner.hasAttribute ? 'the source server marks it as such' : counts.size > 0 ? 'it holds the most messages' : 'it is listed first';
      notices.push({
        folder: winner.folder.path,
        text: `"${winner.folder.path}"${messagesWord(counts.get(winner.folder.path))} is the ${ROLE_NAMES[use]} folder (${why}); ${others.join(', ')} ${others.length === 1 ? 'keeps its' : 'keep their'} name as ${others.length === 1 ? 'a plain folder' : 'plain folders'}.`,
      });
    }
    if (use === '\\Archive') {
      // Gmail's archived mail goes to the target's Archive (beside it, should a source Archive
      // folder go there too: All Mail comes last when names collide).
      const archive = targets.find((t) => t.hasAttribute) ?? targets[0];
      for (const allMail of entries.filter((entry) => entry.specialUse === '\\All' && entry.isSelectable)) {
        allMail.specialTarget = archive?.path ?? joinTarget(['Archive'], targetNs);
      }
    }
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

  // INBOX first, then special folders, so they keep their names on a collision; All Mail last.
  const rank = (entry: SourceEntry) => (isInbox(entry.folder.path) ? 0 : entry.specialUse === '\\All' ? 3 : entry.specialTarget !== undefined ? 1 : 2);
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
      renamed.push({ sourcePath: entry.folder.path, targetPath, reason: `'${entry.folder.path}' is called '${targetPath}' on the target: '${natural}' is already the target of '${owner}'.` });
    } else if (entry.specialTarget !== undefined) {
      if (targetPath !== mapFolderPath(entry.folder.path, sourceNs, targetNs) && entry.specialUse !== null && isMailSpecialUse(entry.specialUse)) {
        renamed.push({ sourcePath: entry.folder.path, targetPath, reason: `'${entry.folder.path}' goes into the target's ${ROLE_NAMES[entry.specialUse]} folder '${targetPath}'.` });
      }
    } else {
      const last = entry.segments[entry.segments.length - 1] ?? '';
      if (safeSegment(last, targetNs.delimiter).isReplaced) {
        renamed.push({
          sourcePath: entry.folder.path,
          targetPath,
          reason: `'${entry.folder.path}' is called '${targetPath}' on the target: the name contains "${targetNs.delimiter}", the target's hierarchy delimiter, replaced by a look-alike so that it does not make subfolders.`,
        });
      }
    }
    assigned.set(entry.folder.path, targetPath);
    owners.set(targetPath, entry.folder.path);
  }
  for (const entry of entries) {
    const targetPath = assigned.get(entry.folder.path);
    if (entry.specialUse === '\\All' && targetPath !== undefined) {
      notices.push({ folder: entry.folder.path, text: `"${entry.folder.path}" shows every message: only those in no other folder (archived mail) are copied, into "${targetPath}".` });
    }
  }

  const planned = dropEmptyContainers(entries, sourceFolders, assigned, sourceNs, targetNs, skipped);
  const folders: PlannedFolder[] = planned.map((entry) => ({
    sourcePath: entry.folder.path,
    targetPath: assigned.get(entry.folder.path) ?? '',
    specialUse: entry.specialUse,
    // Where the list said nothing about subscriptions, INBOX counts as subscribed.
    isSubscribed: entry.folder.subscribed === true || (entry.folder.subscribed === undefined && isInbox(entry.folder.path)),
    isSelectable: entry.isSelectable,
    note: renamed.find((r) => r.sourcePath === entry.folder.path)?.reason ?? null,
  }));
  const plannedPaths = new Set(folders.map((f) => f.sourcePath));
  return { folders, skipped, notices, ...(option ? { groupware } : {}), renamed: renamed.filter((r) => plannedPaths.has(r.sourcePath)) };
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
    if (use === null || !isMailSpecialUse(use)) continue;
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

/**
 * Lists both accounts and maps the source's folders onto the target's. `countMessages` gives
 * the number of messages of source folders, asked only when two folders claim one special use
 * by name (see contestedRoleFolders).
 */
export async function planFolders(
  source: FolderClient,
  target: FolderClient,
  options: {
    countMessages?: (paths: string[]) => Promise<ReadonlyMap<string, number>>;
    /** Leave folders that hold groupware out of the mail copy (see GroupwareFolderOption). */
    groupwareFolders?: GroupwareFolderOption;
  } = {},
): Promise<MappedFolderPlan> {
  const [sourceFolders, targetFolders] = await Promise.all([source.list(), target.list()]);
  const sourceNs = readNamespace(source, sourceFolders);
  const option = options.groupwareFolders;
  const notices: NonNullable<FolderPlan['notices']> = [];
  let folderTypes: ReadonlyMap<string, string> | undefined;
  if (option?.kind === 'kolab') {
    const asked = sourceFolders.filter((f) => !isInbox(f.path) && !flagSet(f).has('\\nonexistent') && foreignPrefix(f.path, sourceNs) === undefined).map((f) => f.path);
    if (source.folderTypes) folderTypes = await source.folderTypes(asked);
    else notices.push({ folder: null, text: "The source's Kolab folder types could not be read on this connection: every folder is copied as mail." });
  }
  // A folder known by its groupware name alone is counted: one that holds messages is mail.
  const groupware = option ? [...groupwareCandidates(sourceFolders, sourceNs, option, folderTypes)].filter(([, c]) => c.by === 'name').map(([path]) => path) : [];
  const selectable = new Set(sourceFolders.filter((f) => !flagSet(f).has('\\noselect') && !flagSet(f).has('\\nonexistent')).map((f) => f.path));
  const contested = options.countMessages ? contestedRoleFolders(sourceFolders, sourceNs) : [];
  const toCount = [...new Set([...contested, ...groupware.filter((path) => selectable.has(path))])];
  const messageCounts = toCount.length > 0 && options.countMessages ? await options.countMessages(toCount) : undefined;
  const plan = buildFolderPlan(sourceFolders, targetFolders, sourceNs, readNamespace(target, targetFolders), {
    ...(messageCounts ? { messageCounts } : {}),
    ...(option ? { groupwareFolders: option } : {}),
    ...(folderTypes ? { folderTypes } : {}),
  });
  return notices.length > 0 ? { ...plan, notices: [...notices, ...(plan.notices ?? [])] } : plan;
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

// Characters some servers refuse in a mailbox name: Cyrus's `" % ; < > \ ^ { | } !` (and
// `*`, a LIST wildcard), control characters, and characters outside the BMP, which Courier
// refuses in modified UTF-7 unless the client enables UTF8=ACCEPT (which would make Courier
// drop every later session of a client without it: the customer's own mail program).
const CYRUS_REFUSED = /["%;<>\\^{|}!*]/g;
const CONTROL = /[\u0000-\u001f\u007f]/g;
const ASTRAL = /[\u{10000}-\u{10FFFF}]/gu;
const STAND_IN = '_';

/**
 * Names to try, in order, for a name segment the target refused: each replaces more by the
 * stand-in, the last one is made of letters and digits only. Deterministic: the same source
 * name always gives the same names, so a folder lands where it did before.
 */
export function renameCandidates(segment: string): string[] {
  const bmp = (text: string) => text.replace(ASTRAL, STAND_IN);
  const punctuation = (text: string) => text.replace(CYRUS_REFUSED, STAND_IN).replace(CONTROL, STAND_IN);
  const plain = (text: string) => text.replace(/[^\p{L}\p{N} _\-]/gu, STAND_IN).replace(/^ +| +$/g, (spaces) => STAND_IN.repeat(spaces.length));
  const ascii = (text: string) => plain(text.normalize('NFD').replace(/\p{M}/gu, '')).replace(/[^A-Za-z0-9 _\-]/g, STAND_IN);
  const hash = createHash('sha256').update(segment).digest('hex').slice(0, 8);
  const candidates = [bmp(segment), punctuation(segment), punctuation(bmp(segment)), plain(segment), ascii(segment), `Folder ${hash}`];
  return candidates.filter((candidate, i) => candidate !== segment && candidate.trim() !== '' && candidates.indexOf(candidate) === i);
}

/** A path below `parent` (or at the top, below the namespace prefix) split into its own name segments. */
function ownSegments(path: string, parent: string | null, ns: FolderNamespace): { base: string; segments: string[] } {
  const delimiter = ns.delimiter;
  if (parent !== null && delimiter && path.startsWith(parent + delimiter)) return { base: parent + delimiter, segments: path.slice(parent.length + 1).split(delimiter) };
  const prefix = normalizedPrefix(ns);
  const base = prefix && hasPrefix(path, prefix) ? path.slice(0, prefix.length) : '';
  const rest = path.slice(base.length);
  return { base, segments: delimiter ? rest.split(delimiter) : [rest] };
}

export interface TargetFolderOptions {
  /**
   * Target paths an earlier pass gave source folders (their checkpoints): a folder keeps its
   * place, and folders below a renamed one follow it.
   */
  stored?: ReadonlyMap<string, string>;
}

/**
 * Creates the plan's folders that the target lacks, parents before children, and gives new
 * folders the source's subscription state (existing ones only gain a subscription, the
 * target user's own choice is never removed). A name the server refuses is renamed, never
 * skipped: each refused segment gets the stand-ins of renameCandidates until the server takes
 * one, a suffix where that name belongs to another source folder, and the folders below follow.
 * Only a folder refused under every name is reported as refused, with the server's answer, and
 * so is everything below it. One result per plan folder, in plan order.
 */
export async function ensureTargetFolders(target: FolderClient, plan: FolderPlan, options: TargetFolderOptions = {}): Promise<FolderCreationResult[]> {
  const listed = await target.list();
  const ns = readNamespace(target, listed);
  const { delimiter } = ns;
  const existing = new Map(listed.map((folder) => [folder.path, folder]));
  const depth = (path: string) => (delimiter ? path.split(delimiter).length : 1);
  /** Planned target path → where it really is (stored from an earlier pass, or renamed now). */
  const moved = new Map<string, string>();
  const stored = options.stored ?? new Map<string, string>();
  const isBelow = (path: string, parent: string) => delimiter !== '' && path.startsWith(parent + delimiter);
  /** The planned path with its nearest moved ancestor's new place, and that ancestor's new path. */
  const placed = (planned: string): { path: string; parent: string | null } => {
    let best: string | null = null;
    for (const from of moved.keys()) if (isBelow(planned, from) && (best === null || from.length > best.length)) best = from;
    if (best === null) return { path: planned, parent: null };
    const to = moved.get(best)!;
    return { path: to + planned.slice(best.length), parent: to };
  };
  const order = [...plan.folders].sort((a, b) => depth(a.targetPath) - depth(b.targetPath));
  // Paths the plan gives other source folders: a new name must not take one of them.
  const claimed = new Set(plan.folders.map((folder) => stored.get(folder.sourcePath) ?? folder.targetPath));
  const bySource = new Map<string, FolderCreationResult>();
  const done = new Map<string, FolderCreationResult>();
  const refused: string[] = [];

  const subscribeLike = async (folder: PlannedFolder, path: string, isCreated: boolean, found: ListedFolder | undefined) => {
    if (isCreated) return folder.isSubscribed || (await target.mailboxUnsubscribe(path));
    // INBOX is subscribed again whatever the list says: imapflow reports it subscribed even where it is not.
    if (!folder.isSubscribed || (found?.subscribed && !isInbox(path))) return true;
    return target.mailboxSubscribe(path);
  };

  /** CREATE, where "already exists" counts as success; the server's refusal as text, or null. */
  const create = async (path: string): Promise<{ isCreated: boolean } | { refusal: string }> => {
    try {
      // imapflow answers RFC 5530 ALREADYEXISTS with created: false instead of throwing.
      return { isCreated: (await target.mailboxCreate(path)).created };
    } catch (error) {
      const reason = refusal(error);
      if (reason === null) throw error;
      // Servers without RFC 5530 response codes say it only in words.
      if (/already exists/i.test(reason)) return { isCreated: false };
      return { refusal: reason };
    }
  };

  for (const folder of order) {
    const storedPath = stored.get(folder.sourcePath);
    if (storedPath !== undefined && storedPath !== folder.targetPath) moved.set(folder.targetPath, storedPath);
    const { path: wanted, parent } = storedPath !== undefined ? { path: storedPath, parent: null } : placed(folder.targetPath);
    const known = done.get(wanted);
    if (known) {
      bySource.set(folder.sourcePath, { ...known, sourcePath: folder.sourcePath });
      continue;
    }
    const settle = (result: Omit<FolderCreationResult, 'sourcePath'>) => {
      const full = { sourcePath: folder.sourcePath, ...result };
      bySource.set(folder.sourcePath, full);
      done.set(wanted, full);
      if (result.targetPath !== wanted) moved.set(folder.targetPath, result.targetPath);
      if (result.status === 'refused') refused.push(wanted);
    };
    // The nearest refused ancestor names the cause best.
    const refusedParent = refused.filter((ancestor) => isBelow(wanted, ancestor)).pop();
    if (refusedParent !== undefined) {
      settle({ targetPath: wanted, status: 'refused', reason: `its parent folder "${refusedParent}" was refused` });
      continue;
    }
    const found = existing.get(isInbox(wanted) ? 'INBOX' : wanted);
    const foundFlags = found ? flagSet(found) : new Set<string>();
    // Dovecot's maildir++ lists the parents of nested folders as \NonExistent; a \Noselect
    // placeholder is enough only where the source folder is one too.
    const isUsable = found && !foundFlags.has('\\nonexistent') && (!foundFlags.has('\\noselect') || !folder.isSelectable);
    if (isUsable) {
      settle(withSubscription({ targetPath: wanted, status: 'existed' }, await subscribeLike(folder, wanted, false, found)));
      continue;
    }
    const first = await create(wanted);
    if ('isCreated' in first) {
      settle(withSubscription({ targetPath: wanted, status: first.isCreated ? 'created' : 'existed' }, await subscribeLike(folder, wanted, first.isCreated, undefined)));
      continue;
    }
    // Refused: the segments this folder adds below its (placed) parent get stand-ins.
    const { base, segments } = ownSegments(wanted, parent, ns);
    const variants = segments.map((segment) => renameCandidates(segment));
    const longest = Math.max(...variants.map((list) => list.length));
    let outcome: { path: string; isCreated: boolean } | null = null;
    for (let i = 0; i < longest && !outcome; i++) {
      const name = segments.map((segment, s) => variants[s]![Math.min(i, variants[s]!.length - 1)] ?? segment).join(delimiter || FLAT_JOINER);
      let candidate = base + name;
      // Two source folders never share a target folder.
      for (let n = 2; candidate !== wanted && (claimed.has(candidate) || done.has(candidate)); n++) candidate = `${base}${name} (${n})`;
      if (candidate === wanted) continue;
      const tried = await create(candidate);
      if ('isCreated' in tried) outcome = { path: candidate, isCreated: tried.isCreated };
    }
    if (!outcome) {
      settle({ targetPath: wanted, status: 'refused', reason: first.refusal });
      continue;
    }
    claimed.add(outcome.path);
    const isKept = await subscribeLike(folder, outcome.path, outcome.isCreated, undefined);
    settle(withSubscription({ targetPath: outcome.path, refusedPath: wanted, status: outcome.isCreated ? 'created' : 'existed', reason: first.refusal }, isKept));
  }
  return plan.folders.flatMap((folder) => bySource.get(folder.sourcePath) ?? []);
}

/** The words a report gives a folder that the target server made us rename. */
export function renameNote(sourcePath: string, result: FolderCreationResult): string {
  return `'${sourcePath}' is called '${result.targetPath}' on the target: the server refused the name${result.reason ? ` ("${result.reason}")` : ''}.`;
}

/** imapflow reports a refused (UN)SUBSCRIBE only as false, without the server's text. */
function withSubscription<T extends Omit<FolderCreationResult, 'sourcePath'>>(result: T, isKept: boolean): T {
  return isKept ? result : { ...result, subscriptionRefused: true };
}
