/**
 * Migration e-mails end to end: real migrations on Dovecot, the migration__notify job on a real
 * graphile-worker, a real SMTP server (with a login) reading what arrived. One e-mail per event,
 * to the user who created the migration, with addresses, counts, verdict and link, and nothing
 * of the accounts' logins or servers; none when the user opted out or SMTP is not set up;
 * retried while the SMTP server is down, and still sent once.
 */
import { randomBytes } from 'node:crypto';
import { Logger, run, type Runner } from 'graphile-worker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseServer } from '@/server/accounts/server-address';
import { createPool } from '@/server/database/pool';
import { migrateDatabase } from '@/server/database/migrate';
import { createDb, type Db } from '@/server/db';
import type { MailboxEndpoint } from '@/server/engine/copy-mailbox';
import { parseEnv } from '@/server/env';
import { enqueueJob } from '@/server/jobs/enqueue';
import { recordMigrationEvent } from '@/server/migrations/events';
import { runMigrationPhase } from '@/server/migrations/run-migration';
import { verifyMigration } from '@/server/migrations/verification';
import { mailConfig, type MailConfig } from '@/server/notifications/config';
import { migrationNotifyJob, notificationJobKey } from '@/server/notifications/jobs';
import { deliverMigrationNotification } from '@/server/notifications/notify';
import { taskList } from '@/workers/runner';
import { migrationNotifyTask } from '@/workers/tasks/migration-notify';
import { freshDatabase, seedOrganization } from './helpers/database';
import type { DovecotServer } from './helpers/dovecot';
import { fillMailbox, makeMessage } from './helpers/mailbox';
import { phaseHarness } from './helpers/phase-harness';
import { callerFor } from './helpers/trpc';
import { readMail, startSmtpServer, type ReceivedMail, type TestSmtpServer } from './helpers/smtp-server';

// A database of its own (with its URL, for the worker's pool): no other file's worker takes these jobs.
let database: Awaited<ReturnType<typeof freshDatabase>>;
let db: Db;
beforeAll(async () => {
  database = await freshDatabase();
  await migrateDatabase(database.url);
  db = createDb(database.url);
});
afterAll(async () => {
  await db?.$disconnect();
  await database?.drop();
});

const password = 'Notify;"imap 5';
const harness = phaseHarness(() => db, password);
const { deps, open, newUser, migrationOf } = harness;
let dovecot: DovecotServer;
let limited: DovecotServer;
beforeAll(() => {
  ({ dovecot, limited } = harness);
});

const smtpLogin = { user: 'relay-user@relay.test', password: `Smtp:${randomBytes(6).toString('hex')}@"x` };
let smtp: TestSmtpServer;
let config: MailConfig;
beforeAll(async () => {
  smtp = await startSmtpServer(smtpLogin);
  // Read as the installation reads it: the URL with its percent-encoded login, and the sender.
  config = mailConfig(
    parseEnv({
      MAILFERRY_SMTP_URL: `smtp://${encodeURIComponent(smtpLogin.user)}:${encodeURIComponent(smtpLogin.password)}@127.0.0.1:${smtp.port}`,
      MAILFERRY_MAIL_FROM: 'Mailferry <mailferry@portal.test>',
      NEXTAUTH_URL: 'https://portal.example.test/',
    }),
  )!;
});
afterAll(async () => smtp?.stop());
afterEach(async () => {
  await smtp.start();
  smtp.refuseRecipients(null);
});

// The worker's own lines (a retried job logs its error) would only repeat what the tests check.
const quietLogger = new Logger(() => () => undefined);

/** The notify task alone, on a real graphile-worker over this file's database, polling fast. */
async function startNotifier(mail: MailConfig | null = config): Promise<{ stop(): Promise<void> }> {
  const pool = createPool(database.url, 4);
  const runner: Runner = await run({ pgPool: pool, concurrency: 2, noHandleSignals: true, pollInterval: 100, logger: quietLogger, taskList: taskList(db, [migrationNotifyTask(() => mail)]) });
  return {
    async stop() {
      await runner.stop();
      await pool.end();
    },
  };
}

