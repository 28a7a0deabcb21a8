import { LineReader, openRawImap, quoteMailbox, type RawImapConnection, type RawImapOptions } from './raw-imap';

/**
 * An IMAP connection that only APPENDs, and keeps APPENDs in flight: with LITERAL+ (RFC 7888)
 * a message is sent without waiting for the server's continuation, so the connection streams
 * messages the way `mbsync` pipelines them instead of paying a round trip for each. Without
 * it (Courier) each message's literal waits for its own `+`, but the next APPEND follows its
 * bytes at once instead of waiting for the tagged answer before it: one round trip per
 * message, where imapflow, running one command at a time, pays two.
 */
export interface Appender {
  readonly usable: boolean;
  /** The server names the UIDs it gives (UIDPLUS): `append` resolves with them. */
  readonly reportsUids: boolean;
  /** Sends what is held back to be stored together (MULTIAPPEND); the reader has nothing more right now. */
  flush(): void;
  /** Bytes of messages held back that way. */
  readonly heldBytes: number;
  /**
   * Stores a message given in pieces (as it was read; joined only where a library needs one
   * buffer). Resolves with its UID on the target when the server said (UIDPLUS), else null.
   */
  append(path: string, content: readonly Buffer[], flags: string[], internalDate?: Date): Promise<number | null>;
  close(): Promise<void>;
}

