import { createHash } from 'node:crypto';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';

/**
 * Compares a source and a target IMAP account after a copy. Identity is the sha256 of the
 * full message bytes (BODY.PEEK[]), so any change to a message (an added X-TUID or Message-ID
 * header, re-encoded body, CRLF damage) shows up. Messages whose bytes changed are still paired
 * with their source by Message-ID, or by Date/From/To/Subject when there is none, and counted
 * as byte mismatches rather than as one missing plus one extra message.
 */

export interface ImapAccount {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Implicit TLS. Default false (the bench runs plain IMAP on loopback). */
  secure?: boolean;
  tls?: ImapFlowOptions['tls'];
  /** Name in reports; default `user`. */
  label?: string;
}

export interface MessageFacts {
  uid: number;
  sha256: string;
  /** Bytes of BODY[] as served. */
  size: number;
  /** Flags and keywords, sorted, without \Recent (which no client can set). */
  flags: string[];
  /** INTERNALDATE, epoch milliseconds. */
  internalDate: number;
  messageId: string | null;
  /** Hash of Date/From/To/Subject/X-Bench-Id: identity for messages without Message-ID. */
  headerKey: string;
  /** Lowercased header field names, for reporting what a tool added or removed. */
  headerNames: string[];
}

export interface FolderSnapshot {
  name: string;
  delimiter: string;
  messages: MessageFacts[];
}

export interface AccountSnapshot {
  label: string;
  folders: Map<string, FolderSnapshot>;
}

export interface SnapshotOptions {
  /** Folder names to leave out. */
  ignoreFolders?: readonly string[];
  /**
   * Upper bound of message bytes fetched per FETCH command. The hash is computed per message
   * and the bytes dropped, so memory stays near this figure whatever the mailbox size.
   */
  batchBytes?: number;
}

export interface VerifyOptions extends SnapshotOptions {
  /** Target folder name for a source folder; default: same levels, target's separator. */
  mapFolder?: (sourceName: string, sourceDelimiter: string) => string;
  /** Allowed INTERNALDATE difference. Default 0. */
  dateSlackSeconds?: number;
}

export interface FolderCounts {
  source: number;
  target: number;
  /** Source messages that have a target counterpart (byte-identical or not). */
  matched: number;
  missing: number;
  /** Extra target copies of a message the source has. */
  duplicates: number;
  /** Target messages that match nothing in the source folder. */
  extra: number;
  flagMismatches: number;
  dateMismatches: number;
  byteMismatches: number;
}

export interface MessageExample {
  folder: string;
  uid: number;
  messageId: string | null;
  detail?: string;
}

export interface FlagMismatch {
  folder: string;
  sourceUid: number;
  targetUid: number;
  source: string[];
  target: string[];
}

export interface VerifyReport {
  source: { label: string; folders: number; messages: number; bytes: number };
  target: { label: string; folders: number; messages: number; bytes: number };
  folders: { matched: number; missing: string[]; extra: string[] };
  messages: FolderCounts & { keywordsLost: number };
  flagsLost: Record<string, number>;
  flagsAdded: Record<string, number>;
  /** Header fields present only on the target (or only on the source) copy of a pair. */
  headersAdded: Record<string, number>;
  headersRemoved: Record<string, number>;
  perFolder: Record<string, FolderCounts>;
  /** Every flag mismatch (up to 10 000), so callers can check specific messages. */
  flagMismatchList: FlagMismatch[];
  /** Every source message without a counterpart (up to 10 000). */
  missingList: { folder: string; uid: number }[];
  examples: Record<'missing' | 'duplicates' | 'extra' | 'flags' | 'dates' | 'bytes', MessageExample[]>;
  /** True only when every mismatch count is 0 and the folder sets agree. */
  isExact: boolean;
  seconds: number;
}

const EXAMPLES_PER_KIND = 5;
const MAX_LISTED = 10_000;

