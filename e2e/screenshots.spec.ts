/**
 * Screenshots of every screen for a human to look at (test-results/screenshots/*.png). It runs
 * as its own project before the other specs, so the admin's table holds only the realistic
 * organizations seeded here. Besides taking pictures it checks that nothing overflows
 * sideways, on a desktop and on a 390 px phone.
 */
import type { Page } from '@playwright/test';
import path from 'node:path';
import { importHostedMailboxes } from '@/server/hosted-mailboxes/hosted-mailboxes';
import { reserveUnits } from '@/server/licensing/quota';
import { admin, expect, quickSelect, signIn, test, type SeededOrganization } from './fixtures';

const folder = path.join(process.cwd(), 'test-results', 'screenshots');
const phone = { width: 390, height: 844 };

async function shoot(page: Page, name: string): Promise<void> {
  // Settled: fonts loaded, no request in flight, no spinner text.
  await page.waitForLoadState('networkidle');
  await expect(page.getByText('Loading…')).toHaveCount(0);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${name} scrolls sideways by ${overflow}px`).toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(folder, `${name}.png`), fullPage: true });
}

test.describe.configure({ mode: 'serial' });

test.describe('screenshots', () => {
  let alpine: SeededOrganization;
  let bakery: SeededOrganization;

  test('login', async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto('/login');
    await shoot(page, 'login');
    await page.getByLabel('Email').fill('someone@example.com');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.locator('form').getByRole('alert')).toBeVisible();
    await shoot(page, 'login-error');

    await page.setViewportSize(phone);
    await page.goto('/login');
    await shoot(page, 'login-mobile');
  });

  test('admin organizations', async ({ page, seed }) => {
    alpine = await seed.reseller({ name: 'Alpine Webhosting AG', exactName: true, userName: 'Lena Hofer', email: 'lena.hofer@alpine-webhosting.example' });
    const northsea = await seed.reseller({ name: 'Northsea Hosting', exactName: true, userName: 'Jan Peters', email: 'jan@northsea-hosting.example' });
    bakery = await seed.customer({
      name: 'Bäckerei Sonnenschein GmbH',
      exactName: true,
      resellerId: alpine.organization.id,
      userName: 'Anna Berger',
      email: 'anna.berger@baeckerei-sonnenschein.example',
    });
    await seed.customer({ name: 'Kanzlei Brandt & Partner', exactName: true, resellerId: alpine.organization.id, userName: 'Tobias Brandt', email: 'it@kanzlei-brandt.example' });
    await seed.customer({ name: 'Harbour Logistics Ltd', exactName: true, resellerId: northsea.organization.id, email: 'postmaster@harbour-logistics.example' });
    await seed.customer({ name: 'Studio Lindqvist', exactName: true, userName: 'Maja Lindqvist', email: 'maja@studio-lindqvist.example' });

    await page.setViewportSize({ width: 1280, height: 800 });
    await signIn(page, admin.email, admin.password);
    await expect(page.getByTestId('organization-row')).toHaveCount(6);
    await shoot(page, 'admin-organizations');

    await page.getByRole('button', { name: 'New customer' }).click();
    await page.getByLabel('Organization name').fill('Weingut Keller');
    await page.getByLabel('Reseller').selectOption({ label: 'Alpine Webhosting AG' });
    await page.getByLabel('Email').fill('office@weingut-keller.example');
    await page.getByLabel('Name (optional)').fill('Paul Keller');
    await page.getByRole('button', { name: 'Generate' }).click();
    await shoot(page, 'admin-organizations-form');

    await page.getByLabel('Initial password').fill('short');
    await page.getByRole('button', { name: 'Create customer' }).click();
    await expect(page.getByText('At least 12 characters')).toBeVisible();
    await shoot(page, 'admin-organizations-form-error');

    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByRole('button', { name: 'Create customer' }).click();
    await expect(page.getByRole('status')).toContainText('Weingut Keller was created');
    await expect(page.getByTestId('organization-row')).toHaveCount(7);
    await shoot(page, 'admin-organizations-created');

    await page.setViewportSize(phone);
    await shoot(page, 'admin-organizations-mobile');
  });

  test('admin hosted mailboxes', async ({ page, db, adminId }) => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await signIn(page, admin.email, admin.password);
    await page.goto('/admin/mailboxes');
    await expect(page.getByText('No hosted mailboxes yet')).toBeVisible();
    await shoot(page, 'admin-mailboxes-empty');

    await importHostedMailboxes(db, { userId: adminId }, [
      'email;username;server;type',
      'anna.berger@baeckerei-sonnenschein.example;anna.berger@baeckerei-sonnenschein.example;imaps://mail.alpine-webhosting.example:993;imap',
      'info@baeckerei-sonnenschein.example;info@baeckerei-sonnenschein.example;imaps://mail.alpine-webhosting.example:993;imap',
      'tobias.brandt@kanzlei-brandt.example;tbrandt;groupware.alpine-webhosting.example;zimbra',
      'sekretariat@kanzlei-brandt.example;sekretariat;groupware.alpine-webhosting.example;zimbra',
      'dispatch@harbour-logistics.example;dispatch;ox.northsea-hosting.example;openxchange',
      'postmaster@harbour-logistics.example;postmaster;ox.northsea-hosting.example;openxchange',
      'maja@studio-lindqvist.example;maja@studio-lindqvist.example;kolab.northsea-hosting.example:993;kolab',
      'buchhaltung@weingut-keller.example;WEINGUT\\buchhaltung;exchange.weingut-keller.example;exchange',
    ].join('\n'));
    await page.reload();
    await expect(page.getByTestId('mailbox-row')).toHaveCount(8);
    await shoot(page, 'admin-mailboxes');

    await page.getByRole('button', { name: 'Add mailbox' }).first().click();
    const form = page.locator('form').filter({ has: page.getByRole('heading', { name: 'Add a hosted mailbox' }) });
    await form.getByLabel('Email address').fill('paul@weingut-keller');
    await form.getByLabel('Server').fill('mail weingut-keller.example');
    await form.getByRole('button', { name: 'Add mailbox' }).click();
    await expect(form.getByText('Enter a valid email address')).toBeVisible();
    await shoot(page, 'admin-mailboxes-form-error');

    await page.getByRole('button', { name: 'Import CSV' }).first().click();
    await page.getByLabel('Lines to import').fill(
      [
        'email;username;server;type',
        'paul.keller@weingut-keller.example;paul.keller;exchange.weingut-keller.example;exchange',
        'office@weingut-keller.example;office;exchange.weingut-keller.example;exchange',
        'keller-weingut.example;keller;exchange.weingut-keller.example;exchange',
        'info@baeckerei-sonnenschein.example;info;imaps://mail.alpine-webhosting.example:993',
        'lager@weingut-keller.example;lager;exchange.weingut-keller.example;pop3',
      ].join('\n'),
    );
    await page.getByRole('button', { name: /^Import 5 lines$/ }).click();
    await expect(page.getByTestId('import-result')).toContainText('2 mailboxes imported');
    await shoot(page, 'admin-mailboxes-import');

    await page.setViewportSize(phone);
    await shoot(page, 'admin-mailboxes-import-mobile');
    await page.reload();
    await expect(page.getByTestId('mailbox-row')).toHaveCount(10);
    await shoot(page, 'admin-mailboxes-mobile');

    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('searchbox', { name: 'Search hosted mailboxes' }).fill('kanzlei');
    await expect(page.getByTestId('mailbox-row')).toHaveCount(2);
    await page.getByRole('button', { name: 'Remove sekretariat@kanzlei-brandt.example' }).click();
    await shoot(page, 'admin-mailboxes-search-remove');
  });

  test('reseller customers', async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await signIn(page, alpine.email, alpine.password);
    await expect(page.getByTestId('organization-row')).toHaveCount(3);
    await shoot(page, 'reseller-customers');
    await page.getByRole('button', { name: 'New customer' }).click();
    await shoot(page, 'reseller-customers-form');
  });

  test('reseller without customers', async ({ page, seed }) => {
    const fresh = await seed.reseller({ name: 'Fjord Networks', exactName: true, userName: 'Ingrid Dahl', email: 'ingrid@fjord-networks.example' });
    await page.setViewportSize({ width: 1280, height: 800 });
    await signIn(page, fresh.email, fresh.password);
    await expect(page.getByText(/No customers yet/)).toBeVisible();
    await shoot(page, 'reseller-customers-empty');
  });

  test('customer shell', async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await signIn(page, bakery.email, bakery.password);
    await expect(page.getByRole('heading', { level: 1, name: 'Free migration' })).toBeVisible();
    await shoot(page, 'customer-free-migration');
    await page.getByRole('button', { name: 'Account menu' }).click();
    await expect(page.getByRole('menu')).toBeVisible();
    await shoot(page, 'customer-user-menu');
    await page.keyboard.press('Escape');
    await page.getByRole('link', { name: 'Migration status' }).click();
    await expect(page).toHaveURL(/\/migrations$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Migration status' })).toBeVisible();
    await shoot(page, 'customer-migration-status');
    await page.getByRole('link', { name: 'Information' }).click();
    await expect(page).toHaveURL(/\/information$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Information' })).toBeVisible();
    await shoot(page, 'customer-information');

    await page.setViewportSize(phone);
    await shoot(page, 'customer-information-mobile');
    await page.goto('/migrations/new');
    await expect(page.getByRole('heading', { level: 1, name: 'Free migration' })).toBeVisible();
    await shoot(page, 'customer-free-migration-mobile');

    await page.setViewportSize({ width: 1280, height: 800 });
    expect((await page.goto('/admin/organizations'))?.status()).toBe(404);
    await shoot(page, 'not-found');
  });

  test('migration form and lists', async ({ page, seed, mail, db }) => {
    const desktop = { width: 1280, height: 800 };
    const form = page.getByRole('form', { name: 'New migration' });
    const group = (name: string) => form.getByRole('group', { name });
    const cafe = await seed.customer({ name: 'Café Lindenhof', exactName: true, userName: 'Lena Linde', email: 'lena@cafe-lindenhof.example' });
    const source = await mail.mailbox('lena.linde', { messages: 2 });
    const target = await mail.mailbox('lena.linde-new');
    await seed.hostedMailbox({ email: source.email, server: mail.server });
    await seed.hostedMailbox({ email: target.email, server: mail.server });

    await page.setViewportSize(desktop);
    await signIn(page, cafe.email, cafe.password);
    await expect(form).toBeVisible();
    await shoot(page, 'migration-form');
    await group('Source').getByRole('combobox', { name: 'Quick selection' }).fill('lena.linde');
    await expect(group('Source').getByRole('option')).not.toHaveCount(0);
    await shoot(page, 'migration-form-quick-selection');
    await quickSelect(group('Source'), 'lena.linde', source.email);
    await group('Source').getByLabel('Password', { exact: true }).fill('an old password');
    await quickSelect(group('Target'), target.email, target.email);
    await group('Target').getByLabel('Password', { exact: true }).fill(target.password);
    await group('Timing').getByLabel('Start').fill('2027-10-31T02:30');
    await group('Timing').getByLabel('Resync (optional)').fill('2027-11-02T22:00');
    await form.getByRole('button', { name: 'Check logins and schedule' }).click();
    await expect(form.getByRole('alert')).toContainText('Login check failed: source');
    await shoot(page, 'migration-form-failed');
    await page.setViewportSize(phone);
    await shoot(page, 'migration-form-failed-mobile');

    await group('Source').getByLabel('Password', { exact: true }).fill(source.password);
    await group('Timing').getByLabel('Start').fill('');
    await group('Timing').getByLabel('Resync (optional)').fill('');
    await group('Timing').getByRole('button', { name: 'Now' }).click();
    await form.getByRole('button', { name: 'Check logins and schedule' }).click();
    await expect(page.getByTestId('created-notice')).toBeVisible();
    await shoot(page, 'migration-status-mobile');
    await page.setViewportSize(desktop);
    await expect(page.getByTestId('migration-state')).toHaveText('Finished', { timeout: 45_000 });
    await shoot(page, 'migration-status');
    await page.getByRole('link', { name: `Details of the migration of ${source.email}` }).click();
    await expect(page.getByRole('heading', { level: 1, name: source.email })).toBeVisible();
    await expect(page.getByTestId('folder-totals')).toContainText('2');
    await shoot(page, 'migration-detail-finished');

    // A commercial customer with migrations in every state.
    const hotel = await seed.customer({ name: 'Weinhaus Albrecht KG', exactName: true, userName: 'Clemens Albrecht', email: 'clemens@weinhaus-albrecht.example' });
    await seed.licence(hotel, 10);
    expect(await reserveUnits(db, hotel.organization.id, 6)).toMatchObject({ ok: true });
    await page.context().clearCookies();
    const hour = 3_600_000;
    const now = Date.now();
    const rows = [
      { who: 'clemens', state: 'running', startAt: now - hour, resyncAt: now + 48 * hour, total: 18_432, copied: 7_215 },
      { who: 'buchhaltung', state: 'scheduled', startAt: now + 20 * hour, resyncAt: now + 44 * hour, total: 0, copied: 0 },
      { who: 'versand', state: 'waiting_resync', startAt: now - 30 * hour, resyncAt: now + 18 * hour, total: 4_120, copied: 4_120 },
      { who: 'info', state: 'incomplete', startAt: now - 72 * hour, resyncAt: now - 24 * hour, total: 25_870, copied: 25_868 },
      { who: 'kontakt', state: 'finished', startAt: now - 60 * hour, resyncAt: null, total: 1_204, copied: 1_204 },
      { who: 'praktikum', state: 'failed', startAt: now - 50 * hour, resyncAt: null, total: 310, copied: 112, reason: 'The username or password is wrong.' },
      { who: 'alt', state: 'cancelled', startAt: now - 26 * hour, resyncAt: null, total: 920, copied: 240 },
    ] as const;
    const created: Record<string, string> = {};
    for (const [index, row] of rows.entries()) {
      const isActive = ['running', 'scheduled', 'waiting_resync'].includes(row.state);
      const { id } = await db.migration.create({
        data: {
          organizationId: hotel.organization.id,
          state: row.state,
          startAt: new Date(row.startAt),
          resyncAt: row.resyncAt ? new Date(row.resyncAt) : null,
          startedAt: row.state === 'scheduled' ? null : new Date(row.startAt),
          finishedAt: isActive ? null : new Date(row.startAt + 5 * hour),
          totalMessages: row.total,
          copiedMessages: row.copied,
          failureReason: 'reason' in row ? row.reason : null,
          failedMessages: row.state === 'incomplete' ? row.total - row.copied : 0,
          copiedBytes: BigInt(row.copied) * 131_072n,
          totalBytes: BigInt(row.total) * 131_072n,
          createdAt: new Date(now - index * 60_000),
          accounts: {
            create: [
              { side: 'source', type: 'imap', email: `${row.who}@weinhaus-albrecht.example`, username: `${row.who}@weinhaus-albrecht.example`, server: 'imap.strato.example' },
              { side: 'target', type: 'openxchange', email: `${row.who}@weinhaus-albrecht.example`, username: row.who, server: 'ox.alpine-webhosting.example' },
            ],
          },
        },
        select: { id: true },
      });
      created[row.who] = id;
    }
    // What the incomplete one left: a refused message in two folders, a folder the target
    // refused to create, a renamed folder, a re-created Sent folder and messages deleted on the target.
    const folders = [
      { sourcePath: 'INBOX', targetPath: 'INBOX', messagesCopied: 8_412, messagesFailed: 1 },
      { sourcePath: 'Sent', targetPath: 'Sent', messagesCopied: 3_120 },
      { sourcePath: 'Drafts', targetPath: 'Drafts', messagesCopied: 14 },
      { sourcePath: 'Archiv/2024', targetPath: 'Archiv/2024', messagesCopied: 9_876, messagesFailed: 1, messagesGone: 12 },
      { sourcePath: 'Archiv/2025', targetPath: 'Archiv/2025', messagesCopied: 4_120 },
      {
        sourcePath: 'Projekte 50%',
        targetPath: 'Projekte 50_',
        messagesCopied: 326,
        targetNote: "'Projekte 50%' is called 'Projekte 50_' on the target: the server refused the name",
      },
    ];
    for (const folder of folders) {
      await db.migrationFolder.create({ data: { migrationId: created.info!, lastUid: folder.messagesCopied, bytesCopied: BigInt(folder.messagesCopied) * 131_072n, ...folder } });
    }
    await db.migrationIssue.createMany({
      data: [
        { migrationId: created.info!, folder: 'Kunden/Müller <alt>', uid: null, size: null, reason: 'The target server refused to create the folder: Invalid mailbox name. Its messages were not copied.' },
        { migrationId: created.info!, folder: 'INBOX', uid: 18_204, size: 62_914_560n, reason: 'The message is larger than the size limit of 50 MB.' },
        { migrationId: created.info!, folder: 'Archiv/2024', uid: 3_117, size: 48_231n, reason: 'The target server refused the message: [LIMIT] Message has an invalid header.' },
      ],
    });
    await db.migrationNotice.createMany({
      data: [
        { migrationId: created.info!, folder: 'Sent', text: 'Sent on the target was re-created: matched again, 308 copied' },
        { migrationId: created.info!, folder: null, text: 'All Mail was left out: it is a virtual folder that holds every message once more' },
      ],
    });
    await signIn(page, hotel.email, hotel.password);
    await page.getByRole('link', { name: 'Active migrations' }).click();
    await expect(page.getByTestId('migration-row')).toHaveCount(3);
    await shoot(page, 'migrations-active');
    await page.getByRole('button', { name: 'Cancel the migration of buchhaltung@weinhaus-albrecht.example' }).click();
    await shoot(page, 'migrations-cancel-confirm');
    await page.setViewportSize(phone);
    await shoot(page, 'migrations-active-mobile');
    await page.setViewportSize(desktop);
    await page.getByRole('link', { name: 'Finished migrations' }).click();
    await expect(page.getByTestId('finished-row')).toHaveCount(4);
    const incomplete = page.getByTestId('finished-row').filter({ hasText: 'info@weinhaus-albrecht.example' });
    await expect(incomplete.getByTestId('migration-state')).toHaveText('Incomplete');
    await expect(incomplete.getByTestId('migration-status-line')).toHaveText('Finished with 2 messages not copied and 1 folder could not be created');
    await shoot(page, 'migrations-finished');
    await page.setViewportSize(phone);
    await shoot(page, 'migrations-finished-mobile');
    await page.setViewportSize(desktop);
    await incomplete.getByRole('link', { name: 'Details of the migration of info@weinhaus-albrecht.example' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'info@weinhaus-albrecht.example' })).toBeVisible();
    await expect(page.getByTestId('not-copied-row')).toHaveCount(3);
    await expect(page.getByTestId('folder-totals')).toHaveText(/All folders\s*25,868\s*0\s*2\s*25,870/);
    await expect(page.getByTestId('renamed-folder')).toContainText("'Projekte 50%' is called 'Projekte 50_' on the target");
    await expect(page.getByTestId('notice').first()).toContainText('Sent on the target was re-created: matched again, 308 copied');
    await expect(page.getByTestId('gone-banner')).toContainText('12 messages copied earlier are no longer in the target');
    await shoot(page, 'migration-detail-incomplete');
    await page.setViewportSize(phone);
    await shoot(page, 'migration-detail-incomplete-mobile');
    await page.setViewportSize(desktop);
    await page.goto(`/migrations/${created.clemens!}`);
    await expect(page.getByTestId('migration-state')).toHaveText('Running');
    await shoot(page, 'migration-detail-running');
    await page.goto('/migrations/new');
    await shoot(page, 'migration-form-commercial-mobile');
    // Nothing sticks out of its section on a phone (date fields have a wide intrinsic size).
    const outside = await form.evaluate((element) =>
      [...element.querySelectorAll('fieldset')].flatMap((fieldset) => {
        const box = fieldset.getBoundingClientRect();
        return [...fieldset.querySelectorAll('input, select, button')]
          .filter((control) => control.getBoundingClientRect().right > box.right + 0.5)
          .map((control) => control.getAttribute('name') ?? control.textContent);
      }),
    );
    expect(outside).toEqual([]);
  });
  test('mass migration', async ({ page, seed, mail, db }) => {
    const desktop = { width: 1280, height: 800 };
    const records = page.getByRole('textbox', { name: 'Records', exact: true });
    const day = (days: number, time: string) =>
      `${new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + days * 86_400_000))} ${time}`;
    const utility = await seed.customer({ name: 'Stadtwerke Nordheim GmbH', exactName: true, userName: 'Petra Vogt', email: 'petra.vogt@stadtwerke-nordheim.example' });
    await seed.licence(utility, 25);

    await page.setViewportSize(desktop);
    await signIn(page, utility.email, utility.password);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Mass migration' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Mass migration' })).toBeVisible();
    await shoot(page, 'mass-migration-empty');
    await page.setViewportSize(phone);
    await shoot(page, 'mass-migration-empty-mobile');

    // A domain move as a customer pastes it, with the usual mistakes.
    const domain = 'stadtwerke-nordheim.example';
    const line = (user: string, changes: Partial<Record<number, string>> = {}) => {
      const fields = [
        'imap',
        `${user}@${domain}`,
        `${user}@${domain}`,
        `Alt-${user.length}x!Nh`,
        'imaps://imap.oldhost.example',
        'openxchange',
        `${user}@${domain}`,
        user,
        `Neu-${user.length}y#Nh`,
        'ox.alpine-webhosting.example',
        day(2, '22:00'),
        day(5, '21:00'),
      ];
      for (const [index, value] of Object.entries(changes)) fields[Number(index)] = value!;
      return fields.join(';');
    };
    const list = [
      '# Stadtwerke Nordheim: mailboxes moving to Alpine Webhosting',
      'source.type;source.email;source.username;source.password;source.server;target.type;target.email;target.username;target.password;target.server;startdate;resyncdate',
      line('petra.vogt'),
      line('jan.schulte'),
      line('m.yilmaz'),
      line('buchhaltung', { 0: 'pop3' }),
      line('kundenservice'),
      line('Jan.Schulte'),
      line('technik', { 9: '192.168.10.4' }),
      line('personal', { 1: 'personal@stadtwerke-nordheim', 10: day(3, '22:00') }),
      line('einkauf', { 10: '31.04.2027 22:00' }),
      line('vertrieb', { 3: '' }),
      line('empfang', { 11: day(1, '08:00') }),
      line('leitstelle'),
      line('presse', { 4: 'imaps://imap.oldhost.example:99999' }),
      line('netzbetrieb'),
      line('wasserwerk'),
    ].join('\n');
    await page.setViewportSize(desktop);
    await records.fill(list);
    await records.press('ControlOrMeta+Home');
    await page.getByRole('button', { name: 'Formal check' }).click();
    await expect(page.getByTestId('mass-summary')).toContainText('15 records');
    await shoot(page, 'mass-migration-check');
    await page.setViewportSize(phone);
    await shoot(page, 'mass-migration-check-mobile');
    await page.getByRole('grid', { name: 'Checked records' }).evaluate((grid) => grid.scrollTo({ left: 900 }));
    await shoot(page, 'mass-migration-check-mobile-scrolled');
    await page.setViewportSize(desktop);
    await page.getByLabel('Only lines with problems').check();
    await shoot(page, 'mass-migration-check-problems');
    await page.getByLabel('Only lines with problems').uncheck();

    // A long submission halfway through its login check, as a reloaded page shows it.
    const { id: halfway } = await db.massSubmission.create({
      data: { organizationId: utility.organization.id, state: 'checking', records: 300, checked: 143, created: 139, failed: 4, createdAt: new Date(Date.now() - 95_000) },
      select: { id: true },
    });
    await page.reload();
    await expect(page.getByTestId('mass-progress-text')).toHaveText('143 of 300 checked');
    await shoot(page, 'mass-migration-progress');
    await page.setViewportSize(phone);
    await shoot(page, 'mass-migration-progress-mobile');
    await db.massSubmission.delete({ where: { id: halfway } });

    // Five real mailboxes, one with a wrong target password: four migrations, one line back.
    const names = ['petra.vogt', 'jan.schulte', 'm.yilmaz', 'buchhaltung', 'kundenservice'];
    const accounts = await Promise.all(names.flatMap((name) => [mail.mailbox(`${name}-alt`), mail.mailbox(`${name}-neu`)]));
    const real = names.map((_, i) => {
      const [source, target] = [accounts[2 * i]!, accounts[2 * i + 1]!];
      const password = i === 3 ? 'Sommer2026!' : target.password;
      return ['imap', source.email, source.email, source.password, mail.server, 'imap', target.email, target.email, password, mail.server, day(2, '22:00'), day(5, '21:00')].join(';');
    });
    await page.setViewportSize(desktop);
    await page.reload();
    await records.fill(['# Stadtwerke Nordheim, first group', ...real].join('\n'));
    await page.getByRole('button', { name: 'Formal check' }).click();
    await page.getByRole('button', { name: 'Submit 5 migrations' }).click();
    await expect(page.getByTestId('mass-report')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('mass-outcome')).toContainText('4 migrations were created');
    await shoot(page, 'mass-migration-report');
    await page.setViewportSize(phone);
    await shoot(page, 'mass-migration-report-mobile');
  });
});
