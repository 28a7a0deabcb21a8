/**
 * Groupware migrations in the lists: the active list, the finished list and the admins' list
 * give each zimbra / kolab / openxchange row its calendars, contacts and tasks copied of the
 * source's (or "waiting" before the copy begins), and an IMAP-only row nothing of the kind;
 * on a phone the chips wrap inside the row.
 */
import path from 'node:path';
import type { Page } from '@playwright/test';
import type { Db } from '@/server/db';
import type { MigrationState } from '@/server/generated/prisma/enums';
import { admin, expect, signIn, signOut, test } from './fixtures';

const shots = path.join(process.cwd(), 'test-results', 'screenshots');
const desktop = { width: 1400, height: 1000 };
const phone = { width: 390, height: 900 };

interface Row {
  state: MigrationState;
  types: [string, string];
  source: string;
  target: string;
  minutesAgo: number;
  collections?: { kind: string; name: string; items: number; present: number; failed?: number }[];
  refused?: number;
}

async function seedRow(db: Db, organizationId: string, row: Row): Promise<string> {
  const now = Date.now();
  const isEnded = ['finished', 'incomplete', 'failed', 'cancelled'].includes(row.state);
  const at = new Date(now - row.minutesAgo * 60_000);
  const { id } = await db.migration.create({
    data: {
      organizationId,
      state: row.state,
      createdAt: at,
      startAt: at,
      startedAt: row.state === 'scheduled' ? null : at,
      finishedAt: isEnded ? new Date(at.getTime() + 7 * 60_000) : null,
      totalMessages: 4_120,
      copiedMessages: isEnded ? 4_120 : 1_870,
      accounts: {
        create: [
          { side: 'source', type: row.types[0], email: row.source, username: 'login-old', server: 'mail.old.example', passwordSealed: 'sealed' },
          { side: 'target', type: row.types[1], email: row.target, username: 'login-new', server: 'mail.new.example', passwordSealed: 'sealed' },
        ],
      },
      groupwareCollections: {
        create: (row.collections ?? []).map((c) => ({
          sourceId: `https://old.example/dav/${c.kind}/${encodeURIComponent(c.name)}/`,
          kind: c.kind,
          sourceName: c.name,
          targetName: c.name,
          checkpoint: {},
          items: c.items,
          present: c.present,
          copied: c.present,
          failed: c.failed ?? 0,
        })),
      },
      groupwareIssues: {
        create: Array.from({ length: row.refused ?? 0 }, (_, i) => ({
          kind: 'calendar',
          collection: 'Kalender',
          uid: `refused-${i}@old.example`,
          size: 31_457_280,
          reason: 'Refused by the target server: 413 Request Entity Too Large',
        })),
      },
    },
    select: { id: true },
  });
  return id;
}

async function noSideways(page: Page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
}

