import { mkdirSync } from 'node:fs';
import { expect, signIn, test } from './fixtures';

test.describe('account: migration e-mails', () => {
  test('a customer switches e-mails off, and after a reload they stay off, in the database too', async ({ page, seed, db }) => {
    const customer = await seed.customer({ userName: 'Nora Notify' });
    await signIn(page, customer.email, customer.password);
    await page.goto('/account');

    const card = page.getByRole('region', { name: 'E-mail notifications' });
    await expect(card).toContainText(customer.email);
    // The e2e installation has no SMTP server: the card says none are sent.
    await expect(card.getByRole('status')).toContainText('This installation sends no e-mails at the moment');
    const toggle = card.getByRole('switch', { name: 'E-mail me about my migrations' });
    await expect(toggle).toBeChecked();
    await expect(toggle).toBeEnabled();
    mkdirSync('/tmp/shots', { recursive: true });
    await page.screenshot({ path: '/tmp/shots/account-notifications-on.png', fullPage: true });

    await toggle.click({ force: true });
    await expect(card.getByText('Saved: you get no e-mails about your migrations.')).toBeVisible();
    await expect(toggle).not.toBeChecked();
    const user = await db.user.findUniqueOrThrow({ where: { email: customer.email }, select: { notifyByEmail: true } });
    expect(user.notifyByEmail).toBe(false);

    await page.reload();
    await expect(page.getByRole('region', { name: 'E-mail notifications' }).getByRole('switch', { name: 'E-mail me about my migrations' })).not.toBeChecked();
    await expect(page.getByText('Off: no e-mails; the migration lists still show everything.')).toBeVisible();
    await page.screenshot({ path: '/tmp/shots/account-notifications-off.png', fullPage: true });

    // And on again with the keyboard.
    await page.getByRole('switch', { name: 'E-mail me about my migrations' }).focus();
    await page.keyboard.press('Space');
    await expect(page.getByText('Saved: you get e-mails about your migrations.')).toBeVisible();
    expect((await db.user.findUniqueOrThrow({ where: { email: customer.email }, select: { notifyByEmail: true } })).notifyByEmail).toBe(true);
  });

  test('other roles see no e-mail switch: they create no migrations', async ({ page, seed }) => {
    const reseller = await seed.reseller();
    await signIn(page, reseller.email, reseller.password);
    await page.goto('/account');
    await expect(page.getByRole('heading', { name: 'Password' })).toBeVisible();
    await expect(page.getByRole('switch')).toHaveCount(0);
  });
});
