/**
 * A customer watches a real migration against the run's Dovecot move on its detail page: the
 * source is reached through a loopback proxy that paces what the server sends, so the copy
 * takes long enough to be seen. The numbers move without a reload, the polling stops once the
 * migration has ended, and a second migration is cancelled from the page.
 */
import type { Page } from '@playwright/test';
import path from 'node:path';
import { parseServer } from '@/server/accounts/server-address';
import { fillMailbox, makeMessage, openImap } from '../test/helpers/mailbox';
import { expect, signIn, test } from './fixtures';
import { allowHost, startPacedProxy } from './loopback';

const shots = path.join(process.cwd(), 'test-results', 'screenshots');

/** A source mailbox of three folders, ~30 KB a message. */
async function fillSource(port: number, host: string, account: { email: string; password: string }, perFolder: [string, number][]) {
  const client = await openImap(port, account.email, account.password, host);
  try {
    await fillMailbox(
      client,
      perFolder.flatMap(([folder, count]) => Array.from({ length: count }, (_, i) => ({ folder, raw: makeMessage({ subject: `${folder} ${i + 1}`, bodyBytes: 30_000 }) }))),
    );
  } finally {
    await client.logout().catch(() => client.close());
  }
}

async function createMigration(page: Page, source: { email: string; password: string }, target: { email: string; password: string }, sourceServer: string, targetServer: string) {
  const form = page.getByRole('form', { name: 'New migration' });
  for (const [name, account, server] of [['Source', source, sourceServer], ['Target', target, targetServer]] as const) {
    const group = form.getByRole('group', { name });
    await group.getByLabel('Email address').fill(account.email);
    await group.getByLabel('Password', { exact: true }).fill(account.password);
    await group.getByLabel('Server', { exact: true }).fill(server);
  }
  await form.getByRole('group', { name: 'Timing' }).getByRole('button', { name: 'Now' }).click();
  await form.getByRole('button', { name: 'Check logins and schedule' }).click();
  await expect(page).toHaveURL(/\/migrations\?created=/);
  const row = page.getByTestId('migration-row').filter({ hasText: source.email });
  await row.getByRole('link', { name: `Details of the migration of ${source.email}` }).click();
  await expect(page.getByRole('heading', { level: 1, name: source.email })).toBeVisible();
}

const copiedNow = async (page: Page) => Number((await page.getByTestId('detail-messages').innerText()).replace(/\D/g, ''));

/** Counts the page's requests for the detail from now on. */
function countDetailRequests(page: Page): { count: () => number } {
  let count = 0;
  page.on('request', (request) => {
    if (request.url().includes('migrations.detail')) count++;
  });
  return { count: () => count };
}

