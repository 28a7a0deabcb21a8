/**
 * A customer moves a Zimbra account to Open-Xchange: its mail on the run's Dovecot, its
 * calendars, contacts and tasks on a real Radicale reached through each account's groupware
 * address. The source's CalDAV/CardDAV answers are paced, so the customer sees the groupware
 * counts move on the detail page, then the verdict.
 */
import path from 'node:path';
import { generateGroupwareCorpus } from '../scripts/groupware-corpus/corpus';
import { loadCorpus } from '../scripts/groupware-corpus/load';
import { startRadicale, type RadicaleServer } from '../test/helpers/radicale';
import { expect, signIn, test } from './fixtures';
import { addNetworkRule, allowHost, startPacedProxy } from './loopback';

const shots = path.join(process.cwd(), 'test-results', 'screenshots');

/** "12 of 90 events" → 12. */
async function copiedOf(row: import('@playwright/test').Locator): Promise<number> {
  const match = /^([\d,]+) of/.exec((await row.innerText()).trim());
  return match ? Number(match[1]!.replace(/,/g, '')) : -1;
}

test.describe('live groupware migration', () => {
  let dav: RadicaleServer | undefined;
  test.afterAll(async () => {
    await dav?.stop();
  });

  test('a zimbra → openxchange migration shows its calendars, contacts and tasks moving, then the verdict', async ({ page, seed, mail, db }) => {
    test.setTimeout(180_000);
    const customer = await seed.customer({ name: 'Praxis Okonkwo' });
    const source = await mail.mailbox('oko-zimbra', { messages: 6 });
    const target = await mail.mailbox('oko-ox');
    dav = await startRadicale({ users: [{ username: source.email, password: source.password }, { username: target.email, password: target.password }] });
    const corpus = generateGroupwareCorpus({ seed: 'live-e2e', scale: 0.2 });
    const total = (kind: string) => corpus.filter((c) => c.kind === kind).reduce((n, c) => n + c.items.length, 0);
    await loadCorpus({ serverUrl: dav.url, username: source.email, password: source.password }, corpus, { concurrency: 8 });

    const proxy = await startPacedProxy({ host: '127.0.0.1', port: dav.port }, 40_000);
    const undo = [
      await allowHost(db, `127.0.0.1/32:${dav.port}`),
      await allowHost(db, `127.0.0.1/32:${proxy.port}`),
      await addNetworkRule(db, 'insecureHosts', `127.0.0.1/32:${dav.port}`),
      await addNetworkRule(db, 'insecureHosts', `127.0.0.1/32:${proxy.port}`),
    ];
    try {
      await signIn(page, customer.email, customer.password);
      await page.goto('/migrations/new');
      const form = page.getByRole('form', { name: 'New migration' });
      const sides = [
        ['Source', 'Zimbra', source, `http://127.0.0.1:${proxy.port}/`],
        ['Target', 'Open-Xchange', target, `http://127.0.0.1:${dav.port}/`],
      ] as const;
      for (const [name, type, account, groupware] of sides) {
        const group = form.getByRole('group', { name });
        await expect(group.getByLabel('Groupware address (optional)')).toHaveCount(0);
        await group.getByLabel('Type').selectOption({ label: type });
        await group.getByLabel('Email address').fill(account.email);
        await group.getByLabel('Password', { exact: true }).fill(account.password);
        await group.getByLabel('Server', { exact: true }).fill(mail.server);
        await group.getByLabel('Groupware address (optional)').fill(groupware);
      }
      await form.getByRole('group', { name: 'Timing' }).getByRole('button', { name: 'Now' }).click();
      // A groupware address that is not a URL is named before anything is sent.
      const sourceGroupware = form.getByRole('group', { name: 'Source' }).getByLabel('Groupware address (optional)');
      await sourceGroupware.fill(`127.0.0.1:${proxy.port}`);
      await form.getByRole('button', { name: 'Check logins and schedule' }).click();
      await expect(form.getByRole('group', { name: 'Source' })).toContainText('The groupware address must start with https://.');
      await expect(sourceGroupware).toHaveAttribute('aria-invalid', 'true');
      await sourceGroupware.fill(sides[0][3]);
      await page.screenshot({ path: path.join(shots, 'live-groupware-form.png'), fullPage: true });
      await form.getByRole('button', { name: 'Check logins and schedule' }).click();
      await expect(page).toHaveURL(/\/migrations\?created=/, { timeout: 30_000 });
      const row = page.getByTestId('migration-row').filter({ hasText: source.email });
      await row.getByRole('link', { name: `Details of the migration of ${source.email}` }).click();
      await expect(page.getByRole('heading', { level: 1, name: source.email })).toBeVisible();

      // The groupware copy runs after the mail: its counts move while the migration runs.
      const section = page.getByTestId('groupware');
      const contacts = section.locator('dd').nth(1);
      await expect(section.locator('dd')).toHaveCount(3, { timeout: 60_000 });
      await expect.poll(() => copiedOf(contacts), { timeout: 60_000 }).toBeGreaterThan(0);
      const first = await copiedOf(contacts);
      expect(first).toBeLessThan(total('contacts'));
      await expect(page.getByTestId('migration-state')).toHaveText('Running');
      await page.screenshot({ path: path.join(shots, 'live-groupware-running.png'), fullPage: true });
      await expect.poll(() => copiedOf(contacts), { timeout: 60_000 }).toBeGreaterThan(first);

      // Then the verdict: everything is there, once.
      await expect(page.getByTestId('migration-state')).toHaveText('Finished', { timeout: 90_000 });
      await expect(section).toContainText(`${total('calendar')} of ${total('calendar')} events`);
      await expect(section).toContainText(`${total('contacts')} of ${total('contacts')} contacts`);
      await expect(section).toContainText(`${total('tasks')} of ${total('tasks')} tasks`);
      await expect(page.getByTestId('groupware-not-copied-row')).toHaveCount(0);
      await expect(page.getByTestId('verification')).toContainText('All 6 messages of the source are on the target.');
      await expect(page.getByTestId('state-sentence')).toHaveText(/^Finished on /);
      await page.screenshot({ path: path.join(shots, 'live-groupware-finished.png'), fullPage: true });
    } finally {
      for (const take of undo.reverse()) await take();
      await proxy.close();
    }
  });
});
