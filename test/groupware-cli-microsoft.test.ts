/**
 * `ferry groupware copy` with the three kinds of account it takes: a CalDAV/CardDAV URL (a real
 * Radicale), an Exchange mailbox (`ews+http://DOMAIN%5Cuser@host/EWS/Exchange.asmx?mailbox=`,
 * the EWS test server) and a Microsoft 365 mailbox (`graph:ADDRESS`, the Graph test server,
 * through the organization's app). The JSON keeps its two keys; what Microsoft 365 has no place
 * for is printed as copied with changes; a rerun copies nothing; nobody is invited.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroupwareCopyReport } from '@/server/cli/groupware-command';
import { generateGroupwareCorpus } from '@/scripts/groupware-corpus/corpus';
import { loadCorpus } from '@/scripts/groupware-corpus/load';
import { runNode, type ExitResult } from './helpers/child-process';
import { startEwsServer, type EwsServer, type EwsUser } from './helpers/ews-server';
import { startMicrosoftServer, type MicrosoftServer, type MicrosoftTenant } from './helpers/microsoft-server';
import { startRadicale, type RadicaleServer } from './helpers/radicale';

const ferryScript = path.resolve('scripts/ferry.mjs');
const TENANT_ID = '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f';
const APP = { clientId: '4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a', clientSecret: 'Cli~app.secret-0099' };
const MAILBOX = 'erik@fabrikam.test';
const davPassword = 'Dav-cli "pass" 8';
const exchangeUser: EwsUser = { email: 'erik@contoso.test', username: 'CONTOSO\\erik', password: 'Cli;exchange "pässword" 2' };
const tenant: MicrosoftTenant = {
  id: TENANT_ID,
  domains: ['fabrikam.test'],
  apps: [{ ...APP, roles: ['Calendars.ReadWrite', 'Contacts.ReadWrite', 'Tasks.ReadWrite.All'] }],
  users: [{ userPrincipalName: MAILBOX }],
};

let radicale: RadicaleServer;
let exchange: EwsServer;
let microsoft: MicrosoftServer;
let dir: string;

beforeAll(async () => {
  [radicale, exchange, microsoft] = await Promise.all([
    startRadicale({ users: [{ username: 'erik', password: davPassword }] }),
    startEwsServer({ users: [exchangeUser], tls: false }),
    startMicrosoftServer({ tenants: [tenant] }),
  ]);
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mailferry-groupware-cli-'));
  await fs.writeFile(path.join(dir, 'ca.pem'), microsoft.caCertPem);
  await fs.writeFile(path.join(dir, 'dav'), `${davPassword}\n`);
  await fs.writeFile(path.join(dir, 'exchange'), `${exchangeUser.password}\n`);
}, 60_000);
afterAll(async () => {
  await Promise.all([radicale?.stop(), exchange?.stop(), microsoft?.stop()]);
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

function ferry(from: string, to: string, state: string, passwordFiles: { from?: string; to?: string }): Promise<ExitResult> {
  const ports = [radicale.port, exchange.port, new URL(microsoft.graphBaseUrl).port, new URL(microsoft.authorityHost).port].map((p) => `127.0.0.1/32:${p}`).join(',');
  const args = [ferryScript, 'groupware', 'copy', '--from', from, '--to', to, '--state', path.join(dir, state), '--json', '--tenant-id', TENANT_ID, '--client-id', APP.clientId];
  if (passwordFiles.from) args.push('--from-password-file', path.join(dir, passwordFiles.from));
  if (passwordFiles.to) args.push('--to-password-file', path.join(dir, passwordFiles.to));
  return runNode(args, {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOME: path.join(dir, 'home'),
      MAILFERRY_ALLOWED_HOSTS: ports,
      MAILFERRY_INSECURE_HOSTS: '127.0.0.1',
      MAILFERRY_TRUSTED_CA_FILE: path.join(dir, 'ca.pem'),
      MAILFERRY_MICROSOFT_GRAPH: microsoft.graphBaseUrl,
      MAILFERRY_MICROSOFT_AUTHORITY: microsoft.authorityHost,
      MAILFERRY_CLIENT_SECRET: APP.clientSecret,
    },
  });
}

function report(run: ExitResult, codes: number[]): GroupwareCopyReport {
  expect(codes, `${run.stdout}\n${run.stderr}`).toContain(run.code);
  const lines = run.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  const parsed = JSON.parse(lines[0]!) as GroupwareCopyReport;
  expect(Object.keys(parsed).sort()).toEqual(['collections', 'seconds']);
  for (const c of parsed.collections) expect(c.copied + c.updated + c.skipped + c.failed, c.source).toBe(c.items);
  return parsed;
}

const sum = (r: GroupwareCopyReport, key: 'items' | 'copied' | 'updated' | 'failed') => r.collections.reduce((n, c) => n + c[key], 0);

describe('ferry groupware copy between CalDAV/CardDAV, Exchange and Microsoft 365', () => {
  it('Radicale → Exchange → Microsoft 365 by account URLs; changes on stderr; reruns copy nothing; no invitation', async () => {
    const corpus = generateGroupwareCorpus({ seed: 'cli-microsoft', scale: 0.04 });
    const items = corpus.reduce((n, c) => n + c.items.length, 0);
    await loadCorpus({ serverUrl: radicale.url, username: 'erik', password: davPassword }, corpus);
    const dav = `${radicale.url.replace('http://', 'http://erik@')}`;
    const ews = `ews+${exchange.ewsUrl.replace('http://', `http://${encodeURIComponent(exchangeUser.username)}@`)}?mailbox=${encodeURIComponent(exchangeUser.email)}`;
    const graph = `graph:${MAILBOX}`;

    const toExchange = report(await ferry(dav, ews, 'a.json', { from: 'dav', to: 'exchange' }), [0]);
    expect(sum(toExchange, 'items')).toBe(items);
    expect(sum(toExchange, 'copied')).toBe(items);
    const toMicrosoft = await ferry(ews, graph, 'b.json', { from: 'exchange' });
    // Contact groups have no Microsoft 365 form: listed, exit 3.
    const second = report(toMicrosoft, [0, 3]);
    expect(sum(second, 'copied') + sum(second, 'failed')).toBe(items);
    expect(toMicrosoft.stderr).toMatch(/Copied with changes \(\d+ items?; the target has no place for\):/);
    expect(toMicrosoft.stderr).toMatch(/× VEVENT ATTENDEE: /);
    expect(toMicrosoft.stderr).not.toContain(exchangeUser.password);

    const again = report(await ferry(ews, graph, 'b.json', { from: 'exchange' }), [0, 3]);
    expect(sum(again, 'copied') + sum(again, 'updated')).toBe(0);
    expect(exchange.sentMail(exchangeUser.email)).toEqual([]);
    expect(microsoft.sentMail(MAILBOX)).toEqual([]);

    // Wrong usage is named: a Microsoft 365 mailbox needs the app, an Exchange URL a mailbox.
    const noMailbox = await ferry(dav, ews.replace(/\?mailbox=.*$/, ''), 'c.json', { from: 'dav', to: 'exchange' });
    expect(noMailbox.code).not.toBe(0);
    expect(`${noMailbox.stdout}${noMailbox.stderr}`).toMatch(/Say which mailbox/);
  }, 180_000);
});
