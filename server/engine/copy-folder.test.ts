import { describe, expect, it } from 'vitest';
import { checkpointCut } from './copy-folder';

const stored = (pairs: [number, number][]) => pairs.map(([sourceUid, targetUid]) => ({ sourceUid, targetUid }));

describe('checkpointCut', () => {
  it('covers a batch stored in order, below what a later batch got', () => {
    expect(checkpointCut(stored([[1, 10], [2, 11], [3, 12]]), 13)).toEqual({ highestCovered: 12, open: [] });
    expect(checkpointCut(stored([[1, 10], [2, 11], [3, 12]]), Number.POSITIVE_INFINITY)).toEqual({ highestCovered: 12, open: [] });
  });

  it('ends before a message stored after the next batch (refused in a group, then taken singly)', () => {
    // Source 2 was refused with its group and stored again after the next batch's 13 and 14.
    const cut = checkpointCut(stored([[1, 10], [2, 15], [3, 11], [4, 12]]), 13);
    expect(cut).toEqual({ highestCovered: 10, open: stored([[2, 15], [3, 11], [4, 12]]) });
  });

  it('covers nothing when the first message went last, and everything once the later batch is in', () => {
    expect(checkpointCut(stored([[5, 20], [6, 18], [7, 19]]), Number.POSITIVE_INFINITY)).toEqual({ highestCovered: 20, open: [] });
    expect(checkpointCut(stored([[5, 20], [6, 18], [7, 19]]), 17)).toEqual({ highestCovered: 0, open: stored([[5, 20], [6, 18], [7, 19]]) });
  });

  it('covers an empty batch (every message failed)', () => {
    expect(checkpointCut([], 40)).toEqual({ highestCovered: 0, open: [] });
  });
});
