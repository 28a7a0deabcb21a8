/**
 * A migration whose personal data was removed (by the customer, an admin or the retention
 * period): the finished list and its page keep the counts and dates and say when the details
 * were removed, with no address, folder or report left to show.
 */
import path from 'node:path';
import { expect, signIn, test } from './fixtures';

const shots = path.join(process.cwd(), 'test-results', 'screenshots');

test('a migration with its details removed shows counts and when they were removed, nothing personal', async ({ page, seed, db }) => {
  const customer = await seed.customer({ name: 'Tischlerei Brandt' });
  await seed.licence(customer, 10);
  const kept = seed.email('kept');
  await db.migration.create({
    data: {
      organizationId: customer.organization.id,
      state: 'finished',
      startAt: new Date('2026-09-01T08:00:00.000Z'),
      startedAt: new Date('2026-09-01T08:00:02.000Z'),
      finishedAt: new Date('2026-09-01T08:40:00.000Z'),
      totalMessages: 5_120,
      copiedMessages: 5_120,
      totalBytes: 812_000_000n,
      copiedBytes: 812_000_000n,
      detailsRemovedAt: new Date('2026-11-30T03:17:00.000Z'),
      detailsRemovedReason: 'retention',
      accounts: {
        create: [
          { side: 'source', type: 'imap', email: '', username: '', server: '', passwordSealed: null },
          { side: 'target', type: 'imap', email: '', username: '', server: '', passwordSealed: null },
        ],
      },
    },
  });
  await db.migration.create({
    data: {
      organizationId: customer.organization.id,
      state: 'finished',
      startAt: new Date('2026-12-01T08:00:00.000Z'),
      startedAt: new Date('2026-12-01T08:00:02.000Z'),
      finishedAt: new Date('2026-12-01T08:10:00.000Z'),
      totalMessages: 12,
      copiedMessages: 12,
      accounts: {
        create: [
          { side: 'source', type: 'imap', email: kept, username: kept, server: 'imap.old.example', passwordSealed: null },
          { side: 'target', type: 'imap', email: seed.email('kept-new'), username: 'x', server: 'imap.new.example', passwordSealed: null },
        ],
      },
    },
  });
  await signIn(page, customer.email, customer.password);
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto('/migrations/finished');
  const removed = page.getByTestId('finished-row').filter({ hasText: 'Details removed on' });
  await expect(removed).toHaveCount(1);
  await expect(page.getByTestId('finished-row').filter({ hasText: kept })).toHaveCount(1);
  await page.screenshot({ path: path.join(shots, 'details-removed-list.png'), fullPage: true });
  await removed.getByRole('link', { name: /Details of the migration of Details removed on/ }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Details removed on');
  await expect(page.getByTestId('migration-detail')).not.toContainText('imap.old.example');
  await expect(page.getByTestId('folders')).toContainText('The folder names were removed');
  await expect(page.getByText('5,120 messages copied').first()).toBeVisible();
  await page.screenshot({ path: path.join(shots, 'details-removed-detail.png'), fullPage: true });
});
