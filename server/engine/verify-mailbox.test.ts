import { describe, expect, it } from 'vitest';
import { messageIdentity } from './identity';
import { compareFolder, folderState } from './verify-mailbox';

const id = (n: number) => messageIdentity({ messageId: `<m${n}@example.test>`, date: new Date(Date.UTC(2026, 0, n)) });

describe('compareFolder', () => {
  it('counts every source message present or missing, with the missing UIDs ascending', () => {
    const source = new Map([
      [7, id(7)],
      [2, id(2)],
      [5, id(5)],
      [9, id(9)],
    ]);
    const verdict = compareFolder(source, [id(9), id(2), id(100)], new Set([5]));
    expect(verdict).toEqual({ sourceMessages: 4, present: 2, missing: 2, missingUids: [5, 7], missingReported: 1 });
    expect(verdict.present + verdict.missing).toBe(verdict.sourceMessages);
  });

  it('needs one target copy per source copy of a message', () => {
    const source = new Map([
      [1, id(1)],
      [2, id(1)],
      [3, id(1)],
    ]);
    expect(compareFolder(source, [id(1)], new Set())).toMatchObject({ present: 1, missing: 2, missingUids: [2, 3] });
    expect(compareFolder(source, [id(1), id(1), id(1), id(1)], new Set())).toMatchObject({ present: 3, missing: 0 });
  });

  it('keeps at most the cap of UIDs, and the exact count', () => {
    const source = new Map(Array.from({ length: 2500 }, (_, i) => [i + 1, id(i + 1)] as const));
    const verdict = compareFolder(source, [], new Set(), 1000);
    expect(verdict.missing).toBe(2500);
    expect(verdict.missingUids).toHaveLength(1000);
    expect(verdict.missingUids.at(-1)).toBe(1000);
  });

  it('matches a message without Message-ID by its header block, however the target folded it', () => {
    const headers = Buffer.from('From: a@example.test\r\nSubject: long\r\n  folded\r\n\r\n');
    const refolded = Buffer.from('From: a@example.test\nSubject: long folded\n\n');
    const verdict = compareFolder(new Map([[1, messageIdentity({ headers })]]), [messageIdentity({ headers: refolded })], new Set());
    expect(verdict).toMatchObject({ present: 1, missing: 0 });
  });
});

describe('folderState', () => {
  it('changes with every arrival (UIDNEXT), expunge (EXISTS) and re-creation (UIDVALIDITY)', () => {
    const box = { uidValidity: '17', uidNext: 41, exists: 40 };
    const states = [box, { ...box, uidNext: 42, exists: 41 }, { ...box, exists: 39 }, { ...box, uidValidity: '18' }, { ...box, uidNext: 42 }].map(folderState);
    expect(new Set(states).size).toBe(states.length);
    expect(folderState({ ...box })).toBe(states[0]);
    // Without UIDNEXT nothing says that nothing arrived.
    expect(folderState({ ...box, uidNext: null })).toBeNull();
  });
});
