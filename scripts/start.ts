/**
 * `npm start`: the embedded database (unless DATABASE_URL is set), migrations, the first
 * admin, a production build when the sources changed, the web server and one worker.
 * SIGTERM or Ctrl-C stops them all cleanly.
 */
import { validatePolicyEnv } from '@/server/accounts/network-settings';
import { ensureAdmin } from '@/server/auth/bootstrap-admin';
import { loadKeyRing } from '@/server/crypto/keyring';
import { createDb } from '@/server/db';
import { EnvError, parseEnv } from '@/server/env';
import { createLogger } from '@/server/logger';
import { loadLocalSecrets, resolveDataDir } from '@/server/runtime/data-dir';
import { prepareDatabase } from '@/server/runtime/database';
import { buildIfStale, startWebServer } from '@/server/runtime/web-server';
import { startWorker } from '@/workers/runner';

const log = createLogger('start');
const dev = process.argv.includes('--dev');

async function main(): Promise<void> {
  let env;
  try {
    env = parseEnv();
  } catch (error) {
    if (error instanceof EnvError) {
      console.error(`Mailferry cannot start. ${error.message}`);
      process.exit(1);
    }
    throw error;
  }

  const dataDir = resolveDataDir(env.MAILFERRY_DATA_DIR);
  process.env.MAILFERRY_DATA_DIR = dataDir;
  try {
    validatePolicyEnv(env);
    // Creates the sealing key file on first start, before the web server and workers read it.
    await loadKeyRing({ env: process.env, dataDir });
  } catch (error) {
    console.error(`Mailferry cannot start. ${(error as Error).message}`);
    process.exit(1);
  }
  // Signals are handled from here on, also while starting: whatever has started is stopped
  // in reverse order (the database and the build run in process groups of their own).
  const cleanups: (() => Promise<void>)[] = [];
  const stop = new AbortController();
  let shuttingDown: Promise<void> | undefined;
  const shutdown = (code: number) => {
    shuttingDown ??= (async () => {
      stop.abort();
      for (const cleanup of cleanups.reverse()) await cleanup().catch((error: Error) => log.error('shutdown step failed', { error }));
      process.exit(code);
    })();
    return shuttingDown;
  };
  let isStarted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) return;
    log.info(`${signal} received, stopping`);
    if (isStarted) void shutdown(0);
    else stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const stopIfAsked = async () => {
    if (stop.signal.aborted) await shutdown(0);
  };

  const secrets = await loadLocalSecrets(dataDir);
  const database = await prepareDatabase(env, dataDir, secrets.postgresPassword);
  cleanups.push(() => database.stop());
  await stopIfAsked();

  try {
    const db = createDb(database.url);
    const admin = await ensureAdmin(db, env);
    await db.$disconnect();
    if (admin.created && admin.generatedPassword) {
      console.log(
        `\n  First start: an administrator was created.\n    email:    ${admin.email}\n    password: ${admin.generatedPassword}\n  This password is shown only now. Sign in and keep it safe.\n`,
      );
    } else if (admin.created) {
      log.info('administrator created from MAILFERRY_ADMIN_EMAIL', { email: admin.email });
    }

    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      // Absolute, so the web server and workers find the same data folder whatever their cwd.
      MAILFERRY_DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      NEXTAUTH_SECRET: env.NEXTAUTH_SECRET ?? secrets.nextauthSecret,
      NEXTAUTH_URL: env.NEXTAUTH_URL ?? `http://localhost:${env.PORT}`,
      NEXT_TELEMETRY_DISABLED: '1',
    };
    if (!dev) await buildIfStale(childEnv, stop.signal);
    await stopIfAsked();

    // A worker that must take itself for dead (server/jobs/heartbeat.ts) may not finish its jobs:
    // another worker may hold them already. Everything else stops as with a signal, and `npm
    // start` ends with an error for its supervisor to start it again.
    let isWorkerLost = false;
    const worker = await startWorker({
      connectionString: database.url,
      concurrency: env.MAILFERRY_WORKER_CONCURRENCY,
      onLost: (reason) => {
        log.error(`the worker stops at once: ${reason}. Its jobs go to another worker; start Mailferry again.`);
        isWorkerLost = true;
        void shutdown(1);
      },
    });
    cleanups.push(() => (isWorkerLost ? Promise.resolve() : worker.stop()));
    const web = startWebServer({ port: env.PORT, hostname: env.MAILFERRY_HOST, dev, env: { ...childEnv, NODE_ENV: dev ? 'development' : 'production' } });
    cleanups.push(() => web.stop());
    log.info(`Mailferry is starting on ${childEnv.NEXTAUTH_URL}`);
    isStarted = true;
    await stopIfAsked();

    void web.exited.then((code) => {
      if (shuttingDown) return;
      log.error('the web server stopped unexpectedly', { code });
      void shutdown(1);
    });
    void worker.done.catch((error: Error) => {
      if (shuttingDown) return;
      log.error('the worker stopped unexpectedly', { error });
      void shutdown(1);
    });
  } catch (error) {
    if (stop.signal.aborted) return void (await shutdown(0));
    log.error((error as Error).message);
    await shutdown(1);
  }
}

main().catch((error: Error) => {
  console.error(`Mailferry could not start: ${error.message}`);
  process.exit(1);
});
