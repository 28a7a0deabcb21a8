/**
 * The groupware parts of an ended zimbra → openxchange migration's page: counts per kind, the
 * renamed collection, the one item the target refused (with collection, UID, size and reason,
 * never its content), and the Information page's word on what moves.
 */
import path from 'node:path';
import { expect, signIn, test } from './fixtures';

const shots = path.join(process.cwd(), 'test-results', 'screenshots');

test('a groupware migration shows calendars, contacts and tasks copied of the source, and the item the target refused', async ({ page, seed, db }) => {
  const customer = await seed.customer({ name: 'Kanzlei Morgenstern' });
  const source = seed.email('lena-old');
  const target = seed.email('lena-new');
  const { id } = await db.migration.create({
    data: {
      organizationId: customer.organization.id,
      state: 'incomplete',
      startAt: new Date('2027-01-12T09:00:00.000Z'),
      startedAt: new Date('2027-01-12T09:00:04.000Z'),
      finishedAt: new Date('2027-01-12T09:07:00.000Z'),
      totalMessages: 4,
      copiedMessages: 4,
      totalBytes: 9_000n,
      copiedBytes: 9_000n,
      accounts: {
        create: [
          { side: 'source', type: 'zimbra', email: source, username: 'lena-login', server: 'mail.old.example', passwordSealed: 'sealed' },
          { side: 'target', type: 'openxchange', email: target, username: 'lena-login-2', server: 'mail.new.example', passwordSealed: 'sealed' },
        ],
      },
      folders: { create: [{ sourcePath: 'INBOX', targetPath: 'INBOX', messagesCopied: 4, bytesCopied: 9_000n }] },
      groupwareCollections: {
        create: [
          { sourceId: 'https://old/cal/', kind: 'calendar', sourceName: 'Kalender', targetName: 'Calendar', targetNote: '"Kalender" went into the target\'s default calendar "Calendar"', checkpoint: {}, items: 212, present: 211, copied: 211, failed: 1 },
          { sourceId: 'https://old/team/', kind: 'calendar', sourceName: 'Team Meetings', targetName: 'Team Meetings', checkpoint: {}, items: 48, present: 48, copied: 48 },
          { sourceId: 'https://old/book/', kind: 'contacts', sourceName: 'Contacts', targetName: 'Contacts', checkpoint: {}, items: 640, present: 640, copied: 640 },
          { sourceId: 'https://old/tasks/', kind: 'tasks', sourceName: 'Aufgaben & To-dos', targetName: 'Aufgaben & To-dos', checkpoint: {}, items: 77, present: 77, copied: 77 },
        ],
      },
      groupwareIssues: { create: [{ kind: 'calendar', collection: 'Kalender', uid: '040000008200E00074C5B7101A82E00800000000D0C5@old.example', size: 31_457_280, reason: 'Refused by the target server: 413 Request Entity Too Large' }] },
    },
    select: { id: true },
  });
  await signIn(page, customer.email, customer.password);
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto(`/migrations/${id}`);
  await expect(page.getByText('Finished, but 1 calendar, contact or task item was not copied').first()).toBeVisible();
  const section = page.getByTestId('groupware');
  await expect(section).toContainText('259 of 260 events');
  await expect(section).toContainText('640 of 640 contacts');
  await expect(section).toContainText('77 of 77 tasks');
  await expect(section).toContainText('"Kalender" went into the target\'s default calendar "Calendar"');
  const refused = page.getByTestId('groupware-not-copied-row');
  await expect(refused).toHaveCount(1);
  await expect(refused).toContainText('Kalender');
  await expect(refused).toContainText('040000008200E00074C5B7101A82E00800000000D0C5@old.example');
  await expect(refused).toContainText('30 MB');
  await expect(refused).toContainText('413 Request Entity Too Large');
  await page.screenshot({ path: path.join(shots, 'groupware-detail.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 900 });
  // On a phone the same item is a stacked entry.
  const stacked = page.getByTestId('groupware-not-copied-item');
  await expect(stacked).toHaveCount(1);
  await expect(stacked).toBeVisible();
  await expect(stacked).toContainText('413 Request Entity Too Large');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(shots, 'groupware-detail-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto('/information');
  const moves = page.getByTestId('what-moves-row');
  await expect(moves.nth(4)).toContainText('DeletionsNot carried over');
  await page.screenshot({ path: path.join(shots, 'groupware-information.png'), fullPage: true });
});

test('an Exchange → Microsoft 365 migration lists what was copied with changes, grouped by what the target has no place for', async ({ page, seed, db }) => {
  const customer = await seed.customer({ name: 'Praxis Lindqvist' });
  const source = seed.email('jonas-old');
  const target = seed.email('jonas-new');
  const changed = (uid: string, component: string, property: string, reason: string, collection = 'Calendar') => ({ kind: component === 'VCARD' ? 'contacts' : 'calendar', collection, uid, component, property, reason });
  const meetings = Array.from({ length: 14 }, (_, i) => changed(`meeting-${i}@contoso.example`, 'VEVENT', 'ATTENDEE', "Kept in the event's text: Microsoft 365 would send invitations to the attendees"));
  const { id } = await db.migration.create({
    data: {
      organizationId: customer.organization.id,
      state: 'finished',
      startAt: new Date('2027-02-03T08:00:00.000Z'),
      startedAt: new Date('2027-02-03T08:00:03.000Z'),
      finishedAt: new Date('2027-02-03T08:21:00.000Z'),
      totalMessages: 12,
      copiedMessages: 12,
      totalBytes: 40_000n,
      copiedBytes: 40_000n,
      accounts: {
        create: [
          { side: 'source', type: 'exchange', email: source, username: 'CONTOSO\\jonas', server: 'mail.contoso.example', passwordSealed: null },
          { side: 'target', type: 'office365', email: target, username: target, server: '', passwordSealed: null },
        ],
      },
      folders: { create: [{ sourcePath: 'INBOX', targetPath: 'INBOX', messagesCopied: 12, bytesCopied: 40_000n }] },
      groupwareCollections: {
        create: [
          { sourceId: 'AAMkCal', kind: 'calendar', sourceName: 'Calendar', targetName: 'Calendar', checkpoint: {}, items: 380, present: 380, copied: 380 },
          { sourceId: 'AAMkCon', kind: 'contacts', sourceName: 'Contacts', targetName: 'Contacts', checkpoint: {}, items: 912, present: 912, copied: 912 },
          { sourceId: 'AAMkTsk', kind: 'tasks', sourceName: 'Tasks', targetName: 'Tasks', checkpoint: {}, items: 41, present: 41, copied: 41 },
        ],
      },
      groupwareChanges: {
        create: [
          ...meetings,
          changed('meeting-0@contoso.example', 'VEVENT', 'ORGANIZER', "Kept in the event's text: Microsoft 365 makes the mailbox the organizer"),
          changed('card-7@contoso.example', 'VCARD', 'EMAIL', 'Microsoft 365 keeps three e-mail addresses per contact; the fourth is left out', 'Contacts'),
          changed('card-9@contoso.example', 'VCARD', 'TEL', 'Fax numbers have no place in a Microsoft 365 contact', 'Contacts'),
        ],
      },
    },
    select: { id: true },
  });
  await signIn(page, customer.email, customer.password);
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto(`/migrations/${id}`);
  await expect(page.getByTestId('groupware')).toContainText('without attendees');
  const section = page.getByTestId('groupware-changed');
  await expect(section).toContainText('Copied with changes');
  // 14 meetings and 2 contacts: the meeting with both its attendees and its organizer is one item.
  await expect(section).toContainText('16');
  const groups = page.getByTestId('groupware-changed-item');
  await expect(groups).toHaveCount(4);
  await expect(groups.first()).toContainText('ATTENDEE');
  await expect(groups.first()).toContainText('14 items');
  await expect(groups.first()).toContainText('Microsoft 365 would send invitations');
  await section.screenshot({ path: path.join(shots, 'groupware-changed.png') });
  await page.screenshot({ path: path.join(shots, 'groupware-detail-microsoft365.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 900 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(shots, 'groupware-changed-phone.png'), fullPage: true });
});
