import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildNetworkPolicy } from '../accounts/network-settings';
import { parseServer, type MailServer } from '../accounts/server-address';
import { ConnectorError } from '../accounts/types';
import { failureMessage } from '../accounts/messages';
import { copyMailbox, CopyError, type CopySummary } from '../engine/copy-mailbox';
import type { ProgressSnapshot } from '../engine/progress';
import { FileStateStore, type CopyNotice } from '../engine/state';
import { verifyMailbox, type MailboxVerdict } from '../engine/verify-mailbox';
import { resolveDataDir } from '../runtime/data-dir';
import { readAccountUrl } from './account-url';
import type { Command, CommandContext } from './commands';

export interface CliEndpoint {
  server: MailServer;
  user: string;
  password: string;
}

/** `imap://USER@HOST:PORT` (user and password percent-encoded) → where and how to log in. */
export async function endpointFromUrl(text: string, passwordFile: string | undefined, passwordEnv: string | undefined): Promise<CliEndpoint> {
  const { scheme, host, user, password } = await readAccountUrl(text, passwordFile, passwordEnv);
  if (!user) throw new Error(`The account URL needs a user: imap://USER@HOST:PORT (${host})`);
  if (password === undefined) throw new Error(`No password for ${user}@${host}: use a password file, the environment or the URL`);
  const mail = parseServer(`${scheme}://${host}`).mail;
  if (!mail) throw new Error(`${text} is not an IMAP address`);
  return { server: mail, user, password };
}

/** The same for every run between the same two accounts, so a re-run finds its state. */
export function accountPairKey(source: Pick<CliEndpoint, 'server' | 'user'>, target: Pick<CliEndpoint, 'server' | 'user'>): string {
  const account = (e: Pick<CliEndpoint, 'server' | 'user'>) => `${e.user}@${e.server.host}:${e.server.port}`;
  return createHash('sha256').update(`${account(source)}>${account(target)}`).digest('hex').slice(0, 12);
}

export interface StateLocation {
  /** MAILFERRY_DATA_DIR as configured (relative to the project, like the portal's). */
  dataDir: string | undefined;
  xdgStateHome: string | undefined;
  home: string;
}

/**
 * Where a copy keeps its checkpoints unless `--state` says otherwise: MAILFERRY_DATA_DIR when it
 * is set, else the user's state folder (XDG). Not the portal's default `.data`: that sits in the
 * project checkout, and `npm run` starts every command there whatever folder it was typed in.
 */
export function defaultStateFile(key: string, where: StateLocation): string {
  // The XDG spec says a relative XDG_STATE_HOME is to be ignored.
  const stateHome = where.xdgStateHome && path.isAbsolute(where.xdgStateHome) ? where.xdgStateHome : path.join(where.home, '.local', 'state');
  const base = where.dataDir !== undefined ? resolveDataDir(where.dataDir) : path.join(stateHome, 'mailferry');
  return path.join(base, 'copies', `${key}.state.json`);
}

/** What an earlier run left in the state file, or null when there is none. */
export interface EarlierRun {
  stateFile: string;
  /** Sum of the checkpoints' messagesCopied. */
  messagesCopied: number;
  /** Messages earlier runs could not copy (a run with --fresh tries them again). */
  messagesFailed: number;
}

async function earlierRun(state: FileStateStore): Promise<EarlierRun | null> {
  const checkpoints = [...(await state.loadCheckpoints()).values()];
  if (checkpoints.length === 0) return null;
  return {
    stateFile: state.file,
    messagesCopied: checkpoints.reduce((n, c) => n + c.messagesCopied, 0),
    messagesFailed: checkpoints.reduce((n, c) => n + c.messagesFailed, 0),
  };
}

const count = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, one: string, many: string) => `${count(n)} ${n === 1 ? one : many}`;

export function resumingLine(earlier: EarlierRun): string {
  const failed = earlier.messagesFailed > 0 ? ` (${plural(earlier.messagesFailed, 'message', 'messages')} could not be copied then; --fresh tries again)` : '';
  return `resuming: ${plural(earlier.messagesCopied, 'message was', 'messages were')} copied by an earlier run${failed}, state ${earlier.stateFile}`;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(2)} GB`;
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MB`;
  return `${Math.round(bytes / 1024)} KB`;
}

