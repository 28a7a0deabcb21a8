'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { ShortDigest } from '@/app/(portal)/privacy/receipts-section';
import { useTRPC } from '@/components/trpc-provider';

/**
 * What was deleted of this migration, when and why (its passwords at the end, its details on
 * removal), each with its receipt's digest; the whole chain is on the Privacy page. Asked for
 * once the migration has ended: the ending transaction records the receipt with the state.
 */
export function DeletionReceipts({ migrationId, isActive }: { migrationId: string; isActive: boolean }) {
  const trpc = useTRPC();
  const query = useQuery({ ...trpc.receipts.forMigration.queryOptions({ migrationId }), enabled: !isActive });
  const receipts = query.data ?? [];
  return (
    <section data-testid="migration-receipts" className="rounded-xl border border-slate-200 bg-white p-5 shadow-sm sm:p-6">
      <h2 className="text-base font-semibold text-slate-900">Deletion receipts</h2>
      <p className="mt-1 text-xs text-slate-500">What was deleted of this migration, as counts.</p>
      {isActive ? (
        <p className="mt-4 text-sm text-slate-600">The passwords are deleted when the migration ends; a receipt appears here then.</p>
      ) : query.error ? (
        <p className="mt-4 text-sm text-red-700">{query.error.message}</p>
      ) : receipts.length === 0 ? (
        <p className="mt-4 text-sm text-slate-600">{query.isSuccess ? 'No receipts for this migration.' : 'Loading…'}</p>
      ) : (
        <ol className="mt-4 space-y-3">
          {receipts.map((r) => (
            <li key={r.seq} data-testid="migration-receipt" className="rounded-lg border border-slate-100 bg-slate-50 px-3 py-2.5">
              <p className="text-sm font-medium text-slate-900">{r.what}</p>
              <p className="mt-0.5 text-sm text-slate-700">{r.deletedWords}</p>
              <p className="mt-1 flex flex-wrap items-center gap-x-2 gap-y-1 text-xs tabular-nums text-slate-500">
                <time dateTime={new Date(r.at).toISOString()}>{r.atLocal}</time>
                <span>·</span>
                <span>Receipt #{r.seq}</span>
                <ShortDigest digest={r.digest} />
              </p>
            </li>
          ))}
        </ol>
      )}
      <p className="mt-4 text-sm">
        <Link href="/privacy" className="font-medium text-brand-700 hover:text-brand-900">
          All receipts and the chain check on the Privacy page →
        </Link>
      </p>
    </section>
  );
}
