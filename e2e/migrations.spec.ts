/**
 * A single migration end to end against the run's real Dovecot: the form (with quick
 * selection), the live login check, the lists, and cancelling.
 */
import type { Locator, Page } from '@playwright/test';
import path from 'node:path';
import { DEFAULT_ALLOWED_PORTS } from '@/server/accounts/network/host-policy';
import { parseHostRules } from '@/server/accounts/network/host-rules';
import { parseServer } from '@/server/accounts/server-address';
import { verifyMigration } from '@/server/migrations/verification';
import { openImap } from '../test/helpers/mailbox';
import { expect, quickSelect, signIn, test } from './fixtures';

const form = (page: Page) => page.getByRole('form', { name: 'New migration' });
const section = (page: Page, name: 'Source' | 'Target' | 'Timing') => form(page).getByRole('group', { name });
const quota = (page: Page) => page.getByTestId('quota-value');

async function fillAccount(group: Locator, account: { email: string; password: string; server: string }) {
  await group.getByLabel('Email address').fill(account.email);
  await group.getByLabel('Password', { exact: true }).fill(account.password);
  await group.getByLabel('Server', { exact: true }).fill(account.server);
}

/** A local date-time a day ahead, as the datetime-local field takes it. */
function tomorrow(): string {
  return new Date(Date.now() + 86_400_000).toISOString().slice(0, 16);
}

