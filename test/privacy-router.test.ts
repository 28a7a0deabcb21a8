/**
 * The "Remove my data" API against real PostgreSQL, through the tRPC caller: the overview's
 * counts, refusal while migrations are active (naming them), cancel then remove, the counts
 * line afterwards; a customer only for its own organization, resellers not at all, admins for any.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Db } from '@/server/db';
import { reserveUnits, usageCounts } from '@/server/licensing/quota';
import { serverTimeZoneName } from '@/server/portal/time-zone';
import { formatDayInZone } from '@/server/privacy/removal-preview';
import { seedOrganization, seedUser, testDb } from './helpers/database';
import { callerFor, codeOf } from './helpers/trpc';

const db = testDb();
const DAY = 86_400_000;

const tag = () => `pr${randomBytes(4).toString('hex')}`;

/** A finished migration with one of each record that names something. */
async function seedFinished(db: Db, organizationId: string, t: string, finishedAt = new Date(Date.now() - 2 * DAY)) {
  const m = await db.migration.create({
    data: {
      organizationId,
      state: 'finished',
      startAt: new Date(finishedAt.getTime() - 3_600_000),
      startedAt: new Date(finishedAt.getTime() - 3_600_000),
      finishedAt,
      totalMessages: 20,
      copiedMessages: 19,
      failedMessages: 1,
      accounts: {
        create: [
          { side: 'source', type: 'imap', email: `anna@old-${t}.example`, username: `anna-${t}`, server: `imap.old-${t}.example` },
          { side: 'target', type: 'imap', email: `anna@new-${t}.example`, username: `anna-${t}`, server: `imap.new-${t}.example` },
        ],
      },
      folders: { create: [{ sourcePath: 'INBOX', targetPath: 'INBOX', messagesCopied: 10 }, { sourcePath: `Projekte ${t}`, targetPath: `Projekte ${t}`, messagesCopied: 9 }] },
      issues: { create: [{ folder: `Projekte ${t}`, uid: 4, reason: 'Too large for the target' }] },
      verifications: { create: [{ sourcePath: 'INBOX', targetPath: 'INBOX', pass: 'run', sourceMessages: 10, presentMessages: 10, missingMessages: 0, missingReported: 0, missingUids: [], verifiedAt: finishedAt }] },
    },
    select: { id: true },
  });
  return m.id;
}

async function seedCustomerWithActive() {
  const customer = await seedOrganization(db, 'customer');
  const org = customer.organization.id;
  const t = tag();
  const finished = await seedFinished(db, org, t);
  const reserved = await reserveUnits(db, org, 2);
  if (!reserved.ok) throw new Error(reserved.message);
  const [forScheduled, forRunning] = reserved.reservations;
  const account = (side: 'source' | 'target', who: string) => ({ side, type: 'imap', email: `${who}@${side}-${t}.example`, username: who, server: `imap.${side}-${t}.example`, passwordSealed: 'sealed' });
  const scheduled = await db.migration.create({
    data: { organizationId: org, state: 'scheduled', startAt: new Date(Date.now() + DAY), reservation: { connect: { id: forScheduled!.id } }, accounts: { create: [account('source', 'bert'), account('target', 'bert')] } },
    select: { id: true },
  });
  const running = await db.migration.create({
    data: { organizationId: org, state: 'running', startAt: new Date(), startedAt: new Date(), reservation: { connect: { id: forRunning!.id } }, accounts: { create: [account('source', 'carla'), account('target', 'carla')] } },
    select: { id: true },
  });
  await db.quotaReservation.update({ where: { id: forRunning!.id }, data: { state: 'used' } });
  await db.auditEvent.create({ data: { action: 'auth.sign_in', actorUserId: customer.user.id, organizationId: org, ip: '203.0.113.9' } });
  return { customer, org, t, finished, scheduled: scheduled.id, running: running.id };
}

