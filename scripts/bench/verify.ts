import { createHash } from 'node:crypto';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';

/**
 * Compares a source and a target IMAP account after a copy. Identity is the sha256 of the
 * full message bytes (BODY.PEEK[]), so any change to a message (an added X-TUID or Message-ID
 * header, re-encoded body, CRLF damage) shows up. Messages whose bytes changed are still paired
 * with their source by Message-ID, or by Date/From/To/Subject when there is none, and counted
 * as byte mismatches rather than as one missing plus one extra message.
 *
 * Beyond the bench (Dovecot to Dovecot, same names): a copy's folder renames and special-use
 * mappings can be given, folders left out on purpose excluded, and a target server named, so
 * that the few rewrites that server makes to every message it stores (and that no client can
 * prevent) count as matched, while any other byte change still fails.
 */

export type ImapServerKind = 'dovecot' | 'cyrus' | 'courier';

/** A rewrite a target server makes to the messages it stores: what it serves for the bytes it was given. */
export interface ByteAllowance {
  name: string;
  server: ImapServerKind;
  apply(raw: Buffer): Buffer;
}

/** Where the header block ends (the blank line), or the message length when there is none. */
function headerEnd(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf < 0) return lf < 0 ? raw.length : lf;
  return lf < 0 ? crlf : Math.min(crlf, lf);
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * What each target server is allowed to change, and nothing more (each seen on the real server,
 * test/hostile-corpus.test.ts). Dovecot gets nothing: the only rewrite seen there, a bare LF
 * served as CRLF, cannot arise in a copy, since no source serves a bare LF (Dovecot and Courier
 * serve CRLF, Cyrus refuses such messages).
 */
export const SERVER_ALLOWANCES: Record<ImapServerKind, readonly ByteAllowance[]> = {
  dovecot: [],
  cyrus: [
    {
      // Cyrus (munge8bit, its default): every 8-bit byte in the header block becomes "X".
      name: 'cyrus: 8-bit header bytes as X',
      server: 'cyrus',
      apply(raw) {
        const end = headerEnd(raw);
        let out: Buffer | null = null;
        for (let i = 0; i < end; i++) {
          if (raw[i]! < 0x80) continue;
          out ??= Buffer.from(raw);
          out[i] = 0x58;
        }
        return out ?? raw;
      },
    },
  ],
  courier: [
    {
      // Courier keeps messages in maildir files with LF line ends and serves them with CRLF:
      // a CR that does not end a line does not survive the round trip.
      name: 'courier: lone CR dropped',
      server: 'courier',
      apply(raw) {
        const keep: number[] = [];
        for (let i = 0; i < raw.length; i++) if (raw[i] === CR && raw[i + 1] !== LF) keep.push(i);
        if (keep.length === 0) return raw;
        const parts: Buffer[] = [];
        let from = 0;
        for (const i of keep) {
          parts.push(raw.subarray(from, i));
          from = i + 1;
        }
        parts.push(raw.subarray(from));
        return Buffer.concat(parts);
      },
    },
    {
      // Courier, for the same reason: a line that ended in a bare LF is served with CRLF.
      name: 'courier: bare LF served as CRLF',
      server: 'courier',
      apply(raw) {
        const bare: number[] = [];
        for (let i = 0; i < raw.length; i++) if (raw[i] === LF && raw[i - 1] !== CR) bare.push(i);
        if (bare.length === 0) return raw;
        const parts: Buffer[] = [];
        let from = 0;
        for (const i of bare) {
          parts.push(raw.subarray(from, i), Buffer.from([CR]));
          from = i;
        }
        parts.push(raw.subarray(from));
        return Buffer.concat(parts);
      },
    },
    {
      // Courier: a file's last line always ends with a newline, served as CRLF.
      name: 'courier: final newline added',
      server: 'courier',
      apply(raw) {
        return raw.length >= 2 && raw[raw.length - 2] === CR && raw[raw.length - 1] === LF ? raw : Buffer.concat([raw, Buffer.from('\r\n')]);
      },
    },
  ],
};

