import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Db } from '@/server/db';
import type { MigrationState } from '@/server/generated/prisma/enums';
import { formatEta } from '@/components/migration-state';
import { exportHref } from '@/components/finished-migrations';
import { listVerdict } from '@/server/migrations/list-migrations';
import { tallyCounts } from '@/server/migrations/migration-counts';
import { callerFor, codeOf } from './helpers/trpc';
import { seedOrganization, seedUser, testDb } from './helpers/database';

interface SeedOptions {
  state: MigrationState;
  createdAt?: Date;
  source?: string;
  verifications?: { sourcePath: string; sourceMessages: number; presentMessages: number; missingMessages?: number; missingReported?: number; unverifiedReason?: string }[];
  failedMessages?: number;
}

async function seedMigration(db: Db, organizationId: string, options: SeedOptions) {
  const ended = ['finished', 'incomplete', 'failed', 'cancelled'].includes(options.state);
  const createdAt = options.createdAt ?? new Date();
  const { id } = await db.migration.create({
    data: {
      organizationId,
      state: options.state,
      createdAt,
      startAt: createdAt,
      finishedAt: ended ? new Date(createdAt.getTime() + 60_000) : null,
      totalMessages: 40,
      copiedMessages: ended ? 40 - (options.failedMessages ?? 0) : 12,
      failedMessages: options.failedMessages ?? 0,
      etaSeconds: 720,
      accounts: {
        create: [
          { side: 'source', type: 'imap', email: options.source ?? `src-${randomUUID().slice(0, 6)}@old.example`, username: 'secret-login-src', server: 'imap://secret-server.example', passwordSealed: 'sealed-secret' },
          { side: 'target', type: 'imap', email: `dst-${randomUUID().slice(0, 6)}@new.example`, username: 'secret-login-dst', server: 'imap://secret-server.example', passwordSealed: 'sealed-secret' },
        ],
      },
      verifications: {
        create: (options.verifications ?? []).map((v) => ({
          sourcePath: v.sourcePath,
          targetPath: v.sourcePath,
          pass: 'run',
          sourceMessages: v.sourceMessages,
          presentMessages: v.presentMessages,
          missingMessages: v.missingMessages ?? v.sourceMessages - v.presentMessages,
          missingReported: v.missingReported ?? 0,
          missingUids: [],
          unverifiedReason: v.unverifiedReason ?? null,
          verifiedAt: new Date(),
        })),
      },
    },
    select: { id: true },
  });
  return id;
}

describe('verdict of a list row', () => {
  it('says what the verification found in a few words', () => {
    expect(listVerdict(null, null)).toEqual({ tone: 'none', text: 'Not verified' });
    expect(listVerdict({ folders: 2, sourceMessages: 1204, presentMessages: 1204 }, null)).toEqual({ tone: 'verified', text: 'Verified: all 1,204 present' });
    expect(listVerdict({ folders: 2, sourceMessages: 1204, presentMessages: 1203 }, null)).toEqual({ tone: 'verified', text: 'Verified: 1,203 of 1,204 present' });
    expect(listVerdict({ folders: 2, sourceMessages: 10, presentMessages: 8 }, { missing: 2, unverifiedFolders: 0 })).toEqual({ tone: 'gap', text: '2 messages missing on the target' });
    expect(listVerdict({ folders: 2, sourceMessages: 10, presentMessages: 10 }, { missing: 0, unverifiedFolders: 1 })).toEqual({ tone: 'gap', text: '1 folder could not be verified' });
  });
});

describe('ETA in words', () => {
  it('is as rough as an estimate deserves', () => {
    expect(formatEta(null)).toBeNull();
    expect(formatEta(-5)).toBeNull();
    expect(formatEta(20)).toBe('less than a minute');
    expect(formatEta(50)).toBe('about 1 minute');
    expect(formatEta(720)).toBe('about 12 minutes');
    expect(formatEta(3_600)).toBe('about 1 hour');
    expect(formatEta(4_800)).toBe('about 1 hour 20 minutes');
    expect(formatEta(14 * 3_600 + 600)).toBe('about 14 hours');
    expect(formatEta(3 * 86_400)).toBe('about 3 days');
  });
});

