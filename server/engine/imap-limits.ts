/**
 * What an IMAP server may send before Mailferry stops reading. Customers type the servers a
 * migration connects to, so every byte they send is input from outside, and one worker runs
 * many customers' migrations: a server that never ends a line, announces a 4 GB literal,
 * lists folders without end or drips a byte a second must cost its own connection, never the
 * worker's memory or the other migrations' time.
 *
 * The guard below reads along with every connection's parser (the raw readers of this folder
 * and imapflow's, see accounts/imap/imap-connector.ts): it frames the bytes as the parser does
 * (lines, and literals announced at their end) without keeping any of them, and throws an
 * ImapLimitError the moment a limit is passed, before the parser has buffered the bytes.
 */

/** Which account a connection belongs to, for the reason given to the customer. */
export type ImapSide = 'source' | 'target';

export interface ImapLimits {
  /** One response line (without its literals). Enough for LIST of a 1,000-character name, many times over. */
  maxLineBytes: number;
  /** A literal anywhere a message body is not expected (LIST, STATUS, NAMESPACE, METADATA, ENVELOPE, …). */
  maxLiteralBytes: number;
  /** The migration's message size limit: a message body literal (FETCH BODY[]) above it is refused. */
  maxMessageBytes: number;
  /** One response without a message body in it: its lines and literals together. */
  maxResponseBytes: number;
  /** All untagged responses one command other than FETCH gets, together (a LIST of 100,000 long names fits). */
  maxAnswerBytes: number;
  /** Untagged responses one command may get: no folder list, status or namespace answer needs more. */
  maxUntaggedLines: number;
  /** Untagged responses one FETCH may get (one per message, and a folder holds at most about a million). */
  maxFetchLines: number;
  /** A command waiting this long without a complete response (not counting time the copy itself holds reading) ends the connection. */
  commandMs: number;
  /** A command waiting this long without a single byte ends the connection. */
  idleMs: number;
  /** No connection lives longer than this; a copy goes on from its checkpoint on a fresh one. */
  sessionMs: number;
}

/** Limits are in decimal units, as the reasons name them ("1 MB" is 1,000,000 bytes). */
const MB = 1_000_000;

/** Seconds from a test's or an operator's environment, else the default (an invalid value is ignored). */
function seconds(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  const value = raw ? Number(raw) : Number.NaN;
  return Number.isFinite(value) && value > 0 ? value * 1000 : fallback;
}

/**
 * The limits every connection starts with. The deadlines can be shortened with
 * MAILFERRY_IMAP_COMMAND_SECONDS and MAILFERRY_IMAP_SESSION_SECONDS (read when a connection
 * opens), which the tests of hostile servers use to run in seconds.
 */
export function defaultImapLimits(overrides: Partial<ImapLimits> = {}): ImapLimits {
  const commandMs = seconds('MAILFERRY_IMAP_COMMAND_SECONDS', 15 * 60_000);
  return {
    maxLineBytes: MB,
    maxLiteralBytes: 64_000,
    maxMessageBytes: 50 * 1024 * 1024,
    maxResponseBytes: 2 * MB,
    maxAnswerBytes: 64 * MB,
    maxUntaggedLines: 100_000,
    maxFetchLines: 2_000_000,
    commandMs,
    idleMs: Math.min(commandMs, 5 * 60_000),
    sessionMs: seconds('MAILFERRY_IMAP_SESSION_SECONDS', 24 * 3600_000),
    ...overrides,
  };
}

/**
 * The largest message body literal accepted: the message size limit with some room, because
 * the RFC822.SIZE the copy checks the limit against may differ a little from the bytes the
 * server sends (Exchange counts line ends its own way).
 */
export function messageLiteralCap(limits: ImapLimits): number {
  return limits.maxMessageBytes + Math.max(MB, Math.ceil(limits.maxMessageBytes / 10));
}

/** A size in words: "4 GB", "1 MB", "64 KB", "512 bytes" (decimal units, as people read them). */
export function sizeInWords(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'an unending';
  const units: [number, string][] = [
    [1e12, 'TB'],
    [1e9, 'GB'],
    [1e6, 'MB'],
    [1e3, 'KB'],
  ];
  for (const [size, unit] of units) {
    if (bytes >= size) {
      const value = bytes / size;
      return `${value >= 10 ? Math.round(value) : Number(value.toFixed(1))} ${unit}`;
    }
  }
  return `${bytes} bytes`;
}

