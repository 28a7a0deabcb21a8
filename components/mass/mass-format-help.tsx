import { ACCOUNT_TYPES } from '@/server/accounts/types';
import { MASS_FIELDS, MAX_MASS_BYTES, MAX_MASS_RECORDS } from '@/server/migrations/mass/types';

const code = 'whitespace-nowrap rounded bg-slate-100 px-1 py-0.5 font-mono text-[12px] text-slate-800';

/** The record format in short, beside the textarea; the example file explains it at length. */
export function MassFormatHelp({ zone, microsoft365 }: { zone: { name: string; offset: string }; microsoft365: boolean }) {
  return (
    <section aria-labelledby="mass-format-title" className="rounded-xl border border-slate-200 bg-white p-6 text-sm text-slate-600 shadow-sm">
      <h2 id="mass-format-title" className="text-xs font-semibold uppercase tracking-wide text-slate-500">
        The fields of a line
      </h2>
      <ol className="mt-3 grid grid-cols-2 gap-x-3 gap-y-1 text-[12px] text-slate-700">
        {MASS_FIELDS.map((field, index) => (
          <li key={field} className="flex min-w-0 gap-1.5">
            <span className="w-4 flex-none text-right tabular-nums text-slate-400">{index + 1}</span>
            <span className="truncate font-mono">{field}</span>
          </li>
        ))}
      </ol>
      <p className="mt-4 border-t border-slate-100 pt-4">
        <span className="font-medium text-slate-800">Types:</span> {ACCOUNT_TYPES.join(', ')}.
      </p>
      <p className="mt-2">
        <span className="font-medium text-slate-800">Dates:</span> <span className={code}>2026-05-04 22:00</span> or <span className={code}>04.05.2026 22:00</span>; the
        resync may stay empty.
      </p>
      <details className="mt-3">
        <summary className="cursor-pointer font-medium text-brand-700 hover:text-brand-900">Servers, time zone, quoting, limits</summary>
        <ul className="mt-3 space-y-2">
          <li>
            <span className="font-medium text-slate-800">Server:</span> <span className={code}>host</span>, <span className={code}>host:port</span>,{' '}
            <span className={code}>imaps://host</span> or <span className={code}>imap://host</span> (STARTTLS).
          </li>
          <li>
            <span className="font-medium text-slate-800">Time zone:</span> dates are in {zone.name} (now UTC{zone.offset}). The resync must come after the start; a start
            in the past means now.
          </li>
          <li>
            <span className="font-medium text-slate-800">office365:</span>{' '}
            {microsoft365
              ? "the password may stay empty: your organization's Microsoft 365 connection signs in."
              : 'the password may stay empty only once your organization has a Microsoft 365 connection (see Information).'}
          </li>
          <li>
            <span className="font-medium text-slate-800">Quoting:</span> a field holding <span className={code}>;</span> or <span className={code}>&quot;</span> goes in
            double quotes, with <span className={code}>&quot;</span> doubled: <span className={code}>&quot;pa;ss&quot;&quot;x&quot;</span> is{' '}
            <span className={code}>pa;ss&quot;x</span>.
          </li>
          <li>
            Lines starting with <span className={code}>#</span>, blank lines and the header line are skipped. At most {MAX_MASS_RECORDS.toLocaleString('en-GB')} records
            and {MAX_MASS_BYTES / 1_000_000} MB at a time.
          </li>
        </ul>
      </details>
      <p className="mt-3 text-xs text-slate-500">The example file explains every field and holds three lines that pass the check as they are.</p>
    </section>
  );
}
