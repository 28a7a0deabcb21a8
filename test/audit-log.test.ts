/**
 * The admins' audit log against the real database: filters, keyset paging in both directions,
 * the retention run's entry, a failed migration's end, FORBIDDEN for customers and resellers.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '@/server/audit/audit-log';
import { recordAudit } from '@/server/audit/audit';
import type { Db } from '@/server/db';
import { runMaintenance } from '@/server/jobs/maintenance';
import { keyRing } from '@/server/crypto/runtime';
import { createMigration } from '@/server/migrations/create-migration';
import { runMigrationPhase } from '@/server/migrations/run-migration';
import { isolatedDb, seedOrganization, seedUser } from './helpers/database';
import { callerFor, codeOf } from './helpers/trpc';

const database = isolatedDb();
let db: Db;
beforeAll(() => {
  db = database.db();
});

describe('audit log', () => {
  it('filters by organization and action group and pages over every entry once, older and back newer', async () => {
    const { organization } = await seedOrganization(db, 'customer');
    const other = await seedOrganization(db, 'customer');
    const admin = await seedUser(db, 'admin', null);
    for (let i = 0; i < 7; i++) await recordAudit(db, { action: 'auth.sign_in_failed', organizationId: organization.id, details: { email: `x${i}@example.test` }, ip: `10.0.0.${i}` });
    await recordAudit(db, { action: 'migration.cancel', organizationId: organization.id, details: { from: 'running', unitReturned: false } });
    await recordAudit(db, { action: 'auth.sign_in', organizationId: other.organization.id, ip: '10.9.9.9' });

    const api = await callerFor(db, admin.id);
    const seen: string[] = [];
    let page = await api.audit.list({ organizationId: organization.id, limit: 3 });
    const first = page;
    for (;;) {
      seen.push(...page.entries.map((e) => e.id));
      expect(page.entries.every((e) => e.organization?.id === organization.id)).toBe(true);
      if (!page.olderCursor) break;
      page = await api.audit.list({ organizationId: organization.id, limit: 3, cursor: page.olderCursor });
    }
    expect(seen).toHaveLength(8);
    expect(new Set(seen).size).toBe(8);
    const back = await api.audit.list({ organizationId: organization.id, limit: 3, cursor: page.newerCursor, direction: 'newer' });
    expect(back.entries.map((e) => e.id)).toEqual(seen.slice(3, 6));
    expect(first.newerCursor).toBeNull();
    expect(first.entries[0]).toMatchObject({ action: 'migration.cancel', label: 'Migration cancelled', details: 'Was running · its unit stays used' });

    const failed = await api.audit.list({ organizationId: organization.id, action: 'auth.', limit: 50 });
    expect(failed.entries).toHaveLength(7);
    expect(failed.entries[0]).toMatchObject({ label: 'Failed sign-in', ip: '10.0.0.6', ipState: 'shown' });
    const groups = await api.audit.actions();
    expect(groups.find((g) => g.prefix === 'auth.')?.actions.map((a) => a.action)).toEqual(expect.arrayContaining(['auth.sign_in', 'auth.sign_in_failed']));
  });

  it('answers FORBIDDEN to customers and resellers', async () => {
    const customer = await seedOrganization(db, 'customer');
    const reseller = await seedOrganization(db, 'reseller');
    for (const user of [customer.user, reseller.user]) {
      const api = await callerFor(db, user.id);
      expect(await codeOf(api.audit.list({}))).toBe('FORBIDDEN');
      expect(await codeOf(api.audit.actions())).toBe('FORBIDDEN');
    }
  });

  it('records a failed migration at its end, without the failure text, and a retention run with its counts', async () => {
    const { organization } = await seedOrganization(db, 'customer');
    const account = (email: string) => ({ type: 'imap' as const, email, username: email, password: 'secret pass 1', server: 'imap://127.0.0.1:1' });
    const { id } = await createMigration(db, await keyRing(), {
      organizationId: organization.id,
      createdByUserId: null,
      source: account('source@example.test'),
      target: account('target@example.test'),
      startAt: new Date(Date.now() - 1000),
      resyncAt: null,
    });
    await db.$executeRaw`SELECT graphile_worker.remove_job(${`migration:${id}`}::text)`;
    // Credentials this installation cannot read: the migration fails at once.
    await db.migrationAccount.updateMany({ where: { migrationId: id }, data: { passwordSealed: 'v1.gone.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA' } });
    expect(await runMigrationPhase(db, id, 'run', { ring: await keyRing(), timeBudgetMs: 10_000 })).toBe('failed');
    const ended = await db.auditEvent.findMany({ where: { targetId: id, action: 'migration.fail' } });
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ organizationId: organization.id, actorUserId: null });
    expect(JSON.stringify(ended[0]!.details)).not.toContain('credentials');

    const later = new Date(Date.now() + 91 * 86_400_000);
    const result = await runMaintenance(db, { now: later, retentionDays: 90 });
    expect(result.migrationDetailsRemoved).toBeGreaterThanOrEqual(1);
    const runs = await listAuditEvents(db, { action: 'privacy.retention' }, { zone: 'UTC', retentionDays: 90 });
    expect(runs.entries[0]?.details).toMatch(/^After 90 days: .*migrations/);
  });
});
