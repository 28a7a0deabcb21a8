import type { ImapFlow } from 'imapflow';
import { mailboxName, parseListLine } from './raw-folders';
import { openRawImap, quoteMailbox, type RawImapConnection, type RawImapOptions } from './raw-imap';

/** A message as the copy needs it: exact bytes, flags and INTERNALDATE. */
export interface FetchedMessage {
  uid: number;
  /** The message's bytes in the pieces they arrived in (not joined: no copy of large messages). */
  body: Buffer[];
  size: number;
  flags: Set<string>;
  internalDate: Date | null;
}

/**
 * Reads whole messages from the source, read-only. `fetch` hands each message to `onMessage`
 * as it arrives; while a promise returned by `onMessage` is pending no more is read from the
 * server, so memory stays bounded by what the consumer lets through.
 */
export interface BodyFetcher {
  readonly usable: boolean;
  /** Opens a folder read-only (with CONDSTORE where the server has it). */
  examine(path: string): Promise<MailboxInfo>;
  /**
   * The state of many folders at once, without opening them (STATUS, pipelined): a folder
   * missing from the answer must be opened to be known.
   */
  statuses(paths: string[]): Promise<Map<string, MailboxInfo>>;
  /**
   * Every folder the server lists, with its attributes (lower-cased); `withStatus` asks for
   * each folder's STATUS in the same exchange where the server can (LIST-STATUS).
   */
  listFolders(options?: { withStatus?: boolean }): Promise<ListedFolder[]>;
  /** Flags of the messages in a UID range of the open folder; with a mod-sequence only those changed since (CONDSTORE). */
  flags(range: string, changedSince: string | null): Promise<{ uid: number; flags: Set<string> }[]>;
  /** UIDs and sizes of the messages in a UID range of the open folder. */
  sizes(range: string): Promise<{ uid: number; size: number }[]>;
  /**
   * Opens each folder and reads the UIDs and sizes from its `from` on, all commands at once
   * (`from:*` also returns the highest message when it is below `from`). A folder missing
   * from the answer must be opened and read alone.
   */
  scanMany(folders: { path: string; from: number }[]): Promise<Map<string, FolderContents>>;
  fetch(uidSet: string, onMessage: (message: FetchedMessage) => void | Promise<void>): Promise<void>;
  /**
   * Header lines of the messages in a UID range of the open folder: only the named fields
   * (`BODY.PEEK[HEADER.FIELDS (…)]`), or the whole header block when `fields` is null.
   */
  headers(range: string, fields: readonly string[] | null): Promise<{ uid: number; header: Buffer }[]>;
  close(): Promise<void>;
}

export interface ListedFolder {
  /** Decoded, as imapflow reports it (INBOX upper-cased). */
  path: string;
  flags: Set<string>;
  /** Its STATUS, when it came with the list. */
  status?: MailboxInfo;
}

export interface FolderContents {
  mailbox: MailboxInfo;
  sizes: { uid: number; size: number }[];
}

export interface MailboxInfo {
  uidValidity: string;
  /** Null when the server did not say. */
  uidNext: number | null;
  exists: number;
  /** Null without CONDSTORE. */
  highestModseq: string | null;
}

export class SourceChangedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceChangedError';
  }
}

export class FetchRejectedError extends Error {
  constructor(
    readonly responseStatus: 'NO' | 'BAD',
    readonly responseText: string,
  ) {
    super(`FETCH ${responseStatus}: ${responseText}`);
    this.name = 'FetchRejectedError';
  }
}

