/**
 * The portal's groupware pass between the three groupware protocols: a zimbra → exchange
 * migration (a real Radicale to the EWS test server) and then an exchange → office365 one (EWS
 * to the Microsoft Graph test server, through the organization's app). Each pass's counts reach
 * the migration's rows; what Microsoft 365 has no place for (a meeting's attendees, which it
 * would invite) is stored and shown as copied with changes; nobody is invited; a rerun adds
 * nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearAppTokenCache } from '@/server/accounts/m365/oauth';
import { keyRing } from '@/server/crypto/runtime';
import type { Db } from '@/server/db';
import { openAccounts } from '@/server/migrations/accounts';
import { createMigration } from '@/server/migrations/create-migration';
import { runGroupwarePass, type GroupwarePassOptions } from '@/server/migrations/groupware-pass';
import { getMigrationDetail } from '@/server/migrations/migration-detail';
import { DEFAULT_ALLOWED_PORTS } from '@/server/accounts/network/host-policy';
import { parseHostRules } from '@/server/accounts/network/host-rules';
import type { AccountInput } from '@/server/accounts/schemas';
import { generateGroupwareCorpus } from '@/scripts/groupware-corpus/corpus';
import { loadCorpus } from '@/scripts/groupware-corpus/load';
import { isolatedDb, seedOrganization } from './helpers/database';
import { startEwsServer, type EwsServer, type EwsUser } from './helpers/ews-server';
import { startMicrosoftServer, type MicrosoftServer, type MicrosoftTenant } from './helpers/microsoft-server';
import { startRadicale, type RadicaleServer } from './helpers/radicale';

const database = isolatedDb();
let db: Db;
beforeAll(() => {
  db = database.db();
});

const TENANT_ID = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const APP = { clientId: '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e', clientSecret: 'Portal~app.secret-0042' };
const MAILBOX = 'carla@fabrikam.test';
const davPassword = 'Dav "pass" 3';
const exchangeUser: EwsUser = { email: 'carla@contoso.test', username: 'CONTOSO\\carla', password: 'Ex;change "pässword" 5' };

const tenant: MicrosoftTenant = {
  id: TENANT_ID,
  domains: ['fabrikam.test'],
  apps: [{ ...APP, roles: ['Calendars.ReadWrite', 'Contacts.ReadWrite', 'Tasks.ReadWrite.All'] }],
  users: [{ userPrincipalName: MAILBOX }, { userPrincipalName: 'dora@fabrikam.test' }],
};

let radicale: RadicaleServer;
let exchange: EwsServer;
let microsoft: MicrosoftServer;

beforeAll(async () => {
  [radicale, exchange, microsoft] = await Promise.all([
    startRadicale({ users: [{ username: 'carla', password: davPassword }] }),
    startEwsServer({ users: [exchangeUser], tls: false }),
    startMicrosoftServer({ tenants: [tenant] }),
  ]);
  clearAppTokenCache();
}, 60_000);
afterAll(async () => {
  await Promise.all([radicale?.stop(), exchange?.stop(), microsoft?.stop()]);
});

function policy(): GroupwarePassOptions['policy'] {
  return {
    allow: parseHostRules('127.0.0.0/8').rules,
    insecure: parseHostRules('127.0.0.1').rules,
    extraCaPem: microsoft.caCertPem,
    allowedPorts: [...DEFAULT_ALLOWED_PORTS, radicale.port, exchange.port, new URL(microsoft.graphBaseUrl).port, new URL(microsoft.authorityHost).port].map(Number),
  };
}

const zimbra = (): AccountInput => ({ type: 'zimbra', email: 'carla@old.test', username: 'carla', password: davPassword, server: 'imap://127.0.0.1:143', groupwareUrl: radicale.url });
const onExchange = (): AccountInput => ({ type: 'exchange', email: exchangeUser.email, username: exchangeUser.username, password: exchangeUser.password, server: 'imap://127.0.0.1:143', groupwareUrl: exchange.ewsUrl });
const onMicrosoft365 = (): AccountInput => ({ type: 'office365', email: MAILBOX, username: MAILBOX, password: '', server: '' });

async function migration(organizationId: string, source: AccountInput, target: AccountInput): Promise<string> {
  const { id } = await createMigration(db, await keyRing(), { organizationId, createdByUserId: null, source, target, startAt: new Date(Date.now() - 1000), resyncAt: null });
  await db.$executeRaw`SELECT graphile_worker.remove_job(${`migration:${id}`}::text)`;
  return id;
}

async function pass(id: string) {
  return runGroupwarePass(db, id, {
    ...(await openAccounts(db, await keyRing(), id)),
    policy: policy(),
    checkpoint: async () => undefined,
    deadline: Date.now() + 300_000,
    microsoft365: { tenantId: TENANT_ID, ...APP },
    microsoftEndpoints: { authorityHost: microsoft.authorityHost, graphBaseUrl: microsoft.graphBaseUrl, imapServer: { host: '127.0.0.1', port: 993, security: 'tls' } },
  });
}

const sum = (rows: { copied: number; updated: number; failed: number; items: number; present: number }[], key: 'copied' | 'updated' | 'failed' | 'items' | 'present') => rows.reduce((n, r) => n + r[key], 0);

describe('groupware between CalDAV/CardDAV, Exchange and Microsoft 365 in a portal migration', () => {
  it('zimbra → exchange → office365: every collection counted, attendees kept in the text on Microsoft 365 and listed, nobody invited, reruns add nothing', async () => {
    const corpus = generateGroupwareCorpus({ seed: 'portal-microsoft', scale: 0.05 });
    const items = corpus.reduce((n, c) => n + c.items.length, 0);
    await loadCorpus({ serverUrl: radicale.url, username: 'carla', password: davPassword }, corpus);
    const { organization } = await seedOrganization(db, 'customer');

    const toExchange = await migration(organization.id, zimbra(), onExchange());
    const first = await pass(toExchange);
    expect(first.isComplete).toBe(true);
    const exchangeRows = await db.migrationGroupwareCollection.findMany({ where: { migrationId: toExchange } });
    expect(exchangeRows.map((r) => r.kind).sort()).toEqual(corpus.map((c) => c.kind).sort());
    expect(sum(exchangeRows, 'items')).toBe(items);
    // What the target refused is named, never silently left out.
    const refusedOnExchange = await db.migrationGroupwareIssue.count({ where: { migrationId: toExchange } });
    expect(sum(exchangeRows, 'copied') + refusedOnExchange).toBe(items);
    expect(exchange.sentMail(exchangeUser.email)).toEqual([]);

    const again = await pass(toExchange);
    expect(again.isComplete).toBe(true);
    expect(again.collections.reduce((n, c) => n + c.copied + c.updated, 0)).toBe(0);

    const toMicrosoft = await migration(organization.id, onExchange(), onMicrosoft365());
    const second = await pass(toMicrosoft);
    expect(second.isComplete).toBe(true);
    const microsoftRows = await db.migrationGroupwareCollection.findMany({ where: { migrationId: toMicrosoft } });
    expect(sum(microsoftRows, 'items')).toBe(sum(exchangeRows, 'copied'));
    expect(microsoft.sentMail(MAILBOX)).toEqual([]);

    // Meetings with attendees are in the corpus: Microsoft 365 got them without, and the page says so.
    const detail = await getMigrationDetail(db, organization.id, toMicrosoft, 'UTC');
    const attendees = detail.groupwareChanged.find((g) => g.component === 'VEVENT' && g.property === 'ATTENDEE');
    expect(attendees?.items).toBeGreaterThan(0);
    expect(attendees?.reason).toMatch(/text/i);
    expect(detail.groupwareChangedItems).toBeGreaterThanOrEqual(attendees!.items);
    expect(detail.groupwareLine).toMatch(/without attendees/);

    const rerun = await pass(toMicrosoft);
    expect(rerun.collections.reduce((n, c) => n + c.copied + c.updated, 0)).toBe(0);
    expect(microsoft.sentMail(MAILBOX)).toEqual([]);
  }, 240_000);

  it('kolab → office365 straight: counted, attendees listed, nobody invited', async () => {
    const corpus = generateGroupwareCorpus({ seed: 'portal-kolab-m365', scale: 0.03 });
    const user = 'dora';
    await radicale.addUser({ username: user, password: davPassword });
    await loadCorpus({ serverUrl: radicale.url, username: user, password: davPassword }, corpus);
    const { organization } = await seedOrganization(db, 'customer');
    const kolab: AccountInput = { type: 'kolab', email: 'dora@old.test', username: user, password: davPassword, server: 'imap://127.0.0.1:143', groupwareUrl: radicale.url };
    const id = await migration(organization.id, kolab, { ...onMicrosoft365(), email: 'dora@fabrikam.test', username: 'dora@fabrikam.test' });
    const result = await pass(id);
    expect(result.isComplete).toBe(true);
    const rows = await db.migrationGroupwareCollection.findMany({ where: { migrationId: id } });
    const refused = await db.migrationGroupwareIssue.findMany({ where: { migrationId: id } });
    expect(sum(rows, 'items')).toBe(corpus.reduce((n, c) => n + c.items.length, 0));
    expect(sum(rows, 'copied') + refused.length).toBe(sum(rows, 'items'));
    // Contact groups have no Microsoft 365 form: named, with the reason.
    for (const issue of refused) expect(`${issue.kind}: ${issue.reason}`).toMatch(/^contacts: a group \(KIND:group\): Microsoft 365 contact folders hold people, not groups$/);
    expect(microsoft.sentMail('dora@fabrikam.test')).toEqual([]);
    const detail = await getMigrationDetail(db, organization.id, id, 'UTC');
    expect(detail.groupwareChanged.some((g) => g.property === 'ATTENDEE')).toBe(true);
  }, 120_000);
});
