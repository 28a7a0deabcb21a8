import { describe, expect, it } from 'vitest';
import { buildNotificationMessage, FOLDERS_LISTED, type NotificationFacts } from './message';

type Folder = NonNullable<NotificationFacts['migration']['verification']>['folders'][number];

const folder = (sourcePath: string, sourceMessages: number, missing = 0, unverified: string | null = null): Folder => ({
  sourcePath,
  targetPath: sourcePath,
  sourceMessages,
  present: sourceMessages - missing,
  missing,
  missingReported: 0,
  missingUids: [],
  unverified,
});

function facts(overrides: Partial<NotificationFacts['migration']> = {}, event: NotificationFacts['event'] = 'finished', extra: Partial<NotificationFacts> = {}): NotificationFacts {
  const folders = overrides.verification?.folders ?? [folder('INBOX', 1204), folder('Sent', 50), folder('Drafts', 0)];
  return {
    event,
    zone: 'Europe/Berlin',
    recipientName: 'Ada',
    detailUrl: 'https://portal.example.com/migrations/finished/0b6f',
    accountUrl: 'https://portal.example.com/account',
    migration: {
      id: '0b6f',
      state: 'finished',
      source: { email: 'ada@old.example', type: 'imap' },
      target: { email: 'ada@new.example', type: 'imap' },
      statusLine: null,
      failureReason: null,
      messages: { copied: 1254, total: 1254 },
      totals: { skipped: 0 },
      loss: { messages: 0, foldersNotCreated: 0, foldersNotCopied: 0 },
      finishedLocal: '7 Dec 2026, 10:00',
      resyncLocal: null,
      verificationGap: null,
      ...overrides,
      verification:
        overrides.verification === null
          ? null
          : {
              pass: 'run',
              verifiedLocal: '7 Dec 2026, 10:00',
              folders,
              totals: folders.reduce(
                (t, f) => ({ sourceMessages: t.sourceMessages + f.sourceMessages, present: t.present + f.present, missing: t.missing + f.missing, unverifiedFolders: t.unverifiedFolders + (f.unverified ? 1 : 0) }),
                { sourceMessages: 0, present: 0, missing: 0, unverifiedFolders: 0 },
              ),
              ...overrides.verification,
            },
    },
    ...extra,
  };
}