/** imapflow as a BodyFetcher, for servers the raw connection cannot log in to. */
export function imapflowBodyFetcher(client: ImapFlow): BodyFetcher {
  return {
    get usable() {
      return client.usable;
    },
    async examine(path) {
      const mailbox = await client.mailboxOpen(path, { readOnly: true });
      return {
        uidValidity: String(mailbox.uidValidity),
        uidNext: mailbox.uidNext || null,
        exists: mailbox.exists,
        highestModseq: mailbox.highestModseq !== undefined && !mailbox.noModseq ? String(mailbox.highestModseq) : null,
      };
    },
    async listFolders() {
      return (await client.list()).map((folder) => ({ path: folder.path, flags: new Set([...folder.flags].map((f) => f.toLowerCase())) }));
    },
    async statuses() {
      // imapflow answers STATUS on its selected folder from a stale view: each folder is opened instead.
      return new Map();
    },
    async flags(range, changedSince) {
      const found: { uid: number; flags: Set<string> }[] = [];
      const options = changedSince === null ? { uid: true } : { uid: true, changedSince: BigInt(changedSince) };
      for await (const message of client.fetch(range, { uid: true, flags: true }, options)) found.push({ uid: message.uid, flags: message.flags ?? new Set() });
      return found;
    },
    async sizes(range) {
      const found: { uid: number; size: number }[] = [];
      for await (const message of client.fetch(range, { uid: true, size: true }, { uid: true })) found.push({ uid: message.uid, size: message.size ?? 0 });
      return found;
    },
    async scanMany() {
      // One folder at a time (examine, sizes) is all imapflow does.
      return new Map();
    },
    async fetch(uidSet, onMessage) {
      for await (const message of client.fetch(uidSet, { uid: true, source: true, flags: true, internalDate: true }, { uid: true })) {
        if (!message.source) continue;
        const date = message.internalDate ? new Date(message.internalDate) : null;
        await onMessage({ uid: message.uid, body: [message.source], size: message.source.length, flags: message.flags ?? new Set(), internalDate: date && !Number.isNaN(date.getTime()) ? date : null });
      }
    },
    async headers(range, fields) {
      const found: { uid: number; header: Buffer }[] = [];
      for await (const message of client.fetch(range, { uid: true, headers: fields ? [...fields] : true }, { uid: true })) found.push({ uid: message.uid, header: message.headers ?? Buffer.alloc(0) });
      return found;
    },
    async close() {
      // The connection belongs to the caller.
    },
  };
}

const MONTHS: Record<string, number> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 };

/** IMAP date-time ("17-Jul-1996 02:44:25 -0700", day possibly space-padded) as a Date. */
export function parseImapDateTime(text: string): Date | null {
  const match = /^\s?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!match) return null;
  const month = MONTHS[match[2]!.toLowerCase()];
  if (month === undefined) return null;
  const offsetMinutes = (match[7] === '-' ? -1 : 1) * (Number(match[8]) * 60 + Number(match[9]));
  const utc = Date.UTC(Number(match[3]), month, Number(match[1]), Number(match[4]), Number(match[5]), Number(match[6])) - offsetMinutes * 60_000;
  const date = new Date(utc);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** `* STATUS "name" (UIDNEXT 5 UIDVALIDITY 7 MESSAGES 4 HIGHESTMODSEQ 9)` as MailboxInfo. */
function emptyMailboxInfo(): MailboxInfo {
  return { uidValidity: '', uidNext: null, exists: 0, highestModseq: null };
}

/** Takes what an untagged answer to EXAMINE says about the folder into `info`. */
function readExamineLine(line: string, info: MailboxInfo) {
  const code = /^\* OK \[(UIDVALIDITY|UIDNEXT|HIGHESTMODSEQ) (\d+)\]/i.exec(line);
  if (code) {
    const [, name, value] = code;
    if (name!.toUpperCase() === 'UIDVALIDITY') info.uidValidity = value!;
    else if (name!.toUpperCase() === 'UIDNEXT') info.uidNext = Number(value);
    else info.highestModseq = value!;
    return;
  }
  const exists = /^\* (\d+) EXISTS/i.exec(line);
  if (exists) info.exists = Number(exists[1]);
}

export function parseStatusLine(line: string): MailboxInfo | null {
  const list = /\(([^()]*)\)\s*$/.exec(line)?.[1];
  if (list === undefined) return null;
  const words = list.trim().split(/\s+/);
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < words.length; i += 2) values.set(words[i]!.toUpperCase(), words[i + 1]!);
  const uidValidity = values.get('UIDVALIDITY');
  const uidNext = Number(values.get('UIDNEXT'));
  if (!uidValidity || !/^\d+$/.test(uidValidity) || !Number.isInteger(uidNext)) return null;
  const modseq = values.get('HIGHESTMODSEQ');
  return { uidValidity, uidNext, exists: Number(values.get('MESSAGES') ?? 0), highestModseq: modseq && /^\d+$/.test(modseq) && modseq !== '0' ? modseq : null };
}

