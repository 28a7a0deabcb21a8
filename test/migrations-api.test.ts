import type { ImapFlow } from 'imapflow';
import { TRPCError } from '@trpc/server';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { ZodError } from 'zod';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ALLOWED_PORTS, type NetworkPolicy } from '@/server/accounts/network/host-policy';
import { parseHostRules } from '@/server/accounts/network/host-rules';
import { keyRing } from '@/server/crypto/runtime';
import { issueKeys } from '@/server/licensing/keys';
import { quotaOf, reserveUnits } from '@/server/licensing/quota';
import { registerKey } from '@/server/licensing/registration';
import { runMigrationPhase } from '@/server/migrations/run-migration';
import { loadSessionUser } from '@/server/auth/session-user';
import { createContext } from '@/server/trpc/init';
import { appRouter } from '@/server/trpc/root';
import { startCuttingProxy, type CuttingProxy } from './helpers/cutting-proxy';
import { startDovecot, type DovecotServer } from './helpers/dovecot';
import { seedOrganization, testDb } from './helpers/database';
import { fillMailbox, makeMessage, openImap } from './helpers/mailbox';
import { callerFor, codeOf } from './helpers/trpc';

const db = testDb();
const password = 'Ferry;"pass wörd 42';
let dovecot: DovecotServer;
let slow: CuttingProxy;
let direct: CuttingProxy;
let users = 0;
const clients: ImapFlow[] = [];

/**
 * Dovecot seen from 127.0.0.2, optionally with the server's answers throttled so a copy takes
 * long enough to cancel. The other address keeps this file's long copy from holding the
 * per-host connection slots (server/migrations/connection-leases.ts) that other test files'
 * migrations to 127.0.0.1 need meanwhile.
 */
function startProxy(targetPort: number, serverBytesPerSecond?: number): Promise<CuttingProxy> {
  return startCuttingProxy({ targetHost: '127.0.0.1', targetPort, host: PROXY_HOST, ...(serverBytesPerSecond ? { serverBytesPerSecond } : {}) });
}

const PROXY_HOST = '127.0.0.2';

function policy(): NetworkPolicy {
  return {
    allow: parseHostRules('127.0.0.0/8').rules,
    insecure: parseHostRules(`127.0.0.1,${PROXY_HOST}`).rules,
    extraCaPem: null,
    allowedPorts: [...DEFAULT_ALLOWED_PORTS, dovecot.port, slow.port, direct.port],
  };
}

const server = (port = dovecot.port, host = '127.0.0.1') => `imap://${host}:${port}`;

async function mailboxPair(messages = 3) {
  const n = ++users;
  const source = `api-src${n}-${Date.now()}@example.test`;
  const target = `api-dst${n}-${Date.now()}@example.test`;
  await dovecot.addUser({ username: source, password });
  await dovecot.addUser({ username: target, password });
  if (messages > 0) {
    const client = await openImap(dovecot.port, source, password);
    clients.push(client);
    await fillMailbox(client, Array.from({ length: messages }, () => ({ folder: 'INBOX', raw: makeMessage({ bodyBytes: 600 }) })));
  }
  const account = (email: string, options: { password?: string; port?: number; host?: string } = {}) => ({
    type: 'imap' as const,
    email,
    username: email,
    password: options.password ?? password,
    server: server(options.port, options.host),
  });
  return { source, target, account };
}

/** A local date-time in the server's zone (UTC in these tests unless a test sets another). */
const local = (at: Date) => at.toISOString().slice(0, 16);
const tomorrow = () => local(new Date(Date.now() + 86_400_000));

async function commercialCustomer(size: 5 | 10 = 5) {
  const customer = await seedOrganization(db, 'customer');
  const { keys } = await issueKeys(db, null, { resellerId: null, size, count: 1 });
  await registerKey(db, { organizationId: customer.organization.id, actor: { userId: customer.user.id } }, { key: keys[0]!.key });
  return customer;
}

const jobsOf = (id: string) =>
  db.$queryRaw<{ task_identifier: string; run_at: Date; payload: unknown }[]>`
    SELECT t.identifier AS task_identifier, j.run_at, j.payload FROM graphile_worker._private_jobs j
    JOIN graphile_worker._private_tasks t ON t.id = j.task_id WHERE j.key = ${`migration:${id}`}`;

