import { env } from '../env';
import { resolveDataDir } from '../runtime/data-dir';
import { loadKeyRing, type KeyRing } from './keyring';

let ring: Promise<KeyRing> | undefined;

/** This process's sealing keys (see keyring.ts for where they come from), loaded once. */
export function keyRing(): Promise<KeyRing> {
  ring ??= loadKeyRing({ env: process.env, dataDir: resolveDataDir(env().MAILFERRY_DATA_DIR) }).catch((error: unknown) => {
    ring = undefined;
    throw error;
  });
  return ring;
}
