import type { Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { admin, expect, signIn, signOut, test } from './fixtures';

const folder = path.join(process.cwd(), 'test-results', 'screenshots');
const phone = { width: 390, height: 844 };
const desktop = { width: 1280, height: 900 };

/** A settled page at both widths, checked for sideways scrolling, saved for a person to look at. */
async function shootBoth(page: Page, name: string): Promise<void> {
  for (const [suffix, size] of [['', desktop], ['-phone', phone]] as const) {
    await page.setViewportSize(size);
    await page.waitForLoadState('networkidle');
    await expect(page.getByText('Loading…')).toHaveCount(0);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    // Names elements that reach past the right edge (inside scrolling boxes too), so a failure says where to look.
    const offenders = await page.evaluate(() =>
      [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .slice(0, 8)
        .map((el) => `<${el.tagName.toLowerCase()} class="${el.getAttribute('class') ?? ''}">`),
    );
    expect(overflow, `${name}${suffix} scrolls sideways by ${overflow}px: ${offenders.join(', ')}`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(folder, `${name}${suffix}.png`), fullPage: true });
  }
  await page.setViewportSize(desktop);
}

const userRow = (page: Page, email: string) => page.getByTestId('user-row').filter({ hasText: email });

test.describe('organizations and users', () => {
  test('an admin renames an organization, adds a user, sets a password, and disables a user whose open session then ends', async ({ page, browser, seed }) => {
    const customer = await seed.customer({ name: 'Lindenhof Hosting', userName: 'Lena Linden' });
    await page.setViewportSize(desktop);
    await signIn(page, admin.email, admin.password);
    await page.getByTestId('organization-row').getByRole('link', { name: customer.organization.name, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`/organizations/${customer.organization.id}$`));
    await expect(page.getByRole('heading', { level: 1, name: customer.organization.name })).toBeVisible();
    await expect(page.getByTestId('quota-value')).toContainText('2 / 2');
    await expect(page.getByTestId('migrations-count')).toHaveText('0 · 0 active');

    // Rename.
    const renamed = `${customer.organization.name} GmbH`;
    await page.getByLabel('Organization name').fill(renamed);
    await page.getByRole('button', { name: 'Rename' }).click();
    await expect(page.getByRole('status').filter({ hasText: `The organization is now called ${renamed}.` })).toBeVisible();
    await expect(page.getByRole('heading', { level: 1, name: renamed })).toBeVisible();

    // Add a user with a generated first password.
    const added = seed.email('added');
    await page.getByRole('button', { name: 'Add user' }).click();
    const form = page.getByRole('form', { name: 'Add user' });
    await form.getByLabel('Email').fill(added);
    await form.getByLabel('Name (optional)').fill('Paul Neu');
    await form.getByRole('button', { name: 'Generate' }).click();
    const firstPassword = await form.getByLabel('First password').inputValue();
    expect(firstPassword).toMatch(/^[A-Za-z0-9]{20}$/);
    await form.getByRole('button', { name: 'Add user' }).click();
    await expect(page.getByRole('status').filter({ hasText: `${added} was added and can sign in now.` })).toBeVisible();
    await expect(userRow(page, added)).toContainText('Never signed in');

    // An address that exists cannot be added again.
    await page.getByRole('button', { name: 'Add user' }).click();
    await form.getByLabel('Email').fill(customer.email);
    await form.getByLabel('First password').fill(seed.password());
    await form.getByRole('button', { name: 'Add user' }).click();
    await expect(form.getByRole('alert')).toHaveText(`A user with the email ${customer.email} already exists.`);
    await form.getByRole('button', { name: 'Cancel' }).click();
    await shootBoth(page, 'organization-admin');

    // The first user signs in elsewhere and keeps that session open.
    const other = await browser.newContext();
    const otherPage = await other.newPage();
    await signIn(otherPage, customer.email, customer.password);
    await expect(otherPage.getByRole('button', { name: 'Account menu' })).toContainText(renamed);

    // A new password, generated and shown once.
    const row = userRow(page, customer.email);
    await row.getByRole('button', { name: 'Set password' }).click();
    await row.getByRole('button', { name: 'Generate password' }).click();
    const generated = (await row.getByTestId('generated-password').textContent())!.trim();
    expect(generated).toMatch(/^[A-Za-z0-9]{20}$/);
    await shootBoth(page, 'organization-password-set');
    await row.getByRole('button', { name: 'Done' }).click();
    await expect(row.getByTestId('generated-password')).toHaveCount(0);

    // The open session ended with the new password; sign in with it, then disable the user.
    await otherPage.reload();
    await expect(otherPage).toHaveURL(/\/login/);
    await signIn(otherPage, customer.email, generated);
    await row.getByRole('button', { name: 'Disable' }).click();
    await expect(row).toContainText('Disabled');
    await expect(page.getByRole('status').filter({ hasText: `${customer.email} is disabled` })).toBeVisible();

    // Its next request finds no session, in the page and in the API; signing in answers like a wrong password.
    const api = await otherPage.request.get('/api/trpc/session.me');
    expect((await api.json()).result.data.json).toBeNull();
    await otherPage.reload();
    await expect(otherPage).toHaveURL(/\/login/);
    await otherPage.getByLabel('Email').fill(customer.email);
    await otherPage.getByLabel('Password').fill(generated);
    await otherPage.getByRole('button', { name: 'Sign in' }).click();
    await expect(otherPage.locator('form').getByRole('alert')).toHaveText('The email address or password is not correct.');

    // Enabled again, it signs in.
    await row.getByRole('button', { name: 'Enable' }).click();
    await expect(row).not.toContainText('Disabled');
    await signIn(otherPage, customer.email, generated);
    await other.close();

    // Remove the added user.
    await userRow(page, added).getByRole('button', { name: 'Remove' }).click();
    await userRow(page, added).getByRole('button', { name: 'Remove user' }).click();
    await expect(userRow(page, added)).toHaveCount(0);
  });

  test('an admin deletes an organization after reading what goes and what stays', async ({ page, seed, db }) => {
    const customer = await seed.customer({ name: 'Short-lived' });
    await signIn(page, admin.email, admin.password);
    await page.goto(`/organizations/${customer.organization.id}`);
    await page.getByRole('button', { name: 'Delete organization…' }).click();
    await expect(page.getByText('its migrations with their addresses, usernames, servers and item reports')).toBeVisible();
    await expect(page.getByText('the organization’s name, with how many migrations it used and ran')).toBeVisible();
    const confirm = page.getByRole('button', { name: 'Delete for good' });
    await expect(confirm).toBeDisabled();
    await shootBoth(page, 'organization-delete');
    await page.getByLabel(`Type ${customer.organization.name} to confirm`).fill(customer.organization.name);
    await confirm.click();
    await expect(page).toHaveURL(/\/admin\/organizations$/);
    await expect(page.getByTestId('organization-row').filter({ hasText: customer.organization.name })).toHaveCount(0);
    expect(await db.user.count({ where: { organizationId: customer.organization.id } })).toBe(0);
    expect((await db.organization.findUniqueOrThrow({ where: { id: customer.organization.id } })).deletedAt).toBeInstanceOf(Date);
    expect((await page.goto(`/organizations/${customer.organization.id}`))?.status()).toBe(404);
  });

  test('a customer changes its own password on the Account page, stays signed in, and signs in with it', async ({ page, browser, seed }) => {
    const customer = await seed.customer({ name: 'Seeblick Apartments', userName: 'Sina See' });
    const other = await browser.newContext();
    const otherPage = await other.newPage();
    await signIn(otherPage, customer.email, customer.password);

    await page.setViewportSize(desktop);
    await signIn(page, customer.email, customer.password);
    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitem', { name: 'Account' }).click();
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Account' })).toBeVisible();
    await shootBoth(page, 'account');

    const form = page.getByRole('form', { name: 'Password' });
    await form.getByLabel('Current password').fill('not my password at all');
    await form.getByLabel('New password', { exact: true }).fill('my very own new password');
    await form.getByLabel('New password again').fill('my very own new password');
    await form.getByRole('button', { name: 'Change password' }).click();
    await expect(form.getByText('This is not your current password.')).toBeVisible();
    await shootBoth(page, 'account-error');

    await form.getByLabel('Current password').fill(customer.password);
    await form.getByRole('button', { name: 'Change password' }).click();
    await expect(form.getByRole('status')).toContainText('You stay signed in here');
    // This session stays, the other one ended.
    await page.reload();
    await expect(page.getByRole('heading', { level: 1, name: 'Account' })).toBeVisible();
    await otherPage.reload();
    await expect(otherPage).toHaveURL(/\/login/);
    await other.close();

    // The name, too.
    const nameForm = page.getByRole('form', { name: 'Name' });
    await nameForm.getByLabel('Your name').fill('Sina Seeberg');
    await nameForm.getByRole('button', { name: 'Save name' }).click();
    await expect(nameForm.getByRole('status')).toHaveText('Your name was saved.');
    await expect(page.getByRole('button', { name: 'Account menu' })).toContainText('Sina Seeberg');

    await signOut(page);
    await page.getByLabel('Email').fill(customer.email);
    await page.getByLabel('Password').fill(customer.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.locator('form').getByRole('alert')).toHaveText('The email address or password is not correct.');
    await signIn(page, customer.email, 'my very own new password');

    // Its own organization page: users, no deletion.
    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('menuitem', { name: 'Organization and users' }).click();
    await expect(page).toHaveURL(new RegExp(`/organizations/${customer.organization.id}$`));
    await expect(userRow(page, customer.email)).toContainText('You');
    await expect(page.getByRole('button', { name: 'Delete organization…' })).toHaveCount(0);
    await shootBoth(page, 'organization-customer');
  });

  test('a reseller manages its customer and cannot reach another reseller’s; an address in use elsewhere is not revealed', async ({ page, seed }) => {
    const reseller = await seed.reseller({ name: 'Alpenweb' });
    const customer = await seed.customer({ name: 'Bergbäckerei', resellerId: reseller.organization.id });
    const stranger = await seed.customer({ name: 'Elsewhere' });
    await signIn(page, reseller.email, reseller.password);
    await page.getByTestId('organization-row').getByRole('link', { name: customer.organization.name, exact: true }).click();
    await expect(page.getByRole('link', { name: '← Customers' })).toBeVisible();
    await page.getByRole('button', { name: 'Add user' }).click();
    const form = page.getByRole('form', { name: 'Add user' });
    await form.getByLabel('Email').fill(stranger.email);
    await form.getByLabel('First password').fill(seed.password());
    await form.getByRole('button', { name: 'Add user' }).click();
    await expect(form.getByRole('alert')).toHaveText('This address cannot be used for a new user. Choose another address.');
    await shootBoth(page, 'organization-reseller');
    expect((await page.goto(`/organizations/${stranger.organization.id}`))?.status()).toBe(404);
  });

  test('an admin exports every key as CSV and caps a reseller’s unused keys; the reseller is told at its cap', async ({ page, seed }) => {
    const reseller = await seed.reseller({ name: 'Capped Reseller' });
    await signIn(page, admin.email, admin.password);
    await page.goto(`/organizations/${reseller.organization.id}`);
    await page.getByLabel('Most unused keys').fill('2');
    await page.getByRole('button', { name: 'Save cap' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'This reseller may now hold at most 2 unused keys.' })).toBeVisible();
    await shootBoth(page, 'organization-reseller-admin');
    await signOut(page);

    await signIn(page, reseller.email, reseller.password);
    await page.goto('/reseller/keys');
    await expect(page.getByTestId('key-allowance')).toContainText('You may hold at most 2 unused keys at once and hold 0 now: up to 2 more can be issued.');
    await page.getByRole('button', { name: 'Issue keys' }).click();
    await page.getByLabel('Number of keys').fill('3');
    await page.getByRole('button', { name: /^Issue \d+ keys?$/ }).click();
    await expect(page.getByRole('form', { name: 'Issue keys' }).getByRole('alert')).toContainText('You may hold at most 2 unused keys and hold 0 now, so at most 2 more can be issued (you asked for 3).');
    await shootBoth(page, 'reseller-keys-cap');
    await page.getByLabel('Number of keys').fill('2');
    await page.getByRole('button', { name: 'Issue 2 keys' }).click();
    await page.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByTestId('key-allowance')).toContainText('hold 2 now, so no more can be issued');
    await signOut(page);

    await signIn(page, admin.email, admin.password);
    await page.goto('/admin/keys');
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^licence-keys-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = await readFile((await file.path())!, 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('Reseller,Key,Migrations,State,Issued,Registered to,Registered at,Migrations used,Revoked at');
    expect(lines.filter((line) => line.startsWith(`${reseller.organization.name},`) && line.includes(',10,unused,'))).toHaveLength(2);
    await shootBoth(page, 'admin-keys');
  });
});
