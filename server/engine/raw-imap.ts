import net from 'node:net';
import tls from 'node:tls';
import type { ImapAuth } from '../accounts/imap/imap-connector';
import { resolveTarget, tlsOptions, type Lookup, type NetworkPolicy } from '../accounts/network/host-policy';
import type { MailServer } from '../accounts/server-address';
import { ConnectorError } from '../accounts/types';
import { commandNameOf, defaultImapLimits, ImapDeadlines, ImapLimitError, ImapResponseGuard, type Framing, type ImapLimits, type ImapSide } from './imap-limits';
import { encodeMutf7 } from './mutf7';

/**
 * A bare IMAP connection for the bulk data path (pipelined APPEND, streamed FETCH), where
 * imapflow's one-command-at-a-time model and its general response parser cost more than the
 * copy itself. It only logs in (the same host policy, TLS rules and credentials as imapflow's
 * connections); after that a consumer takes over the raw bytes with `takeOver`. Anything the
 * login does not manage (no STARTTLS where it is required, an unknown mechanism) gives null and
 * the caller keeps using imapflow.
 */
export class RawImapConnection {
  private readonly reader = new LineReader((line, literals) => {
    const waiter = this.lineWaiter;
    this.lineWaiter = null;
    if (waiter) waiter.resolve({ line, literals });
    else this.lines.push({ line, literals });
  });
  private readonly lines: ServerResponse[] = [];
  /**
   * The one reader waiting for a line. Settled by the reader or by `fail`/`end`: a listener on
   * the socket per wait would pile up (thousands of lines, thousands of 'close' listeners).
   */
  private lineWaiter: { resolve: (response: ServerResponse) => void; reject: (error: Error) => void } | null = null;
  private handler: ((chunk: Buffer) => void) | null = null;
  private readonly failureListeners: ((error: Error) => void)[] = [];
  private nextTag = 1;
  private closedFlag = false;
  private failure: Error | null = null;
  /** Upper-cased capability words, as announced after the login. */
  capabilities = new Set<string>();
  /** Reads along with every parser of this connection (see imap-limits.ts). */
  readonly guard: ImapResponseGuard;
  private readonly deadlines: ImapDeadlines;
  /** Whether a command waits for its answer: `commands` until `takeOver`, then the consumer's. */
  private waiting: () => boolean = () => this.inCommands > 0 || this.lineWaiter !== null;
  private inCommands = 0;

  constructor(
    private socketRef: net.Socket | tls.TLSSocket,
    options: { limits?: ImapLimits; side?: ImapSide } = {},
  ) {
    // Framed as LineReader frames: lines end at CRLF, literals only in untagged responses.
    this.guard = new ImapResponseGuard(options.limits ?? defaultImapLimits(), options.side, { lineEnd: 'crlf', literals: 'untagged' });
    this.deadlines = new ImapDeadlines(
      this.guard,
      () => {
        const waiting = this.waiting();
        if (!waiting) this.guard.clearExpected();
        return waiting;
      },
      (error) => this.fail(error),
    );
    this.attach(socketRef);
  }

  /** The command `text` (or the one named) was sent: see ImapResponseGuard.expect. */
  expect(text: string) {
    return this.guard.expect(commandNameOf(text));
  }

  /** While the copy holds reading (its target is busy), the command deadline stands still. */
  holdDeadlines(held: boolean) {
    this.deadlines.hold(held);
  }

  get socket(): net.Socket | tls.TLSSocket {
    return this.socketRef;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  get error(): Error {
    return this.failure ?? Object.assign(new Error('Connection closed'), { code: 'NoConnection' });
  }

  tag(prefix: string): string {
    return `${prefix}${this.nextTag++}`;
  }

  /** Called once, when the connection fails or closes. */
  onFailure(listener: (error: Error) => void) {
    this.failureListeners.push(listener);
  }

  private attach(socket: net.Socket | tls.TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      if (this.closedFlag) return;
      try {
        this.guard.observe(chunk);
      } catch (error) {
        // Past a limit: not one more byte of this server is read.
        this.fail(error as Error);
        return;
      }
      if (this.handler) this.handler(chunk);
      else this.reader.push(chunk);
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(Object.assign(new Error('Connection closed'), { code: 'NoConnection' })));
  }

