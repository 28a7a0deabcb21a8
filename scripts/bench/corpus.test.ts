import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeQuotedPrintable, generateCorpus, type CorpusManifest } from './corpus';
import { decodeMutf7, encodeMutf7 } from '../../server/engine/mutf7';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const allMessages = (m: CorpusManifest) => Object.entries(m.folders).flatMap(([folder, f]) => f.messages.map((msg) => ({ folder, ...msg })));

describe('modified UTF-7', () => {
  it('encodes folder names the way Dovecot stores them', () => {
    expect(encodeMutf7('Entwürfe')).toBe('Entw&APw-rfe');
    expect(encodeMutf7('Größe & Co')).toBe('Gr&APYA3w-e &- Co');
    expect(encodeMutf7('Old Mail')).toBe('Old Mail');
    for (const name of ['Entwürfe', 'Größe & Co', '日本語', 'a😀b', '&&']) expect(decodeMutf7(encodeMutf7(name))).toBe(name);
  });
});

describe('quoted-printable', () => {
  it('keeps lines short and round-trips UTF-8', () => {
    const text = `${'Grüße '.repeat(40)}\ntrailing space \n=equals=\n`;
    const encoded = encodeQuotedPrintable(text);
    for (const line of encoded.split('\n')) expect(line.length).toBeLessThanOrEqual(76);
    expect(encoded).toContain('space=20\n');
    const decoded = Buffer.from(
      encoded.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    ).toString('utf8');
    expect(decoded).toBe(text);
  });
});

describe('generateCorpus', () => {
  let dir: string;
  let manifest: CorpusManifest;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-corpus-test-'));
    manifest = await generateCorpus({ maildir: path.join(dir, 'a', 'Maildir'), count: 400, seed: 7 });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is byte-identical for the same seed and differs for another', async () => {
    const again = await generateCorpus({ maildir: path.join(dir, 'b', 'Maildir'), count: 400, seed: 7 });
    expect(again).toEqual(manifest);
    const other = await generateCorpus({ maildir: path.join(dir, 'c', 'Maildir'), count: 400, seed: 8 });
    expect(allMessages(other).map((m) => m.sha256)).not.toEqual(allMessages(manifest).map((m) => m.sha256));
  });

  it('lays out Maildir++ folders with encoded names, sizes in the file name and mtime as INTERNALDATE', async () => {
    const maildir = path.join(dir, 'a', 'Maildir');
    const entries = await readdir(maildir);
    expect(entries).toEqual(
      expect.arrayContaining(['cur', '.Sent', '.Entw&APw-rfe', '.Archiv.2023.Q4', '.Projekte.Gr&APYA3w-e &- Co', '.Old Mail', '.Leerer Ordner']),
    );
    expect(await readFile(path.join(maildir, '.Archiv', 'dovecot-keywords'), 'utf8')).toBe('0 $Label1\n');
    expect(await readdir(path.join(maildir, '.Leerer Ordner', 'cur'))).toEqual([]);
    expect(Object.keys(manifest.folders)).toHaveLength(12);

    for (const [folder, entry] of Object.entries(manifest.folders).slice(0, 4)) {
      const dirName = folder === 'INBOX' ? maildir : path.join(maildir, `.${folder.split('/').map(encodeMutf7).join('.')}`);
      for (const m of entry.messages.slice(0, 20)) {
        const file = path.join(dirName, 'cur', m.file);
        const bytes = await readFile(file);
        const crlf = Buffer.from(bytes.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
        expect(m.file).toContain(`,S=${bytes.length},W=${crlf.length}:2,`);
        expect(sha256(crlf)).toBe(m.sha256);
        expect(m.size).toBe(crlf.length);
        expect((await stat(file)).mtime.toISOString()).toBe(m.internalDate);
      }
    }
  });

  it('has the edge cases the bench relies on', () => {
    const messages = allMessages(manifest);
    expect(manifest.count).toBe(400);
    expect(messages).toHaveLength(400);
    const drafts = manifest.folders['Entwürfe']?.messages ?? [];
    expect(drafts.length).toBeGreaterThan(0);
    for (const d of drafts) {
      expect(d.messageId).toBeNull();
      expect(d.flags).toContain('\\Draft');
    }
    const duplicate = messages.find((m) => m.copy === 'duplicate');
    expect(messages.filter((m) => m.sha256 === duplicate?.sha256 && m.folder === duplicate?.folder)).toHaveLength(2);
    const copy = messages.find((m) => m.copy === 'cross-copy');
    expect(new Set(messages.filter((m) => m.sha256 === copy?.sha256).map((m) => m.folder)).size).toBe(2);
    expect(messages.some((m) => m.flags.includes('$Label1'))).toBe(true);
    expect(messages.some((m) => m.flags.includes('\\Answered'))).toBe(true);
    const years = messages.map((m) => new Date(m.internalDate).getUTCFullYear());
    expect(Math.min(...years)).toBeGreaterThanOrEqual(2004);
    expect(Math.max(...years)).toBeLessThanOrEqual(2024);
    expect(manifest.kinds.small / manifest.count).toBeGreaterThan(0.75);
  });

  it('adds new distinct messages and remembers where it stopped', async () => {
    const before = new Set(allMessages(manifest).map((m) => m.sha256));
    const maildir = path.join(dir, 'a', 'Maildir');
    const added = await generateCorpus({ maildir, add: 10 });
    expect(added.count).toBe(410);
    const fresh = allMessages(added).filter((m) => !before.has(m.sha256));
    expect(fresh).toHaveLength(10);
    expect(new Set(fresh.map((m) => m.messageId)).size).toBe(10);
    const again = await generateCorpus({ maildir, add: 5 });
    expect(again.nextIndex).toBe(added.nextIndex + 5);
    expect(again.history.map((h) => h.op)).toEqual(['create', 'add', 'add']);
  });

  it('names folders with the server separator and refuses to overwrite mail', async () => {
    const dotted = await generateCorpus({ maildir: path.join(dir, 'd', 'Maildir'), count: 30, separator: '.' });
    expect(Object.keys(dotted.folders)).toContain('Archiv.2023.Q4');
    await expect(generateCorpus({ maildir: path.join(dir, 'd', 'Maildir'), count: 30 })).rejects.toThrow(/already holds mail/);
  });
});
