import net from 'node:net';

/**
 * A bare IMAP client for tests that must control every byte on the wire: mailbox names sent
 * quoted or as literals exactly as given, message bytes (NUL, lone CR, 8-bit headers) sent
 * untouched, literals in answers kept as bytes, and each server's answer kept word for word so
 * a refusal can be reported. Synchronizing literals only: Courier has no LITERAL+.
 */

/** One server response: its text with literals left as `{n}`, and the literals' bytes in order. */
export interface ResponseUnit {
  text: string;
  literals: Buffer[];
}

export interface CommandResult {
  status: 'OK' | 'NO' | 'BAD';
  /** The tagged line after the status ("[TRYCREATE] Mailbox does not exist"). */
  text: string;
  untagged: ResponseUnit[];
}

/** A command argument sent as a literal (`{n}` then the bytes once the server says go on). */
export class Literal {
  constructor(readonly bytes: Buffer) {}
}

export type CommandPart = string | Literal;

export class WireImapClient {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private closedError: Error | null = null;
  private tagCounter = 0;
  /** Capabilities from the greeting or the login answer, upper-case. */
  capabilities = new Set<string>();
  /** Untagged `[ALERT]` texts the server sent (Courier sends one for 8-bit headers). */
  alerts: string[] = [];

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    const close = (error?: Error) => {
      this.closedError ??= error ?? new Error('connection closed');
      this.wake();
    };
    socket.on('error', close);
    socket.on('close', () => close());
  }

  static async connect(host: string, port: number, timeoutMs = 20_000): Promise<WireImapClient> {
    const socket = net.connect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    // Every command waits for an answer: Nagle would hold each last small write for the peer's delayed ACK.
    socket.setNoDelay(true);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)));
    const client = new WireImapClient(socket);
    const greeting = await client.readUnit();
    if (!/^\* (OK|PREAUTH)/i.test(greeting.text)) throw new Error(`unexpected greeting: ${greeting.text}`);
    client.takeCapabilities([greeting]);
    return client;
  }

  async login(user: string, password: string): Promise<void> {
    const result = await this.command(['LOGIN ', quoteOrLiteral(user), ' ', quoteOrLiteral(password)]);
    if (result.status !== 'OK') throw new Error(`LOGIN ${user} refused: ${result.status} ${result.text}`);
    this.takeCapabilities([...result.untagged, { text: `x OK ${result.text}`, literals: [] }]);
    if (!this.capabilities.has('IMAP4REV1')) this.takeCapabilities((await this.command(['CAPABILITY'])).untagged);
  }

  /** Sends one command and collects everything up to its tagged answer. */
  async command(parts: readonly CommandPart[]): Promise<CommandResult> {
    const tag = `w${++this.tagCounter}`;
    const untagged: ResponseUnit[] = [];
    let pending = `${tag} `;
    const readUntilTagged = async (): Promise<CommandResult | 'continue'> => {
      for (;;) {
        const unit = await this.readUnit();
        if (unit.text.startsWith('+')) return 'continue';
        if (unit.text.startsWith(`${tag} `)) {
          const match = /^\S+ (OK|NO|BAD)\s?(.*)$/i.exec(unit.text);
          if (!match) throw new Error(`unreadable answer: ${unit.text}`);
          return { status: match[1]!.toUpperCase() as CommandResult['status'], text: match[2]!, untagged };
        }
        const alert = /^\* (?:OK|NO|BAD) \[ALERT\]\s*(.*)$/i.exec(unit.text);
        if (alert) this.alerts.push(alert[1]!);
        untagged.push(unit);
      }
    };
    let literalBytes: Buffer | null = null;
    const flush = (text: string) => {
      const bytes = Buffer.from(text, 'latin1');
      this.socket.write(literalBytes ? Buffer.concat([literalBytes, bytes]) : bytes);
      literalBytes = null;
    };
    for (const part of parts) {
      if (typeof part === 'string') {
        pending += part;
        continue;
      }
      flush(`${pending}{${part.bytes.length}}\r\n`);
      pending = '';
      const answer = await readUntilTagged();
      // A refusal of the literal itself (too large, bad name) ends the command here.
      if (answer !== 'continue') return answer;
      literalBytes = part.bytes;
    }
    flush(`${pending}\r\n`);
    for (;;) {
      const answer = await readUntilTagged();
      if (answer !== 'continue') return answer;
    }
  }

  async logout(): Promise<void> {
    if (!this.closedError) await this.command(['LOGOUT']).catch(() => undefined);
    this.socket.destroy();
  }

  private takeCapabilities(units: readonly ResponseUnit[]): void {
    for (const { text } of units) {
      const match = /^\* CAPABILITY (.*)$/i.exec(text) ?? /\[CAPABILITY ([^\]]*)\]/i.exec(text);
      if (match) this.capabilities = new Set(match[1]!.toUpperCase().split(/\s+/).filter(Boolean));
    }
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private async more(): Promise<void> {
    if (this.closedError) throw this.closedError;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** One response line with any literals it announces (`{n}` at a line's end). */
  private async readUnit(): Promise<ResponseUnit> {
    let text = '';
    const literals: Buffer[] = [];
    for (;;) {
      let end = this.buffer.indexOf('\r\n');
      while (end < 0) {
        await this.more();
        end = this.buffer.indexOf('\r\n');
      }
      // latin1 keeps the server's bytes one to one (8-bit mailbox names, ALERT texts).
      const line = this.buffer.subarray(0, end).toString('latin1');
      this.buffer = this.buffer.subarray(end + 2);
      text += line;
      const literal = /\{(\d+)\}$/.exec(line);
      if (!literal) return { text, literals };
      const size = Number(literal[1]);
      while (this.buffer.length < size) await this.more();
      literals.push(Buffer.from(this.buffer.subarray(0, size)));
      this.buffer = this.buffer.subarray(size);
    }
  }
}

/** A quoted string when the text allows one without escapes, else a literal. */
export function quoteOrLiteral(text: string): CommandPart {
  // Quoted strings cannot hold CR, LF or 8-bit bytes, and servers differ on `\` escapes.
  if (/^[\x20-\x7e]*$/.test(text) && !/["\\]/.test(text)) return `"${text}"`;
  return new Literal(Buffer.from(text, 'utf8'));
}
