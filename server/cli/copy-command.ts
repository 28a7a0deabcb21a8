import { createHash } from 'node:crypto';
import path from 'node:path';
import { buildNetworkPolicy } from '../accounts/network-settings';
import { parseServer, type MailServer } from '../accounts/server-address';
import { ConnectorError } from '../accounts/types';
import { failureMessage } from '../accounts/messages';
import { copyMailbox, CopyError, type CopySummary } from '../engine/copy-mailbox';
import type { ProgressSnapshot } from '../engine/progress';
import { FileStateStore } from '../engine/state';
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

export function summaryJson(summary: CopySummary): string {
  return JSON.stringify({
    folders: summary.folders,
    messages: summary.messages,
    bytes: summary.bytes,
    seconds: Math.round(summary.seconds * 1000) / 1000,
  });
}

function numberOption(options: CommandContext['options'], name: string): number | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  const number = Number(value);
  if (typeof value !== 'string' || !Number.isFinite(number) || number <= 0) throw new Error(`--${name} needs a positive number`);
  return number;
}

export const copyCommand: Command = {
  name: 'copy',
  summary: 'Copy a mailbox from one IMAP account to another, exactly once, resumable (no database needed).',
  usage: [
    'npm run ferry -- copy --from imap://USER@HOST:PORT --to imaps://USER@HOST:PORT [options]',
    '',
    'Options:',
    '  --from-password-file FILE, --to-password-file FILE   (or MAILFERRY_FROM_PASSWORD / MAILFERRY_TO_PASSWORD)',
    '  --state FILE        checkpoints, so a re-run or an interrupted run resumes (default: in the working folder)',
    '  --no-flags          do not carry flag changes of messages copied in an earlier run',
    '  --connections N     appending connections to the target (default: one per folder copied at once)',
    '  --folders N         folders copied at once (default 4)',
    '  --max-size MB       skip and report larger messages (default 50)',
    '  --json              print one JSON summary instead of a progress bar',
    '',
    'Private and plain-text servers need MAILFERRY_ALLOWED_HOSTS / MAILFERRY_INSECURE_HOSTS, as in the portal.',
  ].join('\n'),
  async run({ env, options, out }) {
    if (typeof options.from !== 'string' || typeof options.to !== 'string') {
      out(`Usage: ${this.usage}`);
      return 2;
    }
    const source = await endpointFromUrl(options.from, options['from-password-file'] as string | undefined, process.env.MAILFERRY_FROM_PASSWORD);
    const target = await endpointFromUrl(options.to, options['to-password-file'] as string | undefined, process.env.MAILFERRY_TO_PASSWORD);
    const key = createHash('sha256').update(`${source.user}@${source.server.host}:${source.server.port}>${target.user}@${target.server.host}:${target.server.port}`).digest('hex').slice(0, 12);
    const stateFile = typeof options.state === 'string' ? path.resolve(options.state) : path.resolve(`mailferry-copy-${key}.state.json`);
    const json = options.json === true;
    const tty = process.stderr.isTTY;
    let lastLine = '';
    const state = new FileStateStore(stateFile);
    try {
      const summary = await copyMailbox({
        source: { server: source.server, auth: () => ({ user: source.user, pass: source.password }) },
        target: { server: target.server, auth: () => ({ user: target.user, pass: target.password }) },
        policy: buildNetworkPolicy(env, { allowedHosts: '', insecureHosts: '', trustedCaPem: null }),
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
      if (json) {
        out(summaryJson(summary));
      } else {
        if (tty) process.stderr.write(`\r${progressLine(summary.progress)}\n`);
        else if (lastLine) process.stderr.write(`${progressLine(summary.progress)}\n`);
        out(
          `${summary.folders} folders · ${summary.messages.copied} copied · ${summary.messages.skipped} already there · ${summary.messages.failed} not copied · ${formatBytes(summary.bytes)} in ${summary.seconds.toFixed(1)} s`,
        );
        for (const issue of summary.issues) out(`  ${issue.folder}${issue.uid ? ` UID ${issue.uid}` : ''}${issue.size ? ` (${formatBytes(issue.size)})` : ''}: ${issue.reason}`);
        out(`State: ${stateFile}`);
      }
      return summary.messages.failed > 0 || summary.issues.length > 0 ? 3 : 0;
    } catch (error) {
      // What was copied before the failure is resumed from, not copied again.
      await state.close().catch(() => undefined);
      if (tty && !json) process.stderr.write('\n');
      const message =
        error instanceof ConnectorError ? failureMessage(error.reason) : error instanceof CopyError ? error.message : `The copy failed: ${(error as Error).message}`;
      if (json) out(JSON.stringify({ error: message }));
      else out(`✗ ${message}\nState: ${stateFile} (run the same command again to resume)`);
      return 1;
    }
  },
};
