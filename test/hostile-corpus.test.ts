import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDovecot, type DovecotServer } from './helpers/dovecot';
import { fillHostileCorpus, hostileFolders, PUNCTUATION } from './helpers/hostile-corpus';

const password = 'hostile-Test-pw';
let dovecot: DovecotServer;

describe('hostile corpus on Dovecot', () => {
  beforeAll(async () => {
    dovecot = await startDovecot({ users: [{ username: 'hostile@example.test', password }], tls: 'none' });
  });
  afterAll(async () => dovecot?.stop());

  it('is the same every time it is built', () => {
    const a = hostileFolders();
    const b = hostileFolders();
    expect(a.map((f) => f.messages.map((m) => m.raw.toString('base64')))).toEqual(b.map((f) => f.messages.map((m) => m.raw.toString('base64'))));
    expect(a.filter((f) => f.label.startsWith('punctuation ')).map((f) => f.levels[0]!.slice(-1)).join('')).toBe(PUNCTUATION);
  });

  it('fills the account and says what the source holds', async () => {
    const manifest = await fillHostileCorpus({ host: '127.0.0.1', port: dovecot.port, user: 'hostile@example.test', password });
    if (process.env.HOSTILE_DEBUG) console.log(JSON.stringify({ ...manifest, folders: manifest.folders.map((f) => `${f.path} ${f.messages}${f.isSelectable ? "" : " noselect"}`) }, null, 1));
    expect(manifest.server.separator).toBe('/');
    expect(manifest.folders.find((f) => f.label === 'German Sent folder by name only')?.messages).toBe(40);
    expect(manifest.folders.find((f) => f.label === 'parent only through its child')?.isSelectable).toBe(false);
    expect(manifest.totalMessages).toBe(manifest.folders.reduce((n, f) => n + f.messages, 0));
  });
});
