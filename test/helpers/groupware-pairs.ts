/**
 * One set of test servers for the groupware pairs: a Radicale account loaded with the corpus
 * (the feeder for the Exchange and Microsoft 365 sources), two EWS test servers (the first
 * with a mailbox per pair that writes into it, the second with one), the Microsoft Graph test
 * server with one tenant of several mailboxes, and three Xandikos servers (one loaded with the
 * corpus as a DAV source, one target for each DAV pair that reads from Exchange or Microsoft
 * 365; Xandikos serves a single principal, so each account is a server of its own). Every
 * endpoint is the product's own.
 */
import { Agent, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';
import { acquireAppToken, clearAppTokenCache, GRAPH_SCOPE } from '@/server/accounts/m365/oauth';
import type { FetchLike } from '@/server/accounts/types';
import { DavEndpoint } from '@/server/engine/groupware/dav-endpoint';
import { EwsEndpoint } from '@/server/engine/groupware/ews/ews-target';
import { GraphEndpoint } from '@/server/engine/groupware/graph/graph-target';
import type { CorpusCollection } from '@/scripts/groupware-corpus/corpus';
import { loadCorpus } from '@/scripts/groupware-corpus/load';
import { startEwsServer, type EwsServer, type EwsUser } from './ews-server';
import { startMicrosoftServer, type MicrosoftServer, type MicrosoftTenant } from './microsoft-server';
import { startRadicale, type RadicaleServer } from './radicale';
import { startXandikos, type XandikosServer } from './xandikos';

const DAV_PASSWORD = 'correct horse battery';
const FEEDER = 'zimbra';
const TENANT_ID = '2f6a1c0e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
const APP = { clientId: '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a', clientSecret: 'Pa1rs~tenant.secret-0815' };

const ewsUser = (name: string): EwsUser => ({ email: `${name}@contoso.test`, username: `CONTOSO\\${name}`, password: `${name}-Ex "chänge" 2026` });

/** Mailboxes of the first EWS server: the source, and the target of each pair that writes into Exchange there. */
export const EXCHANGE_A = { source: ewsUser('anna'), fromExchange: ewsUser('ben'), fromOffice365: ewsUser('carl'), fromDav: ewsUser('dora') } as const;
/** The mailbox of the second EWS server (a copy across two Exchange organisations). */
export const EXCHANGE_B = { fromExchange: ewsUser('erik') } as const;
/** Microsoft 365 mailboxes of one tenant: the source, and the target of each pair that writes into Microsoft 365. */
export const OFFICE365 = { source: 'gina@fabrikam.test', fromOffice365: 'hugo@fabrikam.test', fromDav: 'iris@fabrikam.test' } as const;

export type XandikosRole = 'source' | 'fromExchange' | 'fromOffice365';

export interface PairServers {
  radicale: RadicaleServer;
  ewsA: EwsServer;
  ewsB: EwsServer;
  microsoft: MicrosoftServer;
  xandikos: Record<XandikosRole, XandikosServer>;
  /** The Radicale account holding the corpus. */
  feeder(): Promise<DavEndpoint>;
  dav(role: XandikosRole): Promise<DavEndpoint>;
  exchange(server: 'a' | 'b', user: EwsUser): EwsEndpoint;
  office365(user: string): GraphEndpoint;
  /** Every EWS mailbox with the server it is on, for "nothing was sent" checks. */
  ewsMailboxes: { server: EwsServer; user: EwsUser }[];
  office365Mailboxes: string[];
  stop(): Promise<void>;
}

/** Starts every server at once and loads the corpus into the feeder Radicale and the source Xandikos. */
export async function startPairServers(corpus: CorpusCollection[]): Promise<PairServers> {
  const tenant: MicrosoftTenant = {
    id: TENANT_ID,
    domains: ['fabrikam.test'],
    apps: [{ ...APP, roles: ['Calendars.ReadWrite', 'Contacts.ReadWrite', 'Tasks.ReadWrite.All'] }],
    users: Object.values(OFFICE365).map((userPrincipalName) => ({ userPrincipalName })),
  };
  const started = await Promise.allSettled([
    startRadicale({ users: [{ username: FEEDER, password: DAV_PASSWORD }] }),
    startEwsServer({ users: Object.values(EXCHANGE_A) }),
    startEwsServer({ users: Object.values(EXCHANGE_B) }),
    startMicrosoftServer({ tenants: [tenant] }),
    startXandikos(),
    startXandikos(),
    startXandikos(),
  ] as const);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    throw failed.reason;
  }
  const [radicale, ewsA, ewsB, microsoft, xSource, xFromExchange, xFromOffice365] = started.map((s) => (s as PromiseFulfilledResult<unknown>).value) as [
    RadicaleServer,
    EwsServer,
    EwsServer,
    MicrosoftServer,
    XandikosServer,
    XandikosServer,
    XandikosServer,
  ];
  const xandikos: Record<XandikosRole, XandikosServer> = { source: xSource, fromExchange: xFromExchange, fromOffice365: xFromOffice365 };
  const agent = new Agent({ connect: { ca: [ewsA.caCertPem!, ewsB.caCertPem!, microsoft.caCertPem] }, connections: 16 });
  const fetchTls: FetchLike = (input, init) => undiciFetch(input, { ...(init as UndiciRequestInit), dispatcher: agent }) as unknown as Promise<Response>;
  const plainFetch: FetchLike = (input, init) => fetch(input, init);
  const token = async ({ renewed }: { renewed: boolean }) => {
    if (renewed) clearAppTokenCache();
    const { accessToken } = await acquireAppToken({ tenantId: TENANT_ID, ...APP, scope: GRAPH_SCOPE, authorityHost: microsoft.authorityHost, fetch: fetchTls });
    return accessToken;
  };
  const servers: PairServers = {
    radicale,
    ewsA,
    ewsB,
    microsoft,
    xandikos,
    feeder: () => DavEndpoint.open({ serverUrl: radicale.url, username: FEEDER, password: DAV_PASSWORD, fetch: plainFetch }),
    // Xandikos leaves logins to a proxy in front of it: the credentials are sent and not checked.
    dav: (role) => DavEndpoint.open({ serverUrl: xandikos[role].url, username: 'user', password: DAV_PASSWORD, fetch: plainFetch }),
    exchange: (server, user) => new EwsEndpoint({ url: (server === 'a' ? ewsA : ewsB).ewsUrl, username: user.username, password: user.password, email: user.email, fetch: fetchTls }),
    office365: (user) => new GraphEndpoint({ graphBaseUrl: microsoft.graphBaseUrl, user, token, fetch: fetchTls }),
    ewsMailboxes: [...Object.values(EXCHANGE_A).map((user) => ({ server: ewsA, user })), ...Object.values(EXCHANGE_B).map((user) => ({ server: ewsB, user }))],
    office365Mailboxes: Object.values(OFFICE365),
    async stop() {
      await agent.close();
      await Promise.all([radicale.stop(), ewsA.stop(), ewsB.stop(), microsoft.stop(), ...Object.values(xandikos).map((x) => x.stop())]);
    },
  };
  try {
    await Promise.all([
      loadCorpus({ serverUrl: radicale.url, username: FEEDER, password: DAV_PASSWORD }, corpus, { concurrency: 8 }),
      loadCorpus({ serverUrl: xSource.url, username: 'user', password: DAV_PASSWORD }, corpus, { concurrency: 8 }),
    ]);
  } catch (error) {
    await servers.stop();
    throw error;
  }
  return servers;
}