test('list rows of groupware migrations count calendars, contacts and tasks; IMAP-only rows do not', async ({ page, seed, db }) => {
  const customer = await seed.customer({ name: 'Kanzlei Morgenstern' });
  await seed.licence(customer, 10);
  const mail = (name: string) => seed.email(name);
  const copying = { source: mail('lena'), target: mail('lena-ox') };
  const waiting = { source: mail('jonas'), target: mail('jonas-ox') };
  const imapOnly = { source: mail('empfang'), target: mail('empfang-ox') };
  const ended = { source: mail('kanzlei'), target: mail('kanzlei-ox') };
  const endedImap = { source: mail('archiv'), target: mail('archiv-neu') };
  await seedRow(db, customer.organization.id, {
    state: 'running',
    types: ['zimbra', 'openxchange'],
    ...copying,
    minutesAgo: 5,
    collections: [
      { kind: 'contacts', name: 'Kontakte', items: 1_000, present: 1_000 },
      { kind: 'calendar', name: 'Kalender', items: 520, present: 318 },
    ],
  });
  await seedRow(db, customer.organization.id, { state: 'scheduled', types: ['kolab', 'openxchange'], ...waiting, minutesAgo: 6 });
  await seedRow(db, customer.organization.id, { state: 'running', types: ['imap', 'openxchange'], ...imapOnly, minutesAgo: 7 });
  await seedRow(db, customer.organization.id, {
    state: 'incomplete',
    types: ['zimbra', 'openxchange'],
    ...ended,
    minutesAgo: 30,
    collections: [
      { kind: 'calendar', name: 'Kalender', items: 520, present: 518, failed: 2 },
      { kind: 'calendar', name: 'Team Meetings', items: 48, present: 48 },
      { kind: 'contacts', name: 'Kontakte', items: 1_000, present: 1_000 },
      { kind: 'tasks', name: 'Aufgaben', items: 200, present: 200 },
      { kind: 'tasks', name: 'Projekt Ω – nächste Schritte', items: 40, present: 40 },
    ],
    refused: 2,
  });
  await seedRow(db, customer.organization.id, { state: 'finished', types: ['imap', 'imap'], ...endedImap, minutesAgo: 40 });

  await signIn(page, customer.email, customer.password);
  await page.setViewportSize(desktop);
  await page.goto('/migrations');
  const activeRow = (source: string) => page.getByTestId('migration-row').filter({ hasText: source });
  await expect(activeRow(copying.source).getByTestId('row-groupware')).toHaveText(/Calendars 0\/1 · events 318\/520\s*Address books 1\/1 · contacts 1,000\/1,000/);
  await expect(activeRow(waiting.source).getByTestId('row-groupware')).toHaveText('Calendars, contacts and tasks: waiting');
  await expect(activeRow(imapOnly.source)).toBeVisible();
  await expect(activeRow(imapOnly.source).getByTestId('row-groupware')).toHaveCount(0);
  await page.screenshot({ path: path.join(shots, 'groupware-list-active.png'), fullPage: true });
  await page.setViewportSize(phone);
  await expect(activeRow(copying.source).getByTestId('row-groupware')).toBeVisible();
  await noSideways(page);
  await page.screenshot({ path: path.join(shots, 'groupware-list-active-phone.png'), fullPage: true });

  await page.setViewportSize(desktop);
  await page.goto('/migrations/finished');
  const finishedRow = (source: string) => page.getByTestId('finished-row').filter({ hasText: source });
  const line = finishedRow(ended.source).getByTestId('row-groupware');
  await expect(line).toContainText('Calendars 2/2 · events 566/568');
  await expect(line).toContainText('Address books 1/1 · contacts 1,000/1,000');
  await expect(line).toContainText('Task lists 2/2 · tasks 240/240');
  await expect(line).toContainText('2 not copied');
  await expect(finishedRow(ended.source).getByTestId('migration-status-line')).toHaveText('Finished, but 2 calendar, contact or task items were not copied');
  await expect(finishedRow(endedImap.source)).toBeVisible();
  await expect(finishedRow(endedImap.source).getByTestId('row-groupware')).toHaveCount(0);
  await page.screenshot({ path: path.join(shots, 'groupware-list-finished.png'), fullPage: true });
  await page.setViewportSize(phone);
  await expect(line).toBeVisible();
  // Each chip stays whole on a phone: the line wraps between them, inside the row.
  const chips = await line.locator('span').evaluateAll((spans) => spans.map((s) => ({ height: s.getBoundingClientRect().height, right: s.getBoundingClientRect().right })));
  const rowRight = await finishedRow(ended.source).evaluate((li) => li.getBoundingClientRect().right);
  for (const chip of chips) {
    expect(chip.height).toBeLessThan(30);
    expect(chip.right).toBeLessThanOrEqual(rowRight);
  }
  await noSideways(page);
  await page.screenshot({ path: path.join(shots, 'groupware-list-finished-phone.png'), fullPage: true });

  await signOut(page);
  await signIn(page, admin.email, admin.password);
  await page.setViewportSize(desktop);
  await page.goto('/admin/migrations');
  await page.getByLabel('Organization').selectOption({ label: customer.organization.name });
  const adminRow = page.getByTestId('admin-migration-row').filter({ hasText: ended.source });
  await expect(adminRow.getByTestId('row-groupware')).toContainText('Calendars 2/2 · events 566/568');
  await expect(page.getByTestId('admin-migration-row').filter({ hasText: imapOnly.source }).getByTestId('row-groupware')).toHaveCount(0);
  await page.screenshot({ path: path.join(shots, 'groupware-list-admin.png') });
});
