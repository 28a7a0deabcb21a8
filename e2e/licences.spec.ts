/**
 * Licences end to end: a reseller issues keys, a free customer installs them and the portal
 * switches to commercial mode; wrong keys get clear answers; quotas show on every migration
 * form. Screenshots of the new pages go to test-results/screenshots/licences-*.png.
 */
import type { Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { formatKey, KEY_ALPHABET } from '@/server/licensing/key-format';
import { generateKeyBody } from '@/server/licensing/key-generation';
import { issueKeys } from '@/server/licensing/keys';
import { reserveUnits } from '@/server/licensing/quota';
import { registerKey } from '@/server/licensing/registration';
import { admin, expect, signIn, signOut, test } from './fixtures';

const folder = path.join(process.cwd(), 'test-results', 'screenshots');
const desktop = { width: 1280, height: 800 };
const phone = { width: 390, height: 844 };

async function shoot(page: Page, name: string): Promise<void> {
  await page.waitForLoadState('networkidle');
  await expect(page.getByText('Loading…')).toHaveCount(0);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${name} scrolls sideways by ${overflow}px`).toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(folder, `licences-${name}.png`), fullPage: true });
}

const tabs = (page: Page) => page.getByRole('navigation', { name: 'Sections' }).getByRole('link');
const quota = (page: Page) => page.getByTestId('quota-value');
const installForm = (page: Page) => page.getByRole('form', { name: 'Install key' });

/** The key with one character replaced by another of the alphabet. */
function withTypo(key: string, position = 9): string {
  const chars = [...key];
  chars[position] = KEY_ALPHABET[(KEY_ALPHABET.indexOf(chars[position]!) + 1) % KEY_ALPHABET.length]!;
  return chars.join('');
}

/** Issues one key of `size` in the Licence keys tab and reads it from the "shown once" panel. */
async function issueInUi(page: Page, size: number): Promise<string> {
  await page.getByRole('button', { name: 'Issue keys' }).click();
  await page.getByRole('radio', { name: `${size} migrations`, exact: true }).check();
  await page.getByLabel('Number of keys').fill('1');
  await page.getByRole('button', { name: 'Issue 1 key' }).click();
  const panel = page.getByTestId('issued-keys');
  await expect(panel).toContainText(`1 key issued for ${size} migrations each`);
  const key = (await panel.getByTestId('issued-key').textContent())!.trim();
  expect(key).toMatch(/^MF-[2-9A-Y]{5}-[2-9A-Y]{5}-[2-9A-Y]{5}-[2-9A-Y]{5}$/);
  return key;
}

test.describe('licences', () => {
  test('a reseller issues a 10-key and a 5-key; a free customer installs both and becomes commercial', async ({ page, seed }) => {
    const reseller = await seed.reseller({ name: 'Bergblick Hosting GmbH', exactName: true, userName: 'Markus Steiner' });
    const customer = await seed.customer({ name: 'Café Morgenrot GmbH', exactName: true, resellerId: reseller.organization.id, userName: 'Clara Vogel' });
    await page.setViewportSize(desktop);

    // The reseller issues the keys.
    await signIn(page, reseller.email, reseller.password);
    await expect(tabs(page)).toHaveText(['Customers', 'Licence keys', 'Information']);
    await tabs(page).filter({ hasText: 'Licence keys' }).click();
    await expect(page).toHaveURL(/\/reseller\/keys$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Licence keys' })).toBeVisible();
    await expect(page.getByText('No keys yet')).toBeVisible();
    await shoot(page, 'reseller-empty');
    await page.getByRole('button', { name: 'Issue keys' }).click();
    await page.getByRole('radio', { name: '25 migrations', exact: true }).check();
    await page.getByLabel('Number of keys').fill('4');
    await expect(page.getByText('100 migrations in total')).toBeVisible();
    await shoot(page, 'reseller-issue-form');
    await page.getByRole('button', { name: 'Cancel' }).click();

    const ten = await issueInUi(page, 10);
    await expect(page.getByTestId('key-row')).toHaveCount(1);
    await shoot(page, 'reseller-issued');
    await page.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByTestId('issued-keys')).toHaveCount(0);
    const five = await issueInUi(page, 5);
    await page.getByRole('button', { name: 'Done' }).click();
    // Only the masked form is ever shown again.
    await expect(page.getByTestId('key-row')).toHaveCount(2);
    await expect(page.getByText(ten)).toHaveCount(0);
    await expect(page.getByTestId('key-row').first()).toContainText(`MF-•••••-•••••-•••••-${five.slice(-5)}`);
    await expect(page.getByTestId('key-row').first()).toContainText('Unused');
    await signOut(page);

    // A free customer: three tabs and 2 / 2.
    await signIn(page, customer.email, customer.password);
    await expect(page).toHaveURL(/\/migrations\/new$/);
    await expect(tabs(page)).toHaveText(['Free migration', 'Migration status', 'Privacy', 'Information']);
    await expect(quota(page)).toContainText('2 / 2');
    await expect(page.getByTestId('quota')).toContainText('2 / 2 migrations remaining');
    await shoot(page, 'customer-free');

    // Wrong keys: a typo is caught in the browser by the check character, with no request sent.
    let installRequests = 0;
    page.on('request', (request) => {
      if (request.url().includes('licensing.install')) installRequests++;
    });
    await installForm(page).getByLabel('Licence key').fill(withTypo(ten));
    await installForm(page).getByRole('button', { name: 'Install key' }).click();
    await expect(installForm(page).getByRole('alert')).toHaveText(/This key contains a typo/);
    await expect(installForm(page).getByLabel('Licence key')).toHaveAttribute('aria-invalid', 'true');
    expect(installRequests).toBe(0);
    await shoot(page, 'install-typo');
    // A well-formed key nobody issued: the server says it does not exist.
    await installForm(page).getByLabel('Licence key').fill(formatKey(generateKeyBody()));
    await installForm(page).getByRole('button', { name: 'Install key' }).click();
    await expect(installForm(page).getByRole('alert')).toHaveText(/This licence key does not exist/);
    expect(installRequests).toBe(1);
    await shoot(page, 'install-unknown');
    await expect(tabs(page)).toHaveCount(4);

    // The 10-key, typed sloppily: commercial mode, seven tabs, the License list.
    await installForm(page).getByLabel('Licence key').fill(ten.toLowerCase().replaceAll('-', ' '));
    await installForm(page).getByRole('button', { name: 'Install key' }).click();
    await expect(page).toHaveURL(/\/licenses\?installed=10$/);
    await expect(tabs(page)).toHaveText(['Migration', 'Mass migration', 'Active migrations', 'Finished migrations', 'License list', 'Privacy', 'Information']);
    await expect(page.getByText('Welcome to commercial mode')).toBeVisible();
    await expect(page.getByText('Commercial', { exact: true })).toBeVisible();
    await expect(quota(page)).toContainText('10 / 10');

    // Installing it again is refused; the 5-key adds up.
    await installForm(page).getByLabel('Licence key').fill(ten);
    await installForm(page).getByRole('button', { name: 'Install key' }).click();
    await expect(installForm(page).getByRole('alert')).toHaveText('This licence key is already installed in your organization.');
    await installForm(page).getByLabel('Licence key').fill(five);
    await installForm(page).getByRole('button', { name: 'Install key' }).click();
    await expect(installForm(page).getByRole('status')).toContainText('5 migrations added');
    await expect(quota(page)).toContainText('15 / 15');
    const rows = page.getByTestId('licence-row');
    await expect(rows).toHaveCount(2);
    await expect(rows.nth(0)).toContainText(`MF-•••••-•••••-•••••-${ten.slice(-5)}`);
    await expect(rows.nth(0)).toContainText('10');
    await expect(rows.nth(1)).toContainText(`MF-•••••-•••••-•••••-${five.slice(-5)}`);
    await expect(page.getByTestId('licence-total')).toContainText('Total15');
    await expect(page.getByText(ten)).toHaveCount(0);
    await page.goto('/licenses');
    await shoot(page, 'customer-list');

    // Every migration form shows remaining / total.
    await tabs(page).filter({ hasText: /^Migration$/ }).click();
    await expect(page).toHaveURL(/\/migrations\/new$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Migration' })).toBeVisible();
    await expect(quota(page)).toContainText('15 / 15');
    await expect(page.getByRole('heading', { name: 'Have a licence key?' })).toHaveCount(0);
    await shoot(page, 'customer-migration');
    await tabs(page).filter({ hasText: 'Mass migration' }).click();
    await expect(page).toHaveURL(/\/migrations\/mass$/);
    await expect(quota(page)).toContainText('15 / 15');
    await shoot(page, 'customer-mass-migration');
    await tabs(page).filter({ hasText: 'Active migrations' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Active migrations' })).toBeVisible();
    await tabs(page).filter({ hasText: 'Finished migrations' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Finished migrations' })).toBeVisible();
    await shoot(page, 'customer-finished');

    await page.setViewportSize(phone);
    await page.goto('/licenses');
    await shoot(page, 'customer-list-mobile');
    await page.setViewportSize(desktop);
    await signOut(page);

    // The reseller sees who registered each key.
    await signIn(page, reseller.email, reseller.password);
    await page.goto('/reseller/keys');
    await expect(page.getByTestId('key-row')).toHaveCount(2);
    for (const row of await page.getByTestId('key-row').all()) {
      await expect(row).toContainText('Registered');
      await expect(row).toContainText(customer.organization.name);
    }
    await expect(page.getByRole('button', { name: /^Revoke MF-/ })).toHaveCount(0);
    await shoot(page, 'reseller-registered');
  });

  test('a reseller revokes an unused key, which then cannot be installed', async ({ page, seed, db }) => {
    const reseller = await seed.reseller({ name: 'Küstennetz Hosting', exactName: true, userName: 'Jens Petersen' });
    const customer = await seed.customer({ resellerId: reseller.organization.id, userName: 'Ole Hansen' });
    const { keys } = await issueKeys(db, null, { resellerId: reseller.organization.id, size: 25, count: 3 });
    const target = keys[1]!;

    await page.setViewportSize(desktop);
    await signIn(page, reseller.email, reseller.password);
    await page.goto('/reseller/keys');
    await expect(page.getByTestId('key-row')).toHaveCount(3);
    const row = page.getByTestId('key-row').filter({ hasText: target.key.slice(-5) });
    await row.getByRole('button', { name: /^Revoke/ }).click();
    await expect(row.getByText('Revoke this key?')).toBeVisible();
    await shoot(page, 'reseller-revoke-confirm');
    await row.getByRole('button', { name: 'Revoke', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText('The key was revoked. It can no longer be installed.');
    await expect(row).toContainText('Revoked');
    await page.getByRole('button', { name: /^Revoked/ }).click();
    await expect(page.getByTestId('key-row')).toHaveCount(1);
    await page.getByRole('button', { name: /^All/ }).click();
    await signOut(page);

    await signIn(page, customer.email, customer.password);
    await installForm(page).getByLabel('Licence key').fill(target.key);
    await installForm(page).getByRole('button', { name: 'Install key' }).click();
    await expect(installForm(page).getByRole('alert')).toHaveText(/was revoked by its provider/);
    await expect(tabs(page)).toHaveCount(4);
    await expect(quota(page)).toContainText('2 / 2');
  });

  test('an admin issues keys for a chosen reseller and downloads them as CSV', async ({ page, seed }) => {
    const reseller = await seed.reseller({ name: 'Polarlicht Networks AS', exactName: true });
    await page.setViewportSize(desktop);
    await signIn(page, admin.email, admin.password);
    await expect(tabs(page)).toHaveText(['Organizations', 'All migrations', 'Hosted mailboxes', 'Licence keys', 'Settings', 'Audit log', 'Information']);
    await tabs(page).filter({ hasText: 'Licence keys' }).click();
    await expect(page).toHaveURL(/\/admin\/keys$/);
    await page.getByRole('button', { name: 'Issue keys' }).click();
    await page.getByRole('radio', { name: '50 migrations', exact: true }).check();
    await page.getByLabel('Number of keys').fill('3');
    await page.getByLabel('Issued by').first().selectOption({ label: reseller.organization.name });
    await page.getByRole('button', { name: 'Issue 3 keys' }).click();
    const panel = page.getByTestId('issued-keys');
    await expect(panel).toContainText('3 keys issued for 50 migrations each');
    const shown = (await panel.getByTestId('issued-key').allTextContents()).map((k) => k.trim());
    expect(shown).toHaveLength(3);

    const download = page.waitForEvent('download');
    await panel.getByRole('button', { name: 'Download CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^mailferry-keys-50x3-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = await readFile((await file.path())!, 'utf8');
    const lines = csv.trim().split(/\r\n/);
    expect(lines[0]).toBe('key,migrations,issued_at,issued_by');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(shown);
    expect(lines.slice(1).every((l) => l.includes(`,50,`) && l.endsWith(reseller.organization.name))).toBe(true);
    await shoot(page, 'admin-issued');

    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('combobox', { name: 'Issued by' }).selectOption({ label: reseller.organization.name });
    await expect(page.getByTestId('key-row')).toHaveCount(3);
    await signOut(page);
    // The reseller finds them in its own list.
    await signIn(page, reseller.email, reseller.password);
    await page.goto('/reseller/keys');
    await expect(page.getByTestId('key-row')).toHaveCount(3);
  });

  test('at 0 remaining the forms say all migrations are used up and how to get more', async ({ page, seed, db }) => {
    const free = await seed.customer({ name: 'Praxis Dr. Lindner', exactName: true, userName: 'Eva Lindner' });
    expect(await reserveUnits(db, free.organization.id, 2)).toMatchObject({ ok: true });
    await page.setViewportSize(desktop);
    await signIn(page, free.email, free.password);
    await expect(quota(page)).toContainText('0 / 2');
    await expect(page.getByTestId('quota-exhausted')).toContainText('All migrations are used up');
    await expect(page.getByTestId('quota-exhausted')).toContainText('install it with Install key');
    await shoot(page, 'free-used-up');
    await signOut(page);

    const paid = await seed.customer({ name: 'Tidewater Freight Ltd', exactName: true, userName: 'Sam Walker' });
    const { keys } = await issueKeys(db, null, { resellerId: null, size: 5, count: 1 });
    const user = await db.user.findUniqueOrThrow({ where: { email: paid.email }, select: { id: true } });
    await registerKey(db, { organizationId: paid.organization.id, actor: { userId: user.id } }, { key: keys[0]!.key });
    expect(await reserveUnits(db, paid.organization.id, 5)).toMatchObject({ ok: true });
    await signIn(page, paid.email, paid.password);
    await expect(quota(page)).toContainText('0 / 5');
    await expect(page.getByTestId('quota-exhausted')).toContainText('All 5 purchased migrations have been used');
    await page.goto('/migrations/mass');
    await expect(page.getByTestId('quota-exhausted')).toBeVisible();
    await shoot(page, 'commercial-used-up');
    await page.getByTestId('quota-exhausted').getByRole('link', { name: 'License list' }).click();
    await expect(page).toHaveURL(/\/licenses$/);
    await expect(page.getByTestId('licence-row')).toContainText('5 / 5');
  });

  test('a tab of the other mode is not reachable by URL', async ({ page, seed, db }) => {
    const free = await seed.customer();
    await signIn(page, free.email, free.password);
    for (const url of ['/licenses', '/migrations/mass', '/migrations/finished']) {
      expect((await page.goto(url))?.status(), url).toBe(404);
      await expect(page.getByText('This page could not be found')).toBeVisible();
    }
    expect((await page.goto('/migrations'))?.status()).toBe(200);
    await expect(page.getByRole('heading', { level: 1, name: 'Migration status' })).toBeVisible();
    await signOut(page);

    const paid = await seed.customer();
    const { keys } = await issueKeys(db, null, { resellerId: null, size: 10, count: 1 });
    const user = await db.user.findUniqueOrThrow({ where: { email: paid.email }, select: { id: true } });
    await registerKey(db, { organizationId: paid.organization.id, actor: { userId: user.id } }, { key: keys[0]!.key });
    await signIn(page, paid.email, paid.password);
    for (const url of ['/licenses', '/migrations/mass', '/migrations/finished', '/migrations', '/migrations/new']) {
      expect((await page.goto(url))?.status(), url).toBe(200);
    }
    // The free-mode heading is gone too: the shared address now shows the commercial tab.
    await expect(page.getByRole('heading', { level: 1, name: 'Migration' })).toBeVisible();
    expect((await page.goto('/reseller/keys'))?.status()).toBe(404);
    expect((await page.goto('/admin/keys'))?.status()).toBe(404);
  });
});
