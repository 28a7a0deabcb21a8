'use client';

import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useId, useRef, useState, type CSSProperties, type KeyboardEvent } from 'react';
import { AlertIcon, CheckIcon, InfoIcon } from '@/components/icons';
import { MASS_FIELDS, type MassField, type MassLine } from '@/server/migrations/mass/types';

/** Shown for a password that was typed: never its characters, never its length. */
export const PASSWORD_MASK = '••••••';

const PASSWORD_FIELDS = new Set<MassField>(['source.password', 'target.password']);

function widthOf(field: MassField): string {
  if (field.endsWith('.type')) return '7.5rem';
  if (field.endsWith('.email')) return '15rem';
  if (field.endsWith('.username')) return '12rem';
  if (field.endsWith('.password')) return '7rem';
  if (field.endsWith('.server')) return '15rem';
  return '9.5rem';
}

/**
 * One template for the header and every row, so columns align: line, the 12 fields, problems
 * (kept in view at the right). On a phone the problems come right after the line number, so
 * the reason is on screen before any sideways scrolling.
 */
const FIELD_COLUMNS = MASS_FIELDS.map(widthOf).join(' ');
const COLUMN_VARIABLES = { '--mass-columns': `4rem 15rem ${FIELD_COLUMNS}`, '--mass-columns-wide': `4.5rem ${FIELD_COLUMNS} 22rem` } as CSSProperties;
const GRID_ROW = 'grid [grid-template-columns:var(--mass-columns)] md:[grid-template-columns:var(--mass-columns-wide)]';
/** The problems cell: second on a phone, last (and sticky) from md up. */
const PROBLEMS_CELL = 'order-first border-r border-slate-200 md:order-none md:sticky md:right-0 md:border-l md:border-r-0';
const ROW_ESTIMATE = 37;

/** What the formal check says of a record repeating an active migration (it names no line). */
const ACTIVE_DUPLICATE = 'already being migrated';

/**
 * A record repeating another line or an active migration: blue. A line can be that and have a
 * wrong field too; it is then invalid, and still blue wherever it is not red.
 */
function isDuplicateLine(line: MassLine): boolean {
  return line.status === 'duplicate' || line.duplicateOf !== null || line.problem === ACTIVE_DUPLICATE;
}

function duplicateText(line: MassLine): string | null {
  if (!isDuplicateLine(line)) return null;
  if (line.problem) return line.problem;
  return line.duplicateOf ? `duplicate of line ${line.duplicateOf}` : ACTIVE_DUPLICATE;
}

/** The reasons of one line, each with an id its cell points at (aria-describedby). */
function Problems({ line, idOf }: { line: MassLine; idOf: (field: MassField | 'line') => string }) {
  const duplicate = duplicateText(line);
  const fields = MASS_FIELDS.filter((field) => line.fields[field]);
  const lineProblem = duplicate ? null : line.problem;
  if (!duplicate && !lineProblem && fields.length === 0 && line.notes.length === 0) {
    return (
      <span className="inline-flex items-center gap-1 text-emerald-700">
        <CheckIcon className="h-3.5 w-3.5" />
        Ready
      </span>
    );
  }
  return (
    <ul className="space-y-0.5">
      {duplicate ? (
        <li id={idOf('line')} className="font-medium text-blue-900">
          {duplicate.charAt(0).toUpperCase() + duplicate.slice(1)}
        </li>
      ) : null}
      {lineProblem ? (
        <li id={idOf('line')} className="flex gap-1 font-medium text-red-800">
          <AlertIcon className="mt-0.5 h-3.5 w-3.5 flex-none" />
          <span className="min-w-0 [overflow-wrap:anywhere]">{lineProblem}</span>
        </li>
      ) : null}
      {fields.map((field) => (
        <li key={field} id={idOf(field)} className="text-red-800 [overflow-wrap:anywhere]">
          <span className="font-mono text-[12px] font-semibold">{field}</span>: {line.fields[field]}
        </li>
      ))}
      {line.notes.map((note) => (
        <li key={note} className="flex gap-1 text-slate-600">
          <InfoIcon className="mt-0.5 h-3.5 w-3.5 flex-none opacity-70" />
          <span className="min-w-0 [overflow-wrap:anywhere]">{note}</span>
        </li>
      ))}
    </ul>
  );
}

