'use client';

import Link from 'next/link';
import { useState } from 'react';
import { AlertIcon, CheckCircleIcon } from '@/components/icons';
import type { MassRecordReport, MassSideVerdict, MassSubmissionStatus } from '@/server/migrations/mass/submission-types';
import { formatNumber, plural } from './mass-text';

function Spinner() {
  return (
    <svg viewBox="0 0 24 24" fill="none" aria-hidden="true" className="h-5 w-5 flex-none animate-spin text-brand-600">
      <circle cx="12" cy="12" r="9" stroke="currentColor" strokeOpacity="0.2" strokeWidth="3" />
      <path d="M21 12a9 9 0 0 0-9-9" stroke="currentColor" strokeWidth="3" strokeLinecap="round" />
    </svg>
  );
}

function Count({ label, value, tone }: { label: string; value: number; tone: 'good' | 'bad' | 'neutral' }) {
  const styles = { good: 'text-emerald-700', bad: 'text-red-700', neutral: 'text-slate-700' }[tone];
  return (
    <div className="min-w-0 flex-1 px-4 py-3 sm:px-5">
      <p className="text-xs font-semibold uppercase tracking-wide text-slate-500">{label}</p>
      <p className={`mt-1 text-2xl font-semibold tabular-nums tracking-tight ${value === 0 ? 'text-slate-400' : styles}`}>{formatNumber(value)}</p>
    </div>
  );
}

/** While the background job tries every record's logins: how far it is, polled about once a second. */
export function MassProgress({ status, records, canLeave }: { status: MassSubmissionStatus | undefined; records: number; canLeave: boolean }) {
  const total = status?.records ?? records;
  const checked = status?.checked ?? 0;
  const share = total > 0 ? checked / total : 0;
  return (
    <section aria-labelledby="mass-progress-title" data-testid="mass-progress" className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm">
      <div className="flex items-start gap-3 px-5 pb-4 pt-5 sm:px-6">
        <Spinner />
        <div className="min-w-0 flex-1">
          <h2 id="mass-progress-title" className="text-base font-semibold text-slate-900">
            Checking the logins
          </h2>
          <p className="mt-0.5 text-sm text-slate-600" aria-live="polite" data-testid="mass-progress-text">
            {formatNumber(checked)} of {formatNumber(total)} checked
          </p>
        </div>
        <p className="text-2xl font-semibold tabular-nums tracking-tight text-slate-900">{Math.floor(share * 100)} %</p>
      </div>
      <div className="px-5 pb-5 sm:px-6">
        <div
          className="h-2.5 overflow-hidden rounded-full bg-slate-100"
          role="progressbar"
          aria-label="Logins checked"
          aria-valuemin={0}
          aria-valuemax={total}
          aria-valuenow={checked}
        >
          <div className="h-full rounded-full bg-brand-600 transition-[width] duration-500" style={{ width: `${Math.round(share * 100)}%` }} />
        </div>
      </div>
      <div className="flex divide-x divide-slate-100 border-t border-slate-100">
        <Count label="Created" value={status?.created ?? 0} tone="good" />
        <Count label="Failed" value={status?.failed ?? 0} tone="bad" />
        <Count label="Waiting" value={Math.max(0, total - checked)} tone="neutral" />
      </div>
      <p className="border-t border-slate-100 bg-slate-50 px-5 py-3 text-xs text-slate-600 sm:px-6">
        Both logins of every record are tried, a few at a time, with the same checks as the single form. Each record whose logins work becomes a
        migration at once.{' '}
        {canLeave
          ? 'The check goes on if you leave this page.'
          : 'Stay on this page: when the check is done, the lines that failed come back into the text above for correction. If you leave, the check goes on, but those lines have to be typed again.'}
      </p>
    </section>
  );
}

const sideName = { source: 'Source', target: 'Target' } as const;

function failedTitle(failed: MassRecordReport['failed']): string {
  if (failed === 'both') return 'Source and target login failed';
  if (failed === 'target') return 'Target login failed';
  return 'Source login failed';
}

function sideMessages(report: MassRecordReport): { side: 'source' | 'target'; message: string }[] {
  const of = (side: 'source' | 'target', verdict: MassSideVerdict | null) => (verdict && !verdict.ok ? [{ side, message: verdict.message }] : []);
  return [...of('source', report.source), ...of('target', report.target)];
}

function FailedLine({ report, nowLine, onShowLine }: { report: MassRecordReport; nowLine: number | null; onShowLine?: (line: number) => void }) {
  const messages = sideMessages(report);
  return (
    <li data-testid="mass-report-failed" data-line={report.line} className="flex flex-col gap-2 px-5 py-3 sm:flex-row sm:items-start sm:gap-4 sm:px-6">
      <div className="w-28 flex-none">
        <p className="text-sm font-semibold tabular-nums text-red-800">Line {formatNumber(report.line)}</p>
        {nowLine !== null ? <p className="text-xs tabular-nums text-slate-500">now line {formatNumber(nowLine)}</p> : null}
      </div>
      <div className="min-w-0 flex-1 text-sm">
        <p className="font-medium text-red-900" data-testid="mass-report-side">
          {failedTitle(report.failed)}
        </p>
        <p className="text-slate-600 [overflow-wrap:anywhere]">
          {report.sourceEmail} <span className="text-slate-400">→</span> {report.targetEmail}
        </p>
        {messages.length > 0 ? (
          <ul className="mt-1 space-y-0.5 text-red-800">
            {messages.map(({ side, message }) => (
              <li key={side}>
                <span className="font-medium">{sideName[side]}:</span> {message}
              </li>
            ))}
          </ul>
        ) : report.message ? (
          <p className="mt-1 text-red-800">{report.message}</p>
        ) : null}
      </div>
      {nowLine !== null && onShowLine ? (
        <button
          type="button"
          onClick={() => onShowLine(nowLine)}
          className="self-start whitespace-nowrap rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 shadow-sm transition hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
        >
          Show in the text
        </button>
      ) : null}
    </li>
  );
}

