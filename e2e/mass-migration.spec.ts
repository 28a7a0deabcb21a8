/**
 * Mass migration in the browser against the run's real Dovecot and the real worker: the formal
 * check's grid (red fields with their reasons, blue duplicates, everything typed shown as
 * text), selecting a line from the grid, submitting, the login check's progress and report,
 * the failed lines back in the text, the example file, uploads and the limits.
 */
import type { Locator, Page } from '@playwright/test';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MASS_EXAMPLE_FILE_NAME } from '@/server/migrations/mass/example';
import { MASS_HEADER, MAX_MASS_RECORDS } from '@/server/migrations/mass/types';
import { expect, signIn, test, type SeededOrganization } from './fixtures';

interface Account {
  email: string;
  password: string;
}

/** A date `days` ahead at 22:00 in the portal's zone (Europe/Berlin), as a customer types it. */
function berlinDay(days: number): string {
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + days * 86_400_000));
  return `${day} 22:00`;
}

function record(source: Account, target: Account, server: string, overrides: Partial<Record<number, string>> = {}): string {
  const fields = ['imap', source.email, source.email, source.password, server, 'imap', target.email, target.email, target.password, server, berlinDay(1), berlinDay(3)];
  for (const [index, value] of Object.entries(overrides)) fields[Number(index)] = value!;
  return fields.join(';');
}

const textarea = (page: Page) => page.getByRole('textbox', { name: 'Records', exact: true });
const grid = (page: Page) => page.getByRole('grid', { name: 'Checked records' });
const row = (page: Page, line: number) => grid(page).locator(`[data-testid="mass-row"][data-line="${line}"]`);
const cell = (page: Page, line: number, field: string) => row(page, line).locator(`[data-field="${field}"]`);
const submitButton = (page: Page) => page.getByRole('button', { name: /^Submit/ });

/**
 * Pastes from the clipboard, as a customer does with a long list. (Typing 5,000 lines through
 * Playwright's fill takes minutes in Chromium; a paste takes a fraction of a second.)
 */
async function paste(page: Page, text: string): Promise<void> {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.evaluate((value) => navigator.clipboard.writeText(value), text);
  await textarea(page).focus();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('ControlOrMeta+V');
  await expect.poll(() => textarea(page).evaluate((element: HTMLTextAreaElement) => element.value.length)).toBe(text.length);
}

/** The text of the element a cell's aria-describedby points at. */
async function descriptionOf(target: Locator): Promise<string> {
  const ids = await target.getAttribute('aria-describedby');
  expect(ids, 'aria-describedby').toBeTruthy();
  return target.page().evaluate((list) => list.split(' ').map((id) => document.getElementById(id)?.textContent ?? '').join(' '), ids!);
}

/** A cell's background as hue (degrees) and chroma, whatever colour notation the browser computes. */
async function backgroundOf(target: Locator): Promise<{ hue: number; chroma: number }> {
  return target.evaluate((element) => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const context = canvas.getContext('2d')!;
    context.fillStyle = getComputedStyle(element).backgroundColor;
    context.fillRect(0, 0, 1, 1);
    const [r, g, b] = [...context.getImageData(0, 0, 1, 1).data].map((v) => v / 255) as [number, number, number];
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const chroma = max - min;
    let hue = 0;
    if (chroma > 0) {
      if (max === r) hue = 60 * (((g - b) / chroma) % 6);
      else if (max === g) hue = 60 * ((b - r) / chroma + 2);
      else hue = 60 * ((r - g) / chroma + 4);
    }
    return { hue: (hue + 360) % 360, chroma };
  });
}

async function expectRed(target: Locator) {
  const { hue, chroma } = await backgroundOf(target);
  expect(chroma, 'a coloured background').toBeGreaterThan(0.05);
  expect(hue < 30 || hue > 330, `red hue, got ${hue}`).toBe(true);
}