describe('migration e-mail', () => {
  it('tells of a finished migration: addresses, counts, verdict per folder and the link', () => {
    const mail = buildNotificationMessage(facts({ totals: { skipped: 12 } }));
    expect(mail.subject).toBe('Migration finished: ada@old.example → ada@new.example');
    expect(mail.text).toContain('Hello Ada,');
    expect(mail.text).toContain('has finished. Everything was copied, and the verification found every message of the source on the target.');
    expect(mail.text).toMatch(/State: +Finished\n/);
    expect(mail.text).toMatch(/Ended: +7 Dec 2026, 10:00 \(Europe\/Berlin\)\n/);
    expect(mail.text).toMatch(/Copied: +1,254 of 1,254 messages \(12 already on the target\)\n/);
    expect(mail.text).toMatch(/Not copied: +Nothing\n/);
    expect(mail.text).toContain('Verification after the first pass, 7 Dec 2026, 10:00:\n1,254 of 1,254 messages of the source are on the target.');
    expect(mail.text).toContain('  INBOX: 1,204 of 1,204 present\n  Sent: 50 of 50 present\n  Drafts: empty on the source\n');
    expect(mail.text).toContain('https://portal.example.com/migrations/finished/0b6f');
    expect(mail.text).toContain('https://portal.example.com/account');
    expect(mail.html).toContain('INBOX: 1,204 of 1,204 present');
    expect(mail.html).toContain('href="https://portal.example.com/migrations/finished/0b6f"');
  });

  it('puts the folders with a gap first, says how many are missing, and lists at most a screenful', () => {
    const folders = [folder('INBOX', 10), ...Array.from({ length: 40 }, (_, i) => folder(`Archive/${2000 + i}`, 5)), folder('Sent', 50, 2), folder('Broken', 3, 0, 'The folder could not be read')];
    const mail = buildNotificationMessage(
      facts(
        { state: 'incomplete', statusLine: 'Finished, but verification found 2 messages missing on the target; 1 folder could not be verified', verificationGap: { missing: 2, unverifiedFolders: 1 }, verification: { folders } as never },
        'incomplete',
      ),
    );
    expect(mail.subject).toBe('Migration incomplete: ada@old.example → ada@new.example');
    expect(mail.text).toContain('has ended, but the verification found 2 messages missing on the target and 1 folder could not be verified.');
    expect(mail.text).toContain('State:      Incomplete: Finished, but verification found 2 messages missing');
    const lines = mail.text.split('\n').filter((l) => l.startsWith('  '));
    expect(lines[0]).toBe('  Sent: 2 missing (48 of 50 present)');
    expect(lines[1]).toBe('  Broken: could not be verified (The folder could not be read)');
    expect(lines).toHaveLength(FOLDERS_LISTED + 1);
    expect(lines.at(-1)).toBe(`  … and ${folders.length - FOLDERS_LISTED} more folders on the detail page`);
    expect(mail.text).toContain('261 of 263 messages of the source are on the target, 2 missing, 1 folder could not be verified.');
  });

  it('counts what was not copied', () => {
    const mail = buildNotificationMessage(
      facts({ state: 'incomplete', statusLine: 'Finished with 3 messages not copied', messages: { copied: 1251, total: 1254 }, loss: { messages: 3, foldersNotCreated: 1, foldersNotCopied: 0 } }, 'incomplete'),
    );
    expect(mail.text).toContain('has ended, but not everything was copied: 3 messages not copied and 1 folder could not be created.');
    expect(mail.text).toMatch(/Not copied: +3 messages not copied and 1 folder could not be created, each listed with its reason on the detail page\n/);
    expect(mail.text).toMatch(/Copied: +1,251 of 1,254 messages\n/);
  });

  it('gives the reason of a failure, without the server names it may hold', () => {
    const mail = buildNotificationMessage(
      facts({ state: 'failed', failureReason: 'The server name imap.old.example could not be found.', verification: null, messages: { copied: 0, total: 0 } }, 'failed', { redact: ['imap.old.example'] }),
    );
    expect(mail.subject).toBe('Migration failed: ada@old.example → ada@new.example');
    expect(mail.text).toContain('has failed and stopped. The server name [server] could not be found.');
    expect(mail.text).toMatch(/Reason: +The server name \[server\] could not be found\.\n/);
    expect(mail.text).not.toContain('Verification');
    expect(`${mail.text}${mail.html}`).not.toContain('imap.old.example');
  });

  it('tells of a gap found after the first pass, with the resync still to come', () => {
    const mail = buildNotificationMessage(
      facts(
        { state: 'waiting_resync', finishedLocal: null, resyncLocal: '12 Jan 2027, 10:00', statusLine: 'So far verification found 2 messages missing on the target', verificationGap: { missing: 2, unverifiedFolders: 0 }, verification: { folders: [folder('INBOX', 10, 2)] } as never },
        'verification_gap',
      ),
    );
    expect(mail.subject).toBe('Verification found a gap: ada@old.example → ada@new.example');
    expect(mail.text).toContain('After the first pass of the migration from ada@old.example to ada@new.example, the verification found a gap: 2 messages missing on the target. The resync is scheduled for 12 Jan 2027, 10:00 (Europe/Berlin).');
    expect(mail.text).toMatch(/Resync: +12 Jan 2027, 10:00 \(Europe\/Berlin\)\n/);
    expect(mail.text).toContain('  INBOX: 2 missing (8 of 10 present)');
  });

  it('escapes what it puts into the HTML part', () => {
    const mail = buildNotificationMessage(facts({ verification: { folders: [folder('<b>Bills & "Tax"</b>', 2)] } as never }, 'finished', { recipientName: '<script>x</script>' }));
    expect(mail.html).toContain('&lt;b&gt;Bills &amp; &quot;Tax&quot;&lt;/b&gt;: 2 of 2 present');
    expect(mail.html).not.toContain('<script>');
    expect(mail.text).toContain('<b>Bills & "Tax"</b>: 2 of 2 present');
  });
});
