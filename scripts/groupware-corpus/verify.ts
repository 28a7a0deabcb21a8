/**
 * `node --import tsx scripts/groupware-corpus/verify.ts --from URL --to URL`: compares two
 * CalDAV/CardDAV accounts collection by collection and item by item by UID and normalised
 * content; prints PERFECT or the differences (exit 0 or 1). Passwords as for `ferry groupware
 * copy` (MAILFERRY_FROM_PASSWORD / MAILFERRY_TO_PASSWORD).
 */
import { davEndpointFromUrl } from '@/server/cli/groupware-command';
import { DavEndpoint } from '@/server/engine/groupware/dav-endpoint';
import { verdictLines, verifyGroupware } from '@/server/engine/groupware/verify-groupware';
import { parseArgs } from '@/server/cli/commands';

const { options } = parseArgs(process.argv.slice(2));
if (typeof options.from !== 'string' || typeof options.to !== 'string') {
  console.error('Usage: verify.ts --from https://USER@HOST/PATH --to https://USER@HOST/PATH');
  process.exit(2);
}
const plainFetch = (input: string | URL, init?: RequestInit) => fetch(input, init);
const open = async (url: string, env: string | undefined) => {
  const endpoint = await davEndpointFromUrl(url, undefined, env);
  return DavEndpoint.open({ serverUrl: endpoint.serverUrl, username: endpoint.user, password: endpoint.password, fetch: plainFetch });
};
const verdict = await verifyGroupware(await open(options.from, process.env.MAILFERRY_FROM_PASSWORD), await open(options.to, process.env.MAILFERRY_TO_PASSWORD));
for (const line of verdictLines(verdict)) console.log(line);
process.exit(verdict.isPerfect ? 0 : 1);
