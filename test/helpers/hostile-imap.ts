import net from 'node:net';

/**
 * An IMAP server that accepts any login and then misbehaves, on loopback only: the server a
 * customer may type into Mailferry. Until its moment it answers like a small server with one
 * folder (INBOX) and one message, so a copy gets as far as the command the mode is about.
 *
 * - `endless-line`: LIST is answered with one line that never ends.
 * - `huge-literal`: LIST is answered with `* LIST () "/" {4000000000}` and data after it.
 * - `many-lines`: LIST is answered with untagged lines that never stop (folder after folder).
 * - `drip`: LIST is answered one byte a second, forever.
 * - `huge-message`: LIST, EXAMINE and the sizes are fine; the message's FETCH BODY[] announces
 *   a 4 GB literal, beyond any message size limit, and streams data after it.
 */
export type HostileMode = 'endless-line' | 'huge-literal' | 'many-lines' | 'drip' | 'huge-message';

export const HOSTILE_MODES: readonly HostileMode[] = ['endless-line', 'huge-literal', 'many-lines', 'drip', 'huge-message'];

export interface HostileImapServer {
  host: '127.0.0.1';
  port: number;
  mode: HostileMode;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Bytes written in misbehaving answers, all connections together. */
  readonly hostileBytes: number;
  /** Connections still open. */
  readonly open: number;
  stop(): Promise<void>;
}

const MESSAGE = Buffer.from('From: a@example.test\r\nTo: b@example.test\r\nSubject: hello\r\nMessage-ID: <hostile-1@example.test>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n\r\nHello.\r\n');
const CHUNK = Buffer.alloc(64 * 1024, 'a');

export async function startHostileImap(mode: HostileMode): Promise<HostileImapServer> {
  let connections = 0;
  let hostileBytes = 0;
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();

  /** Writes `piece` again and again, as fast as the client reads, until it hangs up. */
  const flood = (socket: net.Socket, first: string, piece: () => Buffer) => {
    socket.write(first);
    hostileBytes += first.length;
    const pump = () => {
      while (!socket.destroyed) {
        const chunk = piece();
        hostileBytes += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  };

  const drip = (socket: net.Socket, text: string) => {
    let i = 0;
    const timer = setInterval(() => {
      if (socket.destroyed) {
        clearInterval(timer);
        timers.delete(timer);
        return;
      }
      socket.write(text[i % text.length]!);
      hostileBytes++;
      i++;
    }, 1000);
    timers.add(timer);
  };

  /** Sockets whose answer has gone wrong: they answer nothing after it. */
  const broken = new WeakSet<net.Socket>();
  const misbehave = (socket: net.Socket) => {
    broken.add(socket);
    if (mode === 'endless-line') flood(socket, '* LIST () "/" "', () => CHUNK);
    else if (mode === 'huge-literal') flood(socket, '* LIST () "/" {4000000000}\r\n', () => CHUNK);
    else if (mode === 'many-lines') {
      let n = 0;
      flood(socket, '', () => {
        let text = '';
        for (let i = 0; i < 1000; i++) text += `* LIST (\\HasNoChildren) "/" "Folder ${++n}"\r\n`;
        return Buffer.from(text);
      });
    } else if (mode === 'drip') drip(socket, '* LIST (\\HasNoChildren) "/" "INBOX"\r\n');
  };

  const answer = (socket: net.Socket, tag: string, command: string, rest: string) => {
    const ok = (text = 'done') => socket.write(`${tag} OK ${text}\r\n`);
    const upper = rest.toUpperCase();
    switch (command) {
      case 'CAPABILITY':
        socket.write('* CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS\r\n');
        return ok();
      case 'LOGIN':
      case 'AUTHENTICATE':
        return ok('[CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS] logged in');
      case 'LOGOUT':
        socket.write('* BYE\r\n');
        ok();
        socket.end();
        return;
      case 'LIST':
      case 'XLIST':
        if (mode !== 'huge-message') return misbehave(socket);
        socket.write('* LIST (\\HasNoChildren) "/" "INBOX"\r\n');
        return ok();
      case 'LSUB':
        socket.write('* LSUB () "/" "INBOX"\r\n');
        return ok();
      case 'STATUS':
        socket.write('* STATUS "INBOX" (UIDNEXT 2 UIDVALIDITY 7 MESSAGES 1)\r\n');
        return ok();
      case 'SELECT':
      case 'EXAMINE':
        socket.write('* 1 EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen)\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 2] ok\r\n* OK [PERMANENTFLAGS ()] ok\r\n');
        return ok(`[${command === 'EXAMINE' ? 'READ-ONLY' : 'READ-WRITE'}] opened`);
      case 'FETCH':
      case 'UID': {
        if (!/FETCH/.test(upper)) return ok();
        if (/BODY(\.PEEK)?\[\]|RFC822\)|BINARY/.test(upper)) {
          if (mode === 'huge-message') {
            broken.add(socket);
            return flood(socket, '* 1 FETCH (UID 1 FLAGS () INTERNALDATE "07-Dec-2026 10:00:00 +0000" BODY[] {4000000000}\r\n', () => CHUNK);
          }
          socket.write(`* 1 FETCH (UID 1 FLAGS () INTERNALDATE "07-Dec-2026 10:00:00 +0000" BODY[] {${MESSAGE.length}}\r\n`);
          socket.write(MESSAGE);
          socket.write(')\r\n');
          return ok();
        }
        if (/HEADER/.test(upper)) {
          socket.write(`* 1 FETCH (UID 1 BODY[HEADER] {${MESSAGE.indexOf('\r\n\r\n') + 4}}\r\n`);
          socket.write(MESSAGE.subarray(0, MESSAGE.indexOf('\r\n\r\n') + 4));
          socket.write(')\r\n');
          return ok();
        }
        socket.write(`* 1 FETCH (UID 1 RFC822.SIZE ${MESSAGE.length} FLAGS () INTERNALDATE "07-Dec-2026 10:00:00 +0000")\r\n`);
        return ok();
      }
      default:
        return ok();
    }
  };

  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.write('* OK [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS] hostile test server ready\r\n');
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const [tag = '*', command = '', ...rest] = line.split(' ');
        if (!command || broken.has(socket)) continue;
        answer(socket, tag, command.toUpperCase(), rest.join(' '));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    mode,
    get connections() {
      return connections;
    },
    get hostileBytes() {
      return hostileBytes;
    },
    get open() {
      return sockets.size;
    },
    stop: async () => {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
