import { normalizeEmail } from '../auth/sign-in';
import { createDb, type Db } from '../db';
import { issueKeys, listKeys } from '../licensing/keys';
import { issueKeysSchema } from '../licensing/schemas';
import { localDatabaseUrl } from '../runtime/local-database';
import type { Command, CommandContext } from './commands';

/** The reseller organization one of whose users has this email. */
async function resellerByEmail(db: Db, email: string) {
  const user = await db.user.findUnique({
    where: { email: normalizeEmail(email) },
    select: { role: true, organization: { select: { id: true, name: true, kind: true } } },
  });
  if (!user?.organization || user.organization.kind !== 'reseller') return null;
  return user.organization;
}

const date = (value: Date) => value.toISOString().slice(0, 10);

async function issue(db: Db, { options, out }: CommandContext): Promise<number> {
  const parsed = issueKeysSchema.safeParse({ size: Number(options.size), count: options.count === undefined ? 1 : Number(options.count) });
  if (!parsed.success || typeof options.reseller !== 'string') {
    for (const issue of parsed.error?.issues ?? []) out(`--${String(issue.path[0])}: ${issue.message}`);
    if (typeof options.reseller !== 'string') out('--reseller: the email of a user of the reseller');
    out(`Usage: ${keysCommand.usage}`);
    return 2;
  }
  const reseller = await resellerByEmail(db, options.reseller);
  if (!reseller) {
    out(`No reseller has a user with the email ${normalizeEmail(options.reseller)}.`);
    return 1;
  }
  const issued = await issueKeys(db, null, { resellerId: reseller.id, size: parsed.data.size, count: parsed.data.count });
  // Only the keys go to standard output, so a script can capture them as they are.
  for (const key of issued.keys) out(key.key);
  console.error(`Issued ${issued.keys.length} key(s) for ${issued.size} migrations each, owned by ${reseller.name}. They are not shown again.`);
  return 0;
}

async function list(db: Db, { options, out }: CommandContext): Promise<number> {
  if (typeof options.reseller !== 'string') {
    out(`Usage: ${keysCommand.usage}`);
    return 2;
  }
  const reseller = await resellerByEmail(db, options.reseller);
  if (!reseller) {
    out(`No reseller has a user with the email ${normalizeEmail(options.reseller)}.`);
    return 1;
  }
  const { keys, summary } = await listKeys(db, { role: 'reseller', organizationId: reseller.id });
  for (const key of keys) {
    const registered = key.state === 'registered' ? `  ${key.organization?.name ?? '(deleted organization)'} since ${date(key.registeredAt!)}, ${key.used}/${key.size} used` : '';
    out(`${key.maskedKey}  ${String(key.size).padStart(3)}  ${key.state.padEnd(10)}  issued ${date(key.createdAt)}${registered}`);
  }
  console.error(`${reseller.name}: ${summary.unused} unused, ${summary.registered} registered, ${summary.revoked} revoked.`);
  return 0;
}

export const keysCommand: Command = {
  name: 'keys',
  summary: 'Issue licence keys for a reseller, or list its keys.',
  usage: [
    'npm run ferry -- keys issue --size 5|10|25|50|100 [--count N] --reseller EMAIL   prints one key a line',
    '       npm run ferry -- keys list --reseller EMAIL',
    '',
    'EMAIL is the email of any user of the reseller organization. --count defaults to 1 (at most 100).',
  ].join('\n'),
  async run(context) {
    const sub = context.args[0];
    if (sub !== 'issue' && sub !== 'list') {
      context.out(`Usage: ${this.usage}`);
      return 2;
    }
    const db = createDb(await localDatabaseUrl(context.env));
    try {
      return await (sub === 'issue' ? issue(db, context) : list(db, context));
    } finally {
      await db.$disconnect();
    }
  },
};
