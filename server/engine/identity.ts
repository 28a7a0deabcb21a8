import { createHash } from 'node:crypto';

/**
 * What makes two messages "the same" across servers, whatever their UIDs: the Message-ID with
 * the Date header and the exact size; where there is no Message-ID (drafts, some automated
 * mail), a hash of the raw header block with the size. Two copies of one message in a folder
 * share an identity, so identities are counted, never just tested for presence.
 */
export interface IdentitySource {
  messageId?: string | null;
  date?: Date | null;
  size: number;
  /** The raw header block, needed only when there is no Message-ID. */
  headers?: Buffer | null;
}

export function messageIdentity(message: IdentitySource): string {
  const messageId = message.messageId?.trim();
  if (messageId) return `m:${messageId}|${message.date ? message.date.getTime() : '-'}|${message.size}`;
  if (!message.headers) throw new Error('a message without Message-ID needs its header block for an identity');
  return `h:${createHash('sha256').update(message.headers).digest('base64url')}|${message.size}`;
}

/** A multiset of identities. */
export class IdentityCounter {
  private readonly counts = new Map<string, number>();

  add(identity: string): void {
    this.counts.set(identity, (this.counts.get(identity) ?? 0) + 1);
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
