import { z } from 'zod';
import { createDb, type Db } from '../db';
import { verifyReceiptChain } from '../privacy/receipts';
import { localDatabaseUrl } from '../runtime/local-database';
import type { Command, CommandContext } from './commands';

/** The organization by id or by exact name; a name two organizations share must be given as id. */
async function findOrganization(db: Db, given: string): Promise<{ id: string; name: string } | string> {
  if (z.uuid().safeParse(given).success) {
    const byId = await db.organization.findUnique({ where: { id: given }, select: { id: true, name: true } });
    if (byId) return byId;
  }
  const byName = await db.organization.findMany({ where: { name: given }, select: { id: true, name: true }, take: 5 });
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) return `${byName.length} organizations are named ${given}: give the id (${byName.map((o) => o.id).join(', ')}).`;
  return `No organization has the id or the name ${given}.`;
}

async function verify(db: Db, { args, options, out }: CommandContext): Promise<number> {
  const given = args[1];
  const anchor = options.anchor;
  if (!given || anchor === true || (typeof anchor === 'string' && !/^[0-9a-f]{64}$/i.test(anchor))) {
    if (anchor !== undefined) out('--anchor: the 64 hexadecimal digits of a receipt’s digest');
    out(`Usage: ${receiptsCommand.usage}`);
    return 2;
  }
  const organization = await findOrganization(db, given);
  if (typeof organization === 'string') {
    out(organization);
    return 1;
  }
  const verdict = await verifyReceiptChain(db, organization.id, { anchor: typeof anchor === 'string' ? anchor : undefined });
  if (options.json) {
    out(JSON.stringify({ organization, ...verdict }, null, 2));
    return verdict.ok ? 0 : 1;
  }
  const count = `${verdict.count} receipt${verdict.count === 1 ? '' : 's'}`;
  if (verdict.ok) {
    out(`Receipts of ${organization.name}: ${count}, chain intact${verdict.headDigest ? ` (last digest ${verdict.headDigest})` : ''}.`);
    return 0;
  }
  out(`Receipts of ${organization.name}: ${count}, chain broken:`);
  for (const problem of verdict.problems) out(`  ${problem.problem}`);
  return 1;
}

export const receiptsCommand: Command = {
  name: 'receipts',
  summary: 'Check an organization’s chain of deletion receipts.',
  usage: [
    'npm run ferry -- receipts verify ORG [--anchor DIGEST] [--json]',
    '',
    'ORG is the organization’s id or its exact name. Exit code 0: the chain is intact; 1: it is not',
    '(each problem is printed). --anchor: a digest written down earlier (from a downloaded receipts',
    'file) must still be in the chain, which shows a chain rewritten since.',
  ].join('\n'),
  async run(context) {
    if (context.args[0] !== 'verify') {
      context.out(`Usage: ${this.usage}`);
      return 2;
    }
    const db = createDb(await localDatabaseUrl(context.env));
    try {
      return await verify(db, context);
    } finally {
      await db.$disconnect();
    }
  },
};