export class AppendRejectedError extends Error {
  constructor(
    readonly responseStatus: 'NO' | 'BAD',
    readonly responseText: string,
    readonly serverResponseCode: string | undefined,
  ) {
    super(`APPEND ${responseStatus}: ${responseText}`);
    this.name = 'AppendRejectedError';
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** INTERNALDATE as IMAP wants it, in UTC: "06-Jun-2005 09:30:00 +0000". */
export function imapDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** The UIDs of an APPENDUID code (" 38505 3955:3957,3960"), in order; [] when unreadable. */
export function appendedUids(code: string): number[] {
  const set = code.trim().split(/\s+/)[1];
  if (!set) return [];
  const uids: number[] = [];
  for (const part of set.split(',')) {
    const [first, last = first] = part.split(':');
    const from = Number(first);
    const to = Number(last);
    if (!Number.isInteger(from) || !Number.isInteger(to) || to < from || to - from > 100_000) return [];
    for (let uid = from; uid <= to; uid++) uids.push(uid);
  }
  return uids;
}

const FLAG = /^\\?[!#$%&'*+\-.0-9:<=>?@A-Z^_`a-z|}~]+$/;

/** Bytes in a message given in pieces. */
export function byteLength(content: readonly Buffer[]): number {
  let length = 0;
  for (const piece of content) length += piece.length;
  return length;
}

interface Member {
  path: string;
  content: readonly Buffer[];
  size: number;
  flags: string[];
  internalDate: Date | undefined;
  resolve(uid: number | null): void;
  reject(error: Error): void;
}

/** One APPEND command on the wire: a single message, or several with MULTIAPPEND. */
interface Group {
  tag: string;
  path: string;
  members: Member[];
  bytes: number;
  /** Still taking messages (the command's final CRLF not sent yet). */
  isOpen: boolean;
  /** Asked to end while a literal waited for its continuation: ends once the bytes are sent. */
  isClosing: boolean;
  timer: NodeJS.Timeout | null;
}

/** A message whose synchronizing literal was announced, waiting for the server's `+`. */
interface Announced {
  group: Group;
  member: Member;
  mayGroup: boolean;
}

/** A continuation this long after the answer before it was held back by the server's Nagle (see noteContinuation). */
const STALL_MS = 20;

/** RFC 7888 LITERAL-: non-synchronizing literals up to this size. */
const LITERAL_MINUS_BYTES = 4096;

/** How much one MULTIAPPEND may carry before it is closed. */
const GROUP_MESSAGES = 64;
const GROUP_BYTES = 2 * 1024 * 1024;
/** A MULTIAPPEND nobody flushes ends after this long. */
const GROUP_IDLE_MS = 5;

class PipelinedAppender implements Appender {
  private readonly reader = new LineReader((line) => this.onLine(line));
  private readonly pending = new Map<string, Group>();
  private idleWaiters: (() => void)[] = [];
  private open: Group | null = null;
  /** Messages waiting for the literal before them to be sent (synchronizing literals only). */
  private readonly outbox: { member: Member; mayGroup: boolean }[] = [];
  /** The literal waiting for its continuation: nothing else may be written meanwhile. */
  private announced: Announced | null = null;
  /** When the command before the announced one was answered (see noteContinuation). */
  private answeredWhileAnnounced: number | null = null;
  private stalls = 0;
  /** A new command waits for the answer to the one before (see noteContinuation). */
  private waitsForAnswers = false;

  constructor(
    private readonly connection: RawImapConnection,
    /** RFC 3502: several messages in one APPEND, stored by the server in one transaction. */
    private readonly multiAppend: boolean,
    /** Which literals may go without waiting for the server's `+` (LITERAL+ or LITERAL-). */
    private readonly isNonSynchronizing: (size: number) => boolean,
  ) {
    connection.onFailure((error) => {
      this.open = null;
      this.announced = null;
      for (const group of this.pending.values()) for (const member of group.members) member.reject(error);
      this.pending.clear();
      for (const { member } of this.outbox.splice(0)) member.reject(error);
      this.wakeIfIdle();
    });
    connection.takeOver(
      (chunk) => this.reader.push(chunk),
      () => this.pending.size > 0,
    );
  }

  get usable(): boolean {
    return !this.connection.closed;
  }

  get reportsUids(): boolean {
    return this.connection.capabilities.has('UIDPLUS');
  }

  private wakeIfIdle() {
    if (this.pending.size === 0 && this.outbox.length === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private onLine(line: string) {
    if (line.startsWith('+')) {
      this.onContinuation();
      return;
    }
    // Untagged lines (EXISTS, `* OK [ALERT] …` from Courier on 8-bit headers, `* NO …`) are no answer.
    const match = /^(\S+) (OK|NO|BAD)\b ?(?:\[([^\]\s]+)([^\]]*)\] ?)?(.*)$/i.exec(line);
    if (!match || match[1] === '*') return;
    const group = this.pending.get(match[1]!);
    if (!group) return;
    this.pending.delete(match[1]!);
    if (this.announced && this.announced.group !== group) this.answeredWhileAnnounced = performance.now();
    if (this.announced?.group === group) {
      // Refused instead of a continuation: the literal's bytes are not sent and the command is
      // over, so no CRLF ends it either.
      this.announced = null;
      group.isOpen = false;
      if (this.open === group) this.open = null;
      if (group.timer) clearTimeout(group.timer);
    } else if (group.isOpen) {
      // Dovecot refuses a MULTIAPPEND at the failing message, before its end, and goes on
      // reading (and skipping) what was sent of it up to the final CRLF: without that CRLF it
      // would take the next command as the rest of this line, and the message after as commands.
      this.close_(group);
    }
    const status = match[2]!.toUpperCase();
    if (status === 'OK') {
      const uids = match[3]?.toUpperCase() === 'APPENDUID' ? appendedUids(match[4] ?? '') : [];
      const known = uids.length === group.members.length;
      group.members.forEach((member, index) => member.resolve(known ? uids[index]! : null));
    } else if (group.members.length > 1) {
      // A MULTIAPPEND is all or nothing: none was stored. Each message again on its own, so
      // only the one the server does not want fails. Ahead of what waits: they were read first.
      this.outbox.unshift(...group.members.map((member) => ({ member, mayGroup: false })));
    } else {
      group.members[0]!.reject(new AppendRejectedError(status as 'NO' | 'BAD', match[5] ?? '', match[3]?.toUpperCase()));
    }
    this.pump();
    this.wakeIfIdle();
  }

  /** The server's `+`: the announced literal's bytes go now, and the next message after them. */
  private onContinuation() {
    const announced = this.announced;
    if (!announced) return;
    this.announced = null;
    this.noteContinuation();
    if (!this.connection.closed) {
      const socket = this.connection.socket;
      socket.cork();
      for (const piece of announced.member.content) socket.write(piece);
      socket.uncork();
    }
    this.afterLiteral(announced.group, announced.mayGroup);
    this.pump();
  }

  /** Sends what waits in the outbox, up to the next literal that needs a continuation. */
  private pump() {
    while (!this.announced && this.outbox.length > 0 && !this.connection.closed && this.mayWrite(this.outbox[0]!.member, this.outbox[0]!.mayGroup)) {
      const { member, mayGroup } = this.outbox.shift()!;
      this.write(member, mayGroup);
    }
  }

  /** Ends a MULTIAPPEND: its messages went out as they came; the final CRLF completes it. */
  private close_(group: Group) {
    if (!group.isOpen) return;
    if (this.announced?.group === group) {
      // Its last literal waits for the server's `+`: the CRLF goes after the bytes.
      group.isClosing = true;
      return;
    }
    group.isOpen = false;
    if (this.open === group) this.open = null;
    if (group.timer) clearTimeout(group.timer);
    if (!this.connection.closed) this.connection.socket.write('\r\n');
  }

  /** Sends one message, or queues it behind a literal waiting for its continuation. */
  private send(member: Member, mayGroup: boolean) {
    if (this.announced || this.outbox.length > 0 || !this.mayWrite(member, mayGroup)) this.outbox.push({ member, mayGroup });
    else this.write(member, mayGroup);
  }

  /** Whether the message joins the open MULTIAPPEND (else it starts a command of its own). */
  private joins(group: Group | null, member: Member, mayGroup: boolean): group is Group {
    return group !== null && !group.isClosing && mayGroup && group.path === member.path && group.members.length < GROUP_MESSAGES && group.bytes + member.size <= GROUP_BYTES;
  }

  /** Once the server stalls on pipelined commands, a new command waits for the answers before it. */
  private mayWrite(member: Member, mayGroup: boolean): boolean {
    return !this.waitsForAnswers || this.pending.size === 0 || this.joins(this.open, member, mayGroup);
  }

  /**
   * Courier writes a tagged answer and the continuation of the command after it as two small
   * segments without TCP_NODELAY: Nagle's algorithm holds the `+` until the answer is
   * acknowledged, and this side, waiting for that `+`, acknowledges only when its delayed-ACK
   * timer fires, 40 ms later; 23 messages per second instead of 500. When a continuation comes
   * that late after the answer before it, twice, the connection stops sending a command before
   * the previous one is answered: the next command then carries the acknowledgement, as
   * imapflow's one-at-a-time commands do.
   */
  private noteContinuation() {
    const answeredAt = this.answeredWhileAnnounced;
    this.answeredWhileAnnounced = null;
    if (answeredAt === null || performance.now() - answeredAt < STALL_MS) return;
    if (++this.stalls >= 2) this.waitsForAnswers = true;
  }

  /** Writes one message: into the open MULTIAPPEND when it fits, else as a new command. */
  private write(member: Member, mayGroup: boolean) {
    let group = this.open;
    if (group && !this.joins(group, member, mayGroup)) {
      this.close_(group);
      group = null;
    }
    const isFirst = !group;
    if (!group) {
      group = { tag: this.connection.tag('A'), path: member.path, members: [], bytes: 0, isOpen: true, isClosing: false, timer: null };
      this.pending.set(group.tag, group);
      this.connection.expect('APPEND');
    }
    group.members.push(member);
    group.bytes += member.size;
    if (isFirst && mayGroup && this.multiAppend) {
      this.open = group;
      // Ended by `flush` (the reader has nothing more for now) or a size limit; the timer only
      // catches a caller that never flushes.
      const opened = group;
      opened.timer = setTimeout(() => this.close_(opened), GROUP_IDLE_MS);
    }
    const isNonSynchronizing = this.isNonSynchronizing(member.size);
    if (!this.connection.closed) {
      const socket = this.connection.socket;
      const flagList = member.flags.filter((f) => FLAG.test(f)).join(' ');
      const date = member.internalDate ? ` "${imapDate(member.internalDate)}"` : '';
      // The parts in one corked write, the message's pieces uncopied.
      socket.cork();
      socket.write(`${isFirst ? `${group.tag} APPEND ${quoteMailbox(group.path)}` : ''} (${flagList})${date} {${member.size}${isNonSynchronizing ? '+' : ''}}\r\n`);
      if (isNonSynchronizing) for (const piece of member.content) socket.write(piece);
      socket.uncork();
    }
    if (!isNonSynchronizing) {
      // The bytes wait for the server's `+` (or its NO): see onContinuation.
      this.announced = { group, member, mayGroup };
      return;
    }
    this.afterLiteral(group, mayGroup);
  }

  /** After a message's bytes: its command ends unless it is a MULTIAPPEND that takes more. */
  private afterLiteral(group: Group, mayGroup: boolean) {
    if (!mayGroup || !this.multiAppend || group.isClosing) {
      this.close_(group);
    }
  }

  /** Bytes sent in the MULTIAPPEND still open (not stored before it ends). */
  get heldBytes(): number {
    return this.open?.bytes ?? 0;
  }

  /** Ends the open MULTIAPPEND, so the server stores it and answers. */
  flush() {
    if (this.open) this.close_(this.open);
  }

  /**
   * Resolves when the server has stored the message. The bytes wait in the socket's buffer
   * (or, for a synchronizing literal, in the outbox) meanwhile; the pool bounds how many are
   * in flight.
   */
  append(path: string, content: readonly Buffer[], flags: string[], internalDate?: Date): Promise<number | null> {
    if (this.connection.closed) return Promise.reject(this.connection.error);
    return new Promise<number | null>((resolve, reject) => this.send({ path, content, size: byteLength(content), flags, internalDate, resolve, reject }, true));
  }

  async close(): Promise<void> {
    if (this.connection.closed) return;
    // Answers still in flight arrive first; LOGOUT is a courtesy the server does not need.
    while (!this.connection.closed && (this.pending.size > 0 || this.outbox.length > 0)) {
      this.flush();
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    this.connection.end();
  }
}

/**
 * A pipelining appender to `server`, logged in, or null when the login needs something only
 * imapflow does. With LITERAL+ every literal goes without waiting; with LITERAL- (RFC 7888)
 * those up to 4 KB; the others wait for the server's continuation.
 */
export async function connectPipelinedAppender(options: RawImapOptions): Promise<Appender | null> {
  const connection = await openRawImap(options);
  if (!connection) return null;
  const capabilities = connection.capabilities;
  const literalPlus = capabilities.has('LITERAL+');
  const literalMinus = capabilities.has('LITERAL-');
  return new PipelinedAppender(connection, capabilities.has('MULTIAPPEND'), (size) => literalPlus || (literalMinus && size <= LITERAL_MINUS_BYTES));
}
