import type { ReactNode } from 'react';
import { Card } from '@/components/page-header';

/** A card with a heading: the building block of the Information pages. */
export function InfoCard({ title, children, className = '', testId }: { title: string; children: ReactNode; className?: string; testId?: string }) {
  return (
    <Card className={`p-6 ${className}`}>
      <div data-testid={testId}>
        <h2 className="text-base font-semibold text-slate-900">{title}</h2>
        <div className="mt-3 text-sm text-slate-600">{children}</div>
      </div>
    </Card>
  );
}

/** A list of short points with a bold lead-in each. */
export function Points({ items }: { items: readonly (readonly [lead: string, text: ReactNode])[] }) {
  return (
    <ul className="space-y-2.5">
      {items.map(([lead, text]) => (
        <li key={lead} className="[overflow-wrap:anywhere]">
          <span className="font-medium text-slate-800">{lead}</span> {text}
        </li>
      ))}
    </ul>
  );
}

/** Label / value pairs, e.g. facts of this installation. */
export function Facts({ items }: { items: readonly (readonly [label: string, value: ReactNode] | null)[] }) {
  return (
    <dl className="space-y-3">
      {items.flatMap((item) =>
        item ? (
          <div key={item[0]}>
            <dt className="text-slate-500">{item[0]}</dt>
            <dd className="font-medium text-slate-800">{item[1]}</dd>
          </div>
        ) : [],
      )}
    </dl>
  );
}

export function Code({ children }: { children: ReactNode }) {
  return <code className="break-all rounded bg-slate-100 px-1 py-0.5 font-mono text-[12.5px] text-slate-800">{children}</code>;
}
