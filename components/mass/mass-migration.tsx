'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useId, useMemo, useRef, useState, type ChangeEvent, type ReactNode } from 'react';
import { Alert, Button } from '@/components/form';
import { DownloadIcon } from '@/components/icons';
import { useTRPC } from '@/components/trpc-provider';
import { MASS_EXAMPLE_FILE_NAME, massExampleFile } from '@/server/migrations/mass/example';
import { formalCheck } from '@/server/migrations/mass/formal-check';
import type { MassLineVerdict, MassSubmissionStatus } from '@/server/migrations/mass/submission-types';
import { MASS_FIELDS, MAX_MASS_BYTES, MAX_MASS_RECORDS, type MassCheckResult } from '@/server/migrations/mass/types';
import type { AppRouter } from '@/server/trpc/root';
import { MassEditor, type MassEditorHandle } from './mass-editor';
import { MassGrid } from './mass-grid';
import { MassProgress, MassReport } from './mass-report';
import { byteLength, formatNumber, lineCount, mergeVerdicts, normaliseLineBreaks, plural, recordLines, remainingText, summaryOf } from './mass-text';

export type MassContext = inferRouterOutputs<AppRouter>['mass']['context'];

const PLACEHOLDER = [
  '# One migration per line, 12 fields separated by ;  (Download example file explains each one)',
  'imap;anna@old.example;anna@old.example;old-password;imaps://mail.old.example;imap;anna@new.example;anna@new.example;new-password;mail.new.example;2026-05-04 22:00;2026-05-06 22:00',
].join('\n');

function UploadIcon({ className = 'h-4 w-4' }: { className?: string }) {
  return (
    <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.8" className={className} aria-hidden="true">
      <path strokeLinecap="round" strokeLinejoin="round" d="M3 16.5v2.25A2.25 2.25 0 0 0 5.25 21h13.5A2.25 2.25 0 0 0 21 18.75V16.5m-13.5-9L12 3m0 0 4.5 4.5M12 3v13.5" />
    </svg>
  );
}

function CheckListIcon({ className = 'h-4 w-4' }: { className?: string }) {
  return (
    <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.8" className={className} aria-hidden="true">
      <path strokeLinecap="round" strokeLinejoin="round" d="M9 12.75 11.25 15 15 9.75M21 12a9 9 0 1 1-18 0 9 9 0 0 1 18 0Z" />
    </svg>
  );
}

function ClockIcon() {
  return (
    <svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true" className="h-3.5 w-3.5 flex-none text-slate-400">
      <path fillRule="evenodd" d="M10 18a8 8 0 1 0 0-16 8 8 0 0 0 0 16Zm.75-13a.75.75 0 0 0-1.5 0v5c0 .2.08.39.22.53l3 3a.75.75 0 1 0 1.06-1.06l-2.78-2.78V5Z" clipRule="evenodd" />
    </svg>
  );
}

const megabytes = (bytes: number) => `${(bytes / 1_000_000).toLocaleString('en-GB', { maximumFractionDigits: 1 })} MB`;
const size = (bytes: number) => (bytes < 100_000 ? `${(bytes / 1000).toLocaleString('en-GB', { maximumFractionDigits: 1 })} KB` : megabytes(bytes));

/** The check the grid shows: the browser's own, or the server's verdicts merged with the browser's values. */
interface Checked {
  text: string;
  result: MassCheckResult;
  /** Set when the server refused the submission as not clean. */
  verdicts: MassLineVerdict[] | null;
}

interface Submission {
  id: string;
  records: number;
  /** The submitted text, in memory only until the report has put the failed lines back; then null. */
  text: string | null;
}

interface Outcome {
  id: string;
  lineMap: Map<number, number>;
  created: number;
  failed: number;
}

function Summary({ result, isServer }: { result: { records: number; ready: number; invalid: number; duplicates: number }; isServer: boolean }) {
  return (
    <p className="text-sm text-slate-700" data-testid="mass-summary">
      <span className="font-semibold text-slate-900">{plural(result.records, 'record')}:</span>{' '}
      <span className={result.ready > 0 ? 'text-emerald-700' : ''}>{formatNumber(result.ready)} ready</span>,{' '}
      <span className={result.invalid > 0 ? 'font-medium text-red-700' : ''}>{formatNumber(result.invalid)} with errors</span>,{' '}
      <span className={result.duplicates > 0 ? 'font-medium text-blue-800' : ''}>{plural(result.duplicates, 'duplicate')}</span>
      {isServer ? <span className="text-slate-500"> (the server&apos;s check)</span> : null}
    </p>
  );
}