  /** Before STARTTLS: the TLS layer reads the raw socket from now on, not us. */
  detach(): net.Socket | tls.TLSSocket {
    this.socketRef.removeAllListeners('data');
    this.socketRef.removeAllListeners('close');
    this.socketRef.removeAllListeners('error');
    return this.socketRef;
  }

  attachSecured(socket: tls.TLSSocket) {
    this.socketRef = socket;
    this.attach(socket);
  }

  fail(error: Error) {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.failure = error;
    this.deadlines.stop();
    this.rejectWaiter();
    for (const listener of this.failureListeners.splice(0)) listener(error);
    this.socketRef.destroy();
  }

  /** Ends the session politely; whatever is still in flight has been settled by the caller. */
  end() {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.failure = Object.assign(new Error('Connection closed'), { code: 'NoConnection' });
    this.deadlines.stop();
    this.rejectWaiter();
    this.socketRef.end('Z LOGOUT\r\n');
  }

  private rejectWaiter() {
    const waiter = this.lineWaiter;
    this.lineWaiter = null;
    waiter?.reject(this.error);
  }

  /**
   * From now on every byte the server sends goes to `handler` (bytes already read first);
   * `isWaiting` says when a command waits for its answer, for the deadlines.
   */
  takeOver(handler: (chunk: Buffer) => void, isWaiting: () => boolean, framing?: Framing) {
    this.handler = handler;
    this.waiting = isWaiting;
    if (framing) this.guard.framing = framing;
    const rest = this.reader.rest();
    if (rest.length > 0) handler(rest);
  }

  /** The next line the server sends (only before `takeOver`); see `nextResponse` for its literals. */
  async nextLine(): Promise<string> {
    return (await this.nextResponse()).line;
  }

  /** The next response the server sends, literals and all (only before `takeOver`). */
  nextResponse(): Promise<ServerResponse> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closedFlag) return Promise.reject(this.error);
    if (this.lineWaiter) return Promise.reject(new Error('Another read is waiting on this connection.'));
    return new Promise((resolve, reject) => {
      this.lineWaiter = { resolve, reject };
    });
  }

  /** Sends a command and waits for its tagged answer, collecting untagged lines (only before `takeOver`). */
  async command(text: string): Promise<RawAnswer> {
    return (await this.commands([text]))[0]!;
  }

  /**
   * Sends the commands at once and collects each one's answer, in order: the untagged lines
   * before a tagged answer belong to that command (only before `takeOver`).
   */
  async commands(texts: readonly string[]): Promise<RawAnswer[]> {
    const tags = texts.map(() => this.tag('P'));
    const expected = texts.map((text) => this.expect(text));
    this.inCommands++;
    try {
      this.socketRef.write(texts.map((text, i) => `${tags[i]} ${text}\r\n`).join(''));
      return await this.answers(tags);
    } finally {
      this.inCommands--;
      for (const entry of expected) this.guard.settle(entry);
    }
  }

  private async answers(tags: string[]): Promise<RawAnswer[]> {
    const answers: RawAnswer[] = [];
    for (const tag of tags) {
      const untagged: string[] = [];
      const literals: Buffer[][] = [];
      for (;;) {
        const { line, literals: own } = await this.nextResponse();
        if (line.startsWith(`${tag} `)) {
          const [, status = '', rest = ''] = /^\S+ (\S+) ?(.*)$/.exec(line) ?? [];
          answers.push({ status: status.toUpperCase(), text: rest, untagged, literals });
          break;
        }
        // Untagged lines of any kind (`* OK [ALERT] …`, `* NO [ALERT] …` included) are
        // information, never the command's answer.
        untagged.push(line);
        literals.push(own);
      }
    }
    return answers;
  }
}

export interface RawAnswer {
  /** OK, NO or BAD. */
  status: string;
  /** The rest of the tagged line, response code included ("[ALREADYEXISTS] Mailbox exists"). */
  text: string;
  /** Untagged lines, each literal in them replaced by LITERAL_MARK. */
  untagged: string[];
  /** The literals of each untagged line, in order (most lines have none). */
  literals: Buffer[][];
}