/** Where literals stood in a response's text. */
const LITERAL_MARK = '\u0000';

/**
 * The items of one FETCH response ("UID 4 FLAGS (\Seen) INTERNALDATE "…" BODY[] \0"), with
 * `\0` standing for the literals in order. Returns name → raw value (parenthesized lists as
 * their inner text, quoted strings unquoted, literals as `\0<index>`).
 */
export function parseFetchItems(text: string): Map<string, string> {
  const items = new Map<string, string>();
  let i = 0;
  let literals = 0;
  const n = text.length;
  const skipSpaces = () => {
    while (i < n && text[i] === ' ') i++;
  };
  while (i < n) {
    skipSpaces();
    if (i >= n || text[i] === ')') break;
    // Name: up to a space, with any [...] section taken whole.
    let name = '';
    while (i < n && text[i] !== ' ' && text[i] !== ')') {
      if (text[i] === '[') {
        const close = text.indexOf(']', i);
        if (close < 0) return items;
        name += text.slice(i, close + 1);
        i = close + 1;
      } else {
        name += text[i++];
      }
    }
    skipSpaces();
    let value = '';
    if (text[i] === '(') {
      let depth = 0;
      const start = i;
      for (; i < n; i++) {
        const c = text[i];
        if (c === '"') {
          for (i++; i < n && text[i] !== '"'; i++) if (text[i] === '\\') i++;
        } else if (c === '(') depth++;
        else if (c === ')' && --depth === 0) break;
      }
      value = text.slice(start + 1, i);
      i++;
    } else if (text[i] === '"') {
      i++;
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\') i++;
        value += text[i++];
      }
      i++;
    } else if (text[i] === LITERAL_MARK) {
      value = `${LITERAL_MARK}${literals++}`;
      i++;
    } else {
      const start = i;
      while (i < n && text[i] !== ' ' && text[i] !== ')') i++;
      value = text.slice(start, i);
    }
    items.set(name.toUpperCase(), value);
  }
  return items;
}

interface Waiting {
  resolve(): void;
  reject(error: Error): void;
  /** A FETCH response: its items (see parseFetchItems) and literals. */
  onFetch?: (items: Map<string, string>, literals: Buffer[][]) => void | Promise<void>;
  onUntagged?: (line: string, literals: Buffer[][]) => void;
  /** A tagged answer to an earlier command of a pipelined run (see `runMany`). */
  onTagged?: (line: string) => void;
}

/**
 * The raw connection as a BodyFetcher: `UID FETCH … (UID FLAGS INTERNALDATE BODY.PEEK[])`,
 * each literal kept as views of the chunks it arrived in (nothing copied), without a
 * general-purpose parser in between.
 */
class RawBodyFetcher implements BodyFetcher {
  private pendingLine: Buffer | null = null;
  /** Text of the response being read, literals replaced by LITERAL_MARK. */
  private responseText = '';
  private literals: Buffer[][] = [];
  /** The literal being read: its pieces so far and the bytes still to come. */
  private literal: Buffer[] | null = null;
  private literalRemaining = 0;
  private current: { tag: string; waiting: Waiting } | null = null;
  private blocked: Buffer | null = null;
  private isBlocked = false;

  constructor(private readonly connection: RawImapConnection) {
    connection.onFailure((error) => {
      const current = this.current;
      this.current = null;
      current?.waiting.reject(error);
    });
    // This reader takes a `{N}` at the end of any line as a literal; the guard frames alike.
    connection.takeOver(
      (chunk) => this.onData(chunk),
      () => this.current !== null,
      { lineEnd: 'crlf', literals: 'any' },
    );
  }

  get usable(): boolean {
    return !this.connection.closed;
  }

  private run(command: string, waiting: Omit<Waiting, 'resolve' | 'reject'>): Promise<void> {
    return this.runMany([command], waiting);
  }

