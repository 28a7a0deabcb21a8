import type { ImapFlow } from 'imapflow';
import { byteLength, type Appender } from './pipelined-appender';

/** imapflow as an Appender, for servers that cannot pipeline. */
export function imapflowAppender(client: ImapFlow): Appender {
  return {
    get usable() {
      return client.usable;
    },
    get reportsUids() {
      return client.capabilities.has('UIDPLUS');
    },
    flush() {
      // Each append is its own command.
    },
    heldBytes: 0,
    append: async (path, content, flags, internalDate) => {
      const result = await client.append(path, content.length === 1 ? content[0]! : Buffer.concat(content), flags, internalDate);
      return result && typeof result.uid === 'number' ? result.uid : null;
    },
    close: async () => {
      await client.logout().catch(() => client.close());
    },
  };
}

/**
 * Target connections that only APPEND (nothing selected, so no EXISTS bookkeeping). A message
 * goes to the usable connection with the fewest bytes queued; `append` waits while the bytes
 * in flight exceed the budget, so memory stays bounded by the budget plus one message. The
 * connection list may be refilled by the owner after a connection died.
 */
export class AppenderPool {
  private readonly queued = new Map<Appender, number>();
  private inFlightBytes = 0;
  private waiters: (() => void)[] = [];
  private readonly slots = new Map<string, number>();

  private slotOf(path: string): number {
    let slot = this.slots.get(path);
    if (slot === undefined) {
      slot = this.slots.size;
      this.slots.set(path, slot);
    }
    return slot;
  }

  /** Whether every connection names the UIDs of what it stored (UIDPLUS). */
  get reportsUids(): boolean {
    return this.connections.length > 0 && this.connections.every((c) => c.reportsUids);
  }

  constructor(
    private readonly connections: Appender[],
    private readonly maxBytesInFlight: number,
  ) {}

  /**
   * Undefined while the bytes in flight are below the budget, else a promise that resolves
   * once they are: a reader can stop reading meanwhile.
   */
  room(): Promise<void> | undefined {
    if (this.inFlightBytes < this.maxBytesInFlight) return undefined;
    this.flushIfStuck();
    return new Promise<void>((resolve) => this.waiters.push(resolve)).then(() => this.room());
  }

  /**
   * Room comes from answers to commands already ended. When half of what is in flight is
   * still held back in open MULTIAPPENDs, those end now: otherwise nothing might make room.
   */
  private flushIfStuck() {
    let held = 0;
    for (const connection of this.connections) held += connection.heldBytes;
    if (held * 2 >= this.inFlightBytes) this.flush();
  }

  /** Sends what the connections hold back (see Appender.flush). */
  flush() {
    for (const connection of this.connections) connection.flush();
  }

  async append(path: string, content: readonly Buffer[], flags: string[], internalDate?: Date): Promise<number | null> {
    const size = byteLength(content);
    while (this.inFlightBytes > 0 && this.inFlightBytes + size > this.maxBytesInFlight) {
      this.flushIfStuck();
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    const usable = this.connections.filter((c) => c.usable);
    if (usable.length === 0) throw Object.assign(new Error('No target connection is open'), { code: 'NoConnection' });
    // One connection per folder: appends into one mailbox from several sessions fight over
    // its index lock on the server (Dovecot's dovecot-uidlist), while different folders on
    // different connections proceed in parallel.
    const chosen = usable[this.slotOf(path) % usable.length]!;
    const weight = size + 4096;
    this.queued.set(chosen, (this.queued.get(chosen) ?? 0) + weight);
    this.inFlightBytes += size;
    try {
      return await chosen.append(path, content, flags, internalDate);
    } finally {
      this.queued.set(chosen, (this.queued.get(chosen) ?? 0) - weight);
      this.inFlightBytes -= size;
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }
}
