import type { Db } from '../db';
import { createLogger } from '../logger';
import { getMigrationDetail } from '../migrations/migration-detail';
import { organizationMode } from '../organizations/mode';
import { serverTimeZoneName } from '../portal/time-zone';
import type { MailConfig } from './config';
import { buildNotificationMessage, isNotifiedEvent, type NotificationFacts } from './message';
import { SmtpSendError, smtpSender, toSendError, type MailSender } from './sender';

const log = createLogger('notifications');

export type DeliveryOutcome = 'sent' | 'skipped' | 'failed' | 'already_done' | 'gone';

/** The SMTP server did not take the e-mail this time; the job is retried with its backoff. */
export class NotificationRetry extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotificationRetry';
  }
}

export interface DeliveryOptions {
  /** This installation's SMTP settings; null when none are configured. */
  config: MailConfig | null;
  /** The job's last attempt: an SMTP error now ends in state failed instead of a retry. */
  isLastAttempt: boolean;
  /** Defaults to the configured SMTP server. */
  sender?: MailSender;
  zone?: string;
}

/**
 * Sends the e-mail of one migration event, if it is still to be sent.
 *
 * What is guaranteed: at most one e-mail per event while workers run normally. The row is
 * claimed (attempts + 1, only while it is still pending at the attempts read) before the SMTP
 * transaction and marked sent as soon as the server accepted the message; a job that runs
 * again, or a second job for the same event, finds it sent (or claimed by another attempt) and
 * sends nothing. An SMTP error means the server did not accept the message: it is recorded in
 * last_error and retried with the job's backoff, then the row ends failed.
 *
 * What is not: if the worker dies after the server accepted the message and before the row says
 * sent, the job runs again once graphile-worker hands it back and the e-mail goes out a second
 * time. That copy has the same Message-ID (deterministic per event), so clients and servers that
 * deduplicate by Message-ID drop it, and a reader can tell it is the same message.
 */
export async function deliverMigrationNotification(db: Db, eventId: bigint, options: DeliveryOptions): Promise<DeliveryOutcome> {
  const row = await db.migrationNotification.findUnique({
    where: { eventId },
    select: { state: true, attempts: true, userId: true, event: { select: { kind: true, migration: { select: { id: true, organizationId: true } } } } },
  });
  if (!row) return 'gone';
  if (row.state !== 'pending') return 'already_done';
  const migration = row.event.migration;
  const skip = async (reason: string): Promise<DeliveryOutcome> => {
    await db.migrationNotification.updateMany({ where: { eventId, state: 'pending' }, data: { state: 'skipped', lastError: reason } });
    log.info('migration e-mail skipped', { eventId: String(eventId), migrationId: migration.id, reason });
    return 'skipped';
  };
  if (!options.config) return skip('E-mail is not set up on this installation (MAILFERRY_SMTP_URL is not set).');
  if (!isNotifiedEvent(row.event.kind)) return skip(`No e-mail is sent for a ${row.event.kind} event.`);
  const user = row.userId
    ? await db.user.findUnique({ where: { id: row.userId }, select: { email: true, name: true, role: true, organizationId: true, disabledAt: true, notifyByEmail: true } })
    : null;
  if (!user) return skip('The user who created the migration no longer exists.');
  if (user.disabledAt) return skip('The user who created the migration is disabled.');
  if (user.role !== 'customer' || user.organizationId !== migration.organizationId) return skip("The user is no longer a customer user of the migration's organization.");
  if (!user.notifyByEmail) return skip('The user switched migration e-mails off.');

  const config = options.config;
  const fail = async (message: string) => {
    await db.migrationNotification.updateMany({ where: { eventId, state: 'pending' }, data: { state: 'failed', lastError: message } });
    log.warn('migration e-mail failed', { eventId: String(eventId), migrationId: migration.id, error: message });
    return 'failed' as const;
  };

  let mail: Parameters<MailSender['send']>[0];
  try {
    const facts = await factsOf(db, migration, row.event.kind, config, options.zone ?? serverTimeZoneName(), user.name);
    mail = { to: user.email, ...buildNotificationMessage(facts), messageId: messageIdOf(eventId, migration.id, config) };
  } catch (error) {
    // A fault of ours, not the SMTP server's: the job's retries may still see it pass.
    if (options.isLastAttempt) return fail(`The e-mail could not be written: ${(error as Error).message}`.slice(0, 400));
    throw error;
  }

  const claimed = await db.migrationNotification.updateMany({
    where: { eventId, state: 'pending', attempts: row.attempts },
    data: { attempts: { increment: 1 }, lastError: null },
  });
  if (claimed.count === 0) return 'already_done';

  try {
    await (options.sender ?? smtpSender(config)).send(mail);
  } catch (error) {
    const failure = error instanceof SmtpSendError ? error : toSendError(error, config);
    if (failure.isPermanent || options.isLastAttempt) return fail(failure.message);
    await db.migrationNotification.updateMany({ where: { eventId, state: 'pending' }, data: { lastError: failure.message } });
    log.warn('migration e-mail not sent, will retry', { eventId: String(eventId), migrationId: migration.id, error: failure.message });
    throw new NotificationRetry(failure.message);
  }
  await db.migrationNotification.update({ where: { eventId }, data: { state: 'sent', sentAt: new Date(), lastError: null } });
  log.info('migration e-mail sent', { eventId: String(eventId), migrationId: migration.id });
  return 'sent';
}

/** `<migration-event-42.UUID@sender's domain>`: the same for every attempt of one event. */
export function messageIdOf(eventId: bigint, migrationId: string, config: Pick<MailConfig, 'fromAddress'>): string {
  const domain = config.fromAddress.slice(config.fromAddress.lastIndexOf('@') + 1);
  return `<migration-event-${eventId}.${migrationId}@${domain}>`;
}

async function factsOf(
  db: Db,
  migration: { id: string; organizationId: string },
  event: string,
  config: MailConfig,
  zone: string,
  recipientName: string | null,
): Promise<NotificationFacts> {
  const [detail, mode, accounts] = await Promise.all([
    getMigrationDetail(db, migration.organizationId, migration.id, zone),
    organizationMode(db, migration.organizationId),
    // Explicit: only what must stay out of the e-mail, never the sealed password.
    db.migrationAccount.findMany({ where: { migrationId: migration.id }, select: { email: true, username: true, server: true } }),
  ]);
  // The routes split as the portal's tabs do (app/(portal)/migrations/[id]/migration-page.tsx).
  const path = mode === 'commercial' && !detail.isActive ? `/migrations/finished/${detail.id}` : `/migrations/${detail.id}`;
  const addresses = new Set(accounts.map((a) => a.email.toLowerCase()));
  const redact = accounts.flatMap((a) => [...serverNames(a.server), ...(a.username && !addresses.has(a.username.toLowerCase()) ? [a.username] : [])]);
  return {
    event: event as NotificationFacts['event'],
    migration: detail,
    zone,
    recipientName,
    detailUrl: `${config.portalUrl}${path}`,
    accountUrl: `${config.portalUrl}/account`,
    redact,
  };
}

/** The account's server as stored ("imaps://mail.example.com:993", "mail.example.com") and its host name. */
function serverNames(server: string | null): string[] {
  if (!server) return [];
  const names = [server];
  try {
    const url = new URL(server.includes('://') ? server : `imap://${server}`);
    if (url.hostname) names.push(url.hostname.replace(/^\[(.*)\]$/, '$1'), url.host);
  } catch {
    // Not a URL: the text itself is redacted.
  }
  return names;
}
