/**
 * A copy in a process of its own, for tests that kill it: `node --import tsx
 * test/helpers/copy-child.ts` with the endpoints and options as JSON in MAILFERRY_COPY_CHILD.
 * Small batches make it checkpoint often, and every checkpoint is written at once, so a kill
 * lands while one batch is being checkpointed and the next one is already being stored.
 */
import { DEFAULT_ALLOWED_PORTS, type NetworkPolicy } from '@/server/accounts/network/host-policy';
import { parseHostRules } from '@/server/accounts/network/host-rules';
import { copyMailbox } from '@/server/engine/copy-mailbox';
import { FileStateStore } from '@/server/engine/state';

interface ChildOptions {
  port: number;
  source: { user: string; pass: string };
  target: { user: string; pass: string };
  stateFile: string;
  batchMessages: number;
}

const options = JSON.parse(process.env.MAILFERRY_COPY_CHILD ?? '{}') as ChildOptions;
const server = { host: '127.0.0.1', port: options.port, security: 'starttls' as const };
const policy: NetworkPolicy = { allow: parseHostRules('127.0.0.0/8').rules, insecure: parseHostRules('127.0.0.1').rules, extraCaPem: null, allowedPorts: [...DEFAULT_ALLOWED_PORTS, options.port] };
const state = new FileStateStore(options.stateFile, 0);
const summary = await copyMailbox({
  source: { server, auth: () => options.source },
  target: { server, auth: () => options.target },
  policy,
  state,
  batchMessages: options.batchMessages,
});
await state.close();
process.stdout.write(`${JSON.stringify(summary.messages)}\n`);
process.exit(0);
