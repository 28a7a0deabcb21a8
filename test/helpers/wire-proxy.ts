import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy that records what IMAP clients send and checks it against the rules
 * a server without LITERAL+ relies on: after a command line that ends in a synchronizing
 * literal `{N}`, no byte may come from the client before the server's `+` continuation (or its
 * tagged refusal). Optionally it re-encodes the server's LIST, LSUB and STATUS mailbox names
 * as literals, which RFC 9051 allows any server to do, so a client's literal handling meets a
 * real server's answers.
 *
 * It hides COMPRESS=DEFLATE from the capabilities the server announces (Cyrus offers it, and
 * imapflow takes it): a compressed stream could not be read here.
 */
export interface WireProxyOptions {
  targetPort: number;
  targetHost?: string;
  /** Send every quoted mailbox name of `* LIST`, `* LSUB` and `* STATUS` as a literal instead. */
  namesAsLiterals?: boolean;
}

export interface WireEvent {
  /**
   * 'command': a complete client command arrived; 'announce': a command line ending in a
   * synchronizing literal arrived (its bytes wait for the continuation); 'answer': a tagged
   * server answer was passed on.
   */
  kind: 'command' | 'announce' | 'answer';
  connection: number;
  /** The command's text with each literal's bytes left out (its `{N}` marker kept), or the answer line. */
  text: string;
}

export interface WireProxy {
  port: number;
  /** Commands and tagged answers of all connections, in the order the proxy saw them. */
  readonly events: WireEvent[];
  /** The commands clients sent (literal contents left out), all connections in order. */
  commands(): string[];
  /** Every breach of the synchronizing-literal rule, with the command it broke. */
  readonly violations: string[];
  stop(): Promise<void>;
}