function CreatedLine({ report }: { report: MassRecordReport }) {
  return (
    <li data-testid="mass-report-created" data-line={report.line} className="flex items-center gap-4 px-5 py-2 text-sm sm:px-6">
      <span className="w-28 flex-none tabular-nums text-slate-500">Line {formatNumber(report.line)}</span>
      <span className="min-w-0 flex-1 truncate text-slate-700" title={`${report.sourceEmail} → ${report.targetEmail}`}>
        {report.sourceEmail} <span className="text-slate-400">→</span> {report.targetEmail}
      </span>
      {report.migrationId ? (
        <Link
          href={`/migrations/${report.migrationId}`}
          aria-label={`Migration of ${report.sourceEmail}`}
          className="flex-none rounded-md px-2 py-1 font-medium text-brand-700 transition hover:bg-brand-50 hover:text-brand-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
        >
          Open
        </Link>
      ) : null}
    </li>
  );
}

const dateFormat = (zone: string) =>
  new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/**
 * The outcome of a submission, line by line: created (with a link to the migration) or failed
 * with the side and the reason. `lineMap` (old line → line in the text now) is there when the
 * failed lines were put back into the textarea; a report loaded after a reload has none.
 */
export function MassReport({
  status,
  zone,
  lineMap,
  onShowLine,
  onHide,
}: {
  status: MassSubmissionStatus;
  zone: string;
  lineMap: ReadonlyMap<number, number> | null;
  onShowLine?: (line: number) => void;
  onHide?: () => void;
}) {
  const [isCreatedOpen, setIsCreatedOpen] = useState(false);
  const failed = status.lines.filter((line) => line.state === 'failed');
  const created = status.lines.filter((line) => line.state === 'created');
  const clean = failed.length === 0;
  return (
    <section aria-labelledby="mass-report-title" data-testid="mass-report" className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm">
      <div className={`flex items-start gap-3 border-b px-5 py-4 sm:px-6 ${clean ? 'border-emerald-100 bg-emerald-50' : 'border-amber-100 bg-amber-50'}`}>
        {clean ? <CheckCircleIcon className="mt-0.5 h-5 w-5 flex-none text-emerald-600" /> : <AlertIcon className="mt-0.5 h-5 w-5 flex-none text-amber-600" />}
        <div className="min-w-0 flex-1">
          <h2 id="mass-report-title" className={`text-base font-semibold ${clean ? 'text-emerald-950' : 'text-amber-950'}`}>
            {lineMap ? 'Submission done' : 'Last submission'}: {plural(created.length, 'migration')} created{failed.length > 0 ? `, ${plural(failed.length, 'line')} failed` : ''}
          </h2>
          <p className={`mt-0.5 text-sm ${clean ? 'text-emerald-800' : 'text-amber-900'}`}>
            Submitted {dateFormat(zone).format(status.createdAt)}
            {status.finishedAt ? ` · finished ${dateFormat(zone).format(status.finishedAt)}` : ''} ({zone})
          </p>
        </div>
        {onHide ? (
          <button
            type="button"
            onClick={onHide}
            className="rounded-md px-2.5 py-1.5 text-sm font-medium text-slate-600 transition hover:bg-white/60 hover:text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
          >
            Hide
          </button>
        ) : null}
      </div>
      <div className="flex divide-x divide-slate-100 border-b border-slate-100">
        <Count label="Records" value={status.records} tone="neutral" />
        <Count label="Created" value={status.created} tone="good" />
        <Count label="Failed" value={status.failed} tone="bad" />
      </div>
      {failed.length > 0 ? (
        <div>
          <h3 className="bg-red-50/60 px-5 py-2 text-xs font-semibold uppercase tracking-wide text-red-800 sm:px-6">Not created</h3>
          <ul aria-label="Lines not created" className="max-h-[28rem] divide-y divide-slate-100 overflow-y-auto">
            {failed.map((report) => (
              <FailedLine key={report.line} report={report} nowLine={lineMap?.get(report.line) ?? null} onShowLine={onShowLine} />
            ))}
          </ul>
        </div>
      ) : null}
      {created.length > 0 ? (
        <details className="border-t border-slate-100" onToggle={(event) => setIsCreatedOpen(event.currentTarget.open)}>
          <summary className="cursor-pointer px-5 py-3 text-sm font-medium text-slate-700 hover:bg-slate-50 sm:px-6">
            {plural(created.length, 'migration')} created: they appear under{' '}
            <Link href="/migrations" className="text-brand-700 hover:text-brand-900">
              Active migrations
            </Link>
          </summary>
          {/* Rendered once opened: a report of 5,000 lines costs nothing until someone looks. */}
          {isCreatedOpen ? (
            <ul aria-label="Lines created" className="max-h-[28rem] divide-y divide-slate-100 overflow-y-auto border-t border-slate-100">
              {created.map((report) => (
                <CreatedLine key={report.line} report={report} />
              ))}
            </ul>
          ) : null}
        </details>
      ) : null}
    </section>
  );
}