describe('finished list CSV link', () => {
  it('carries the search and the sort the list shows', () => {
    expect(exportHref('', 'newest')).toBe('/api/migrations/finished/export');
    expect(exportHref('anna@', 'oldest')).toBe('/api/migrations/finished/export?search=anna%40&sort=oldest');
  });
});

describe('migration counts', () => {
  it('adds states into active, finished (with incomplete) and failed; cancelled counts nowhere', () => {
    expect(
      tallyCounts([
        { organizationId: 'a', state: 'running', count: 2 },
        { organizationId: 'a', state: 'scheduled', count: 1 },
        { organizationId: 'a', state: 'finished', count: 5 },
        { organizationId: 'a', state: 'incomplete', count: 1 },
        { organizationId: 'a', state: 'cancelled', count: 9 },
        { organizationId: 'b', state: 'failed', count: 3 },
        { organizationId: 'c', state: 'cancelled', count: 1 },
      ]),
    ).toEqual({ a: { active: 3, finished: 6, failed: 0 }, b: { active: 0, finished: 0, failed: 3 } });
  });
});

describe('migration lists across tenants', () => {
  const db = testDb();

  it('lists every organization’s migrations for admins, filtered by organization and state, page by page, without logins', async () => {
    const admin = await seedUser(db, 'admin', null);
    const one = await seedOrganization(db, 'customer');
    const two = await seedOrganization(db, 'customer');
    // Far ahead of anything else in the shared database, so these lead the newest-first list.
    const base = Date.UTC(2099, 0, 1) + Math.floor(Math.random() * 1e9);
    const at = (i: number) => new Date(base + i * 1_000);
    const ids = {
      oneRunning: await seedMigration(db, one.organization.id, { state: 'running', createdAt: at(5) }),
      oneFinished: await seedMigration(db, one.organization.id, { state: 'finished', createdAt: at(4) }),
      twoFailed: await seedMigration(db, two.organization.id, { state: 'failed', createdAt: at(3) }),
      twoScheduled: await seedMigration(db, two.organization.id, { state: 'scheduled', createdAt: at(2) }),
      // Same instant: the id breaks the tie.
      twoIncomplete: await seedMigration(db, two.organization.id, { state: 'incomplete', createdAt: at(2) }),
    };
    const caller = await callerFor(db, admin.id);

    const first = await caller.admin.listMigrations({ limit: 5 });
    const expectedAll = [ids.oneRunning, ids.oneFinished, ids.twoFailed, ...[ids.twoScheduled, ids.twoIncomplete].sort().reverse()];
    expect(first.items.map((m) => m.id)).toEqual(expectedAll);
    expect(first.items[0]!.organization).toEqual({ id: one.organization.id, name: one.organization.name });
    const text = JSON.stringify(first);
    for (const secret of ['secret-login', 'secret-server', 'sealed-secret']) expect(text).not.toContain(secret);

    const byOrg = async (input: Parameters<typeof caller.admin.listMigrations>[0]) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await caller.admin.listMigrations({ ...input, cursor, limit: 2 });
        seen.push(...page.items.map((m) => m.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      return { seen, pages };
    };
    const two_ = await byOrg({ organizationId: two.organization.id });
    expect(two_.seen).toEqual(expectedAll.slice(2));
    expect(two_.pages).toBe(2);
    expect((await byOrg({ organizationId: two.organization.id, state: 'active' })).seen).toEqual([ids.twoScheduled]);
    expect((await byOrg({ organizationId: two.organization.id, state: 'ended' })).seen).toEqual([ids.twoFailed, ids.twoIncomplete]);
    expect((await byOrg({ organizationId: one.organization.id, state: 'finished' })).seen).toEqual([ids.oneFinished]);
    expect((await byOrg({ organizationId: one.organization.id, state: 'failed' })).seen).toEqual([]);

    expect(await codeOf(caller.admin.listMigrations({ cursor: 'nonsense' }))).toBe('BAD_REQUEST');
    expect(await codeOf((await callerFor(db, one.user.id)).admin.listMigrations({}))).toBe('FORBIDDEN');
    const reseller = await seedOrganization(db, 'reseller');
    expect(await codeOf((await callerFor(db, reseller.user.id)).admin.listMigrations({}))).toBe('FORBIDDEN');
  });

  it('counts per customer for a reseller: only its own customers, counted right', async () => {
    const reseller = await seedOrganization(db, 'reseller');
    const otherReseller = await seedOrganization(db, 'reseller');
    const mine = await seedOrganization(db, 'customer', reseller.organization.id);
    const quiet = await seedOrganization(db, 'customer', reseller.organization.id);
    const theirs = await seedOrganization(db, 'customer', otherReseller.organization.id);
    const direct = await seedOrganization(db, 'customer');
    for (const state of ['running', 'waiting_resync', 'scheduled', 'finished', 'finished', 'incomplete', 'failed', 'cancelled'] as const) await seedMigration(db, mine.organization.id, { state });
    await seedMigration(db, theirs.organization.id, { state: 'running' });
    await seedMigration(db, direct.organization.id, { state: 'failed' });

    const counts = await (await callerFor(db, reseller.user.id)).reseller.migrationCounts();
    expect(counts).toEqual({ [mine.organization.id]: { active: 3, finished: 3, failed: 1 } });
    expect(counts[quiet.organization.id]).toBeUndefined();
    expect(await codeOf((await callerFor(db, mine.user.id)).reseller.migrationCounts())).toBe('FORBIDDEN');
  });

  it('never shows a customer another organization’s migrations, in any list or by id', async () => {
    const mine = await seedOrganization(db, 'customer');
    const other = await seedOrganization(db, 'customer');
    const own = await seedMigration(db, mine.organization.id, { state: 'running', source: 'shared-prefix@old.example' });
    const ownEnded = await seedMigration(db, mine.organization.id, {
      state: 'finished',
      source: 'shared-prefix@old.example',
      verifications: [
        { sourcePath: 'INBOX', sourceMessages: 1200, presentMessages: 1200 },
        { sourcePath: 'Sent', sourceMessages: 4, presentMessages: 4 },
      ],
    });
    const theirs = await seedMigration(db, other.organization.id, { state: 'running', source: 'shared-prefix@old.example' });
    const theirsEnded = await seedMigration(db, other.organization.id, { state: 'finished', source: 'shared-prefix@old.example' });
    const caller = await callerFor(db, mine.user.id);

    const all = await caller.migrations.list({ list: 'all' });
    expect(all.map((m) => m.id).sort()).toEqual([own, ownEnded].sort());
    const active = await caller.migrations.list({ list: 'active' });
    expect(active.map((m) => m.id)).toEqual([own]);
    expect(active[0]!.etaSeconds).toBe(720);
    const finished = await caller.migrations.finished({ search: 'shared-prefix' });
    expect(finished.items.map((m) => m.id)).toEqual([ownEnded]);
    expect(finished.items[0]!.verdict).toEqual({ tone: 'verified', text: 'Verified: all 1,204 present' });
    expect(finished.items[0]!.etaSeconds).toBeNull();
    expect(await codeOf(caller.migrations.get({ id: theirs }))).toBe('NOT_FOUND');
    expect(await codeOf(caller.migrations.get({ id: theirsEnded }))).toBe('NOT_FOUND');
  });

  it('gives a finished row with a gap found by the verification its gap as the verdict', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const id = await seedMigration(db, organization.id, {
      state: 'incomplete',
      failedMessages: 1,
      verifications: [
        { sourcePath: 'INBOX', sourceMessages: 30, presentMessages: 27, missingMessages: 3, missingReported: 1 },
        { sourcePath: 'Sent', sourceMessages: 10, presentMessages: 10 },
      ],
    });
    const item = await (await callerFor(db, user.id)).migrations.get({ id });
    expect(item.verdict).toEqual({ tone: 'gap', text: '2 messages missing on the target' });
  });
});
