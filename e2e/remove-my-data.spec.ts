/**
 * "Remove my data": a customer with a finished migration and one not started yet opens Privacy,
 * cancels the unstarted one (its unit comes back), confirms the removal in the one dialog, sees
 * what was removed; afterwards the lists show only the counts line and no address. An admin does
 * the same for a customer from the organization's page.
 */
import path from 'node:path';
import type { Db } from '@/server/db';
import { reserveUnits } from '@/server/licensing/quota';
import { admin, expect, signIn, test } from './fixtures';

const shots = path.join(process.cwd(), 'test-results', 'screenshots');
const DAY = 86_400_000;

async function seedFinished(db: Db, organizationId: string, source: string, target: string) {
  const finishedAt = new Date(Date.now() - 3 * DAY);
  await db.migration.create({
    data: {
      organizationId,
      state: 'finished',
      startAt: new Date(finishedAt.getTime() - 3_600_000),
      startedAt: new Date(finishedAt.getTime() - 3_600_000),
      finishedAt,
      totalMessages: 1_240,
      copiedMessages: 1_240,
      totalBytes: 96_000_000n,
      copiedBytes: 96_000_000n,
      accounts: {
        create: [
          { side: 'source', type: 'imap', email: source, username: source, server: 'imap.altmail.example' },
          { side: 'target', type: 'imap', email: target, username: target, server: 'imap.neumail.example' },
        ],
      },
      folders: { create: [{ sourcePath: 'INBOX', targetPath: 'INBOX', messagesCopied: 1_000 }, { sourcePath: 'Angebote 2026', targetPath: 'Angebote 2026', messagesCopied: 240 }] },
      verifications: { create: [{ sourcePath: 'INBOX', targetPath: 'INBOX', pass: 'run', sourceMessages: 1_000, presentMessages: 1_000, missingMessages: 0, missingReported: 0, missingUids: [], verifiedAt: finishedAt }] },
    },
  });
}

async function seedScheduled(db: Db, organizationId: string, source: string, target: string) {
  const reserved = await reserveUnits(db, organizationId, 1);
  if (!reserved.ok) throw new Error(reserved.message);
  await db.migration.create({
    data: {
      organizationId,
      state: 'scheduled',
      startAt: new Date(Date.now() + 7 * DAY),
      reservation: { connect: { id: reserved.reservations[0]!.id } },
      accounts: {
        create: [
          { side: 'source', type: 'imap', email: source, username: source, server: 'imap.altmail.example', passwordSealed: null },
          { side: 'target', type: 'imap', email: target, username: target, server: 'imap.neumail.example', passwordSealed: null },
        ],
      },
    },
  });
}

