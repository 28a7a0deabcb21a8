import { setTimeout as sleep } from 'node:timers/promises';
import type { JobHelpers } from 'graphile-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureMessage } from '@/server/accounts/messages';
import type { Db } from '@/server/db';
import { keyRing } from '@/server/crypto/runtime';
import { issueKeys } from '@/server/licensing/keys';
import type { KeySize } from '@/server/licensing/schemas';
import { lockUsage, quotaOf } from '@/server/licensing/quota';
import { registerKey } from '@/server/licensing/registration';
import { acquireLease, releaseLease } from '@/server/migrations/connection-leases';
import { createMigration } from '@/server/migrations/create-migration';
import { listMigrations } from '@/server/migrations/list-migrations';
import { checkMassRecords, LOGINS_PER_HOST } from '@/server/migrations/mass/check-records';
import { massSubmissionJobKey } from '@/server/migrations/mass/jobs';
import type { MassSubmissionStatus } from '@/server/migrations/mass/submission-types';
import { MASS_HEADER } from '@/server/migrations/mass/types';
import { tasks } from '@/workers/runner';
import { startCountingProxy, type CountingProxy } from './helpers/counting-proxy';
import { isolatedDb, seedOrganization } from './helpers/database';
import { startDovecot, type DovecotServer } from './helpers/dovecot';
import { callerFor, codeOf } from './helpers/trpc';

// A database of its own: the workers other test files start on the shared one would otherwise
// take this file's check jobs in the moment between a submission and the test running them.
const database = isolatedDb();
let db: Db;
beforeAll(() => {
  db = database.db();
});
// Quoted in the text: a password may hold the separator and quotes.
const PASSWORD = 'Mass;"pw 42';
const WRONG = 'not the password';
// Its own loopback address: the connection leases this file's checks hold on it never take
// the slots other test files' migrations to 127.0.0.1 need meanwhile.
const HOST = '127.0.0.3';

let dovecot: DovecotServer;
let proxy: CountingProxy;
let pairs = 0;
const PAIRS = 400;

const userOf = (n: number, side: 'src' | 'dst') => `mass${n}-${side}@example.test`;

/** The next unused source/target pair of Dovecot users (all created up front, in one passwd-file write). */
function nextPair() {
  pairs += 1;
  if (pairs > PAIRS) throw new Error('more pairs than Dovecot users');
  return { source: userOf(pairs, 'src'), target: userOf(pairs, 'dst') };
}

