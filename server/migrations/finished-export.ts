import Papa from 'papaparse';
import type { SessionUser } from '../auth/session-user';
import type { Db } from '../db';
import { finishedListSchema, listFinishedMigrations, type MigrationListItem } from './list-migrations';

const PAGE = 500;

const columns = (zone: string) =>
  ['Source', 'Source type', 'Target', 'Target type', 'State', `Finished (${zone})`, 'Messages copied', 'Messages total', 'Messages not copied', 'Missing on target', 'Verification', 'Status', 'Failure reason'] as const;

function record(m: MigrationListItem): (string | number)[] {
  return [
    m.source.email,
    m.source.type,
    m.target.email,
    m.target.type,
    m.state,
    m.finishedLocal ?? '',
    m.messages.copied,
    m.messages.total,
    m.loss.messages,
    m.verificationGap?.missing ?? 0,
    m.verdict.text,
    m.statusLine ?? '',
    m.failureReason ?? '',
  ];
}

// Addresses and failure reasons come from outside: a cell starting with = + - @ must stay text in a spreadsheet.
const unparse = (data: (string | number)[][], fields?: readonly string[]) =>
  Papa.unparse(fields ? { fields: [...fields], data } : data, { newline: '\r\n', escapeFormulae: true, header: Boolean(fields) });

/**
 * The organization's finished list (same search and order as the page, every matching row) as
 * CSV, read a page at a time by cursor and streamed, so 10,000 rows never sit in memory at once.
 */
export function finishedCsvStream(db: Db, organizationId: string, input: { search?: string; sort?: 'newest' | 'oldest' }, zone: string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor: string | null | undefined;
  let isFirst = true;
  return new ReadableStream({
    async pull(controller) {
      const page = await listFinishedMigrations(db, organizationId, { ...input, cursor, limit: PAGE }, zone);
      const rows = page.items.map(record);
      const text = isFirst ? unparse(rows, columns(zone)) : rows.length > 0 ? unparse(rows) : '';
      if (text) controller.enqueue(encoder.encode(`${text}\r\n`));
      isFirst = false;
      cursor = page.nextCursor;
      if (!cursor) controller.close();
    },
  });
}

/** GET /api/migrations/finished/export?search=&sort=: the signed-in customer's own organization only. */
export function finishedExportResponse(db: Db, user: SessionUser | null, url: URL, zone: string): Response {
  if (!user) return new Response('Sign in first.', { status: 401 });
  if (user.role !== 'customer' || !user.organization) return new Response('Only customers have migrations.', { status: 403 });
  const parsed = finishedListSchema.safeParse({ search: url.searchParams.get('search') || undefined, sort: url.searchParams.get('sort') || undefined });
  if (!parsed.success) return new Response('Unknown search or sort.', { status: 400 });
  const { search, sort } = parsed.data;
  return new Response(finishedCsvStream(db, user.organization.id, { search, sort }, zone), {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="finished-migrations-${new Date().toISOString().slice(0, 10)}.csv"`,
      'cache-control': 'no-store',
    },
  });
}
