/**
 * Test fixtures: a database connection to the e2e server's own database, seed builders that
 * create organizations through the domain functions (not the UI), and sign-in helpers.
 */
import { test as base, expect, type Locator, type Page } from '@playwright/test';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AccountType } from '@/server/accounts/types';
import { createDb, type Db } from '@/server/db';
import { issueKeys } from '@/server/licensing/keys';
import type { KeySize } from '@/server/licensing/schemas';
import { registerKey } from '@/server/licensing/registration';
import { createCustomer, createReseller } from '@/server/organizations/organizations';
import { appendDovecotUser } from '../test/helpers/dovecot';
import { fillMailbox, makeMessage, openImap } from '../test/helpers/mailbox';
import { e2e, type E2eMailServer } from './env';

export interface SeededOrganization {
  organization: { id: string; name: string };
  email: string;
  password: string;
}

export interface SeedOptions {
  /** Organization name; a unique suffix is added unless `exactName` is set. */
  name?: string;
  exactName?: boolean;
  /** First user's display name. */
  userName?: string;
  /** First user's email; by default a unique one. */
  email?: string;
}

export interface Seed {
  /** A customer organization with one user; `resellerId` places it under a reseller. */
  customer(options?: SeedOptions & { resellerId?: string }): Promise<SeededOrganization>;
  /** A reseller organization with one user. */
  reseller(options?: SeedOptions): Promise<SeededOrganization>;
  /** An email address no other test uses. */
  email(prefix?: string): string;
  /** A valid password (≥ 12 characters). */
  password(): string;
  /** Registers a licence of `size` migrations to the organization: it is then in commercial mode. */
  licence(organization: SeededOrganization, size?: KeySize): Promise<void>;
  /** A hosted mailbox for the migration form's quick selection (installation-wide). */
  hostedMailbox(mailbox: { email: string; username?: string; server: string; type?: AccountType }): Promise<void>;
}

/** The run's private Dovecot (started by e2e/server.ts), which the portal may reach. */
export interface MailServer {
  /** As a customer types it in the server field. */
  server: string;
  /** A new mailbox whose login is its address, with `messages` messages in its INBOX. */
  mailbox(prefix?: string, options?: { messages?: number }): Promise<{ email: string; password: string }>;
}

export const admin = { email: e2e.adminEmail, password: e2e.adminPassword };

function databaseUrl(): string {
  // Written by the e2e server's first start; the fixtures only run once it is up.
  const secrets = JSON.parse(readFileSync(path.join(e2e.dataDir, 'secrets.json'), 'utf8')) as { postgresPassword: string };
  return `postgresql://mailferry:${encodeURIComponent(secrets.postgresPassword)}@127.0.0.1:${e2e.pgPort}/mailferry`;
}

const suffix = () => randomUUID().slice(0, 8);

export const test = base.extend<{ seed: Seed; mail: MailServer }, { db: Db; adminId: string }>({
  db: [
    async ({}, use) => {
      const db = createDb(databaseUrl());
      await use(db);
      await db.$disconnect();
    },
    { scope: 'worker' },
  ],
  adminId: [
    async ({ db }, use) => {
      const user = await db.user.findUniqueOrThrow({ where: { email: e2e.adminEmail }, select: { id: true, role: true } });
      expect(user.role).toBe('admin');
      await use(user.id);
    },
    { scope: 'worker' },
  ],
  seed: async ({ db, adminId }, use) => {
    const email = (prefix = 'user') => `${prefix}-${suffix()}@e2e.mailferry.test`;
    const password = () => `pw-${randomBytes(12).toString('base64url')}`;
    const nameOf = (options: SeedOptions | undefined, fallback: string) =>
      options?.exactName && options.name ? options.name : `${options?.name ?? fallback} ${suffix()}`;
    const build = async (kind: 'customer' | 'reseller', options: (SeedOptions & { resellerId?: string }) | undefined) => {
      const user = { email: options?.email ?? email(kind), name: options?.userName, password: password() };
      const name = nameOf(options, kind === 'customer' ? 'Customer' : 'Reseller');
      const organization =
        kind === 'customer'
          ? await createCustomer(db, { userId: adminId }, { name, resellerId: options?.resellerId, user })
          : await createReseller(db, { userId: adminId }, { name, user });
      return { organization: { id: organization.id, name: organization.name }, email: user.email, password: user.password };
    };
    const licence = async (seeded: SeededOrganization, size: KeySize = 5) => {
      const { keys } = await issueKeys(db, null, { resellerId: null, size, count: 1 });
      const user = await db.user.findUniqueOrThrow({ where: { email: seeded.email }, select: { id: true } });
      await registerKey(db, { organizationId: seeded.organization.id, actor: { userId: user.id } }, { key: keys[0]!.key });
    };
    const hostedMailbox: Seed['hostedMailbox'] = async (mailbox) => {
      await db.hostedMailbox.create({ data: { email: mailbox.email, username: mailbox.username ?? mailbox.email, server: mailbox.server, type: mailbox.type ?? 'imap' } });
    };
    await use({
      customer: (options) => build('customer', options),
      reseller: (options) => build('reseller', options),
      email,
      password,
      licence,
      hostedMailbox,
    });
  },
  mail: async ({}, use) => {
    const server = JSON.parse(readFileSync(e2e.mailServerFile, 'utf8')) as E2eMailServer;
    await use({
      server: `imap://${server.host}:${server.port}`,
      async mailbox(prefix = 'mailbox', options = {}) {
        const account = { email: `${prefix}-${suffix()}@mail.e2e.test`, password: `pw-${randomBytes(9).toString('base64url')}` };
        await appendDovecotUser(server.usersFile, { username: account.email, password: account.password });
        if (options.messages) {
          const client = await openImap(server.port, account.email, account.password, server.host);
          try {
            await fillMailbox(client, Array.from({ length: options.messages }, (_, i) => ({ folder: 'INBOX', raw: makeMessage({ subject: `Message ${i + 1}`, bodyBytes: 2000 }) })));
          } finally {
            await client.logout().catch(() => client.close());
          }
        }
        return account;
      },
    });
  },
});

export { expect };

/** Signs in through the login form and waits until the portal has loaded. */
/**
 * Picks a hosted mailbox in a form section's quick selection: types `search`, waits until the
 * list shows only what matches it (results arrive after a short pause, and a list still
 * changing under the pointer can swallow a click), then clicks the mailbox `email`.
 */
export async function quickSelect(section: Locator, search: string, email: string): Promise<void> {
  await section.getByRole('combobox', { name: 'Quick selection' }).fill(search);
  const options = section.getByRole('listbox').getByRole('option');
  await expect(options.filter({ hasText: email })).toHaveCount(1);
  await expect(options.filter({ hasNotText: search })).toHaveCount(0);
  await options.filter({ hasText: email }).click();
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The login form goes to "/", which redirects to the role's first tab: wait for that page.
  await page.waitForURL((url) => url.pathname !== '/login' && url.pathname !== '/');
  await expect(page.getByRole('button', { name: 'Account menu' })).toBeVisible();
  await expect(page.getByRole('main').getByRole('heading', { level: 1 })).toBeVisible();
}

/** Signs out through the user menu and waits for the login page. */
export async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Account menu' }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
}
