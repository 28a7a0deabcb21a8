import Link from 'next/link';
import type { Quota } from '@/server/licensing/quota';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * "remaining / total" for every migration form, with a bar. Renders on the server or in the
 * browser; the numbers come from quotaOf.
 */
export function QuotaMeter({ quota, showLicenceLink = true, className = '' }: { quota: Quota; showLicenceLink?: boolean; className?: string }) {
  const share = quota.total > 0 ? quota.remaining / quota.total : 0;
  const tone = quota.remaining === 0 ? 'bg-red-500' : share <= 0.2 ? 'bg-amber-500' : 'bg-brand-600';
  return (
    <section aria-label="Migrations remaining" data-testid="quota" className={`rounded-xl border border-slate-200 bg-white p-6 shadow-sm ${className}`}>
      <div className="flex items-center justify-between gap-3">
        <h2 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Migrations remaining</h2>
        <span
          className={`rounded-full px-2 py-0.5 text-xs font-medium ring-1 ${
            quota.mode === 'free' ? 'bg-amber-50 text-amber-800 ring-amber-200' : 'bg-emerald-50 text-emerald-800 ring-emerald-200'
          }`}
        >
          {quota.mode === 'free' ? 'Free evaluation' : 'Licensed'}
        </span>
      </div>
      <p className="mt-3 flex items-baseline gap-2 text-slate-900" data-testid="quota-value">
        <span className="text-4xl font-semibold tabular-nums tracking-tight">
          {quota.remaining} / {quota.total}
        </span>{' '}
        <span className="text-sm text-slate-500">migrations remaining</span>
      </p>
      <div
        className="mt-4 h-2 overflow-hidden rounded-full bg-slate-100"
        role="progressbar"
        aria-label="Share of migrations remaining"
        aria-valuemin={0}
        aria-valuemax={quota.total}
        aria-valuenow={quota.remaining}
      >
        <div className={`h-full rounded-full ${tone} transition-all`} style={{ width: `${Math.round(share * 100)}%` }} />
      </div>
      <div className="mt-3 flex flex-wrap items-baseline justify-between gap-x-3 gap-y-1 text-xs text-slate-500">
        <p>{quota.mode === 'free' ? `${quota.used} of ${plural(quota.total, 'free evaluation migration')} used` : `${quota.total} purchased · ${quota.used} used`}</p>
        {quota.mode === 'commercial' && showLicenceLink ? (
          <Link href="/licenses" className="font-medium text-brand-700 hover:text-brand-900">
            Add a licence →
          </Link>
        ) : null}
      </div>
    </section>
  );
}

/** At 0 remaining: the forms say so, and how to get more. */
export function QuotaExhaustedNotice({ quota }: { quota: Quota }) {
  if (quota.remaining > 0) return null;
  return (
    <div role="alert" data-testid="quota-exhausted" className="mb-6 flex gap-4 rounded-xl border border-red-200 bg-red-50 px-5 py-4">
      <span className="mt-0.5 flex h-8 w-8 flex-none items-center justify-center rounded-full bg-red-100 text-sm font-semibold text-red-700" aria-hidden="true">
        0
      </span>
      <div className="text-sm">
        <p className="font-semibold text-red-900">All migrations are used up</p>
        <p className="mt-1 text-red-800">
          {quota.mode === 'free' ? (
            <>
              Both free evaluation migrations have been used. To migrate more mailboxes, buy a licence key for 5, 10, 25, 50 or 100
              migrations from your hosting provider and install it with <span className="font-medium">Install key</span> on this page.
            </>
          ) : (
            <>
              All {quota.total} purchased migrations have been used. Buy another licence key from your hosting provider and install it in the{' '}
              <Link href="/licenses" className="font-medium underline underline-offset-2 hover:text-red-950">
                License list
              </Link>
              ; licences add up.
            </>
          )}
        </p>
      </div>
    </div>
  );
}
