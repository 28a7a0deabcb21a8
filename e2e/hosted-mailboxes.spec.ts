import type { Page } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { admin, expect, signIn, test } from './fixtures';

/** Hosted mailboxes belong to the whole installation: each test keeps to a domain of its own. */
const domain = () => `hosted-${randomUUID().slice(0, 8)}.example`;
const rows = (page: Page) => page.getByTestId('mailbox-row');
const search = (page: Page) => page.getByRole('searchbox', { name: 'Search hosted mailboxes' });

async function openHostedMailboxes(page: Page) {
  await signIn(page, admin.email, admin.password);
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Hosted mailboxes' }).click();
  await expect(page).toHaveURL(/\/admin\/mailboxes$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Hosted mailboxes' })).toBeVisible();
}

test.describe('hosted mailboxes', () => {
  test('an admin adds a mailbox, imports a CSV with a bad line, sees the line error, searches and removes one', async ({ page, db }) => {
    const d = domain();
    await openHostedMailboxes(page);

    await page.getByRole('button', { name: 'Add mailbox' }).first().click();
    const form = page.locator('form').filter({ has: page.getByRole('heading', { name: 'Add a hosted mailbox' }) });
    await form.getByLabel('Email address').fill(`Anna.Berger@${d}`);
    // The username follows the email address until it is typed.
    await expect(form.getByLabel('Username')).toHaveValue(`anna.berger@${d}`);
    await form.getByLabel('Server').fill(`imaps://mail.${d}:993`);
    await form.getByLabel('Account type').selectOption({ label: 'Zimbra' });
    await form.getByRole('button', { name: 'Add mailbox' }).click();
    await expect(page.getByRole('status')).toHaveText(`anna.berger@${d} was added. Customers can now pick it in the migration form.`);
    await expect(form).toHaveCount(0);

    // The same address again, in other case: refused with a message.
    await page.getByRole('button', { name: 'Add mailbox' }).first().click();
    await form.getByLabel('Email address').fill(`ANNA.BERGER@${d}`);
    await form.getByLabel('Server').fill(`mail.${d}`);
    await form.getByRole('button', { name: 'Add mailbox' }).click();
    await expect(form.getByRole('alert')).toHaveText(`A hosted mailbox with the email anna.berger@${d} already exists.`);
    await form.getByRole('button', { name: 'Cancel' }).click();

    await page.getByRole('button', { name: 'Import CSV' }).first().click();
    await page.getByLabel('Lines to import').fill(
      [
        'email;username;server;type',
        `info@${d};info;mail.${d}`,
        `not-an-address;sales;mail.${d}`,
        `office@${d};Office.Team;mail.${d}:143;kolab`,
        `anna.berger@${d};anna;mail.${d}`,
      ].join('\n'),
    );
    await page.getByRole('button', { name: 'Import 4 lines' }).click();
    const result = page.getByTestId('import-result');
    await expect(result).toContainText('2 mailboxes imported, 1 problem to fix');
    await expect(page.getByTestId('import-error')).toHaveCount(1);
    await expect(page.getByTestId('import-error')).toHaveText(/Line 3\s*Email\s*This is not a valid email address\./);
    await result.getByText('1 line skipped: the address is already stored').click();
    await expect(result).toContainText(`Line 5anna.berger@${d}`);

    await search(page).fill(d);
    await expect(rows(page)).toHaveCount(3);
    await expect(rows(page)).toHaveText([new RegExp(`anna.berger@${d}.*Zimbra`), new RegExp(`info@${d}.*IMAP`), new RegExp(`office@${d}.*Kolab`)]);
    await expect(page.getByTestId('mailbox-count')).toHaveText('3 of the hosted mailboxes match');
    await search(page).fill('office.team');
    await expect(rows(page)).toHaveCount(1);
    await expect(rows(page)).toContainText(`office@${d}`);
    await search(page).fill(`nobody@${d}`);
    await expect(page.getByText('No mailbox matches')).toBeVisible();

    await search(page).fill(d);
    await expect(rows(page)).toHaveCount(3);
    await page.getByRole('button', { name: `Remove info@${d}` }).click();
    await page.getByRole('button', { name: 'Keep' }).click();
    await expect(rows(page)).toHaveCount(3);
    await page.getByRole('button', { name: `Remove info@${d}` }).click();
    await rows(page).filter({ hasText: `info@${d}` }).getByRole('button', { name: 'Remove', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText(`info@${d} was removed from the quick selection.`);
    await expect(rows(page)).toHaveCount(2);

    const stored = await db.hostedMailbox.findMany({ where: { email: { endsWith: `@${d}` } }, orderBy: { email: 'asc' }, select: { email: true, username: true, type: true } });
    expect(stored).toEqual([
      { email: `anna.berger@${d}`, username: `anna.berger@${d}`, type: 'zimbra' },
      { email: `office@${d}`, username: 'Office.Team', type: 'kolab' },
    ]);
  });

  test('a CSV file can be chosen instead of pasted', async ({ page, db }) => {
    const d = domain();
    await openHostedMailboxes(page);
    await page.getByRole('button', { name: 'Import CSV' }).first().click();
    const csv = `Email,Username,Server\r\nsupport@${d},support,mail.${d}\r\nbilling@${d},billing,mail.${d}\r\n`;
    await page.getByLabel('CSV file').setInputFiles({ name: 'mailboxes.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await expect(page.getByLabel('Lines to import')).toHaveValue(csv.replaceAll('\r\n', '\n'));
    await expect(page.getByText('mailboxes.csv · 2 lines of at most 5,000')).toBeVisible();
    await page.getByRole('button', { name: 'Import 2 lines' }).click();
    await expect(page.getByTestId('import-result')).toContainText('2 mailboxes imported');
    await expect(page.getByTestId('import-result')).toContainText('All 2 lines read.');
    expect(await db.hostedMailbox.count({ where: { email: { endsWith: `@${d}` } } })).toBe(2);
  });

  test('the page does not exist for customers and resellers', async ({ page, seed }) => {
    for (const user of [await seed.customer(), await seed.reseller()]) {
      await page.context().clearCookies();
      await signIn(page, user.email, user.password);
      expect((await page.goto('/admin/mailboxes'))?.status()).toBe(404);
      await expect(page.getByRole('heading', { name: 'Hosted mailboxes' })).toHaveCount(0);
    }
  });
});
