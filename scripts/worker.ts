/**
 * `npm run worker`: one more worker process. Run it on any machine that reaches the same
 * DATABASE_URL (on the machine running `npm start`, the embedded database is found by itself).
 */
import { EnvError, parseEnv } from '@/server/env';
import { createLogger } from '@/server/logger';
import { localDatabaseUrl } from '@/server/runtime/local-database';
import { startWorker } from '@/workers/runner';

const log = createLogger('worker');

async function main(): Promise<void> {
  const env = parseEnv();
  const worker = await startWorker({ connectionString: await localDatabaseUrl(env), concurrency: env.MAILFERRY_WORKER_CONCURRENCY });
  const stop = (signal: NodeJS.Signals) => {
    log.info(`${signal} received, finishing running jobs`);
    void worker.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await worker.done;
}

main().catch((error: Error) => {
  console.error(error instanceof EnvError ? `The worker cannot start. ${error.message}` : `The worker stopped: ${error.message}`);
  process.exit(1);
});
