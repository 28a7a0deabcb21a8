import { describe, expect, it } from 'vitest';
import { ProgressTracker } from '../engine/progress';
import { formatInZone } from './list-migrations';
import { LIVE_FOLDERS_KEPT, liveProgressOf, readLiveProgress } from './live-progress';
import { buildTimeline, groupwareOf, groupwareRowOf, mergeFolders, stateSentence, type SentenceFacts } from './state-sentence';

const zone = 'Europe/Berlin';
const facts = (over: Partial<SentenceFacts>): SentenceFacts => ({
  state: 'running',
  foldersLeft: null,
  startLocal: '12 Jan 2027, 10:00',
  resyncLocal: null,
  finishedLocal: null,
  zone,
  ...over,
});

describe('state sentence', () => {
  it('says how many folders are left while a pass runs', () => {
    expect(stateSentence(facts({ foldersLeft: 2 }))).toBe('Copying — 2 folders left');
    expect(stateSentence(facts({ state: 'resyncing', foldersLeft: 1 }))).toBe('Resyncing — 1 folder left');
    expect(stateSentence(facts({ foldersLeft: 0 }))).toBe('Copying — verifying what arrived');
    expect(stateSentence(facts({ foldersLeft: null }))).toBe('Copying — reading the folders');
  });

  it('names the dates of what is planned and of the end, with the zone', () => {
    expect(stateSentence(facts({ state: 'scheduled' }))).toBe('Scheduled for 12 Jan 2027, 10:00 (Europe/Berlin)');
    expect(stateSentence(facts({ state: 'waiting_resync', resyncLocal: '13 Jan 2027, 10:00' }))).toBe('Waiting for the resync on 13 Jan 2027, 10:00 (Europe/Berlin)');
    expect(stateSentence(facts({ state: 'finished', finishedLocal: '13 Jan 2027, 11:42' }))).toBe('Finished on 13 Jan 2027, 11:42 (Europe/Berlin)');
    expect(stateSentence(facts({ state: 'incomplete', finishedLocal: '13 Jan 2027, 11:42' }))).toBe('Finished on 13 Jan 2027, 11:42 (Europe/Berlin)');
    expect(stateSentence(facts({ state: 'cancelled', finishedLocal: '12 Jan 2027, 10:05' }))).toBe('Cancelled on 12 Jan 2027, 10:05 (Europe/Berlin)');
    expect(stateSentence(facts({ state: 'failed', finishedLocal: '12 Jan 2027, 10:05' }))).toBe('Failed on 12 Jan 2027, 10:05 (Europe/Berlin)');
  });
});

describe('timeline', () => {
  const format = (at: Date) => formatInZone(at, zone);
  const at = (iso: string) => new Date(iso);

  it('lists the recorded events oldest first in the server zone, then the planned resync', () => {
    const items = buildTimeline(
      [
        { kind: 'scheduled', at: at('2027-01-12T08:55:00Z') },
        { kind: 'started', at: at('2027-01-12T09:00:02Z') },
        { kind: 'first_pass_done', at: at('2027-01-12T09:40:00Z') },
      ],
      { state: 'waiting_resync', createdAt: at('2027-01-12T08:55:00Z'), startAt: at('2027-01-12T09:00:00Z'), resyncAt: at('2027-01-13T09:00:00Z'), startedAt: at('2027-01-12T09:00:02Z'), finishedAt: null },
      format,
    );
    expect(items.map((i) => [i.label, i.local, i.isPlanned])).toEqual([
      ['Scheduled', '12 Jan 2027, 09:55', false],
      ['Copy started', '12 Jan 2027, 10:00', false],
      ['First pass done', '12 Jan 2027, 10:40', false],
      ['Resync planned', '13 Jan 2027, 10:00', true],
    ]);
  });

  it('stands in creation, start and end for a migration recorded before the timeline existed', () => {
    const items = buildTimeline([], { state: 'cancelled', createdAt: at('2026-07-01T10:00:00Z'), startAt: at('2026-07-01T10:00:00Z'), resyncAt: null, startedAt: at('2026-07-01T10:00:05Z'), finishedAt: at('2026-07-01T10:03:00Z') }, format);
    // Summer time: UTC+2.
    expect(items.map((i) => [i.kind, i.local])).toEqual([
      ['scheduled', '1 Jul 2026, 12:00'],
      ['started', '1 Jul 2026, 12:00'],
      ['cancelled', '1 Jul 2026, 12:03'],
      ['credentials_deleted', '1 Jul 2026, 12:03'],
    ]);
  });

  it('shows the planned start of a scheduled migration and does not repeat recorded events', () => {
    const items = buildTimeline([{ kind: 'scheduled', at: at('2027-01-10T12:00:00Z') }], { state: 'scheduled', createdAt: at('2027-01-10T12:00:00Z'), startAt: at('2027-01-12T09:00:00Z'), resyncAt: null, startedAt: null, finishedAt: null }, format);
    expect(items.map((i) => i.label)).toEqual(['Scheduled', 'Start planned']);
  });
});

