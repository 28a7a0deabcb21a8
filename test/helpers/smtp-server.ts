import { SMTPServer } from 'smtp-server';
import { freePorts } from './free-port';

export interface ReceivedMail {
  /** MAIL FROM and RCPT TO, as the client gave them. */
  from: string;
  to: string[];
  /** The message exactly as it arrived (headers and MIME body). */
  raw: string;
}

export interface TestSmtpServer {
  readonly port: number;
  /** Everything accepted so far, in order. */
  readonly received: ReceivedMail[];
  /** AUTH attempts that failed (wrong user or password). */
  readonly refusedLogins: number;
  /** Stops listening; the port stays this server's for start(). */
  stop(): Promise<void>;
  /** Listens again on the same port, keeping what was received. */
  start(): Promise<void>;
  /** Answers the next RCPT TO with this permanent refusal (e.g. "550 No such user"). */
  refuseRecipients(answer: string | null): void;
}

/**
 * A real SMTP server on 127.0.0.1 that asks for a login (AUTH PLAIN/LOGIN, without TLS: it is
 * loopback) and keeps every message it accepts.
 */
export async function startSmtpServer(login: { user: string; password: string }): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  let refusedLogins = 0;
  let refusal: string | null = null;
  const [port] = await freePorts(1);
  let server: SMTPServer | undefined;

  const listen = async () => {
    server = new SMTPServer({
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === login.user && auth.password === login.password) return callback(null, { user: auth.username });
        refusedLogins++;
        return callback(new Error('Invalid username or password'));
      },
      onRcptTo(address, _session, callback) {
        if (!refusal) return callback();
        const error = new Error(refusal) as Error & { responseCode: number };
        error.responseCode = Number(refusal.slice(0, 3)) || 550;
        return callback(error);
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
    server.on('error', () => undefined);
  };
  await listen();

  return {
    port: port!,
    received,
    get refusedLogins() {
      return refusedLogins;
    },
    async stop() {
      const running = server;
      server = undefined;
      if (running) await new Promise<void>((resolve) => running.close(() => resolve()));
    },
    async start() {
      if (!server) await listen();
    },
    refuseRecipients(answer) {
      refusal = answer;
    },
  };
}

/** A received message read for assertions: headers, and the text and HTML parts decoded. */
export interface ReadMail {
  header(name: string): string | undefined;
  subject: string;
  text: string;
  html: string;
}

/** Reads what nodemailer writes: one level of multipart, parts in quoted-printable, base64 or 7bit. */
export function readMail(raw: string): ReadMail {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const headers = parseHeaders(head ?? '');
  const body = rest.join('\r\n\r\n');
  const parts: Record<string, string> = {};
  const boundary = /boundary="?([^";]+)"?/i.exec(headers.get('content-type') ?? '')?.[1];
  const sections = boundary ? body.split(`--${boundary}`).slice(1, -1) : [`${head}\r\n\r\n${body}`];
  for (const section of sections) {
    const [partHead, ...partBody] = section.replace(/^\r?\n/, '').split(/\r?\n\r?\n/);
    const partHeaders = parseHeaders(partHead ?? '');
    const type = (partHeaders.get('content-type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
    parts[type] = decodeBody(partBody.join('\r\n\r\n'), partHeaders.get('content-transfer-encoding') ?? '7bit');
  }
  return {
    header: (name) => headers.get(name.toLowerCase()),
    subject: decodeWords(headers.get('subject') ?? ''),
    text: parts['text/plain'] ?? '',
    html: parts['text/html'] ?? '',
  };
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

function decodeBody(body: string, encoding: string): string {
  switch (encoding.trim().toLowerCase()) {
    case 'quoted-printable':
      return fromQuotedPrintable(body);
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    default:
      return body.replace(/\r\n/g, '\n');
  }
}

function fromQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/\r\n/g, '\n')
    .replace(/=\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** RFC 2047 encoded words, as nodemailer writes a non-ASCII subject. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, _charset: string, kind: string, data: string) =>
      kind.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : fromQuotedPrintable(data.replace(/_/g, ' ')),
    );
}
