import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { createDavFetch } from '../accounts/dav/dav-fetch';
import { microsoftEndpoints } from '../accounts/check';
import { acquireAppToken, forgetAppToken, GRAPH_SCOPE } from '../accounts/m365/oauth';
import { failureMessage } from '../accounts/messages';
import { createPinnedFetch } from '../accounts/network/pinned-fetch';
import { buildNetworkPolicy } from '../accounts/network-settings';
import { ConnectorError } from '../accounts/types';
import { copyGroupware, type GroupwareCopySummary } from '../engine/groupware/copy-groupware';
import { DavEndpoint } from '../engine/groupware/dav-endpoint';
import { EwsEndpoint } from '../engine/groupware/ews/ews-target';
import { GraphEndpoint } from '../engine/groupware/graph/graph-target';
import type { GroupwareTarget } from '../engine/groupware/model';
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

/** One side of the command: a CalDAV/CardDAV account, an Exchange mailbox over EWS, or a Microsoft 365 mailbox over Graph. */
export type GroupwareAccountSpec =
  | ({ kind: 'dav' } & DavEndpointUrl)
  | { kind: 'ews'; url: string; user: string; password: string; email: string }
  | { kind: 'graph'; user: string };

/**
 * `https://USER@HOST/PATH` (CalDAV/CardDAV), `ews+https://USER@HOST/EWS/Exchange.asmx` (Exchange;
 * USER may be DOMAIN%5Cuser, the mailbox is `?mailbox=ADDRESS` or USER when it is an address)
 * or `graph:ADDRESS` (a Microsoft 365 mailbox, through the organization's app).
 */