/**
 * Takes a migration's queued job off the queue. Every test file shares one queue, and a worker
 * started by another file would otherwise run a migration of this file that is due now.
 */
const dropJob = (id: string) => db.$executeRaw`SELECT graphile_worker.remove_job(${`migration:${id}`}::text)`;

async function errorOf(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

describe('migrations API', () => {
  beforeAll(async () => {
    dovecot = await startDovecot({ users: [], tls: 'none' });
    slow = await startProxy(dovecot.port, 400_000);
    direct = await startProxy(dovecot.port);
    // Read once, on the first check: loopback Dovecot (directly and behind the proxies) is allowed.
    process.env.MAILFERRY_ALLOWED_HOSTS = [`127.0.0.1/32:${dovecot.port}`, `${PROXY_HOST}/32:${slow.port}`, `${PROXY_HOST}/32:${direct.port}`].join(',');
    process.env.MAILFERRY_INSECURE_HOSTS = `127.0.0.1,${PROXY_HOST}`;
    process.env.MAILFERRY_TIMEZONE = 'UTC';
  });
  afterEach(async () => {
    process.env.MAILFERRY_TIMEZONE = 'UTC';
    await Promise.all(clients.splice(0).map((c) => c.logout().catch(() => c.close())));
  });
  afterAll(async () => {
    await slow?.stop();
    await direct?.stop();
    await dovecot?.stop();
  });

  it('creates a migration after checking both logins: row, sealed credentials, job at the start, one unit reserved', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const { source, target, account } = await mailboxPair(0);
    const caller = await callerFor(db, user.id);
    const start = tomorrow();
    const result = await caller.migrations.create({ source: account(source), target: account(target), startAt: start, resyncAt: '' });
    if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result)}`);
    expect(result.startsNow).toBe(false);
    expect(result.quota).toMatchObject({ mode: 'free', total: 2, remaining: 1 });
    expect(result.migration).toMatchObject({ state: 'scheduled', source: { email: source }, target: { email: target }, resyncAt: null, canCancel: true });
    const id = result.migration.id;

    const row = await db.migration.findUniqueOrThrow({ where: { id }, include: { accounts: true, reservation: true } });
    expect(row).toMatchObject({ organizationId: organization.id, createdByUserId: user.id, state: 'scheduled' });
    expect(row.startAt.toISOString()).toBe(`${start}:00.000Z`);
    expect(row.accounts).toHaveLength(2);
    for (const stored of row.accounts) {
      expect(stored.passwordSealed).toBeTruthy();
      expect(stored.passwordSealed).not.toContain(password);
    }
    expect(row.reservation).toMatchObject({ state: 'reserved', units: 1, pool: 'free' });

    const jobs = await jobsOf(id);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ task_identifier: 'migration__run', payload: { migrationId: id } });
    expect(jobs[0]!.run_at.toISOString()).toBe(row.startAt.toISOString());
    expect(await quotaOf(db, organization.id)).toMatchObject({ used: 1, remaining: 1 });
    expect(await db.auditEvent.count({ where: { organizationId: organization.id, action: 'migration.create', targetId: id } })).toBe(1);

    // It shows in the active list and the combined one, not in the finished one.
    expect((await caller.migrations.list({ list: 'active' })).map((m) => m.id)).toEqual([id]);
    expect((await caller.migrations.list({ list: 'all' })).map((m) => m.id)).toEqual([id]);
    expect(await caller.migrations.list({ list: 'finished' })).toEqual([]);
  });

  it('takes a start in the past as now, and keeps a resync that is later', async () => {
    const { user } = await seedOrganization(db, 'customer');
    const { source, target, account } = await mailboxPair(0);
    const before = Date.now();
    const result = await (await callerFor(db, user.id)).migrations.create({
      source: account(source),
      target: account(target),
      startAt: '2020-01-01T10:00',
      resyncAt: tomorrow(),
    });
    if (!result.ok) throw new Error('expected success');
    await dropJob(result.migration.id);
    expect(result.startsNow).toBe(true);
    expect(result.migration.startAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(result.migration.startAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(result.migration.resyncAt).toBeInstanceOf(Date);

    // A resync that is also in the past cannot come after "now".
    const again = await errorOf(
      (await callerFor(db, user.id)).migrations.create({ source: account(source), target: account(target), startAt: '2020-01-01T10:00', resyncAt: '2020-01-02T10:00' }),
    );
    expect(again.code).toBe('BAD_REQUEST');
    expect(again.message).toMatch(/resync must be in the future/);
  });

  it('refuses a wrong source password: names the side and the reason, stores nothing, uses no unit', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const { source, target, account } = await mailboxPair(0);
    const result = await (await callerFor(db, user.id)).migrations.create({
      source: account(source, { password: 'not the password' }),
      target: account(target),
      startAt: tomorrow(),
    });
    expect(result).toEqual({
      ok: false,
      failed: 'source',
      source: { ok: false, reason: 'auth_failed', message: 'The username or password is wrong.' },
      target: { ok: true },
      message: 'The source account could not be used.',
    });
    expect(await db.migration.count({ where: { organizationId: organization.id } })).toBe(0);
    expect(await db.quotaReservation.count({ where: { organizationId: organization.id } })).toBe(0);
    expect(await quotaOf(db, organization.id)).toMatchObject({ used: 0, remaining: 2 });

    const both = await (await callerFor(db, user.id)).migrations.create({
      source: account(source, { password: 'wrong' }),
      target: account(target, { password: 'wrong too' }),
      startAt: tomorrow(),
    });
    expect(both).toMatchObject({ ok: false, failed: 'both' });
  });

  it('refuses with a clear message when no unit is left, before any login is tried', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    expect(await reserveUnits(db, organization.id, 2)).toMatchObject({ ok: true });
    const { source, target, account } = await mailboxPair(0);
    // Wrong passwords: a check would answer "source"; the quota answers first.
    const error = await errorOf(
      (await callerFor(db, user.id)).migrations.create({ source: account(source, { password: 'x' }), target: account(target), startAt: tomorrow() }),
    );
    expect(error.code).toBe('PRECONDITION_FAILED');
    expect(error.message).toBe('Both free migrations are used up. Install a licence key to migrate more mailboxes.');
    expect(await db.migration.count({ where: { organizationId: organization.id } })).toBe(0);

    const paid = await commercialCustomer(5);
    expect(await reserveUnits(db, paid.organization.id, 5)).toMatchObject({ ok: true });
    const refused = await errorOf((await callerFor(db, paid.user.id)).migrations.create({ source: account(source), target: account(target), startAt: tomorrow() }));
    expect(refused.message).toMatch(/All 5 purchased migrations are used up/);
  });

  it('validates input with the shared schema', async () => {
    const { user } = await seedOrganization(db, 'customer');
    const caller = await callerFor(db, user.id);
    const { source, target, account } = await mailboxPair(0);
    const bad = await errorOf(caller.migrations.create({ source: account(source), target: account(target), startAt: '' }));
    expect(bad.code).toBe('BAD_REQUEST');
    const order = await errorOf(caller.migrations.create({ source: account(source), target: account(target), startAt: '2030-01-02T10:00', resyncAt: '2030-01-02T09:00' }));
    expect((order.cause as ZodError).issues).toContainEqual(expect.objectContaining({ path: ['resyncAt'], message: 'The resync must be later than the start.' }));
    const same = await errorOf(caller.migrations.create({ source: account(source), target: account(source), startAt: tomorrow() }));
    expect((same.cause as ZodError).issues).toContainEqual(expect.objectContaining({ path: ['target', 'email'] }));
  });

  describe('daylight-saving time (Europe/Berlin)', () => {
    it('refuses 2027-03-28 02:30, which the clocks skip, on the start field, before any check', async () => {
      process.env.MAILFERRY_TIMEZONE = 'Europe/Berlin';
      const { organization, user } = await seedOrganization(db, 'customer');
      const { source, target, account } = await mailboxPair(0);
      const caller = await callerFor(db, user.id);
      const error = await errorOf(caller.migrations.create({ source: account(source, { password: 'x' }), target: account(target), startAt: '2027-03-28T02:30' }));
      expect(error.code).toBe('BAD_REQUEST');
      const message = '2027-03-28 02:30 does not exist in Europe/Berlin: the clocks are put forward at that time. Choose a time an hour later.';
      expect(error.message).toBe(message);
      expect(new ZodError((error.cause as ZodError).issues).flatten().fieldErrors).toEqual({ startAt: [message] });

      const resync = await errorOf(caller.migrations.create({ source: account(source), target: account(target), startAt: '2027-03-27T10:00', resyncAt: '2027-03-28T02:30' }));
      expect(new ZodError((resync.cause as ZodError).issues).flatten().fieldErrors).toEqual({ resyncAt: [expect.stringContaining('does not exist in Europe/Berlin')] });
      expect(await db.migration.count({ where: { organizationId: organization.id } })).toBe(0);
      expect(await quotaOf(db, organization.id)).toMatchObject({ remaining: 2 });

      // Over HTTP the browser gets it as a field error, like any invalid input.
      const sessionUser = await loadSessionUser(db, user.id);
      const response = await fetchRequestHandler({
        endpoint: '/api/trpc',
        router: appRouter,
        createContext: () => createContext({ db, user: sessionUser }),
        req: new Request('http://localhost/api/trpc/migrations.create', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ json: { source: account(source), target: account(target), startAt: '2027-03-28T02:30' } }),
        }),
      });
      const body = (await response.json()) as { error: { json: { data: { code: string; zodError: { fieldErrors: Record<string, string[]> } } } } };
      expect(response.status).toBe(400);
      expect(body.error.json.data.zodError.fieldErrors).toEqual({ startAt: [message] });
    });

    it('takes 2027-10-31 02:30, which occurs twice, at its first occurrence (summer time, UTC+02:00)', async () => {
      process.env.MAILFERRY_TIMEZONE = 'Europe/Berlin';
      const { user } = await seedOrganization(db, 'customer');
      const { source, target, account } = await mailboxPair(0);
      const result = await (await callerFor(db, user.id)).migrations.create({ source: account(source), target: account(target), startAt: '2027-10-31T02:30' });
      if (!result.ok) throw new Error('expected success');
      expect(result.migration.startAt.toISOString()).toBe('2027-10-31T00:30:00.000Z');
      expect(result.migration.startLocal).toBe('31 Oct 2027, 02:30');
      expect(result.notes).toEqual(['2027-10-31 02:30 occurs twice in Europe/Berlin (the clocks are put back); the first occurrence (UTC+02:00) is used.']);
    });
  });

  it('cancels a scheduled migration: its job is removed, credentials wiped, the unit comes back', async () => {
    const customer = await commercialCustomer(5);
    const { source, target, account } = await mailboxPair(0);
    const caller = await callerFor(db, customer.user.id);
    const created = await caller.migrations.create({ source: account(source), target: account(target), startAt: tomorrow() });
    if (!created.ok) throw new Error('expected success');
    const id = created.migration.id;
    expect(await jobsOf(id)).toHaveLength(1);
    expect(await quotaOf(db, customer.organization.id)).toMatchObject({ mode: 'commercial', remaining: 4 });

    expect(await caller.migrations.cancel({ id })).toEqual({ id, was: 'scheduled', isUnitReturned: true });
    expect(await jobsOf(id)).toEqual([]);
    const row = await db.migration.findUniqueOrThrow({ where: { id }, include: { accounts: true, reservation: true } });
    expect(row.state).toBe('cancelled');
    expect(row.finishedAt).toBeInstanceOf(Date);
    expect(row.accounts.map((a) => a.passwordSealed)).toEqual([null, null]);
    expect(row.reservation?.state).toBe('released');
    expect(await quotaOf(db, customer.organization.id)).toMatchObject({ remaining: 5, used: 0 });
    expect((await caller.migrations.list({ list: 'finished' })).map((m) => [m.id, m.state, m.canCancel])).toEqual([[id, 'cancelled', false]]);
    expect(await caller.migrations.list({ list: 'active' })).toEqual([]);
    expect(await db.auditEvent.count({ where: { action: 'migration.cancel', targetId: id } })).toBe(1);

    // Cancelling it again, or a finished one, is refused with a reason.
    const again = await errorOf(caller.migrations.cancel({ id }));
    expect(again.code).toBe('CONFLICT');
    expect(again.message).toBe('This migration is already cancelled.');
    await db.migration.update({ where: { id }, data: { state: 'finished' } });
    expect((await errorOf(caller.migrations.cancel({ id }))).message).toMatch(/already finished/);
    // Ended with something not copied: ended all the same, listed with the finished ones.
    await db.migration.update({ where: { id }, data: { state: 'incomplete' } });
    expect((await errorOf(caller.migrations.cancel({ id }))).message).toMatch(/already finished/);
    expect((await caller.migrations.list({ list: 'finished' })).map((m) => [m.id, m.state, m.isActive, m.canCancel])).toEqual([[id, 'incomplete', false, false]]);
    expect(await caller.migrations.list({ list: 'active' })).toEqual([]);
    // A job that still ran would find nothing to do.
    expect(await runMigrationPhase(db, id, 'run', { ring: await keyRing(), timeBudgetMs: 1000, policy: policy() })).toBe('ignored');
  });

  it('cancels a running migration: the copy stops at its next checkpoint, the unit stays used', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const { source, target, account } = await mailboxPair(0);
    const filler = await openImap(dovecot.port, source, password);
    clients.push(filler);
    const total = 900;
    await fillMailbox(filler, Array.from({ length: total }, (_, i) => ({ folder: 'INBOX', raw: makeMessage({ bodyBytes: 1000 + (i % 7) }) })));
    const caller = await callerFor(db, user.id);
    // The source answers through the throttled proxy: each batch of 300 messages takes about a second.
    const created = await caller.migrations.create({
      source: account(source, { host: PROXY_HOST, port: slow.port }),
      target: account(target, { host: PROXY_HOST, port: direct.port }),
      startAt: '2020-01-01T00:00',
    });
    if (!created.ok) throw new Error(`expected success, got ${JSON.stringify(created)}`);
    const id = created.migration.id;
    // This test runs the job's step itself.
    await dropJob(id);

    const running = runMigrationPhase(db, id, 'run', { ring: await keyRing(), timeBudgetMs: 120_000, policy: policy() });
    // Wait for the first checkpoint, then cancel while the next batch is on its way.
    for (let i = 0; i < 300; i++) {
      const folder = await db.migrationFolder.findFirst({ where: { migrationId: id, lastUid: { gt: 0 } } });
      if (folder) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await db.migration.findUniqueOrThrow({ where: { id } })).state).toBe('running');
    expect((await db.quotaReservation.findUniqueOrThrow({ where: { migrationId: id } })).state).toBe('used');
    expect(await caller.migrations.cancel({ id })).toEqual({ id, was: 'running', isUnitReturned: false });
    expect(await running).toBe('cancelled');

    const row = await db.migration.findUniqueOrThrow({ where: { id }, include: { accounts: true, reservation: true, folders: true } });
    expect(row.state).toBe('cancelled');
    expect(row.accounts.map((a) => a.passwordSealed)).toEqual([null, null]);
    expect(row.reservation?.state).toBe('used');
    expect(await quotaOf(db, organization.id)).toMatchObject({ used: 1, remaining: 1 });
    // It stopped early, at a checkpoint. The next batch is read while one is checkpointed, so
    // the target may hold part of that batch beyond the checkpoint, never all the rest.
    const copied = row.folders.reduce((n, f) => n + f.messagesCopied, 0);
    expect(copied).toBeGreaterThan(0);
    expect(copied).toBeLessThan(total);
    const check = await openImap(dovecot.port, target, password);
    clients.push(check);
    const status = await check.status('INBOX', { messages: true });
    expect(status && status.messages).toBeGreaterThanOrEqual(copied);
    expect(status && status.messages).toBeLessThan(total);
    // The stopped run queued no next chunk.
    expect(await jobsOf(id)).toEqual([]);
  }, 60_000);

  it('keeps every organization to its own migrations: another one’s id is not found', async () => {
    const a = await seedOrganization(db, 'customer');
    const b = await seedOrganization(db, 'customer');
    const { source, target, account } = await mailboxPair(0);
    const asA = await callerFor(db, a.user.id);
    const asB = await callerFor(db, b.user.id);
    const created = await asA.migrations.create({ source: account(source), target: account(target), startAt: tomorrow() });
    if (!created.ok) throw new Error('expected success');
    const id = created.migration.id;
    expect(await codeOf(asB.migrations.get({ id }))).toBe('NOT_FOUND');
    expect(await codeOf(asB.migrations.detail({ id }))).toBe('NOT_FOUND');
    expect(await codeOf(asB.migrations.cancel({ id }))).toBe('NOT_FOUND');
    expect(await asB.migrations.list({ list: 'all' })).toEqual([]);
    expect(await codeOf(asA.migrations.get({ id: '00000000-0000-4000-8000-000000000000' }))).toBe('NOT_FOUND');
    expect(await codeOf(asA.migrations.get({ id: 'not-an-id' }))).toBe('BAD_REQUEST');
    expect((await db.migration.findUniqueOrThrow({ where: { id } })).state).toBe('scheduled');
    expect((await asA.migrations.get({ id })).id).toBe(id);
    expect(await asA.migrations.detail({ id })).toMatchObject({ id, folders: [], notCopied: [], notices: [], renamed: [] });
    // Other roles have no migrations API.
    const reseller = await seedOrganization(db, 'reseller');
    expect(await codeOf((await callerFor(db, reseller.user.id)).migrations.list({ list: 'all' }))).toBe('FORBIDDEN');
    expect(await codeOf((await callerFor(db, null)).migrations.list({ list: 'all' }))).toBe('UNAUTHORIZED');
  });

  it('never answers with a password or its ciphertext, from any procedure a customer can call', async () => {
    const { user } = await seedOrganization(db, 'customer');
    const { source, target, account } = await mailboxPair(1);
    const caller = await callerFor(db, user.id);
    const clientSecret = 'm365~client~secret~value~0987';
    const pair = { source: account(source), target: account(target) };
    const created = await caller.migrations.create({ ...pair, startAt: tomorrow(), resyncAt: local(new Date(Date.now() + 2 * 86_400_000)) });
    if (!created.ok) throw new Error('expected success');
    const id = created.migration.id;
    const sealed = (await db.migrationAccount.findMany({ where: { migrationId: id } })).map((a) => a.passwordSealed!);
    expect(sealed).toHaveLength(2);

    const inputs: Record<string, unknown> = {
      'accounts.checkPair': pair,
      'accounts.saveMicrosoft365': { tenantId: 'contoso.onmicrosoft.com', clientId: '11111111-2222-3333-4444-555555555555', clientSecret },
      'licensing.install': { key: 'MF-AAAAA-AAAAA-AAAAA-AAAAA' },
      'migrations.create': { ...pair, startAt: tomorrow() },
      'migrations.list': { list: 'all' },
      'migrations.get': { id },
      'migrations.detail': { id },
      'migrations.cancel': { id },
      'hostedMailboxes.quickSelection': {},
    };
    // Mutations that end something go last, so the reads before them see live data.
    const last = ['accounts.deleteMicrosoft365', 'migrations.cancel'];
    const paths = Object.keys(appRouter._def.procedures).sort((x, y) => Number(last.includes(x)) - Number(last.includes(y)));
    const answered: string[] = [];
    const answers: string[] = [];
    for (const path of paths) {
      const procedure = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (input: unknown) => Promise<unknown>;
      try {
        const result = await procedure(inputs[path]);
        answered.push(path);
        answers.push(JSON.stringify(result, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)));
      } catch (error) {
        if (error instanceof TRPCError && error.code === 'FORBIDDEN') continue;
        answered.push(path);
        answers.push(JSON.stringify({ message: (error as Error).message, cause: String((error as Error).cause ?? '') }));
      }
    }
    for (const path of ['migrations.create', 'migrations.list', 'migrations.get', 'migrations.detail', 'migrations.cancel', 'accounts.checkPair', 'accounts.saveMicrosoft365', 'accounts.microsoft365']) {
      expect(answered).toContain(path);
    }
    const everything = answers.join('\n');
    expect(everything).toContain(source);
    expect(everything).toContain(id);
    for (const secret of [password, JSON.stringify(password).slice(1, -1), clientSecret, ...sealed]) expect(everything).not.toContain(secret);
    expect(everything).not.toMatch(/passwordSealed|password_sealed/);
  });
});
