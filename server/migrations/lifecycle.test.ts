import { describe, expect, it } from 'vitest';
import { describeGap, gapOf, statusLine } from './lifecycle';

const none = { messages: 0, foldersNotCreated: 0, foldersNotCopied: 0 };

describe('verification gap', () => {
  it('counts only what the copy did not report, and folders not verified', () => {
    expect(gapOf([{ missingMessages: 2, missingReported: 2, unverifiedReason: null }])).toBeNull();
    expect(
      gapOf([
        { missingMessages: 3, missingReported: 1, unverifiedReason: null },
        { missingMessages: 0, missingReported: 0, unverifiedReason: 'The source folder could not be read: gone' },
      ]),
    ).toEqual({ missing: 2, unverifiedFolders: 1 });
  });

  it('never leaves a plain "finished" when verification found a gap', () => {
    expect(statusLine('finished', none, null)).toBeNull();
    expect(statusLine('finished', none, { missing: 1, unverifiedFolders: 0 })).toBe('Finished, but verification found 1 message missing on the target');
    expect(statusLine('incomplete', { ...none, messages: 2 }, { missing: 1, unverifiedFolders: 1 })).toBe(
      'Finished with 2 messages not copied; verification found 1 message missing on the target; 1 folder could not be verified',
    );
    expect(statusLine('waiting_resync', none, { missing: 1_204, unverifiedFolders: 0 })).toBe('So far verification found 1,204 messages missing on the target');
    expect(statusLine('finished', none, { missing: 0, unverifiedFolders: 2 })).toBe('Finished, but 2 folders could not be verified');
    expect(describeGap({ missing: 0, unverifiedFolders: 0 })).toBeNull();
  });
});