/** A response as the reader gives it: its text with LITERAL_MARK for each literal, and their bytes. */
export interface ServerResponse {
  line: string;
  literals: Buffer[];
}

/** Where a literal stood in a response's text (NUL cannot occur in IMAP text). */
export const LITERAL_MARK = '\u0000';

/** Literals larger than this are counted but not kept: no name or answer of ours is that long. */
const MAX_KEPT_LITERAL = 1024 * 1024;

/**
 * Splits what a server sends into responses: a line, or an untagged response whose literals
 * (a folder name in LIST, LSUB or STATUS that the server chose to send as `{N}`) are read as
 * part of it. The text keeps LITERAL_MARK where each literal stood, and the bytes come with it.
 * Tagged answers and continuation requests carry no literals (RFC 9051 §7), so a `{5}` at the
 * end of their human text is not one.
 */
export class LineReader {
  private buffer: Buffer = Buffer.alloc(0);
  private literalRemaining = 0;
  /** The response being read, when a literal interrupted it; `current` gathers the literal's pieces. */
  private partial: { text: string; literals: Buffer[]; current: Buffer[]; isKept: boolean } | null = null;

  constructor(private readonly onLine: (line: string, literals: Buffer[]) => void) {}

  push(chunk: Buffer) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const partial = this.partial;
      if (this.literalRemaining > 0) {
        const take = Math.min(this.literalRemaining, this.buffer.length);
        if (partial?.isKept) partial.current.push(Buffer.from(this.buffer.subarray(0, take)));
        this.buffer = this.buffer.subarray(take);
        this.literalRemaining -= take;
        if (this.literalRemaining > 0) return;
        if (partial) {
          partial.literals.push(Buffer.concat(partial.current));
          partial.current = [];
        }
      }
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) return;
      const segment = this.buffer.subarray(0, end).toString('utf8');
      this.buffer = this.buffer.subarray(end + 2);
      const literal = partial !== null || segment.startsWith('* ') ? /\{(\d+)\+?\}$/.exec(segment) : null;
      if (literal) {
        const size = Number(literal[1]);
        this.partial = {
          text: `${partial?.text ?? ''}${segment.slice(0, literal.index)}${LITERAL_MARK}`,
          literals: partial?.literals ?? [],
          current: [],
          isKept: size <= MAX_KEPT_LITERAL,
        };
        this.literalRemaining = size;
        if (size === 0) this.partial.literals.push(Buffer.alloc(0));
        continue;
      }
      this.partial = null;
      if (partial) this.onLine(partial.text + segment, partial.literals);
      else this.onLine(segment, []);
    }
  }

  /** Bytes read but not split into lines yet; the reader is empty afterwards. */
  rest(): Buffer {
    const rest = this.buffer;
    this.buffer = Buffer.alloc(0);
    return rest;
  }
}

/**
 * A mailbox name as an IMAP quoted string, in modified UTF-7 (RFC 3501 §5.1.3), for every
 * command that names one. Never an atom: Courier refuses an unquoted name containing `~`, and
 * `% * ( ) { ] "` or a space would end or change an atom anyway. The engine never enables
 * UTF8=ACCEPT (on Courier that would drop every later session without it), so names go in
 * modified UTF-7, which also encodes every control character (CR, LF, NUL, TAB) and anything
 * beyond ASCII: what is left is printable ASCII, which a quoted string holds with `"` and `\`
 * escaped, whatever its length.
 */
