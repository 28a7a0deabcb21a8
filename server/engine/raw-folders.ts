import type { FolderClient, ListedFolder } from './folder-plan';
import { decodeMutf7 } from './mutf7';
import { LITERAL_MARK, openRawImap, quoteMailbox, type RawAnswer, type RawImapConnection, type RawImapOptions } from './raw-imap';

/** What SELECT says about a target folder before anything is appended. */
export interface SelectedMailbox {
  uidValidity: string;
  uidNext: number;
  exists: number;
  permanentFlags: Set<string>;
}

interface Namespace {
  prefix: string;
  delimiter: string;
}

/**
 * A LIST answer this reader cannot take apart (a line that is no LIST response of RFC 9051's
 * grammar, or a literal name whose bytes were not given): imapflow plans instead, rather than
 * a folder being left out of the plan.
 */
export class FolderListUnreadable extends Error {
  constructor(line = '') {
    super(`A folder of the LIST answer could not be read${line ? `: ${line.slice(0, 200)}` : '.'}`);
    this.name = 'FolderListUnreadable';
  }
}

/** A server's refusal, with the fields imapflow's errors carry (see folder-plan's `refusal`). */
function refusalError(command: string, answer: RawAnswer): Error {
  const code = /^\[([^\]\s]+)[^\]]*\]\s*/.exec(answer.text);
  return Object.assign(new Error(`${command} ${answer.status}: ${answer.text}`), {
    responseStatus: answer.status,
    responseText: code ? answer.text.slice(code[0].length) : answer.text,
    serverResponseCode: code?.[1]?.toUpperCase(),
  });
}

/** The tokens of a parenthesized IMAP list: strings (NIL as null) and nested lists. */
type Token = string | null | Token[];

function parseList(text: string): Token[] {
  const root: Token[] = [];
  const stack: Token[][] = [root];
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (char === ' ') i++;
    else if (char === '(') {
      const list: Token[] = [];
      stack.at(-1)!.push(list);
      stack.push(list);
      i++;
    } else if (char === ')') {
      if (stack.length > 1) stack.pop();
      i++;
    } else if (char === '"') {
      let value = '';
      for (i++; i < text.length && text[i] !== '"'; i++) value += text[i] === '\\' ? text[++i] : text[i];
      stack.at(-1)!.push(value);
      i++;
    } else {
      const atom = /^[^\s()"]+/.exec(text.slice(i))![0];
      stack.at(-1)!.push(atom.toUpperCase() === 'NIL' ? null : atom);
      i += atom.length;
    }
  }
  return root;
}

/** `* NAMESPACE (("" "/")) NIL NIL` as personal, other users' and shared namespaces. */
export function parseNamespaceLine(line: string): { personal: Namespace[]; other: Namespace[]; shared: Namespace[] } | null {
  const match = /^\* NAMESPACE (.*)$/i.exec(line);
  if (!match) return null;
  const [personal, other, shared] = parseList(match[1]!).map((group) =>
    Array.isArray(group) ? group.filter(Array.isArray).map((ns) => ({ prefix: typeof ns[0] === 'string' ? ns[0] : '', delimiter: typeof ns[1] === 'string' ? ns[1] : '' })) : [],
  );
  return { personal: personal ?? [], other: other ?? [], shared: shared ?? [] };
}

/**
 * A mailbox name as a response gives it (quoted string, atom, or a literal whose bytes the
 * caller read), decoded from modified UTF-7, with INBOX upper-cased as imapflow does. Without
 * the literal's bytes a literal name throws FolderListUnreadable.
 */
export function mailboxName(token: string, literal?: readonly Buffer[]): string {
  let name: string;
  if (token.startsWith('"')) name = token.slice(1, -1).replace(/\\(.)/g, '$1');
  else if (/^\{\d+\+?\}$/.test(token) || token === '\u0000') {
    if (!literal) throw new FolderListUnreadable();
    name = Buffer.concat(literal).toString('utf8');
  } else name = token;
  const path = decodeMutf7(name);
  return path.toUpperCase() === 'INBOX' ? 'INBOX' : path;
}