async function expectBlue(target: Locator) {
  const { hue, chroma } = await backgroundOf(target);
  expect(chroma, 'a coloured background').toBeGreaterThan(0.05);
  expect(hue > 190 && hue < 260, `blue hue, got ${hue}`).toBe(true);
}

async function expectWhite(target: Locator) {
  expect((await backgroundOf(target)).chroma).toBeLessThan(0.01);
}

async function selection(page: Page): Promise<{ start: number; end: number; text: string; focused: boolean }> {
  return textarea(page).evaluate((element: HTMLTextAreaElement) => ({
    start: element.selectionStart,
    end: element.selectionEnd,
    text: element.value.slice(element.selectionStart, element.selectionEnd),
    focused: document.activeElement === element,
  }));
}

async function commercialCustomer(seed: { customer: () => Promise<SeededOrganization>; licence: (o: SeededOrganization, size?: 5 | 10 | 25 | 50 | 100) => Promise<void> }, size: 5 | 10 | 25 = 10) {
  const customer = await seed.customer();
  await seed.licence(customer, size);
  return customer;
}

test.describe('mass migration', () => {
  test('errors are red with their reasons, duplicates blue, typed markup stays text; fixed, submitted, the failed line comes back', async ({ page, seed, mail }) => {
    const customer = await commercialCustomer(seed, 10);
    const [a1, b1, a2, b2, a3, b3] = await Promise.all(['mass-a1', 'mass-b1', 'mass-a2', 'mass-b2', 'mass-a3', 'mass-b3'].map((name) => mail.mailbox(name)));
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });

    await signIn(page, customer.email, customer.password);
    await page.getByRole('link', { name: 'Mass migration' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Mass migration' })).toBeVisible();
    await expect(page.getByTestId('quota-value')).toContainText('10 / 10');
    await expect(page.getByTestId('time-zone')).toContainText('Europe/Berlin (now UTC+0');
    await expect(submitButton(page)).toBeDisabled();

    const script = '<script>window.massXss=1</script>';
    const image = '<img src=x onerror=window.massXss=2>';
    const lines = [
      MASS_HEADER, // 1
      '# first batch', // 2
      record(a1!, b1!, mail.server), // 3
      record(a2!, b2!, mail.server, { 0: 'pop3', 1: script, 2: image }), // 4: wrong type, malformed address
      record(a2!, b2!, mail.server, { 9: '10.20.30.40' }), // 5: a private address the host policy refuses
      record({ ...a1!, email: a1!.email.toUpperCase() }, b1!, mail.server), // 6: line 3 again, other case
      '', // 7
      record(a3!, b3!, mail.server, { 3: 'not-the-password' }), // 8: formally fine, the login will fail
    ];
    await textarea(page).fill(lines.join('\n'));
    await page.getByRole('button', { name: 'Formal check' }).click();

    await expect(page.getByTestId('mass-summary')).toHaveText('5 records: 2 ready, 2 with errors, 1 duplicate');
    await expect(grid(page).getByTestId('mass-row')).toHaveCount(5);
    await expect(submitButton(page)).toBeDisabled();

    // Line 4: the type and the address are wrong, red, and say why.
    const type = cell(page, 4, 'source.type');
    await expect(type).toHaveAttribute('aria-invalid', 'true');
    expect(await descriptionOf(type)).toContain('“pop3” is not an account type; use imap, zimbra, kolab, openxchange, exchange or office365.');
    await expectRed(type);
    const address = cell(page, 4, 'source.email');
    await expect(address).toHaveAttribute('aria-invalid', 'true');
    expect(await descriptionOf(address)).toContain('This is not a valid email address.');
    await expectRed(address);
    await expect(row(page, 4).locator('[data-field="problems"]')).toContainText('source.email: This is not a valid email address.');
    // Typed markup is shown as typed and never runs.
    await expect(address).toHaveText(script);
    await expect(cell(page, 4, 'source.username')).toHaveText(image);
    await expect(cell(page, 4, 'source.username')).not.toHaveAttribute('aria-invalid', 'true');
    await expectWhite(cell(page, 4, 'source.username'));
    expect(await page.evaluate(() => (window as { massXss?: number }).massXss)).toBeUndefined();
    await expect(grid(page).locator('img, script')).toHaveCount(0);

    // Line 5: the private address.
    const server = cell(page, 5, 'target.server');
    await expect(server).toHaveAttribute('aria-invalid', 'true');
    expect(await descriptionOf(server)).toContain('10.20.30.40 is an address of a private network');
    await expectRed(server);
    await expectWhite(cell(page, 5, 'source.server'));

    // Line 6 repeats line 3 (addresses compared without case): blue, and says so.
    await expect(row(page, 6)).toHaveAttribute('data-status', 'duplicate');
    await expect(row(page, 6).locator('[data-field="problems"]')).toHaveText(/duplicate of line 3/i);
    await expectBlue(cell(page, 6, 'source.email'));
    await expectBlue(cell(page, 6, 'target.server'));
    await expect(row(page, 6).locator('[aria-invalid="true"]')).toHaveCount(0);
    await expectWhite(cell(page, 3, 'source.email'));
    await expect(row(page, 3).locator('[data-field="problems"]')).toHaveText('Ready');

    // Passwords are masked; an empty one stays empty.
    await expect(cell(page, 3, 'source.password')).toHaveText('••••••');
    await expect(grid(page)).not.toContainText(a1!.password);
    await expect(grid(page)).not.toContainText('not-the-password');

    // The filter keeps the lines with problems.
    await page.getByLabel('Only lines with problems').check();
    await expect(grid(page).getByTestId('mass-row')).toHaveCount(3);
    await page.getByLabel('Only lines with problems').uncheck();
    await expect(grid(page).getByTestId('mass-row')).toHaveCount(5);

    // A row click selects its line in the textarea.
    await row(page, 5).click();
    const selected = await selection(page);
    expect(selected).toEqual({ start: lines.slice(0, 4).join('\n').length + 1, end: lines.slice(0, 5).join('\n').length, text: lines[4], focused: true });
    await row(page, 8).click();
    expect((await selection(page)).text).toBe(lines[7]);
    // And from the keyboard: arrows move between rows, Enter selects.
    await row(page, 3).focus();
    await page.keyboard.press('ArrowDown');
    await expect(row(page, 4)).toBeFocused();
    await page.keyboard.press('Enter');
    expect(await selection(page)).toMatchObject({ text: lines[3], focused: true });

    // Fixed: the bad lines corrected, the duplicate removed. Any edit needs a new check.
    const fixed = [lines[0], lines[1], lines[2], record(a2!, b2!, mail.server), lines[6], lines[7]];
    await textarea(page).fill(fixed.join('\n'));
    await expect(submitButton(page)).toBeDisabled();
    await expect(page.getByTestId('mass-submit-hint')).toContainText('The text has changed since the last check');
    await page.getByRole('button', { name: 'Formal check' }).click();
    await expect(page.getByTestId('mass-summary')).toHaveText('3 records: 3 ready, 0 with errors, 0 duplicates');
    await expect(submitButton(page)).toHaveText('Submit 3 migrations');
    await expect(submitButton(page)).toBeEnabled();
    await textarea(page).press('End');
    await textarea(page).press('Space');
    await expect(submitButton(page)).toBeDisabled();
    // Back to exactly the text that was checked: that check holds again.
    await textarea(page).press('Backspace');
    await expect(submitButton(page)).toBeEnabled();

    // Submitted: the progress shows until the server's first answer, which the test holds back.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    await page.route(/\/api\/trpc\/[^?]*mass\.status/, async (route) => {
      await released;
      await route.continue();
    });
    await submitButton(page).click();
    await expect(page.getByTestId('mass-progress-text')).toHaveText('0 of 3 checked');
    await expect(page.getByTestId('mass-progress').getByRole('progressbar')).toHaveAttribute('aria-valuemax', '3');
    await expect(textarea(page)).toHaveJSProperty('readOnly', true);
    // Leaving through a tab asks first; staying keeps the page.
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Active migrations' }).click();
    await expect.poll(() => dialogs.length).toBe(1);
    expect(dialogs[0]).toMatch(/^confirm: The logins are still being checked/);
    await expect(page).toHaveURL(/\/migrations\/mass$/);
    // From here on every answer goes through as the server gives it.
    release();

    const report = page.getByTestId('mass-report');
    await expect(report).toBeVisible({ timeout: 30_000 });
    await expect(report.getByRole('heading', { level: 2 })).toHaveText('Submission done: 2 migrations created, 1 line failed');
    const failed = report.getByTestId('mass-report-failed');
    await expect(failed).toHaveCount(1);
    await expect(failed).toHaveAttribute('data-line', '6');
    await expect(failed.getByTestId('mass-report-side')).toHaveText('Source login failed');
    await expect(failed).toContainText('Source: The username or password is wrong.');
    await expect(failed).toContainText('now line 4');
    await expect(page.getByTestId('mass-outcome')).toHaveText(
      '1 line could not be created and is back in the text with its reason below; 2 migrations were created and appear under Active migrations.',
    );
    // The created lines are gone; the failed one is back exactly as typed, with the header and comment.
    await expect(textarea(page)).toHaveValue([fixed[0], fixed[1], fixed[4], fixed[5]].join('\n'));
    await expect(textarea(page)).toHaveJSProperty('readOnly', false);
    await expect(page.getByTestId('quota-value')).toContainText('8 / 10');
    await failed.getByRole('button', { name: 'Show in the text' }).click();
    expect((await selection(page)).text).toBe(fixed[5]);

    await report.getByText('2 migrations created: they appear under').click();
    const created = report.getByTestId('mass-report-created');
    await expect(created).toHaveCount(2);
    await expect(created.nth(0)).toContainText(`${a1!.email} → ${b1!.email}`);
    await expect(created.nth(0).getByRole('link', { name: `Migration of ${a1!.email}` })).toHaveAttribute('href', /^\/migrations\/[0-9a-f-]{36}$/);

    // A reload shows the report again (the text is not kept anywhere).
    await page.reload();
    await expect(page.getByTestId('mass-report').getByRole('heading', { level: 2 })).toHaveText('Last submission: 2 migrations created, 1 line failed');
    await expect(textarea(page)).toHaveValue('');

    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Active migrations' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Active migrations' })).toBeVisible();
    const rows = page.getByTestId('migration-row');
    await expect(rows).toHaveCount(2);
    await expect(rows.filter({ hasText: a1!.email })).toContainText(b1!.email);
    await expect(rows.filter({ hasText: a2!.email })).toContainText(b2!.email);
    expect(dialogs).toHaveLength(1);
  });

  test('the example file passes the check as it is, uploaded through Upload file', async ({ page, seed }) => {
    const customer = await commercialCustomer(seed, 5);
    await signIn(page, customer.email, customer.password);
    await page.goto('/migrations/mass');

    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download example file' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe(MASS_EXAMPLE_FILE_NAME);
    const file = await download.path();
    const content = await readFile(file, 'utf8');
    expect(content).toContain(MASS_HEADER);
    expect(content.split('\n').filter((line) => line.startsWith('#')).length).toBeGreaterThan(10);

    const choosing = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Upload file' }).click();
    await (await choosing).setFiles(file);
    await expect(textarea(page)).toHaveValue(content);
    await page.getByRole('button', { name: 'Formal check' }).click();
    await expect(page.getByTestId('mass-summary')).toHaveText('3 records: 3 ready, 0 with errors, 0 duplicates');
    await expect(submitButton(page)).toHaveText('Submit 3 migrations');
    await expect(submitButton(page)).toBeEnabled();
  });

  test('an uploaded CSV fills the textarea (CRLF read as lines), and what was typed before can be brought back', async ({ page, seed }, testInfo) => {
    const customer = await commercialCustomer(seed, 5);
    await signIn(page, customer.email, customer.password);
    await page.goto('/migrations/mass');
    const typed = '# typed before the upload\nimap;half a line';
    await textarea(page).fill(typed);

    const lines = [
      MASS_HEADER,
      `imap;lena@example.com;lena;"pa;ss""x";mail.example.com;imap;lena@example.net;lena;Secret-2;mail.example.net;${berlinDay(2)};`,
      `kolab;jonas@example.com;jonas;Secret-3;mail.example.com;imap;jonas@example.net;jonas;Secret-4;mail.example.net;${berlinDay(2)};${berlinDay(4)}`,
      `imap;mara@example.com;mara;Secret-5;mail.example.com;imap;mara@example.net;mara;;mail.example.net;${berlinDay(2)};`,
    ];
    const file = path.join(os.tmpdir(), `mass-upload-${testInfo.testId}.csv`);
    await writeFile(file, `\uFEFF${lines.join('\r\n')}\r\n`);
    const choosing = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Upload file' }).click();
    await (await choosing).setFiles(file);
    await expect(textarea(page)).toHaveValue(`${lines.join('\n')}\n`);
    await expect(page.getByRole('status').filter({ hasText: 'The text was replaced by' })).toContainText(path.basename(file));
    await expect(page.getByTestId('mass-size')).toContainText('4 lines');

    await page.getByRole('button', { name: 'Formal check' }).click();
    await expect(page.getByTestId('mass-summary')).toHaveText('3 records: 2 ready, 1 with errors, 0 duplicates');
    // The quoted password is one field: masked like the others; an empty one stays empty.
    await expect(cell(page, 2, 'source.password')).toHaveText('••••••');
    await expect(cell(page, 2, 'source.server')).toHaveText('mail.example.com');
    await expect(cell(page, 4, 'target.password')).toHaveText('');
    await expect(cell(page, 4, 'target.password')).toHaveAttribute('aria-invalid', 'true');
    expect(await descriptionOf(cell(page, 4, 'target.password'))).toContain('The password is missing.');

    await page.getByRole('button', { name: 'Bring back the previous text' }).click();
    await expect(textarea(page)).toHaveValue(typed);

    // A file over the limit is not read at all; one not saved as UTF-8 is read with a warning.
    const big = path.join(os.tmpdir(), `mass-big-${testInfo.testId}.csv`);
    await writeFile(big, `${lines[1]}\n`.repeat(20_000));
    const choosingBig = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Upload file' }).click();
    await (await choosingBig).setFiles(big);
    await expect(page.getByRole('main').getByRole('alert')).toContainText(`${path.basename(big)} has 2.5 MB; one submission holds at most 2 MB (5,000 records).`);
    await expect(textarea(page)).toHaveValue(typed);
    const latin1 = path.join(os.tmpdir(), `mass-latin1-${testInfo.testId}.csv`);
    await writeFile(latin1, Buffer.from('# Bäckerei Müller\n', 'latin1'));
    const choosingLatin1 = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Upload file' }).click();
    await (await choosingLatin1).setFiles(latin1);
    await expect(textarea(page)).toHaveValue('# B\uFFFDckerei M\uFFFDller\n');
    await expect(page.getByRole('main').getByRole('alert')).toContainText(`${path.basename(latin1)} is not saved as UTF-8`);
    await page.getByRole('button', { name: 'Bring back the previous text' }).click();
    await expect(textarea(page)).toHaveValue(typed);
  });

  test('over the record limit the check names the limit and the count, and keeps the text', async ({ page, seed }) => {
    const customer = await commercialCustomer(seed, 5);
    await signIn(page, customer.email, customer.password);
    await page.goto('/migrations/mass');
    const line = (i: number) => `imap;u${i}@example.com;u${i};pw;mail.example.com;imap;u${i}@example.net;u${i};pw;mail.example.net;${berlinDay(2)};`;
    const text = Array.from({ length: MAX_MASS_RECORDS + 1 }, (_, i) => line(i)).join('\n');
    await paste(page, text);
    await page.getByRole('button', { name: 'Formal check' }).click();
    await expect(page.getByTestId('mass-check-error')).toHaveText('This list has 5,001 records; at most 5,000 can be submitted at once. Split it and submit the parts one after the other.');
    await expect(grid(page)).toHaveCount(0);
    await expect(submitButton(page)).toBeDisabled();
    expect((await textarea(page).inputValue()) === text, 'the textarea holds every line').toBe(true);
  });

  test('more records than units remain: refused with both numbers before any login, nothing lost', async ({ page, seed, db }) => {
    const customer = await commercialCustomer(seed, 5);
    await signIn(page, customer.email, customer.password);
    await page.goto('/migrations/mass');
    const text = Array.from({ length: 6 }, (_, i) => `imap;n${i}@example.com;n${i};pw-${i};mail.example.com;imap;n${i}@example.net;n${i};pw-${i};mail.example.net;${berlinDay(2)};`).join('\n');
    await textarea(page).fill(text);
    await page.getByRole('button', { name: 'Formal check' }).click();
    await submitButton(page).click();
    await expect(page.getByTestId('mass-refusal')).toHaveText('This needs 6 migrations, but only 5 of 5 remain.');
    await expect(textarea(page)).toHaveValue(text);
    await expect(page.getByTestId('quota-value')).toContainText('5 / 5');
    expect(await db.massSubmission.count({ where: { organizationId: customer.organization.id } })).toBe(0);
  });

  test("the server's verdict shows in the grid with the browser's values: a pair that became active meanwhile is blue", async ({ page, seed, db }) => {
    const customer = await commercialCustomer(seed, 5);
    await signIn(page, customer.email, customer.password);
    await page.goto('/migrations/mass');
    const lines = [
      `imap;eva@example.com;eva;Secret-1;mail.example.com;imap;eva@example.net;eva;Secret-2;mail.example.net;${berlinDay(2)};`,
      `imap;tom@example.com;tom;Secret-3;mail.example.com;imap;tom@example.net;tom;Secret-4;mail.example.net;${berlinDay(2)};`,
    ];
    await textarea(page).fill(lines.join('\n'));
    await page.getByRole('button', { name: 'Formal check' }).click();
    await expect(submitButton(page)).toBeEnabled();
    // Meanwhile another tab schedules eva's migration.
    await db.migration.create({
      data: {
        organizationId: customer.organization.id,
        state: 'scheduled',
        startAt: new Date(Date.now() + 86_400_000),
        accounts: {
          create: [
            { side: 'source', type: 'imap', email: 'eva@example.com', username: 'eva', server: 'mail.example.com' },
            { side: 'target', type: 'imap', email: 'eva@example.net', username: 'eva', server: 'mail.example.net' },
          ],
        },
      },
    });
    await submitButton(page).click();
    await expect(page.getByTestId('mass-refusal')).toHaveText('1 line needs correcting before the list can be submitted.');
    await expect(page.getByTestId('mass-summary')).toContainText("2 records: 1 ready, 0 with errors, 1 duplicate (the server's check)");
    await expect(row(page, 1)).toHaveAttribute('data-status', 'duplicate');
    await expect(row(page, 1).locator('[data-field="problems"]')).toHaveText(/already being migrated/i);
    await expect(cell(page, 1, 'source.email')).toHaveText('eva@example.com');
    await expectBlue(cell(page, 1, 'source.email'));
    await expect(submitButton(page)).toBeDisabled();
    await expect(textarea(page)).toHaveValue(lines.join('\n'));
    // The browser's own check now knows it too.
    await page.reload();
    await textarea(page).fill(lines.join('\n'));
    await page.getByRole('button', { name: 'Formal check' }).click();
    await expect(page.getByTestId('mass-summary')).toHaveText('2 records: 1 ready, 0 with errors, 1 duplicate');
  });
});