describe('folder merge', () => {
  it('puts the running pass over the checkpoints, adding what earlier jobs counted, and keeps the rest done', () => {
    const tracker = new ProgressTracker(undefined);
    tracker.setFolderTotal('INBOX', 10, 10_000, 'INBOX');
    tracker.setFolderTotal('Sent', 5, 5_000, 'Gesendet');
    tracker.setFolderTotal('Archive', 0, 0, 'Archive');
    tracker.folderEnded('Archive');
    tracker.folderStarted('INBOX');
    tracker.copied('INBOX', 4, 4_000);
    tracker.failed('INBOX', 1, 1_000);
    // This job's second chunk: INBOX had 20 messages copied (and 1 skipped) by the job before.
    const live = liveProgressOf(tracker.snapshot(), new Map([['INBOX', { copied: 20, skipped: 1, failed: 0, bytes: 20_000 }]]));
    expect(live.foldersTotal).toBe(3);
    expect(live.foldersLeft).toBe(2);
    const checkpoints = [
      { sourcePath: 'INBOX', targetPath: 'INBOX', copied: 24, skipped: 1, failed: 1, bytesCopied: 24_000 },
      { sourcePath: 'Old', targetPath: 'Old', copied: 7, skipped: 0, failed: 0, bytesCopied: 700 },
    ];
    const rows = mergeFolders(checkpoints, readLiveProgress(JSON.parse(JSON.stringify(live))), 'running');
    expect(rows.map((r) => [r.sourcePath, r.targetPath, r.state, r.copied, r.skipped, r.failed, r.done, r.total])).toEqual([
      ['INBOX', 'INBOX', 'working', 24, 1, 1, 26, 31],
      ['Old', 'Old', 'done', 7, 0, 0, 7, 7],
      ['Sent', 'Gesendet', 'waiting', 0, 0, 0, 0, 5],
      ['Archive', 'Archive', 'done', 0, 0, 0, 0, 0],
    ]);
    expect(rows[0]!.bytesTotal).toBe(30_000);
    expect(rows[0]!.bytesCopied).toBe(25_000);
  });

  it('without a running pass: every folder done, or waiting before the start', () => {
    const checkpoints = [{ sourcePath: 'INBOX', targetPath: 'INBOX', copied: 3, skipped: 0, failed: 0, bytesCopied: 300 }];
    expect(mergeFolders(checkpoints, null, 'finished')[0]).toMatchObject({ state: 'done', total: 3, done: 3, bytesTotal: null });
    expect(mergeFolders(checkpoints, null, 'scheduled')[0]!.state).toBe('waiting');
  });

  it('keeps the folders being copied and waiting when there are more than it stores', () => {
    const tracker = new ProgressTracker(undefined);
    for (let i = 0; i < LIVE_FOLDERS_KEPT + 50; i++) {
      tracker.setFolderTotal(`F${i}`, 1, 10);
      if (i < LIVE_FOLDERS_KEPT) tracker.folderEnded(`F${i}`);
    }
    tracker.folderStarted(`F${LIVE_FOLDERS_KEPT + 49}`);
    const live = liveProgressOf(tracker.snapshot(), new Map());
    expect(live.folders).toHaveLength(LIVE_FOLDERS_KEPT);
    expect(live.foldersLeft).toBe(50);
    expect(live.folders[0]!.state).toBe('working');
    expect(live.folders.filter((f) => f.state !== 'done')).toHaveLength(50);
  });

  it('reads stored JSON of another shape as none', () => {
    expect(readLiveProgress(null)).toBeNull();
    expect(readLiveProgress([{ path: 'INBOX' }])).toBeNull();
  });
});