export function quoteMailbox(path: string): string {
  const encoded = encodeMutf7(path);
  if (!/^[\x20-\x7e]*$/.test(encoded)) throw new Error(`A mailbox name that modified UTF-7 left unquotable: ${JSON.stringify(path)}`);
  return `"${encoded.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The capabilities a line announces ("* CAPABILITY …", or a "[CAPABILITY …]" code), upper-case. */
function capabilitiesIn(lines: string[]): string | null {
  for (const line of lines) {
    const match = /^\* CAPABILITY (.*)$/i.exec(line) ?? /\[CAPABILITY ([^\]]*)\]/i.exec(line);
    if (match) return match[1]!.toUpperCase();
  }
  return null;
}

function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function sasl(...parts: string[]): string {
  return Buffer.from(parts.join('\x00')).toString('base64');
}

async function connectSocket(options: { address: string; port: number; secure: boolean; tls: tls.ConnectionOptions; timeoutMs: number }): Promise<net.Socket | tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = options.secure
      ? tls.connect({ host: options.address, port: options.port, ...options.tls })
      : net.connect({ host: options.address, port: options.port });
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error('Connection timed out'), { code: 'ETIMEDOUT' })), options.timeoutMs);
    socket.once(options.secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      // Commands are small writes that wait for an answer (a literal's continuation most of
      // all): Nagle's algorithm would hold each one back for the server's delayed ACK, about
      // 40 ms per message on a server without LITERAL+.
      socket.setNoDelay(true);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export interface RawImapOptions {
  server: MailServer;
  auth: ImapAuth;
  policy: NetworkPolicy;
  lookup?: Lookup;
  timeoutMs?: number;
  /** What the server may send (see imap-limits.ts); the message size limit most of all. */
  limits?: ImapLimits;
  /** Which account this connection belongs to, for the reason a limit gives. */
  side?: ImapSide;
}

/**
 * A logged-in raw connection to `server`, or null when this client cannot do what the server
 * needs (imapflow then does it). Connection problems throw, as imapflow's would.
 */
export async function openRawImap(options: RawImapOptions): Promise<RawImapConnection | null> {
  const target = await resolveTarget(options.policy, options.server.host, options.server.port, { lookup: options.lookup });
  const tlsConfig = tlsOptions(options.policy, target);
  const timeoutMs = options.timeoutMs ?? 20_000;
  const secure = options.server.security === 'tls';
  const socket = await connectSocket({ address: target.address, port: options.server.port, secure, tls: { ...tlsConfig, minVersion: 'TLSv1.2' }, timeoutMs });
  const connection = new RawImapConnection(socket, { ...(options.limits ? { limits: options.limits } : {}), ...(options.side ? { side: options.side } : {}) });
  const giveUp = () => {
    connection.fail(Object.assign(new Error('Connection closed'), { code: 'NoConnection' }));
    return null;
  };
  try {
    const greeting = await connection.nextLine();
    if (!/^\* OK\b/i.test(greeting)) return giveUp();
    const askCapabilities = async () => capabilitiesIn((await connection.command('CAPABILITY')).untagged) ?? '';
    let capabilities = capabilitiesIn([greeting]) ?? (await askCapabilities());
    if (!secure) {
      if (capabilities.includes('STARTTLS')) {
        if ((await connection.command('STARTTLS')).status !== 'OK') return giveUp();
        const raw = connection.detach();
        const upgraded = await new Promise<tls.TLSSocket>((resolve, reject) => {
          const secured = tls.connect({ socket: raw, ...tlsConfig, minVersion: 'TLSv1.2' }, () => resolve(secured));
          secured.once('error', reject);
        });
        connection.attachSecured(upgraded);
        // What the server said before TLS does not count (RFC 3501 6.2.1).
        capabilities = await askCapabilities();
      } else if (!target.isInsecure) {
        return giveUp();
      }
    }
    const auth = options.auth;
    const login =
      'accessToken' in auth
        ? await connection.command(`AUTHENTICATE XOAUTH2 ${Buffer.from(`user=${auth.user}\x01auth=Bearer ${auth.accessToken}\x01\x01`).toString('base64')}`)
        : capabilities.includes('AUTH=PLAIN') && capabilities.includes('SASL-IR')
          ? await connection.command(`AUTHENTICATE PLAIN ${sasl('', auth.user, auth.pass)}`)
          : /[\r\n\x00]/.test(auth.user + auth.pass)
            ? null
            : await connection.command(`LOGIN ${quote(auth.user)} ${quote(auth.pass)}`);
    if (!login || login.status !== 'OK') return giveUp();
    // Most servers name their capabilities after login in the answer to it.
    const after = capabilitiesIn([...login.untagged, login.text]) ?? (await askCapabilities());
    connection.capabilities = new Set(after.split(/\s+/).filter((word) => word && word !== '*' && word !== 'CAPABILITY'));
    return connection;
  } catch (error) {
    connection.fail(error as Error);
    // A server past a limit is no server imapflow should try either.
    if (error instanceof ConnectorError || error instanceof ImapLimitError) throw error;
    return null;
  }
}