const Row = memo(function Row({
  line,
  index,
  start,
  isSelected,
  isActive,
  focusToken,
  gridId,
  measure,
  onSelect,
  onKeyDown,
}: {
  line: MassLine;
  index: number;
  start: number;
  isSelected: boolean;
  isActive: boolean;
  focusToken: number;
  gridId: string;
  measure: (element: HTMLElement | null) => void;
  onSelect: (line: number, index: number) => void;
  onKeyDown: (event: KeyboardEvent<HTMLDivElement>, line: number, index: number) => void;
}) {
  const element = useRef<HTMLDivElement | null>(null);
  useEffect(() => {
    if (focusToken > 0) element.current?.focus({ preventScroll: true });
  }, [focusToken]);
  const idOf = (field: MassField | 'line') => `${gridId}-${line.line}-${field}`;
  const isDuplicate = isDuplicateLine(line);
  const hasLineProblem = !!line.problem;
  const plain = isDuplicate ? 'bg-blue-100 text-blue-950' : 'bg-white text-slate-800';
  return (
    <div
      ref={(node) => {
        element.current = node;
        measure(node);
      }}
      role="row"
      data-index={index}
      data-testid="mass-row"
      data-line={line.line}
      data-status={line.status}
      aria-rowindex={index + 2}
      aria-selected={isSelected}
      aria-describedby={isDuplicate || hasLineProblem ? idOf('line') : undefined}
      tabIndex={isActive ? 0 : -1}
      onClick={() => onSelect(line.line, index)}
      onKeyDown={(event) => onKeyDown(event, line.line, index)}
      className={`group absolute left-0 top-0 ${GRID_ROW} cursor-pointer border-b border-slate-200 text-[13px] outline-none focus-visible:z-10 focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-brand-500 ${
        isSelected ? 'z-[5] ring-2 ring-inset ring-brand-600' : ''
      }`}
      style={{ transform: `translateY(${start}px)`, width: 'max-content', minWidth: '100%' }}
    >
      <div
        role="rowheader"
        className={`sticky left-0 z-[2] order-first flex items-start justify-end gap-1.5 border-r border-slate-200 px-3 py-2 font-mono tabular-nums ${
          line.status === 'invalid' ? 'bg-red-50 font-semibold text-red-800' : isDuplicate ? 'bg-blue-200 font-semibold text-blue-950' : 'bg-slate-50 text-slate-500 group-hover:bg-slate-100'
        }`}
      >
        {line.status === 'invalid' ? <span aria-hidden="true" className="mt-[5px] h-1.5 w-1.5 flex-none rounded-full bg-red-500" /> : null}
        {isDuplicate && line.status !== 'invalid' ? <span aria-hidden="true" className="mt-[5px] h-1.5 w-1.5 flex-none rounded-full bg-blue-600" /> : null}
        {line.line}
      </div>
      {MASS_FIELDS.map((field, column) => {
        const reason = line.fields[field];
        const value = line.values[column] ?? '';
        const isPassword = PASSWORD_FIELDS.has(field);
        const shown = isPassword ? (value === '' ? '' : PASSWORD_MASK) : value;
        return (
          <div
            key={field}
            role="gridcell"
            data-field={field}
            aria-invalid={reason ? true : undefined}
            aria-describedby={reason ? idOf(field) : undefined}
            title={!isPassword && value.length > 18 ? value : undefined}
            className={`min-w-0 truncate border-r border-slate-100 px-3 py-2 font-mono ${
              reason ? 'bg-red-100 font-medium text-red-950 shadow-[inset_0_0_0_1px_var(--color-red-300)] forced-colors:outline-2 forced-colors:-outline-offset-2 forced-colors:outline-dashed' : `${plain} ${isDuplicate ? '' : 'group-hover:bg-slate-50'}`
            }`}
          >
            {shown}
          </div>
        );
      })}
      <div
        role="gridcell"
        data-field="problems"
        className={`min-w-0 px-3 py-2 text-[12.5px] leading-[1.125rem] ${PROBLEMS_CELL} md:shadow-[-6px_0_8px_-6px_rgb(15_23_42/0.15)] ${
          isDuplicate ? 'bg-blue-100' : line.status === 'invalid' ? 'bg-red-50' : 'bg-white group-hover:bg-slate-50'
        }`}
      >
        <Problems line={line} idOf={idOf} />
      </div>
    </div>
  );
});