export async function groupwareAccountFromText(text: string, passwordFile: string | undefined, passwordEnv: string | undefined): Promise<GroupwareAccountSpec> {
  const graph = /^graph:(.+)$/i.exec(text);
  if (graph) {
    const user = decodeURIComponent(graph[1]!.replace(/^\/\//, ''));
    if (!/^[^@\s/]+@[^@\s/]+$/.test(user)) throw new Error(`A Microsoft 365 mailbox is graph:ADDRESS, e.g. graph:anna@example.com (got ${text})`);
    return { kind: 'graph', user };
  }
  if (/^ews\+https?:\/\//i.test(text)) {
    const { user, password, bare } = await readAccountUrl(text.slice('ews+'.length), passwordFile, passwordEnv);
    if (!user) throw new Error(`The Exchange URL needs a user: ews+https://USER@HOST/EWS/Exchange.asmx (${bare.host})`);
    if (password === undefined) throw new Error(`No password for ${user}@${bare.host}: use a password file, the environment or the URL`);
    const mailbox = bare.searchParams.get('mailbox') ?? (user.includes('@') ? user : '');
    if (!mailbox) throw new Error(`Say which mailbox: ews+https://DOMAIN%5Cuser@HOST/EWS/Exchange.asmx?mailbox=ADDRESS`);
    bare.search = '';
    if (bare.pathname === '/' || bare.pathname === '') bare.pathname = '/EWS/Exchange.asmx';
    return { kind: 'ews', url: bare.href, user, password, email: mailbox };
  }
  return { kind: 'dav', ...(await davEndpointFromUrl(text, passwordFile, passwordEnv)) };
}

function specKey(spec: GroupwareAccountSpec): string {
  return spec.kind === 'dav' ? `${spec.user}@${spec.serverUrl}` : spec.kind === 'ews' ? `ews:${spec.user}@${spec.url}` : `graph:${spec.user}`;
}

/** What `--json` prints: the collections and the time, as the issue's command line names them. */
export interface GroupwareCopyReport {
  collections: { kind: string; source: string; target: string; items: number; copied: number; updated: number; skipped: number; failed: number }[];
  seconds: number;
}

interface ChangedGroup {
  kind: string;
  component: string;
  property: string | null;
  reason: string;
  items: number;
}

/** The run's items copied without something the target has no place for, per kind, property and reason. */
function changedGroups(summary: GroupwareCopySummary): ChangedGroup[] {
  const groups = new Map<string, ChangedGroup>();
  for (const change of summary.changes) {
    for (const note of change.notMapped) {
      const key = [change.kind, note.component, note.property ?? '', note.reason].join('\u0000');
      const group = groups.get(key) ?? { kind: change.kind, component: note.component, property: note.property, reason: note.reason, items: 0 };
      group.items++;
      groups.set(key, group);
    }
  }
  return [...groups.values()].sort((a, b) => b.items - a.items);
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

function changedLines(summary: GroupwareCopySummary): string[] {
  if (summary.changes.length === 0) return [];
  return [
    `Copied with changes (${summary.changes.length} ${summary.changes.length === 1 ? 'item' : 'items'}; the target has no place for):`,
    ...changedGroups(summary).map((g) => `  ${g.items} × ${g.component}${g.property ? ` ${g.property}` : ''}: ${g.reason}`),
  ];
}

export function groupwareReportLines(summary: GroupwareCopySummary, stateFile: string): string[] {
  const failed = summary.collections.reduce((n, c) => n + c.failed, 0);
  return [
    ...summary.collections.map(
      (c) => `${KIND_WORDS[c.kind]} "${c.source}" → "${c.target}": ${c.items} items · ${c.copied} copied · ${c.updated} updated · ${c.skipped} already there · ${c.failed} not copied`,
    ),
    ...summary.collections.flatMap((c) => (c.note ? [c.note] : [])),
    ...(summary.issues.length > 0 ? ['Not copied:', ...summary.issues.map(issueLine)] : []),
    ...changedLines(summary),
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
  summary: 'Copy calendars, address books and task lists between CalDAV/CardDAV, Exchange and Microsoft 365 accounts, exactly once, resumable.',
  usage: [
    'npm run ferry -- groupware copy --from ACCOUNT --to ACCOUNT [--state FILE] [--json]',
    '',
    'ACCOUNT is one of:',
    '  https://USER@HOST/PATH                  CalDAV/CardDAV (Zimbra, Kolab, Open-Xchange, ...). PATH may be empty:',
    '                                          the server is then found from the host (RFC 6764 /.well-known).',
    '  ews+https://USER@HOST/EWS/Exchange.asmx  Exchange on-premise (Basic, or NTLM where the server asks for it).',
    '                                          USER may be DOMAIN%5Cuser; add ?mailbox=ADDRESS when USER is no address.',
    '  graph:ADDRESS                           a Microsoft 365 mailbox, through the organization\'s app:',
    '                                          --tenant-id ID --client-id ID, the secret in MAILFERRY_CLIENT_SECRET.',
    '',
    'Every calendar, address book and task list is copied; the default ones go to the target\'s defaults.',
    'Items are identified by UID: a re-run copies only new and changed items, and never adds one twice.',
    'Deletions are not carried over. No invitation, update or cancellation is sent to anyone: on Microsoft 365,',
    'which would invite attendees, meetings are written without them and the attendees are kept in the text.',
    'What a target has no place for is listed as "copied with changes".',
    '',
    'Options:',
    '  --from-password-file FILE, --to-password-file FILE   (or MAILFERRY_FROM_PASSWORD / MAILFERRY_TO_PASSWORD)',
    '  --state FILE        checkpoints, so a re-run or an interrupted run resumes (default: one file per',
    '                      account pair in the state folder of `ferry copy`)',
    '  --json              print {"collections": [...], "seconds": s} instead of the report (what was',
    '                      copied with changes goes to stderr)',
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
    const source = await groupwareAccountFromText(options.from, file('from-password-file'), process.env.MAILFERRY_FROM_PASSWORD);
    const target = await groupwareAccountFromText(options.to, file('to-password-file'), process.env.MAILFERRY_TO_PASSWORD);
    const tenantId = stringOption(options, 'tenant-id');
    const clientId = stringOption(options, 'client-id');
    const app = tenantId && clientId ? { tenantId, clientId, clientSecret: process.env.MAILFERRY_CLIENT_SECRET ?? '' } : null;
    if ((source.kind === 'graph' || target.kind === 'graph') && !app) throw new Error('A Microsoft 365 mailbox needs the organization\'s app: --tenant-id ID --client-id ID, the secret in MAILFERRY_CLIENT_SECRET');
    const key = `groupware-${createHash('sha256').update(`${specKey(source)}>${specKey(target)}`).digest('hex').slice(0, 12)}`;
    const stateFile = file('state') ?? defaultStateFile(key, { dataDir: env.MAILFERRY_DATA_DIR, xdgStateHome: process.env.XDG_STATE_HOME, home: os.homedir() });
    const state = new FileGroupwareStateStore(stateFile);
    const policy = buildNetworkPolicy(env, { allowedHosts: '', insecureHosts: '', trustedCaPem: null });
    const pinned = createPinnedFetch(policy, { timeoutMs: 60_000 });
    const davFetch = createDavFetch(pinned);
    const endpoints = microsoftEndpoints(env);
    const open = async (spec: GroupwareAccountSpec): Promise<GroupwareTarget> => {
      switch (spec.kind) {
        case 'dav':
          return DavEndpoint.open({ serverUrl: spec.serverUrl, username: spec.user, password: spec.password, fetch: davFetch });
        case 'ews':
          return new EwsEndpoint({ url: spec.url, email: spec.email, username: spec.user, password: spec.password, fetch: pinned });
        case 'graph': {
          const request = { ...app!, scope: GRAPH_SCOPE, authorityHost: endpoints.authorityHost, fetch: pinned };
          return new GraphEndpoint({
            graphBaseUrl: endpoints.graphBaseUrl,
            user: spec.user,
            fetch: pinned,
            token: async ({ renewed }: { renewed: boolean }) => {
              if (renewed) forgetAppToken(request);
              return (await acquireAppToken(request)).accessToken;
            },
          });
        }
      }
    };
    try {
      const [from, to] = await Promise.all([open(source), open(target)]);
      const tty = process.stderr.isTTY && !json;
      const summary = await copyGroupware({
        source: from,
        target: to,
        state,
        onProgress: tty ? (p) => process.stderr.write(`\r${p.collection}: ${p.done}/${p.total}   `) : undefined,
      });
      await state.close();
      if (tty) process.stderr.write('\n');
      if (json) {
        out(JSON.stringify(buildGroupwareReport(summary)));
        // The JSON keeps its two keys; what a target left out goes to the error stream.
        for (const line of changedLines(summary)) process.stderr.write(`${line}\n`);
      }
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