  /** Sends the commands at once; settles with the last one's answer. */
  private runMany(commands: string[], waiting: Omit<Waiting, 'resolve' | 'reject'>): Promise<void> {
    if (this.connection.closed) return Promise.reject(this.connection.error);
    if (this.current) return Promise.reject(new Error('A command is already running on this connection.'));
    const lines = commands.map((command) => `${this.connection.tag('F')} ${command}\r\n`);
    const tag = lines.at(-1)!.split(' ', 1)[0]!;
    const expected = commands.map((command) => this.connection.expect(command));
    return new Promise<void>((resolve, reject) => {
      this.current = { tag, waiting: { ...waiting, resolve, reject } };
      this.connection.socket.write(lines.join(''));
    }).finally(() => {
      for (const entry of expected) this.connection.guard.settle(entry);
    });
  }

  async statuses(paths: string[]): Promise<Map<string, MailboxInfo>> {
    const found = new Map<string, MailboxInfo>();
    if (paths.length === 0) return found;
    const condstore = this.connection.capabilities.has('CONDSTORE');
    // Each command's untagged STATUS comes before its own tagged answer.
    let index = 0;
    await this.runMany(
      paths.map((path) => `STATUS ${quoteMailbox(path)} (UIDNEXT UIDVALIDITY MESSAGES${condstore ? ' HIGHESTMODSEQ' : ''})`),
      {
        onUntagged: (line) => {
          if (!/^\* STATUS /i.test(line)) return;
          const info = parseStatusLine(line);
          if (info && index < paths.length) found.set(paths[index]!, info);
        },
        onTagged: () => {
          index++;
        },
      },
    ).catch((error: unknown) => {
      // The last folder was refused (gone meanwhile): it is opened later and fails there.
      if (!(error instanceof FetchRejectedError)) throw error;
    });
    return found;
  }

  private examineCommand(path: string): string {
    return `EXAMINE ${quoteMailbox(path)}${this.connection.capabilities.has('CONDSTORE') ? ' (CONDSTORE)' : ''}`;
  }

  async examine(path: string): Promise<MailboxInfo> {
    const info = emptyMailboxInfo();
    await this.run(this.examineCommand(path), { onUntagged: (line) => readExamineLine(line, info) });
    if (!info.uidValidity) throw new FetchRejectedError('NO', `The server did not report the UIDVALIDITY of ${path}.`);
    return info;
  }

  async scanMany(folders: { path: string; from: number }[]): Promise<Map<string, FolderContents>> {
    const found = new Map<string, FolderContents>();
    if (folders.length === 0) return found;
    // EXAMINE and UID FETCH per folder; answers come in the order of the commands.
    let command = 0;
    let current: FolderContents = { mailbox: emptyMailboxInfo(), sizes: [] };
    let failed = false;
    const answered = (ok: boolean) => {
      failed ||= !ok;
      if (command % 2 === 1) {
        if (!failed && current.mailbox.uidValidity) found.set(folders[command >> 1]!.path, current);
        current = { mailbox: emptyMailboxInfo(), sizes: [] };
        failed = false;
      }
      command++;
    };
    await this.runMany(
      folders.flatMap((folder) => [this.examineCommand(folder.path), `UID FETCH ${folder.from}:* (UID RFC822.SIZE)`]),
      {
        onUntagged: (line) => {
          if (command % 2 === 0) readExamineLine(line, current.mailbox);
        },
        onFetch: (items) => {
          const uid = Number(items.get('UID'));
          if (command % 2 === 1 && Number.isInteger(uid)) current.sizes.push({ uid, size: Number(items.get('RFC822.SIZE') ?? 0) });
        },
        onTagged: (line) => answered(/^\S+ OK\b/i.test(line)),
      },
    ).then(
      () => answered(true),
      (error: unknown) => {
        if (!(error instanceof FetchRejectedError)) throw error;
        answered(false);
      },
    );
    return found;
  }

