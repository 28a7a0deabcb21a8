import net from 'node:net';
import tls from 'node:tls';
import type { ImapAuth } from '../accounts/imap/imap-connector';
import { resolveTarget, tlsOptions, type Lookup, type NetworkPolicy } from '../accounts/network/host-policy';
import type { MailServer } from '../accounts/server-address';
import { ConnectorError } from '../accounts/types';
import { encodeMutf7 } from './mutf7';

/**
 * An IMAP connection that only APPENDs, and keeps many APPENDs in flight: with LITERAL+
 * (RFC 7888) a message is sent without waiting for the server's continuation, so the
 * connection streams messages the way `mbsync` pipelines them instead of paying a round trip
 * for each. imapflow runs one command at a time per connection, which caps a copy at a few
 * hundred small messages per second. Servers without LITERAL+ get null and imapflow is used.
 */
export interface Appender {
  readonly usable: boolean;
  append(path: string, content: Buffer, flags: string[], internalDate?: Date): Promise<void>;
  close(): Promise<void>;
}

interface Pending {
  resolve(): void;
  reject(error: Error): void;
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

/** A mailbox name as an IMAP quoted string (modified UTF-7 for non-ASCII). */
export function quoteMailbox(path: string): string {
  return `"${encodeMutf7(path).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const FLAG = /^\\?[!#$%&'*+\-.0-9:<=>?@A-Z^_`a-z|}~]+$/;

class Connection implements Appender {
  private buffer: Buffer = Buffer.alloc(0);
  /** Until the login is done, lines are read one by one; then only tagged APPEND answers matter. */
  private isPipelining = false;
  private readonly lines: string[] = [];
  private literalRemaining = 0;
  private readonly pending = new Map<string, Pending>();
  private lineWaiter: ((line: string) => void) | null = null;
  private nextTag = 1;
  private closed = false;
  private failure: Error | null = null;
  private idleWaiters: (() => void)[] = [];
  capabilities = new Set<string>();

  constructor(private socket: net.Socket | tls.TLSSocket) {
    this.attach(socket);
  }

  get usable(): boolean {
    return !this.closed;
  }