describe('groupware line', () => {
  it('says why there is nothing for e-mail-only pairs and what is moved for groupware pairs', () => {
    expect(groupwareOf('imap', 'imap')).toEqual({ line: 'Both accounts are e-mail only (IMAP): there are no calendars, contacts or tasks to move.', counts: null, isCopied: false });
    expect(groupwareOf('imap', 'office365').line).toMatch(/source account is e-mail only/);
    expect(groupwareOf('zimbra', 'imap').line).toMatch(/target account is e-mail only/);
    expect(groupwareOf('zimbra', 'office365')).toEqual({ line: expect.stringMatching(/copied after the e-mail.*without attendees: they are kept in the event's text/), counts: null, isCopied: true });
    expect(groupwareOf('office365', 'exchange')).toEqual({ line: expect.stringMatching(/copied after the e-mail.*no attendee is notified\.$/), counts: null, isCopied: true });
  });

  it('says when the calendars, contacts and tasks of a pass are being copied', () => {
    const facts: SentenceFacts = { state: 'resyncing', foldersLeft: 0, startLocal: '1 Jan 2027, 10:00', resyncLocal: null, finishedLocal: null, zone: 'UTC' };
    expect(stateSentence(facts)).toBe('Resyncing — verifying what arrived');
    expect(stateSentence({ ...facts, isCopyingGroupware: true })).toBe('Resyncing — calendars, contacts and tasks');
  });

  it('counts, for CalDAV/CardDAV pairs, collections and items per kind once the copy has begun', () => {
    expect(groupwareOf('zimbra', 'openxchange')).toEqual({ line: expect.stringMatching(/copied after the e-mail.*no attendee is notified/), counts: null, isCopied: true });
    const counts = groupwareOf('kolab', 'zimbra', [
      { kind: 'calendar', items: 40, present: 39 },
      { kind: 'calendar', items: 2, present: 2 },
      { kind: 'contacts', items: 120, present: 120 },
    ]).counts;
    expect(counts).toEqual({
      calendars: { collections: 2, items: 42, copied: 41 },
      contacts: { collections: 1, items: 120, copied: 120 },
      tasks: { collections: 0, items: 0, copied: 0 },
    });
  });
});

describe('groupware line of a list row', () => {
  it('counts per kind the collections through and the items on the target, then the items not copied', () => {
    const row = groupwareRowOf(
      'zimbra',
      'openxchange',
      'incomplete',
      [
        // Through, with 2 refused: counts as copied.
        { kind: 'calendar', items: 520, present: 518, failed: 2 },
        { kind: 'calendar', items: 0, present: 0 },
        { kind: 'contacts', items: 1000, present: 1000 },
        { kind: 'tasks', items: 200, present: 200 },
        { kind: 'tasks', items: 40, present: 40 },
      ],
      2,
    );
    expect(row).toEqual({
      parts: ['Calendars 2/2 · events 518/520', 'Address books 1/1 · contacts 1,000/1,000', 'Task lists 2/2 · tasks 240/240'],
      hasCounts: true,
      notCopied: 2,
      line: 'Calendars 2/2 · events 518/520 · Address books 1/1 · contacts 1,000/1,000 · Task lists 2/2 · tasks 240/240 · 2 not copied',
    });
  });

  it('leaves out the kinds the copy has not met, and a collection still copied is not through', () => {
    const row = groupwareRowOf('kolab', 'kolab', 'running', [{ kind: 'calendar', items: 520, present: 100 }], 0);
    expect(row?.line).toBe('Calendars 0/1 · events 100/520');
  });

  it('says before the copy begins that it waits, and after a pass without collections that there were none', () => {
    expect(groupwareRowOf('zimbra', 'kolab', 'scheduled', [], 0)?.line).toBe('Calendars, contacts and tasks: waiting');
    expect(groupwareRowOf('zimbra', 'kolab', 'running', [], 0)?.line).toBe('Calendars, contacts and tasks: waiting');
    expect(groupwareRowOf('zimbra', 'kolab', 'finished', [], 0)?.line).toBe('Calendars, contacts and tasks: none on the source');
    expect(groupwareRowOf('zimbra', 'kolab', 'cancelled', [], 0)?.line).toBe('Calendars, contacts and tasks: not copied');
    expect(groupwareRowOf('zimbra', 'kolab', 'scheduled', [], 0)?.hasCounts).toBe(false);
  });

  it('is null where calendars, contacts and tasks are not copied', () => {
    expect(groupwareRowOf('imap', 'imap', 'running', [], 0)).toBeNull();
    expect(groupwareRowOf('zimbra', 'imap', 'running', [], 0)).toBeNull();
    expect(groupwareRowOf('office365', 'imap', 'finished', [{ kind: 'calendar', items: 3, present: 3 }], 0)).toBeNull();
  });

  it('counts Exchange and Microsoft 365 pairs like any other groupware pair', () => {
    expect(groupwareRowOf('exchange', 'office365', 'finished', [{ kind: 'calendar', items: 3, present: 3 }], 0)).toMatchObject({ parts: ['Calendars 1/1 · events 3/3'], hasCounts: true });
  });
});
