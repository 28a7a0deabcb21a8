'use client';

import { useImperativeHandle, useMemo, useRef, type Ref } from 'react';
import { lineRange } from './mass-text';

export interface MassEditorHandle {
  /** Selects the 1-based line (without its line break), focuses the textarea and scrolls it into view. */
  selectLine(line: number): boolean;
  /** Back to the first line and column, for a text that was replaced as a whole. */
  scrollToStart(): void;
}

/**
 * The records' textarea with line numbers beside it. It does not wrap, so every line on
 * screen is one line of the text and the numbers match the grid's and the report's.
 */
export function MassEditor({
  ref,
  id,
  value,
  lines,
  readOnly,
  describedBy,
  invalid,
  placeholder,
  onChange,
}: {
  ref: Ref<MassEditorHandle>;
  id: string;
  value: string;
  lines: number;
  readOnly: boolean;
  describedBy?: string;
  invalid?: boolean;
  placeholder: string;
  onChange: (value: string) => void;
}) {
  const textarea = useRef<HTMLTextAreaElement>(null);
  const numbers = useRef<HTMLDivElement>(null);
  const gutter = useMemo(() => Array.from({ length: Math.max(1, lines) }, (_, i) => i + 1).join('\n'), [lines]);
  const digits = String(Math.max(1, lines)).length;

  const follow = () => {
    if (numbers.current && textarea.current) numbers.current.style.transform = `translateY(${-textarea.current.scrollTop}px)`;
  };

  useImperativeHandle(ref, () => ({
    selectLine(line: number) {
      const element = textarea.current;
      if (!element) return false;
      const range = lineRange(element.value, line);
      if (!range) return false;
      element.focus({ preventScroll: true });
      element.setSelectionRange(range.start, range.end);
      const lineHeight = Number.parseFloat(getComputedStyle(element).lineHeight) || 20;
      // The line in the middle of the textarea, its start at the left edge.
      element.scrollTop = Math.max(0, (line - 1) * lineHeight - element.clientHeight / 2 + lineHeight);
      element.scrollLeft = 0;
      follow();
      element.scrollIntoView({ block: 'nearest' });
      return true;
    },
    scrollToStart() {
      const element = textarea.current;
      if (!element) return;
      element.scrollTop = 0;
      element.scrollLeft = 0;
      element.setSelectionRange(0, 0);
      follow();
    },
  }));

  return (
    <div
      className={`flex overflow-hidden rounded-md border bg-white shadow-sm transition focus-within:ring-2 ${
        invalid ? 'border-red-400 focus-within:border-red-500 focus-within:ring-red-100' : 'border-slate-300 focus-within:border-brand-500 focus-within:ring-brand-100'
      } ${readOnly ? 'bg-slate-50' : ''}`}
    >
      <div aria-hidden="true" className="relative flex-none select-none overflow-hidden border-r border-slate-200 bg-slate-50 font-mono text-[13px] leading-5 text-slate-400" style={{ width: `${digits + 2.5}ch` }}>
        <div ref={numbers} className="whitespace-pre px-2 py-2 text-right tabular-nums">
          {gutter}
        </div>
      </div>
      <textarea
        ref={textarea}
        id={id}
        name="records"
        value={value}
        readOnly={readOnly}
        aria-describedby={describedBy}
        aria-invalid={invalid || undefined}
        // Unwrapped, so each line on screen is one line of the text and its number is right.
        wrap="off"
        spellCheck={false}
        autoCapitalize="off"
        autoCorrect="off"
        autoComplete="off"
        placeholder={placeholder}
        onChange={(event) => onChange(event.target.value)}
        onScroll={follow}
        className="block h-72 min-h-40 w-full min-w-0 flex-1 resize-y bg-transparent px-3 py-2 font-mono text-[13px] leading-5 text-slate-900 outline-none placeholder:text-slate-400 read-only:text-slate-500 sm:h-80"
      />
    </div>
  );
}
