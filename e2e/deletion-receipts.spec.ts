/**
 * Deletion receipts in the browser: a finished migration's page shows the receipt of its
 * deleted passwords; the Privacy page shows the chain intact and downloads every receipt as
 * JSON, digests included, with nothing of the mailboxes in it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { wipeCredentials } from '@/server/migrations/accounts';
import { expect, signIn, test } from './fixtures';

const shots = path.join(process.cwd(), 'test-results', 'screenshots');

test('a customer sees a finished migration’s receipt, the chain intact on Privacy, and downloads the receipts', async ({ page, seed, db }) => {
  const customer = await seed.customer({ name: 'Kanzlei Ostermann' });
  await seed.licence(customer, 10);
  const source = seed.email('petra');
  const migration = await db.migration.create({
    data: {
      organizationId: customer.organization.id,
      state: 'running',
      startAt: new Date(Date.now() - 3_600_000),
      startedAt: new Date(Date.now() - 3_600_000),
      totalMessages: 640,
      copiedMessages: 640,
      accounts: {
        create: [
          { side: 'source', type: 'imap', email: source, username: source, server: 'imap.kanzlei-alt.example', passwordSealed: 'sealed-source' },
          { side: 'target', type: 'imap', email: seed.email('petra-new'), username: 'petra', server: 'imap.kanzlei-neu.example', passwordSealed: 'sealed-target' },
        ],
      },
    },
    select: { id: true },
  });
  // It ends as a run ends it: the state, then the passwords, in one transaction.
  await db.$transaction(async (tx) => {
    await tx.migration.update({ where: { id: migration.id }, data: { state: 'finished', finishedAt: new Date() } });
    await wipeCredentials(tx, migration.id);
  });

  await signIn(page, customer.email, customer.password);
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto(`/migrations/${migration.id}`);
  await page.waitForURL(/\/migrations\/(finished\/)?[0-9a-f-]{36}$/);
  const receipts = page.getByTestId('migration-receipts');
  await expect(receipts.getByRole('heading', { name: 'Deletion receipts' })).toBeVisible();
  await expect(receipts.getByTestId('migration-receipt')).toHaveCount(1);
  await expect(receipts.getByTestId('migration-receipt')).toContainText('Passwords deleted when the migration finished');
  await expect(receipts.getByTestId('migration-receipt')).toContainText('2 passwords');
  await receipts.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(shots, 'deletion-receipts-migration.png'), fullPage: true });

  await receipts.getByRole('link', { name: /All receipts and the chain check/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Privacy' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Deletion receipts' })).toBeVisible();
  await expect(page.getByTestId('receipts-verdict')).toHaveText('Chain intact: 1 receipt');
  await expect(page.getByTestId('receipt')).toHaveCount(1);
  await expect(page.getByTestId('receipt')).toContainText('2 passwords');
  await page.getByTestId('receipts-section').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(shots, 'deletion-receipts-privacy.png'), fullPage: true });

  const downloading = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download receipts (JSON)' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(new RegExp(`^mailferry-deletion-receipts-${customer.organization.id}-\\d{4}-\\d{2}-\\d{2}\\.json$`));
  const text = await readFile((await download.path())!, 'utf8');
  const file = JSON.parse(text) as { organization: { id: string }; verdict: { ok: boolean; count: number }; algorithm: string; receipts: { migrationId: string; event: string; trigger: string; deleted: Record<string, number>; digest: string; prevDigest: string | null }[] };
  expect(file.organization.id).toBe(customer.organization.id);
  expect(file.verdict).toMatchObject({ ok: true, count: 1 });
  expect(file.algorithm).toContain('SHA-256');
  expect(file.receipts).toEqual([expect.objectContaining({ migrationId: migration.id, event: 'credentials_wiped', trigger: 'migration.finished', deleted: { passwords: 2 }, prevDigest: null, digest: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
  for (const personal of [source, 'imap.kanzlei-alt.example', 'sealed-source']) expect(text).not.toContain(personal);
});