function Legend() {
  return (
    <ul className="flex flex-wrap items-center gap-x-4 gap-y-1 text-xs text-slate-600" aria-label="Colours">
      <li className="flex items-center gap-1.5">
        <span aria-hidden="true" className="h-3 w-3 rounded-sm bg-red-100 ring-1 ring-inset ring-red-300" /> wrong field
      </li>
      <li className="flex items-center gap-1.5">
        <span aria-hidden="true" className="h-3 w-3 rounded-sm bg-blue-100 ring-1 ring-inset ring-blue-300" /> duplicate line
      </li>
      <li className="flex items-center gap-1.5">
        <span aria-hidden="true" className="h-3 w-3 rounded-sm bg-white ring-1 ring-inset ring-slate-300" /> good
      </li>
    </ul>
  );
}

/**
 * Mass migration: paste or upload one record per line, run the formal check in the browser
 * (the same function the server runs), see every record in a grid with the wrong fields red and
 * duplicates blue, submit once the check of exactly the current text is clean, follow the
 * login check, and get the lines that failed back in the text. The text stays in this page's
 * memory only; nothing is stored in the browser.
 */
export function MassMigration({
  initialContext,
  initialLatest,
  meter,
  help,
}: {
  initialContext: MassContext;
  initialLatest: MassSubmissionStatus | null;
  /** Remaining / total: beside the text on wide screens, above it on phones. */
  meter: ReactNode;
  /** The format in short: beside the text on wide screens, below it on phones. */
  help: ReactNode;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const textId = useId();
  const editor = useRef<MassEditorHandle>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const [text, setText] = useState('');
  const [checked, setChecked] = useState<Checked | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [submission, setSubmission] = useState<Submission | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [selectedLine, setSelectedLine] = useState<number | null>(null);
  const [isOnlyProblems, setIsOnlyProblems] = useState(false);
  const [replaced, setReplaced] = useState<{ fileName: string; previous: string } | null>(null);
  const [fileNotice, setFileNotice] = useState<{ tone: 'error' | 'info'; text: string } | null>(null);
  const [isLatestHidden, setIsLatestHidden] = useState(false);

  const context = useQuery(trpc.mass.context.queryOptions(undefined, { initialData: initialContext })).data;
  const latest = useQuery(trpc.mass.latest.queryOptions(undefined, { initialData: initialLatest })).data;
  const watchedId = submission?.id ?? (isLatestHidden ? null : (latest?.id ?? null));
  const status = useQuery(
    trpc.mass.status.queryOptions(
      { id: watchedId ?? '00000000-0000-0000-0000-000000000000' },
      {
        enabled: watchedId !== null,
        initialData: watchedId !== null && watchedId === initialLatest?.id ? initialLatest : undefined,
        // About once a second while the logins are being tried; nothing once the report is final.
        refetchInterval: (query) => (query.state.data === null || query.state.data?.state === 'done' ? false : 1_000),
        staleTime: 0,
      },
    ),
  ).data;
  const current = status && status.id === watchedId ? status : undefined;
  // Gone (its organization's data was removed meanwhile): nothing more will come.
  const isOwnMissing = submission !== null && status === null;
  const isOwnChecking = submission !== null && !isOwnMissing && current?.state !== 'done';

  // The report is final: the created lines leave the text, the failed ones stay exactly as typed.
  if (submission?.text != null && current?.id === submission.id && current.state === 'done' && outcome?.id !== submission.id) {
    const created = new Set(current.lines.filter((line) => line.state === 'created').map((line) => line.line));
    const failed = current.lines.filter((line) => line.state === 'failed').length;
    const rest = remainingText(submission.text, created);
    setText(failed > 0 ? rest.text : '');
    setOutcome({ id: submission.id, lineMap: failed > 0 ? rest.lineMap : new Map(), created: created.size, failed });
    setSubmission({ ...submission, text: null });
    setChecked(null);
    setSelectedLine(null);
  }

  const outcomeId = outcome?.id;
  useEffect(() => {
    if (!outcomeId) return;
    // New active migrations (duplicates from now on), fewer units, new rows in the lists.
    void queryClient.invalidateQueries({ queryKey: trpc.mass.context.queryKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.mass.latest.queryKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.migrations.pathKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.licensing.pathKey() });
    router.refresh();
    editor.current?.scrollToStart();
  }, [outcomeId, queryClient, router, trpc]);

  // Leaving now would lose the copy of the text the failed lines come back from.
  useEffect(() => {
    if (!isOwnChecking) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = '';
    };
    const leave = (event: MouseEvent) => {
      const link = (event.target as Element | null)?.closest?.('a[href]');
      if (!(link instanceof HTMLAnchorElement) || link.target === '_blank' || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
      if (link.origin !== window.location.origin || link.pathname === window.location.pathname) return;
      if (!window.confirm('The logins are still being checked. If you leave this page, the lines that fail will not come back into the text. Leave anyway?')) {
        event.preventDefault();
        event.stopPropagation();
      }
    };
    window.addEventListener('beforeunload', warn);
    document.addEventListener('click', leave, true);
    return () => {
      window.removeEventListener('beforeunload', warn);
      document.removeEventListener('click', leave, true);
    };
  }, [isOwnChecking]);

  const submit = useMutation(
    trpc.mass.submit.mutationOptions({
      onSuccess: (result, input) => {
        if (!result.ok) {
          setRefusal(result.message);
          // The server's verdicts carry no values: the grid takes them from the browser's own reading.
          if (result.reason === 'not_clean') setChecked((own) => (own && own.text === input.text ? { ...own, verdicts: result.lines } : own));
          return;
        }
        setSubmission({ id: result.submissionId, records: result.records, text: input.text });
        setOutcome(null);
        setChecked(null);
        setIsLatestHidden(false);
        void queryClient.invalidateQueries({ queryKey: trpc.licensing.pathKey() });
        router.refresh();
      },
      onError: (error) => setRefusal(error.message),
    }),
  );

  const lines = useMemo(() => lineCount(text), [text]);
  const bytes = useMemo(() => byteLength(text), [text]);
  const isCurrent = checked !== null && checked.text === text;
  const gridLines = useMemo(() => {
    if (!checked) return [];
    const all = checked.verdicts ? mergeVerdicts(checked.result.lines, checked.verdicts) : checked.result.lines;
    return recordLines({ lines: all });
  }, [checked]);
  const summary = useMemo(() => summaryOf(gridLines), [gridLines]);
  const shownLines = useMemo(() => (isOnlyProblems ? gridLines.filter((line) => line.status !== 'ok') : gridLines), [gridLines, isOnlyProblems]);
  const isClean = isCurrent && checked.verdicts === null && checked.result.clean;
  const canSubmit = isClean && !submit.isPending && !isOwnChecking;
  const accepted = isCurrent ? checked.result.accepted.length : 0;

  function runCheck() {
    setRefusal(null);
    setSelectedLine(null);
    const result = formalCheck(text, { zone: context.zone, active: context.active, microsoft365: context.microsoft365, hosts: context.hosts, now: new Date() });
    setChecked({ text, result, verdicts: null });
  }

  const selectLine = useCallback((line: number) => {
    if (editor.current?.selectLine(line)) setSelectedLine(line);
  }, []);

  async function readFile(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    event.target.value = ''; // choosing the same file again must read it again
    if (!file) return;
    if (file.size > MAX_MASS_BYTES) {
      setFileNotice({
        tone: 'error',
        text: `${file.name} has ${megabytes(file.size)}; one submission holds at most ${megabytes(MAX_MASS_BYTES)} (${formatNumber(MAX_MASS_RECORDS)} records). Split it and submit the parts one after the other. The text below was not changed.`,
      });
      return;
    }
    const content = normaliseLineBreaks(await file.text());
    setReplaced(text.trim() !== '' ? { fileName: file.name, previous: text } : null);
    setText(content);
    requestAnimationFrame(() => editor.current?.scrollToStart());
    setRefusal(null);
    setFileNotice(
      content.includes('\uFFFD')
        ? { tone: 'error', text: `${file.name} is not saved as UTF-8: characters shown as � could not be read. Save the file as UTF-8 and upload it again.` }
        : { tone: 'info', text: `${file.name} was read (${plural(lineCount(content), 'line')}). It stays in this page until you submit it.` },
    );
  }

  function downloadExample() {
    const blob = new Blob([massExampleFile({ now: new Date(), zone: context.zone })], { type: 'text/csv;charset=utf-8' });
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = MASS_EXAMPLE_FILE_NAME;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1_000);
  }

  const checkError = isCurrent ? checked.result.error : null;
  const zoneText = `Dates are in the server's time zone: ${context.zone} (now UTC${context.zoneOffset})`;
  const submitLabel = submit.isPending ? 'Submitting…' : isClean ? `Submit ${plural(accepted, 'migration')}` : 'Submit migrations';
  const submitHint = isOwnChecking
    ? 'The logins of the last submission are being checked.'
    : isClean
      ? `Both logins of every record are checked before its migration is created; it uses ${plural(accepted, 'migration')} of ${formatNumber(context.quota.remaining)} remaining.`
      : checked && !isCurrent
        ? 'The text has changed since the last check: run the formal check again.'
        : checked
          ? 'Correct the marked lines and run the formal check again.'
          : 'Run the formal check first; submitting is possible once every record passes.';

  return (
    // One grid: on a phone the remaining units, the text, the results, then the format help.
    <div className="grid items-start gap-6 lg:grid-cols-3 lg:grid-rows-[auto_1fr]">
      <div className="lg:col-start-3 lg:row-start-1">{meter}</div>
      <section
        aria-labelledby={`${textId}-title`}
        className="min-w-0 rounded-xl border border-slate-200 bg-white p-4 shadow-sm sm:p-6 lg:col-span-2 lg:col-start-1 lg:row-span-2 lg:row-start-1"
      >
        <div className="mb-3 flex flex-wrap items-end justify-between gap-x-4 gap-y-1">
          <div className="min-w-0">
            <h2 id={`${textId}-title`} className="text-base font-semibold text-slate-900">
              <label htmlFor={textId}>Records</label>
            </h2>
            <p className="mt-0.5 text-sm text-slate-500">One migration per line, 12 fields separated by a semicolon.</p>
          </div>
          <span className={`text-xs tabular-nums ${bytes > MAX_MASS_BYTES ? 'font-medium text-red-600' : 'text-slate-500'}`} data-testid="mass-size">
            {plural(lines, 'line')} · {size(bytes)} of {megabytes(MAX_MASS_BYTES)}
          </span>
        </div>
        <MassEditor
          ref={editor}
          id={textId}
          value={text}
          lines={lines}
          readOnly={isOwnChecking}
          describedBy={`${textId}-zone`}
          invalid={!!checkError}
          placeholder={PLACEHOLDER}
          onChange={(value) => {
            setText(value);
            setReplaced(null);
            setRefusal(null);
          }}
        />
        <p id={`${textId}-zone`} className="mt-2 flex items-center gap-1.5 text-xs text-slate-500" data-testid="time-zone">
          <ClockIcon />
          {zoneText}
        </p>
        <div className="mt-4 flex flex-wrap items-center gap-2">
          <Button type="button" onClick={runCheck} disabled={isOwnChecking || submit.isPending}>
            <CheckListIcon />
            Formal check
          </Button>
          <input ref={fileInput} type="file" accept=".csv,.txt,text/csv,text/plain" onChange={readFile} className="sr-only" aria-label="File with records" tabIndex={-1} />
          <Button type="button" variant="secondary" onClick={() => fileInput.current?.click()} disabled={isOwnChecking}>
            <UploadIcon />
            Upload file
          </Button>
          <Button type="button" variant="ghost" onClick={downloadExample}>
            <DownloadIcon />
            Download example file
          </Button>
        </div>
        {replaced ? (
          <div className="mt-3">
            <Alert tone="info">
              <span>
                The text was replaced by {replaced.fileName}.{' '}
                <button
                  type="button"
                  className="font-medium underline underline-offset-2 hover:text-brand-700"
                  onClick={() => {
                    setText(replaced.previous);
                    setReplaced(null);
                    setFileNotice(null);
                  }}
                >
                  Bring back the previous text
                </button>
              </span>
            </Alert>
          </div>
        ) : null}
        {fileNotice && (fileNotice.tone === 'error' || !replaced) ? (
          <div className="mt-3">
            <Alert tone={fileNotice.tone}>{fileNotice.text}</Alert>
          </div>
        ) : null}
        <div className="mt-5 flex flex-col-reverse items-stretch gap-3 border-t border-slate-100 pt-5 sm:flex-row sm:items-center sm:justify-between">
          <p className="text-xs text-slate-500" data-testid="mass-submit-hint">
            {submitHint}
          </p>
          <Button type="button" disabled={!canSubmit} onClick={() => submit.mutate({ text })} className="sm:flex-none">
            {submitLabel}
          </Button>
        </div>
      </section>

      <div className="min-w-0 space-y-6 empty:hidden lg:col-span-3 lg:row-start-3">
        {checkError ? (
          <Alert>
            <span data-testid="mass-check-error">{checkError}</span> Nothing was changed in the text.
          </Alert>
        ) : null}
        {refusal ? (
          <Alert>
            <span data-testid="mass-refusal">{refusal}</span>{' '}
            {submit.data?.ok === false && submit.data.reason === 'not_enough_units' ? (
              <>
                Nothing was reserved and no login was tried; the text is unchanged.{' '}
                <Link href="/licenses" className="font-medium underline underline-offset-2">
                  Add a licence
                </Link>{' '}
                or submit fewer lines.
              </>
            ) : null}
          </Alert>
        ) : null}
        {outcome && submission?.id === outcome.id && (outcome.failed > 0 || outcome.created > 0) ? (
          <Alert tone={outcome.failed > 0 ? 'info' : 'success'}>
            <span data-testid="mass-outcome">
              {outcome.failed > 0
                ? `${plural(outcome.failed, 'line')} could not be created and ${outcome.failed === 1 ? 'is' : 'are'} back in the text with ${outcome.failed === 1 ? 'its reason' : 'their reasons'} below; `
                : 'Every line was created and the text is empty again; '}
              {plural(outcome.created, 'migration')} {outcome.created === 1 ? 'was' : 'were'} created and {outcome.created === 1 ? 'appears' : 'appear'} under{' '}
              <Link href="/migrations" className="font-medium underline underline-offset-2">
                Active migrations
              </Link>
              .
            </span>
          </Alert>
        ) : null}

        {checked && !checkError ? (
          <section aria-labelledby={`${textId}-check`} data-testid="mass-check" className="min-w-0 space-y-3 rounded-xl border border-slate-200 bg-white p-4 shadow-sm sm:p-6">
            <div className="flex flex-wrap items-start justify-between gap-3">
              <div className="min-w-0 space-y-1">
                <h2 id={`${textId}-check`} className="text-base font-semibold text-slate-900">
                  Formal check
                </h2>
                <Summary result={summary} isServer={checked.verdicts !== null} />
              </div>
              <label className="flex items-center gap-2 text-sm text-slate-700">
                <input type="checkbox" checked={isOnlyProblems} onChange={(e) => setIsOnlyProblems(e.target.checked)} className="h-4 w-4 rounded border-slate-300 text-brand-600 focus:ring-brand-500" />
                Only lines with problems
              </label>
            </div>
            {!isCurrent ? <Alert tone="info">The text has changed since this check. Run the formal check again before submitting.</Alert> : null}
            {isClean ? (
              <Alert tone="success">Every record passed the formal check. Submit to check the logins and create the migrations.</Alert>
            ) : null}
            <div className="flex flex-wrap items-center justify-between gap-2">
              <Legend />
              <p className="text-xs text-slate-500">Click a row to select its line in the text.</p>
            </div>
            {shownLines.length > 0 ? (
              <MassGrid rows={shownLines} selectedLine={selectedLine} onSelectLine={selectLine} label="Checked records" />
            ) : (
              <p className="rounded-lg border border-dashed border-slate-300 px-4 py-6 text-center text-sm text-slate-500">
                {gridLines.length === 0 ? 'There is no record in the text yet: comments, blank lines and the header are not records.' : 'No line has a problem.'}
              </p>
            )}
            <p className="text-xs text-slate-500">
              Columns: line and {MASS_FIELDS.length} fields as read; passwords are never shown. Scroll sideways inside the grid for the target fields and dates.
            </p>
          </section>
        ) : null}

        {isOwnMissing ? <Alert>This submission can no longer be found. The lines are still in the text above; check them and submit again.</Alert> : null}
        {watchedId && isOwnChecking ? <MassProgress status={current} records={submission?.records ?? 0} canLeave={false} /> : null}
        {watchedId && !submission && current?.state === 'checking' ? <MassProgress status={current} records={current.records} canLeave /> : null}
        {current?.state === 'done' ? (
          <MassReport
            status={current}
            zone={context.zone}
            lineMap={outcome?.id === current.id ? outcome.lineMap : null}
            onShowLine={outcome?.id === current.id ? selectLine : undefined}
            onHide={submission ? undefined : () => setIsLatestHidden(true)}
          />
        ) : null}
      </div>
      <div className="lg:col-start-3 lg:row-start-2">{help}</div>
    </div>
  );
}
