'use client';

import { useId, useRef, useState, type ChangeEvent, type FormEvent } from 'react';
import { Alert, Button } from '@/components/form';
import { AlertIcon, CheckCircleIcon } from '@/components/icons';
import {
  countImportLines,
  importCsvSchema,
  MAX_IMPORT_CHARACTERS,
  MAX_IMPORT_LINES,
  type ImportLineError,
  type ImportResult,
} from '@/server/hosted-mailboxes/schemas';

const EXAMPLE = `email;username;server;type
anna.berger@example.com;anna.berger@example.com;imaps://mail.example.com:993;imap
info@example.com;info;mail.example.com`;

const fieldLabel: Record<ImportLineError['field'], string> = {
  line: 'Line',
  email: 'Email',
  username: 'Username',
  server: 'Server',
  type: 'Type',
};

const number = (n: number) => n.toLocaleString('en-GB');
const plural = (n: number, word: string, words = `${word}s`) => `${number(n)} ${n === 1 ? word : words}`;

function UploadIcon({ className = 'h-4 w-4' }: { className?: string }) {
  return (
    <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.8" className={className} aria-hidden="true">
      <path strokeLinecap="round" strokeLinejoin="round" d="M3 16.5v2.25A2.25 2.25 0 0 0 5.25 21h13.5A2.25 2.25 0 0 0 21 18.75V16.5m-13.5-9L12 3m0 0 4.5 4.5M12 3v13.5" />
    </svg>
  );
}

function Count({ label, value, tone }: { label: string; value: number; tone: 'good' | 'neutral' | 'bad' }) {
  const styles = { good: 'text-emerald-700', neutral: 'text-slate-700', bad: 'text-red-700' }[tone];
  return (
    <div className="min-w-0 flex-1 px-4 py-3 sm:px-5">
      <p className="text-xs font-semibold uppercase tracking-wide text-slate-500">{label}</p>
      <p className={`mt-1 text-2xl font-semibold tabular-nums tracking-tight ${value === 0 ? 'text-slate-400' : styles}`}>{number(value)}</p>
    </div>
  );
}

