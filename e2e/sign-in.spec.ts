import type { Page } from '@playwright/test';
import { admin, expect, signIn, signOut, test } from './fixtures';

/** Submits the login form and waits for next-auth's answer, so an old message cannot pass for a new one. */
async function submitLogin(page: Page): Promise<void> {
  const answered = page.waitForResponse((response) => response.url().includes('/api/auth/callback/credentials'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await answered;
}

test.describe('sign-in', () => {
  test('the login page renders the form', async ({ page }) => {
    await page.goto('/login');
    await expect(page).toHaveTitle('Sign in · Mailferry');
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    await expect(page.getByLabel('Email')).toBeFocused();
    await expect(page.getByLabel('Password')).toHaveAttribute('type', 'password');
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeEnabled();
  });

  test('a wrong password shows the generic message and stays on /login', async ({ page, seed }) => {
    const customer = await seed.customer();
    await page.goto('/login');
    await page.getByLabel('Email').fill(customer.email);
    await page.getByLabel('Password').fill(`${customer.password}-wrong`);
    await submitLogin(page);
    await expect(page.locator('form').getByRole('alert')).toHaveText('The email address or password is not correct.');
    await expect(page).toHaveURL(/\/login$/);
    // An unknown email gets exactly the same answer, so the form does not reveal which emails exist.
    await page.getByLabel('Email').fill(seed.email('nobody'));
    await submitLogin(page);
    await expect(page.locator('form').getByRole('alert')).toHaveText('The email address or password is not correct.');
    await expect(page.getByRole('button', { name: 'Account menu' })).toHaveCount(0);
  });

  test('five failures from one client lock that client out for the address, even with the right password', async ({ page, seed }) => {
    const customer = await seed.customer();
    await page.goto('/login');
    await page.getByLabel('Email').fill(customer.email);
    for (let attempt = 1; attempt <= 5; attempt++) {
      await page.getByLabel('Password').fill(`wrong-password-${attempt}`);
      await submitLogin(page);
      await expect(page.locator('form').getByRole('alert')).toBeVisible();
    }
    await page.getByLabel('Password').fill(customer.password);
    await submitLogin(page);
    await expect(page.locator('form').getByRole('alert')).toHaveText(/^Too many failed attempts\. Please try again in \d+ (minutes|seconds)\.$/);
    await expect(page).toHaveURL(/\/login$/);
  });

  test('the admin signs in to the organizations page and signs out again', async ({ page }) => {
    await signIn(page, admin.email, admin.password);
    await expect(page).toHaveURL(/\/admin\/organizations$/);
    const tabs = page.getByRole('navigation', { name: 'Sections' }).getByRole('link');
    await expect(tabs).toHaveText(['Organizations', 'All migrations', 'Hosted mailboxes', 'Licence keys', 'Settings', 'Audit log', 'Information']);
    await expect(tabs.first()).toHaveAttribute('aria-current', 'page');
    await expect(page.getByRole('heading', { level: 1, name: 'Organizations' })).toBeVisible();

    await signOut(page);
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    // The session is really gone: the portal sends us back to the login page.
    await page.goto('/admin/organizations');
    await expect(page).toHaveURL(/\/login$/);
    await page.goto('/');
    await expect(page).toHaveURL(/\/login$/);
  });

  test('a signed-out visit to /information redirects to /login', async ({ page }) => {
    const response = await page.goto('/information');
    await expect(page).toHaveURL(/\/login$/);
    expect(response?.ok()).toBe(true);
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  });
});
