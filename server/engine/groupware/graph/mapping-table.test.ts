import { describe, expect, it } from 'vitest';
import { CONTACT_PROPERTIES } from './contacts';
import { EVENT_PROPERTIES } from './events';
import { GRAPH_MAPPING, mappedNames } from './mapping-table';
import { TASK_PROPERTIES } from './tasks';

describe('the mapping table', () => {
  it.each([
    ['event', EVENT_PROPERTIES],
    ['contact', CONTACT_PROPERTIES],
    ['task', TASK_PROPERTIES],
  ] as const)('has a row for every %s property the mapping reads', (kind, read) => {
    const rows = mappedNames(kind);
    expect([...read].map((name) => name.toUpperCase()).filter((name) => !rows.has(name))).toEqual([]);
  });

  it('says how for every row, and names no property twice', () => {
    expect(GRAPH_MAPPING.filter((row) => row.how.trim() === '')).toEqual([]);
    const keys = GRAPH_MAPPING.map((row) => `${row.kind} ${row.ical}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
