import type { MassLineVerdict } from '@/server/migrations/mass/submission-types';
import type { MassCheckResult, MassLine } from '@/server/migrations/mass/types';

/**
 * The text of the mass migration form, line by line, as the textarea holds it. A textarea
 * turns every CRLF and lone CR into LF, so the browser's copy does the same on upload and its
 * character offsets then match the textarea's selection.
 */
export function normaliseLineBreaks(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/** How many lines an editor shows for the text (a final line break does not start another). */
export function lineCount(text: string): number {
  if (text === '') return 0;
  let count = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  return text.endsWith('\n') ? count - 1 : count;
}

/** Character range of the 1-based `line` in `text`, without its line break; null past the end. */
export function lineRange(text: string, line: number): { start: number; end: number } | null {
  if (line < 1) return null;
  let start = 0;
  for (let current = 1; current < line; current++) {
    const next = text.indexOf('\n', start);
    if (next === -1) return null;
    start = next + 1;
  }
  if (start > text.length || (start === text.length && line > 1)) return null;
  const end = text.indexOf('\n', start);
  return { start, end: end === -1 ? text.length : end };
}

/** UTF-8 size of the text, as the submission limit counts it. */
export function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

/**
 * What stays in the textarea after a submission: every line of the submitted text except the
 * records that became migrations, exactly as typed (header, comments and blank lines too).
 * `lineMap` gives each kept line's new number, so the report can point at it.
 */
export function remainingText(submitted: string, created: ReadonlySet<number>): { text: string; lineMap: Map<number, number> } {
  const lines = submitted.split('\n');
  // A final line break does not start another line, and it stays at the end.
  const endsWithBreak = lines.length > 1 && lines[lines.length - 1] === '';
  if (endsWithBreak) lines.pop();
  const kept: string[] = [];
  const lineMap = new Map<number, number>();
  lines.forEach((content, index) => {
    if (created.has(index + 1)) return;
    kept.push(content);
    lineMap.set(index + 1, kept.length);
  });
  const text = kept.length > 0 ? kept.join('\n') + (endsWithBreak ? '\n' : '') : '';
  return { text, lineMap };
}

/**
 * The server's verdicts carry no values: they are merged with the browser's own reading of the
 * same text by line number, so the grid can show the fields the server found wrong.
 */
export function mergeVerdicts(own: readonly MassLine[], verdicts: readonly MassLineVerdict[]): MassLine[] {
  const byLine = new Map(own.map((line) => [line.line, line]));
  return verdicts.map((verdict) => {
    const mine = byLine.get(verdict.line);
    return { ...verdict, values: mine?.values ?? [], raw: mine?.raw ?? '' };
  });
}

export interface MassSummary {
  records: number;
  ready: number;
  invalid: number;
  duplicates: number;
}

export function summaryOf(lines: readonly MassLine[]): MassSummary {
  const summary: MassSummary = { records: 0, ready: 0, invalid: 0, duplicates: 0 };
  for (const line of lines) {
    if (line.status === 'ignored') continue;
    summary.records++;
    if (line.status === 'ok') summary.ready++;
    else if (line.status === 'invalid') summary.invalid++;
    else summary.duplicates++;
  }
  return summary;
}

/** The lines of a check the grid lists: every record, no comments, blanks or header. */
export function recordLines(result: Pick<MassCheckResult, 'lines'>): MassLine[] {
  return result.lines.filter((line) => line.status !== 'ignored');
}

export const formatNumber = (n: number) => n.toLocaleString('en-GB');
export const plural = (n: number, word: string, words = `${word}s`) => `${formatNumber(n)} ${n === 1 ? word : words}`;
