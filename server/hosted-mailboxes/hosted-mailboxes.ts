import type { Db } from '../db';
import { recordAudit } from '../audit/audit';
import { ACCOUNT_TYPES, type AccountType } from '../accounts/types';
import { Prisma } from '../generated/prisma/client';
import type { Actor } from '../organizations/organizations';
import { parseHostedMailboxCsv } from './csv';
import { LIST_PAGE_SIZE, QUICK_SELECTION_LIMIT, type HostedMailboxValues, type ImportResult } from './schemas';

export class HostedMailboxExistsError extends Error {
  constructor(readonly email: string) {
    super(`A hosted mailbox with the email ${email} already exists.`);
    this.name = 'HostedMailboxExistsError';
  }
}

export class HostedMailboxNotFoundError extends Error {
  constructor() {
    super('This hosted mailbox does not exist (any more).');
    this.name = 'HostedMailboxNotFoundError';
  }
}

/** What the migration form's quick selection receives: never more, and never a password. */
export interface QuickSelectionMailbox {
  id: string;
  email: string;
  username: string;
  server: string;
  type: AccountType;
}

const listSelect = { id: true, email: true, username: true, server: true, type: true, createdAt: true } satisfies Prisma.HostedMailboxSelect;

function asAccountType(type: string): AccountType {
  // The table's CHECK constraint allows only these; imap is the safe reading of anything else.
  return ACCOUNT_TYPES.find((t) => t === type) ?? 'imap';
}

function matching(search: string | undefined): Prisma.HostedMailboxWhereInput {
  // Prisma passes `contains` to LIKE as it is: % and _ would match anything.
  const text = search?.trim().replace(/[\\%_]/g, '\\$&');
  if (!text) return {};
  return {
    OR: [{ email: { contains: text.toLowerCase() } }, { username: { contains: text, mode: 'insensitive' } }],
  };
}

/** One page of the admin's list, sorted by email, with the number of matches. */
export async function listHostedMailboxes(db: Db, input: { search?: string; page?: number } = {}) {
  const where = matching(input.search);
  const page = Math.max(1, input.page ?? 1);
  const [items, total] = await db.$transaction([
    db.hostedMailbox.findMany({ where, select: listSelect, orderBy: { email: 'asc' }, skip: (page - 1) * LIST_PAGE_SIZE, take: LIST_PAGE_SIZE }),
    db.hostedMailbox.count({ where }),
  ]);
  return { items: items.map((m) => ({ ...m, type: asAccountType(m.type) })), total, page, pageSize: LIST_PAGE_SIZE };
}

/** The first matches by email for the migration form; type to narrow them down. */
export async function quickSelection(db: Db, search?: string): Promise<QuickSelectionMailbox[]> {
  const rows = await db.hostedMailbox.findMany({
    where: matching(search),
    select: { id: true, email: true, username: true, server: true, type: true },
    orderBy: { email: 'asc' },
    take: QUICK_SELECTION_LIMIT,
  });
  return rows.map((m) => ({ id: m.id, email: m.email, username: m.username, server: m.server, type: asAccountType(m.type) }));
}

export async function addHostedMailbox(db: Db, actor: Actor, input: HostedMailboxValues) {
  try {
    return await db.$transaction(async (tx) => {
      const mailbox = await tx.hostedMailbox.create({ data: input, select: listSelect });
      await recordAudit(tx, {
        action: 'hosted_mailbox.add',
        actorUserId: actor.userId,
        targetType: 'hosted_mailbox',
        targetId: mailbox.id,
        details: { email: mailbox.email, server: mailbox.server, type: mailbox.type },
        ip: actor.ip,
      });
      return { ...mailbox, type: asAccountType(mailbox.type) };
    });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw new HostedMailboxExistsError(input.email);
    throw error;
  }
}

export async function removeHostedMailbox(db: Db, actor: Actor, id: string): Promise<{ id: string; email: string }> {
  return db.$transaction(async (tx) => {
    let removed: { id: string; email: string };
    try {
      removed = await tx.hostedMailbox.delete({ where: { id }, select: { id: true, email: true } });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025') throw new HostedMailboxNotFoundError();
      throw error;
    }
    await recordAudit(tx, {
      action: 'hosted_mailbox.remove',
      actorUserId: actor.userId,
      targetType: 'hosted_mailbox',
      targetId: removed.id,
      details: { email: removed.email },
      ip: actor.ip,
    });
    return removed;
  });
}

/**
 * Imports the valid lines of a CSV text in one transaction; lines with errors are reported
 * and left out. A mailbox whose email address is already stored (before, or by someone else
 * during the import) is skipped and left unchanged: an import never overwrites.
 */
export async function importHostedMailboxes(db: Db, actor: Actor, text: string): Promise<ImportResult> {
  const parsed = parseHostedMailboxCsv(text);
  const inserted = await db.$transaction(async (tx) => {
    const created = parsed.rows.length
      ? await tx.hostedMailbox.createManyAndReturn({ data: parsed.rows.map((r) => r.mailbox), skipDuplicates: true, select: { email: true } })
      : [];
    await recordAudit(tx, {
      action: 'hosted_mailbox.import',
      actorUserId: actor.userId,
      targetType: 'hosted_mailbox',
      details: { lines: parsed.lines, imported: created.length, skipped: parsed.rows.length - created.length, errors: parsed.errors.length },
      ip: actor.ip,
    });
    return new Set(created.map((c) => c.email));
  });
  return {
    lines: parsed.lines,
    imported: inserted.size,
    skipped: parsed.rows.filter((r) => !inserted.has(r.mailbox.email)).map((r) => ({ line: r.line, email: r.mailbox.email })),
    errors: parsed.errors,
  };
}
