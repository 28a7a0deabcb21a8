/**
 * The portal says what to do: every tab is reachable on a phone, the date fields read back in
 * the portal's format, the welcome notice shows once, the first licence says what becomes of
 * the unused free migrations, and each role's Information page speaks to that role.
 * Screenshots go to test-results/screenshots/guidance-*.png (1280 px and 390 px).
 */
import type { Page } from '@playwright/test';
import path from 'node:path';
import { issueKeys } from '@/server/licensing/keys';
import { admin, expect, signIn, test } from './fixtures';

const folder = path.join(process.cwd(), 'test-results', 'screenshots');
const desktop = { width: 1280, height: 800 };
const phone = { width: 390, height: 844 };

async function shoot(page: Page, name: string): Promise<void> {
  await page.waitForLoadState('networkidle');
  await expect(page.getByText('Loading…')).toHaveCount(0);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${name} scrolls sideways by ${overflow}px`).toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(folder, `guidance-${name}.png`), fullPage: true });
}

/** Both widths, phone last. */
async function shootBoth(page: Page, name: string): Promise<void> {
  await page.setViewportSize(desktop);
  await shoot(page, `${name}-desktop`);
  await page.setViewportSize(phone);
  await shoot(page, `${name}-phone`);
}

const nav = (page: Page) => page.getByRole('navigation', { name: 'Sections' });
const tabs = (page: Page) => nav(page).getByRole('link');

/** The active tab lies inside the screen and nothing (no fading edge) covers its middle. */
async function expectActiveTabUncovered(page: Page, label: string): Promise<void> {
  const active = nav(page).locator('[aria-current="page"]');
  await expect(active).toHaveText(label);
  await expect
    .poll(() =>
      active.evaluate((element) => {
        const box = element.getBoundingClientRect();
        if (box.left < 0 || box.right > window.innerWidth) return `outside: ${box.left}–${box.right}`;
        // Both ends of the label, not only its middle: no fading edge lies over any of it.
        for (const x of [box.left + 6, box.left + box.width / 2, box.right - 6]) {
          const hit = document.elementFromPoint(x, box.top + box.height / 2);
          if (hit !== element && !element.contains(hit)) return `covered at ${Math.round(x)} by ${hit?.outerHTML.slice(0, 80)}`;
        }
        return 'visible';
      }),
    )
    .toBe('visible');
}

/** Goes through every tab by tapping it, as a phone user would, and checks where each one leads. */
async function visitEveryTab(page: Page, expected: readonly (readonly [label: string, path: string])[], shotPrefix: string): Promise<void> {
  await expect(tabs(page)).toHaveText(expected.map(([label]) => label));
  for (const [label, href] of expected) {
    await tabs(page).filter({ hasText: label }).first().click();
    await expect(page).toHaveURL((url) => url.pathname === href);
    await expect(page.getByRole('main').getByRole('heading', { level: 1 })).toBeVisible();
    await expectActiveTabUncovered(page, label);
    await shoot(page, `${shotPrefix}-${href.replaceAll('/', '-').replace(/^-/, '')}-phone`);
  }
}

test.describe('guidance', () => {
  test('on a phone the tab bar shows that it scrolls, reaches every tab and keeps the active one in view', async ({ page, seed }) => {
    const customer = await seed.customer({ name: 'Bäckerei Sonnenschein', userName: 'Jana Keller' });
    await seed.licence(customer, 10);
    await page.setViewportSize(phone);
    await signIn(page, customer.email, customer.password);

    // Seven tabs do not fit in 390 px: the right edge says there are more, the left one not yet.
    await expect(page.getByTestId('tabs-more-right')).toBeVisible();
    await expect(page.getByTestId('tabs-more-left')).toHaveCount(0);
    await shoot(page, 'tabs-start-phone');
    // Tapping the edge scrolls the bar; then there is something on the left too.
    await page.getByTestId('tabs-more-right').click();
    await expect(page.getByTestId('tabs-more-left')).toBeVisible();

    await visitEveryTab(
      page,
      [
        ['Migration', '/migrations/new'],
        ['Mass migration', '/migrations/mass'],
        ['Active migrations', '/migrations'],
        ['Finished migrations', '/migrations/finished'],
        ['License list', '/licenses'],
        ['Privacy', '/privacy'],
        ['Information', '/information'],
      ],
      'customer',
    );
    // At the last tab, the bar has scrolled to its end: nothing more on the right.
    await expect(page.getByTestId('tabs-more-right')).toHaveCount(0);
    await expect(page.getByTestId('tabs-more-left')).toBeVisible();
    // Opened directly, a page far right still shows its own tab.
    await page.goto('/licenses');
    await expectActiveTabUncovered(page, 'License list');

    // On a desktop everything fits: no edges.
    await page.setViewportSize(desktop);
    await expect(page.getByTestId('tabs-more-right')).toHaveCount(0);
    await expect(page.getByTestId('tabs-more-left')).toHaveCount(0);
  });

  test("an admin's seven tabs are all reachable on a phone", async ({ page }) => {
    await page.setViewportSize(phone);
    await signIn(page, admin.email, admin.password);
    await visitEveryTab(
      page,
      [
        ['Organizations', '/admin/organizations'],
        ['All migrations', '/admin/migrations'],
        ['Hosted mailboxes', '/admin/mailboxes'],
        ['Licence keys', '/admin/keys'],
        ['Settings', '/admin/settings'],
        ['Audit log', '/admin/audit'],
        ['Information', '/information'],
      ],
      'admin',
    );
  });

  test("the date fields read back in the portal's format, with the time zone of that day", async ({ page, seed }) => {
    const customer = await seed.customer();
    await seed.licence(customer, 5);
    await page.setViewportSize(desktop);
    await signIn(page, customer.email, customer.password);
    await expect(page).toHaveURL(/\/migrations\/new$/);
    const timing = page.getByTestId('timing-section');

    await timing.getByLabel('Start').fill('2027-01-15T19:25');
    await expect(timing.getByText('15 Jan 2027, 19:25 · Europe/Berlin (UTC+01:00)')).toBeVisible();
    // The field is described by the reading, so a screen reader says it too.
    await expect(timing.getByLabel('Start')).toHaveAccessibleDescription('15 Jan 2027, 19:25 · Europe/Berlin (UTC+01:00)');
    // Summer time: the offset is the one of that day, not of today.
    await timing.getByLabel('Resync (optional)').fill('2027-07-01T08:00');
    await expect(timing.getByText('1 Jul 2027, 08:00 · Europe/Berlin (UTC+02:00)')).toBeVisible();
    await page.getByRole('form', { name: 'New migration' }).getByTestId('timing-section').scrollIntoViewIfNeeded();
    await shootBoth(page, 'date-hint');

    // A time the clocks skip has no reading: the field says why instead.
    await page.setViewportSize(desktop);
    await timing.getByLabel('Start').fill('2027-03-28T02:30');
    await expect(timing.getByText(/Europe\/Berlin \(UTC\+0[12]:00\)$/)).toHaveCount(1);
    await expect(timing.getByText('28 Mar 2027, 02:30')).toHaveCount(0);
  });

  test('the first licence says what becomes of the unused free migrations, and its welcome shows once', async ({ page, seed, db }) => {
    const customer = await seed.customer({ name: 'Weingut Lindenhof', userName: 'Paul Brandt' });
    const { keys } = await issueKeys(db, null, { resellerId: null, size: 10, count: 1 });
    await page.setViewportSize(desktop);
    await signIn(page, customer.email, customer.password);

    // Before: next to the install form.
    const before = page.getByTestId('free-carry-over');
    await expect(before).toHaveText(
      'Your 2 unused free migrations do not carry over: once a licence is installed, you have the migrations of your licences. Free migrations already scheduled or running continue.',
    );
    await before.scrollIntoViewIfNeeded();
    await shootBoth(page, 'first-licence-before');

    await page.setViewportSize(desktop);
    const form = page.getByRole('form', { name: 'Install key' });
    await form.getByLabel('Licence key').fill(keys[0]!.key);
    await form.getByRole('button', { name: 'Install key' }).click();
    await expect(page).toHaveURL(/\/licenses\?installed=10$/);

    // After: in the welcome notice, once.
    const welcome = page.getByTestId('welcome-notice');
    await expect(welcome).toContainText('Welcome to commercial mode');
    await expect(welcome.getByTestId('free-carry-over')).toHaveText(
      'Your 2 unused free migrations did not carry over: you now have the 10 migrations of your licence. Free migrations that were already scheduled or running continue.',
    );
    await expect(page.getByTestId('quota-value')).toContainText('10 / 10');
    await shootBoth(page, 'first-licence-after');

    // A reload of the same address does not bring it back; nor does a visit from another tab.
    await page.reload();
    await expect(page.getByRole('heading', { level: 1, name: 'License list' })).toBeVisible();
    await expect(page.getByTestId('welcome-notice')).toHaveCount(0);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Information' }).click();
    await expect(page).toHaveURL(/\/information$/);
    await page.goBack();
    await expect(page).toHaveURL(/\/licenses\?installed=10$/);
    await expect(page.getByRole('heading', { level: 1, name: 'License list' })).toBeVisible();
    await expect(page.getByTestId('welcome-notice')).toHaveCount(0);

    // In a browser that has not seen it, it shows, and Close removes it.
    await page.evaluate(() => window.localStorage.clear());
    await page.goto('/licenses?installed=10');
    await expect(page.getByTestId('welcome-notice')).toBeVisible();
    await expect(page.getByTestId('welcome-notice').getByTestId('free-carry-over')).toHaveCount(0);
    await page.getByTestId('welcome-notice').getByRole('button', { name: 'Close' }).click();
    await expect(page.getByTestId('welcome-notice')).toHaveCount(0);
  });

  test('each role reads an Information page written for it', async ({ page, seed }) => {
    const reseller = await seed.reseller({ name: 'Alpenblick Hosting', userName: 'Eva Moser' });
    const customer = await seed.customer({ name: 'Tischlerei Holzwurm', resellerId: reseller.organization.id, userName: 'Tom Becker' });

    // The customer: only what is true here, and the tips.
    await page.setViewportSize(desktop);
    await signIn(page, customer.email, customer.password);
    await page.goto('/information');
    const moves = page.getByTestId('what-moves-row');
    await expect(moves).toHaveCount(5);
    await expect(moves.nth(0)).toContainText('MailCopied');
    for (const [index, kind] of ['Calendars', 'Contacts', 'Tasks'].entries()) await expect(moves.nth(index + 1)).toContainText(`${kind}Copied`);
    await expect(moves.nth(4)).toContainText('DeletionsNot carried over');
    const tips = page.getByTestId('info-tips');
    for (const tip of [
      'must be reachable from this installation',
      'need IMAP enabled',
      'an app password',
      'IMAP and Exchange Web Services (EWS) switched on',
      "your organization's app connection",
      'Calendar names with spaces',
      'Do not change either password',
      'change both before the migration and again after it',
    ]) {
      await expect(tips).toContainText(tip);
    }
    await expect(page.getByText('an IMAP account has no calendars or contacts')).toBeVisible();
    await expect(page.getByText(/is an estimate: it depends on how fast both servers answer/)).toBeVisible();
    await expect(page.getByTestId('info-quota')).toContainText('Free mode has 2 migrations');
    await expect(page.getByRole('heading', { name: 'Microsoft 365 connection' })).toBeVisible();
    // Nothing that is not true yet.
    await expect(page.getByRole('main')).not.toContainText('calendars, contacts and tasks move');
    await shootBoth(page, 'information-customer');

    // The reseller: what it sells and where it manages it; no customer forms.
    await page.context().clearCookies();
    await page.setViewportSize(desktop);
    await signIn(page, reseller.email, reseller.password);
    await page.goto('/information');
    await expect(page.getByTestId('info-sell')).toContainText('Licence keys of 5, 10, 25, 50, 100 migrations');
    await expect(page.getByTestId('info-where').getByRole('link', { name: 'Customers' })).toBeVisible();
    await expect(page.getByTestId('info-tips')).toHaveCount(0);
    await expect(page.getByRole('heading', { name: 'Microsoft 365 connection' })).toHaveCount(0);
    await shootBoth(page, 'information-reseller');

    // The admin: what runs here and where it is set up.
    await page.context().clearCookies();
    await page.setViewportSize(desktop);
    await signIn(page, admin.email, admin.password);
    await page.goto('/information');
    await expect(page.getByTestId('info-where')).toContainText('Allowed private hosts');
    await expect(page.getByTestId('info-where')).toContainText('10.0.0.5:10143');
    await expect(page.getByTestId('info-runs')).toContainText('npm run ferry -- check');
    await expect(page.getByTestId('info-sell')).toHaveCount(0);
    await expect(page.getByTestId('info-tips')).toHaveCount(0);
    await shootBoth(page, 'information-admin');
  });
});
