/**
 * "Download report" on an ended migration's detail page: both files arrive as attachments and
 * hold what the page shows (addresses, counts, the verification verdict, the item not copied).
 */
import { readFile } from 'node:fs/promises';
import { expect, signIn, test } from './fixtures';

test('a customer downloads the report of a finished migration as CSV and as JSON', async ({ page, seed, db }) => {
  const customer = await seed.customer({ name: 'Kanzlei Morgenstern' });
  const source = seed.email('lena-old');
  const target = seed.email('lena-new');
  const { id } = await db.migration.create({
    data: {
      organizationId: customer.organization.id,
      state: 'incomplete',
      startAt: new Date('2027-01-12T09:00:00.000Z'),
      startedAt: new Date('2027-01-12T09:00:04.000Z'),
      finishedAt: new Date('2027-01-12T09:07:00.000Z'),
      totalMessages: 4,
      copiedMessages: 3,
      failedMessages: 1,
      totalBytes: 9_000n,
      copiedBytes: 6_000n,
      accounts: {
        create: [
          { side: 'source', type: 'imap', email: source, username: 'lena-login', server: 'imap.old.example', passwordSealed: 'sealed' },
          { side: 'target', type: 'imap', email: target, username: 'lena-login-2', server: 'imap.new.example', passwordSealed: 'sealed' },
        ],
      },
      folders: { create: [{ sourcePath: 'INBOX', targetPath: 'INBOX', messagesCopied: 3, messagesFailed: 1, bytesCopied: 6_000n }] },
      issues: { create: [{ folder: 'INBOX', uid: 4, size: 3_000n, reason: 'Refused by the target server: [LIMIT] message too large' }] },
      verifications: {
        create: [{ sourcePath: 'INBOX', targetPath: 'INBOX', pass: 'run', sourceMessages: 4, presentMessages: 3, missingMessages: 1, missingReported: 1, missingUids: [4], verifiedAt: new Date('2027-01-12T09:06:30.000Z') }],
      },
    },
    select: { id: true },
  });

  await signIn(page, customer.email, customer.password);
  await page.goto(`/migrations/${id}`);
  await expect(page.getByRole('heading', { level: 1, name: source })).toBeVisible();
  const downloads = page.getByTestId('report-downloads');
  await expect(downloads).toBeVisible();
  await page.screenshot({ path: 'test-results/screenshots/migration-report-buttons.png', fullPage: true });

  const [csvDownload] = await Promise.all([page.waitForEvent('download'), downloads.getByRole('link', { name: 'Download report (CSV)' }).click()]);
  expect(csvDownload.suggestedFilename()).toBe(`mailferry-migration-${id.slice(0, 8)}-report.csv`);
  const csv = await readFile((await csvDownload.path())!, 'utf8');
  expect(csv.charCodeAt(0)).toBe(0xfeff);
  expect(csv).toContain(`migration,source_email,${source}`);
  expect(csv).toContain(`migration,target_email,${target}`);
  expect(csv).toContain('migration,messages_copied,3');
  expect(csv).toMatch(/verification,,,INBOX,INBOX,(,*)4,3,1,4,/);
  expect(csv).toContain('not_copied,,,INBOX,');
  expect(csv).toContain('Refused by the target server: [LIMIT] message too large');
  expect(csv).not.toContain('lena-login');

  const [jsonDownload] = await Promise.all([page.waitForEvent('download'), downloads.getByRole('link', { name: 'Download report (JSON)' }).click()]);
  expect(jsonDownload.suggestedFilename()).toBe(`mailferry-migration-${id.slice(0, 8)}-report.json`);
  const json = await readFile((await jsonDownload.path())!, 'utf8');
  const report = JSON.parse(json) as { migration: { id: string; source: { email: string }; messages: { copied: number; failed: number }; local: { finishedAt: string } }; verification: { totals: { missing: number } }; notCopied: { uid: number }[] };
  expect(report.migration).toMatchObject({ id, source: { email: source }, messages: { copied: 3, failed: 1 }, local: { finishedAt: '12 Jan 2027, 10:07' } });
  expect(report.verification.totals.missing).toBe(1);
  expect(report.notCopied.map((i) => i.uid)).toEqual([4]);
  expect(json).not.toContain('lena-login');
  expect(json).not.toContain('sealed');
});
