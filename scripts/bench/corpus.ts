import { createHash } from 'node:crypto';
import { chown, mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ImapFlow } from 'imapflow';
import { encodeMutf7 } from '../../server/engine/mutf7';
import { pseudoRandomBytes, Rng } from './prng';

/**
 * Deterministic benchmark corpus, written straight into a Maildir++ tree (the layout Dovecot's
 * `maildir:~/Maildir` uses) instead of APPENDed over IMAP: 2000 messages land in about two
 * seconds, and INTERNALDATE comes from the file's mtime, so it is exactly what we chose.
 * The owning Dovecot must index the files afterwards (see test/helpers/corpus.ts).
 */

export interface CorpusFolderSpec {
  /** Hierarchy levels; the IMAP name joins them with the server's separator. */
  path: readonly string[];
  weight: number;
}

export const CORPUS_FOLDERS: readonly CorpusFolderSpec[] = [
  { path: ['INBOX'], weight: 34 },
  { path: ['Sent'], weight: 15 },
  { path: ['Entwürfe'], weight: 2 },
  { path: ['Archiv'], weight: 5 },
  { path: ['Archiv', '2023'], weight: 14 },
  { path: ['Archiv', '2023', 'Q4'], weight: 5 },
  { path: ['Archiv', '2024'], weight: 10 },
  { path: ['Projekte'], weight: 3 },
  { path: ['Projekte', 'Größe & Co'], weight: 5 },
  { path: ['Old Mail'], weight: 5 },
  { path: ['Spam'], weight: 2 },
];
export const CORPUS_EMPTY_FOLDERS: readonly (readonly string[])[] = [['Leerer Ordner']];
/** Maildir keyword letters: 'a' is index 0 of each folder's dovecot-keywords file. */
export const CORPUS_KEYWORDS = ['$Label1'] as const;

const DRAFTS_FOLDER = 'Entwürfe';
const FLAG_NAMES: Record<string, string> = {
  D: '\\Draft',
  F: '\\Flagged',
  R: '\\Answered',
  S: '\\Seen',
  a: '$Label1',
};

export type CorpusCopyKind = 'original' | 'duplicate' | 'cross-copy';
export type CorpusSizeKind = 'small' | 'medium' | 'large';

export interface CorpusMessageEntry {
  /** Generator index: equal for a message and its duplicates or copies. */
  index: number;
  copy: CorpusCopyKind;
  kind: CorpusSizeKind;
  messageId: string | null;
  /** Bytes as served over IMAP (CRLF line ends), i.e. RFC822.SIZE. */
  size: number;
  /** INTERNALDATE, ISO 8601 UTC. */
  internalDate: string;
  /** IMAP flags and keywords, sorted. */
  flags: string[];
  /** sha256 of the CRLF bytes, comparable with BODY[] fetched from any server. */
  sha256: string;
  file: string;
}

export interface CorpusFolderEntry {
  count: number;
  bytes: number;
  messages: CorpusMessageEntry[];
}

export interface CorpusManifest {
  version: 1;
  seed: number;
  separator: '/' | '.';
  /** Messages in the mailbox, duplicates and additions included. */
  count: number;
  bytes: number;
  distinct: number;
  duplicatesSameFolder: number;
  copiesOtherFolder: number;
  /** First generator index the next `add` uses, so additions never repeat a message. */
  nextIndex: number;
  kinds: Record<CorpusSizeKind, number>;
  /** Keyed by IMAP folder name (UTF-8, server separator); empty folders included. */
  folders: Record<string, CorpusFolderEntry>;
  history: { op: 'create' | 'add'; messages: number; bytes: number; firstIndex: number; nextIndex: number }[];
}

export interface GenerateCorpusOptions {
  /** The user's Maildir root (INBOX); folders become `.Name.Sub` below it. */
  maildir: string;
  /** Total messages for a new corpus, duplicates and copies included. */
  count?: number;
  seed?: number;
  /** Instead of creating: add this many new, distinct messages to the existing corpus. */
  add?: number;
  separator?: '/' | '.';
  /** Default: `corpus-manifest.json` beside the Maildir (in the user's home, outside the mail). */
  manifestPath?: string;
  /** Mail files must belong to the mail user when we run as root. */
  owner?: { uid: number; gid: number };
  /** Delete an existing Maildir first; without it a non-empty Maildir is an error. */
  reset?: boolean;
}