  async listFolders(options: { withStatus?: boolean } = {}): Promise<ListedFolder[]> {
    const found: ListedFolder[] = [];
    const statuses = new Map<string, MailboxInfo>();
    const withStatus = options.withStatus === true && this.connection.capabilities.has('LIST-STATUS');
    const condstore = this.connection.capabilities.has('CONDSTORE');
    await this.run(withStatus ? `LIST "" "*" RETURN (STATUS (UIDNEXT UIDVALIDITY MESSAGES${condstore ? ' HIGHESTMODSEQ' : ''}))` : 'LIST "" "*"', {
      onUntagged: (line, literals) => {
        const status = /^\* STATUS ("(?:[^"\\]|\\.)*"|\S+) \(/i.exec(line);
        if (status) {
          const info = parseStatusLine(line);
          if (info) statuses.set(mailboxName(status[1]!, literals[0]), info);
          return;
        }
        const folder = parseListLine(line, literals[0]);
        if (folder) found.push({ path: folder.path, flags: new Set([...folder.flags].map((f) => f.toLowerCase())) });
      },
    });
    for (const folder of found) {
      const status = statuses.get(folder.path);
      if (status) folder.status = status;
    }
    return found;
  }

  async flags(range: string, changedSince: string | null): Promise<{ uid: number; flags: Set<string> }[]> {
    const found: { uid: number; flags: Set<string> }[] = [];
    await this.run(`UID FETCH ${range} (UID FLAGS)${changedSince === null ? '' : ` (CHANGEDSINCE ${changedSince})`}`, {
      onFetch: (items) => {
        const uid = Number(items.get('UID'));
        const flags = items.get('FLAGS');
        if (Number.isInteger(uid) && flags !== undefined) found.push({ uid, flags: new Set(flags.split(' ').filter(Boolean)) });
      },
    });
    return found;
  }

  async sizes(range: string): Promise<{ uid: number; size: number }[]> {
    const found: { uid: number; size: number }[] = [];
    await this.run(`UID FETCH ${range} (UID RFC822.SIZE)`, {
      onFetch: (items) => {
        const uid = Number(items.get('UID'));
        if (Number.isInteger(uid)) found.push({ uid, size: Number(items.get('RFC822.SIZE') ?? 0) });
      },
    });
    return found;
  }

  fetch(uidSet: string, onMessage: (message: FetchedMessage) => void | Promise<void>): Promise<void> {
    return this.run(`UID FETCH ${uidSet} (UID FLAGS INTERNALDATE BODY.PEEK[])`, {
      onFetch: (items, literals) => {
        const body = items.get('BODY[]');
        const uid = Number(items.get('UID'));
        if (body === undefined || !Number.isInteger(uid)) return undefined;
        const content = body.startsWith(LITERAL_MARK) ? literals[Number(body.slice(1))] : body === 'NIL' ? undefined : [Buffer.from(body, 'latin1')];
        if (!content) return undefined;
        const flags = new Set((items.get('FLAGS') ?? '').split(' ').filter(Boolean));
        const date = items.get('INTERNALDATE');
        const size = content.reduce((n, piece) => n + piece.length, 0);
        return onMessage({ uid, body: content, size, flags, internalDate: date ? parseImapDateTime(date) : null });
      },
    });
  }

  async headers(range: string, fields: readonly string[] | null): Promise<{ uid: number; header: Buffer }[]> {
    const found: { uid: number; header: Buffer }[] = [];
    const section = fields ? `HEADER.FIELDS (${fields.join(' ')})` : 'HEADER';
    await this.run(`UID FETCH ${range} (UID BODY.PEEK[${section}])`, {
      onFetch: (items, literals) => {
        const uid = Number(items.get('UID'));
        if (!Number.isInteger(uid)) return;
        // Servers echo the section in their own spelling ("BODY[HEADER.FIELDS ("MESSAGE-ID" …)]").
        const value = [...items].find(([name]) => name.startsWith('BODY['))?.[1];
        const content = value === undefined || value === 'NIL' ? [] : value.startsWith(LITERAL_MARK) ? (literals[Number(value.slice(1))] ?? []) : [Buffer.from(value, 'latin1')];
        found.push({ uid, header: Buffer.concat(content) });
      },
    });
    return found;
  }

  async close(): Promise<void> {
    this.connection.end();
  }

  private onData(chunk: Buffer) {
    if (this.isBlocked) {
      this.blocked = this.blocked ? Buffer.concat([this.blocked, chunk]) : chunk;
      return;
    }
    // A line cut by the chunk boundary (possibly between CR and LF) is completed first.
    const data = this.pendingLine ? Buffer.concat([this.pendingLine, chunk]) : chunk;
    this.pendingLine = null;
    let offset = 0;
    while (offset < data.length) {
      if (this.literal) {
        const take = Math.min(this.literalRemaining, data.length - offset);
        this.literal.push(data.subarray(offset, offset + take));
        this.literalRemaining -= take;
        offset += take;
        if (this.literalRemaining > 0) return;
        this.literals.push(this.literal);
        this.literal = null;
        continue;
      }
      const end = data.indexOf('\r\n', offset);
      if (end < 0) {
        this.pendingLine = Buffer.from(data.subarray(offset));
        return;
      }
      const line = data.toString('latin1', offset, end);
      offset = end + 2;
      const literal = /\{(\d+)\}$/.exec(line);
      if (literal) {
        const size = Number(literal[1]);
        this.responseText += `${line.slice(0, literal.index)}${LITERAL_MARK}`;
        const take = Math.min(size, data.length - offset);
        const pieces = [data.subarray(offset, offset + take)];
        offset += take;
        if (take === size) {
          this.literals.push(pieces);
        } else {
          this.literal = pieces;
          this.literalRemaining = size - take;
        }
        continue;
      }
      const text = this.responseText + line;
      const literals = this.literals;
      this.responseText = '';
      this.literals = [];
      const waitFor = this.onResponse(text, literals);
      if (waitFor) {
        // The consumer is full: stop reading until it has room again.
        this.isBlocked = true;
        this.connection.holdDeadlines(true);
        this.connection.socket.pause();
        const rest = offset < data.length ? data.subarray(offset) : null;
        this.blocked = rest;
        void waitFor.then(
          () => this.unblock(),
          (error: unknown) => this.fail(error),
        );
        return;
      }
    }
  }

  private unblock() {
    this.isBlocked = false;
    this.connection.holdDeadlines(false);
    const rest = this.blocked;
    this.blocked = null;
    this.connection.socket.resume();
    if (rest) this.onData(rest);
  }

  private fail(error: unknown) {
    const current = this.current;
    this.current = null;
    // The response stream is now out of step with the commands: this connection is done.
    this.connection.fail(error instanceof Error ? error : new Error(String(error)));
    current?.waiting.reject(error instanceof Error ? error : new Error(String(error)));
  }

  /** One complete response; returns a promise when reading must wait for the consumer. */
  private onResponse(text: string, literals: Buffer[][]): Promise<void> | undefined {
    const current = this.current;
    if (!current) return undefined;
    if (text.startsWith('* ')) {
      const fetchAt = /^\* \d+ FETCH \(/i.exec(text);
      if (fetchAt && current.waiting.onFetch) {
        try {
          const result = current.waiting.onFetch(parseFetchItems(text.slice(fetchAt[0].length)), literals);
          return result instanceof Promise ? result : undefined;
        } catch (error) {
          return Promise.reject(error);
        }
      }
      current.waiting.onUntagged?.(text, literals);
      return undefined;
    }
    if (!text.startsWith(`${current.tag} `)) {
      current.waiting.onTagged?.(text);
      return undefined;
    }
    this.current = null;
    const match = /^\S+ (OK|NO|BAD)\b ?(.*)$/i.exec(text);
    const status = match?.[1]?.toUpperCase();
    if (status === 'OK') current.waiting.resolve();
    else current.waiting.reject(new FetchRejectedError(status === 'BAD' ? 'BAD' : 'NO', match?.[2] ?? text));
    return undefined;
  }
}

/** A raw fetching connection, or null when only imapflow can log in to this server. */
export async function connectBodyFetcher(options: RawImapOptions): Promise<BodyFetcher | null> {
  const connection = await openRawImap(options);
  return connection ? new RawBodyFetcher(connection) : null;
}
