import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ImapTestUser } from './imap-server';

/*
 * A raw IMAP session: for the server helpers' admin work and for tests that need to see the
 * exact protocol (what imapflow hides: unquoted names, untagged ALERTs, NO texts).
 */

export interface RawResponse {
  /** The tagged line without the tag, e.g. `OK Completed` or `NO [CANNOT] Invalid mailbox name`. */
  status: string;
  /** Untagged and continuation lines before it, literals inlined. */
  lines: string[];
}

export interface RawImapSession {
  /** The server's first line. */
  greeting: string;
  /** Sends `TAG <command>\r\n` and resolves with the tagged answer (also when it is NO/BAD). */
  command(command: string): Promise<RawResponse>;
  /** APPEND with a synchronizing literal (every server supports it, unlike LITERAL+). */
  append(mailbox: string, message: Buffer | string, flags?: string[]): Promise<RawResponse>;
  close(): void;
}

/** Quotes an IMAP string (names with spaces, `%`, `~`, quotes). */
export function quoteImap(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export async function openRawImap(
  host: string,
  port: number,
  login?: ImapTestUser,
  options: { timeoutMs?: number } = {},
): Promise<RawImapSession> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const socket: Socket = connect({ host, port });
  let buffer = Buffer.alloc(0);
  let closed: Error | undefined;
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    wake?.();
  });
  socket.on('error', (error) => {
    closed = error;
    wake?.();
  });
  socket.on('close', () => {
    closed ??= new Error(`${host}:${port} closed the connection`);
    wake?.();
  });

  const waitForData = async (deadline: number) => {
    if (closed) throw closed;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`);
    await Promise.race([new Promise<void>((resolve) => (wake = resolve)), sleep(Math.min(remaining, 250))]);
    wake = undefined;
  };

  /** One logical line: literals `{n}\r\n<n bytes>` are kept inline. */
  const readLine = async (deadline: number): Promise<string> => {
    let consumed = 0;
    for (;;) {
      const end = buffer.indexOf('\r\n', consumed);
      if (end < 0) {
        await waitForData(deadline);
        continue;
      }
      const literal = /\{(\d+)\+?\}$/.exec(buffer.subarray(consumed, end).toString('latin1'));
      if (literal) {
        const need = end + 2 + Number(literal[1]);
        while (buffer.length < need) await waitForData(deadline);
        consumed = need;
        continue;
      }
      const line = buffer.subarray(0, end).toString('utf8');
      buffer = buffer.subarray(end + 2);
      return line;
    }
  };

  const greeting = await readLine(Date.now() + timeoutMs).catch((error: unknown) => {
    socket.destroy();
    throw error;
  });
  let counter = 0;

  const readUntilTagged = async (tag: string, lines: string[], onContinuation?: () => void): Promise<RawResponse> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = await readLine(deadline);
      if (line.startsWith(`${tag} `)) return { status: line.slice(tag.length + 1), lines };
      if (line.startsWith('+') && onContinuation) {
        onContinuation();
        onContinuation = undefined;
        continue;
      }
      lines.push(line);
    }
  };

  const session: RawImapSession = {
    greeting,
    command(command) {
      const tag = `r${++counter}`;
      socket.write(`${tag} ${command}\r\n`);
      return readUntilTagged(tag, []);
    },
    async append(mailbox, message, flags = []) {
      const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
      const tag = `r${++counter}`;
      socket.write(`${tag} APPEND ${quoteImap(mailbox)} (${flags.join(' ')}) {${bytes.length}}\r\n`);
      return readUntilTagged(tag, [], () => socket.write(Buffer.concat([bytes, Buffer.from('\r\n')])));
    },
    close() {
      socket.destroy();
    },
  };
  if (login) {
    // Courier's imaplogin execs imapd after LOGIN and drops whatever was sent with it: never
    // pipeline behind LOGIN.
    const answer = await session.command(`LOGIN ${quoteImap(login.username)} ${quoteImap(login.password)}`);
    if (!answer.status.startsWith('OK')) {
      socket.destroy();
      throw new Error(`LOGIN ${login.username} on ${host}:${port}: ${answer.status}`);
    }
  }
  return session;
}

/** Runs one raw command and throws unless the server answers OK. */
export async function expectOk(session: RawImapSession, command: string): Promise<RawResponse> {
  const answer = await session.command(command);
  if (!answer.status.startsWith('OK')) throw new Error(`${command}: ${answer.status}`);
  return answer;
}

/** Resolves once the server greets with `* OK`, polling until `timeoutMs`. */
export async function waitForImapGreeting(
  host: string,
  port: number,
  timeoutMs: number,
  hasExited: () => boolean,
): Promise<true | string> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no attempt';
  while (Date.now() < deadline) {
    if (hasExited()) return 'the server process exited';
    try {
      const session = await openRawImap(host, port, undefined, { timeoutMs: 2_000 });
      session.close();
      if (!session.greeting.startsWith('* OK')) return `unexpected greeting ${JSON.stringify(session.greeting)}`;
      return true;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
      await sleep(50);
    }
  }
  return `no greeting on ${host}:${port} within ${timeoutMs} ms (last error: ${lastError})`;
}
