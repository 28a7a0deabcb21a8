import type { ImapFlow } from 'imapflow';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_ALLOWED_PORTS, type NetworkPolicy } from '@/server/accounts/network/host-policy';
import { parseHostRules } from '@/server/accounts/network/host-rules';
import { newKeyEntry, parseKeyRing } from '@/server/crypto/keyring';
import { resealAll } from '@/server/crypto/reseal';
import { keyRing } from '@/server/crypto/runtime';
import { openAccounts } from '@/server/migrations/accounts';
import { createMigration } from '@/server/migrations/create-migration';
import { runMigrationPhase, type PhaseDependencies } from '@/server/migrations/run-migration';
import { startWorker } from '@/workers/runner';
import { startDovecot, type DovecotServer } from './helpers/dovecot';
import { seedOrganization, testDb } from './helpers/database';
import { fillMailbox, makeMessage, openImap, snapshotMailbox } from './helpers/mailbox';

const db = testDb();
const password = 'Jobs;"secret 42';
let dovecot: DovecotServer;
let users = 0;
const clients: ImapFlow[] = [];

function policy(): NetworkPolicy {
  return { allow: parseHostRules('127.0.0.0/8').rules, insecure: parseHostRules('127.0.0.1').rules, extraCaPem: null, allowedPorts: [...DEFAULT_ALLOWED_PORTS, dovecot.port] };
}

async function deps(overrides: Partial<PhaseDependencies> = {}): Promise<PhaseDependencies> {
  return { ring: await keyRing(), timeBudgetMs: 60_000, policy: policy(), ...overrides };
}

async function mailboxPair(messages = 12) {
  const [source, target] = [`src${++users}-${Date.now()}@example.test`, `dst${users}-${Date.now()}@example.test`];
  await dovecot.addUser({ username: source, password });
  await dovecot.addUser({ username: target, password });
  const sourceClient = await openImap(dovecot.port, source, password);
  clients.push(sourceClient);
  await fillMailbox(sourceClient, Array.from({ length: messages }, (_, i) => ({ folder: i % 3 ? 'INBOX' : 'Archive', raw: makeMessage({ bodyBytes: 500 + i * 100 }), flags: i % 2 ? ['\\Seen'] : [] })));
  const account = (email: string, pass = password) => ({ type: 'imap' as const, email, username: email, password: pass, server: `imap://127.0.0.1:${dovecot.port}` });
  return { source, target, sourceClient, account };
}

async function snapshots(source: string, target: string) {
  const [a, b] = [await openImap(dovecot.port, source, password), await openImap(dovecot.port, target, password)];
  clients.push(a, b);
  return [await snapshotMailbox(a), await snapshotMailbox(b)];
}