describe('privacy router: remove my data', () => {
  it('counts what would go and stays, refuses while migrations are active (naming them), then removes after cancelling them', async () => {
    const { customer, org, t, finished, scheduled, running } = await seedCustomerWithActive();
    const asCustomer = await callerFor(db, customer.user.id);

    const overview = await asCustomer.privacy.overview();
    expect(overview.organization).toEqual({ id: org, name: customer.organization.name });
    expect(overview.retentionDays).toBe(0); // tests run with retention off (test/global-setup.ts)
    expect(Object.fromEntries(overview.deletes.map((d) => [d.kind, d.count]))).toEqual({ migrations: 1, accounts: 2, folders: 2, issues: 1, verifications: 1, auditIpAddresses: 1 });
    expect(overview.deletes.find((d) => d.kind === 'migrations')?.text).toBe('1 migration: its addresses, usernames and servers');
    expect(overview.keeps).toMatchObject({ migrations: 3, users: 1, licences: 0 });
    expect(overview.active.map((a) => [a.id, a.source, a.state, a.isStopping])).toEqual([
      [scheduled, `bert@source-${t}.example`, 'scheduled', false],
      [running, `carla@source-${t}.example`, 'running', false],
    ]);
    expect(overview.isBlocked).toBe(true);
    // Counts, never values: only the active migrations' source addresses are named.
    const text = JSON.stringify({ ...overview, active: [] });
    expect(text).not.toContain(t);

    // Refused while active: the message names them, and nothing is touched.
    const refusal = await asCustomer.privacy.remove().catch((error: unknown) => error as { code: string; message: string });
    expect(refusal).toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect((refusal as { message: string }).message).toContain(`bert@source-${t}.example (scheduled)`);
    expect((refusal as { message: string }).message).toContain(`carla@source-${t}.example (running)`);
    expect(await db.migrationAccount.count({ where: { migrationId: finished, email: `anna@old-${t}.example` } })).toBe(1);

    const usedBefore = (await usageCounts(db, org)).freeUnits;
    expect(await asCustomer.privacy.cancelActive()).toEqual({ cancelled: 2, unitsReturned: 1 });
    expect((await usageCounts(db, org)).freeUnits).toBe(usedBefore - 1);
    expect((await asCustomer.privacy.overview()).isBlocked).toBe(false);
    expect((await asCustomer.privacy.countsBefore()).text).toBeNull();

    const result = await asCustomer.privacy.remove();
    // The sign-in's IP address and those of the two cancels just made.
    expect(Object.fromEntries(result.removed.map((d) => [d.kind, d.count]))).toMatchObject({ migrations: 3, accounts: 6, folders: 2, issues: 1, verifications: 1, auditIpAddresses: 3 });
    expect(await db.auditEvent.count({ where: { organizationId: org, ip: { not: null } } })).toBe(0);
    expect(JSON.stringify(result)).not.toContain(t);
    expect(await db.migrationAccount.count({ where: { migration: { organizationId: org }, NOT: { email: '' } } })).toBe(0);
    expect((await db.migration.findMany({ where: { organizationId: org }, select: { detailsRemovedReason: true } })).map((m) => m.detailsRemovedReason)).toEqual(['customer', 'customer', 'customer']);

    // Nothing is left to remove; what stays is the counts line.
    const after = await asCustomer.privacy.overview();
    expect(after.deletes).toEqual([]);
    expect(after.keeps.migrations).toBe(3);
    const before = await asCustomer.privacy.countsBefore();
    expect(before).toMatchObject({ count: 3 });
    // Two of them were cancelled just now: "done by" the day of the removal, not before a day still to come.
    const today = formatDayInZone(new Date(), serverTimeZoneName());
    expect(before.text).toBe(`3 migrations done by ${today}; their details were removed on ${today}`);
    expect(before.rows.reduce((n, r) => n + r.count, 0)).toBe(3);
    expect(before.rows.map((r) => r.state).sort()).toEqual(['cancelled', 'finished']);
  });

  it('keeps a customer to its own organization, and refuses resellers', async () => {
    const mine = await seedCustomerWithActive();
    const other = await seedOrganization(db, 'customer');
    const asOther = await callerFor(db, other.user.id);
    // Naming another organization finds none; the caller's own is what it gets otherwise.
    expect(await codeOf(asOther.privacy.overview({ organizationId: mine.org }))).toBe('NOT_FOUND');
    expect(await codeOf(asOther.privacy.cancelActive({ organizationId: mine.org }))).toBe('NOT_FOUND');
    expect(await codeOf(asOther.privacy.remove({ organizationId: mine.org }))).toBe('NOT_FOUND');
    expect(await codeOf(asOther.privacy.countsBefore({ organizationId: mine.org }))).toBe('NOT_FOUND');
    expect((await asOther.privacy.overview()).organization.id).toBe(other.organization.id);
    expect(await codeOf(asOther.privacy.overview({ organizationId: 'not-an-id' }))).toBe('BAD_REQUEST');
    // The other customer's cancel touched none of these.
    expect(await db.migration.count({ where: { organizationId: mine.org, state: { in: ['scheduled', 'running'] } } })).toBe(2);

    const reseller = await seedOrganization(db, 'reseller');
    const asReseller = await callerFor(db, reseller.user.id);
    expect(await codeOf(asReseller.privacy.overview({ organizationId: mine.org }))).toBe('FORBIDDEN');
    expect(await codeOf(asReseller.privacy.remove({ organizationId: mine.org }))).toBe('FORBIDDEN');
    expect(await codeOf(asReseller.privacy.cancelActive())).toBe('FORBIDDEN');
    expect(await codeOf((await callerFor(db, null)).privacy.overview())).toBe('UNAUTHORIZED');
    expect(await db.migrationAccount.count({ where: { migration: { organizationId: mine.org }, email: { not: '' } } })).toBe(6);
  });

  it('lets an admin cancel and remove for any organization, which must be named and exist', async () => {
    const { org, t } = await seedCustomerWithActive();
    const admin = await seedUser(db, 'admin', null);
    const asAdmin = await callerFor(db, admin.id);
    expect(await codeOf(asAdmin.privacy.overview())).toBe('BAD_REQUEST');
    expect(await codeOf(asAdmin.privacy.overview({ organizationId: '00000000-0000-4000-8000-000000000000' }))).toBe('NOT_FOUND');

    expect((await asAdmin.privacy.overview({ organizationId: org })).active).toHaveLength(2);
    expect(await codeOf(asAdmin.privacy.remove({ organizationId: org }))).toBe('PRECONDITION_FAILED');
    expect(await asAdmin.privacy.cancelActive({ organizationId: org })).toEqual({ cancelled: 2, unitsReturned: 1 });
    const result = await asAdmin.privacy.remove({ organizationId: org });
    expect(result.removed.find((d) => d.kind === 'migrations')?.count).toBe(3);
    expect((await db.migration.findMany({ where: { organizationId: org }, select: { detailsRemovedReason: true } })).every((m) => m.detailsRemovedReason === 'admin')).toBe(true);
    expect((await asAdmin.privacy.countsBefore({ organizationId: org })).count).toBe(3);
    const audit = await db.auditEvent.findFirst({ where: { organizationId: org, action: 'organization.remove_personal_data' }, select: { actorUserId: true } });
    expect(audit?.actorUserId).toBe(admin.id);
    expect(await db.migrationAccount.count({ where: { migration: { organizationId: org }, OR: [{ email: { contains: t } }, { server: { contains: t } }] } })).toBe(0);
  });

  it('says the day after the last end as “done before” once the removal came later, and counts by month and state', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    for (const [finishedAt, state] of [['2026-09-01T12:00:00Z', 'finished'], ['2026-09-20T12:00:00Z', 'failed'], ['2026-10-03T12:00:00Z', 'finished']] as const) {
      await db.migration.create({
        data: { organizationId: organization.id, state, startAt: new Date(finishedAt), finishedAt: new Date(finishedAt), detailsRemovedAt: new Date('2026-11-30T12:00:00Z'), detailsRemovedReason: 'retention' },
      });
    }
    const summary = await (await callerFor(db, user.id)).privacy.countsBefore();
    expect(summary.text).toBe('3 migrations done before 4 Oct 2026; their details were removed on 30 Nov 2026');
    // The month as the portal writes it ("Sep 2026" or, with newer ICU data, "Sept 2026").
    const september = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', month: 'short', year: 'numeric' }).format(new Date('2026-09-15T00:00:00Z'));
    expect(summary.rows.map((r) => [r.month, r.monthLabel, r.state, r.count])).toEqual([
      ['2026-09', september, 'finished', 1],
      ['2026-09', september, 'failed', 1],
      ['2026-10', 'Oct 2026', 'finished', 1],
    ]);
  });
});