test.describe('single migration', () => {
  test('a free customer migrates with quick selection and sees it in Migration status and 1 / 2', async ({ page, seed, mail, db }) => {
    const customer = await seed.customer({ name: 'Blumenladen Rosenrot', userName: 'Rosa Roth' });
    const source = await mail.mailbox('rosa-old', { messages: 3 });
    const target = await mail.mailbox('rosa-new');
    await seed.hostedMailbox({ email: source.email, server: mail.server });
    await seed.hostedMailbox({ email: target.email, server: mail.server });

    await signIn(page, customer.email, customer.password);
    await expect(page).toHaveURL(/\/migrations\/new$/);
    await expect(quota(page)).toContainText('2 / 2');
    await expect(section(page, 'Timing')).toContainText("in the server's time zone: Europe/Berlin (now UTC+0");

    for (const [name, account] of [['Source', source], ['Target', target]] as const) {
      const group = section(page, name);
      await quickSelect(group, account.email.slice(0, 14), account.email);
      await expect(group.getByLabel('Email address')).toHaveValue(account.email);
      await expect(group.getByLabel('Username')).toHaveValue(account.email);
      await expect(group.getByLabel('Server', { exact: true })).toHaveValue(mail.server);
      // The password is never filled in; the cursor waits there.
      await expect(group.getByLabel('Password', { exact: true })).toHaveValue('');
      await expect(group.getByLabel('Password', { exact: true })).toBeFocused();
      await group.getByLabel('Password', { exact: true }).fill(account.password);
    }
    await section(page, 'Timing').getByRole('button', { name: 'Now' }).click();
    await form(page).getByRole('button', { name: 'Check logins and schedule' }).click();

    await expect(page).toHaveURL(/\/migrations\?created=/);
    await expect(page.getByRole('heading', { level: 1, name: 'Migration status' })).toBeVisible();
    await expect(page.getByTestId('created-notice')).toContainText(`${source.email} → ${target.email}`);
    const row = page.getByTestId('migration-row');
    await expect(row).toHaveCount(1);
    await expect(row).toContainText(source.email);
    await expect(row).toContainText(target.email);
    await expect(page.getByTestId('list-quota')).toContainText('1 / 2');
    // The worker copies it; the list follows by itself.
    await expect(row.getByTestId('migration-state')).toHaveText('Finished', { timeout: 45_000 });
    await expect(row.getByTestId('migration-messages')).toContainText('3 / 3 messages');
    await expect(row.getByRole('button', { name: /^Cancel/ })).toHaveCount(0);
    await expect(row.getByTestId('migration-status-line')).toHaveCount(0);

    // Its detail: every folder with copied + already there + not copied = total, nothing missing.
    await row.getByRole('link', { name: `Details of the migration of ${source.email}` }).click();
    await expect(page.getByRole('heading', { level: 1, name: source.email })).toBeVisible();
    await expect(page.getByTestId('migration-state')).toHaveText('Finished');
    await expect(page.getByText('Everything was copied')).toBeVisible();
    await expect(page.getByTestId('folder-row').filter({ hasText: 'INBOX' })).toHaveText(/INBOX\s*Done\s*3\s*0\s*0\s*3/);
    await expect(page.getByTestId('folder-totals')).toHaveText(/All folders\s*3\s*0\s*0\s*3/);
    await expect(page.getByTestId('not-copied')).toHaveCount(0);
    // The verification at the end of the pass: every source message found on the target.
    await expect(page.getByTestId('verification')).toContainText('All 3 messages of the source are on the target.');
    await expect(page.getByTestId('verification-folder').filter({ hasText: 'INBOX' })).toContainText('3 of 3 present');
    await page.screenshot({ path: path.join(process.cwd(), 'test-results', 'screenshots', 'migration-verification.png'), fullPage: true });

    // A message deleted on the target afterwards: verified again, the page names the gap and its UID.
    const server = parseServer(mail.server).mail!;
    const writer = await openImap(server.port, target.email, target.password, server.host);
    try {
      await writer.mailboxOpen('INBOX');
      await writer.messageDelete('2', { uid: true });
    } finally {
      await writer.logout();
    }
    const rules = parseHostRules(server.host).rules;
    const endpoint = (account: { email: string; password: string }) => ({ server, auth: () => ({ user: account.email, pass: account.password }) });
    const id = new URL(page.url()).pathname.split('/').pop()!;
    await verifyMigration(db, id, 'run', { source: endpoint(source), target: endpoint(target), policy: { allow: rules, insecure: rules, extraCaPem: null, allowedPorts: [...DEFAULT_ALLOWED_PORTS, server.port] } });
    await page.reload();
    await expect(page.getByTestId('migration-state')).toHaveText('Incomplete');
    await expect(page.getByTestId('migration-status-line')).toHaveText('Finished, but verification found 1 message missing on the target');
    const inbox = page.getByTestId('verification-folder').filter({ hasText: 'INBOX' });
    await expect(inbox).toContainText('1 missing');
    await inbox.getByText('show the UID on the source').click();
    await expect(inbox.getByTestId('missing-uids')).toHaveText(/^\d+$/);
    await page.screenshot({ path: path.join(process.cwd(), 'test-results', 'screenshots', 'migration-verification-gap.png'), fullPage: true });
    await page.getByRole('main').getByRole('link', { name: 'Migration status' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Migration status' })).toBeVisible();

    await page.getByRole('link', { name: 'Free migration' }).click();
    await expect(quota(page)).toContainText('1 / 2');
  });

  test('a wrong source password names the source, keeps every value and uses nothing', async ({ page, seed, mail }) => {
    const customer = await seed.customer();
    const source = await mail.mailbox('wrong-src');
    const target = await mail.mailbox('wrong-dst');
    await signIn(page, customer.email, customer.password);
    await expect(quota(page)).toContainText('2 / 2');

    await fillAccount(section(page, 'Source'), { ...source, password: 'not-the-password', server: mail.server });
    await fillAccount(section(page, 'Target'), { ...target, server: mail.server });
    const start = tomorrow();
    await section(page, 'Timing').getByLabel('Start').fill(start);
    await form(page).getByRole('button', { name: 'Check logins and schedule' }).click();

    const alert = form(page).getByRole('alert');
    await expect(alert).toContainText('Login check failed: source');
    await expect(alert).toContainText('Source: The username or password is wrong.');
    await expect(alert).not.toContainText('Target:');
    await expect(section(page, 'Source')).toContainText('Login failed');
    await expect(section(page, 'Target')).toContainText('Login works');
    // Nothing has to be typed twice.
    await expect(section(page, 'Source').getByLabel('Password', { exact: true })).toHaveValue('not-the-password');
    await expect(section(page, 'Target').getByLabel('Password', { exact: true })).toHaveValue(target.password);
    await expect(section(page, 'Source').getByLabel('Email address')).toHaveValue(source.email);
    await expect(section(page, 'Timing').getByLabel('Start')).toHaveValue(start);
    await expect(page).toHaveURL(/\/migrations\/new$/);
    await page.reload();
    await expect(quota(page)).toContainText('2 / 2');
  });

  test('a commercial customer schedules one for tomorrow, cancels it, and the unit returns', async ({ page, seed, mail }) => {
    const customer = await seed.customer({ name: 'Seehotel Abendrot', userName: 'Jonas Wirth' });
    await seed.licence(customer, 5);
    const source = await mail.mailbox('hotel-old');
    const target = await mail.mailbox('hotel-new');
    await signIn(page, customer.email, customer.password);
    await expect(page.getByRole('heading', { level: 1, name: 'Migration' })).toBeVisible();
    await expect(quota(page)).toContainText('5 / 5');

    await fillAccount(section(page, 'Source'), { ...source, server: mail.server });
    await fillAccount(section(page, 'Target'), { ...target, server: mail.server });
    await section(page, 'Timing').getByLabel('Start').fill(tomorrow());
    await form(page).getByRole('button', { name: 'Check logins and schedule' }).click();

    await expect(page.getByRole('heading', { level: 1, name: 'Active migrations' })).toBeVisible();
    const row = page.getByTestId('migration-row');
    await expect(row).toHaveCount(1);
    await expect(row.getByTestId('migration-state')).toHaveText('Scheduled');
    await expect(page.getByTestId('list-quota')).toContainText('4 / 5');

    await row.getByRole('button', { name: `Cancel the migration of ${source.email}` }).click();
    await expect(row).toContainText('Cancel this migration?It counts again as remaining.');
    await row.getByRole('button', { name: 'Yes, cancel' }).click();
    await expect(page.getByRole('status')).toContainText('cancelled before it started');
    await expect(page.getByTestId('migration-row')).toHaveCount(0);
    await expect(page.getByTestId('list-quota')).toContainText('5 / 5');

    await page.getByRole('link', { name: 'Finished migrations' }).click();
    await expect(page.getByTestId('finished-row')).toHaveCount(1);
    await expect(page.getByTestId('finished-row').getByTestId('migration-state')).toHaveText('Cancelled');
    await page.getByRole('link', { name: 'Migration', exact: true }).click();
    await expect(quota(page)).toContainText('5 / 5');
  });
});
