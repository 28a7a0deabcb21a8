/**
 * `node --import tsx scripts/groupware-corpus/verify.ts --from URL --to URL [-v]`: compares two
 * CalDAV/CardDAV accounts collection by collection and item by item by UID and normalised
 * content (server/engine/groupware/verify-groupware.ts); prints PERFECT with a line per
 * collection, or the differences. Passwords as for `ferry groupware copy`:
 * --from-password-file / --to-password-file, else MAILFERRY_FROM_PASSWORD / MAILFERRY_TO_PASSWORD,
 * else the URL. Exit 0 PERFECT, 1 differences, 2 wrong usage or the accounts could not be read.
 */
import path from 'node:path';
import { davEndpointFromUrl } from '@/server/cli/groupware-command';
import { parseArgs } from '@/server/cli/commands';
import { DavEndpoint } from '@/server/engine/groupware/dav-endpoint';
import { verdictLines, verifyGroupware } from '@/server/engine/groupware/verify-groupware';

const USAGE = `Usage: node --import tsx scripts/groupware-corpus/verify.ts --from https://USER@HOST/PATH --to https://USER@HOST/PATH
         [--from-password-file FILE] [--to-password-file FILE] [-v]

Compares every calendar, address book and task list of the source with the target's, item by
item by UID and normalised content (PRODID, DTSTAMP and the target's own X- properties and
scheduling parameters do not count). Prints PERFECT, or one line per missing, different or
duplicated item (property names only, never values). -v prints up to every difference.
Passwords: the files, else MAILFERRY_FROM_PASSWORD / MAILFERRY_TO_PASSWORD, else the URL.
Exit status: 0 PERFECT, 1 differences, 2 wrong usage or an account could not be read.`;

const { options } = parseArgs(process.argv.slice(2));
if (options.help || typeof options.from !== 'string' || typeof options.to !== 'string') {
  console.error(USAGE);
  process.exit(options.help ? 0 : 2);
}
const file = (name: string) => {
  const value = options[name];
  if (value === true) {
    console.error(`--${name} needs a value\n\n${USAGE}`);
    process.exit(2);
  }
  return value === undefined ? undefined : path.resolve(process.env.INIT_CWD ?? process.cwd(), value);
};
const plainFetch = (input: string | URL, init?: RequestInit) => fetch(input, init);
const open = async (url: string, passwordFile: string | undefined, env: string | undefined) => {
  const endpoint = await davEndpointFromUrl(url, passwordFile, env);
  return DavEndpoint.open({ serverUrl: endpoint.serverUrl, username: endpoint.user, password: endpoint.password, fetch: plainFetch });
};

try {
  const [source, target] = await Promise.all([
    open(options.from, file('from-password-file'), process.env.MAILFERRY_FROM_PASSWORD),
    open(options.to, file('to-password-file'), process.env.MAILFERRY_TO_PASSWORD),
  ]);
  const verdict = await verifyGroupware(source, target);
  const lines = verdictLines(verdict);
  const limit = options.v || options.verbose ? Infinity : 200;
  for (const line of lines.slice(0, limit)) console.log(line);
  if (lines.length > limit) console.log(`… and ${lines.length - limit} more (-v lists all)`);
  if (!verdict.isPerfect) {
    const count = (key: 'missing' | 'different' | 'duplicates') => verdict.collections.reduce((n, c) => n + c[key].length, 0);
    const absent = verdict.collections.filter((c) => c.target === null).length;
    console.log(`DIFFERENCES: ${count('missing')} missing, ${count('different')} different, ${count('duplicates')} duplicated${absent ? `, ${absent} collections not on the target` : ''}`);
  }
  process.exit(verdict.isPerfect ? 0 : 1);
} catch (error) {
  console.error(`verify: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}
