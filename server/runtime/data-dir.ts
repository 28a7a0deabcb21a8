import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Not `new URL('../..', import.meta.url)`: Turbopack reads that pattern as an asset import of a
// folder and fails the web build. (The web process gets an absolute MAILFERRY_DATA_DIR from start.ts.)
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function resolveDataDir(configured: string | undefined): string {
  return path.resolve(projectRoot, configured ?? '.data');
}

export interface LocalSecrets {
  postgresPassword: string;
  nextauthSecret: string;
}

/**
 * Secrets this installation generates for itself on first start (database password, session
 * signing key), kept in the data folder with mode 0600 so a restart reuses them.
 */
export async function loadLocalSecrets(dataDir: string): Promise<LocalSecrets> {
  // 0711: others may pass through (the embedded database runs as user postgres in a
  // subfolder of its own) but not list it; the secrets file itself is 0600.
  await fs.mkdir(dataDir, { recursive: true, mode: 0o711 });
  await fs.chmod(dataDir, 0o711);
  const file = path.join(dataDir, 'secrets.json');
  const stored: Partial<LocalSecrets> = existsSync(file) ? JSON.parse(await fs.readFile(file, 'utf8')) : {};
  const secrets: LocalSecrets = {
    postgresPassword: stored.postgresPassword ?? randomBytes(24).toString('base64url'),
    nextauthSecret: stored.nextauthSecret ?? randomBytes(32).toString('base64url'),
  };
  if (stored.postgresPassword !== secrets.postgresPassword || stored.nextauthSecret !== secrets.nextauthSecret) {
    await fs.writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return secrets;
}
