import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seedOrganization, seedUser, testDb } from './helpers/database';
import { callerFor, codeOf } from './helpers/trpc';

const db = testDb();

/** A domain of its own per test: hosted mailboxes belong to the whole installation. */
const domain = () => `hosted-${randomUUID().slice(0, 8)}.example`;

async function asAdmin() {
  const admin = await seedUser(db, 'admin', null);
  return { admin, api: await callerFor(db, admin.id) };
}

/** Every key of a response, nested, so a password-like field cannot hide. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value && typeof value === 'object' && !(value instanceof Date)) return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
  return [];
}

function expectNoPassword(response: unknown) {
  expect(keysOf(response).filter((k) => /pass|secret|sealed|credential/i.test(k))).toEqual([]);
  expect(JSON.stringify(response)).not.toMatch(/S3cret/);
}

describe('hosted mailboxes', () => {
  it('an admin adds one (email stored lower-cased), lists it, and removes it; each step is audited', async () => {
    const { admin, api } = await asAdmin();
    const d = domain();
    const added = await api.hostedMailboxes.add({ email: ` Anna.Berger@${d.toUpperCase()} `, username: 'anna.berger', server: `imaps://mail.${d}:993` });
    expect(added).toMatchObject({ email: `anna.berger@${d}`, username: 'anna.berger', server: `imaps://mail.${d}:993`, type: 'imap' });

    const listed = await api.hostedMailboxes.list({ search: d });
    expect(listed.total).toBe(1);
    expect(listed.items.map((m) => m.email)).toEqual([`anna.berger@${d}`]);
    expect(Object.keys(listed.items[0]!).sort()).toEqual(['createdAt', 'email', 'id', 'server', 'type', 'username']);

    const removed = await api.hostedMailboxes.remove({ id: added.id });
    expect(removed).toEqual({ id: added.id, email: `anna.berger@${d}` });
    expect((await api.hostedMailboxes.list({ search: d })).total).toBe(0);
    expect(await codeOf(api.hostedMailboxes.remove({ id: added.id }))).toBe('NOT_FOUND');

    const audit = await db.auditEvent.findMany({ where: { actorUserId: admin.id }, orderBy: { id: 'asc' }, select: { action: true, targetId: true, details: true } });
    expect(audit.map((a) => a.action)).toEqual(['hosted_mailbox.add', 'hosted_mailbox.remove']);
    expect(audit.every((a) => a.targetId === added.id)).toBe(true);
    expect(audit[1]!.details).toEqual({ email: `anna.berger@${d}` });
  });

  it('refuses a second mailbox with the same email, whatever its case, as CONFLICT with a clear message', async () => {
    const { api } = await asAdmin();
    const d = domain();
    await api.hostedMailboxes.add({ email: `info@${d}`, username: 'info', server: `mail.${d}`, type: 'zimbra' });
    const again = api.hostedMailboxes.add({ email: `INFO@${d}`, username: 'other', server: `mail.${d}` });
    await expect(again).rejects.toMatchObject({ code: 'CONFLICT', message: `A hosted mailbox with the email info@${d} already exists.` });
    expect(await db.hostedMailbox.count({ where: { email: { endsWith: d } } })).toBe(1);
    // The database holds the rules even when the code is bypassed.
    await expect(db.hostedMailbox.create({ data: { email: `Upper@${d}`, username: 'u', server: `mail.${d}` } })).rejects.toThrow();
    await expect(db.hostedMailbox.create({ data: { email: `pop@${d}`, username: 'u', server: `mail.${d}`, type: 'pop3' } })).rejects.toThrow();
  });

  it('validates the add form with the migration form’s rules', async () => {
    const { api } = await asAdmin();
    const d = domain();
    expect(await codeOf(api.hostedMailboxes.add({ email: 'not-an-email', username: 'x', server: `mail.${d}` }))).toBe('BAD_REQUEST');
    expect(await codeOf(api.hostedMailboxes.add({ email: `a@${d}`, username: ' ', server: `mail.${d}` }))).toBe('BAD_REQUEST');
    expect(await codeOf(api.hostedMailboxes.add({ email: `a@${d}`, username: 'a', server: `ftp://mail.${d}` }))).toBe('BAD_REQUEST');
    expect(await codeOf(api.hostedMailboxes.add({ email: `a@${d}`, username: 'a', server: `mail.${d}`, type: 'pop3' as 'imap' }))).toBe('BAD_REQUEST');
    expect(await db.hostedMailbox.count({ where: { email: { endsWith: d } } })).toBe(0);
  });

  it('imports the good lines of a CSV in one go, skips stored addresses and reports bad and repeated lines by number', async () => {
    const { admin, api } = await asAdmin();
    const d = domain();
    await api.hostedMailboxes.add({ email: `kept@${d}`, username: 'original', server: `old.${d}` });
    const text = [
      'email;username;server;type',
      `anna@${d};anna;mail.${d}`,
      `bob@${d};bob;imap://mail.${d}:143;kolab`,
      `not-an-address;carl;mail.${d}`,
      `KEPT@${d};changed;new.${d}`,
      '',
      `anna@${d};anna-again;mail.${d}`,
      `dora@${d};dora;mail.${d};pop3`,
      `eve@${d};eve;S3cretPassword;mail.${d}`,
      `fritz@${d};fritz;mail ${d}`,
    ].join('\n');
    const result = await api.hostedMailboxes.importCsv({ text });
    expect(result.lines).toBe(8);
    expect(result.imported).toBe(2);
    expect(result.skipped).toEqual([{ line: 5, email: `kept@${d}` }]);
    expect(result.errors.map((e) => [e.line, e.field])).toEqual([
      [4, 'email'],
      [7, 'email'],
      [8, 'type'],
      // The password landed in the server column (it could be a host name), the server in type.
      [9, 'type'],
      [10, 'server'],
    ]);
    expect(result.errors.find((e) => e.line === 7)!.message).toBe(`anna@${d} is already on line 2 of this import.`);
    expect(result.errors.find((e) => e.line === 10)!.message).toBe('The server address must not contain spaces.');
    expectNoPassword(result);

    const stored = await db.hostedMailbox.findMany({ where: { email: { endsWith: d } }, orderBy: { email: 'asc' }, select: { email: true, username: true, server: true, type: true } });
    expect(stored).toEqual([
      { email: `anna@${d}`, username: 'anna', server: `mail.${d}`, type: 'imap' },
      { email: `bob@${d}`, username: 'bob', server: `imap://mail.${d}:143`, type: 'kolab' },
      // Skipped, not overwritten.
      { email: `kept@${d}`, username: 'original', server: `old.${d}`, type: 'imap' },
    ]);
    const event = await db.auditEvent.findFirstOrThrow({ where: { actorUserId: admin.id, action: 'hosted_mailbox.import' }, select: { details: true } });
    expect(event.details).toEqual({ lines: 8, imported: 2, skipped: 1, errors: 5 });

    // Importing the same text again changes nothing: everything valid is now stored.
    const again = await api.hostedMailboxes.importCsv({ text });
    expect(again.imported).toBe(0);
    expect(again.skipped.map((s) => s.line)).toEqual([2, 3, 5]);
  });

  it('refuses an import over 5,000 lines before reading it, and an empty one', async () => {
    const { api } = await asAdmin();
    const d = domain();
    const text = Array.from({ length: 5_001 }, (_, i) => `user${i}@${d};user${i};mail.${d}`).join('\n');
    const tooBig = api.hostedMailboxes.importCsv({ text });
    await expect(tooBig).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('at most 5,000 can be imported at once') });
    expect(await codeOf(api.hostedMailboxes.importCsv({ text: '\n\n' }))).toBe('BAD_REQUEST');
    expect(await db.hostedMailbox.count({ where: { email: { endsWith: d } } })).toBe(0);
  });

  it('imports 5,000 lines in one transaction', async () => {
    const { api } = await asAdmin();
    const d = domain();
    const text = Array.from({ length: 5_000 }, (_, i) => `user${i}@${d},user${i},mail.${d}`).join('\r\n');
    const result = await api.hostedMailboxes.importCsv({ text });
    expect(result).toMatchObject({ lines: 5_000, imported: 5_000, skipped: [], errors: [] });
    const page = await api.hostedMailboxes.list({ search: d, page: 2 });
    expect(page.total).toBe(5_000);
    expect(page.items).toHaveLength(page.pageSize);
    expect(page.items[0]!.email < page.items.at(-1)!.email).toBe(true);
  });

  it('searches by email and by username, case-insensitively, with % and _ taken literally', async () => {
    const { api } = await asAdmin();
    const d = domain();
    await api.hostedMailboxes.importCsv({
      text: [`anna@${d};Anna.Berger;mail.${d}`, `office@${d};BUERO_1;mail.${d}`, `zeta@${d};zeta;mail.${d}`].join('\n'),
    });
    const emails = async (search: string) => (await api.hostedMailboxes.list({ search })).items.filter((m) => m.email.endsWith(d)).map((m) => m.email);
    expect(await emails(`OFFICE@${d}`)).toEqual([`office@${d}`]);
    expect(await emails('anna.berger')).toEqual([`anna@${d}`]);
    expect(await emails('buero_1')).toEqual([`office@${d}`]);
    expect((await api.hostedMailboxes.list({ search: `${d.slice(0, 10)}%` })).total).toBe(0);
    expect((await api.hostedMailboxes.list({ search: `_@${d}` })).total).toBe(0);
  });

  it('gives a customer the quick selection: exactly id, email, username, server and type, sorted by email', async () => {
    const { api } = await asAdmin();
    const d = domain();
    await api.hostedMailboxes.importCsv({ text: [`zoe@${d};zoe;mail.${d}`, `adam@${d};adam;mail.${d};openxchange`].join('\n') });
    const customer = await seedOrganization(db, 'customer');
    const asCustomer = await callerFor(db, customer.user.id);

    const picked = await asCustomer.hostedMailboxes.quickSelection({ search: d });
    expect(picked).toEqual([
      { id: expect.any(String), email: `adam@${d}`, username: 'adam', server: `mail.${d}`, type: 'openxchange' },
      { id: expect.any(String), email: `zoe@${d}`, username: 'zoe', server: `mail.${d}`, type: 'imap' },
    ]);
    for (const item of picked) expect(Object.keys(item).sort()).toEqual(['email', 'id', 'server', 'type', 'username']);
    const all = await asCustomer.hostedMailboxes.quickSelection();
    expect(all.length).toBeGreaterThan(0);
    expect(all.length).toBeLessThanOrEqual(50);
    expect(all.map((m) => m.email)).toEqual([...all.map((m) => m.email)].sort());
    expectNoPassword(all);
  });

  it('is for admins only; the quick selection is for customers only', async () => {
    const { api } = await asAdmin();
    const d = domain();
    const mailbox = await api.hostedMailboxes.add({ email: `guarded@${d}`, username: 'guarded', server: `mail.${d}` });
    const reseller = await seedOrganization(db, 'reseller');
    const customer = await seedOrganization(db, 'customer', reseller.organization.id);
    const anonymous = await callerFor(db, null);

    for (const user of [reseller.user, customer.user]) {
      const caller = await callerFor(db, user.id);
      expect(await codeOf(caller.hostedMailboxes.list())).toBe('FORBIDDEN');
      expect(await codeOf(caller.hostedMailboxes.add({ email: `sneaky@${d}`, username: 's', server: `mail.${d}` }))).toBe('FORBIDDEN');
      expect(await codeOf(caller.hostedMailboxes.remove({ id: mailbox.id }))).toBe('FORBIDDEN');
      expect(await codeOf(caller.hostedMailboxes.importCsv({ text: `sneaky@${d};s;mail.${d}` }))).toBe('FORBIDDEN');
    }
    expect(await codeOf((await callerFor(db, reseller.user.id)).hostedMailboxes.quickSelection())).toBe('FORBIDDEN');
    expect(await codeOf(api.hostedMailboxes.quickSelection())).toBe('FORBIDDEN');
    expect(await codeOf(anonymous.hostedMailboxes.list())).toBe('UNAUTHORIZED');
    expect(await codeOf(anonymous.hostedMailboxes.quickSelection())).toBe('UNAUTHORIZED');
    expect(await db.hostedMailbox.findMany({ where: { email: { endsWith: d } }, select: { email: true } })).toEqual([{ email: `guarded@${d}` }]);
  });

  it('never answers with anything like a password', async () => {
    const { api } = await asAdmin();
    const d = domain();
    const customer = await seedOrganization(db, 'customer');
    const responses = [
      await api.hostedMailboxes.add({ email: `p@${d}`, username: 'p', server: `mail.${d}` }),
      await api.hostedMailboxes.list({ search: d }),
      await api.hostedMailboxes.importCsv({ text: `q@${d};q;S3cret;mail.${d};imap\nr@${d};r;mail.${d}` }),
      await (await callerFor(db, customer.user.id)).hostedMailboxes.quickSelection({ search: d }),
    ];
    for (const response of responses) expectNoPassword(response);
    const columns = await db.$queryRaw<{ column_name: string }[]>`SELECT column_name FROM information_schema.columns WHERE table_name = 'hosted_mailboxes'`;
    expect(columns.map((c) => c.column_name).sort()).toEqual(['created_at', 'email', 'id', 'server', 'type', 'username']);
  });
});