const quote = (value: string) => (/[;"\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString().slice(0, 16).replace('T', ' ');

interface LineSpec {
  source: string;
  target: string;
  sourcePassword?: string;
  targetPassword?: string;
  server?: string;
}

/** A text as a customer pastes it: header, a comment, then one record per line (lines 3, 4, …). */
function massText(records: LineSpec[], start = tomorrow()): string {
  const server = `imap://${HOST}:${proxy.port}`;
  const lines = records.map((r) =>
    ['imap', r.source, r.source, r.sourcePassword ?? PASSWORD, r.server ?? server, 'imap', r.target, r.target, r.targetPassword ?? PASSWORD, r.server ?? server, start, '']
      .map(quote)
      .join(';'),
  );
  return [MASS_HEADER, '# moved on the weekend', ...lines].join('\n') + '\n';
}
const FIRST_LINE = 3;

async function commercialCustomer(sizes: KeySize[]) {
  const customer = await seedOrganization(db, 'customer');
  for (const size of sizes) {
    const { keys } = await issueKeys(db, null, { resellerId: null, size, count: 1 });
    await registerKey(db, { organizationId: customer.organization.id, actor: { userId: customer.user.id } }, { key: keys[0]!.key });
  }
  return { ...customer, caller: await callerFor(db, customer.user.id) };
}

const checkJobs = (submissionId: string) =>
  db.$queryRaw<{ payload: unknown; key: string | null }[]>`
    SELECT j.payload, j.key FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
    WHERE t.identifier = 'mass_submission__check' AND j.payload->>'submissionId' = ${submissionId}`;

/**
 * Takes the submission's check job off the shared queue, after checking what it holds, so this
 * file runs the check itself: a worker of another test file would read another environment.
 */
async function takeJobOff(submissionId: string) {
  const jobs = await checkJobs(submissionId);
  expect(jobs).toEqual([{ payload: { submissionId }, key: massSubmissionJobKey(submissionId) }]);
  await db.$executeRaw`SELECT graphile_worker.remove_job(${massSubmissionJobKey(submissionId)}::text)`;
  expect(await checkJobs(submissionId)).toEqual([]);
}

async function submitted(caller: Awaited<ReturnType<typeof commercialCustomer>>['caller'], text: string): Promise<string> {
  const result = await caller.mass.submit({ text });
  if (!result.ok) throw new Error(`expected the submission to be accepted, got ${JSON.stringify(result)}`);
  await takeJobOff(result.submissionId);
  return result.submissionId;
}

const check = async (submissionId: string, options: { timeBudgetMs?: number } = {}) =>
  checkMassRecords(db, submissionId, { ring: await keyRing(), timeBudgetMs: options.timeBudgetMs ?? 120_000 });

async function sealedLeft(submissionId: string): Promise<number> {
  return db.massRecord.count({ where: { submissionId, OR: [{ sourcePasswordSealed: { not: null } }, { targetPasswordSealed: { not: null } }] } });
}

describe('mass migration', () => {
  beforeAll(async () => {
    const users = Array.from({ length: PAIRS }, (_, i) => [
      { username: userOf(i + 1, 'src'), password: PASSWORD },
      { username: userOf(i + 1, 'dst'), password: PASSWORD },
    ]).flat();
    dovecot = await startDovecot({ users, tls: 'none' });
    proxy = await startCountingProxy({ targetHost: '127.0.0.1', targetPort: dovecot.port, host: HOST });
    // Read on the first use of the environment: the proxied Dovecot is an allowed private host.
    process.env.MAILFERRY_ALLOWED_HOSTS = `${HOST}/32:${proxy.port}`;
    process.env.MAILFERRY_INSECURE_HOSTS = HOST;
    process.env.MAILFERRY_TIMEZONE = 'UTC';
  });
  afterAll(async () => {
    await proxy?.stop();
    await dovecot?.stop();
  });

  it('turns 300 records into 293 migrations; the 7 with a wrong password come back with the side and the reason, holding no unit and no credentials', async () => {
    const { organization, caller } = await commercialCustomer([100, 100, 100, 10]);
    const wrongSource = new Set([5, 77, 150, 299]);
    const wrongTarget = new Set([1, 200, 300]);
    const specs: LineSpec[] = Array.from({ length: 300 }, (_, i) => {
      const n = i + 1;
      return { ...nextPair(), sourcePassword: wrongSource.has(n) ? WRONG : PASSWORD, targetPassword: wrongTarget.has(n) ? WRONG : PASSWORD };
    });
    const submittedAt = Date.now();
    const submissionId = await submitted(caller, massText(specs));
    const submitMs = Date.now() - submittedAt;

    // Stored before any login: every unit reserved, nothing typed in plain text at rest.
    expect(await quotaOf(db, organization.id)).toMatchObject({ total: 310, used: 300, remaining: 10 });
    const stored = await db.$queryRaw<{ text: string }[]>`SELECT row_to_json(r)::text AS text FROM mass_records r WHERE submission_id = ${submissionId}::uuid`;
    expect(stored).toHaveLength(300);
    expect(stored.some((r) => r.text.includes(PASSWORD) || r.text.includes('pw 42') || r.text.includes(WRONG))).toBe(false);
    expect(await sealedLeft(submissionId)).toBe(300);
    const audit = await db.auditEvent.findMany({ where: { organizationId: organization.id }, select: { details: true } });
    expect(JSON.stringify(audit)).not.toContain('pw 42');

    // Progress while the job runs, as the page polls it.
    const seen: MassSubmissionStatus[] = [];
    let isRunning = true;
    const polling = (async () => {
      while (isRunning) {
        seen.push(await caller.mass.status({ id: submissionId }));
        await sleep(150);
      }
    })();
    proxy.resetPeak();
    const checkStarted = Date.now();
    expect(await check(submissionId)).toBe('done');
    const checkMs = Date.now() - checkStarted;
    isRunning = false;
    await polling;

    const midway = seen.filter((s) => s.state === 'checking' && s.checked > 0 && s.checked < 300);
    expect(midway.length).toBeGreaterThan(0);
    for (const s of seen) expect(s.checked).toBe(s.created + s.failed);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.checked).toBeGreaterThanOrEqual(seen[i - 1]!.checked);
    // Both sides of a record are on the one host: never more logins at its door than the limit.
    expect(proxy.peak).toBeLessThanOrEqual(LOGINS_PER_HOST);
    expect(proxy.peak).toBeGreaterThanOrEqual(2);

    const status = await caller.mass.status({ id: submissionId });
    expect(status).toMatchObject({ state: 'done', records: 300, checked: 300, created: 293, failed: 7 });
    expect(status.finishedAt).toBeInstanceOf(Date);
    expect(status.lines.map((l) => l.line)).toEqual(specs.map((_, i) => FIRST_LINE + i));
    const failedLines = status.lines.filter((l) => l.state === 'failed');
    expect(failedLines.map((l) => l.line - FIRST_LINE + 1).sort((a, b) => a - b)).toEqual([1, 5, 77, 150, 200, 299, 300]);
    const wrong = { ok: false, reason: 'auth_failed', message: failureMessage('auth_failed') };
    for (const line of failedLines) {
      const n = line.line - FIRST_LINE + 1;
      if (wrongSource.has(n)) expect(line).toMatchObject({ failed: 'source', source: wrong, target: { ok: true }, message: 'The source account could not be used.', migrationId: null });
      else expect(line).toMatchObject({ failed: 'target', source: { ok: true }, target: wrong, message: 'The target account could not be used.', migrationId: null });
    }
    expect(JSON.stringify(status)).not.toContain('pw 42');

    // 293 scheduled migrations in Active migrations, each with its own sealed credentials.
    const active = await listMigrations(db, organization.id, 'active', 'UTC');
    expect(active).toHaveLength(293);
    expect(active.every((m) => m.state === 'scheduled')).toBe(true);
    const createdLines = status.lines.filter((l) => l.state === 'created');
    expect(new Set(active.map((m) => m.id))).toEqual(new Set(createdLines.map((l) => l.migrationId)));
    expect(new Set(active.map((m) => `${m.source.email}>${m.target.email}`))).toEqual(new Set(createdLines.map((l) => `${l.sourceEmail}>${l.targetEmail}`)));
    expect(await db.migrationAccount.count({ where: { migration: { organizationId: organization.id }, passwordSealed: { not: null } } })).toBe(586);
    const jobs = await db.$queryRaw<{ count: bigint }[]>`
      SELECT count(*) AS count FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      WHERE t.identifier = 'migration__run' AND j.key = ANY(${active.map((m) => `migration:${m.id}`)}::text[])`;
    expect(Number(jobs[0]!.count)).toBe(293);

    // The 7: no migration, no credentials anywhere; every record's own sealed copies are gone.
    const failedEmails = failedLines.flatMap((l) => [l.sourceEmail, l.targetEmail]);
    expect(await db.migrationAccount.count({ where: { email: { in: failedEmails } } })).toBe(0);
    expect(await sealedLeft(submissionId)).toBe(0);

    // Units exactly right: 293 held by their migrations, 7 given back.
    expect(await quotaOf(db, organization.id)).toMatchObject({ total: 310, used: 293, remaining: 17 });
    const reservations = await db.quotaReservation.groupBy({ by: ['state'], where: { organizationId: organization.id }, _count: true });
    expect(Object.fromEntries(reservations.map((r) => [r.state, r._count]))).toEqual({ reserved: 293, released: 7 });
    expect(await db.quotaReservation.count({ where: { organizationId: organization.id, state: 'reserved', migrationId: null } })).toBe(0);

    // The reloaded page finds the report.
    expect((await caller.mass.latest())?.id).toBe(submissionId);

    // Running the job again after it finished changes nothing.
    expect(await check(submissionId)).toBe('ignored');
    expect(await caller.mass.status({ id: submissionId })).toEqual(status);
    expect(await db.migration.count({ where: { organizationId: organization.id } })).toBe(293);
    expect(await quotaOf(db, organization.id)).toMatchObject({ used: 293, remaining: 17 });

    console.info(`300 records: submit ${submitMs} ms, logins checked in ${checkMs} ms (${((300 / checkMs) * 1000).toFixed(1)} records/s), peak ${proxy.peak} logins at once`);
  }, 90_000);

  it('lets only one of two submissions racing for the last units through; the other is refused with both numbers', async () => {
    const { organization, caller } = await commercialCustomer([5]);
    const texts = [massText([nextPair(), nextPair(), nextPair(), nextPair()]), massText([nextPair(), nextPair(), nextPair(), nextPair()])];
    // The usage row is held while both submissions start, so both pass the first look at the
    // quota and meet at the reservation, where the lock lets one decide after the other.
    let isHeld!: () => void;
    const held = new Promise<void>((resolve) => (isHeld = resolve));
    const holder = db.$transaction(async (tx) => {
      await lockUsage(tx, organization.id);
      isHeld();
      await sleep(1_000);
    });
    await held;
    const heldAt = Date.now();
    const answeredAfter: number[] = [];
    const results = await Promise.all(
      texts.map(async (text) => {
        const result = await caller.mass.submit({ text });
        answeredAfter.push(Date.now() - heldAt);
        return result;
      }),
    );
    await holder;
    // Neither was turned away by the first look: both waited for the lock.
    expect(Math.min(...answeredAfter)).toBeGreaterThanOrEqual(900);

    const accepted = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(accepted).toHaveLength(1);
    expect(refused).toEqual([
      { ok: false, reason: 'not_enough_units', needed: 4, remaining: 1, total: 5, message: 'This needs 4 migrations, but only 1 of 5 remain.' },
    ]);
    expect(await quotaOf(db, organization.id)).toMatchObject({ used: 4, remaining: 1 });
    expect(await db.quotaReservation.count({ where: { organizationId: organization.id } })).toBe(4);
    expect(await db.massSubmission.count({ where: { organizationId: organization.id } })).toBe(1);
    expect(await db.massRecord.count({ where: { submission: { organizationId: organization.id } } })).toBe(4);
    if (accepted[0]?.ok) await takeJobOff(accepted[0].submissionId);
  });

  it('refuses a submission that needs more units than remain before any login is tried, storing nothing', async () => {
    const { organization, caller } = await commercialCustomer([5]);
    const before = proxy.connections;
    const result = await caller.mass.submit({ text: massText(Array.from({ length: 6 }, () => ({ ...nextPair(), sourcePassword: WRONG }))) });
    expect(result).toEqual({ ok: false, reason: 'not_enough_units', needed: 6, remaining: 5, total: 5, message: 'This needs 6 migrations, but only 5 of 5 remain.' });
    // Not one connection reached the mail server, and nothing was kept.
    expect(proxy.connections).toBe(before);
    expect(await db.massSubmission.count({ where: { organizationId: organization.id } })).toBe(0);
    expect(await db.quotaReservation.count({ where: { organizationId: organization.id } })).toBe(0);
    const jobs = await db.$queryRaw<{ count: bigint }[]>`
      SELECT count(*) AS count FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      JOIN mass_submissions s ON s.id::text = j.payload->>'submissionId' WHERE t.identifier = 'mass_submission__check' AND s.organization_id = ${organization.id}::uuid`;
    expect(Number(jobs[0]!.count)).toBe(0);
  });

  it('refuses a text its own formal check finds not clean, answering each line without what was typed', async () => {
    const { organization, caller } = await commercialCustomer([5]);
    const good = nextPair();
    const text = massText([good, { source: 'not-an-address', target: nextPair().target }, good]);
    const result = await caller.mass.submit({ text });
    expect(result).toMatchObject({ ok: false, reason: 'not_clean', records: 3, error: null });
    if (result.ok || result.reason !== 'not_clean') throw new Error('expected not_clean');
    expect(result.lines.find((l) => l.line === FIRST_LINE + 1)).toMatchObject({ status: 'invalid', fields: { 'source.email': expect.any(String) } });
    expect(result.lines.find((l) => l.line === FIRST_LINE + 2)).toMatchObject({ status: 'duplicate', duplicateOf: FIRST_LINE });
    for (const line of result.lines) expect(Object.keys(line).sort()).toEqual(['duplicateOf', 'fields', 'line', 'notes', 'problem', 'status']);
    expect(JSON.stringify(result)).not.toContain('pw 42');
    expect(await db.massSubmission.count({ where: { organizationId: organization.id } })).toBe(0);
    expect(await quotaOf(db, organization.id)).toMatchObject({ used: 0 });

    // A text far over the limit does not even reach the check.
    expect(await codeOf(caller.mass.submit({ text: 'x'.repeat(2_200_000) }))).toBe('BAD_REQUEST');
  });

  it('is for commercial organizations only, and shows a submission to its own organization only', async () => {
    const free = await seedOrganization(db, 'customer');
    const freeCaller = await callerFor(db, free.user.id);
    expect(await codeOf(freeCaller.mass.context())).toBe('FORBIDDEN');
    expect(await codeOf(freeCaller.mass.submit({ text: massText([nextPair()]) }))).toBe('FORBIDDEN');
    expect(await db.massSubmission.count({ where: { organizationId: free.organization.id } })).toBe(0);

    const owner = await commercialCustomer([5]);
    const id = await submitted(owner.caller, massText([nextPair()]));
    const other = await commercialCustomer([5]);
    expect(await codeOf(other.caller.mass.status({ id }))).toBe('NOT_FOUND');
    expect(await other.caller.mass.latest()).toBeNull();
    expect(await owner.caller.mass.status({ id })).toMatchObject({ id, state: 'checking', records: 1, checked: 0 });

    const context = await owner.caller.mass.context();
    expect(context).toMatchObject({ zone: 'UTC', zoneOffset: '+00:00', microsoft365: false, quota: { mode: 'commercial', total: 5, remaining: 4 } });
    expect(context.hosts.allow).toContain(`${HOST}:${proxy.port}`);
    // The record still being checked counts as being migrated for the next list.
    const record = await db.massRecord.findFirstOrThrow({ where: { submissionId: id }, select: { sourceEmail: true, targetEmail: true } });
    expect(context.active).toContainEqual({ source: record.sourceEmail, target: record.targetEmail });
  });

  it('completes a record a crashed run left `checking`, and two runs at once create each migration once', async () => {
    const { organization, caller } = await commercialCustomer([10]);
    const id = await submitted(caller, massText([nextPair(), nextPair(), { ...nextPair(), targetPassword: WRONG }, nextPair(), nextPair()]));
    // A worker killed mid-check leaves its record `checking`, its passwords still sealed.
    await db.massRecord.update({ where: { submissionId_line: { submissionId: id, line: FIRST_LINE + 1 } }, data: { state: 'checking' } });
    await db.massRecord.update({ where: { submissionId_line: { submissionId: id, line: FIRST_LINE + 2 } }, data: { state: 'checking' } });
    const outcomes = await Promise.all([check(id), check(id)]);
    expect(outcomes).toContain('done');

    const status = await caller.mass.status({ id });
    expect(status).toMatchObject({ state: 'done', records: 5, checked: 5, created: 4, failed: 1 });
    expect(status.lines.map((l) => l.state)).toEqual(['created', 'created', 'failed', 'created', 'created']);
    expect(await db.migration.count({ where: { organizationId: organization.id } })).toBe(4);
    expect(await quotaOf(db, organization.id)).toMatchObject({ used: 4, remaining: 6 });
    const released = await db.quotaReservation.count({ where: { organizationId: organization.id, state: 'released' } });
    expect(released).toBe(1);
    expect(await sealedLeft(id)).toBe(0);
    // The audit has each migration once.
    expect(await db.auditEvent.count({ where: { organizationId: organization.id, action: 'migration.create' } })).toBe(4);
  });

  it('hands over to the next job when its time is up, and waits for a full host instead of failing', async () => {
    const { organization, caller } = await commercialCustomer([5]);
    const id = await submitted(caller, massText([nextPair(), nextPair()]));

    expect(await check(id, { timeBudgetMs: 0 })).toBe('continues');
    expect(await checkJobs(id)).toEqual([{ payload: { submissionId: id }, key: massSubmissionJobKey(id) }]);
    await takeJobOff(id);
    expect((await caller.mass.status({ id })).lines.map((l) => l.state)).toEqual(['pending', 'pending']);

    // Running migrations hold every connection slot of the host.
    const full = await acquireLease(db, HOST, 12, 120);
    expect(full).not.toBeNull();
    const before = proxy.connections;
    const running = check(id);
    await sleep(2_500);
    expect(proxy.connections).toBe(before);
    expect((await caller.mass.status({ id })).lines.map((l) => l.state)).toEqual(['pending', 'pending']);
    await releaseLease(db, full!);
    expect(await running).toBe('done');
    expect(await caller.mass.status({ id })).toMatchObject({ state: 'done', created: 2, failed: 0 });
    expect(await db.migration.count({ where: { organizationId: organization.id } })).toBe(2);
  });

  it('logs in to a target shared by many records once, and stops guessing one mailbox with the per-account limit', async () => {
    const { caller } = await commercialCustomer([25]);
    // Twelve mailboxes merged into one target: twelve source logins and one target login.
    const shared = nextPair().target;
    const merged = Array.from({ length: 12 }, () => ({ source: nextPair().source, target: shared }));
    const id = await submitted(caller, massText(merged));
    const before = proxy.connections;
    expect(await check(id)).toBe('done');
    expect(proxy.connections - before).toBe(13);
    expect(await caller.mass.status({ id })).toMatchObject({ created: 12, failed: 0 });

    // Eleven other passwords for one mailbox: the eleventh try is not made.
    const victim = nextPair().target;
    const guesses = Array.from({ length: 11 }, (_, i) => ({ source: nextPair().source, target: victim, targetPassword: `guess ${i}` }));
    const guessed = await submitted(caller, massText(guesses));
    expect(await check(guessed)).toBe('done');
    const lines = (await caller.mass.status({ id: guessed })).lines;
    expect(lines.every((l) => l.state === 'failed' && l.failed === 'target')).toBe(true);
    const reasons = lines.map((l) => (l.target?.ok === false ? l.target.reason : 'ok'));
    expect(reasons.filter((r) => r === 'auth_failed')).toHaveLength(10);
    const limited = lines.filter((l) => l.target?.ok === false && l.target.reason === 'rate_limited');
    expect(limited).toHaveLength(1);
    expect(limited[0]!.target).toEqual({ ok: false, reason: 'rate_limited', message: expect.stringMatching(/^Too many checks in a short time\. Try again in /) });
  });

  it('is checked by the worker task registered for its job', async () => {
    const { caller } = await commercialCustomer([5]);
    const id = await submitted(caller, massText([nextPair()]));
    const implementation = tasks.find((t) => t.name === 'mass_submission__check');
    expect(implementation).toBeDefined();
    await implementation!.task(db)({ submissionId: id }, { job: { id: 'test' } } as unknown as JobHelpers);
    expect(await caller.mass.status({ id })).toMatchObject({ state: 'done', created: 1 });
  });

  it('fails one record with a plain message and gives its unit back when something unexpected goes wrong, and goes on with the others', async () => {
    const { organization, user, caller } = await commercialCustomer([5]);
    const id = await submitted(caller, massText([nextPair(), nextPair(), nextPair()]));
    // The second record's unit is taken by another migration meanwhile: creating its migration
    // fails inside its transaction.
    const other = nextPair();
    const keys = await keyRing();
    const account = (email: string) => ({ type: 'imap' as const, email, username: email, password: PASSWORD, server: `imap://${HOST}:${proxy.port}` });
    const intruder = await createMigration(db, keys, { organizationId: organization.id, createdByUserId: user.id, source: account(other.source), target: account(other.target), startAt: new Date(Date.now() + 86_400_000), resyncAt: null });
    await db.$executeRaw`SELECT graphile_worker.remove_job(${`migration:${intruder.id}`}::text)`;
    const record = await db.massRecord.findUniqueOrThrow({ where: { submissionId_line: { submissionId: id, line: FIRST_LINE + 1 } }, select: { reservationId: true } });
    await db.quotaReservation.update({ where: { id: record.reservationId! }, data: { migrationId: intruder.id } });

    expect(await check(id)).toBe('done');
    const status = await caller.mass.status({ id });
    expect(status).toMatchObject({ state: 'done', created: 2, failed: 1 });
    expect(status.lines[1]).toMatchObject({ state: 'failed', failed: null, source: null, target: null, migrationId: null });
    expect(status.lines[1]!.message).toMatch(/problem on our side/);
    expect(await db.quotaReservation.findUniqueOrThrow({ where: { id: record.reservationId! }, select: { state: true } })).toEqual({ state: 'released' });
    expect(await sealedLeft(id)).toBe(0);
  });
});
