import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { describe, expect, inject, it } from 'vitest';
import type { Db } from '@/server/db';
import type { MigrationState } from '@/server/generated/prisma/enums';
import { formatEta } from '@/components/migration-state';
import { exportHref } from '@/components/finished-migrations';
import { PrismaClient } from '@/server/generated/prisma/client';
import { listAllMigrations } from '@/server/migrations/admin-list';
import { listFinishedMigrations, listMigrations, listVerdict } from '@/server/migrations/list-migrations';
import { tallyCounts } from '@/server/migrations/migration-counts';
import { callerFor, codeOf } from './helpers/trpc';
import { seedOrganization, seedUser, testDb } from './helpers/database';

interface SeedOptions {
  state: MigrationState;
  createdAt?: Date;
  source?: string;
  verifications?: { sourcePath: string; sourceMessages: number; presentMessages: number; missingMessages?: number; missingReported?: number; unverifiedReason?: string }[];
  failedMessages?: number;
  types?: [string, string];
  groupwareCollections?: { kind: string; name: string; items: number; present: number; failed?: number }[];
  groupwareIssues?: number;
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
          { side: 'source', type: options.types?.[0] ?? 'imap', email: options.source ?? `src-${randomUUID().slice(0, 6)}@old.example`, username: 'secret-login-src', server: 'imap://secret-server.example', passwordSealed: 'sealed-secret' },
          { side: 'target', type: options.types?.[1] ?? 'imap', email: `dst-${randomUUID().slice(0, 6)}@new.example`, username: 'secret-login-dst', server: 'imap://secret-server.example', passwordSealed: 'sealed-secret' },
        ],
      },
      groupwareCollections: {
        create: (options.groupwareCollections ?? []).map((c) => ({
          sourceId: `https://secret-server.example/dav/${c.kind}/${encodeURIComponent(c.name)}/`,
          kind: c.kind,
          sourceName: c.name,
          targetName: c.name,
          checkpoint: { secretCheckpoint: true },
          items: c.items,
          present: c.present,
          copied: c.present,
          failed: c.failed ?? 0,
        })),
      },
      groupwareIssues: {
        create: Array.from({ length: options.groupwareIssues ?? 0 }, (_, i) => ({ kind: 'calendar', collection: 'Kalender', uid: `refused-${i}@old.example`, size: 31_457_280, reason: 'Refused by the target server: 413 Request Entity Too Large' })),
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

describe('groupware counts on list rows', () => {
  const db = testDb();
  const finishedGroupware = {
    state: 'incomplete' as const,
    types: ['zimbra', 'openxchange'] as [string, string],
    groupwareCollections: [
      // One event refused: the calendar is through, 211 of its 212 on the target.
      { kind: 'calendar', name: 'Kalender', items: 212, present: 211, failed: 1 },
      { kind: 'calendar', name: 'Team Meetings', items: 48, present: 48 },
      { kind: 'contacts', name: 'Contacts', items: 640, present: 640 },
      { kind: 'tasks', name: 'Aufgaben & To-dos', items: 77, present: 77 },
    ],
    groupwareIssues: 1,
  };
  const finishedLine = 'Calendars 2/2 · events 259/260 · Address books 1/1 · contacts 640/640 · Task lists 1/1 · tasks 77/77 · 1 not copied';

  it('gives rows of CalDAV/CardDAV migrations calendars, contacts and tasks copied of the source, and IMAP-only rows nothing', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const admin = await seedUser(db, 'admin', null);
    const base = Date.UTC(2099, 5, 1) + Math.floor(Math.random() * 1e9);
    const at = (i: number) => new Date(base + i * 1_000);
    const ids = {
      ended: await seedMigration(db, organization.id, { ...finishedGroupware, createdAt: at(6) }),
      // Copying its first calendar: 300 of 520 there, none refused yet; the address book is through.
      copying: await seedMigration(db, organization.id, {
        state: 'running',
        types: ['kolab', 'zimbra'],
        createdAt: at(5),
        groupwareCollections: [
          { kind: 'contacts', name: 'Kontakte', items: 1000, present: 1000 },
          { kind: 'calendar', name: 'Kalender', items: 520, present: 300 },
        ],
      }),
      waiting: await seedMigration(db, organization.id, { state: 'scheduled', types: ['zimbra', 'kolab'], createdAt: at(4) }),
      imap: await seedMigration(db, organization.id, { state: 'running', createdAt: at(3) }),
      // Groupware to Microsoft 365, not begun yet: waiting.
      office365: await seedMigration(db, organization.id, { state: 'running', types: ['zimbra', 'office365'], createdAt: at(2) }),
      failedEarly: await seedMigration(db, organization.id, { state: 'failed', types: ['openxchange', 'zimbra'], createdAt: at(1) }),
    };
    const caller = await callerFor(db, user.id);

    const active = new Map((await caller.migrations.list({ list: 'active' })).map((m) => [m.id, m.groupwareRow]));
    expect(active.get(ids.copying)).toEqual({
      parts: ['Calendars 0/1 · events 300/520', 'Address books 1/1 · contacts 1,000/1,000'],
      hasCounts: true,
      notCopied: 0,
      line: 'Calendars 0/1 · events 300/520 · Address books 1/1 · contacts 1,000/1,000',
    });
    expect(active.get(ids.waiting)).toEqual({ parts: ['Calendars, contacts and tasks: waiting'], hasCounts: false, notCopied: 0, line: 'Calendars, contacts and tasks: waiting' });
    expect(active.get(ids.imap)).toBeNull();
    expect(active.get(ids.office365)).toEqual({ parts: ['Calendars, contacts and tasks: waiting'], hasCounts: false, notCopied: 0, line: 'Calendars, contacts and tasks: waiting' });

    const finished = await caller.migrations.finished({});
    const ended = finished.items.find((m) => m.id === ids.ended)!;
    expect(ended.groupwareRow?.line).toBe(finishedLine);
    expect(ended.groupwareRow?.notCopied).toBe(1);
    expect(ended.statusLine).toBe('Finished, but 1 calendar, contact or task item was not copied');
    expect(finished.items.find((m) => m.id === ids.failedEarly)!.groupwareRow?.line).toBe('Calendars, contacts and tasks: not copied');
    expect((await caller.migrations.get({ id: ids.ended })).groupwareRow?.line).toBe(finishedLine);

    const adminPage = await (await callerFor(db, admin.id)).admin.listMigrations({ organizationId: organization.id, limit: 10 });
    const adminRows = new Map(adminPage.items.map((m) => [m.id, m.groupwareRow?.line ?? null]));
    expect(adminRows.get(ids.ended)).toBe(finishedLine);
    expect(adminRows.get(ids.copying)).toBe('Calendars 0/1 · events 300/520 · Address books 1/1 · contacts 1,000/1,000');
    expect(adminRows.get(ids.imap)).toBeNull();

    // Counts only: no collection's address, name or checkpoint reaches a list.
    const text = JSON.stringify([finished, [...active.values()], adminPage]);
    for (const secret of ['secretCheckpoint', 'secret-server', 'Aufgaben', 'refused-0']) expect(text).not.toContain(secret);
  });

  it('reads the groupware counts of a whole page in one query, however many rows it has', async () => {
    const url = inject('databaseUrl');
    const logged = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: 2 }), log: [{ emit: 'event', level: 'query' }] });
    const queries: string[] = [];
    logged.$on('query', (e) => queries.push(e.query));
    try {
      const few = await seedOrganization(db, 'customer');
      const many = await seedOrganization(db, 'customer');
      await seedMigration(db, few.organization.id, finishedGroupware);
      for (let i = 0; i < 6; i++) await seedMigration(db, many.organization.id, finishedGroupware);
      const count = async (list: () => Promise<unknown>) => {
        queries.length = 0;
        await list();
        return { all: queries.length, groupware: queries.filter((q) => q.includes('migration_groupware_collections')).length };
      };
      const listed = async (organizationId: string) => ({
        active: await count(() => listMigrations(logged, organizationId, 'all', 'UTC')),
        finished: await count(() => listFinishedMigrations(logged, organizationId, {}, 'UTC')),
        admin: await count(() => listAllMigrations(logged, { organizationId }, 'UTC')),
      });
      const one = await listed(few.organization.id);
      const six = await listed(many.organization.id);
      for (const list of ['active', 'finished', 'admin'] as const) expect(one[list].groupware, list).toBe(1);
      expect(six).toEqual(one);
      expect((await listMigrations(logged, many.organization.id, 'all', 'UTC')).map((m) => m.groupwareRow?.line)).toEqual(Array(6).fill(finishedLine));
    } finally {
      await logged.$disconnect();
    }
  });
});
