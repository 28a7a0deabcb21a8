import nodemailer from 'nodemailer';
import type { MailConfig } from './config';

/** One e-mail, ready to go: the builder's parts and who gets it. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Deterministic per event, so a second copy is recognisable as the same message. */
  messageId: string;
}

/** An SMTP answer or failure, in words safe to store and log: never the login. */
export class SmtpSendError extends Error {
  constructor(
    message: string,
    /** The server refused this message for good (5xx to the sender, recipient or content): retrying sends nothing. */
    readonly isPermanent: boolean,
  ) {
    super(message);
    this.name = 'SmtpSendError';
  }
}

export interface MailSender {
  send(mail: OutgoingMail): Promise<void>;
}

// A server that takes longer than this to greet or answer is treated as down; the job retries later.
const TIMEOUTS = { connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 30_000, dnsTimeout: 15_000 } as const;

/** Sends over the configured SMTP server, one connection per e-mail (they are rare). */
export function smtpSender(config: MailConfig): MailSender {
  return {
    async send(mail) {
      const transport = nodemailer.createTransport({
        host: config.smtp.host,
        port: config.smtp.port,
        secure: config.smtp.secure,
        auth: config.smtp.auth ?? undefined,
        ...TIMEOUTS,
        // Never the transport's own debug log: it would print the AUTH exchange.
        logger: false,
        debug: false,
      });
      try {
        await transport.sendMail({
          from: config.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: mail.messageId,
          // Tells mail servers and clients this is a notification, not a conversation.
          headers: { 'Auto-Submitted': 'auto-generated' },
        });
      } catch (error) {
        throw toSendError(error, config);
      } finally {
        transport.close();
      }
    },
  };
}

interface NodemailerError {
  code?: string;
  responseCode?: number;
  command?: string;
  message?: string;
}

/** Codes of nodemailer for a message the server answered for good, not a connection that broke. */
const REFUSALS = new Set(['EENVELOPE', 'EMESSAGE']);

export function toSendError(error: unknown, config: Pick<MailConfig, 'smtp'>): SmtpSendError {
  const e = (error ?? {}) as NodemailerError;
  const parts = [e.code, e.command ? `at ${e.command}` : undefined, e.responseCode ? String(e.responseCode) : undefined].filter(Boolean).join(' ');
  const text = scrub(String(e.message ?? error), config).slice(0, 400);
  const isPermanent = REFUSALS.has(e.code ?? '') && (e.responseCode ?? 0) >= 500 && (e.responseCode ?? 0) < 600;
  return new SmtpSendError(parts ? `${parts}: ${text}` : text, isPermanent);
}

/** A server may echo what it was sent; the login never reaches a stored error. */
function scrub(text: string, config: Pick<MailConfig, 'smtp'>): string {
  let out = text;
  for (const secret of [config.smtp.auth?.pass, config.smtp.auth?.user]) {
    if (secret) out = out.split(secret).join('[login]');
  }
  return out;
}
