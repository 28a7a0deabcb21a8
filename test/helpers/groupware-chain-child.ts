/**
 * The Exchange → Microsoft 365 stage of the groupware chain in a process of its own, for the
 * test that kills it: `node --import tsx test/helpers/groupware-chain-child.ts` with the
 * connection (test/helpers/groupware-chain.ts ChainChildConnection) as JSON in
 * MAILFERRY_CHAIN_CHILD. The state is a file written at every checkpoint, small batches make
 * checkpoints often, so a kill lands between a checkpoint and the next items being written.
 */
import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';
import { acquireAppToken, clearAppTokenCache, GRAPH_SCOPE } from '@/server/accounts/m365/oauth';
import type { FetchLike } from '@/server/accounts/types';
import { copyGroupware } from '@/server/engine/groupware/copy-groupware';
import { EwsSource } from '@/server/engine/groupware/ews/ews-endpoint';
import { GraphEndpoint } from '@/server/engine/groupware/graph/graph-target';
import { FileGroupwareStateStore } from '@/server/engine/groupware/state';
import type { ChainChildConnection } from './groupware-chain';

const connection = JSON.parse(process.env.MAILFERRY_CHAIN_CHILD ?? '{}') as ChainChildConnection;
const agent = new Agent({ connect: { ca: connection.caFiles.map((file) => readFileSync(file, 'utf8')) } });
const fetchTls: FetchLike = (input, init) => undiciFetch(input, { ...(init as UndiciRequestInit), dispatcher: agent }) as unknown as Promise<Response>;
const { graph } = connection;
const state = new FileGroupwareStateStore(connection.stateFile, 0);
const summary = await copyGroupware({
  source: new EwsSource({ ...connection.ews, fetch: fetchTls }),
  target: new GraphEndpoint({
    graphBaseUrl: graph.graphBaseUrl,
    user: graph.user,
    fetch: fetchTls,
    token: async ({ renewed }) => {
      if (renewed) clearAppTokenCache();
      const { accessToken } = await acquireAppToken({ tenantId: graph.tenantId, clientId: graph.clientId, clientSecret: graph.clientSecret, scope: GRAPH_SCOPE, authorityHost: graph.authorityHost, fetch: fetchTls });
      return accessToken;
    },
  }),
  state,
  batchSize: connection.batchSize,
  concurrency: 2,
});
await state.close();
process.stdout.write(`${JSON.stringify(summary.collections)}\n`);
process.exit(0);
