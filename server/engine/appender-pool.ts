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
      // Courier refuses APPEND into the mailbox the session has EXAMINEd ("Current box is
      // selected READ-ONLY"). CLOSE after EXAMINE removes nothing (RFC 3501 §6.4.2), and Courier
      // has no UNSELECT. A SELECTed folder stays open: CLOSE there would expunge.
      const open = client.mailbox;
      if (open && open.readOnly && open.path === path) await client.mailboxClose();
      const result = await client.append(path, content.length === 1 ? content[0]! : Buffer.concat(content), flags, internalDate);
      return result && typeof result.uid === 'number' ? result.uid : null;
    },
    close: async () => {
      await client.logout().catch(() => client.close());
    },
  };
}

/**
 * Target connections that only APPEND (nothing selected, so no EXISTS bookkeeping). A folder's
 * messages go to one connection, in the order they are handed over; they wait while the budget
 * of bytes in flight is used up, and `room()` tells readers to pause until those waiting are
 * on their way, so memory stays bounded by the budget plus about one message per reader. The
 * connection list may be refilled by the owner after a connection died.
 */
export class AppenderPool {
  private inFlightBytes = 0;
  /** Bytes of messages handed over but not sent yet, because the budget is used up. */
  private waitingBytes = 0;
  private readonly admission: { size: number; admit: () => void }[] = [];
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
   * Undefined while the bytes in flight and waiting to go are below the budget, else a promise
   * that resolves once they are: a reader can stop reading meanwhile.
   */
  room(): Promise<void> | undefined {
    if (this.inFlightBytes + this.waitingBytes < this.maxBytesInFlight) return undefined;
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
    if (this.admission.length > 0 || !this.belowBudget) {
      // In the order of the calls: a message never overtakes one handed over before it.
      this.waitingBytes += size;
      const admitted = new Promise<void>((admit) => this.admission.push({ size, admit }));
      this.flushIfStuck();
      await admitted;
    } else {
      this.inFlightBytes += size;
    }
    try {
      const usable = this.connections.filter((c) => c.usable);
      if (usable.length === 0) throw Object.assign(new Error('No target connection is open'), { code: 'NoConnection' });
      // One connection per folder: appends into one mailbox from several sessions fight over
      // its index lock on the server (Dovecot's dovecot-uidlist), while different folders on
      // different connections proceed in parallel.
      const chosen = usable[this.slotOf(path) % usable.length]!;
      return await chosen.append(path, content, flags, internalDate);
    } finally {
      this.inFlightBytes -= size;
      this.admitWaiting();
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  /**
   * Whether one message more may go: while the bytes in flight are below the budget, so the
   * budget is exceeded by one message at most. Waiting until a large message fits whole would
   * leave the connection idle while the bytes before it drain.
   */
  private get belowBudget(): boolean {
    return this.inFlightBytes < this.maxBytesInFlight;
  }

  /** Lets waiting messages go, first come first, while the budget lasts; their bytes count from now. */
  private admitWaiting() {
    while (this.admission.length > 0 && this.belowBudget) {
      const { size, admit } = this.admission.shift()!;
      this.waitingBytes -= size;
      this.inFlightBytes += size;
      admit();
    }
    if (this.admission.length > 0) this.flushIfStuck();
  }
}
