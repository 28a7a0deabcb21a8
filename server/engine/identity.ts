import { createHash } from 'node:crypto';

/**
 * What makes two messages "the same" across servers, whatever their UIDs: the Message-ID with
 * the Date header; where there is no Message-ID (drafts, some automated mail), a hash of the
 * header block as every server keeps it (see comparableHeaders). Two copies of one message in
 * a folder share an identity, so identities are counted, never just tested for presence.
 *
 * The size is not part of it: servers store a message differently from what was sent (Courier
 * keeps lines ending in LF, drops lone CRs and adds a final newline; Cyrus rewrites 8-bit
 * header bytes as "X"), so the size on the target says nothing about whether it is the same
 * message, and a re-run must still recognise what it copied.
 */
export interface IdentitySource {
  messageId?: string | null;
  date?: Date | null;
  /** Bytes of the message; not part of the identity (see above), kept for callers' reports. */
  size?: number;
  /** The raw header block, needed only when there is no Message-ID. */
  headers?: Buffer | null;
}

/**
 * A header block in the form it has on every server: line ends and folding removed, runs of
 * white space as one space, and every 8-bit byte as "X" (what Cyrus's munge8bit stores).
 */
export function comparableHeaders(headers: Buffer): string {
  return headers
    .toString('latin1')
    .replace(/[\x80-\xff]/g, 'X')
    .replace(/\r/g, '')
    .replace(/\n(?=[ \t])/g, '')
    .replace(/[ \t]+/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join('\n');
}

/** The header fields the identity is made of, for a fetch of just those (`BODY.PEEK[HEADER.FIELDS (…)]`). */
export const IDENTITY_FIELDS = ['MESSAGE-ID', 'DATE'] as const;

/**
 * Message-ID and Date from header lines, as a server's ENVELOPE gives them (the first of each,
 * unfolded, trimmed; a Date that does not parse counts as none), so an identity made from the
 * fetched fields is the one made from the envelope.
 */
export function identityFields(header: Buffer): Pick<IdentitySource, 'messageId' | 'date'> {
  const lines = header.toString('latin1').replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/);
  const value = (name: string) => {
    const line = lines.find((l) => l.slice(0, name.length + 1).toLowerCase() === `${name}:`);
    return line === undefined ? undefined : line.slice(name.length + 1).trim();
  };
  const dateText = value('date');
  const date = dateText ? new Date(dateText) : null;
  return { messageId: value('message-id') || null, date: date && !Number.isNaN(date.getTime()) ? date : null };
}

export function messageIdentity(message: IdentitySource): string {
  const messageId = message.messageId?.trim();
  if (messageId) return `m:${messageId}|${message.date ? message.date.getTime() : '-'}`;
  if (!message.headers) throw new Error('a message without Message-ID needs its header block for an identity');
  return `h:${createHash('sha256').update(comparableHeaders(message.headers)).digest('base64url')}`;
}

/** A multiset of identities. */
export class IdentityCounter {
  private readonly counts = new Map<string, number>();

  add(identity: string): void {
    this.counts.set(identity, (this.counts.get(identity) ?? 0) + 1);
  }

  has(identity: string): boolean {
    return this.counts.has(identity);
  }

  /** Takes one copy of `identity` if there is one left; true when it was there. */
  take(identity: string): boolean {
    const count = this.counts.get(identity) ?? 0;
    if (count === 0) return false;
    if (count === 1) this.counts.delete(identity);
    else this.counts.set(identity, count - 1);
    return true;
  }

  get size(): number {
    let total = 0;
    for (const count of this.counts.values()) total += count;
    return total;
  }
}
