import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { createDavFetch } from '../accounts/dav/dav-fetch';
import { failureMessage } from '../accounts/messages';
import { createPinnedFetch } from '../accounts/network/pinned-fetch';
import { buildNetworkPolicy } from '../accounts/network-settings';
import { ConnectorError } from '../accounts/types';
import { copyGroupware, type GroupwareCopySummary } from '../engine/groupware/copy-groupware';
import { DavEndpoint } from '../engine/groupware/dav-endpoint';
import { FileGroupwareStateStore, type GroupwareIssue } from '../engine/groupware/state';
import { readAccountUrl } from './account-url';
import type { Command, CommandContext } from './commands';
import { defaultStateFile } from './copy-command';

interface DavEndpointUrl {
  serverUrl: string;
  user: string;
  password: string;
}

/** `https://USER@HOST/PATH`: where discovery starts (RFC 6764 from the host when PATH is empty), who logs in. */
export async function davEndpointFromUrl(text: string, passwordFile: string | undefined, passwordEnv: string | undefined): Promise<DavEndpointUrl> {
  if (!/^https?:\/\//i.test(text)) throw new Error(`A groupware account is an https:// (or, for test systems, http://) URL: ${text}`);
  const { user, password, bare } = await readAccountUrl(text, passwordFile, passwordEnv);
  if (!user) throw new Error(`The account URL needs a user: https://USER@HOST/PATH (${bare.host})`);
  if (password === undefined) throw new Error(`No password for ${user}@${bare.host}: use a password file, the environment or the URL`);
  return { serverUrl: bare.href, user, password };
}

/** What `--json` prints: the collections and the time, as the issue's command line names them. */
export interface GroupwareCopyReport {
  collections: { kind: string; source: string; target: string; items: number; copied: number; updated: number; skipped: number; failed: number }[];
  seconds: number;
}

export function buildGroupwareReport(summary: GroupwareCopySummary): GroupwareCopyReport {
  return {
    collections: summary.collections.map(({ kind, source, target, items, copied, updated, skipped, failed }) => ({ kind, source, target, items, copied, updated, skipped, failed })),
    seconds: Math.round(summary.seconds * 1000) / 1000,
  };
}

const KIND_WORDS = { calendar: 'calendar', contacts: 'address book', tasks: 'task list' } as const;

function issueLine(issue: GroupwareIssue): string {
  const size = issue.size !== null ? ` (${Math.max(1, Math.round(issue.size / 1024))} KB)` : '';
  return `  ${KIND_WORDS[issue.kind]} "${issue.collection}"${issue.uid ? ` UID ${issue.uid}` : ''}${size}: ${issue.reason}`;
}

export function groupwareReportLines(summary: GroupwareCopySummary, stateFile: string): string[] {
  const failed = summary.collections.reduce((n, c) => n + c.failed, 0);
  return [
    ...summary.collections.map(
      (c) => `${KIND_WORDS[c.kind]} "${c.source}" → "${c.target}": ${c.items} items · ${c.copied} copied · ${c.updated} updated · ${c.skipped} already there · ${c.failed} not copied`,
    ),
    ...summary.collections.flatMap((c) => (c.note ? [c.note] : [])),
    ...(summary.issues.length > 0 ? ['Not copied:', ...summary.issues.map(issueLine)] : []),
    `${summary.collections.length} collections in ${summary.seconds.toFixed(1)} s · state ${stateFile}`,
    failed === 0 ? 'Complete' : `Incomplete: ${failed} ${failed === 1 ? 'item was' : 'items were'} not copied`,
  ];
}

function stringOption(options: CommandContext['options'], name: string): string | undefined {
  const value = options[name];
  if (value === true) throw new Error(`--${name} needs a value`);
  return value;
}

function userPath(file: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), file);
}

