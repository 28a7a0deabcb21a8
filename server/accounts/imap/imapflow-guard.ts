import type { ImapFlow } from 'imapflow';
import { ImapDeadlines, ImapLimitError, ImapResponseGuard, messageLiteralCap, type ImapLimits, type ImapSide } from '../../engine/imap-limits';

/**
 * imapflow's connections bounded as the raw readers are (see engine/imap-limits.ts).
 *
 * imapflow 2.10 has byte limits of its own (maxLineLength, maxLiteralSize, maxResponseSize,
 * 1 GB by default) but one literal limit for every context, no limit on the number of
 * untagged responses a command gets, and only an inactivity timeout, which a server dripping
 * a byte a second never meets. So the same guard the raw readers use reads along with its
 * parser: every socket, TLS and (with COMPRESS) inflated chunk reaches the parser through
 * `_transform` of its ImapStream (`client.streamer`, assigned once in the constructor and
 * piped into on connect, STARTTLS and COMPRESS alike), and the guard sees each chunk first.
 * Past a limit the chunk is dropped and the connection closed, so the parser never buffers
 * it. Every command goes through `exec`, which tells the guard which command waits for an
 * answer; a command that fails because the guard closed the connection fails with the
 * guard's ImapLimitError and its plain reason. imapflow's own byte limits stay set, above
 * the guard's, as a second line.
 */
export function imapflowLimitOptions(limits: ImapLimits) {
  const message = messageLiteralCap(limits);
  return {
    maxLineLength: 2 * limits.maxLineBytes,
    maxLiteralSize: 2 * message,
    maxResponseSize: 2 * (message + limits.maxResponseBytes),
  };
}

interface GuardedInternals {
  streamer: { _transform: (chunk: Buffer, encoding: BufferEncoding, next: (error?: Error | null) => void) => void };
  exec(command: string, attributes?: unknown, options?: unknown): Promise<unknown>;
  run(command: string, ...args: unknown[]): Promise<unknown>;
}

/** The guard of a guarded client, for tests and for reasons read after the fact. */
const guards = new WeakMap<ImapFlow, ImapResponseGuard>();

/** The limit a client's server passed, if any. */
export function limitErrorOf(client: ImapFlow): ImapLimitError | null {
  return guards.get(client)?.error ?? null;
}

/** Puts the guard and the deadlines on a client before it connects. */
export function guardImapFlow(client: ImapFlow, limits: ImapLimits, side: ImapSide | undefined): void {
  const internals = client as unknown as GuardedInternals;
  const guard = new ImapResponseGuard(limits, side, { lineEnd: 'lf', literals: 'any' });
  guards.set(client, guard);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    deadlines.stop();
    // Not one more byte is parsed; what waits for an answer fails (with the reason, below).
    client.close();
  };
  const deadlines = new ImapDeadlines(guard, () => guard.isExpecting, stop);
  client.on('close', () => deadlines.stop());

  const streamer = internals.streamer;
  const transform = streamer._transform.bind(streamer);
  streamer._transform = (chunk, encoding, next) => {
    if (stopped) return next();
    try {
      guard.observe(chunk);
    } catch {
      stop();
      return next();
    }
    transform(chunk, encoding, next);
  };

  const exec = internals.exec.bind(client);
  internals.exec = async (command, attributes, options) => {
    if (guard.error) throw guard.error;
    const entry = guard.expect(command.toUpperCase().replace(/^UID /, ''));
    try {
      return await exec(command, attributes, options);
    } catch (error) {
      throw guard.error ?? error;
    } finally {
      guard.settle(entry);
    }
  };
  // Commands may wrap what exec threw; the reason wins over the wrapper.
  const run = internals.run.bind(client);
  internals.run = async (command, ...args) => {
    try {
      return await run(command, ...args);
    } catch (error) {
      throw guard.error ?? error;
    }
  };
}
