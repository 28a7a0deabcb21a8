import { describe, expect, it } from 'vitest';
import Papa from 'papaparse';
import { loadSessionUser } from '@/server/auth/session-user';
import type { Db } from '@/server/db';
import type { MigrationState } from '@/server/generated/prisma/enums';
import { finishedExportResponse } from '@/server/migrations/finished-export';
import { callerFor, codeOf } from './helpers/trpc';
import { seedOrganization, testDb } from './helpers/database';

const ZONE = 'Europe/Berlin';

async function seedEnded(db: Db, organizationId: string, n: number, options: { state?: MigrationState; finishedAt: Date; source?: string; target?: string; failureReason?: string }) {
  const migration = await db.migration.create({
    data: {
      organizationId,
      state: options.state ?? 'finished',
      startAt: new Date(options.finishedAt.getTime() - 3_600_000),
      finishedAt: options.finishedAt,
      failureReason: options.failureReason ?? null,
      totalMessages: 10 + n,
      copiedMessages: 10 + n,
      accounts: {
        create: [
          { side: 'source', type: 'imap', email: options.source ?? `src${n}@old.example`, username: `src-login-${n}`, server: 'imap://old.example' },
          { side: 'target', type: 'imap', email: options.target ?? `dst${n}@new.example`, username: `dst-login-${n}`, server: 'imap://new.example' },
        ],
      },
    },
    select: { id: true },
  });
  return migration.id;
}

async function allPages(caller: Awaited<ReturnType<typeof callerFor>>, input: { search?: string; sort?: 'newest' | 'oldest'; limit: number }) {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await caller.migrations.finished({ ...input, cursor });
    ids.push(...page.items.map((m) => m.id));
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 100);
  return { ids, pages };
}