/** One `* LIST` (or `* LSUB`) line: attributes, delimiter and the decoded name (see mailboxName). */
export function parseListLine(line: string, literal?: readonly Buffer[]): ListedFolder | null {
  if (!/^\* (?:LIST|LSUB) /i.test(line)) return null;
  const match = /^\* (?:LIST|LSUB) \(([^)]*)\) (NIL|"(?:[^"\\]|\\.)*") ("(?:[^"\\]|\\.)*"|[^\s(]+)/i.exec(line);
  if (!match) throw new FolderListUnreadable(line);
  const flags = new Set(match[1]!.split(/\s+/).filter(Boolean));
  // RFC 5258: \NonExistent implies \Noselect, which extended LIST need not repeat.
  if ([...flags].some((flag) => flag.toLowerCase() === '\\nonexistent') && ![...flags].some((flag) => flag.toLowerCase() === '\\noselect')) flags.add('\\Noselect');
  return {
    path: mailboxName(match[3]!, literal),
    delimiter: match[2]!.toUpperCase() === 'NIL' ? null : match[2]!.slice(1, -1).replace(/\\(.)/g, '$1'),
    flags,
    subscribed: [...flags].some((flag) => flag.toLowerCase() === '\\subscribed'),
  };
}

/** The Kolab folder-type entries (RFC 5464 names), private first: a user's own choice wins. */
export const KOLAB_FOLDER_TYPE_ENTRIES = ['/private/vendor/kolab/folder-type', '/shared/vendor/kolab/folder-type'] as const;
/** The same entry under ANNOTATEMORE (draft-daboo-imap-annotatemore), older Kolab servers. */
const KOLAB_ANNOTATION = '/vendor/kolab/folder-type';

/**
 * The items of an untagged response after its keyword: strings (quoted, atoms or literals,
 * NIL as null) and parenthesized lists, with LITERAL_MARK standing for the next literal.
 */
function responseTokens(text: string, literals: readonly Buffer[]): Token[] {
  let next = 0;
  const marked = text.split(LITERAL_MARK);
  // Each literal is put in as a quoted string, so parseList reads it as one value.
  const quoted = marked.reduce((joined, part, i) => {
    if (i === 0) return part;
    const bytes = literals[next++];
    return `${joined}"${(bytes ? bytes.toString('utf8') : '').replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"${part}`;
  }, '');
  return parseList(quoted);
}

/** `* METADATA "Calendar" (/shared/vendor/kolab/folder-type "event")` (RFC 5464 4.4.1) as the folder and its entries. */
export function parseMetadataLine(line: string, literals: readonly Buffer[] = []): { path: string; entries: Map<string, string | null> } | null {
  const match = /^\* METADATA /i.exec(line);
  if (!match) return null;
  const tokens = responseTokens(line.slice(match[0].length), literals);
  const [name, list] = tokens;
  if (typeof name !== 'string' || !Array.isArray(list)) return null;
  const entries = new Map<string, string | null>();
  for (let i = 0; i + 1 < list.length; i += 2) {
    const entry = list[i];
    const value = list[i + 1];
    if (typeof entry === 'string' && !Array.isArray(value)) entries.set(entry.toLowerCase(), value ?? null);
  }
  return { path: mailboxName(name), entries };
}

/** `* ANNOTATION "Calendar" "/vendor/kolab/folder-type" ("value.shared" "event")` (ANNOTATEMORE) as the folder and its values. */
export function parseAnnotationLine(line: string, literals: readonly Buffer[] = []): { path: string; entry: string; values: Map<string, string | null> } | null {
  const match = /^\* ANNOTATION /i.exec(line);
  if (!match) return null;
  const [name, entry, list] = responseTokens(line.slice(match[0].length), literals);
  if (typeof name !== 'string' || typeof entry !== 'string' || !Array.isArray(list)) return null;
  const values = new Map<string, string | null>();
  for (let i = 0; i + 1 < list.length; i += 2) {
    const attribute = list[i];
    const value = list[i + 1];
    if (typeof attribute === 'string' && !Array.isArray(value)) values.set(attribute.toLowerCase(), value ?? null);
  }
  return { path: mailboxName(name), entry: entry.toLowerCase(), values };
}

/**
 * The folder commands of a plan on a raw connection: LIST (with subscriptions and the
 * namespace in one exchange), CREATE, SUBSCRIBE, and SELECT of many folders at once.
 */
export class RawFolderSession implements FolderClient {
  namespace: Namespace | null = null;
  namespaces: { personal: Namespace[]; other: Namespace[]; shared: Namespace[] } | null = null;

  private constructor(private readonly connection: RawImapConnection) {}

  /** A logged-in session, or null when only imapflow can log in to this server. */
  static async open(options: RawImapOptions): Promise<RawFolderSession | null> {
    const connection = await openRawImap(options);
    return connection ? new RawFolderSession(connection) : null;
  }

  async list(): Promise<ListedFolder[]> {
    const capabilities = this.connection.capabilities;
    // The attributes a plain LIST gives, as imapflow sees them: children and special use, and
    // subscriptions in the same answer where LIST-EXTENDED allows (else from LSUB).
    // RETURN options are LIST-EXTENDED syntax (RFC 5258): a server with SPECIAL-USE but without
    // it gets a plain LIST, in which RFC 6154 servers name the special-use attributes anyway.
    // Without it (Courier) subscriptions come from LSUB.
    const extended = capabilities.has('LIST-EXTENDED');
    const returns = extended ? ['SUBSCRIBED CHILDREN', capabilities.has('SPECIAL-USE') ? 'SPECIAL-USE' : null].filter(Boolean) : [];
    const commands = [returns.length > 0 ? `LIST "" "*" RETURN (${returns.join(' ')})` : 'LIST "" "*"'];
    if (!extended) commands.push('LSUB "" "*"');
    if (capabilities.has('NAMESPACE')) commands.push('NAMESPACE');
    const [listed, ...others] = await this.connection.commands(commands);
    if (listed!.status !== 'OK') throw refusalError('LIST', listed!);
    // A name the server sent as a literal (8-bit, CR/LF or long names on some servers) comes
    // with its bytes.
    const folders = listed!.untagged.map((line, i) => parseListLine(line, listed!.literals[i])).filter((folder): folder is ListedFolder => folder !== null);
    for (const answer of others) {
      for (const line of answer.untagged) {
        const namespaces = parseNamespaceLine(line);
        if (namespaces) this.namespaces = namespaces;
      }
      if (/^\* LSUB /i.test(answer.untagged[0] ?? '')) {
        const subscribed = new Set(answer.untagged.map((line, i) => parseListLine(line, answer.literals[i])).flatMap((folder) => (folder ? [folder.path] : [])));
        for (const folder of folders) folder.subscribed = subscribed.has(folder.path);
      }
    }
    this.namespace = this.namespaces?.personal[0] ?? null;
    // In a fixed order whatever the server's: INBOX first, then by name, level by level.
    const segments = (folder: ListedFolder) => (folder.delimiter ? folder.path.split(folder.delimiter) : [folder.path]);
    return folders.sort((a, b) => {
      if ((a.path === 'INBOX') !== (b.path === 'INBOX')) return a.path === 'INBOX' ? -1 : 1;
      const [left, right] = [segments(a), segments(b)];
      for (let i = 0; i < Math.min(left.length, right.length); i++) if (left[i] !== right[i]) return left[i]!.localeCompare(right[i]!);
      return left.length - right.length;
    });
  }

  /**
   * Each folder's Kolab folder type ("event", "contact.default", "mail", …) where the server
   * keeps one: one GETMETADATA per folder, all sent at once, where the server announces
   * METADATA (or METADATA-SERVER); else one GETANNOTATION for every folder where it announces
   * ANNOTATEMORE. Folders without a type, or whose question the server refuses, are left out.
   */
  async folderTypes(paths: readonly string[]): Promise<Map<string, string>> {
    const capabilities = this.connection.capabilities;
    const types = new Map<string, string>();
    if (capabilities.has('METADATA') || capabilities.has('METADATA-SERVER')) {
      const entries = `(${KOLAB_FOLDER_TYPE_ENTRIES.join(' ')})`;
      const answers = paths.length > 0 ? await this.connection.commands(paths.map((path) => `GETMETADATA ${quoteMailbox(path)} ${entries}`)) : [];
      answers.forEach((answer, i) => {
        if (answer.status !== 'OK') return;
        for (const [index, line] of answer.untagged.entries()) {
          const found = parseMetadataLine(line, answer.literals[index]);
          if (!found) continue;
          const value = KOLAB_FOLDER_TYPE_ENTRIES.map((entry) => found.entries.get(entry)).find((v) => typeof v === 'string' && v !== '');
          // Answers come in the order asked: the folder asked about, whatever form its name took.
          if (value) types.set(paths[i]!, value);
        }
      });
      return types;
    }
    if (capabilities.has('ANNOTATEMORE') || capabilities.has('ANNOTATEMORE2')) {
      const answer = await this.connection.command(`GETANNOTATION "*" "${KOLAB_ANNOTATION}" ("value.priv" "value.shared")`);
      if (answer.status !== 'OK') return types;
      const wanted = new Set(paths);
      for (const [index, line] of answer.untagged.entries()) {
        const found = parseAnnotationLine(line, answer.literals[index]);
        if (!found || found.entry !== KOLAB_ANNOTATION || !wanted.has(found.path)) continue;
        const value = [found.values.get('value.priv'), found.values.get('value.shared')].find((v) => typeof v === 'string' && v !== '');
        if (value) types.set(found.path, value);
      }
    }
    return types;
  }

  /** Creates the folder and subscribes to it, as imapflow does; ALREADYEXISTS is not an error. */
  async mailboxCreate(path: string): Promise<{ created: boolean }> {
    const answer = await this.connection.command(`CREATE ${quoteMailbox(path)}`);
    if (answer.status !== 'OK') {
      if (/^\[ALREADYEXISTS\]/i.test(answer.text)) return { created: false };
      throw refusalError('CREATE', answer);
    }
    await this.mailboxSubscribe(path);
    return { created: true };
  }

  async mailboxSubscribe(path: string): Promise<boolean> {
    return (await this.connection.command(`SUBSCRIBE ${quoteMailbox(path)}`)).status === 'OK';
  }

  async mailboxUnsubscribe(path: string): Promise<boolean> {
    return (await this.connection.command(`UNSUBSCRIBE ${quoteMailbox(path)}`)).status === 'OK';
  }

  /** SELECTs each folder in turn, all commands sent at once; a folder the server refuses is left out. */
  async selectMany(paths: readonly string[]): Promise<Map<string, SelectedMailbox>> {
    const found = new Map<string, SelectedMailbox>();
    if (paths.length === 0) return found;
    const answers = await this.connection.commands(paths.map((path) => `SELECT ${quoteMailbox(path)}`));
    const opened: { path: string; mailbox: SelectedMailbox }[] = [];
    answers.forEach((answer, i) => {
      if (answer.status !== 'OK') return;
      const mailbox: SelectedMailbox = { uidValidity: '', uidNext: 0, exists: 0, permanentFlags: new Set() };
      for (const line of answer.untagged) {
        const code = /^\* OK \[(UIDVALIDITY|UIDNEXT) (\d+)\]/i.exec(line);
        if (code) {
          if (code[1]!.toUpperCase() === 'UIDVALIDITY') mailbox.uidValidity = code[2]!;
          else mailbox.uidNext = Number(code[2]);
        }
        const permanent = /^\* OK \[PERMANENTFLAGS \(([^)]*)\)\]/i.exec(line);
        if (permanent) mailbox.permanentFlags = new Set(permanent[1]!.split(/\s+/).filter(Boolean));
        const exists = /^\* (\d+) EXISTS/i.exec(line);
        if (exists) mailbox.exists = Number(exists[1]);
      }
      if (mailbox.uidValidity) opened.push({ path: paths[i]!, mailbox });
    });
    // Courier's SELECT names no UIDNEXT: STATUS does, all asked at once. Nothing appends to the
    // folders while they are planned, so its answer is where this run's appends begin.
    const withoutNext = opened.filter((entry) => entry.mailbox.uidNext === 0);
    const statuses = withoutNext.length > 0 ? await this.connection.commands(withoutNext.map((entry) => `STATUS ${quoteMailbox(entry.path)} (UIDNEXT UIDVALIDITY)`)) : [];
    statuses.forEach((answer, i) => {
      const line = answer.untagged.find((untagged) => /^\* STATUS /i.test(untagged)) ?? '';
      const uidNext = /\bUIDNEXT (\d+)/i.exec(line)?.[1];
      const uidValidity = /\bUIDVALIDITY (\d+)/i.exec(line)?.[1];
      if (answer.status === 'OK' && uidNext && uidValidity === withoutNext[i]!.mailbox.uidValidity) withoutNext[i]!.mailbox.uidNext = Number(uidNext);
    });
    // Without UIDNEXT nothing safe is known about where appends begin: imapflow opens it later.
    for (const { path, mailbox } of opened) if (mailbox.uidNext > 0) found.set(path, mailbox);
    return found;
  }

  close() {
    this.connection.end();
  }
}