/** What an import did, line by line where something needs the admin's attention. */
function ImportResultPanel({ result }: { result: ImportResult }) {
  const clean = result.errors.length === 0;
  return (
    <section aria-labelledby="import-result-title" data-testid="import-result" className="overflow-hidden rounded-lg border border-slate-200">
      <div className={`flex items-start gap-2.5 border-b px-4 py-3 sm:px-5 ${clean ? 'border-emerald-100 bg-emerald-50' : 'border-amber-100 bg-amber-50'}`}>
        {clean ? <CheckCircleIcon className="mt-0.5 h-5 w-5 shrink-0 text-emerald-600" /> : <AlertIcon className="mt-0.5 h-5 w-5 shrink-0 text-amber-600" />}
        <div className="min-w-0">
          <h3 id="import-result-title" className={`text-sm font-semibold ${clean ? 'text-emerald-950' : 'text-amber-950'}`}>
            {result.imported > 0 ? `${plural(result.imported, 'mailbox', 'mailboxes')} imported` : 'Nothing was imported'}
            {result.errors.length > 0 ? `, ${plural(result.errors.length, 'problem')} to fix` : ''}
          </h3>
          <p className={`mt-0.5 text-sm ${clean ? 'text-emerald-800' : 'text-amber-900'}`}>
            {clean
              ? `All ${plural(result.lines, 'line')} read.`
              : 'Lines with a problem were not imported; every other line was. Fix them and import the same text again: mailboxes already stored are skipped.'}
          </p>
        </div>
      </div>
      <div className="flex divide-x divide-slate-100 border-b border-slate-100 bg-white">
        <Count label="Imported" value={result.imported} tone="good" />
        <Count label="Skipped" value={result.skipped.length} tone="neutral" />
        <Count label="Errors" value={result.errors.length} tone="bad" />
      </div>
      {result.errors.length > 0 ? (
        <ul aria-label="Lines with errors" className="max-h-80 divide-y divide-red-100 overflow-y-auto bg-white">
          {result.errors.map((error, i) => (
            <li key={`${error.line}-${error.field}-${i}`} data-testid="import-error" className="flex gap-3 px-4 py-2.5 text-sm sm:px-5">
              <span className="w-16 shrink-0 font-medium tabular-nums text-red-700">Line {error.line}</span>
              <span className="min-w-0 text-slate-700">
                {error.field !== 'line' ? <span className="mr-1.5 inline-flex rounded bg-red-50 px-1.5 py-0.5 text-xs font-medium text-red-700 ring-1 ring-red-200">{fieldLabel[error.field]}</span> : null}
                <span className="[overflow-wrap:anywhere]">{error.message}</span>
              </span>
            </li>
          ))}
        </ul>
      ) : null}
      {result.skipped.length > 0 ? (
        <details className="group border-t border-slate-100 bg-white">
          <summary className="cursor-pointer px-4 py-2.5 text-sm font-medium text-slate-700 hover:bg-slate-50 sm:px-5">
            {plural(result.skipped.length, 'line')} skipped: the address is already stored
          </summary>
          <ul className="max-h-60 overflow-y-auto px-4 pb-3 text-sm text-slate-600 sm:px-5">
            {result.skipped.map((s) => (
              <li key={s.line} className="flex gap-3 py-0.5">
                <span className="w-16 shrink-0 tabular-nums text-slate-500">Line {s.line}</span>
                <span className="min-w-0 [overflow-wrap:anywhere]">{s.email}</span>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </section>
  );
}

/** Paste or upload `email;username;server[;type]` lines; shows what was imported, skipped and why lines failed. */
export function CsvImport({
  pending,
  result,
  serverError,
  onImport,
  onClose,
}: {
  pending: boolean;
  result: ImportResult | null;
  serverError: string | null;
  onImport: (text: string) => void;
  onClose: () => void;
}) {
  const [text, setText] = useState('');
  const [fileName, setFileName] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const textId = useId();
  const lines = countImportLines(text);

  async function readFile(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    event.target.value = ''; // choosing the same file again must read it again
    if (!file) return;
    if (file.size > MAX_IMPORT_CHARACTERS) {
      setError(`${file.name} is larger than ${MAX_IMPORT_CHARACTERS / 1_000_000} MB. Split it and import the parts one after the other.`);
      return;
    }
    setText(await file.text());
    setFileName(file.name);
    setError(null);
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const parsed = importCsvSchema.safeParse({ text });
    if (!parsed.success) {
      setError(parsed.error.issues[0]?.message ?? 'Check the text.');
      return;
    }
    setError(null);
    onImport(parsed.data.text);
  }

  return (
    <form onSubmit={submit} noValidate className="space-y-5 p-6" aria-labelledby="import-title">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <h2 id="import-title" className="text-base font-semibold text-slate-900">
            Import from CSV
          </h2>
          <p className="mt-1 max-w-2xl text-sm text-slate-600">
            One mailbox per line: <code className="rounded bg-slate-100 px-1 py-0.5 text-[13px] text-slate-800">email;username;server;type</code>. The type is optional (imap when
            empty); commas work too, and a header line is recognised. Up to {number(MAX_IMPORT_LINES)} lines at a time.
          </p>
        </div>
      </div>
      <div className="grid gap-5 lg:grid-cols-5">
        <div className="min-w-0 lg:col-span-3">
          <div className="mb-1 flex flex-wrap items-end justify-between gap-2">
            <label htmlFor={textId} className="text-sm font-medium text-slate-700">
              Lines to import
            </label>
            <span className={`text-xs tabular-nums ${lines > MAX_IMPORT_LINES ? 'font-medium text-red-600' : 'text-slate-500'}`}>
              {fileName ? `${fileName} · ` : ''}
              {plural(lines, 'line')} of at most {number(MAX_IMPORT_LINES)}
            </span>
          </div>
          <textarea
            id={textId}
            name="csv"
            rows={8}
            // Unwrapped, so each line on screen is one line of the file and the reported line numbers match.
            wrap="off"
            spellCheck={false}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              setFileName(null);
            }}
            placeholder={EXAMPLE}
            className="block w-full resize-y rounded-md border border-slate-300 bg-white px-3 py-2 font-mono text-[13px] leading-relaxed shadow-sm outline-none placeholder:text-slate-400 focus:border-brand-500 focus:ring-2 focus:ring-brand-100"
          />
          <div className="mt-2 flex flex-wrap items-center gap-2">
            <input ref={fileInput} type="file" accept=".csv,.txt,text/csv,text/plain" onChange={readFile} className="sr-only" aria-label="CSV file" tabIndex={-1} />
            <Button type="button" variant="secondary" className="px-3 py-1.5" onClick={() => fileInput.current?.click()}>
              <UploadIcon />
              Choose a file…
            </Button>
            <span className="text-xs text-slate-500">.csv or .txt, UTF-8</span>
          </div>
        </div>
        <aside className="min-w-0 rounded-lg border border-slate-200 bg-slate-50 p-4 text-sm text-slate-600 lg:col-span-2">
          <h3 className="font-medium text-slate-800">How lines are handled</h3>
          <ul className="mt-2 list-disc space-y-1.5 pl-4">
            <li>Every line is checked; a line with a problem is reported with its number and left out.</li>
            <li>
              An address that is <span className="font-medium text-slate-800">already stored is skipped</span> and left unchanged; to change one, remove it and add it again.
            </li>
            <li>All other lines are imported together, in one step.</li>
            <li>Never put passwords in the file: they are not stored.</li>
          </ul>
        </aside>
      </div>
      {error ? <Alert>{error}</Alert> : null}
      {serverError ? <Alert>{serverError}</Alert> : null}
      <div aria-live="polite">{result ? <ImportResultPanel result={result} /> : null}</div>
      <div className="flex justify-end gap-2 border-t border-slate-100 pt-4">
        <Button type="button" variant="ghost" onClick={onClose}>
          {result ? 'Close' : 'Cancel'}
        </Button>
        <Button type="submit" disabled={pending || lines === 0}>
          {pending ? 'Importing…' : lines > 0 ? `Import ${plural(lines, 'line')}` : 'Import'}
        </Button>
      </div>
    </form>
  );
}
