import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillHostileCorpus, hostileFolders, PUNCTUATION } from './helpers/hostile-corpus';
import { IMAP_SERVER_KINDS, startImapServer, type ImapTestServer } from './helpers/imap-server';

const password = 'hostile-Test-pw';
const user = 'hostile@example.test';

describe('hostile corpus', () => {
  it('is the same every time it is built', () => {
    const a = hostileFolders();
    const b = hostileFolders();
    expect(a.map((f) => f.messages.map((m) => m.raw.toString('base64')))).toEqual(b.map((f) => f.messages.map((m) => m.raw.toString('base64'))));
    expect(a.filter((f) => f.label.startsWith('punctuation ')).map((f) => f.levels[0]!.slice(-1)).join('')).toBe(PUNCTUATION);
    expect(a.find((f) => f.levels[0] === 'Gesendet')?.messages).toHaveLength(40);
  });
});

describe.each(IMAP_SERVER_KINDS)('hostile corpus on %s', (kind) => {
  let server: ImapTestServer;
  beforeAll(async () => {
    server = await startImapServer(kind, { users: [{ username: user, password }], precreate: false });
  }, 120_000);
  afterAll(async () => server?.stop());

  it('fills the account and says what the source holds', async () => {
    const manifest = await fillHostileCorpus({ host: server.host, port: server.port, user, password });
    if (process.env.HOSTILE_DEBUG) {
      console.log(kind, JSON.stringify({ ...manifest, server: { ...manifest.server, capabilities: manifest.server.capabilities.join(' ') }, folders: manifest.folders.map((f) => `${f.path} ${f.messages}${f.isSelectable ? '' : ' noselect'}`) }, null, 1));
    }
    expect(manifest.server.separator).toBe(server.separator);
    expect(manifest.server.prefix).toBe(server.personalPrefix);
    expect(manifest.folders.find((f) => f.label === 'German Sent folder by name only')?.messages).toBe(40);
    expect(manifest.folders.find((f) => f.label === 'French Sent folder by name only')?.messages).toBe(2);
    expect(manifest.totalMessages).toBe(manifest.folders.reduce((n, f) => n + f.messages, 0));
    // Every folder the corpus means is accounted for: held, refused or impossible here.
    const accounted = new Set([...manifest.folders.map((f) => f.label), ...manifest.refused.filter((r) => r.kind === 'folder').map((r) => r.label), ...manifest.skipped.map((s) => s.label)]);
    for (const spec of hostileFolders()) expect(accounted.has(spec.label) || manifest.altered.some((a) => a.label === spec.label), spec.label).toBe(true);
  });
});