function durationInWords(ms: number): string {
  if (ms >= 3600_000 && ms % 3600_000 === 0) return `${ms / 3600_000} hour${ms === 3600_000 ? '' : 's'}`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}`;
  const s = Math.round(ms / 100) / 10;
  return `${s} second${s === 1 ? '' : 's'}`;
}

export type ImapLimitKind = 'line' | 'literal' | 'message' | 'response' | 'answer' | 'untagged' | 'command_deadline' | 'idle' | 'session';

/**
 * A server passed one of the limits: the connection is ended. `message` is the plain reason a
 * customer and an admin can act on ("The source server sent a 4 GB answer to LIST; Mailferry
 * stopped reading."). The copy treats it as a dropped connection (another attempt on fresh
 * connections); if it repeats, the migration fails with this reason.
 */
export class ImapLimitError extends Error {
  constructor(
    readonly kind: ImapLimitKind,
    readonly side: ImapSide | undefined,
    /** The command whose answer passed the limit ("LIST", "FETCH"), or "the greeting". */
    readonly command: string,
    /** The limit passed, in bytes, lines or milliseconds. */
    readonly limit: number,
    message: string,
  ) {
    super(message);
    this.name = 'ImapLimitError';
  }
}

function serverOf(side: ImapSide | undefined): string {
  return side ? `The ${side} server` : 'The server';
}

function answerTo(command: string): string {
  return command === 'the greeting' ? 'its greeting' : `its answer to ${command}`;
}

/** The ImapLimitError for `kind`, worded for the customer. `amount` is what the server sent or announced. */
export function limitError(kind: ImapLimitKind, side: ImapSide | undefined, command: string, limit: number, amount = limit): ImapLimitError {
  const server = serverOf(side);
  const stopped = 'Mailferry stopped reading.';
  const ended = 'Mailferry ended the connection.';
  const to = command === 'the greeting' ? 'as its greeting' : `to ${command}`;
  const texts: Record<ImapLimitKind, string> = {
    line: `${server} sent a line longer than ${sizeInWords(limit)} in ${answerTo(command)}; ${stopped}`,
    literal: `${server} sent a ${sizeInWords(amount)} answer ${to} (at most ${sizeInWords(limit)} is expected there); ${stopped}`,
    message: `${server} sent a ${sizeInWords(amount)} message in ${answerTo(command)}, above this migration's message size limit; ${stopped}`,
    response: `${server} sent a response of more than ${sizeInWords(limit)} ${to}; ${stopped}`,
    answer: `${server} sent more than ${sizeInWords(limit)} in ${answerTo(command)}; ${stopped}`,
    untagged: `${server} sent more than ${limit.toLocaleString('en-US')} lines in ${answerTo(command)}, more than that command can explain; ${stopped}`,
    command_deadline: `${server} did not complete ${answerTo(command)} within ${durationInWords(limit)}; ${ended}`,
    idle: `${server} sent nothing for ${durationInWords(limit)} while Mailferry waited for ${answerTo(command)}; ${ended}`,
    session: `${server} kept one session busy for more than ${durationInWords(limit)}; ${ended}`,
  };
  return new ImapLimitError(kind, side, command, limit, texts[kind]);
}

/** The name a command goes by in a reason: its first word, or the second after UID ("UID FETCH 1:* …" → "FETCH"). */
export function commandNameOf(text: string): string {
  const words = text.trimStart().split(/\s+/, 2).map((word) => word.toUpperCase());
  return (words[0] === 'UID' ? words[1] : words[0]) ?? 'a command';
}

/** How the parser a guard reads along with frames responses. */
export interface Framing {
  /** Lines end at CRLF (the raw readers), or at LF (imapflow). */
  lineEnd: 'crlf' | 'lf';
  /** Whether a `{N}` ends a literal marker on any line, or only within an untagged response. */
  literals: 'any' | 'untagged';
}

/** A command waiting for its tagged answer (see ImapResponseGuard.expect). */
export interface Expected {
  readonly name: string;
}

const CR = 0x0d;
const LF = 0x0a;
/** The end of a line kept to find a literal marker and its context ("BODY[] {123}"). */
const TAIL_BYTES = 256;
/** The start of a response kept to know its kind ("* 12 FETCH", "A4 OK", "+"). */
const HEAD_BYTES = 64;