test('a customer cancels its active migration, removes its personal data, and the lists show only the counts', async ({ page, seed, db }) => {
  const customer = await seed.customer({ name: 'Zahnarztpraxis Weber' });
  await seed.licence(customer, 10);
  const finishedSource = seed.email('praxis.alt');
  const finishedTarget = seed.email('praxis.neu');
  const scheduledSource = seed.email('empfang.alt');
  const scheduledTarget = seed.email('empfang.neu');
  await seedFinished(db, customer.organization.id, finishedSource, finishedTarget);
  await seedScheduled(db, customer.organization.id, scheduledSource, scheduledTarget);
  const addresses = [finishedSource, finishedTarget, scheduledSource, scheduledTarget];

  await signIn(page, customer.email, customer.password);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.getByRole('link', { name: 'Privacy' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Privacy' })).toBeVisible();
  await expect(page.getByTestId('what-we-keep')).toContainText('deleted the moment it ends');

  // The active one is named, and the removal waits for it.
  const active = page.getByTestId('active-migrations');
  await expect(active.getByRole('list', { name: 'Active migrations' })).toContainText(scheduledSource);
  await expect(page.getByRole('button', { name: 'Remove personal data…' })).toBeDisabled();
  await page.screenshot({ path: path.join(shots, 'privacy-active.png'), fullPage: true });
  await active.getByRole('button', { name: 'Cancel 1 migration' }).click();
  await expect(page.getByText('1 migration was cancelled. 1 had not started and counts as remaining again.')).toBeVisible();
  await expect(active).toHaveCount(0);
  expect(await db.migration.findFirst({ where: { organizationId: customer.organization.id, state: 'cancelled' }, select: { reservation: { select: { state: true } } } })).toEqual({ reservation: { state: 'released' } });

  // One confirmation: what goes, with counts, and what stays.
  await expect(page.getByTestId('removal-preview')).toContainText('2 migrations: their addresses, usernames and servers');
  await page.getByRole('button', { name: 'Remove personal data…' }).click();
  const dialog = page.getByRole('dialog', { name: `Remove the personal data of ${customer.organization.name}?` });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('dialog-deletes')).toContainText('2 migrations: their addresses, usernames and servers');
  await expect(dialog.getByTestId('dialog-deletes')).toContainText('2 folder records with their folder names');
  await expect(dialog.getByTestId('dialog-keeps')).toContainText('2 migrations, counted by month and state');
  await expect(dialog.getByTestId('dialog-keeps')).toContainText('1 licence key and what was used');
  await page.screenshot({ path: path.join(shots, 'privacy-confirm.png') });
  await dialog.getByRole('button', { name: 'Remove personal data' }).click();
  await expect(dialog).toBeHidden();

  await expect(page.getByTestId('removal-result')).toContainText('The personal data was removed. Removed: 2 migrations: their addresses, usernames and servers; 4 account records');
  await expect(page.getByRole('heading', { name: 'Nothing personal is stored' })).toBeVisible();
  await expect(page.getByTestId('removed-counts').getByTestId('details-removed-summary')).toContainText(/^2 migrations done by \d{1,2} \w{3} \d{4}; their details were removed on \d{1,2} \w{3} \d{4}\.$/);
  const table = page.getByRole('table', { name: 'Migrations whose details were removed, by month and state' });
  await expect(table.getByRole('row')).toHaveCount(3);
  for (const address of addresses) await expect(page.locator('main')).not.toContainText(address);
  await page.screenshot({ path: path.join(shots, 'privacy-removed.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 900 });
  await page.screenshot({ path: path.join(shots, 'privacy-removed-phone.png'), fullPage: true });
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
  await page.setViewportSize({ width: 1280, height: 900 });

  // The lists: the counts line, and no address anywhere on the page.
  await page.goto('/migrations');
  await expect(page.getByTestId('details-removed-summary')).toContainText(/^2 migrations done by .+; their details were removed on .+\. Privacy →$/);
  await expect(page.getByTestId('migration-row')).toHaveCount(0);
  for (const address of addresses) await expect(page.locator('body')).not.toContainText(address);
  await page.goto('/migrations/finished');
  await expect(page.getByTestId('details-removed-summary')).toContainText('2 migrations done by');
  await expect(page.getByTestId('finished-row')).toHaveCount(2);
  await expect(page.getByTestId('finished-row').filter({ hasText: 'Details removed on' })).toHaveCount(2);
  for (const address of addresses) await expect(page.locator('body')).not.toContainText(address);
  await page.screenshot({ path: path.join(shots, 'privacy-finished-list.png'), fullPage: true });
});

test('an admin removes a customer’s personal data from its organization page', async ({ page, seed, db }) => {
  const customer = await seed.customer({ name: 'Steuerbüro Lang' });
  const source = seed.email('buero.alt');
  const target = seed.email('buero.neu');
  await seedFinished(db, customer.organization.id, source, target);

  await signIn(page, admin.email, admin.password);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`/organizations/${customer.organization.id}`);
  const section = page.getByTestId('personal-data');
  await expect(section.getByRole('heading', { name: 'Personal data' })).toBeVisible();
  await expect(section.getByTestId('removal-preview')).toContainText('1 migration: its addresses, usernames and servers');
  await section.getByRole('button', { name: 'Remove personal data…' }).click();
  const dialog = page.getByRole('dialog', { name: `Remove the personal data of ${customer.organization.name}?` });
  await expect(dialog.getByTestId('dialog-keeps')).toContainText(`The organization ${customer.organization.name} and its 1 user`);
  await dialog.getByRole('button', { name: 'Remove personal data' }).click();
  await expect(section.getByTestId('removal-result')).toContainText('1 migration: its addresses, usernames and servers');
  await expect(section.getByTestId('details-removed-summary')).toContainText('1 migration done before');
  await page.screenshot({ path: path.join(shots, 'organization-personal-data.png'), fullPage: true });

  const rows = await db.migration.findMany({ where: { organizationId: customer.organization.id }, select: { detailsRemovedReason: true, accounts: { select: { email: true } } } });
  expect(rows).toEqual([{ detailsRemovedReason: 'admin', accounts: [{ email: '' }, { email: '' }] }]);
});