function progressLine(p: ProgressSnapshot): string {
  const ratio = p.totalBytes > 0 ? p.doneBytes / p.totalBytes : p.totalMessages > 0 ? p.doneMessages / p.totalMessages : 1;
  const width = 28;
  const filled = Math.round(Math.min(1, ratio) * width);
  const eta = p.etaSeconds !== null ? ` · ETA ${Math.floor(p.etaSeconds / 60)}m${String(p.etaSeconds % 60).padStart(2, '0')}s` : '';
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${p.doneMessages}/${p.totalMessages} messages · ${formatBytes(p.doneBytes)}/${formatBytes(p.totalBytes)}${eta}`;
}

interface MessageCounts {
  total: number;
  copied: number;
  skipped: number;
  failed: number;
}

/** What `--json` prints: one line, the same keys on every run. */
export interface CopyReport {
  /** `complete` only when the pass finished and nothing was lost. */
  status: 'complete' | 'incomplete';
  folders: number;
  messages: MessageCounts;
  bytes: number;
  seconds: number;
  /** Every message and folder not copied; a folder has uid and size null. */
  failures: { folder: string; uid: number | null; size: number | null; reason: string }[];
  renamed: { source: string; target: string; reason: string }[];
  notices: string[];
  /** Messages copied earlier that are no longer in the target. */
  gone: number;
  folderReports: ({ source: string; target: string } & MessageCounts & { gone: number })[];
  resumed: EarlierRun | null;
  stateFile: string;
  /** Only when the counts do not add up, which is a bug: what does not. */
  countErrors?: string[];
  /** Only with --verify: per folder, the source's messages found on the target by the engine's identity. */
  verification?: VerificationReport;
}

export interface VerificationReport {
  sourceMessages: number;
  present: number;
  missing: number;
  /** Of the missing, those listed under `failures` (this run's or an earlier one's). */
  missingReported: number;
  unverified: number;
  seconds: number;
  folders: { source: string; target: string | null; sourceMessages: number; present: number; missing: number; missingUids: number[]; unverified: string | null }[];
}

export function verificationReport(verdict: MailboxVerdict): VerificationReport {
  const sum = (key: 'sourceMessages' | 'present' | 'missingReported') => verdict.folders.reduce((n, f) => n + f[key], 0);
  return {
    sourceMessages: sum('sourceMessages'),
    present: sum('present'),
    missing: verdict.missing,
    missingReported: sum('missingReported'),
    unverified: verdict.unverified,
    seconds: Math.round(verdict.seconds * 1000) / 1000,
    folders: verdict.folders.map((f) => ({
      source: f.sourcePath,
      target: f.targetPath,
      sourceMessages: f.sourceMessages,
      present: f.present,
      missing: f.missing,
      missingUids: f.missingUids,
      unverified: f.unverified,
    })),
  };
}

/** What the verification found beyond the failures listed: messages missing for no known reason, folders not verified. */
const isVerificationGap = (v: VerificationReport | undefined) => v !== undefined && (v.missing > v.missingReported || v.unverified > 0);

/**
 * Where `copied + skipped + failed == total` does not hold, for the pass and each folder, and
 * where the folders do not add up to the pass.
 */
export function countErrors(summary: Pick<CopySummary, 'messages' | 'folderReports'>): string[] {
  const check = (what: string, c: MessageCounts) =>
    c.copied + c.skipped + c.failed === c.total ? [] : [`${what}: ${c.copied} copied + ${c.skipped} skipped + ${c.failed} failed is not the total of ${c.total}`];
  const errors = [...check('all folders', summary.messages), ...summary.folderReports.flatMap((f) => check(`folder "${f.sourcePath}"`, f))];
  if (summary.folderReports.length > 0) {
    for (const field of ['total', 'copied', 'skipped', 'failed'] as const) {
      const sum = summary.folderReports.reduce((n, f) => n + f[field], 0);
      if (sum !== summary.messages[field]) errors.push(`${field}: the folders add up to ${sum}, the copy says ${summary.messages[field]}`);
    }
  }
  return errors;
}

/** A notice as one line that names its folder. */
function noticeLine(notice: CopyNotice): string {
  return notice.folder === null || notice.text.includes(notice.folder) ? notice.text : `${notice.folder}: ${notice.text}`;
}

export function buildCopyReport(summary: CopySummary, context: { stateFile: string; resumed: EarlierRun | null; verification?: VerificationReport }): CopyReport {
  const errors = countErrors(summary);
  const failures = summary.issues.map(({ folder, uid, size, reason }) => ({ folder, uid, size, reason }));
  const isLoss = summary.hasLoss || summary.messages.failed > 0 || failures.length > 0;
  const { total, copied, skipped, failed } = summary.messages;
  return {
    // Messages an earlier run could not copy are still not there: a re-run does not hide them.
    status:
      summary.isComplete && !isLoss && errors.length === 0 && (context.resumed?.messagesFailed ?? 0) === 0 && !isVerificationGap(context.verification) ? 'complete' : 'incomplete',
    folders: summary.folders,
    messages: { total, copied, skipped, failed },
    bytes: summary.bytes,
    seconds: Math.round(summary.seconds * 1000) / 1000,
    failures,
    renamed: summary.renamed.map((r) => ({ source: r.sourcePath, target: r.targetPath, reason: r.reason })),
    notices: summary.notices.map(noticeLine),
    gone: summary.gone,
    folderReports: summary.folderReports.map((f) => ({
      source: f.sourcePath,
      target: f.targetPath,
      total: f.total,
      copied: f.copied,
      skipped: f.skipped,
      failed: f.failed,
      gone: f.gone,
    })),
    resumed: context.resumed,
    stateFile: context.stateFile,
    ...(errors.length > 0 ? { countErrors: errors } : {}),
    ...(context.verification ? { verification: context.verification } : {}),
  };
}

/** "Complete", or "Incomplete: " and what is missing. */
export function verdictLine(report: CopyReport, isPassFinished: boolean): string {
  if (report.status === 'complete') return 'Complete';
  const folders = report.failures.filter((f) => f.uid === null).length;
  const missing = [
    ...(report.messages.failed > 0 ? [`${plural(report.messages.failed, 'message was', 'messages were')} not copied`] : []),
    ...((report.resumed?.messagesFailed ?? 0) > 0 ? [`${plural(report.resumed!.messagesFailed, 'message', 'messages')} not copied by an earlier run (--fresh tries again)`] : []),
    ...(folders > 0 ? [`${plural(folders, 'folder was', 'folders were')} not copied, nor the messages in ${folders === 1 ? 'it' : 'them'}`] : []),
    ...(isPassFinished ? [] : ['the copy stopped before the end; run the same command again to go on']),
    ...(report.countErrors ? ['the counts do not add up'] : []),
    ...(report.verification && report.verification.missing > report.verification.missingReported
      ? [`verification found ${plural(report.verification.missing - report.verification.missingReported, 'message', 'messages')} missing on the target`]
      : []),
    ...(report.verification && report.verification.unverified > 0 ? [`${plural(report.verification.unverified, 'folder', 'folders')} could not be verified`] : []),
  ];
  return `Incomplete: ${missing.join('; ')}`;
}

/** The human-readable report, after the progress bar. */
export function reportLines(report: CopyReport, isPassFinished: boolean): string[] {
  const { messages } = report;
  return [
    `${report.folders} folders · ${count(messages.copied)} copied · ${count(messages.skipped)} already there · ${count(messages.failed)} not copied · ${formatBytes(report.bytes)} in ${report.seconds.toFixed(1)} s`,
    // The engine's reasons are whole sentences that name both folders.
    ...report.renamed.map((r) => r.reason),
    ...report.notices,
    ...(report.gone > 0 ? [`${plural(report.gone, 'message', 'messages')} copied earlier ${report.gone === 1 ? 'is' : 'are'} no longer in the target (deleted there)`] : []),
    ...(report.failures.length > 0 ? ['Not copied:'] : []),
    ...report.failures.map((f) => `  ${f.folder}${f.uid !== null ? ` UID ${f.uid}` : ''}${f.size !== null ? ` (${formatBytes(f.size)})` : ''}: ${f.reason}`),
    ...(report.verification ? verificationLines(report.verification) : []),
    `State: ${report.stateFile}`,
    verdictLine(report, isPassFinished),
  ];
}

/** "Verified: 2,000 of 2,000 messages are on the target", and each folder with a gap. */
function verificationLines(v: VerificationReport): string[] {
  return [
    `Verified: ${count(v.present)} of ${count(v.sourceMessages)} messages are on the target (${v.seconds.toFixed(1)} s)`,
    ...v.folders.flatMap((f) => [
      ...(f.missing > 0 ? [`  ${f.source}: ${count(f.missing)} missing, UID ${f.missingUids.join(', ')}${f.missing > f.missingUids.length ? ` and ${count(f.missing - f.missingUids.length)} more` : ''}`] : []),
      ...(f.unverified ? [`  ${f.source}: ${f.unverified}`] : []),
    ]),
  ];
}

function numberOption(options: CommandContext['options'], name: string): number | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  const number = Number(value);
  if (typeof value !== 'string' || !Number.isFinite(number) || number <= 0) throw new Error(`--${name} needs a positive number`);
  return number;
}

function flagOption(options: CommandContext['options'], name: string): boolean {
  const value = options[name];
  // `--fresh somefile` would otherwise be read as a value and the switch silently ignored.
  if (typeof value === 'string') throw new Error(`--${name} takes no value (got "${value}")`);
  return value === true;
}

/**
 * `npm run` starts every command in the project folder; a relative path the user typed means
 * the folder it was typed in (INIT_CWD).
 */
function userPath(file: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), file);
}

function stringOption(options: CommandContext['options'], name: string): string | undefined {
  const value = options[name];
  if (value === true) throw new Error(`--${name} needs a value`);
  return value;
}

export const copyCommand: Command = {
  name: 'copy',
  summary: 'Copy a mailbox from one IMAP account to another, exactly once, resumable (no database needed).',
  // A getter: the help names the state folder this user's runs really use.
  get usage() {
    const here = path.dirname(defaultStateFile('-', { dataDir: process.env.MAILFERRY_DATA_DIR?.trim() || undefined, xdgStateHome: process.env.XDG_STATE_HOME, home: os.homedir() }));
    return [
      'npm run ferry -- copy --from imap://USER@HOST:PORT --to imaps://USER@HOST:PORT [options]',
      '',
      'Options:',
      '  --from-password-file FILE, --to-password-file FILE   (or MAILFERRY_FROM_PASSWORD / MAILFERRY_TO_PASSWORD)',
      '  --state FILE        checkpoints, so a re-run or an interrupted run resumes. Default: one file per',
      `                      source and target account in ${here}`,
      '                      ($MAILFERRY_DATA_DIR/copies when that is set, else ${XDG_STATE_HOME:-~/.local/state}/mailferry/copies)',
      '  --fresh             forget the earlier state and compare everything again; messages the target',
      '                      already holds are recognised and not copied twice',
      '  --no-flags          do not carry flag changes of messages copied in an earlier run',
      '  --connections N     appending connections to the target (default: one per folder copied at once)',
      '  --folders N         folders copied at once (default 4)',
      '  --max-size MB       skip and report larger messages (default 50)',
      '  --json              print one JSON summary instead of a progress bar',
      '  --verify            then check message by message that the target holds every source message',
      '                      (by Message-ID and Date, else the header block); a gap makes the copy incomplete',
      '',
      'Exit status: 0 complete, 3 incomplete (messages or folders not copied, listed), 1 the copy could',
      'not run or stopped (run it again to resume), 2 wrong usage, 4 the counts do not add up (a bug).',
      '',
      'Private and plain-text servers need MAILFERRY_ALLOWED_HOSTS / MAILFERRY_INSECURE_HOSTS, as in the portal.',
    ].join('\n');
  },
  async run({ env, options, out }) {
    if (typeof options.from !== 'string' || typeof options.to !== 'string') {
      out(`Usage: ${this.usage}`);
      return 2;
    }
    const json = flagOption(options, 'json');
    const verify = flagOption(options, 'verify');
    const fresh = flagOption(options, 'fresh');
    const passwordFile = (name: string) => {
      const file = stringOption(options, name);
      return file === undefined ? undefined : userPath(file);
    };
    const source = await endpointFromUrl(options.from, passwordFile('from-password-file'), process.env.MAILFERRY_FROM_PASSWORD);
    const target = await endpointFromUrl(options.to, passwordFile('to-password-file'), process.env.MAILFERRY_TO_PASSWORD);
    const key = accountPairKey(source, target);
    const stateOption = stringOption(options, 'state');
    const stateFile =
      stateOption !== undefined
        ? userPath(stateOption)
        : defaultStateFile(key, { dataDir: env.MAILFERRY_DATA_DIR, xdgStateHome: process.env.XDG_STATE_HOME, home: os.homedir() });
    if (fresh) await fs.rm(stateFile, { force: true });
    const state = new FileStateStore(stateFile);
    let resumed: EarlierRun | null;
    try {
      resumed = await earlierRun(state);
    } catch (error) {
      const message = `The state file ${stateFile} cannot be read (${(error as Error).message}). Run with --fresh to start over: messages already on the target are not copied twice.`;
      out(json ? JSON.stringify({ status: 'incomplete', error: message, stateFile }) : `✗ ${message}`);
      return 1;
    }
    if (resumed) process.stderr.write(`${resumingLine(resumed)}\n`);
    else if (stateOption === undefined && !fresh) {
      // Versions before the state folder kept it in the working folder.
      const older = path.resolve(`mailferry-copy-${key}.state.json`);
      if (existsSync(older)) process.stderr.write(`A state this copy left in its old place is not used: ${older} (pass --state ${older} to resume from it)\n`);
    }
    const tty = process.stderr.isTTY;
    let lastLine = '';
    try {
      const sourceEndpoint = { server: source.server, auth: () => ({ user: source.user, pass: source.password }) };
      const targetEndpoint = { server: target.server, auth: () => ({ user: target.user, pass: target.password }) };
      const policy = buildNetworkPolicy(env, { allowedHosts: '', insecureHosts: '', trustedCaPem: null });
      const summary = await copyMailbox({
        source: sourceEndpoint,
        target: targetEndpoint,
        policy,
        state,
        // A re-run is a delta pass: new messages, and flag changes of those copied before.
        syncFlags: options['no-flags'] !== true,
        appendConnections: numberOption(options, 'connections'),
        folderConcurrency: numberOption(options, 'folders'),
        maxMessageBytes: (numberOption(options, 'max-size') ?? 50) * 1024 * 1024,
        onProgress: json
          ? undefined
          : (p) => {
              lastLine = progressLine(p);
              if (tty) process.stderr.write(`\r${lastLine}`);
            },
      });
      await state.close();
      const verification =
        verify && summary.isComplete
          ? verificationReport(
              await verifyMailbox({
                source: sourceEndpoint,
                target: targetEndpoint,
                policy,
                folders: summary.folderReports.map((f) => ({ sourcePath: f.sourcePath, targetPath: f.targetPath })),
                // Every message any run of this copy could not copy: its reason is known.
                notCopied: await state.issues(),
              }),
            )
          : undefined;
      const report = buildCopyReport(summary, { stateFile, resumed, ...(verification ? { verification } : {}) });
      if (json) out(JSON.stringify(report));
      else {
        if (tty) process.stderr.write(`\r${progressLine(summary.progress)}\n`);
        else if (lastLine) process.stderr.write(`${progressLine(summary.progress)}\n`);
        for (const line of reportLines(report, summary.isComplete)) out(line);
      }
      if (report.countErrors) {
        process.stderr.write(`\n!!! Mailferry bug: the copy's counts do not add up. Please report this with the output above.\n${report.countErrors.map((e) => `!!!   ${e}`).join('\n')}\n\n`);
        return 4;
      }
      return report.status === 'complete' ? 0 : 3;
    } catch (error) {
      // What was copied before the failure is resumed from, not copied again.
      await state.close().catch(() => undefined);
      if (tty && !json) process.stderr.write('\n');
      const message =
        error instanceof ConnectorError ? failureMessage(error.reason) : error instanceof CopyError ? error.message : `The copy failed: ${(error as Error).message}`;
      if (json) out(JSON.stringify({ status: 'incomplete', error: message, resumed, stateFile }));
      else out(`✗ ${message}\nState: ${stateFile} (run the same command again to resume)`);
      return 1;
    }
  },
};