/**
 * Every record of a formal check: the line number, the 12 fields as read (passwords masked)
 * and what is wrong. A wrong field is red and names its reason (aria-describedby); a duplicate
 * line is blue. Rows are virtualised, so 5,000 records scroll as smoothly as 50; the grid
 * scrolls sideways inside itself, never the page. Clicking a row (or Enter) selects its line.
 */
export const MassGrid = memo(function MassGrid({
  rows,
  selectedLine,
  onSelectLine,
  label,
}: {
  rows: readonly MassLine[];
  selectedLine: number | null;
  onSelectLine: (line: number) => void;
  label: string;
}) {
  const gridId = useId();
  const scroller = useRef<HTMLDivElement>(null);
  const [active, setActive] = useState(0);
  // Bumped by the arrow keys: the active row focuses itself once it is rendered.
  const [focusToken, setFocusToken] = useState(0);
  // The virtualizer's functions are not memoisable; the React compiler leaves this component alone.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_ESTIMATE,
    overscan: 12,
    getItemKey: (index) => rows[index]!.line,
  });
  const activeIndex = Math.min(active, Math.max(0, rows.length - 1));

  const select = (line: number, index: number) => {
    setActive(index);
    onSelectLine(line);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>, line: number, index: number) => {
    const move = (to: number) => {
      event.preventDefault();
      const next = Math.max(0, Math.min(rows.length - 1, to));
      setActive(next);
      setFocusToken((token) => token + 1);
      virtualizer.scrollToIndex(next, { align: 'auto' });
    };
    if (event.key === 'ArrowDown') move(index + 1);
    else if (event.key === 'ArrowUp') move(index - 1);
    else if (event.key === 'PageDown') move(index + 10);
    else if (event.key === 'PageUp') move(index - 10);
    else if (event.key === 'Home' && event.ctrlKey) move(0);
    else if (event.key === 'End' && event.ctrlKey) move(rows.length - 1);
    else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      select(line, index);
    }
  };

  return (
    <div
      ref={scroller}
      role="grid"
      aria-label={label}
      aria-rowcount={rows.length + 1}
      aria-colcount={MASS_FIELDS.length + 2}
      data-testid="mass-grid"
      style={COLUMN_VARIABLES}
      className="relative max-h-[32rem] min-h-24 overflow-auto overscroll-contain rounded-lg border border-slate-200 bg-white"
    >
      <div role="rowgroup" className="sticky top-0 z-20">
        <div role="row" aria-rowindex={1} className={`${GRID_ROW} border-b border-slate-300 bg-slate-100 text-xs font-semibold text-slate-600`} style={{ width: 'max-content', minWidth: '100%' }}>
          <div role="columnheader" className="sticky left-0 z-[2] order-first border-r border-slate-200 bg-slate-100 px-3 py-2 text-right">
            Line
          </div>
          {MASS_FIELDS.map((field) => (
            <div key={field} role="columnheader" className="truncate border-r border-slate-200 px-3 py-2 font-mono">
              {field}
            </div>
          ))}
          <div role="columnheader" className={`bg-slate-100 px-3 py-2 ${PROBLEMS_CELL}`}>
            Problems
          </div>
        </div>
      </div>
      <div role="rowgroup" className="relative" style={{ height: virtualizer.getTotalSize(), width: 'max-content', minWidth: '100%' }}>
        {virtualizer.getVirtualItems().map((item) => {
          const line = rows[item.index]!;
          return (
            <Row
              key={item.key}
              line={line}
              index={item.index}
              start={item.start}
              isSelected={line.line === selectedLine}
              isActive={item.index === activeIndex}
              focusToken={item.index === activeIndex ? focusToken : 0}
              gridId={gridId}
              measure={virtualizer.measureElement}
              onSelect={select}
              onKeyDown={onKeyDown}
            />
          );
        })}
      </div>
    </div>
  );
});