/**
 * What `server` would serve for a message stored with these bytes, and which allowances changed
 * it; null when none applies.
 */
export function allowedVariant(raw: Buffer, server: ImapServerKind): { bytes: Buffer; allowances: string[] } | null {
  let bytes = raw;
  const allowances: string[] = [];
  for (const allowance of SERVER_ALLOWANCES[server]) {
    const next = allowance.apply(bytes);
    if (next !== bytes && !next.equals(bytes)) allowances.push(allowance.name);
    bytes = next;
  }
  return allowances.length > 0 ? { bytes, allowances } : null;
}

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
  /**
   * Source side only, when a target server was named: the sha256 of what that server would
   * serve for these bytes (see SERVER_ALLOWANCES), when that differs from `sha256`.
   */
  allowed?: { sha256: string; allowances: string[] };
}

export interface FolderSnapshot {
  name: string;
  delimiter: string;
  messages: MessageFacts[];
}

export interface AccountSnapshot {
  label: string;
  folders: Map<string, FolderSnapshot>;
  /** Personal namespace prefix ("INBOX." on Courier), '' when none; unknown when absent. */
  prefix?: string;
  /** Folders that exist only to hold others (\Noselect, \NonExistent): no messages, but a name the target must have. */
  containers?: string[];
}

/** A folder name, or a pattern for several. */
export type FolderMatcher = string | RegExp;

function isMatched(name: string, matchers: readonly FolderMatcher[] | undefined): boolean {
  return !!matchers?.some((m) => (typeof m === 'string' ? m === name : m.test(name)));
}

export interface SnapshotOptions {
  /** Folder names to leave out. */
  ignoreFolders?: readonly string[];
  /**
   * Upper bound of message bytes fetched per FETCH command. The hash is computed per message
   * and the bytes dropped, so memory stays near this figure whatever the mailbox size.
   */
  batchBytes?: number;
  /** For a source: also hash what this target server would serve for each message (see MessageFacts.allowed). */
  allowancesFor?: ImapServerKind;
}

export interface VerifyOptions extends SnapshotOptions {
  /**
   * Target folder name for a source folder; default: same levels, target's separator, the
   * source's namespace prefix replaced by the target's.
   */
  mapFolder?: (sourceName: string, sourceDelimiter: string) => string;
  /**
   * Where the copy put folders (its report's renames and special-use mappings); wins over
   * `mapFolder`. Several source folders may share one target folder.
   */
  folderMapping?: readonly { sourcePath: string; targetPath: string }[];
  /** The target's server: its allowances (SERVER_ALLOWANCES) count as matched. Default: none allowed. */
  targetServer?: ImapServerKind;
  /** Source folders not meant to be copied (virtual \All or \Flagged views, folders left out on purpose). */
  excludeSourceFolders?: readonly FolderMatcher[];
  /** Target folders that are none of the copy's business (the server's own, other tools'). */
  excludeTargetFolders?: readonly FolderMatcher[];
  /** Allowed INTERNALDATE difference. Default 0. */
  dateSlackSeconds?: number;
}

export interface FolderCounts {
  source: number;
  target: number;
  /** Source messages that have a target counterpart (byte-identical or not). */
  matched: number;
  /** Of `matched`: equal only after the target server's allowances (not byte mismatches). */
  allowed: number;
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
  /** `missing` includes source containers (\Noselect parents) whose name the target lacks. */
  folders: { matched: number; missing: string[]; extra: string[]; excluded: string[] };
  messages: FolderCounts & { keywordsLost: number };
  /** Messages matched under each allowance of the target server. */
  allowancesUsed: Record<string, number>;
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
  examples: Record<'missing' | 'duplicates' | 'extra' | 'flags' | 'dates' | 'bytes' | 'allowed', MessageExample[]>;
  /** True only when every mismatch count is 0 and the folder sets agree. */
  isExact: boolean;
  seconds: number;
}

