import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CopySummary, FolderReport } from '../engine/copy-mailbox';
import type { ProgressSnapshot } from '../engine/progress';
import { accountPairKey, buildCopyReport, copyCommand, countErrors, defaultStateFile, reportLines, resumingLine, verdictLine } from './copy-command';

const progress = { totalMessages: 0, totalBytes: 0, copiedMessages: 0, skippedMessages: 0, failedMessages: 0, doneMessages: 0, doneBytes: 0, etaSeconds: null } as unknown as ProgressSnapshot;

function folder(sourcePath: string, counts: Partial<FolderReport> = {}): FolderReport {
  return { sourcePath, targetPath: sourcePath, total: 0, copied: 0, skipped: 0, failed: 0, gone: 0, note: null, ...counts };
}

function summary(overrides: Partial<CopySummary> = {}): CopySummary {
  return {
    isComplete: true,
    hasLoss: false,
    folders: 2,
    messages: { total: 10, copied: 7, skipped: 3, failed: 0 },
    bytes: 70_000,
    seconds: 1.23456,
    issues: [],
    folderReports: [folder('INBOX', { total: 6, copied: 6 }), folder('Projekte 50%', { targetPath: 'Projekte 50_', total: 4, copied: 1, skipped: 3, note: "'Projekte 50%' is called 'Projekte 50_' on the target: the server refused the name." })],
    renamed: [{ sourcePath: 'Projekte 50%', targetPath: 'Projekte 50_', reason: "'Projekte 50%' is called 'Projekte 50_' on the target: the server refused the name." }],
    notices: [],
    gone: 0,
    progress,
    ...overrides,
  };
}

const context = { stateFile: '/state/abc.state.json', resumed: null };

describe('copy report', () => {
  it('keeps the keys scripts read and adds status, totals, failures, renames, notices, gone and per-folder counts', () => {
    const report = JSON.parse(JSON.stringify(buildCopyReport(summary(), context))) as Record<string, unknown>;
    expect(report).toEqual({
      status: 'complete',
      folders: 2,
      messages: { total: 10, copied: 7, skipped: 3, failed: 0 },
      bytes: 70_000,
      seconds: 1.235,
      failures: [],
      renamed: [{ source: 'Projekte 50%', target: 'Projekte 50_', reason: "'Projekte 50%' is called 'Projekte 50_' on the target: the server refused the name." }],
      notices: [],
      gone: 0,
      folderReports: [
        { source: 'INBOX', target: 'INBOX', total: 6, copied: 6, skipped: 0, failed: 0, gone: 0 },
        { source: 'Projekte 50%', target: 'Projekte 50_', total: 4, copied: 1, skipped: 3, failed: 0, gone: 0 },
      ],
      resumed: null,
      stateFile: '/state/abc.state.json',
    });
  });

  it('is incomplete when a message failed, and lists it with folder, UID, size and reason', () => {
    const lost = summary({
      hasLoss: true,
      messages: { total: 10, copied: 6, skipped: 3, failed: 1 },
      issues: [{ folder: 'INBOX', uid: 42, size: 60_000, reason: 'The target server refused the message because it is too large.' }],
      folderReports: [folder('INBOX', { total: 6, copied: 5, failed: 1 }), folder('Projekte 50%', { total: 4, copied: 1, skipped: 3 })],
    });
    const report = buildCopyReport(lost, context);
    expect(report.status).toBe('incomplete');
    expect(report.failures).toEqual([{ folder: 'INBOX', uid: 42, size: 60_000, reason: 'The target server refused the message because it is too large.' }]);
    const lines = reportLines(report, true);
    expect(lines).toContain("'Projekte 50%' is called 'Projekte 50_' on the target: the server refused the name.");
    expect(lines).toContain('  INBOX UID 42 (59 KB): The target server refused the message because it is too large.');
    expect(lines.at(-1)).toBe('Incomplete: 1 message was not copied');
  });

  it('stays incomplete while messages an earlier run could not copy are still not there', () => {
    const report = buildCopyReport(summary(), { ...context, resumed: { stateFile: context.stateFile, messagesCopied: 9, messagesFailed: 2 } });
    expect(report.status).toBe('incomplete');
    expect(reportLines(report, true).at(-1)).toBe('Incomplete: 2 messages not copied by an earlier run (--fresh tries again)');
  });

  it('is incomplete when a folder was refused, though no message counts as failed', () => {
    const report = buildCopyReport(
      summary({ hasLoss: true, issues: [{ folder: 'Archiv', uid: null, size: null, reason: 'The target server refused to create the folder.' }] }),
      context,
    );
    expect(report.status).toBe('incomplete');
    expect(report.messages.failed).toBe(0);
    expect(report.failures).toEqual([{ folder: 'Archiv', uid: null, size: null, reason: 'The target server refused to create the folder.' }]);
    expect(verdictLine(report, true)).toBe('Incomplete: 1 folder was not copied, nor the messages in it');
  });

  it('is incomplete when the pass did not finish, even with nothing lost', () => {
    const report = buildCopyReport(summary({ isComplete: false }), context);
    expect(report.status).toBe('incomplete');
    expect(verdictLine(report, false)).toBe('Incomplete: the copy stopped before the end; run the same command again to go on');
  });

  it('finds counts that do not add up, for the pass and for each folder, and never calls them complete', () => {
    expect(countErrors(summary())).toEqual([]);
    const broken = summary({ messages: { total: 11, copied: 7, skipped: 3, failed: 0 }, folderReports: [folder('INBOX', { total: 6, copied: 5 }), folder('Archiv', { total: 5, copied: 2, skipped: 3 })] });
    expect(countErrors(broken)).toEqual([
      'all folders: 7 copied + 3 skipped + 0 failed is not the total of 11',
      'folder "INBOX": 5 copied + 0 skipped + 0 failed is not the total of 6',
    ]);
    const report = buildCopyReport(broken, context);
    expect(report.status).toBe('incomplete');
    expect(report.countErrors).toHaveLength(2);
    // Each adds up, but the folders do not make the copy's figures.
    expect(countErrors(summary({ folderReports: [folder('INBOX', { total: 6, copied: 6 })] }))).toEqual([
      'total: the folders add up to 6, the copy says 10',
      'copied: the folders add up to 6, the copy says 7',
      'skipped: the folders add up to 0, the copy says 3',
    ]);
    expect(countErrors(summary({ folderReports: [] }))).toEqual([]);
  });

  it('prints notices as lines naming their folder, and what is gone from the target', () => {
    const report = buildCopyReport(
      summary({
        gone: 3,
        notices: [
          { folder: 'Sent', text: 'Sent on the target was re-created.' },
          { folder: 'Virtual/All', text: 'A virtual folder; not copied.' },
          { folder: null, text: 'The target has no Junk folder.' },
        ],
      }),
      context,
    );
    expect(report.notices).toEqual(['Sent on the target was re-created.', 'Virtual/All: A virtual folder; not copied.', 'The target has no Junk folder.']);
    expect(report.gone).toBe(3);
    const lines = reportLines(report, true);
    expect(lines).toContain('3 messages copied earlier are no longer in the target (deleted there)');
    expect(lines.at(-1)).toBe('Complete');
  });

  it('says what an earlier run did when it resumes', () => {
    expect(resumingLine({ stateFile: '/s.json', messagesCopied: 2000, messagesFailed: 0 })).toBe('resuming: 2,000 messages were copied by an earlier run, state /s.json');
    expect(resumingLine({ stateFile: '/s.json', messagesCopied: 1, messagesFailed: 2 })).toBe(
      'resuming: 1 message was copied by an earlier run (2 messages could not be copied then; --fresh tries again), state /s.json',
    );
  });
});

