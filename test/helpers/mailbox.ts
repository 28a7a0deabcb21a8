import { createHash } from 'node:crypto';
import { ImapFlow } from 'imapflow';

/** A plain-text loopback IMAP session for tests (Dovecot started with tls: 'none'). */
export async function openImap(port: number, user: string, pass: string, host = '127.0.0.1'): Promise<ImapFlow> {
  const client = new ImapFlow({ host, port, secure: false, doSTARTTLS: false, auth: { user, pass }, logger: false });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export interface TestMessage {
  folder: string;
  raw: string | Buffer;
  flags?: string[];
  date?: Date;
}

let counter = 0;

/** A small RFC 5322 message; `messageId: null` leaves the header out. */
export function makeMessage(options: { subject?: string; messageId?: string | null; bodyBytes?: number; date?: Date } = {}): string {
  counter++;
  const id = options.messageId === undefined ? `<test-${counter}-${Math.random().toString(36).slice(2)}@example.test>` : options.messageId;
  const body = `Hello ${counter}\r\n`.padEnd(Math.max(16, options.bodyBytes ?? 200), 'x').replace(/(.{76})/g, '$1\r\n');
  return [
    'From: Sender <sender@example.test>',
    'To: Receiver <receiver@example.test>',
    `Subject: ${options.subject ?? `Message ${counter}`}`,
    `Date: ${(options.date ?? new Date(Date.UTC(2020, 0, 1 + (counter % 300)))).toUTCString()}`,
    ...(id ? [`Message-ID: ${id}`] : []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
  ].join('\r\n');
}

export async function fillMailbox(client: ImapFlow, messages: TestMessage[]): Promise<void> {
  const folders = new Set(messages.map((m) => m.folder));
  for (const folder of folders) {
    if (folder.toUpperCase() !== 'INBOX') await client.mailboxCreate(folder).catch(() => undefined);
  }
  for (const message of messages) await client.append(message.folder, message.raw, message.flags ?? [], message.date);
}

export interface MessageFingerprint {
  sha256: string;
  flags: string;
  internalDate: string;
}

/** Every folder's messages as sorted fingerprints (bytes, flags, INTERNALDATE). */
export async function snapshotMailbox(client: ImapFlow): Promise<Map<string, MessageFingerprint[]>> {
  const out = new Map<string, MessageFingerprint[]>();
  for (const folder of await client.list()) {
    if (folder.flags.has('\\Noselect')) continue;
    const lock = await client.getMailboxLock(folder.path, { readOnly: true });
    try {
      const messages: MessageFingerprint[] = [];
      if ((client.mailbox && client.mailbox.exists) || 0) {
        for await (const m of client.fetch('1:*', { uid: true, source: true, flags: true, internalDate: true })) {
          messages.push({
            sha256: createHash('sha256').update(m.source ?? Buffer.alloc(0)).digest('hex'),
            flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort().join(' '),
            internalDate: new Date(m.internalDate ?? 0).toISOString(),
          });
        }
      }
      messages.sort((a, b) => (a.sha256 + a.flags).localeCompare(b.sha256 + b.flags));
      out.set(folder.path, messages);
    } finally {
      lock.release();
    }
  }
  return out;
}