test.describe('live migration detail', () => {
  test('the page follows a running migration without a reload and stops asking once it has finished', async ({ page, seed, mail, db }) => {
    test.setTimeout(150_000);
    const dovecot = parseServer(mail.server).mail!;
    const proxy = await startPacedProxy({ host: dovecot.host, port: dovecot.port }, 350_000);
    const disallow = await allowHost(db, `127.0.0.1/32:${proxy.port}`);
    try {
      const customer = await seed.customer({ name: 'Steuerbüro Lindqvist' });
      const source = await mail.mailbox('lind-old');
      const target = await mail.mailbox('lind-new');
      await fillSource(dovecot.port, dovecot.host, source, [
        ['INBOX', 70],
        ['Archiv', 45],
        ['Mandanten', 30],
      ]);

      await signIn(page, customer.email, customer.password);
      await createMigration(page, source, target, `imap://127.0.0.1:${proxy.port}`, mail.server);
      // A mark on the document: a reload or a navigation would lose it.
      await page.evaluate(() => Object.assign(window, { __sameDocument: true }));

      await expect(page.getByTestId('migration-state')).toHaveText('Running', { timeout: 30_000 });
      await expect.poll(() => copiedNow(page), { timeout: 30_000 }).toBeGreaterThan(0);
      await expect(page.getByTestId('state-sentence')).toHaveText(/^Copying — (\d+ folders? left|reading the folders)$/);
      await expect(page.getByTestId('folder-row').filter({ has: page.locator('[data-testid="folder-state"]', { hasText: /Copying/ }) }).first()).toBeVisible();
      const first = await copiedNow(page);
      await page.screenshot({ path: path.join(shots, 'live-migration-1.png'), fullPage: true });

      await expect.poll(() => copiedNow(page), { timeout: 30_000 }).toBeGreaterThan(first + 10);
      await expect(page.getByTestId('detail-rate')).toHaveText(/\/s/);
      await expect(page.getByTestId('detail-eta')).toHaveText(/minute|about/);
      const second = await copiedNow(page);
      expect(second).toBeGreaterThan(first);
      await page.screenshot({ path: path.join(shots, 'live-migration-2.png'), fullPage: true });
      expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);

      // It ends by itself, the page shows the end without a reload.
      await expect(page.getByTestId('migration-state')).toHaveText('Finished', { timeout: 90_000 });
      await expect(page.getByTestId('detail-messages')).toHaveText('145');
      await expect(page.getByTestId('state-sentence')).toHaveText(/^Finished on \d{1,2} \w{3} \d{4}, \d{2}:\d{2} \(Europe\/Berlin\)$/);
      await expect(page.getByTestId('timeline-entry')).toHaveText([/Scheduled/, /Copy started/, /^Finished/, /Passwords deleted/]);
      await expect(page.getByTestId('folder-row').filter({ hasText: 'Archiv' })).toHaveText(/Archiv\s*Done\s*45\s*0\s*0\s*45/);
      await expect(page.getByTestId('groupware-line')).toHaveText('Both accounts are e-mail only (IMAP): there are no calendars, contacts or tasks to move.');
      await expect(page.getByTestId('verification')).toContainText('All 145 messages of the source are on the target.');
      expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);

      // No more polling once it has ended.
      const requests = countDetailRequests(page);
      await page.waitForTimeout(7_000);
      expect(requests.count()).toBe(0);
      await page.screenshot({ path: path.join(shots, 'live-migration-finished.png'), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: path.join(shots, 'live-migration-phone.png'), fullPage: true });
    } finally {
      await disallow();
      await proxy.close();
    }
  });

  test('a running migration is cancelled from its page after a confirmation', async ({ page, seed, mail, db }) => {
    test.setTimeout(120_000);
    const dovecot = parseServer(mail.server).mail!;
    const proxy = await startPacedProxy({ host: dovecot.host, port: dovecot.port }, 120_000);
    const disallow = await allowHost(db, `127.0.0.1/32:${proxy.port}`);
    try {
      const customer = await seed.customer({ name: 'Bäckerei Sonnenkorn' });
      const source = await mail.mailbox('korn-old');
      const target = await mail.mailbox('korn-new');
      await fillSource(dovecot.port, dovecot.host, source, [
        ['INBOX', 60],
        ['Bestellungen', 40],
      ]);
      await signIn(page, customer.email, customer.password);
      await createMigration(page, source, target, `imap://127.0.0.1:${proxy.port}`, mail.server);
      await expect(page.getByTestId('migration-state')).toHaveText('Running', { timeout: 30_000 });
      await expect.poll(() => copiedNow(page), { timeout: 30_000 }).toBeGreaterThan(0);

      await page.getByRole('button', { name: 'Cancel migration' }).click();
      const confirm = page.getByRole('group', { name: 'Confirm cancel' });
      await expect(confirm).toContainText('Cancel this migration?');
      await expect(confirm).toContainText('What was copied stays on the target');
      // Not yet: "Keep it running" leaves it as it is.
      await confirm.getByRole('button', { name: 'Keep it running' }).click();
      await expect(page.getByTestId('migration-state')).toHaveText('Running');
      await page.getByRole('button', { name: 'Cancel migration' }).click();
      await page.screenshot({ path: path.join(shots, 'live-migration-cancel-confirm.png'), fullPage: true });
      await page.getByRole('group', { name: 'Confirm cancel' }).getByRole('button', { name: 'Yes, cancel' }).click();

      await expect(page.getByTestId('migration-state')).toHaveText('Cancelled');
      await expect(page.getByTestId('cancel-notice')).toContainText('stops copying at its next checkpoint');
      await expect(page.getByTestId('state-sentence')).toHaveText(/^Cancelled on .+ \(Europe\/Berlin\)$/);
      await expect(page.getByRole('button', { name: 'Cancel migration' })).toHaveCount(0);
      await expect(page.getByTestId('timeline-entry').filter({ hasText: 'Cancelled' })).toHaveCount(1);
      const copied = await copiedNow(page);
      expect(copied).toBeLessThan(100);
      await page.screenshot({ path: path.join(shots, 'live-migration-cancelled.png'), fullPage: true });

      // The job stops at its next progress save; the page no longer asks.
      await expect.poll(async () => (await db.migration.findFirstOrThrow({ where: { organizationId: customer.organization.id }, select: { state: true } })).state).toBe('cancelled');
      const requests = countDetailRequests(page);
      await page.waitForTimeout(6_000);
      expect(requests.count()).toBe(0);
    } finally {
      await disallow();
      await proxy.close();
    }
  });
});