  private attach(socket: net.Socket | tls.TLSSocket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(Object.assign(new Error('Connection closed'), { code: 'NoConnection' })));
  }

  /** Before STARTTLS: the TLS layer reads the raw socket from now on, not us. */
  detach(): net.Socket | tls.TLSSocket {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    this.socket.removeAllListeners('error');
    return this.socket;
  }

  attachSecured(socket: tls.TLSSocket) {
    this.socket = socket;
    this.attach(socket);
  }

  private fail(error: Error) {
    if (this.closed) return;
    this.closed = true;
    this.failure = error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    for (const wake of this.idleWaiters.splice(0)) wake();
    this.socket.destroy();
  }

  private onData(chunk: Buffer) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (this.literalRemaining > 0) {
        const take = Math.min(this.literalRemaining, this.buffer.length);
        this.buffer = this.buffer.subarray(take);
        this.literalRemaining -= take;
        if (this.literalRemaining > 0) return;
      }
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) return;
      const line = this.buffer.subarray(0, end).toString('utf8');
      this.buffer = this.buffer.subarray(end + 2);
      // An untagged response may carry a literal; skip its bytes.
      const literal = /\{(\d+)\+?\}$/.exec(line);
      if (literal) this.literalRemaining = Number(literal[1]);
      this.onLine(line);
    }
  }

  private onLine(line: string) {
    if (!this.isPipelining) {
      const waiter = this.lineWaiter;
      this.lineWaiter = null;
      if (waiter) waiter(line);
      else this.lines.push(line);
      return;
    }
    const match = /^(\S+) (OK|NO|BAD)\b ?(?:\[([^\]\s]+)[^\]]*\] ?)?(.*)$/i.exec(line);
    if (!match || match[1] === '*' || match[1] === '+') return;
    const pending = this.pending.get(match[1]!);
    if (!pending) return;
    this.pending.delete(match[1]!);
    if (this.pending.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    const status = match[2]!.toUpperCase();
    if (status === 'OK') pending.resolve();
    else pending.reject(new AppendRejectedError(status as 'NO' | 'BAD', match[4] ?? '', match[3]?.toUpperCase()));
  }

  /** The next line the server sends (only used before pipelining starts). */
  nextLine(): Promise<string> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(this.failure ?? new Error('Connection closed'));
    return new Promise((resolve, reject) => {
      this.lineWaiter = resolve;
      this.socket.once('close', () => reject(this.failure ?? new Error('Connection closed')));
    });
  }

  startPipelining() {
    this.isPipelining = true;
  }

  /** Sends a command and waits for its tagged answer, collecting untagged lines. */
  async command(text: string): Promise<{ status: string; text: string; untagged: string[] }> {
    const tag = `P${this.nextTag++}`;
    this.socket.write(`${tag} ${text}\r\n`);
    const untagged: string[] = [];
    for (;;) {
      const line = await this.nextLine();
      if (line.startsWith(`${tag} `)) {
        const [, status = '', rest = ''] = /^\S+ (\S+) ?(.*)$/.exec(line) ?? [];
        return { status: status.toUpperCase(), text: rest, untagged };
      }
      untagged.push(line);
    }
  }

  async append(path: string, content: Buffer, flags: string[], internalDate?: Date): Promise<void> {
    if (this.closed) throw this.failure ?? Object.assign(new Error('Connection closed'), { code: 'NoConnection' });
    const tag = `A${this.nextTag++}`;
    const flagList = flags.filter((f) => FLAG.test(f)).join(' ');
    const date = internalDate ? ` "${imapDate(internalDate)}"` : '';
    const done = new Promise<void>((resolve, reject) => this.pending.set(tag, { resolve, reject }));
    // Three writes in one cork, not a concatenation: no second copy of every message.
    this.socket.cork();
    this.socket.write(`${tag} APPEND ${quoteMailbox(path)} (${flagList})${date} {${content.length}+}\r\n`);
    this.socket.write(content);
    const flushed = this.socket.write('\r\n');
    this.socket.uncork();
    if (!flushed) await new Promise<void>((resolve) => this.socket.once('drain', resolve));
    await done;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Answers still in flight arrive first; LOGOUT is a courtesy the server does not need.
    if (this.pending.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.closed = true;
    this.socket.end('Z LOGOUT\r\n');
  }
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
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * A pipelining appender to `server`, logged in, or null when the server cannot pipeline
 * (no LITERAL+) or the login needs something only imapflow does.
 */
export async function connectPipelinedAppender(options: {
  server: MailServer;
  auth: ImapAuth;
  policy: NetworkPolicy;
  lookup?: Lookup;
  timeoutMs?: number;
}): Promise<Appender | null> {
  const target = await resolveTarget(options.policy, options.server.host, options.server.port, { lookup: options.lookup });
  const tlsConfig = tlsOptions(options.policy, target);
  const timeoutMs = options.timeoutMs ?? 20_000;
  const secure = options.server.security === 'tls';
  const socket = await connectSocket({ address: target.address, port: options.server.port, secure, tls: { ...tlsConfig, minVersion: 'TLSv1.2' }, timeoutMs });
  const connection = new Connection(socket);
  const giveUp = async () => {
    socket.destroy();
    return null;
  };
  try {
    const greeting = await connection.nextLine();
    if (!/^\* OK\b/i.test(greeting)) return giveUp();
    let capabilities = (await connection.command('CAPABILITY')).untagged.join(' ').toUpperCase();
    if (!secure) {
      if (capabilities.includes('STARTTLS')) {
        if ((await connection.command('STARTTLS')).status !== 'OK') return giveUp();
        const raw = connection.detach();
        const upgraded = await new Promise<tls.TLSSocket>((resolve, reject) => {
          const secured = tls.connect({ socket: raw, ...tlsConfig, minVersion: 'TLSv1.2' }, () => resolve(secured));
          secured.once('error', reject);
        });
        connection.attachSecured(upgraded);
        capabilities = (await connection.command('CAPABILITY')).untagged.join(' ').toUpperCase();
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
            : await connection.command(`LOGIN "${auth.user.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}" "${auth.pass.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
    if (!login || login.status !== 'OK') return giveUp();
    const after = (await connection.command('CAPABILITY')).untagged.join(' ').toUpperCase();
    if (!/\bLITERAL\+/.test(after)) return giveUp();
    connection.startPipelining();
    return connection;
  } catch (error) {
    socket.destroy();
    if (error instanceof ConnectorError) throw error;
    return null;
  }
}
