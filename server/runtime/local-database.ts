import type { Env } from '../env';
import { loadLocalSecrets, resolveDataDir } from './data-dir';
import { EMBEDDED_DATABASE, EMBEDDED_USER } from './database';

/**
 * The database URL for a helper process (extra worker, CLI): DATABASE_URL, or the embedded
 * database that `npm start` runs on this machine with the credentials in its data folder.
 */
export async function localDatabaseUrl(env: Env): Promise<string> {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  const secrets = await loadLocalSecrets(resolveDataDir(env.MAILFERRY_DATA_DIR));
  return `postgresql://${EMBEDDED_USER}:${encodeURIComponent(secrets.postgresPassword)}@127.0.0.1:${env.MAILFERRY_PG_PORT}/${EMBEDDED_DATABASE}`;
}
