import type { ImapFlow } from 'imapflow';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { DEFAULT_ALLOWED_PORTS, type NetworkPolicy } from '@/server/accounts/network/host-policy';
import { parseHostRules } from '@/server/accounts/network/host-rules';
import { keyRing } from '@/server/crypto/runtime';
import type { Db } from '@/server/db';
import { createMigration } from '@/server/migrations/create-migration';
import type { PhaseDependencies } from '@/server/migrations/run-migration';
import { startDovecot, type DovecotServer } from './dovecot';
import { openImap } from './mailbox';

export interface PhaseHarness {
  /** A plain-IMAP Dovecot for sources and targets. */
  readonly dovecot: DovecotServer;
  /** A target that refuses messages over 20 KB (APPEND answers NO [LIMIT]), as a quota does. */
  readonly limited: DovecotServer;
  policy(): NetworkPolicy;
  deps(overrides?: Partial<PhaseDependencies>): Promise<PhaseDependencies>;
  account(email: string, server: DovecotServer): { type: 'imap'; email: string; username: string; password: string; server: string };
  /** A session of the test's own, logged out after each test. */
  open(server: DovecotServer, user: string): Promise<ImapFlow>;
  newUser(server: DovecotServer, prefix: string): Promise<string>;
  /** A migration of the organization from `source` to `target` that is due now; the test runs its phases itself. */
  migrationOf(
    organizationId: string,
    source: { user: string; server: DovecotServer },
    target: { user: string; server: DovecotServer },
    resyncAt: Date | null,
  ): Promise<string>;
}

/**
 * What the tests that run a migration's phases themselves share: two Dovecots (one refusing
 * large messages), the host policy that lets the portal reach them, accounts with `password`,
 * and migrations created without a worker taking their jobs.
 */
export function phaseHarness(db: () => Db, password: string): PhaseHarness {
  let dovecot: DovecotServer | undefined;
  let limited: DovecotServer | undefined;
  let users = 0;
  const clients: ImapFlow[] = [];
  const started = (server: DovecotServer | undefined) => {
    if (!server) throw new Error('the Dovecot servers run only inside the tests');
    return server;
  };

  beforeAll(async () => {
    [dovecot, limited] = await Promise.all([startDovecot({ users: [], tls: 'none' }), startDovecot({ users: [], tls: 'none', maxMessageBytes: 20_000 })]);
    process.env.MAILFERRY_ALLOWED_HOSTS = `127.0.0.1/32:${dovecot.port},127.0.0.1/32:${limited.port}`;
    process.env.MAILFERRY_INSECURE_HOSTS = '127.0.0.1';
    process.env.MAILFERRY_TIMEZONE = 'UTC';
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.logout().catch(() => c.close())));
  });
  afterAll(async () => {
    await dovecot?.stop();
    await limited?.stop();
  });

  const harness: PhaseHarness = {
    get dovecot() {
      return started(dovecot);
    },
    get limited() {
      return started(limited);
    },
    policy() {
      return {
        allow: parseHostRules('127.0.0.0/8').rules,
        insecure: parseHostRules('127.0.0.1').rules,
        extraCaPem: null,
        allowedPorts: [...DEFAULT_ALLOWED_PORTS, harness.dovecot.port, harness.limited.port],
      };
    },
    async deps(overrides = {}) {
      return { ring: await keyRing(), timeBudgetMs: 60_000, policy: harness.policy(), ...overrides };
    },
    account: (email, server) => ({ type: 'imap', email, username: email, password, server: `imap://127.0.0.1:${server.port}` }),
    async open(server, user) {
      const client = await openImap(server.port, user, password);
      clients.push(client);
      return client;
    },
    async newUser(server, prefix) {
      const user = `${prefix}${++users}-${Date.now()}@example.test`;
      await server.addUser({ username: user, password });
      return user;
    },
    async migrationOf(organizationId, source, target, resyncAt) {
      const { id } = await createMigration(db(), await keyRing(), {
        organizationId,
        createdByUserId: null,
        source: harness.account(source.user, source.server),
        target: harness.account(target.user, target.server),
        startAt: new Date(Date.now() - 1000),
        resyncAt,
      });
      // The test runs the phases itself; no worker may take the job.
      await db().$executeRaw`SELECT graphile_worker.remove_job(${`migration:${id}`}::text)`;
      return id;
    },
  };
  return harness;
}