const EXAMPLES_PER_KIND = 5;
const MAX_LISTED = 10_000;

export async function verifyCopy(source: ImapAccount, target: ImapAccount, options: VerifyOptions = {}): Promise<VerifyReport> {
  const started = performance.now();
  // Both accounts at once: one connection each, and the two server processes use both cores.
  const { excludeSourceFolders, excludeTargetFolders, targetServer, ...snapshot } = options;
  const [a, b] = await Promise.all([
    snapshotAccount(source, { ...snapshot, ignoreFolders: [...(options.ignoreFolders ?? []), ...(excludeSourceFolders ?? []).filter((m) => typeof m === 'string')], ...(targetServer ? { allowancesFor: targetServer } : {}) }),
    snapshotAccount(target, { ...snapshot, ignoreFolders: [...(options.ignoreFolders ?? []), ...(excludeTargetFolders ?? []).filter((m) => typeof m === 'string')] }),
  ]);
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
    const all = (await client.list()).filter((box) => !ignore.has(box.path));
    const isContainer = (box: (typeof all)[number]) => box.flags.has('\\Noselect') || box.flags.has('\\NonExistent');
    const containers = all.filter(isContainer).map((box) => box.path);
    const listed = all.filter((box) => !isContainer(box));
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
            const internalDate = m.internalDate ? new Date(m.internalDate).getTime() : 0;
            messages.push(messageFacts(m.uid, fetched.source, [...(m.flags ?? [])], internalDate, options.allowancesFor));
          }
        }
        messages.sort((x, y) => x.uid - y.uid);
      }
      folders.set(box.path, { name: box.path, delimiter: box.delimiter, messages });
    }
    return { label: account.label ?? account.user, folders, prefix: client.namespace?.prefix ?? '', containers };
  } catch (error) {
    throw socketError && error instanceof Error ? new Error(`${error.message} (${socketError.message})`, { cause: error }) : error;
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** What the comparison keeps of one message (the bytes themselves are dropped). */
export function messageFacts(uid: number, raw: Buffer, flags: readonly string[], internalDate: number, allowancesFor?: ImapServerKind): MessageFacts {
  const variant = allowancesFor ? allowedVariant(raw, allowancesFor) : null;
  return {
    uid,
    sha256: createHash('sha256').update(raw).digest('hex'),
    size: raw.length,
    flags: flags.filter((f) => f !== '\\Recent').sort(),
    internalDate,
    ...headerFacts(raw),
    ...(variant ? { allowed: { sha256: createHash('sha256').update(variant.bytes).digest('hex'), allowances: variant.allowances } } : {}),
  };
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
  return { source: 0, target: 0, matched: 0, allowed: 0, missing: 0, duplicates: 0, extra: 0, flagMismatches: 0, dateMismatches: 0, byteMismatches: 0 };
}

function defaultMapFolder(targetDelimiter: string | undefined, sourcePrefix: string, targetPrefix: string) {
  return (name: string, delimiter: string) => {
    if (name.toUpperCase() === 'INBOX') return name;
    const own = sourcePrefix && name.startsWith(sourcePrefix) ? name.slice(sourcePrefix.length) : name;
    const levels = targetDelimiter && delimiter && targetDelimiter !== delimiter ? own.split(delimiter).join(targetDelimiter) : own;
    return targetPrefix + levels;
  };
}

export function compareSnapshots(source: AccountSnapshot, target: AccountSnapshot, options: VerifyOptions = {}): VerifyReport {
  const slackMs = (options.dateSlackSeconds ?? 0) * 1000;
  const targetDelimiter = [...target.folders.values()][0]?.delimiter;
  const mapped = new Map((options.folderMapping ?? []).map((m) => [m.sourcePath, m.targetPath]));
  const fallback = options.mapFolder ?? defaultMapFolder(targetDelimiter, source.prefix ?? '', target.prefix ?? '');
  const mapFolder = (name: string, delimiter: string) => mapped.get(name) ?? fallback(name, delimiter);
  const sourceFolders = new Map([...source.folders].filter(([name]) => !isMatched(name, options.excludeSourceFolders)));
  const targetFolders = new Map([...target.folders].filter(([name]) => !isMatched(name, options.excludeTargetFolders)));
  const report: VerifyReport = {
    source: summarize({ ...source, folders: sourceFolders }),
    target: summarize({ ...target, folders: targetFolders }),
    folders: {
      matched: 0,
      missing: [],
      extra: [],
      excluded: [
        ...[...source.folders.keys()].filter((name) => !sourceFolders.has(name)),
        ...(source.containers ?? []).filter((name) => isMatched(name, options.excludeSourceFolders)),
      ],
    },
    messages: { ...emptyCounts(), keywordsLost: 0 },
    allowancesUsed: {},
    flagsLost: {},
    flagsAdded: {},
    headersAdded: {},
    headersRemoved: {},
    perFolder: {},
    flagMismatchList: [],
    missingList: [],
    examples: { missing: [], duplicates: [], extra: [], flags: [], dates: [], bytes: [], allowed: [] },
    isExact: false,
    seconds: 0,
  };
  const example = (kind: keyof VerifyReport['examples'], folder: string, m: MessageFacts, detail?: string) => {
    const list = report.examples[kind];
    if (list.length < EXAMPLES_PER_KIND) list.push({ folder, uid: m.uid, messageId: m.messageId, ...(detail ? { detail } : {}) });
  };

  // Source folders that land in one target folder (two Sent folders into the target's Sent)
  // are judged together against it.
  const groups = new Map<string, { names: string[]; messages: { folder: string; m: MessageFacts }[] }>();
  for (const [name, folder] of sourceFolders) {
    const targetName = mapFolder(name, folder.delimiter);
    const group = groups.get(targetName) ?? groups.set(targetName, { names: [], messages: [] }).get(targetName)!;
    group.names.push(name);
    group.messages.push(...folder.messages.map((m) => ({ folder: name, m })));
  }
  const folderOf = new Map<MessageFacts, string>();

  const missing = (m: MessageFacts, detail?: string) => {
    const folder = folderOf.get(m)!;
    if (report.missingList.length < MAX_LISTED) report.missingList.push({ folder, uid: m.uid });
    example('missing', folder, m, detail);
  };

  const unclaimedTargets = new Set(targetFolders.keys());
  for (const [targetName, group] of groups) {
    const name = group.names.join(' + ');
    const messages = group.messages.map(({ folder, m }) => (folderOf.set(m, folder), m));
    const counts = emptyCounts();
    report.perFolder[name] = counts;
    counts.source = messages.length;
    const other = targetFolders.get(targetName);
    if (!other) {
      report.folders.missing.push(...group.names);
      counts.missing = messages.length;
      for (const m of messages) missing(m, 'folder missing');
      continue;
    }
    unclaimedTargets.delete(targetName);
    report.folders.matched += group.names.length;
    counts.target = other.messages.length;

    const exact = matchBy(messages, other.messages, (m) => m.sha256);
    // What the target server does to every message it stores (its allowances) is no mismatch.
    const allowed = matchBy(exact.restSource, exact.restTarget, (m) => m.allowed?.sha256 ?? null, (m) => m.sha256);
    const byId = matchBy(allowed.restSource, allowed.restTarget, (m) => (m.messageId ? `M:${m.messageId}` : null));
    const byHeaders = matchBy(byId.restSource, byId.restTarget, (m) => `H:${m.headerKey}`);
    const changed = [...byId.pairs, ...byHeaders.pairs];

    for (const [s, t] of [...exact.pairs, ...allowed.pairs, ...changed]) {
      const folder = folderOf.get(s)!;
      if (s.flags.join(' ') !== t.flags.join(' ')) {
        counts.flagMismatches += 1;
        const lost = s.flags.filter((f) => !t.flags.includes(f));
        const added = t.flags.filter((f) => !s.flags.includes(f));
        for (const f of lost) report.flagsLost[f] = (report.flagsLost[f] ?? 0) + 1;
        for (const f of added) report.flagsAdded[f] = (report.flagsAdded[f] ?? 0) + 1;
        if (lost.some((f) => !f.startsWith('\\'))) report.messages.keywordsLost += 1;
        if (report.flagMismatchList.length < MAX_LISTED) {
          report.flagMismatchList.push({ folder, sourceUid: s.uid, targetUid: t.uid, source: s.flags, target: t.flags });
        }
        example('flags', folder, s, `${s.flags.join(' ') || '(none)'} -> ${t.flags.join(' ') || '(none)'}`);
      }
      if (Math.abs(s.internalDate - t.internalDate) > slackMs) {
        counts.dateMismatches += 1;
        example('dates', folder, s, `${new Date(s.internalDate).toISOString()} -> ${new Date(t.internalDate).toISOString()}`);
      }
    }
    for (const [s] of allowed.pairs) {
      counts.allowed += 1;
      for (const a of s.allowed!.allowances) report.allowancesUsed[a] = (report.allowancesUsed[a] ?? 0) + 1;
      example('allowed', folderOf.get(s)!, s, s.allowed!.allowances.join(', '));
    }
    for (const [s, t] of changed) {
      counts.byteMismatches += 1;
      const added = t.headerNames.filter((h) => !s.headerNames.includes(h));
      const removed = s.headerNames.filter((h) => !t.headerNames.includes(h));
      for (const h of added) report.headersAdded[h] = (report.headersAdded[h] ?? 0) + 1;
      for (const h of removed) report.headersRemoved[h] = (report.headersRemoved[h] ?? 0) + 1;
      example('bytes', folderOf.get(s)!, s, `${s.size} -> ${t.size} bytes${added.length ? `, added ${added.join(' ')}` : ''}`);
    }
    counts.matched = exact.pairs.length + allowed.pairs.length + changed.length;

    const known = new Set<string>();
    for (const m of messages) {
      known.add(m.sha256);
      if (m.allowed) known.add(m.allowed.sha256);
      known.add(`H:${m.headerKey}`);
      if (m.messageId) known.add(`M:${m.messageId}`);
    }
    for (const t of byHeaders.restTarget) {
      const isCopyOfSource = known.has(t.sha256) || known.has(`H:${t.headerKey}`) || (t.messageId !== null && known.has(`M:${t.messageId}`));
      if (isCopyOfSource) {
        counts.duplicates += 1;
        example('duplicates', targetName, t);
      } else {
        counts.extra += 1;
        example('extra', targetName, t);
      }
    }
    counts.missing = byHeaders.restSource.length;
    for (const s of byHeaders.restSource) missing(s);
  }

  // A parent that exists only through its children still needs its name on the target.
  const targetNames = new Set([...target.folders.keys(), ...(target.containers ?? [])]);
  for (const name of source.containers ?? []) {
    if (isMatched(name, options.excludeSourceFolders)) continue;
    const delimiter = [...source.folders.values()][0]?.delimiter ?? '';
    const targetName = mapFolder(name, delimiter);
    if (!targetNames.has(targetName)) report.folders.missing.push(name);
    unclaimedTargets.delete(targetName);
  }

  for (const name of [...unclaimedTargets].sort()) {
    const folder = targetFolders.get(name);
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
  targetKey: (m: MessageFacts) => string | null = key,
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
    const k = targetKey(m);
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
    `messages src=${report.source.messages} (${mb(report.source.bytes)}) dst=${report.target.messages} matched=${m.matched}${m.allowed ? ` (${m.allowed} as the target server stores them)` : ''}`,
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
  if (Object.keys(report.allowancesUsed).length) lines.push(`  allowed: ${tally(report.allowancesUsed)}`);
  if (f.excluded.length) lines.push(`  folders excluded: ${f.excluded.join(', ')}`);
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
