import path from 'node:path';
import { admin, expect, signIn, test } from './fixtures';

const screenshots = path.join(process.cwd(), 'test-results', 'screenshots');

test.describe('settings', () => {
  test('an admin sets the network policy; a bad entry is refused with its reason', async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await signIn(page, admin.email, admin.password);
    await page.getByRole('link', { name: 'Settings' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Settings' })).toBeVisible();

    const allowed = page.getByLabel('Allowed private hosts');
    // The fields stay disabled until the saved settings have loaded into them.
    await expect(allowed).toBeEnabled();
    await allowed.fill('mail.internal:993\nnot a host!!');
    await page.getByRole('button', { name: 'Save' }).click();
    // Scoped to the form: Next's route announcer is an alert too.
    const error = page.locator('form').getByRole('alert');
    await expect(error).toContainText('Allowed private hosts');
    await expect(error).toContainText('not a host!!');

    await allowed.fill('mail.internal:993\n10.20.0.0/16');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByText('The network policy was saved.')).toBeVisible();
    await page.reload();
    await expect(allowed).toBeEnabled();
    await expect(allowed).toHaveValue('mail.internal:993\n10.20.0.0/16');
    await page.screenshot({ path: path.join(screenshots, 'admin-settings.png'), fullPage: true });

    await allowed.fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByText('The network policy was saved.')).toBeVisible();
  });

  test('a customer saves its Microsoft 365 connection; the secret is never shown again', async ({ page, seed }) => {
    const customer = await seed.customer();
    await page.setViewportSize({ width: 1280, height: 900 });
    await signIn(page, customer.email, customer.password);
    await page.getByRole('link', { name: 'Information' }).click();
    const card = page.getByRole('heading', { name: 'Microsoft 365 connection' }).locator('xpath=ancestor::section');
    await card.getByLabel('Tenant ID or domain').fill('contoso.onmicrosoft.com');
    await card.getByLabel('Application (client) ID').fill('not-a-guid');
    await card.getByLabel('Client secret').fill('Sup3r~Secret~Value');
    await card.getByRole('button', { name: 'Save connection' }).click();
    await expect(card.getByText('Enter the application (client) ID, a GUID')).toBeVisible();

    await card.getByLabel('Application (client) ID').fill('11111111-2222-3333-4444-555555555555');
    await card.getByRole('button', { name: 'Save connection' }).click();
    await expect(card.getByText('11111111-2222-3333-4444-555555555555')).toBeVisible();
    await expect(card.getByRole('button', { name: 'Replace' })).toBeVisible();
    await page.reload();
    await expect(page.getByText('contoso.onmicrosoft.com')).toBeVisible();
    expect(await page.content()).not.toContain('Sup3r~Secret~Value');
    await card.screenshot({ path: path.join(screenshots, 'customer-microsoft365.png') });
  });
});
