/**
 * An admin reads the audit log: a customer's failed sign-in (through the sign-in page) with its
 * IP address, filtered by organization and by action, and older pages. Screenshots go to
 * test-results/screenshots/audit-log-*.png (1280 px and 390 px).
 */
import path from 'node:path';
import { recordAudit } from '@/server/audit/audit';
import { admin, expect, signIn, signOut, test } from './fixtures';

const folder = path.join(process.cwd(), 'test-results', 'screenshots');

test('an admin filters the audit log by organization and action and pages to older entries', async ({ page, seed, db }) => {
  const customer = await seed.customer({ name: 'Audit Bakery' });
  // Enough entries of the organization for more than one page of 25.
  for (let i = 0; i < 30; i++) await recordAudit(db, { action: 'migration.cancel', organizationId: customer.organization.id, details: { from: 'scheduled', unitReturned: true } });

  await page.goto('/login');
  await page.getByLabel('Email').fill(customer.email);
  await page.getByLabel('Password').fill(`${customer.password}-wrong`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('form').getByRole('alert')).toBeVisible();
  await signIn(page, customer.email, customer.password);
  await signOut(page);

  await signIn(page, admin.email, admin.password);
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible();
  await page.getByLabel('Organization').selectOption({ label: customer.organization.name });
  await expect(page.getByTestId('audit-entry')).toHaveCount(25);
  await expect(page.getByTestId('audit-entry').filter({ hasNotText: customer.organization.name })).toHaveCount(0);
  await page.getByRole('button', { name: 'Older' }).click();
  // The older page holds the rest of the organization's entries, and only its own.
  await expect(page.getByTestId('audit-entry').filter({ hasText: 'Cancelled' }).first()).toBeVisible();
  await expect(page.getByTestId('audit-entry').filter({ hasNotText: customer.organization.name })).toHaveCount(0);
  await expect(page.getByTestId('audit-entry')).not.toHaveCount(25);
  await page.getByRole('button', { name: 'Newer' }).click();
  await expect(page.getByTestId('audit-entry')).toHaveCount(25);

  await page.getByLabel('Action').selectOption({ label: 'Failed sign-in' });
  const failed = page.getByTestId('audit-entry');
  await expect(failed).toHaveCount(1);
  await expect(failed).toContainText(customer.email);
  await expect(failed.locator('td').last()).toHaveText(/^[0-9a-f.:]+$/);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: path.join(folder, 'audit-log-desktop.png'), fullPage: true });
  await page.getByLabel('Action').selectOption({ label: 'All actions' });
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.getByTestId('audit-entry')).toHaveCount(25);
  await page.screenshot({ path: path.join(folder, 'audit-log-phone.png'), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});