describe('default state file', () => {
  const server = (host: string, port: number) => ({ host, port, security: 'tls' as const });
  const alice = { user: 'alice@example.com', server: server('mail.example.com', 993) };
  const bob = { user: 'bob@example.net', server: server('imap.example.net', 993) };
  const where = { dataDir: undefined, xdgStateHome: undefined, home: '/home/u' };

  it('is one per source and target account, in the user state folder', () => {
    const key = accountPairKey(alice, bob);
    expect(key).toMatch(/^[0-9a-f]{12}$/);
    expect(accountPairKey(alice, bob)).toBe(key);
    expect(accountPairKey(bob, alice)).not.toBe(key);
    expect(accountPairKey(alice, { ...bob, server: server('imap.example.net', 143) })).not.toBe(key);
    expect(defaultStateFile(key, where)).toBe(`/home/u/.local/state/mailferry/copies/${key}.state.json`);
  });

  it('follows XDG_STATE_HOME when absolute, and MAILFERRY_DATA_DIR when set', () => {
    expect(defaultStateFile('k', { ...where, xdgStateHome: '/var/state' })).toBe('/var/state/mailferry/copies/k.state.json');
    expect(defaultStateFile('k', { ...where, xdgStateHome: 'relative' })).toBe('/home/u/.local/state/mailferry/copies/k.state.json');
    expect(defaultStateFile('k', { ...where, dataDir: '/srv/mailferry' })).toBe('/srv/mailferry/copies/k.state.json');
    // Relative to the project, as everywhere MAILFERRY_DATA_DIR is read.
    expect(path.isAbsolute(defaultStateFile('k', { ...where, dataDir: '.data' }))).toBe(true);
  });
});

describe('copy --help', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  it('names the state folder this user\'s runs use', () => {
    vi.stubEnv('MAILFERRY_DATA_DIR', '');
    vi.stubEnv('XDG_STATE_HOME', '');
    expect(copyCommand.usage).toContain(`account in ${path.join(os.homedir(), '.local', 'state', 'mailferry', 'copies')}\n`);
    vi.stubEnv('MAILFERRY_DATA_DIR', '/srv/mailferry');
    expect(copyCommand.usage).toContain('account in /srv/mailferry/copies\n');
    expect(copyCommand.usage).toContain('--fresh');
  });
});