async function notifyJobs(): Promise<number> {
  const rows = await db.$queryRaw<{ count: bigint }[]>`SELECT count(*) AS count FROM graphile_worker.jobs WHERE task_identifier = 'migration__notify'`;
  return Number(rows[0]!.count);
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the notifier until every notify job is done, then stops it. */
async function sendQueued(mail: MailConfig | null = config): Promise<void> {
  const notifier = await startNotifier(mail);
  try {
    await waitFor('the notify jobs', async () => (await notifyJobs()) === 0);
  } finally {
    await notifier.stop();
  }
}

async function notificationsOf(migrationId: string) {
  return db.migrationNotification.findMany({
    where: { event: { migrationId } },
    select: { eventId: true, userId: true, state: true, attempts: true, sentAt: true, lastError: true, event: { select: { kind: true } } },
    orderBy: { eventId: 'asc' },
  });
}

const mailsTo = (address: string): ReceivedMail[] => smtp.received.filter((m) => m.to.includes(address));

/** The same account as the engine reaches it, for verifying again after the credentials were wiped. */
const endpoint = (user: string, server: DovecotServer): MailboxEndpoint => ({ server: parseServer(`imap://127.0.0.1:${server.port}`).mail!, auth: () => ({ user, pass: password }) });

/** A customer of a new organization, and a migration it created from `source` to `target` that is due now. */
async function customerMigration(source: { user: string; server: DovecotServer }, target: { user: string; server: DovecotServer }) {
  const { organization, user } = await seedOrganization(db, 'customer');
  const id = await migrationOf(organization.id, source, target, null);
  await db.migration.update({ where: { id }, data: { createdByUserId: user.id } });
  return { organization, user, id };
}

/** Everything in a received e-mail that must never carry a secret: raw, and decoded. */
function everything(mail: ReceivedMail): string {
  const read = readMail(mail.raw);
  return `${mail.raw}\n${read.subject}\n${read.text}\n${read.html}`;
}

describe('migration e-mails', () => {
  it('sends one e-mail to the creator of a finished migration with addresses, counts, verdict and link, and none of the accounts\' logins or servers', async () => {
    const [source, target] = [await newUser(dovecot, 'n-src'), await newUser(dovecot, 'n-dst')];
    await fillMailbox(await open(dovecot, source), [
      ...Array.from({ length: 3 }, (_, i) => ({ folder: 'INBOX', raw: makeMessage({ subject: `inbox ${i}` }) })),
      ...Array.from({ length: 2 }, (_, i) => ({ folder: 'Sent', raw: makeMessage({ subject: `sent ${i}` }) })),
    ]);
    const { user, id } = await customerMigration({ user: source, server: dovecot }, { user: target, server: dovecot });
    expect(await runMigrationPhase(db, id, 'run', await deps())).toBe('finished');

    // Queued with the event, in its transaction: the row and the job, with the event's id only.
    const [queued] = await notificationsOf(id);
    expect(queued).toMatchObject({ userId: user.id, state: 'pending', attempts: 0, event: { kind: 'finished' } });
    const jobs = await db.$queryRaw<{ payload: unknown; key: string }[]>`
      SELECT j.payload, j.key FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id WHERE t.identifier = 'migration__notify'`;
    expect(jobs).toEqual([{ payload: { eventId: String(queued!.eventId) }, key: notificationJobKey(queued!.eventId) }]);

    // Logins that differ from the addresses must stay out of the e-mail too.
    await db.migrationAccount.updateMany({ where: { migrationId: id, side: 'source' }, data: { username: 'login-of-the-source' } });
    await db.migrationAccount.updateMany({ where: { migrationId: id, side: 'target' }, data: { username: 'login-of-the-target' } });

    await sendQueued();
    const [sent] = await notificationsOf(id);
    expect(sent).toMatchObject({ state: 'sent', attempts: 1, lastError: null });
    expect(sent!.sentAt).toBeInstanceOf(Date);

    const mails = mailsTo(user.email);
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(mail.from).toBe('mailferry@portal.test');
    expect(mail.to).toEqual([user.email]);
    const read = readMail(mail.raw);
    expect(read.subject).toBe(`Migration finished: ${source} → ${target}`);
    expect(read.header('message-id')).toBe(`<migration-event-${queued!.eventId}.${id}@portal.test>`);
    expect(read.header('auto-submitted')).toBe('auto-generated');
    expect(read.text).toContain(`The migration from ${source} to ${target} has finished. Everything was copied, and the verification found every message of the source on the target.`);
    expect(read.text).toMatch(/Copied: +5 of 5 messages\n/);
    expect(read.text).toMatch(/Not copied: +Nothing\n/);
    expect(read.text).toContain('  INBOX: 3 of 3 present\n');
    expect(read.text).toContain('  Sent: 2 of 2 present\n');
    // Free mode: the migration lives under Migration status.
    expect(read.text).toContain(`https://portal.example.test/migrations/${id}\n`);
    expect(read.html).toContain(`href="https://portal.example.test/migrations/${id}"`);
    expect(read.html).toContain('INBOX: 3 of 3 present');

    const all = everything(mail);
    for (const secret of [password, 'login-of-the-source', 'login-of-the-target', `127.0.0.1:${dovecot.port}`, '127.0.0.1', smtpLogin.password, smtpLogin.user]) {
      expect(all, secret).not.toContain(secret);
    }
  });

  it('sends once per event however often its job runs', async () => {
    const [source, target] = [await newUser(dovecot, 'n2-src'), await newUser(dovecot, 'n2-dst')];
    await fillMailbox(await open(dovecot, source), [{ folder: 'INBOX', raw: makeMessage({ subject: 'once' }) }]);
    const { user, id } = await customerMigration({ user: source, server: dovecot }, { user: target, server: dovecot });
    expect(await runMigrationPhase(db, id, 'run', await deps())).toBe('finished');
    await sendQueued();
    expect(mailsTo(user.email)).toHaveLength(1);

    // The same job again (a retry, a second worker): the row says sent, nothing goes out.
    const [row] = await notificationsOf(id);
    await enqueueJob(db, migrationNotifyJob, { eventId: String(row!.eventId) }, { jobKey: notificationJobKey(row!.eventId) });
    await enqueueJob(db, migrationNotifyJob, { eventId: String(row!.eventId) });
    await sendQueued();
    expect(await deliverMigrationNotification(db, row!.eventId, { config, isLastAttempt: false })).toBe('already_done');
    expect(mailsTo(user.email)).toHaveLength(1);
    expect((await notificationsOf(id))[0]).toMatchObject({ state: 'sent', attempts: 1 });
  });

  it('tells of a failed migration with its reason', async () => {
    const source = await newUser(dovecot, 'n3-src');
    // The target's login does not exist: the first pass fails for good.
    const { user, id } = await customerMigration({ user: source, server: dovecot }, { user: 'nobody-here@example.test', server: dovecot });
    expect(await runMigrationPhase(db, id, 'run', await deps())).toBe('failed');
    await sendQueued();
    const mails = mailsTo(user.email);
    expect(mails).toHaveLength(1);
    const read = readMail(mails[0]!.raw);
    expect(read.subject).toBe(`Migration failed: ${source} → nobody-here@example.test`);
    expect(read.text).toContain('has failed and stopped. The username or password is wrong.');
    expect(read.text).toMatch(/State: +Failed\n/);
    expect(read.text).toMatch(/Reason: +The username or password is wrong\.\n/);
    expect(everything(mails[0]!)).not.toContain(password);
    expect((await notificationsOf(id)).map((n) => [n.event.kind, n.state])).toEqual([['failed', 'sent']]);
  });

  it('tells of an incomplete migration, and of a gap a later verification finds, one e-mail each; in commercial mode the link goes to Finished migrations', async () => {
    const [source, target] = [await newUser(dovecot, 'n4-src'), await newUser(limited, 'n4-dst')];
    // The limited target refuses messages over 20 KB: one of four is not copied.
    await fillMailbox(await open(dovecot, source), [
      ...Array.from({ length: 3 }, (_, i) => ({ folder: 'INBOX', raw: makeMessage({ subject: `small ${i}` }) })),
      { folder: 'INBOX', raw: makeMessage({ subject: 'too large', bodyBytes: 40_000 }) },
    ]);
    const { organization, user, id } = await customerMigration({ user: source, server: dovecot }, { user: target, server: limited });
    await db.licenceKey.create({ data: { keyHash: randomBytes(16).toString('hex'), lastGroup: 'ABCDE', size: 5, organizationId: organization.id, registeredAt: new Date() } });
    expect(await runMigrationPhase(db, id, 'run', await deps())).toBe('incomplete');
    await sendQueued();
    let mails = mailsTo(user.email);
    expect(mails).toHaveLength(1);
    let read = readMail(mails[0]!.raw);
    expect(read.subject).toBe(`Migration incomplete: ${source} → ${target}`);
    expect(read.text).toContain('has ended, but not everything was copied: 1 message not copied.');
    expect(read.text).toMatch(/Copied: +3 of 4 messages\n/);
    expect(read.text).toContain('  INBOX: 1 missing (3 of 4 present)\n');
    expect(read.text).toContain(`https://portal.example.test/migrations/finished/${id}\n`);

    expect((await notificationsOf(id)).map((n) => [n.event.kind, n.state])).toEqual([['incomplete', 'sent']]);

    // A finished migration of the same customer; then someone deletes a copied message on its
    // target, and the migration is verified again: it turns incomplete, and that is told too.
    const [source2, target2] = [await newUser(dovecot, 'n4b-src'), await newUser(dovecot, 'n4b-dst')];
    await fillMailbox(await open(dovecot, source2), Array.from({ length: 4 }, (_, i) => ({ folder: 'INBOX', raw: makeMessage({ subject: `kept ${i}` }) })));
    const second = await migrationOf(organization.id, { user: source2, server: dovecot }, { user: target2, server: dovecot }, null);
    await db.migration.update({ where: { id: second }, data: { createdByUserId: user.id } });
    expect(await runMigrationPhase(db, second, 'run', await deps())).toBe('finished');
    const targetClient = await open(dovecot, target2);
    await targetClient.mailboxOpen('INBOX');
    await targetClient.messageDelete('2', { uid: true });
    await verifyMigration(db, second, 'run', { source: endpoint(source2, dovecot), target: endpoint(target2, dovecot), policy: harness.policy() });
    await sendQueued();
    mails = mailsTo(user.email);
    expect(mails).toHaveLength(3);
    // Both e-mails were queued before one send: they may arrive in either order.
    const later = mails.slice(1).map((m) => readMail(m.raw));
    expect(later.map((m) => m.subject).sort()).toEqual([`Migration finished: ${source2} → ${target2}`, `Verification found a gap: ${source2} → ${target2}`]);
    read = later.find((m) => m.subject.startsWith('Verification found a gap'))!;
    expect(read.text).toContain(`The migration from ${source2} to ${target2} was verified again, and the verification found a gap: 1 message missing on the target.`);
    expect(read.text).toMatch(/State: +Incomplete: Finished, but verification found 1 message missing on the target\n/);
    expect(read.text).toContain('  INBOX: 1 missing (3 of 4 present)\n');
    expect(read.text).toContain(`https://portal.example.test/migrations/finished/${second}\n`);
    expect((await notificationsOf(second)).map((n) => [n.event.kind, n.state])).toEqual([
      ['finished', 'sent'],
      ['verification_gap', 'sent'],
    ]);
  });

  it('sends nothing to a user who switched e-mails off, is disabled, or is gone, and nothing when SMTP is not set up', async () => {
    const cases = [
      { name: 'opted out', change: (userId: string) => db.user.update({ where: { id: userId }, data: { notifyByEmail: false } }), reason: 'The user switched migration e-mails off.' },
      { name: 'disabled', change: (userId: string) => db.user.update({ where: { id: userId }, data: { disabledAt: new Date() } }), reason: 'The user who created the migration is disabled.' },
      { name: 'gone', change: (userId: string) => db.user.delete({ where: { id: userId } }), reason: 'The user who created the migration no longer exists.' },
    ];
    const ids: string[] = [];
    for (const c of cases) {
      const { user, id } = await customerMigration({ user: await newUser(dovecot, 'n5-src'), server: dovecot }, { user: await newUser(dovecot, 'n5-dst'), server: dovecot });
      await db.$transaction((tx) => recordMigrationEvent(tx, id, 'failed'));
      await c.change(user.id);
      ids.push(id);
    }
    const before = smtp.received.length;
    await sendQueued();
    expect(smtp.received.length).toBe(before);
    for (const [i, c] of cases.entries()) expect((await notificationsOf(ids[i]!))[0], c.name).toMatchObject({ state: 'skipped', attempts: 0, lastError: c.reason });

    // Without SMTP, a user who wants e-mails gets none either; the row says why.
    const { id } = await customerMigration({ user: await newUser(dovecot, 'n6-src'), server: dovecot }, { user: await newUser(dovecot, 'n6-dst'), server: dovecot });
    await db.$transaction((tx) => recordMigrationEvent(tx, id, 'finished'));
    await sendQueued(null);
    expect(smtp.received.length).toBe(before);
    expect((await notificationsOf(id))[0]).toMatchObject({ state: 'skipped', attempts: 0, lastError: 'E-mail is not set up on this installation (MAILFERRY_SMTP_URL is not set).' });

    // A migration nobody created in the portal (command line) has no one to tell: no job at all.
    const orphan = await migrationOf((await seedOrganization(db, 'customer')).organization.id, { user: await newUser(dovecot, 'n7'), server: dovecot }, { user: await newUser(dovecot, 'n7'), server: dovecot }, null);
    await db.$transaction((tx) => recordMigrationEvent(tx, orphan, 'finished'));
    expect(await notifyJobs()).toBe(0);
    expect((await notificationsOf(orphan))[0]).toMatchObject({ userId: null, state: 'skipped' });
  });

  it('retries while the SMTP server is down and sends once when it is back', async () => {
    const { user, id } = await customerMigration({ user: await newUser(dovecot, 'n8-src'), server: dovecot }, { user: await newUser(dovecot, 'n8-dst'), server: dovecot });
    await smtp.stop();
    await db.$transaction((tx) => recordMigrationEvent(tx, id, 'finished'));
    const notifier = await startNotifier();
    try {
      await waitFor('a failed attempt', async () => ((await notificationsOf(id))[0]?.lastError ?? null) !== null);
      const [down] = await notificationsOf(id);
      expect(down).toMatchObject({ state: 'pending', attempts: 1 });
      expect(down!.lastError).toMatch(/ECONNREFUSED/);
      expect(down!.lastError).not.toContain(smtpLogin.password);
      // graphile-worker's backoff: the job waits e^1 seconds before its second attempt.
      const [job] = await db.$queryRaw<{ attempts: number; run_at: Date }[]>`SELECT attempts, run_at FROM graphile_worker.jobs WHERE key = ${notificationJobKey(down!.eventId)}`;
      expect(job!.attempts).toBe(1);
      expect(job!.run_at.getTime()).toBeGreaterThan(Date.now() + 500);

      await smtp.start();
      await waitFor('the e-mail', async () => (await notificationsOf(id))[0]?.state === 'sent');
    } finally {
      await notifier.stop();
    }
    expect((await notificationsOf(id))[0]).toMatchObject({ state: 'sent', attempts: 2, lastError: null });
    expect(mailsTo(user.email)).toHaveLength(1);
    expect(await notifyJobs()).toBe(0);
  });

  it('gives up as failed on the last attempt, or at once when the server refuses the recipient for good, with no secret in the error', async () => {
    const { user, id } = await customerMigration({ user: await newUser(dovecot, 'n9-src'), server: dovecot }, { user: await newUser(dovecot, 'n9-dst'), server: dovecot });
    await db.$transaction((tx) => recordMigrationEvent(tx, id, 'finished'));
    const [row] = await notificationsOf(id);
    await smtp.stop();
    expect(await deliverMigrationNotification(db, row!.eventId, { config, isLastAttempt: true })).toBe('failed');
    const [failed] = await notificationsOf(id);
    expect(failed).toMatchObject({ state: 'failed', attempts: 1 });
    expect(failed!.lastError).toMatch(/ECONNREFUSED/);
    await smtp.start();
    // Failed is final: a later run sends nothing.
    expect(await deliverMigrationNotification(db, row!.eventId, { config, isLastAttempt: false })).toBe('already_done');

    const second = await customerMigration({ user: await newUser(dovecot, 'n10-src'), server: dovecot }, { user: await newUser(dovecot, 'n10-dst'), server: dovecot });
    await db.$transaction((tx) => recordMigrationEvent(tx, second.id, 'failed'));
    const [refused] = await notificationsOf(second.id);
    smtp.refuseRecipients('550 5.1.1 No such mailbox');
    expect(await deliverMigrationNotification(db, refused!.eventId, { config, isLastAttempt: false })).toBe('failed');
    const [stored] = await notificationsOf(second.id);
    expect(stored).toMatchObject({ state: 'failed', attempts: 1 });
    expect(stored!.lastError).toContain('550');
    expect(stored!.lastError).not.toContain(smtpLogin.password);
    expect(mailsTo(user.email).concat(mailsTo(second.user.email))).toHaveLength(0);

    // A wrong SMTP password is an error to retry (the administrator may fix it), not a success.
    const wrong: MailConfig = { ...config, smtp: { ...config.smtp, auth: { user: smtpLogin.user, pass: 'not-the-password' } } };
    const other = await customerMigration({ user: await newUser(dovecot, 'n12'), server: dovecot }, { user: await newUser(dovecot, 'n12'), server: dovecot });
    await db.$transaction((tx) => recordMigrationEvent(tx, other.id, 'finished'));
    const [pending] = await notificationsOf(other.id);
    smtp.refuseRecipients(null);
    await expect(deliverMigrationNotification(db, pending!.eventId, { config: wrong, isLastAttempt: false })).rejects.toThrow(/EAUTH/);
    const [afterAuth] = await notificationsOf(other.id);
    expect(afterAuth).toMatchObject({ state: 'pending', attempts: 1 });
    expect(afterAuth!.lastError).not.toContain('not-the-password');
  });

  it("lets each user switch its own e-mails off and on, recorded in the audit log", async () => {
    const { user } = await seedOrganization(db, 'customer');
    const caller = await callerFor(db, user.id);
    expect(await caller.account.notifications()).toMatchObject({ notifyByEmail: true, isRecipient: true });
    expect(await caller.account.setNotifications({ notifyByEmail: false })).toMatchObject({ notifyByEmail: false });
    expect((await db.user.findUniqueOrThrow({ where: { id: user.id }, select: { notifyByEmail: true } })).notifyByEmail).toBe(false);
    expect(await db.auditEvent.count({ where: { action: 'user.update_own_notifications', actorUserId: user.id } })).toBe(1);
    await expect(caller.account.setNotifications({ notifyByEmail: 'no' } as never)).rejects.toThrow();
    const { user: reseller } = await seedOrganization(db, 'reseller');
    expect(await (await callerFor(db, reseller.id)).account.notifications()).toMatchObject({ isRecipient: false });
  });
});
