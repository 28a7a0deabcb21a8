import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface SealingKey {
  id: string;
  key: Buffer;
}

/** The current key seals new values; older keys still open what they sealed until re-sealed. */
export interface KeyRing {
  current: SealingKey;
  all: ReadonlyMap<string, Buffer>;
}

export class KeyRingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyRingError';
  }
}

/**
 * Parses "id:base64key" entries (comma- or newline-separated, current key first). Keys are
 * 32 random bytes for AES-256; ids are short names that are stored beside each sealed value.
 */
export function parseKeyRing(text: string, source: string): KeyRing {
  const entries = text
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter((e) => e && !e.startsWith('#'));
  if (entries.length === 0) throw new KeyRingError(`${source} holds no sealing key`);
  const all = new Map<string, Buffer>();
  for (const entry of entries) {
    const match = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/=_-]+)$/.exec(entry);
    if (!match) throw new KeyRingError(`${source}: an entry is not "id:base64key"`);
    const key = Buffer.from(match[2]!, 'base64');
    if (key.length !== 32) throw new KeyRingError(`${source}: key "${match[1]}" must be 32 bytes (base64 of 32 random bytes)`);
    if (all.has(match[1]!)) throw new KeyRingError(`${source}: key id "${match[1]}" appears twice`);
    all.set(match[1]!, key);
  }
  const [id, key] = [...all.entries()][0]!;
  return { current: { id, key }, all };
}

export function newKeyEntry(id = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/**
 * The sealing keys, never from the database: MAILFERRY_SEALING_KEYS, or the file named by
 * MAILFERRY_SEALING_KEY_FILE, or else `sealing-keys` in the data folder, created with one new
 * key on first use. Every process that handles credentials (web, workers) must see the same keys.
 */
export async function loadKeyRing(options: { env: Record<string, string | undefined>; dataDir: string }): Promise<KeyRing> {
  const inline = options.env.MAILFERRY_SEALING_KEYS?.trim();
  if (inline) return parseKeyRing(inline, 'MAILFERRY_SEALING_KEYS');
  const configured = options.env.MAILFERRY_SEALING_KEY_FILE?.trim();
  if (configured) {
    if (!existsSync(configured)) throw new KeyRingError(`MAILFERRY_SEALING_KEY_FILE: ${configured} does not exist`);
    return parseKeyRing(await fs.readFile(configured, 'utf8'), configured);
  }
  const file = path.join(options.dataDir, 'sealing-keys');
  if (!existsSync(file)) {
    await fs.mkdir(options.dataDir, { recursive: true });
    // wx: two processes starting at once must not both create a key.
    await fs.writeFile(file, `# current key first; older keys below stay readable for rotation\n${newKeyEntry()}\n`, { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
  return parseKeyRing(await fs.readFile(file, 'utf8'), file);
}