/**
 * Reads along with a parser, keeping nothing but counters, the first bytes of the response
 * being read and the last bytes of its current line: throws an ImapLimitError as soon as the
 * server passes a limit. Knows which commands are waiting for an answer (`expect`), to name
 * the command and to count the untagged responses each gets.
 */
export class ImapResponseGuard {
  private readonly queue: Expected[] = [];
  private literalRemaining = 0;
  private lineBytes = 0;
  private tail = Buffer.alloc(0);
  private head = '';
  private headDone = false;
  private responseBytes = 0;
  private responseHasMessage = false;
  private untagged = 0;
  private answerBytes = 0;
  private greeted = false;
  private failure: ImapLimitError | null = null;
  /** When a response last completed (performance.now()). */
  lastResponseAt = performance.now();
  /** When a byte last arrived. */
  lastByteAt = performance.now();

  constructor(
    readonly limits: ImapLimits,
    readonly side: ImapSide | undefined,
    /** Changed when another parser takes over the connection (see RawImapConnection.takeOver). */
    public framing: Framing,
  ) {}

  get error(): ImapLimitError | null {
    return this.failure;
  }

  /** A command was sent (or is about to be): its tagged answer ends the untagged lines it gets. */
  expect(name: string): Expected {
    const entry = { name };
    this.queue.push(entry);
    return entry;
  }

  /** The command is over, answered or not: if its answer never came it no longer counts. */
  settle(entry: Expected) {
    const index = this.queue.indexOf(entry);
    if (index >= 0) this.queue.splice(index, 1);
  }

  /** Nothing is waiting any more (the owner knows better than a tag count). */
  clearExpected() {
    this.queue.length = 0;
  }

  get isExpecting(): boolean {
    return this.queue.length > 0;
  }

  /** The command whose answer is being read, as a reason names it. */
  currentCommand(): string {
    const expected = this.queue[0]?.name;
    if (expected) return expected;
    if (!this.greeted) return 'the greeting';
    const keyword = /^\* (?:\d+ )?([A-Za-z]+)/.exec(this.head)?.[1];
    return keyword ? keyword.toUpperCase() : 'a command';
  }

  /** Records and throws the limit error (the owner ends the connection). */
  fail(error: ImapLimitError): never {
    this.failure ??= error;
    throw this.failure;
  }

  private limit(kind: ImapLimitKind, limit: number, amount?: number): never {
    return this.fail(limitError(kind, this.side, this.currentCommand(), limit, amount));
  }

  /** Checks one chunk the parser is about to read; throws ImapLimitError when a limit is passed. */
  observe(chunk: Buffer) {
    if (this.failure) throw this.failure;
    this.lastByteAt = performance.now();
    let offset = 0;
    while (offset < chunk.length) {
      if (this.literalRemaining > 0) {
        const take = Math.min(this.literalRemaining, chunk.length - offset);
        this.literalRemaining -= take;
        offset += take;
        continue;
      }
      let end = chunk.indexOf(LF, offset);
      // With CRLF framing a bare LF belongs to the line (the raw readers do not end it there).
      while (end >= 0 && this.framing.lineEnd === 'crlf' && (end > offset ? chunk[end - 1] : this.tail.at(-1)) !== CR) end = chunk.indexOf(LF, end + 1);
      const stop = end < 0 ? chunk.length : end + 1;
      this.addToLine(chunk.subarray(offset, stop));
      offset = stop;
      if (end >= 0) this.lineEnded();
    }
  }

  private addToLine(piece: Buffer) {
    this.lineBytes += piece.length;
    if (!this.headDone && this.head.length < HEAD_BYTES) this.head += piece.toString('latin1', 0, Math.min(piece.length, HEAD_BYTES - this.head.length));
    this.tail = piece.length >= TAIL_BYTES ? Buffer.from(piece.subarray(piece.length - TAIL_BYTES)) : Buffer.concat([this.tail, piece]).subarray(-TAIL_BYTES);
    if (this.lineBytes > this.limits.maxLineBytes) this.limit('line', this.limits.maxLineBytes);
  }