describe('finished migrations list', () => {
  const db = testDb();

  it('pages by cursor in finished order, never repeating or skipping a row, also among equal finish times', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const base = Date.UTC(2026, 10, 1, 12);
    const same = new Date(base + 5 * 60_000);
    const ids: { id: string; at: number }[] = [];
    for (let i = 0; i < 13; i++) {
      // Five rows share one instant: only the id breaks the tie.
      const at = i >= 4 && i < 9 ? same : new Date(base + i * 60_000);
      ids.push({ id: await seedEnded(db, organization.id, i, { finishedAt: at, state: i === 2 ? 'failed' : i === 3 ? 'cancelled' : 'finished' }), at: at.getTime() });
    }
    // Not ended, so not listed.
    await db.migration.create({ data: { organizationId: organization.id, state: 'running', startAt: new Date() } });

    const caller = await callerFor(db, user.id);
    const newest = [...ids].sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1)).map((r) => r.id);
    const { ids: listed, pages } = await allPages(caller, { limit: 3 });
    expect(pages).toBe(5);
    expect(listed).toEqual(newest);
    expect(new Set(listed).size).toBe(13);

    const { ids: oldestFirst } = await allPages(caller, { limit: 4, sort: 'oldest' });
    expect(oldestFirst).toEqual([...newest].reverse());

    const first = await caller.migrations.finished({ limit: 20 });
    expect(first.nextCursor).toBeNull();
    // The count comes with the first page only, and counts the whole list, not the page.
    expect((await caller.migrations.finished({ limit: 3 })).count).toBe(13);
    expect((await caller.migrations.finished({ limit: 3, cursor: first.nextCursor ?? (await caller.migrations.finished({ limit: 3 })).nextCursor })).count).toBeNull();

    // A row that ends while someone pages does not shift the pages already read.
    const page1 = await caller.migrations.finished({ limit: 5 });
    await seedEnded(db, organization.id, 99, { finishedAt: new Date(base + 3_600_000) });
    const page2 = await caller.migrations.finished({ limit: 5, cursor: page1.nextCursor });
    expect(page2.items.map((m) => m.id)).toEqual(newest.slice(5, 10));

    expect(await codeOf(caller.migrations.finished({ cursor: 'not-a-cursor' }))).toBe('BAD_REQUEST');
  });

  it('searches the start of the source or the target address, case-insensitively', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const at = new Date(Date.UTC(2026, 10, 2, 9));
    const anna = await seedEnded(db, organization.id, 1, { finishedAt: at, source: 'Anna.Meier@Old.example', target: 'anna@new.example' });
    const bert = await seedEnded(db, organization.id, 2, { finishedAt: at, source: 'bert@old.example', target: 'ANNIKA@new.example' });
    await seedEnded(db, organization.id, 3, { finishedAt: at, source: 'carl@old.example', target: 'carl@new.example' });
    const caller = await callerFor(db, user.id);

    const ids = async (search: string) => (await caller.migrations.finished({ search })).items.map((m) => m.id).sort();
    expect(await ids('anna.MEIER')).toEqual([anna]);
    expect(await ids('ANN')).toEqual([anna, bert].sort());
    expect((await caller.migrations.finished({ search: 'ANN' })).count).toBe(2);
    expect(await ids('annika@new')).toEqual([bert]);
    expect(await ids('meier')).toEqual([]);
    expect(await ids('nobody')).toEqual([]);
    // LIKE's wildcards are literal characters in a search.
    expect(await ids('%')).toEqual([]);
    expect(await ids('_nna')).toEqual([]);
  });

  it('shows only the caller’s own organization', async () => {
    const mine = await seedOrganization(db, 'customer');
    const other = await seedOrganization(db, 'customer');
    const at = new Date(Date.UTC(2026, 10, 3, 9));
    await seedEnded(db, mine.organization.id, 1, { finishedAt: at, source: 'shared@old.example' });
    const theirs = await seedEnded(db, other.organization.id, 2, { finishedAt: at, source: 'shared@old.example' });

    const caller = await callerFor(db, mine.user.id);
    const page = await caller.migrations.finished({ search: 'shared@' });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]!.id).not.toBe(theirs);
    // Their cursor reveals nothing of theirs either: it only says where to continue in my list.
    const cursor = Buffer.from(`${at.toISOString()}|${theirs}`).toString('base64url');
    expect((await caller.migrations.finished({ cursor })).items.every((m) => m.id !== theirs)).toBe(true);

    const reseller = await seedOrganization(db, 'reseller');
    expect(await codeOf((await callerFor(db, reseller.user.id)).migrations.finished({}))).toBe('FORBIDDEN');
    expect(await codeOf((await callerFor(db, null)).migrations.finished({}))).toBe('UNAUTHORIZED');
  });

  it('exports every matching row as CSV with formula cells escaped and no login names', async () => {
    const { organization, user } = await seedOrganization(db, 'customer');
    const other = await seedOrganization(db, 'customer');
    const base = Date.UTC(2026, 10, 4, 8);
    for (let i = 0; i < 1_203; i++) await seedEnded(db, organization.id, i, { finishedAt: new Date(base + i * 1_000) });
    await seedEnded(db, organization.id, 5_000, {
      state: 'failed',
      finishedAt: new Date(base + 2_000_000),
      source: '=HYPERLINK("http://evil.example")@old.example',
      failureReason: '+The source refused the login, "twice"',
    });
    await seedEnded(db, other.organization.id, 6_000, { finishedAt: new Date(base), source: 'theirs@old.example' });

    const session = await loadSessionUser(db, user.id);
    const response = finishedExportResponse(db, session, new URL('http://portal.test/api/migrations/finished/export'), ZONE);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="finished-migrations-\d{4}-\d{2}-\d{2}\.csv"$/);
    const text = await response.text();
    expect(text).not.toContain('login-');
    expect(text).not.toContain('theirs@');
    const parsed = Papa.parse<string[]>(text.trim(), { newline: '\r\n' });
    expect(parsed.errors).toEqual([]);
    const [header, ...rows] = parsed.data;
    expect(header).toEqual(['Source', 'Source type', 'Target', 'Target type', 'State', 'Finished (Europe/Berlin)', 'Messages copied', 'Messages total', 'Messages not copied', 'Missing on target', 'Verification', 'Status', 'Failure reason']);
    expect(rows).toHaveLength(1_204);
    expect(rows[0]).toEqual(["'=HYPERLINK(\"http://evil.example\")@old.example", 'imap', 'dst5000@new.example', 'imap', 'failed', '4 Nov 2026, 09:33', '5010', '5010', '0', '0', 'Not verified', '', "'+The source refused the login, \"twice\""]);
    expect(rows[1]![0]).toBe('src1202@old.example');
    expect(rows.at(-1)![0]).toBe('src0@old.example');

    const searched = await finishedExportResponse(db, session, new URL('http://portal.test/x?search=SRC120&sort=oldest'), ZONE).text();
    expect(Papa.parse<string[]>(searched.trim()).data.slice(1).map((r) => r[0])).toEqual(['src120@old.example', ...Array.from({ length: 3 }, (_, i) => `src120${i}@old.example`)]);

    expect(finishedExportResponse(db, null, new URL('http://portal.test/x'), ZONE).status).toBe(401);
    const reseller = await seedOrganization(db, 'reseller');
    expect(finishedExportResponse(db, await loadSessionUser(db, reseller.user.id), new URL('http://portal.test/x'), ZONE).status).toBe(403);
    expect(finishedExportResponse(db, session, new URL('http://portal.test/x?sort=sideways'), ZONE).status).toBe(400);
  });
});