export async function verifyCopy(source: ImapAccount, target: ImapAccount, options: VerifyOptions = {}): Promise<VerifyReport> {
  const started = performance.now();
  // Both accounts at once: one connection each, and the two server processes use both cores.
  const [a, b] = await Promise.all([snapshotAccount(source, options), snapshotAccount(target, options)]);
  const report = compareSnapshots(a, b, options);
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

export async function snapshotAccount(account: ImapAccount, options: SnapshotOptions = {}): Promise<AccountSnapshot> {
  const batchBytes = options.batchBytes ?? 8 * 1024 * 1024;
  const ignore = new Set(options.ignoreFolders ?? []);
  const client = new ImapFlow({
    host: account.host,
    port: account.port,
    secure: account.secure ?? false,
    tls: account.tls,
    auth: { user: account.user, pass: account.password },
    logger: false,
    disableAutoIdle: true,
  });
  let socketError: Error | undefined;
  // Without a listener a socket error would crash the process instead of failing this call.
  client.on('error', (error: Error) => {
    socketError = error;
  });
  await client.connect();
  try {
    const folders = new Map<string, FolderSnapshot>();
    const listed = (await client.list()).filter(
      (box) => !box.flags.has('\\Noselect') && !box.flags.has('\\NonExistent') && !ignore.has(box.path),
    );
    for (const box of listed) {
      const mailbox = await client.mailboxOpen(box.path, { readOnly: true });
      const messages: MessageFacts[] = [];
      if (mailbox.exists > 0) {
        const meta = await client.fetchAll('1:*', { uid: true, flags: true, internalDate: true, size: true });
        const byUid = new Map(meta.map((m) => [m.uid, m]));
        for (const batch of uidBatches(meta.map((m) => ({ uid: m.uid, size: m.size ?? 0 })), batchBytes)) {
          for await (const fetched of client.fetch(batch, { uid: true, source: true }, { uid: true })) {
            const m = byUid.get(fetched.uid);
            if (!m || !fetched.source) continue;
            messages.push({
              uid: m.uid,
              sha256: createHash('sha256').update(fetched.source).digest('hex'),
              size: fetched.source.length,
              flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(),
              internalDate: m.internalDate ? new Date(m.internalDate).getTime() : 0,
              ...headerFacts(fetched.source),
            });
          }
        }
        messages.sort((x, y) => x.uid - y.uid);
      }
      folders.set(box.path, { name: box.path, delimiter: box.delimiter, messages });
    }
    return { label: account.label ?? account.user, folders };
  } catch (error) {
    throw socketError && error instanceof Error ? new Error(`${error.message} (${socketError.message})`, { cause: error }) : error;
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** UID sets whose messages add up to about `maxBytes` (at least one message each). */
function uidBatches(messages: readonly { uid: number; size: number }[], maxBytes: number): string[] {
  const batches: string[] = [];
  let uids: number[] = [];
  let bytes = 0;
  for (const m of [...messages].sort((a, b) => a.uid - b.uid)) {
    if (uids.length > 0 && bytes + m.size > maxBytes) {
      batches.push(compressUids(uids));
      uids = [];
      bytes = 0;
    }
    uids.push(m.uid);
    bytes += m.size;
  }
  if (uids.length > 0) batches.push(compressUids(uids));
  return batches;
}

export function compressUids(sorted: readonly number[]): string {
  const parts: string[] = [];
  let start = sorted[0];
  let prev = start;
  for (const uid of [...sorted.slice(1), undefined]) {
    if (uid !== undefined && prev !== undefined && uid === prev + 1) {
      prev = uid;
      continue;
    }
    if (start !== undefined) parts.push(start === prev ? String(start) : `${start}:${prev}`);
    start = uid;
    prev = uid;
  }
  return parts.join(',');
}

const IDENTITY_FIELDS = ['date', 'from', 'to', 'subject', 'x-bench-id'];

export function headerFacts(source: Buffer): Pick<MessageFacts, 'messageId' | 'headerKey' | 'headerNames'> {
  let end = source.indexOf('\r\n\r\n');
  if (end < 0) end = source.indexOf('\n\n');
  if (end < 0) end = source.length;
  // latin1 keeps every byte as one char, so 8-bit headers hash the same on both sides.
  const block = source.subarray(0, end).toString('latin1').replace(/\r?\n[ \t]/g, ' ');
  const fields = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!fields.has(name)) fields.set(name, line.slice(colon + 1).trim());
  }
  const messageId = fields.get('message-id') || null;
  const headerKey = createHash('sha1')
    .update(IDENTITY_FIELDS.map((f) => fields.get(f) ?? '').join('\n'))
    .digest('hex');
  return { messageId, headerKey, headerNames: [...fields.keys()].sort() };
}

// ---------------------------------------------------------------------------------------------

type Pair = [MessageFacts, MessageFacts];

function emptyCounts(): FolderCounts {
  return { source: 0, target: 0, matched: 0, missing: 0, duplicates: 0, extra: 0, flagMismatches: 0, dateMismatches: 0, byteMismatches: 0 };
}

function defaultMapFolder(targetDelimiter: string | undefined) {
  return (name: string, delimiter: string) =>
    targetDelimiter && delimiter && targetDelimiter !== delimiter ? name.split(delimiter).join(targetDelimiter) : name;
}

export function compareSnapshots(source: AccountSnapshot, target: AccountSnapshot, options: VerifyOptions = {}): VerifyReport {
  const slackMs = (options.dateSlackSeconds ?? 0) * 1000;
  const targetDelimiter = [...target.folders.values()][0]?.delimiter;
  const mapFolder = options.mapFolder ?? defaultMapFolder(targetDelimiter);
  const report: VerifyReport = {
    source: summarize(source),
    target: summarize(target),
    folders: { matched: 0, missing: [], extra: [] },
    messages: { ...emptyCounts(), keywordsLost: 0 },
    flagsLost: {},
    flagsAdded: {},
    headersAdded: {},
    headersRemoved: {},
    perFolder: {},
    flagMismatchList: [],
    missingList: [],
    examples: { missing: [], duplicates: [], extra: [], flags: [], dates: [], bytes: [] },
    isExact: false,
    seconds: 0,
  };
  const example = (kind: keyof VerifyReport['examples'], folder: string, m: MessageFacts, detail?: string) => {
    const list = report.examples[kind];
    if (list.length < EXAMPLES_PER_KIND) list.push({ folder, uid: m.uid, messageId: m.messageId, ...(detail ? { detail } : {}) });
  };

  const missing = (folder: string, m: MessageFacts, detail?: string) => {
    if (report.missingList.length < MAX_LISTED) report.missingList.push({ folder, uid: m.uid });
    example('missing', folder, m, detail);
  };

  const unclaimedTargets = new Set(target.folders.keys());
  for (const [name, folder] of source.folders) {
    const counts = emptyCounts();
    report.perFolder[name] = counts;
    counts.source = folder.messages.length;
    const targetName = mapFolder(name, folder.delimiter);
    const other = target.folders.get(targetName);
    if (!other) {
      report.folders.missing.push(name);
      counts.missing = folder.messages.length;
      for (const m of folder.messages) missing(name, m, 'folder missing');
      continue;
    }
    unclaimedTargets.delete(targetName);
    report.folders.matched += 1;
    counts.target = other.messages.length;

    const exact = matchBy(folder.messages, other.messages, (m) => m.sha256);
    const byId = matchBy(exact.restSource, exact.restTarget, (m) => (m.messageId ? `M:${m.messageId}` : null));
    const byHeaders = matchBy(byId.restSource, byId.restTarget, (m) => `H:${m.headerKey}`);
    const changed = [...byId.pairs, ...byHeaders.pairs];

    for (const [s, t] of [...exact.pairs, ...changed]) {
      if (s.flags.join(' ') !== t.flags.join(' ')) {
        counts.flagMismatches += 1;
        const lost = s.flags.filter((f) => !t.flags.includes(f));
        const added = t.flags.filter((f) => !s.flags.includes(f));
        for (const f of lost) report.flagsLost[f] = (report.flagsLost[f] ?? 0) + 1;
        for (const f of added) report.flagsAdded[f] = (report.flagsAdded[f] ?? 0) + 1;
        if (lost.some((f) => !f.startsWith('\\'))) report.messages.keywordsLost += 1;
        if (report.flagMismatchList.length < MAX_LISTED) {
          report.flagMismatchList.push({ folder: name, sourceUid: s.uid, targetUid: t.uid, source: s.flags, target: t.flags });
        }
        example('flags', name, s, `${s.flags.join(' ') || '(none)'} -> ${t.flags.join(' ') || '(none)'}`);
      }
      if (Math.abs(s.internalDate - t.internalDate) > slackMs) {
        counts.dateMismatches += 1;
        example('dates', name, s, `${new Date(s.internalDate).toISOString()} -> ${new Date(t.internalDate).toISOString()}`);
      }
    }
    for (const [s, t] of changed) {
      counts.byteMismatches += 1;
      const added = t.headerNames.filter((h) => !s.headerNames.includes(h));
      const removed = s.headerNames.filter((h) => !t.headerNames.includes(h));
      for (const h of added) report.headersAdded[h] = (report.headersAdded[h] ?? 0) + 1;
      for (const h of removed) report.headersRemoved[h] = (report.headersRemoved[h] ?? 0) + 1;
      example('bytes', name, s, `${s.size} -> ${t.size} bytes${added.length ? `, added ${added.join(' ')}` : ''}`);
    }
    counts.matched = exact.pairs.length + changed.length;

    const known = new Set<string>();
    for (const m of folder.messages) {
      known.add(m.sha256);
      known.add(`H:${m.headerKey}`);
      if (m.messageId) known.add(`M:${m.messageId}`);
    }
    for (const t of byHeaders.restTarget) {
      const isCopyOfSource = known.has(t.sha256) || known.has(`H:${t.headerKey}`) || (t.messageId !== null && known.has(`M:${t.messageId}`));
      if (isCopyOfSource) {
        counts.duplicates += 1;
        example('duplicates', name, t);
      } else {
        counts.extra += 1;
        example('extra', name, t);
      }
    }
    counts.missing = byHeaders.restSource.length;
    for (const s of byHeaders.restSource) missing(name, s);
  }

  for (const name of [...unclaimedTargets].sort()) {
    const folder = target.folders.get(name);
    if (!folder) continue;
    report.folders.extra.push(name);
    const counts = emptyCounts();
    counts.target = folder.messages.length;
    counts.extra = folder.messages.length;
    report.perFolder[`(target) ${name}`] = counts;
    for (const m of folder.messages) example('extra', name, m, 'folder only on target');
  }

  for (const counts of Object.values(report.perFolder)) {
    for (const key of Object.keys(counts) as (keyof FolderCounts)[]) report.messages[key] += counts[key];
  }
  const m = report.messages;
  report.isExact =
    report.folders.missing.length === 0 &&
    report.folders.extra.length === 0 &&
    m.missing + m.duplicates + m.extra + m.flagMismatches + m.dateMismatches + m.byteMismatches === 0;
  return report;
}

function summarize(snapshot: AccountSnapshot): VerifyReport['source'] {
  let messages = 0;
  let bytes = 0;
  for (const folder of snapshot.folders.values()) {
    messages += folder.messages.length;
    for (const m of folder.messages) bytes += m.size;
  }
  return { label: snapshot.label, folders: snapshot.folders.size, messages, bytes };
}

/**
 * Pairs messages with equal keys as multisets. Within a key (identical copies), copies that
 * also agree on flags and date pair first, so a correct copy of two differently flagged
 * duplicates is not scored as two flag mismatches.
 */
function matchBy(
  source: readonly MessageFacts[],
  target: readonly MessageFacts[],
  key: (m: MessageFacts) => string | null,
): { pairs: Pair[]; restSource: MessageFacts[]; restTarget: MessageFacts[] } {
  const groups = new Map<string, { s: MessageFacts[]; t: MessageFacts[] }>();
  const restSource: MessageFacts[] = [];
  const restTarget: MessageFacts[] = [];
  for (const m of source) {
    const k = key(m);
    if (k === null) restSource.push(m);
    else (groups.get(k) ?? groups.set(k, { s: [], t: [] }).get(k)!).s.push(m);
  }
  for (const m of target) {
    const k = key(m);
    const group = k === null ? undefined : groups.get(k);
    if (group) group.t.push(m);
    else restTarget.push(m);
  }
  const pairs: Pair[] = [];
  const signature = (m: MessageFacts) => `${m.internalDate}|${m.flags.join(' ')}`;
  for (const { s, t } of groups.values()) {
    const leftS = [...s];
    const leftT: MessageFacts[] = [];
    for (const tm of t) {
      const i = leftS.findIndex((sm) => signature(sm) === signature(tm));
      if (i >= 0) pairs.push([leftS.splice(i, 1)[0]!, tm]);
      else leftT.push(tm);
    }
    const bySignature = (x: MessageFacts, y: MessageFacts) => signature(x).localeCompare(signature(y)) || x.uid - y.uid;
    leftS.sort(bySignature);
    leftT.sort(bySignature);
    const n = Math.min(leftS.length, leftT.length);
    for (let i = 0; i < n; i++) pairs.push([leftS[i]!, leftT[i]!]);
    restSource.push(...leftS.slice(n));
    restTarget.push(...leftT.slice(n));
  }
  return { pairs, restSource, restTarget };
}

// ---------------------------------------------------------------------------------------------

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const tally = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}×${n}`)
    .join(' ');

/** One summary line, then (verbose) per-folder lines and examples for anything that differs. */
export function formatVerifyReport(report: VerifyReport, options: { verbose?: boolean } = {}): string {
  const m = report.messages;
  const f = report.folders;
  const parts = [
    `folders ${f.matched}/${report.source.folders} (missing ${f.missing.length}, extra ${f.extra.length})`,
    `messages src=${report.source.messages} (${mb(report.source.bytes)}) dst=${report.target.messages} matched=${m.matched}`,
    `missing=${m.missing} dup=${m.duplicates} extra=${m.extra}`,
    `flags=${m.flagMismatches}${m.keywordsLost ? ` (keywords lost on ${m.keywordsLost})` : ''}`,
    `dates=${m.dateMismatches}`,
    `bytes=${m.byteMismatches}${Object.keys(report.headersAdded).length ? ` (headers added: ${tally(report.headersAdded)})` : ''}`,
  ];
  const lines = [`VERIFY ${report.source.label} -> ${report.target.label}: ${parts.join(' | ')} | ${report.isExact ? 'EXACT' : 'DIFF'}`];
  if (!options.verbose) return lines.join('\n');
  if (f.missing.length) lines.push(`  folders missing: ${f.missing.join(', ')}`);
  if (f.extra.length) lines.push(`  folders extra:   ${f.extra.join(', ')}`);
  if (Object.keys(report.flagsLost).length || Object.keys(report.flagsAdded).length) {
    lines.push(`  flags lost: ${tally(report.flagsLost) || '-'}; flags added: ${tally(report.flagsAdded) || '-'}`);
  }
  if (Object.keys(report.headersRemoved).length) lines.push(`  headers removed: ${tally(report.headersRemoved)}`);
  for (const [name, c] of Object.entries(report.perFolder)) {
    const clean = c.missing + c.duplicates + c.extra + c.flagMismatches + c.dateMismatches + c.byteMismatches === 0 && c.source === c.matched;
    if (clean) continue;
    lines.push(
      `  ${name.padEnd(24)} src=${c.source} dst=${c.target} matched=${c.matched} missing=${c.missing} dup=${c.duplicates} ` +
        `extra=${c.extra} flags=${c.flagMismatches} dates=${c.dateMismatches} bytes=${c.byteMismatches}`,
    );
  }
  for (const [kind, list] of Object.entries(report.examples)) {
    for (const e of list) {
      lines.push(`  e.g. ${kind}: ${e.folder} uid ${e.uid} ${e.messageId ?? '(no Message-ID)'}${e.detail ? ` — ${e.detail}` : ''}`);
    }
  }
  return lines.join('\n');
}