describe('migration jobs', () => {
  beforeAll(async () => {
    dovecot = await startDovecot({ users: [], tls: 'none' });
    // The worker reads the installation's policy from the environment, parsed on first use.
    process.env.MAILFERRY_ALLOWED_HOSTS = `127.0.0.1/32:${dovecot.port}`;
    process.env.MAILFERRY_INSECURE_HOSTS = '127.0.0.1';
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.logout().catch(() => c.close())));
  });
  afterAll(async () => dovecot?.stop());

  it('goes scheduled → running → waiting_resync → resyncing → finished, and wipes the credentials at the end', async () => {
    const { organization } = await seedOrganization(db, 'customer');
    const { source, target, sourceClient, account } = await mailboxPair();
    const start = new Date(Date.now() - 1000);
    const { id } = await createMigration(db, await keyRing(), {
      organizationId: organization.id,
      createdByUserId: null,
      source: account(source),
      target: account(target),
      startAt: start,
      resyncAt: new Date(Date.now() + 3_600_000),
    });

    // The job holds the id and nothing else.
    const jobs = await db.$queryRaw<{ payload: unknown }[]>`SELECT payload FROM graphile_worker._private_jobs WHERE key = ${`migration:${id}`}`;
    expect(jobs.map((j) => j.payload)).toEqual([{ migrationId: id }]);
    const stored = await db.migrationAccount.findMany({ where: { migrationId: id } });
    expect(stored.every((a) => a.passwordSealed && !a.passwordSealed.includes(password))).toBe(true);

    expect(await runMigrationPhase(db, id, 'run', await deps())).toBe('waiting_resync');
    let migration = await db.migration.findUniqueOrThrow({ where: { id } });
    expect(migration).toMatchObject({ state: 'waiting_resync', totalMessages: 12, copiedMessages: 12, failedMessages: 0 });
    expect(migration.copiedBytes).toBeGreaterThan(0n);
    // Too early for the resync: it waits for its date.
    expect(await runMigrationPhase(db, id, 'resync', await deps())).toBe('rescheduled');

    await fillMailbox(sourceClient, [{ folder: 'INBOX', raw: makeMessage({ subject: 'after the first pass' }) }]);
    await db.migration.update({ where: { id }, data: { resyncAt: new Date(Date.now() - 10) } });
    expect(await runMigrationPhase(db, id, 'resync', await deps())).toBe('finished');
    migration = await db.migration.findUniqueOrThrow({ where: { id } });
    expect(migration).toMatchObject({ state: 'finished', copiedMessages: 13 });
    expect(migration.finishedAt).toBeInstanceOf(Date);
    expect((await db.migrationAccount.findMany({ where: { migrationId: id } })).map((a) => a.passwordSealed)).toEqual([null, null]);
    const [a, b] = await snapshots(source, target);
    expect(b).toEqual(a);
    // A job that runs twice finds nothing left to do.
    expect(await runMigrationPhase(db, id, 'resync', await deps())).toBe('ignored');
  });

  it('works in chunks when the time budget runs out, and ends exact', async () => {
    const { organization } = await seedOrganization(db, 'customer');
    const { source, target, account } = await mailboxPair(30);
    const { id } = await createMigration(db, await keyRing(), { organizationId: organization.id, createdByUserId: null, source: account(source), target: account(target), startAt: new Date(Date.now() - 1000), resyncAt: null });
    const outcomes: string[] = [];
    for (let i = 0; i < 50; i++) {
      const outcome = await runMigrationPhase(db, id, 'run', await deps({ timeBudgetMs: 1 }));
      outcomes.push(outcome);
      if (outcome !== 'continues') break;
    }
    expect(outcomes.at(-1)).toBe('finished');
    expect(outcomes.length).toBeGreaterThan(1);
    const [a, b] = await snapshots(source, target);
    expect(b).toEqual(a);
  });

  it('fails with a plain reason when a password is wrong, and wipes the credentials', async () => {
    const { organization } = await seedOrganization(db, 'customer');
    const { source, target, account } = await mailboxPair(1);
    const { id } = await createMigration(db, await keyRing(), { organizationId: organization.id, createdByUserId: null, source: account(source), target: account(target, 'not the password'), startAt: new Date(Date.now() - 1000), resyncAt: null });
    expect(await runMigrationPhase(db, id, 'run', await deps())).toBe('failed');
    const migration = await db.migration.findUniqueOrThrow({ where: { id }, include: { accounts: true } });
    expect(migration.state).toBe('failed');
    expect(migration.failureReason).toBe('The username or password is wrong.');
    expect(migration.accounts.map((a) => a.passwordSealed)).toEqual([null, null]);
  });

  it('is run by the worker from the queue', async () => {
    const { organization } = await seedOrganization(db, 'customer');
    const { source, target, account } = await mailboxPair(5);
    const { id } = await createMigration(db, await keyRing(), { organizationId: organization.id, createdByUserId: null, source: account(source), target: account(target), startAt: new Date(), resyncAt: null });
    const worker = await startWorker({ connectionString: inject('databaseUrl'), concurrency: 2 });
    try {
      for (let i = 0; i < 150; i++) {
        const { state } = await db.migration.findUniqueOrThrow({ where: { id }, select: { state: true } });
        if (state === 'finished' || state === 'incomplete' || state === 'failed') break;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await worker.stop();
    }
    expect(await db.migration.findUniqueOrThrow({ where: { id }, select: { state: true, failureReason: true } })).toEqual({ state: 'finished', failureReason: null });
    const [a, b] = await snapshots(source, target);
    expect(b).toEqual(a);
  });
});

describe('key rotation', () => {
  it('re-seals stored passwords with the new key, after which the old key is not needed', async () => {
    const oldRing = parseKeyRing(newKeyEntry('old'), 'test');
    const { organization } = await seedOrganization(db, 'customer');
    const account = { type: 'imap' as const, email: 'a@example.test', username: 'a@example.test', password: 'rotate me', server: 'mail.example.test' };
    const { id } = await createMigration(db, oldRing, { organizationId: organization.id, createdByUserId: null, source: account, target: { ...account, password: 'and me' }, startAt: new Date(Date.now() + 3_600_000), resyncAt: null });

    const newKey = newKeyEntry('new');
    const rotating = parseKeyRing(`${newKey}\nold:${oldRing.current.key.toString('base64')}`, 'test');
    const result = await resealAll(db, rotating);
    expect(result.resealed).toBeGreaterThanOrEqual(2);
    const opened = await openAccounts(db, parseKeyRing(newKey, 'test'), id);
    expect([opened.source.password, opened.target.password]).toEqual(['rotate me', 'and me']);
    expect((await resealAll(db, rotating)).resealed).toBe(0);
  });
});