export async function startWireProxy(options: WireProxyOptions): Promise<WireProxy> {
  const host = options.targetHost ?? '127.0.0.1';
  const events: WireEvent[] = [];
  const violations: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;

  const server: Server = createServer((client) => {
    const id = ++connections;
    const upstream = connect({ host, port: options.targetPort, noDelay: true });
    client.setNoDelay(true);
    sockets.add(client);
    sockets.add(upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());

    // The client's side: lines, and literals skipped by their announced size.
    let clientBuffer: Buffer = Buffer.alloc(0);
    let clientLiteral = 0;
    /** A synchronizing literal announced, its continuation not seen yet. */
    let awaiting: { size: number; command: string } | null = null;
    let command = '';
    const readClient = () => {
      for (;;) {
        if (clientLiteral > 0) {
          const take = Math.min(clientLiteral, clientBuffer.length);
          clientBuffer = clientBuffer.subarray(take);
          clientLiteral -= take;
          if (clientLiteral > 0) return;
        }
        const end = clientBuffer.indexOf('\r\n');
        if (end < 0) return;
        const line = clientBuffer.subarray(0, end).toString('utf8');
        clientBuffer = clientBuffer.subarray(end + 2);
        const literal = /\{(\d+)(\+?)\}$/.exec(line);
        command += line;
        if (!literal) {
          events.push({ kind: 'command', connection: id, text: command });
          command = '';
          continue;
        }
        if (literal[2] === '+') clientLiteral = Number(literal[1]);
        else {
          awaiting = { size: Number(literal[1]), command };
          events.push({ kind: 'announce', connection: id, text: command });
          return;
        }
      }
    };
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      clientBuffer = clientBuffer.length ? Buffer.concat([clientBuffer, chunk]) : chunk;
      if (awaiting) {
        violations.push(`connection ${id}: ${chunk.length} bytes sent before the continuation for: ${awaiting.command.slice(0, 120)}`);
        clientLiteral = awaiting.size;
        awaiting = null;
      }
      readClient();
    });

    // The server's side: lines (with literals passed through whole), names re-encoded if asked.
    let serverBuffer: Buffer = Buffer.alloc(0);
    let serverLiteral = 0;
    upstream.on('data', (chunk: Buffer) => {
      serverBuffer = serverBuffer.length ? Buffer.concat([serverBuffer, chunk]) : chunk;
      const out: Buffer[] = [];
      for (;;) {
        if (serverLiteral > 0) {
          const take = Math.min(serverLiteral, serverBuffer.length);
          out.push(serverBuffer.subarray(0, take));
          serverBuffer = serverBuffer.subarray(take);
          serverLiteral -= take;
          if (serverLiteral > 0) break;
        }
        const end = serverBuffer.indexOf('\r\n');
        if (end < 0) break;
        let line = serverBuffer.subarray(0, end).toString('utf8');
        serverBuffer = serverBuffer.subarray(end + 2);
        const literal = line.startsWith('* ') ? /\{(\d+)\}$/.exec(line) : null;
        if (literal) serverLiteral = Number(literal[1]);
        else if (line.startsWith('+')) {
          if (awaiting) {
            clientLiteral = awaiting.size;
            awaiting = null;
          }
        } else if (!line.startsWith('*')) {
          // A tagged answer: a refused literal's command is over, its bytes never come.
          if (awaiting && line.split(' ', 1)[0] === awaiting.command.split(' ', 1)[0]) {
            events.push({ kind: 'command', connection: id, text: awaiting.command });
            awaiting = null;
            command = '';
          }
          events.push({ kind: 'answer', connection: id, text: line });
        }
        if (!literal) line = line.replace(/ COMPRESS=DEFLATE\b/gi, '');
        if (options.namesAsLiterals && !literal) line = asLiteralName(line);
        out.push(Buffer.from(`${line}\r\n`, 'utf8'));
      }
      // Passed on only after the state above changed, so the client cannot answer first.
      if (out.length > 0) client.write(Buffer.concat(out));
      readClient();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : 0;
  let stopping: Promise<void> | undefined;
  return {
    port,
    events,
    violations,
    commands: () => events.filter((e) => e.kind === 'command').map((e) => e.text),
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return stopping;
    },
  };
}

/** `* LIST (…) "/" "Name"` → `* LIST (…) "/" {4}\r\nName`; the same for LSUB and STATUS. */
function asLiteralName(line: string): string {
  const list = /^(\* (?:LIST|LSUB) \([^)]*\) (?:NIL|"(?:[^"\\]|\\.)*") )("(?:[^"\\]|\\.)*"|[^\s(]+)(.*)$/i.exec(line);
  const status = /^(\* STATUS )("(?:[^"\\]|\\.)*"|[^\s(]+)( \(.*)$/i.exec(line);
  const match = list ?? status;
  if (!match) return line;
  const token = match[2]!;
  const name = token.startsWith('"') ? token.slice(1, -1).replace(/\\(.)/g, '$1') : token;
  return `${match[1]}{${Buffer.byteLength(name)}}\r\n${name}${match[3]}`;
}

/** Which arguments of a command are mailbox names (0-based, after the command name). */
const MAILBOX_ARGUMENTS: Record<string, readonly number[]> = {
  SELECT: [0],
  EXAMINE: [0],
  STATUS: [0],
  CREATE: [0],
  DELETE: [0],
  SUBSCRIBE: [0],
  UNSUBSCRIBE: [0],
  APPEND: [0],
  GETQUOTAROOT: [0],
  GETMETADATA: [0],
  SETMETADATA: [0],
  RENAME: [0, 1],
  COPY: [1],
  MOVE: [1],
  LIST: [0, 1],
  LSUB: [0, 1],
  XLIST: [0, 1],
};

/** The tokens of a command's arguments: quoted strings, literal markers, lists (whole), atoms. */
function argumentTokens(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === ' ') {
      i++;
      continue;
    }
    const start = i;
    if (text[i] === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\') i++;
      }
      i++;
    } else if (text[i] === '(') {
      let depth = 0;
      for (; i < text.length; i++) {
        if (text[i] === '"') {
          for (i++; i < text.length && text[i] !== '"'; i++) {
            if (text[i] === '\\') i++;
          }
        } else if (text[i] === '(') depth++;
        else if (text[i] === ')' && --depth === 0) break;
      }
      i++;
    } else {
      while (i < text.length && text[i] !== ' ') i++;
    }
    tokens.push(text.slice(start, i));
  }
  return tokens;
}

/**
 * The mailbox arguments a command sends as atoms, neither quoted nor literal
 * (`A1 SELECT INBOX.Tilde~Name` gives ['INBOX.Tilde~Name']).
 */
export function atomMailboxArguments(command: string): string[] {
  const match = /^\S+ (?:UID )?(\S+) ?(.*)$/i.exec(command);
  if (!match) return [];
  const positions = MAILBOX_ARGUMENTS[match[1]!.toUpperCase()];
  if (!positions) return [];
  const tokens = argumentTokens(match[2]!);
  return positions.map((p) => tokens[p]).filter((token): token is string => token !== undefined && !token.startsWith('"') && !/^\{\d+\+?\}$/.test(token));
}