  private lineEnded() {
    this.headDone = true;
    this.responseBytes += this.lineBytes;
    const text = this.tail.toString('latin1').replace(/\r?\n$/, '');
    this.lineBytes = 0;
    this.tail = Buffer.alloc(0);
    const isUntagged = this.head.startsWith('* ');
    const marker = this.framing.literals === 'any' || isUntagged ? /\{(\d+)(\+?)\}$/.exec(text) : null;
    if (marker && (marker[2] === '' || this.framing.lineEnd === 'crlf')) {
      const digits = marker[1]!.replace(/^0+(?=\d)/, '');
      const size = digits.length > 15 ? Number.POSITIVE_INFINITY : Number(digits);
      const isMessage = /^\* \d+ FETCH\b/i.test(this.head) && /(?:\]|RFC822(?:\.TEXT|\.HEADER)?)(?:<\d+>)? \{\d+\+?\}$/i.test(text);
      if (isMessage) {
        const cap = messageLiteralCap(this.limits);
        if (size > cap) this.limit('message', this.limits.maxMessageBytes, size);
        this.responseHasMessage = true;
      } else if (size > this.limits.maxLiteralBytes) this.limit('literal', this.limits.maxLiteralBytes, size);
      this.responseBytes += size;
      const responseCap = this.responseHasMessage ? messageLiteralCap(this.limits) + this.limits.maxResponseBytes : this.limits.maxResponseBytes;
      if (this.responseBytes > responseCap) this.limit('response', responseCap);
      this.literalRemaining = size;
      return;
    }
    this.responseEnded(isUntagged);
  }

  private responseEnded(isUntagged: boolean) {
    const command = this.currentCommand();
    if (!this.greeted) this.greeted = true;
    else if (isUntagged) {
      this.untagged++;
      const isFetch = command === 'FETCH';
      const cap = isFetch ? this.limits.maxFetchLines : this.limits.maxUntaggedLines;
      if (this.untagged > cap) this.limit('untagged', cap);
      if (!isFetch) {
        this.answerBytes += this.responseBytes;
        if (this.answerBytes > this.limits.maxAnswerBytes) this.limit('answer', this.limits.maxAnswerBytes);
      }
    } else if (!this.head.startsWith('+')) {
      // A tagged answer: the oldest waiting command is answered.
      this.queue.shift();
      this.untagged = 0;
      this.answerBytes = 0;
    }
    this.head = '';
    this.headDone = false;
    this.responseBytes = 0;
    this.responseHasMessage = false;
    this.lastResponseAt = performance.now();
  }
}

/**
 * The deadlines of one connection, checked once a second (never more often than a tenth of
 * the command deadline): while `isWaiting()` says a command waits for its answer, a response
 * must complete within `commandMs` and a byte arrive within `idleMs`; the session ends after
 * `sessionMs` whatever it does. `onExpired` ends the connection with the error.
 */
export class ImapDeadlines {
  private readonly timer: NodeJS.Timeout;
  private readonly startedAt = performance.now();
  private waitingSince: number | null = null;
  private held = false;

  constructor(
    private readonly guard: ImapResponseGuard,
    private readonly isWaiting: () => boolean,
    private readonly onExpired: (error: ImapLimitError) => void,
  ) {
    const limits = guard.limits;
    this.timer = setInterval(() => this.check(), Math.max(50, Math.min(1000, limits.commandMs / 10, limits.sessionMs / 10)));
    this.timer.unref();
  }

  /** While held (the copy itself stopped reading: its target is busy), the command clock stands still. */
  hold(held: boolean) {
    this.held = held;
    if (!held) this.waitingSince = performance.now();
  }

  stop() {
    clearInterval(this.timer);
  }

  private check() {
    const now = performance.now();
    const { limits } = this.guard;
    const expire = (kind: ImapLimitKind, limit: number) => {
      this.stop();
      const command = kind === 'session' ? 'its session' : this.guard.currentCommand();
      const error = this.guard.error ?? limitError(kind, this.guard.side, command, limit);
      try {
        this.guard.fail(error);
      } catch {
        // Recorded in the guard; the connection ends below.
      }
      this.onExpired(error);
    };
    if (now - this.startedAt > limits.sessionMs) return expire('session', limits.sessionMs);
    if (this.held || !this.isWaiting()) {
      this.waitingSince = null;
      return;
    }
    this.waitingSince ??= now;
    const since = Math.max(this.waitingSince, this.guard.lastResponseAt);
    if (now - since > limits.commandMs) return expire('command_deadline', limits.commandMs);
    if (now - Math.max(this.waitingSince, this.guard.lastByteAt) > limits.idleMs && limits.idleMs < limits.commandMs) return expire('idle', limits.idleMs);
  }
}