export const groupwareCommand: Command = {
  name: 'groupware',
  summary: 'Copy calendars, address books and task lists from one CalDAV/CardDAV account to another, exactly once, resumable.',
  usage: [
    'npm run ferry -- groupware copy --from https://USER@HOST/PATH --to https://USER@HOST/PATH [--state FILE] [--json]',
    '',
    'PATH may be empty: the server is then found from the host (RFC 6764 /.well-known/caldav and carddav).',
    'Every calendar, address book and task list is copied; the default ones go to the target\'s defaults.',
    'Items are identified by UID: a re-run copies only new and changed items, and never adds one twice.',
    'Deletions are not carried over. No invitation, update or cancellation is sent to anyone.',
    '',
    'Options:',
    '  --from-password-file FILE, --to-password-file FILE   (or MAILFERRY_FROM_PASSWORD / MAILFERRY_TO_PASSWORD)',
    '  --state FILE        checkpoints, so a re-run or an interrupted run resumes (default: one file per',
    '                      account pair in the state folder of `ferry copy`)',
    '  --json              print {"collections": [...], "seconds": s} instead of the report',
    '',
    'Exit status: 0 complete, 3 some items were not copied (listed), 1 the copy could not run, 2 wrong usage.',
    'Private and plain-text servers need MAILFERRY_ALLOWED_HOSTS / MAILFERRY_INSECURE_HOSTS, as in the portal.',
  ].join('\n'),
  async run({ env, args, options, out }) {
    if (args[0] !== 'copy' || typeof options.from !== 'string' || typeof options.to !== 'string') {
      out(`Usage: ${this.usage}`);
      return 2;
    }
    if (typeof options.json === 'string') throw new Error(`--json takes no value (got "${options.json}")`);
    const json = options.json === true;
    const file = (name: string) => {
      const value = stringOption(options, name);
      return value === undefined ? undefined : userPath(value);
    };
    const source = await davEndpointFromUrl(options.from, file('from-password-file'), process.env.MAILFERRY_FROM_PASSWORD);
    const target = await davEndpointFromUrl(options.to, file('to-password-file'), process.env.MAILFERRY_TO_PASSWORD);
    const key = `groupware-${createHash('sha256').update(`${source.user}@${source.serverUrl}>${target.user}@${target.serverUrl}`).digest('hex').slice(0, 12)}`;
    const stateFile = file('state') ?? defaultStateFile(key, { dataDir: env.MAILFERRY_DATA_DIR, xdgStateHome: process.env.XDG_STATE_HOME, home: os.homedir() });
    const state = new FileGroupwareStateStore(stateFile);
    const policy = buildNetworkPolicy(env, { allowedHosts: '', insecureHosts: '', trustedCaPem: null });
    const pinned = createPinnedFetch(policy, { timeoutMs: 60_000 });
    const fetch = createDavFetch(pinned);
    try {
      const [from, to] = await Promise.all([
        DavEndpoint.open({ serverUrl: source.serverUrl, username: source.user, password: source.password, fetch }),
        DavEndpoint.open({ serverUrl: target.serverUrl, username: target.user, password: target.password, fetch }),
      ]);
      const tty = process.stderr.isTTY && !json;
      const summary = await copyGroupware({
        source: from,
        target: to,
        state,
        onProgress: tty ? (p) => process.stderr.write(`\r${p.collection}: ${p.done}/${p.total}   `) : undefined,
      });
      await state.close();
      if (tty) process.stderr.write('\n');
      if (json) out(JSON.stringify(buildGroupwareReport(summary)));
      else for (const line of groupwareReportLines(summary, stateFile)) out(line);
      return summary.collections.some((c) => c.failed > 0) ? 3 : 0;
    } catch (error) {
      await state.close().catch(() => undefined);
      const message = error instanceof ConnectorError ? `${failureMessage(error.reason)} (${error.detail})` : `The groupware copy failed: ${(error as Error).message}`;
      out(json ? JSON.stringify({ error: message, stateFile }) : `✗ ${message}\nState: ${stateFile} (run the same command again to resume)`);
      return 1;
    } finally {
      await pinned.close().catch(() => undefined);
    }
  },
};
