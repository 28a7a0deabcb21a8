import type { Page } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { admin, expect, signIn, signOut, test } from './fixtures';

const tabs = (page: Page) => page.getByRole('navigation', { name: 'Sections' }).getByRole('link');
/** The table row whose organization is exactly `name` (not one that merely mentions it, like "via <name>"). */
const row = (page: Page, name: string) =>
  page.getByTestId('organization-row').filter({ has: page.getByText(name, { exact: true }) });
const unique = (name: string) => `${name} ${randomUUID().slice(0, 6)}`;

test.describe('organizations', () => {
  test('an admin creates a customer in the UI, and its first user signs in to the free-mode shell', async ({ page, seed }) => {
    const name = unique('Harbour Hosting');
    const email = seed.email('first-customer');
    await signIn(page, admin.email, admin.password);

    await page.getByRole('button', { name: 'New customer' }).click();
    const form = page.locator('form').filter({ has: page.getByRole('heading', { name: 'New customer' }) });
    await form.getByLabel('Organization name').fill(name);
    await expect(form.getByLabel('Reseller')).toHaveValue('');
    await form.getByLabel('Email').fill(email);
    await form.getByLabel('Name (optional)').fill('Hanna Harbour');
    await form.getByRole('button', { name: 'Generate' }).click();
    const password = form.getByLabel('Initial password');
    // Generated passwords are shown, so the admin can pass them on.
    await expect(password).toHaveAttribute('type', 'text');
    const generated = await password.inputValue();
    expect(generated).toMatch(/^[A-Za-z0-9]{20}$/);
    await form.getByRole('button', { name: 'Create customer' }).click();

    await expect(page.getByRole('status')).toHaveText(`${name} was created. Its first user can sign in now.`);
    await expect(form).toHaveCount(0);
    await expect(row(page, name)).toContainText(email);
    await expect(row(page, name)).toContainText('Customer');
    await expect(row(page, name)).toContainText('Never signed in');

    await signOut(page);
    await signIn(page, email, generated);
    await expect(page).toHaveURL(/\/migrations\/new$/);
    await expect(tabs(page)).toHaveText(['Free migration', 'Migration status', 'Privacy', 'Information']);
    await expect(tabs(page).first()).toHaveAttribute('aria-current', 'page');
    await expect(page.getByText('Free mode', { exact: true })).toBeVisible();
    await expect(page.getByRole('heading', { level: 1, name: 'Free migration' })).toBeVisible();
    const menu = page.getByRole('button', { name: 'Account menu' });
    await expect(menu).toContainText('Hanna Harbour');
    await expect(menu).toContainText(name);
    await menu.click();
    await expect(page.getByRole('menu')).toContainText(email);
    await expect(page.getByRole('menu')).toContainText(`Customer · ${name}`);
    await expect(page.getByRole('menuitem', { name: 'Sign out' })).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(page.getByRole('menu')).toHaveCount(0);
    await expect(menu).toBeFocused();

    await tabs(page).filter({ hasText: 'Migration status' }).click();
    await expect(page).toHaveURL(/\/migrations$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Migration status' })).toBeVisible();
    await expect(page.getByText('No migrations yet')).toBeVisible();
    await tabs(page).filter({ hasText: 'Information' }).click();
    await expect(page).toHaveURL(/\/information$/);
    await expect(page.getByRole('main').getByText(name, { exact: true })).toBeVisible();

    // The admin's list now records the sign-in.
    await signOut(page);
    await signIn(page, admin.email, admin.password);
    await expect(row(page, name)).toContainText('Last sign-in');
  });

  test('an admin creates a reseller in the UI, and places a customer under it', async ({ page, seed }) => {
    const name = unique('Northwind Resale');
    const email = seed.email('reseller');
    const password = seed.password();
    await signIn(page, admin.email, admin.password);

    await page.getByRole('button', { name: 'New reseller' }).click();
    const form = page.locator('form').filter({ has: page.getByRole('heading', { name: 'New reseller' }) });
    await expect(form.getByLabel('Reseller')).toHaveCount(0);
    await form.getByLabel('Organization name').fill(name);
    await form.getByLabel('Email').fill(email);
    await form.getByLabel('Initial password').fill(password);
    await form.getByRole('button', { name: 'Create reseller' }).click();
    await expect(page.getByRole('status')).toHaveText(`${name} was created. Its first user can sign in now.`);
    await expect(row(page, name)).toContainText('Reseller');
    await expect(row(page, name)).toContainText('0 customers');

    const customerName = unique('Under Northwind');
    await page.getByRole('button', { name: 'New customer' }).click();
    const customerForm = page.locator('form').filter({ has: page.getByRole('heading', { name: 'New customer' }) });
    await customerForm.getByLabel('Organization name').fill(customerName);
    await customerForm.getByLabel('Reseller').selectOption({ label: name });
    await customerForm.getByLabel('Email').fill(seed.email('customer'));
    await customerForm.getByLabel('Initial password').fill(seed.password());
    await customerForm.getByRole('button', { name: 'Create customer' }).click();
    await expect(page.getByRole('status')).toHaveText(`${customerName} was created. Its first user can sign in now.`);
    await expect(row(page, customerName)).toContainText(`via ${name}`);
    await expect(row(page, name)).toContainText('1 customer');

    await signOut(page);
    await signIn(page, email, password);
    await expect(page).toHaveURL(/\/reseller\/customers$/);
    await expect(tabs(page)).toHaveText(['Customers', 'Licence keys', 'Information']);
    await expect(row(page, customerName)).toBeVisible();
  });

  test('a reseller creates its own customer and never sees another reseller’s', async ({ page, seed }) => {
    const reseller = await seed.reseller({ name: 'Bluefin Hosting' });
    const own = await seed.customer({ name: 'Bluefin Customer', resellerId: reseller.organization.id });
    const rival = await seed.reseller({ name: 'Rival Reseller' });
    const rivalCustomer = await seed.customer({ name: 'Rival Customer', resellerId: rival.organization.id });
    const direct = await seed.customer({ name: 'Direct Customer' });

    await signIn(page, reseller.email, reseller.password);
    await expect(page).toHaveURL(/\/reseller\/customers$/);
    await expect(row(page, own.organization.name)).toBeVisible();

    const name = unique('Created By Bluefin');
    await page.getByRole('button', { name: 'New customer' }).click();
    const form = page.locator('form').filter({ has: page.getByRole('heading', { name: 'New customer' }) });
    // A reseller cannot choose another reseller: its customers are its own.
    await expect(form.getByLabel('Reseller')).toHaveCount(0);
    await form.getByLabel('Organization name').fill(name);
    await form.getByLabel('Email').fill(seed.email('bluefin-customer'));
    await form.getByRole('button', { name: 'Generate' }).click();
    await form.getByRole('button', { name: 'Create customer' }).click();
    await expect(page.getByRole('status')).toHaveText(`${name} was created. Its first user can sign in now.`);

    await expect(page.getByTestId('organization-row')).toHaveCount(2);
    await expect(row(page, name)).toBeVisible();
    await expect(row(page, own.organization.name)).toBeVisible();
    await expect(page.getByText(rivalCustomer.organization.name)).toHaveCount(0);
    await expect(page.getByText(direct.organization.name)).toHaveCount(0);
    await expect(page.getByText(rival.organization.name)).toHaveCount(0);
    // Also after a reload (the list comes from the server, not from the form).
    await page.reload();
    await expect(page.getByTestId('organization-row')).toHaveCount(2);
    await expect(page.getByText(rivalCustomer.organization.name)).toHaveCount(0);
  });

  test('form validation: a too-short password and a bad email create nothing', async ({ page, db }) => {
    const name = unique('Too Short');
    await signIn(page, admin.email, admin.password);
    await page.getByRole('button', { name: 'New customer' }).click();
    const form = page.locator('form').filter({ has: page.getByRole('heading', { name: 'New customer' }) });
    await form.getByLabel('Organization name').fill(name);
    await form.getByLabel('Email').fill('not-an-email');
    await form.getByLabel('Initial password').fill('short-pw');

    let mutations = 0;
    page.on('request', (request) => {
      if (request.url().includes('/api/trpc/admin.create')) mutations++;
    });
    await form.getByRole('button', { name: 'Create customer' }).click();
    await expect(form.getByText('At least 12 characters')).toBeVisible();
    await expect(form.getByText('Enter a valid email address')).toBeVisible();
    await expect(form.getByLabel('Initial password')).toHaveAttribute('aria-invalid', 'true');
    await expect(form.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
    await expect(form.getByLabel('Organization name')).not.toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByRole('status')).toHaveCount(0);

    // Fixing only the email still leaves the password error, and still sends nothing.
    await form.getByLabel('Email').fill('valid@e2e.mailferry.test');
    await form.getByRole('button', { name: 'Create customer' }).click();
    await expect(form.getByText('At least 12 characters')).toBeVisible();
    await expect(form.getByText('Enter a valid email address')).toHaveCount(0);

    await expect(row(page, name)).toHaveCount(0);
    expect(mutations).toBe(0);
    expect(await db.organization.count({ where: { name } })).toBe(0);
  });

  test('a duplicate email is refused with a message and creates nothing', async ({ page, seed, db }) => {
    const existing = await seed.customer();
    const name = unique('Duplicate');
    await signIn(page, admin.email, admin.password);
    await page.getByRole('button', { name: 'New reseller' }).click();
    const form = page.locator('form').filter({ has: page.getByRole('heading', { name: 'New reseller' }) });
    await form.getByLabel('Organization name').fill(name);
    await form.getByLabel('Email').fill(existing.email.toUpperCase());
    await form.getByLabel('Initial password').fill(seed.password());
    await form.getByRole('button', { name: 'Create reseller' }).click();
    await expect(form.getByRole('alert')).toHaveText(`A user with the email ${existing.email} already exists.`);
    expect(await db.organization.count({ where: { name } })).toBe(0);
  });

  test('pages of another role answer 404', async ({ page, seed }) => {
    const customer = await seed.customer();
    await signIn(page, customer.email, customer.password);
    const response = await page.goto('/admin/organizations');
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'Organizations' })).toHaveCount(0);
    await expect(page.getByText(/could not be found/i)).toBeVisible();
    expect((await page.goto('/reseller/customers'))?.status()).toBe(404);

    await signOut(page);
    await signIn(page, admin.email, admin.password);
    expect((await page.goto('/migrations'))?.status()).toBe(404);
    expect((await page.goto('/reseller/customers'))?.status()).toBe(404);
  });
});
