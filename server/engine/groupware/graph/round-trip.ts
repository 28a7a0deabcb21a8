import { normalisedLines } from '../items';
import type { MappingNotes } from './notes';

/**
 * The guarantee that nothing is lost silently: an item is compared with what Graph gives back of
 * its mapping, in the part 1 verifier's normal form (items.ts normalisedLines), and every
 * property that differs must have a line in the notes. A difference the mapping did not name
 * gets a line of its own here, so the copy always reports it.
 */

export interface Difference {
  /** Components from the root, e.g. ['VCALENDAR', 'VEVENT', 'VALARM']. */
  components: string[];
  /** The same with an overridden instance's RECURRENCE-ID, e.g. 'VEVENT[2012-11-05T18:00:00Z]'. */
  instances: string[];
  /** Upper-case property name. */
  property: string;
  line: string;
}

/** Lines of one normal form missing from the other, and the other way round (a multiset difference). */
export function differences(original: string, back: string): Difference[] {
  const a = normalisedLines(original);
  const b = normalisedLines(back);
  const count = (lines: string[]) => {
    const map = new Map<string, number>();
    for (const line of lines) map.set(line, (map.get(line) ?? 0) + 1);
    return map;
  };
  const inA = count(a);
  const inB = count(b);
  const out: Difference[] = [];
  const describe = (line: string): Difference => {
    const bar = line.indexOf('|');
    const path = line.slice(0, bar);
    const rest = line.slice(bar + 1);
    const property = /^[^;:]*/.exec(rest)![0].toUpperCase();
    const instances = path.split('/').filter(Boolean);
    const components = instances.map((c) => c.replace(/\[.*$/, '').toUpperCase());
    return { components, instances, property, line };
  };
  for (const [line, n] of inA) if ((inB.get(line) ?? 0) < n) out.push(describe(line));
  for (const [line, n] of inB) if ((inA.get(line) ?? 0) < n) out.push(describe(line));
  return out;
}

/**
 * Does a note speak of this difference: "<COMPONENT> <PROPERTY>…", or "<COMPONENT> *" for a whole
 * component on its path, or "VEVENT[<RECURRENCE-ID>] *" for an overridden instance written back
 * under another RECURRENCE-ID?
 */
export function isNoted(difference: Difference, lines: string[]): boolean {
  const own = difference.components[difference.components.length - 1] ?? '';
  const named = (line: string) => {
    const prefix = `${own} ${difference.property}`;
    return line.startsWith(prefix) && /^[ :;=]/.test(line.slice(prefix.length));
  };
  return lines.some((line) => named(line) || difference.components.some((c) => line.startsWith(`${c} *:`)) || difference.instances.some((c) => c.includes('[') && line.startsWith(`${c} *:`)));
}

export const UNNAMED_DIFFERENCE = 'Microsoft 365 does not keep it as it is';

/** Adds a not-mapped line for every difference between the item and its image that no note names. */
export function completeNotes(original: string, back: string, notes: MappingNotes): void {
  const all = [...notes.notMapped, ...notes.rewritten];
  for (const difference of differences(original, back)) {
    if (isNoted(difference, all)) continue;
    const own = difference.components[difference.components.length - 1] ?? 'VCALENDAR';
    notes.lost(own, difference.property, UNNAMED_DIFFERENCE);
    all.push(`${own} ${difference.property}: ${UNNAMED_DIFFERENCE}`);
  }
}