export function defaultManifestPath(maildir: string): string {
  return path.join(path.dirname(path.resolve(maildir)), 'corpus-manifest.json');
}

export function corpusFolderName(levels: readonly string[], separator: '/' | '.'): string {
  return levels.join(separator);
}

interface PlannedMessage {
  folder: readonly string[];
  index: number;
  copy: CorpusCopyKind;
}

export async function generateCorpus(options: GenerateCorpusOptions): Promise<CorpusManifest> {
  const maildir = path.resolve(options.maildir);
  const manifestPath = options.manifestPath ?? defaultManifestPath(maildir);
  let manifest: CorpusManifest;
  const plan: PlannedMessage[] = [];

  if (options.add !== undefined) {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8').catch((error: unknown) => {
      throw new Error(`no corpus manifest at ${manifestPath}: create the corpus before adding to it`, { cause: error });
    })) as CorpusManifest;
    for (let i = manifest.nextIndex; i < manifest.nextIndex + options.add; i++) {
      plan.push({ folder: pickFolder(manifest.seed, i), index: i, copy: 'original' });
    }
  } else {
    const count = options.count;
    if (count === undefined || !Number.isInteger(count) || count < 1) throw new Error('generateCorpus needs count >= 1 or add');
    const seed = options.seed ?? 1;
    const separator = options.separator ?? '/';
    // Small corpora (tests) still get one of each duplicate kind.
    const perKind = Math.max(count >= 20 ? 1 : 0, Math.floor(count / 200));
    const distinct = count - 2 * perKind;
    for (let i = 0; i < distinct; i++) plan.push({ folder: pickFolder(seed, i), index: i, copy: 'original' });
    const dupRng = new Rng(`dups:${seed}`);
    dupRng.sample(distinct, 2 * perKind).forEach((i, k) => {
      const home = pickFolder(seed, i);
      if (k < perKind) {
        plan.push({ folder: home, index: i, copy: 'duplicate' });
      } else {
        const others = CORPUS_FOLDERS.map((f) => f.path).filter((p) => p.join('/') !== home.join('/') && p[0] !== DRAFTS_FOLDER);
        plan.push({ folder: dupRng.pick(others), index: i, copy: 'cross-copy' });
      }
    });
    manifest = {
      version: 1,
      seed,
      separator,
      count: 0,
      bytes: 0,
      distinct,
      duplicatesSameFolder: perKind,
      copiesOtherFolder: perKind,
      nextIndex: distinct,
      kinds: { small: 0, medium: 0, large: 0 },
      folders: {},
      history: [],
    };
    for (const levels of [...CORPUS_FOLDERS.map((f) => f.path), ...CORPUS_EMPTY_FOLDERS]) {
      manifest.folders[corpusFolderName(levels, separator)] = { count: 0, bytes: 0, messages: [] };
    }
    if (options.reset) await rm(maildir, { recursive: true, force: true });
    else if (await isNonEmptyMaildir(maildir)) throw new Error(`${maildir} already holds mail; pass reset: true to replace it`);
  }

  const owner = options.owner;
  const { seed, separator } = manifest;
  const firstIndex = options.add !== undefined ? manifest.nextIndex : 0;
  await prepareFolders(maildir, owner);

  let batchBytes = 0;
  for (const item of plan) {
    // Content (draft or not) follows the folder the message was generated for, not where a
    // cross-folder copy ends up, so both copies are byte-identical.
    const message = buildMessage(seed, item.index, pickFolder(seed, item.index).join('/'));
    const flags = new Set(message.flags);
    if (item.copy === 'cross-copy') flags.delete('D');
    const lf = Buffer.from(message.text, 'utf8');
    const crlf = Buffer.from(message.text.replace(/\n/g, '\r\n'), 'utf8');
    const letters = [...flags].sort().join('');
    const copyNo = item.copy === 'original' ? 0 : item.copy === 'duplicate' ? 1 : 2;
    // Dovecot trusts S= (file size) and W= (CRLF size) from the name instead of stat()/reading.
    const file = `${message.internalDate}.M${item.index}P${seed}Q${copyNo}.bench,S=${lf.length},W=${crlf.length}:2,${letters}`;
    const dir = folderDir(maildir, item.folder);
    const tmp = path.join(dir, 'tmp', file);
    await writeFile(tmp, lf);
    await utimes(tmp, message.internalDate, message.internalDate);
    if (owner) await chown(tmp, owner.uid, owner.gid);
    await rename(tmp, path.join(dir, 'cur', file));

    const name = corpusFolderName(item.folder, separator);
    const folder = (manifest.folders[name] ??= { count: 0, bytes: 0, messages: [] });
    folder.messages.push({
      index: item.index,
      copy: item.copy,
      kind: message.kind,
      messageId: message.messageId,
      size: crlf.length,
      internalDate: new Date(message.internalDate * 1000).toISOString(),
      flags: [...flags].map((letter) => FLAG_NAMES[letter] ?? letter).sort(),
      sha256: createHash('sha256').update(crlf).digest('hex'),
      file,
    });
    folder.count += 1;
    folder.bytes += crlf.length;
    manifest.kinds[message.kind] += 1;
    manifest.count += 1;
    manifest.bytes += crlf.length;
    batchBytes += crlf.length;
  }
  if (options.add !== undefined) manifest.nextIndex += options.add;
  manifest.history.push({
    op: options.add !== undefined ? 'add' : 'create',
    messages: plan.length,
    bytes: batchBytes,
    firstIndex,
    nextIndex: manifest.nextIndex,
  });
  await mkdir(path.dirname(manifestPath), { recursive: true });
  await writeFile(manifestPath, `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}

async function isNonEmptyMaildir(maildir: string): Promise<boolean> {
  try {
    await stat(path.join(maildir, 'cur'));
    return true;
  } catch {
    return false;
  }
}

function folderDir(maildir: string, levels: readonly string[]): string {
  if (levels.length === 1 && levels[0] === 'INBOX') return maildir;
  for (const level of levels) {
    // Maildir++ uses '.' between levels on disk whatever the IMAP separator is.
    if (level.includes('.') || level.includes('/')) throw new Error(`folder level ${JSON.stringify(level)} cannot be stored in Maildir++`);
  }
  return path.join(maildir, `.${levels.map(encodeMutf7).join('.')}`);
}

async function prepareFolders(maildir: string, owner: GenerateCorpusOptions['owner']): Promise<void> {
  const created = [maildir];
  for (const levels of [...CORPUS_FOLDERS.map((f) => f.path), ...CORPUS_EMPTY_FOLDERS]) {
    const dir = folderDir(maildir, levels);
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(path.join(dir, sub), { recursive: true });
    created.push(dir, ...['cur', 'new', 'tmp'].map((sub) => path.join(dir, sub)));
    const keywords = path.join(dir, 'dovecot-keywords');
    // Never rewrite: once Dovecot has indexed the folder it may have appended keywords of its own.
    await writeFile(keywords, CORPUS_KEYWORDS.map((k, i) => `${i} ${k}\n`).join(''), { flag: 'wx' }).catch(ignoreExists);
    created.push(keywords);
    if (dir !== maildir) {
      await writeFile(path.join(dir, 'maildirfolder'), '', { flag: 'wx' }).catch(ignoreExists);
      created.push(path.join(dir, 'maildirfolder'));
    }
  }
  if (owner) await Promise.all(created.map((p) => chown(p, owner.uid, owner.gid)));
}

function ignoreExists(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EEXIST') throw error;
}

function pickFolder(seed: number, index: number): readonly string[] {
  return new Rng(`folder:${seed}:${index}`).weighted(CORPUS_FOLDERS.map((f) => ({ value: f.path, weight: f.weight })));
}

// ---------------------------------------------------------------------------------------------
// Message content

const WORDS = (
  'the of and to in is that for it as with was on be by this are from at or have an ' +
  'meeting project budget report invoice schedule review contract delivery server mailbox ' +
  'migration folder message attachment deadline customer order shipment release update ' +
  'Grüße Änderung Übersicht Größe Straße Besprechung Rechnung Angebot Termin bitte danke ' +
  'müssen können Bestätigung Lieferung Prüfung naïve café résumé señor Zürich Köln'
).split(' ');
const FIRST = 'Anna Ben Clara David Eva Felix Greta Hans Ines Jonas Katrin Lukas Maria Nils Olga Paul Jürgen Zoë'.split(' ');
const LAST = 'Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Smith Jones'.split(' ');
const TZ_MINUTES = [0, 60, 120, -300, -420, 330, 540];
const EPOCH_2005 = Date.UTC(2005, 0, 1) / 1000;
// Dovecot clamps a future INTERNALDATE on APPEND to "now", so dates stay in the past.
const LIMIT_2025 = Date.UTC(2025, 0, 1) / 1000;
const DAY = 86_400;

interface BuiltMessage {
  text: string;
  /** Maildir flag letters. */
  flags: string[];
  /** Epoch seconds. */
  internalDate: number;
  messageId: string | null;
  kind: CorpusSizeKind;
}

const isAscii = (text: string) => /^[\x00-\x7f]*$/.test(text);
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

function words(rng: Rng, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(rng.pick(WORDS));
  return out.join(' ');
}

function textBody(rng: Rng, target: number): string {
  const lines: string[] = [];
  let size = 0;
  while (size < target) {
    const line = words(rng, rng.int(6, 14));
    lines.push(line);
    size += Buffer.byteLength(line) + 1;
    if (rng.chance(0.15)) {
      lines.push('');
      size += 1;
    }
  }
  return `${lines.join('\n')}\n`;
}

const QP_HEX = Array.from({ length: 256 }, (_, b) => `=${b.toString(16).toUpperCase().padStart(2, '0')}`);
const QP_TOKENS = QP_HEX.map((hex, b) => ((b >= 33 && b <= 126 && b !== 61) || b === 32 || b === 9 ? String.fromCharCode(b) : hex));

/** Quoted-printable of UTF-8 text, lines kept at 76 characters with soft breaks. */
export function encodeQuotedPrintable(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const bytes = Buffer.from(line, 'utf8');
    let current = '';
    for (let i = 0; i < bytes.length; i++) {
      const token = QP_TOKENS[bytes[i]!]!;
      // Whitespace at the end of a line would be stripped in transit, so it is encoded.
      const encoded = i === bytes.length - 1 && (bytes[i] === 32 || bytes[i] === 9) ? QP_HEX[bytes[i]!]! : token;
      if (current.length + encoded.length > 75) {
        out.push(`${current}=`);
        current = '';
      }
      current += encoded;
    }
    out.push(current);
  }
  return out.join('\n');
}

// A regex like /\n+$/ rescans every newline run of a multi-megabyte part: quadratic.
function trimTrailingNewlines(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 10) end--;
  return text.slice(0, end);
}

function base64Lines(data: Buffer): string {
  const b64 = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join('\n');
}

function encodedWord(text: string): string {
  return `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

/** RFC 5322 date in the given zone, e.g. "Tue, 05 Mar 2019 14:03:22 +0100". */
export function formatRfc5322Date(epochSeconds: number, offsetMinutes: number): string {
  const d = new Date((epochSeconds + offsetMinutes * 60) * 1000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return (
    `${days[d.getUTCDay()]}, ${two(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${sign}${two(Math.floor(abs / 60))}${two(abs % 60)}`
  );
}

function person(rng: Rng): string {
  const first = rng.pick(FIRST);
  const last = rng.pick(LAST);
  const local = `${first}.${last}`
    .toLowerCase()
    .replace(/ü/g, 'ue')
    .replace(/ö/g, 'oe')
    .replace(/[^\x00-\x7f]/g, '');
  const address = `${local}@${rng.pick(['example.com', 'example.org', 'example.net'])}`;
  const name = `${first} ${last}`;
  return `${isAscii(name) ? `"${name}"` : encodedWord(name)} <${address}>`;
}

function subject(rng: Rng, index: number): string {
  const text = `${rng.pick(['Re:', 'AW:', 'Fwd:', '', '', ''])} ${words(rng, rng.int(2, 6))} #${index}`.trim();
  if (isAscii(text)) return text;
  return rng.chance(0.7) ? encodedWord(text) : text.replace(/[^\x00-\x7f]/g, '?');
}

function pickSize(rng: Rng): { kind: CorpusSizeKind; target: number } {
  const r = rng.next();
  // Log-uniform inside each band, like real mailboxes: many small, a long tail of big ones.
  if (r < 0.84) return { kind: 'small', target: Math.floor(2048 * 10 ** rng.next()) };
  if (r < 0.96) return { kind: 'medium', target: Math.floor(20480 * 5 ** rng.next()) };
  return { kind: 'large', target: Math.floor(102400 * 50 ** rng.next()) };
}

function messageIdFor(seed: number, index: number): string {
  return `<${sha1(`${seed}-${index}`).slice(0, 16)}.${seed}.${index}@bench.example.test>`;
}

function buildMessage(seed: number, index: number, homeFolder: string): BuiltMessage {
  const isDraft = homeFolder === DRAFTS_FOLDER;
  const isSent = homeFolder === 'Sent';
  const rng = new Rng(`${seed}:${index}`);
  const { kind, target } = pickSize(rng);
  let internalDate = EPOCH_2005 + rng.int(0, 20 * 365 * DAY - 1);
  const tz = rng.pick(TZ_MINUTES);
  const headerDate = internalDate - rng.int(3, 900);
  if (rng.chance(0.01)) {
    // Re-imported mail: the arrival date is far from Date:, so a tool that copies Date: into
    // INTERNALDATE is caught.
    const shift = rng.int(30, 2000) * DAY;
    internalDate = internalDate + shift < LIMIT_2025 ? internalDate + shift : internalDate - shift;
  }
  const noMessageId = isDraft || rng.chance(0.005);
  const noReceived = isDraft || (noMessageId && rng.chance(0.5));
  let from = person(rng);
  const to = person(rng);
  if (isDraft || isSent) from = '"Bench User" <bench.user@example.test>';

  const h: string[] = [];
  if (!noReceived) {
    h.push(`Return-Path: <${from.slice(from.lastIndexOf('<') + 1, -1)}>`);
    const hops = rng.int(1, 3);
    for (let hop = 0; hop < hops; hop++) {
      const id = Math.floor(rng.next() * 0x1_0000_0000).toString(16).toUpperCase().padStart(8, '0');
      h.push(
        `Received: from mx${hop}.example.net (mx${hop}.example.net [192.0.2.${rng.int(1, 254)}])\n` +
          `\tby mail.bench.example.test (Postfix) with ESMTPS id ${id}${hop}\n` +
          `\tfor <bench.user@example.test>; ${formatRfc5322Date(headerDate + hop + 1, tz)}`,
      );
    }
  }
  const messageId = noMessageId ? null : messageIdFor(seed, index);
  if (messageId) h.push(`Message-ID: ${messageId}`);
  h.push(`Date: ${formatRfc5322Date(headerDate, tz)}`);
  h.push(`From: ${from}`);
  h.push(`To: ${to}`);
  if (rng.chance(0.3)) h.push(`Cc: ${person(rng)}, ${person(rng)}`);
  h.push(`Subject: ${subject(rng, index)}`);
  if (rng.chance(0.3) && index > 0) h.push(`In-Reply-To: ${messageIdFor(seed, index - 1)}`);
  h.push(`X-Bench-Id: ${seed}-${index}`);
  h.push('MIME-Version: 1.0');

  const bodyTarget = kind === 'small' ? target : rng.int(800, 4000);
  const text = textBody(rng, Math.max(200, bodyTarget - 900));
  const boundary = `=_bench_${seed}_${index}`;
  let body: string;
  if (kind === 'small' && rng.chance(0.6)) {
    h.push('Content-Type: text/plain; charset=utf-8');
    if (rng.chance(0.5)) {
      h.push('Content-Transfer-Encoding: 8bit');
      body = text;
    } else {
      h.push('Content-Transfer-Encoding: quoted-printable');
      body = encodeQuotedPrintable(text);
    }
  } else {
    const parts: string[] = [];
    if (kind === 'small') {
      h.push(`Content-Type: multipart/alternative; boundary="${boundary}"`);
      const html = `<html><body><p>${text.replace(/\n\n/g, '</p><p>')}</p></body></html>\n`;
      parts.push(`Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n${encodeQuotedPrintable(text.slice(0, text.length >> 1))}`);
      parts.push(`Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n${encodeQuotedPrintable(html.slice(0, html.length >> 1))}`);
    } else {
      h.push(`Content-Type: multipart/mixed; boundary="${boundary}"`);
      parts.push(`Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n${encodeQuotedPrintable(text)}`);
      const remaining = Math.max(1024, target - text.length);
      const attachments = kind === 'medium' ? 1 : rng.int(1, 3);
      for (let a = 0; a < attachments; a++) {
        const rawLength = Math.floor(((remaining / attachments) * 3) / 4);
        const [ext, type] = rng.pick([
          ['pdf', 'application/pdf'],
          ['jpg', 'image/jpeg'],
          ['zip', 'application/zip'],
          ['docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
        ] as const);
        const filename = `${rng.pick(['Rechnung', 'scan', 'Bericht', 'Übersicht', 'photo'])}_${index}_${a}.${ext}`;
        const disposition = isAscii(filename)
          ? `attachment; filename="${filename}"`
          : `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`;
        const data = base64Lines(pseudoRandomBytes(`${seed}:${index}:${a}`, rawLength));
        parts.push(
          `Content-Type: ${type}; name="${filename.replace(/[^\x00-\x7f]/g, '?')}"\nContent-Transfer-Encoding: base64\n` +
            `Content-Disposition: ${disposition}\n\n${data}`,
        );
      }
    }
    body = 'This is a multi-part message in MIME format.\n\n';
    for (const part of parts) body += `--${boundary}\n${trimTrailingNewlines(part)}\n`;
    body += `--${boundary}--\n`;
  }

  const flags = new Set<string>();
  if (isDraft) {
    flags.add('D');
    if (rng.chance(0.5)) flags.add('S');
  } else if (isSent) {
    flags.add('S');
  } else if (rng.chance(0.75)) {
    flags.add('S');
    if (rng.chance(0.16)) flags.add('R');
  }
  if (rng.chance(0.06)) flags.add('F');
  if (rng.chance(0.04)) flags.add('a');
  return { text: `${h.join('\n')}\n\n${body}`, flags: [...flags], internalDate, messageId, kind };
}

// ---------------------------------------------------------------------------------------------
// Flag changes over IMAP (delta test)

export interface FlippedMessage {
  folder: string;
  uid: number;
  before: string[];
  after: string[];
}

/**
 * Toggles \Flagged and \Seen on about `count` messages: every k-th UID of each folder, so the
 * same mailbox state always picks the same messages. Goes through IMAP, because changing
 * Maildir file names under a running Dovecot would race with its index.
 */
export async function flipFlags(client: ImapFlow, count: number): Promise<FlippedMessage[]> {
  const folders = (await client.list())
    .filter((box) => !box.flags.has('\\Noselect') && !box.flags.has('\\NonExistent'))
    .map((box) => box.path)
    .sort();
  let total = 0;
  for (const folder of folders) {
    const status = await client.status(folder, { messages: true });
    total += status === false ? 0 : (status.messages ?? 0);
  }
  const step = Math.max(1, Math.floor(total / count));
  const flipped: FlippedMessage[] = [];
  for (const folder of folders) {
    if (flipped.length >= count) break;
    const lock = await client.getMailboxLock(folder);
    try {
      if (client.mailbox === false || client.mailbox.exists === 0) continue;
      const messages = (await client.fetchAll('1:*', { uid: true, flags: true })).sort((a, b) => a.uid - b.uid);
      const changes = new Map<string, number[]>();
      for (let i = 0; i < messages.length && flipped.length < count; i += step) {
        const message = messages[i];
        if (!message) continue;
        const before = [...(message.flags ?? [])].filter((f) => f !== '\\Recent').sort();
        const after = new Set(before);
        for (const flag of ['\\Flagged', '\\Seen']) {
          const op = before.includes(flag) ? '-' : '+';
          if (op === '-') after.delete(flag);
          else after.add(flag);
          const key = `${op}${flag}`;
          changes.set(key, [...(changes.get(key) ?? []), message.uid]);
        }
        flipped.push({ folder, uid: message.uid, before, after: [...after].sort() });
      }
      for (const [key, uids] of changes) {
        const flag = key.slice(1);
        const range = uids.join(',');
        if (key.startsWith('+')) await client.messageFlagsAdd(range, [flag], { uid: true });
        else await client.messageFlagsRemove(range, [flag], { uid: true });
      }
    } finally {
      lock.release();
    }
  }
  return flipped;
}
