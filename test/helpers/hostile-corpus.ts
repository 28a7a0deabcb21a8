import { encodeMutf7 } from '@/server/engine/mutf7';
import { parseListLine, parseNamespaceLine } from '@/server/engine/raw-folders';
import { Literal, quoteOrLiteral, WireImapClient, type CommandPart } from './wire-imap-client';

/**
 * A source mailbox built to break folder mapping and byte-exact copying: every ASCII
 * punctuation character in a name, names outside the BMP, the other server's separator inside
 * a name, case and Unicode-normalization twins, odd spacing, a long name, a deep tree, a parent
 * that exists only through its child, empty folders, Sent folders known only by name, and
 * messages with 8-bit headers, a lone CR, bare LFs, no final newline, a NUL byte, no Message-ID,
 * duplicates, keywords and old INTERNALDATEs.
 *
 * Everything goes in over a bare IMAP session so the bytes are exactly these (imapflow would
 * rewrite names and line ends). Servers refuse some of it; each refusal is recorded with the
 * server's answer and the fill goes on, and afterwards the source is read back, so the manifest
 * says what the source really holds, not what was sent.
 */

export interface HostileAccount {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface HostileOptions {
  /** Leave out folders whose label does not pass (smaller corpora for focused tests). */
  include?: (label: string) => boolean;
}

export interface HostileFolder {
  /** What the folder is for ("punctuation %", "deep level 4", "emoji"). */
  label: string;
  /** The intended name, one entry per hierarchy level, without the namespace prefix. */
  levels: string[];
  /** The full path as the source lists it (decoded; its prefix and separator). */
  path: string;
  /** Messages the source holds in it after the fill. */
  messages: number;
  /** False for a parent that exists only through its children (\Noselect or \NonExistent). */
  isSelectable: boolean;
}

export interface HostileRefusal {
  kind: 'folder' | 'message' | 'flags';
  /** The folder's label, and for messages which one ("lone CR in the body"). */
  label: string;
  path: string;
  /** The command as sent, without message bytes. */
  command: string;
  /** The server's tagged answer, word for word. */
  answer: string;
}

export interface HostileAlteration {
  kind: 'folder-name' | 'message-bytes' | 'flags' | 'internal-date';
  label: string;
  path: string;
  /** What differs between what was sent and what the source serves. */
  detail: string;
}

export interface HostileManifest {
  server: { capabilities: string[]; separator: string; prefix: string };
  /** Every folder the source holds from this corpus (refused ones left out), in creation order. */
  folders: HostileFolder[];
  /** Messages in `folders`, summed. */
  totalMessages: number;
  refused: HostileRefusal[];
  /** Names that cannot exist on this source at all: a level holds its hierarchy separator. */
  skipped: { label: string; levels: string[]; reason: string }[];
  /** Stored, but not as sent (the source's own rewriting; the copy is judged against what it serves). */
  altered: HostileAlteration[];
}

interface MessageSpec {
  label: string;
  raw: Buffer;
  flags: string[];
  /** INTERNALDATE as IMAP writes it ("01-Jan-1971 00:00:00 +0000"). */
  date: string;
}

interface FolderSpec {
  label: string;
  levels: string[];
  /** Not created itself: it exists only because a child does. */
  isContainer?: boolean;
  messages: MessageSpec[];
}

export const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function imapDate(date: Date, zone = '+0000'): string {
  const sign = zone.startsWith('-') ? -1 : 1;
  const offsetMinutes = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  const local = new Date(date.getTime() + offsetMinutes * 60_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(local.getUTCDate())}-${MONTHS[local.getUTCMonth()]}-${local.getUTCFullYear()} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())} ${zone}`;
}

/** Epoch milliseconds of an IMAP date-time ("01-Jan-1971 00:00:00 +0000"). */
export function parseImapDate(text: string): number {
  const match = /^\s*(\d{1,2})-(\w{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!match) return Number.NaN;
  const [, d, mon, y, h, mi, s, sign, zh, zm] = match;
  const utc = Date.UTC(Number(y), MONTHS.indexOf(mon!), Number(d), Number(h), Number(mi), Number(s));
  return utc - (sign === '-' ? -1 : 1) * (Number(zh) * 60 + Number(zm)) * 60_000;
}

interface MessageInput {
  subject?: Buffer | string;
  from?: Buffer | string;
  messageId?: string | null;
  extraHeaders?: (Buffer | string)[];
  body?: Buffer | string;
  date: Date;
  /** Leave the body's last CRLF off. */
  noFinalNewline?: boolean;
}

function buildMessage(input: MessageInput): Buffer {
  const crlf = Buffer.from('\r\n');
  const field = (name: string, value: Buffer | string) => Buffer.concat([Buffer.from(`${name}: `), Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8'), crlf]);
  const parts = [
    field('From', input.from ?? 'Absender <absender@hostile.test>'),
    field('To', 'Empfang <empfang@hostile.test>'),
    field('Subject', input.subject ?? 'Hostile corpus'),
    field('Date', input.date.toUTCString().replace('GMT', '+0000')),
    ...(input.messageId === null ? [] : [field('Message-ID', input.messageId ?? '<missing@hostile.test>')]),
    field('MIME-Version', '1.0'),
    field('Content-Type', 'text/plain; charset=utf-8'),
    field('Content-Transfer-Encoding', '8bit'),
    ...(input.extraHeaders ?? []).map((h) => Buffer.concat([Buffer.isBuffer(h) ? h : Buffer.from(h, 'utf8'), crlf])),
    crlf,
  ];
  let body = Buffer.isBuffer(input.body) ? input.body : Buffer.from(input.body ?? 'Hallo,\r\ndies ist eine Nachricht.\r\n', 'utf8');
  if (input.noFinalNewline) body = body.subarray(0, body.length - (body.subarray(-2).toString() === '\r\n' ? 2 : 0));
  return Buffer.concat([...parts, body]);
}

const FLAG_CYCLE: string[][] = [[], ['\\Seen'], ['\\Seen', '\\Answered'], ['\\Flagged', '$Label1'], ['\\Seen', 'Projekt_Alpha'], ['\\Seen', '\\Flagged', '$Label1', 'NonJunk']];

/** Ordinary messages for a folder: 1-5 of them, depending on the folder's place in the list. */
function ordinaryMessages(index: number, count: number): MessageSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const date = new Date(Date.UTC(2019 + (index % 6), index % 12, 1 + i, 8 + (i % 10), index % 60, 7));
    return {
      label: `message ${i + 1}`,
      raw: buildMessage({ subject: `Folder ${index} message ${i + 1}`, messageId: `<f${index}.m${i + 1}@hostile.test>`, date, body: `Folder ${index}, message ${i + 1}.\r\n` }),
      flags: FLAG_CYCLE[(index + i) % FLAG_CYCLE.length]!,
      date: imapDate(date),
    };
  });
}

/** The corpus, in creation order (parents before children). Deterministic. */
export function hostileFolders(): FolderSpec[] {
  const specs: (Omit<FolderSpec, 'messages'> & { messages?: MessageSpec[] })[] = [];
  const add = (label: string, levels: string[], extra: Partial<FolderSpec> = {}) => specs.push({ label, levels, ...extra });
  const fixed = new Map<string, MessageSpec[]>();

  for (const c of PUNCTUATION) add(`punctuation ${c}`, [`Punct ${c}`]);
  add('emoji', ['Post 📬']);
  add('emoji with text', ['Krebs 🦀 Projekt']);
  add('mathematical letters (non-BMP)', ['Math 𝔸𝔹']);
  add('CJK extension B (non-BMP)', ['CJK 𠀋']);
  add('ampersand and umlaut', ['Ümlaut & Co']);
  add('dot inside a name', ['Dot.Name']);
  add('slash inside a name', ['Slash/Name']);
  add('case pair, mixed', ['Case']);
  add('case pair, upper', ['CASE']);
  add('NFC', ['Caf\u00e9']);
  add('NFD', ['Cafe\u0301']);
  add('leading space', [' Leading space']);
  add('double space', ['Double  space']);
  add('long name', [`Long ${'abcdefghij'.repeat(12)}`]);
  const deep = ['Deep', 'L2', 'L3', 'L4', 'L5', 'L6', 'L7'];
  for (let level = 1; level <= deep.length; level++) add(`deep level ${level}`, deep.slice(0, level));
  add('parent only through its child', ['Only Parent'], { isContainer: true });
  add('child of a parent that does not exist', ['Only Parent', 'Child']);
  add('empty', ['Empty'], { messages: [] });
  add('empty child of an empty folder', ['Empty', 'Nested empty'], { messages: [] });

  const sentDate = (i: number) => new Date(Date.UTC(2023, i % 12, 1 + (i % 27), 9, i % 60, 0));
  fixed.set(
    'Gesendet',
    Array.from({ length: 40 }, (_, i) => ({
      label: `gesendet ${i + 1}`,
      raw: buildMessage({ from: 'Ich <ich@hostile.test>', subject: `Angebot Nr. ${1000 + i}`, messageId: `<gesendet.${i + 1}@hostile.test>`, date: sentDate(i), body: `Sehr geehrte Damen und Herren,\r\nanbei Angebot ${1000 + i}.\r\n` }),
      flags: ['\\Seen'],
      date: imapDate(sentDate(i), '+0100'),
    })),
  );
  add('German Sent folder by name only', ['Gesendet']);
  fixed.set(
    'Éléments envoyés',
    [1, 2].map((n) => ({
      label: `envoyé ${n}`,
      raw: buildMessage({ from: 'Moi <moi@hostile.test>', subject: `Reponse ${n}`, messageId: `<envoye.${n}@hostile.test>`, date: sentDate(n), body: 'Bonjour,\r\nmerci.\r\n' }),
      flags: ['\\Seen', '\\Answered'],
      date: imapDate(sentDate(n)),
    })),
  );
  add('French Sent folder by name only', ['Éléments envoyés']);

  const day = new Date(Date.UTC(2022, 4, 17, 10, 30, 0));
  const plain = buildMessage({ subject: 'Plain and copied elsewhere', messageId: '<plain.copied@hostile.test>', date: day });
  fixed.set('INBOX', [
    { label: 'plain', raw: plain, flags: ['\\Seen'], date: imapDate(day) },
    {
      label: 'raw UTF-8 header bytes',
      raw: buildMessage({ subject: 'Grüße aus Köln ✓', from: 'Jürgen Müller <juergen@hostile.test>', messageId: '<utf8.header@hostile.test>', date: day }),
      flags: [],
      date: imapDate(day),
    },
    {
      label: 'latin1 header bytes',
      raw: buildMessage({ subject: Buffer.from('Gr\u00fc\u00dfe aus K\u00f6ln', 'latin1'), messageId: '<latin1.header@hostile.test>', extraHeaders: [Buffer.from('X-Ort: M\u00fcnchen', 'latin1')], date: day }),
      flags: ['\\Flagged'],
      date: imapDate(day, '+0200'),
    },
    { label: 'no Message-ID', raw: buildMessage({ subject: 'Without an identity', messageId: null, date: day }), flags: ['$Label1'], date: imapDate(day) },
    {
      label: 'INTERNALDATE in 1971',
      raw: buildMessage({ subject: 'Very old', messageId: '<old.1971@hostile.test>', date: new Date(Date.UTC(1971, 2, 4, 12, 0, 0)) }),
      flags: ['\\Seen'],
      date: imapDate(new Date(Date.UTC(1971, 2, 4, 12, 0, 0))),
    },
  ]);
  add('inbox with hostile headers', ['INBOX']);

  fixed.set('Hostile bytes', [
    { label: 'lone CR in the body', raw: buildMessage({ subject: 'Lone CR', messageId: '<lone.cr@hostile.test>', body: 'one line\rstill the same line\r\nend\r\n', date: day }), flags: [], date: imapDate(day) },
    { label: 'no final newline', raw: buildMessage({ subject: 'No final newline', messageId: '<no.final.newline@hostile.test>', body: 'no newline at the end', date: day }), flags: ['\\Seen'], date: imapDate(day) },
    { label: 'NUL byte in the body', raw: buildMessage({ subject: 'NUL byte', messageId: '<nul.byte@hostile.test>', body: Buffer.from('before\x00after\r\n', 'latin1'), date: day }), flags: [], date: imapDate(day) },
    { label: '8-bit body', raw: buildMessage({ subject: 'Eight-bit body', messageId: '<eight.bit.body@hostile.test>', body: 'Grüße, naïve café, 📬\r\n', date: day }), flags: ['\\Answered'], date: imapDate(day) },
    { label: 'bare LF line ends in the body', raw: buildMessage({ subject: 'Bare LF', messageId: '<bare.lf@hostile.test>', body: 'unix line\nanother\nend\r\n', date: day }), flags: [], date: imapDate(day) },
  ]);
  add('hostile message bytes', ['Hostile bytes']);

  const twin = buildMessage({ subject: 'Twin', messageId: '<twin@hostile.test>', date: day });
  const twinNoId = buildMessage({ subject: 'Twin without identity', messageId: null, date: day });
  fixed.set('Duplicates', [
    { label: 'duplicate 1 of 2', raw: twin, flags: ['\\Seen'], date: imapDate(day) },
    { label: 'duplicate 2 of 2, other flags', raw: twin, flags: ['\\Flagged'], date: imapDate(day) },
    { label: 'duplicate without Message-ID 1 of 2', raw: twinNoId, flags: [], date: imapDate(day) },
    { label: 'duplicate without Message-ID 2 of 2', raw: twinNoId, flags: [], date: imapDate(day) },
    { label: 'copy of an INBOX message', raw: plain, flags: ['\\Seen'], date: imapDate(day) },
  ]);
  add('duplicates', ['Duplicates']);

  const flagged = (label: string, flags: string[], n: number) => ({
    label,
    raw: buildMessage({ subject: `Flags ${n}`, messageId: `<flags.${n}@hostile.test>`, date: day }),
    flags,
    date: imapDate(day),
  });
  fixed.set('Flags', [
    flagged('system flags', ['\\Seen', '\\Answered', '\\Flagged'], 1),
    flagged('draft', ['\\Draft', '\\Seen'], 2),
    flagged('labels', ['$Label1', '$Label2'], 3),
    flagged('custom keywords', ['Projekt_Alpha', '$Forwarded', 'NonJunk'], 4),
    flagged('no flags', [], 5),
  ]);
  add('flags and keywords', ['Flags']);

  const old = [new Date(Date.UTC(1971, 0, 1, 0, 0, 1)), new Date(Date.UTC(1985, 5, 15, 23, 59, 59)), new Date(Date.UTC(1999, 11, 31, 23, 0, 0))];
  fixed.set(
    'Old dates',
    old.map((date, i) => ({
      label: `INTERNALDATE ${date.getUTCFullYear()}`,
      raw: buildMessage({ subject: `Old ${date.getUTCFullYear()}`, messageId: `<old.${i}@hostile.test>`, date }),
      flags: ['\\Seen'],
      date: imapDate(date, i === 1 ? '-0500' : '+0000'),
    })),
  );
  add('old INTERNALDATEs', ['Old dates']);

  return specs.map((spec, index) => ({
    ...spec,
    messages: spec.isContainer ? [] : (spec.messages ?? fixed.get(spec.levels.join('\u0000')) ?? ordinaryMessages(index, 1 + (index % 5))),
  }));
}

function describeBytes(sent: Buffer, stored: Buffer): string {
  let i = 0;
  while (i < sent.length && i < stored.length && sent[i] === stored[i]) i++;
  const show = (b: Buffer) => JSON.stringify(b.subarray(Math.max(0, i - 8), i + 12).toString('latin1'));
  return `${sent.length} -> ${stored.length} bytes, first difference at byte ${i}: sent ${show(sent)}, served ${show(stored)}`;
}

const sameFlags = (a: readonly string[], b: readonly string[]) => [...a].map((f) => f.toLowerCase()).sort().join(' ') === [...b].map((f) => f.toLowerCase()).sort().join(' ');

/** The command text for a report: literals shown as `{n}`. */
function shown(parts: readonly CommandPart[]): string {
  return parts.map((p) => (typeof p === 'string' ? p : `{${p.bytes.length}}`)).join('');
}

/**
 * Fills the account with the hostile corpus (the account should be empty; the folders the
 * server makes for every new account may be there) and returns what it really holds.
 */
export async function fillHostileCorpus(account: HostileAccount, options: HostileOptions = {}): Promise<HostileManifest> {
  const session = await WireImapClient.connect(account.host, account.port);
  try {
    await session.login(account.user, account.password);
    const namespaceAnswer = await session.command(['NAMESPACE']);
    const personal = namespaceAnswer.untagged.map((u) => parseNamespaceLine(u.text)).find(Boolean)?.personal[0];
    const listRoot = await session.command(['LIST "" ""']);
    const rootDelimiter = listRoot.untagged.map((u) => parseListLine(u.text, u.literals)).find(Boolean)?.delimiter;
    const separator = personal?.delimiter || rootDelimiter || '/';
    const prefix = personal?.prefix ?? '';
    const manifest: HostileManifest = { server: { capabilities: [...session.capabilities].sort(), separator, prefix }, folders: [], totalMessages: 0, refused: [], skipped: [], altered: [] };

    const specs = hostileFolders().filter((spec) => !options.include || options.include(spec.label));
    const pathOf = (levels: string[]) => (levels.length === 1 && levels[0]!.toUpperCase() === 'INBOX' ? 'INBOX' : prefix + levels.join(separator));
    const refusedPaths = new Set<string>();
    const created: { spec: FolderSpec; path: string; sent: MessageSpec[] }[] = [];

    for (const spec of specs) {
      if (spec.levels.some((level) => level.includes(separator))) {
        manifest.skipped.push({ label: spec.label, levels: spec.levels, reason: `"${separator}" is this server's hierarchy separator` });
        continue;
      }
      const path = pathOf(spec.levels);
      if (spec.isContainer) {
        created.push({ spec, path, sent: [] });
        continue;
      }
      if (path !== 'INBOX') {
        const command: CommandPart[] = ['CREATE ', quoteOrLiteral(encodeMutf7(path))];
        const answer = await session.command(command);
        if (answer.status !== 'OK') {
          manifest.refused.push({ kind: 'folder', label: spec.label, path, command: shown(command), answer: `${answer.status} ${answer.text}` });
          refusedPaths.add(path);
          continue;
        }
        await session.command(['SUBSCRIBE ', quoteOrLiteral(encodeMutf7(path))]);
      }
      const sent: MessageSpec[] = [];
      for (const message of spec.messages) {
        const append = async (flags: readonly string[]) => {
          const command: CommandPart[] = ['APPEND ', quoteOrLiteral(encodeMutf7(path)), ` (${flags.join(' ')}) "${message.date}" `, new Literal(message.raw)];
          return { command, answer: await session.command(command) };
        };
        let { command, answer } = await append(message.flags);
        const keywords = message.flags.filter((f) => !f.startsWith('\\'));
        if (answer.status !== 'OK' && keywords.length > 0) {
          const retry = await append(message.flags.filter((f) => f.startsWith('\\')));
          if (retry.answer.status === 'OK') {
            manifest.refused.push({ kind: 'flags', label: `${spec.label}: ${message.label} (${keywords.join(' ')})`, path, command: shown(command), answer: `${answer.status} ${answer.text}` });
            sent.push({ ...message, flags: message.flags.filter((f) => f.startsWith('\\')) });
            continue;
          }
          ({ command, answer } = retry);
        }
        if (answer.status !== 'OK') {
          manifest.refused.push({ kind: 'message', label: `${spec.label}: ${message.label}`, path, command: shown(command), answer: `${answer.status} ${answer.text}` });
          continue;
        }
        sent.push(message);
      }
      created.push({ spec, path, sent });
    }

    // Read back: the names as listed, and each folder's messages as served.
    const listed = new Map<string, Set<string>>();
    for (const unit of (await session.command(['LIST "" "*"'])).untagged) {
      const folder = parseListLine(unit.text, unit.literals);
      if (folder) listed.set(folder.path, new Set([...folder.flags].map((f) => f.toLowerCase())));
    }
    for (const { spec, path, sent } of created) {
      const flags = listed.get(path);
      if (!flags) {
        manifest.altered.push({ kind: 'folder-name', label: spec.label, path, detail: `created, but LIST does not show ${JSON.stringify(path)}` });
        continue;
      }
      const isSelectable = !flags.has('\\noselect') && !flags.has('\\nonexistent');
      let messages = 0;
      if (isSelectable) {
        const examine = await session.command(['EXAMINE ', quoteOrLiteral(encodeMutf7(path))]);
        if (examine.status !== 'OK') throw new Error(`EXAMINE ${path}: ${examine.status} ${examine.text}`);
        const exists = Number(examine.untagged.map((u) => /^\* (\d+) EXISTS/i.exec(u.text)?.[1]).find(Boolean) ?? 0);
        const served = exists > 0 ? await fetchAll(session) : [];
        messages = served.length;
        for (let i = 0; i < Math.max(sent.length, served.length); i++) {
          const want = sent[i];
          const got = served[i];
          const label = `${spec.label}: ${want?.label ?? `extra message ${i + 1}`}`;
          if (!want || !got) {
            manifest.altered.push({ kind: 'message-bytes', label, path, detail: want ? 'appended, but not served' : 'served, but never appended' });
            continue;
          }
          if (!want.raw.equals(got.raw)) manifest.altered.push({ kind: 'message-bytes', label, path, detail: describeBytes(want.raw, got.raw) });
          const gotFlags = got.flags.filter((f) => f.toLowerCase() !== '\\recent');
          if (!sameFlags(want.flags, gotFlags)) manifest.altered.push({ kind: 'flags', label, path, detail: `(${want.flags.join(' ')}) -> (${gotFlags.join(' ')})` });
          if (parseImapDate(want.date) !== parseImapDate(got.internalDate)) manifest.altered.push({ kind: 'internal-date', label, path, detail: `${want.date} -> ${got.internalDate}` });
        }
      }
      manifest.folders.push({ label: spec.label, levels: spec.levels, path, messages, isSelectable });
      manifest.totalMessages += messages;
    }
    return manifest;
  } finally {
    await session.logout();
  }
}

interface ServedMessage {
  uid: number;
  flags: string[];
  internalDate: string;
  raw: Buffer;
}

async function fetchAll(session: WireImapClient): Promise<ServedMessage[]> {
  const answer = await session.command(['UID FETCH 1:* (UID FLAGS INTERNALDATE BODY.PEEK[])']);
  if (answer.status !== 'OK') throw new Error(`FETCH: ${answer.status} ${answer.text}`);
  const messages: ServedMessage[] = [];
  for (const unit of answer.untagged) {
    if (!/^\* \d+ FETCH/i.test(unit.text)) continue;
    const uid = Number(/\bUID (\d+)/i.exec(unit.text)?.[1]);
    const flags = /\bFLAGS \(([^)]*)\)/i.exec(unit.text)?.[1]?.split(/\s+/).filter(Boolean) ?? [];
    const internalDate = /\bINTERNALDATE "([^"]*)"/i.exec(unit.text)?.[1] ?? '';
    const raw = unit.literals[0] ?? Buffer.alloc(0);
    messages.push({ uid, flags, internalDate, raw });
  }
  return messages.sort((a, b) => a.uid - b.uid);
}
