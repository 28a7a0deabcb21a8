import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FetchLike } from '@/server/accounts/types';
import { copyGroupware, type GroupwareCopySummary } from '@/server/engine/groupware/copy-groupware';
import { DavEndpoint } from '@/server/engine/groupware/dav-endpoint';
import { EwsEndpoint } from '@/server/engine/groupware/ews/ews-target';
import type { NotMappedNote } from '@/server/engine/groupware/model';
import { MemoryGroupwareStateStore } from '@/server/engine/groupware/state';
import { verdictLines, verifyGroupware } from '@/server/engine/groupware/verify-groupware';
import { generateGroupwareCorpus, type CorpusCollection } from '@/scripts/groupware-corpus/corpus';
import { loadCorpus, putItems } from '@/scripts/groupware-corpus/load';
import { DavAccount } from '@/server/accounts/dav/dav-client';
import { startEwsServer, type EwsServer, type EwsUser } from './helpers/ews-server';
import { startRadicale, type RadicaleServer } from './helpers/radicale';

const alice: EwsUser = { email: 'alice@example.test', username: 'CONTOSO\\alice', password: 'Al:ice "pässwörd" 7' };
const davPassword = 'correct horse battery';
const plainFetch = (input: string | URL, init?: RequestInit) => fetch(input, init);

const total = (counts: Record<string, number>) => Object.values(counts).reduce((n, c) => n + c, 0);
const sum = (summary: GroupwareCopySummary, field: 'items' | 'copied' | 'updated' | 'skipped' | 'failed') => summary.collections.reduce((n, c) => n + c[field], 0);

function notMappedOf(summaries: GroupwareCopySummary[]): Map<string, NotMappedNote[]> {
  const out = new Map<string, NotMappedNote[]>();
  for (const summary of summaries) for (const change of summary.changes) if (change.uid) out.set(change.uid, [...(out.get(change.uid) ?? []), ...change.notMapped]);
  return out;
}

describe('Exchange (EWS) as a groupware target', () => {
  let server: EwsServer;
  let radicale: RadicaleServer;
  let agent: Agent;
  let fetchTls: FetchLike;
  let corpus: CorpusCollection[];
  let loaded: Map<string, string>;
  let items = 0;
  const state = new MemoryGroupwareStateStore();
  const summaries: GroupwareCopySummary[] = [];
  const endpoint = (overrides: Partial<ConstructorParameters<typeof EwsEndpoint>[0]> = {}) =>
    new EwsEndpoint({ url: server.ewsUrl, username: alice.username, password: alice.password, email: alice.email, fetch: fetchTls, ...overrides });
  const zimbra = () => DavEndpoint.open({ serverUrl: radicale.url, username: 'zed', password: davPassword, fetch: plainFetch });

  beforeAll(async () => {
    [server, radicale] = await Promise.all([startEwsServer({ users: [alice] }), startRadicale({ users: [{ username: 'zed', password: davPassword }] })]);
    agent = new Agent({ connect: { ca: server.caCertPem } });
    fetchTls = (input, init) => undiciFetch(input, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent }) as unknown as Promise<Response>;
    corpus = generateGroupwareCorpus({ seed: 'graph-target', scale: 0.1 });
    items = corpus.reduce((n, c) => n + c.items.length, 0);
    loaded = await loadCorpus({ serverUrl: radicale.url, username: 'zed', password: davPassword }, corpus, { concurrency: 8 });
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    await Promise.all([server?.stop(), radicale?.stop()]);
  });

  it('copies the corpus from Radicale into Exchange: PERFECT by the verifier with what Exchange has no place for listed, each with its reason', async () => {
    const before = total(server.requestCounts(alice.username));
    const target = endpoint();
    const first = await copyGroupware({ source: await zimbra(), target, state });
    summaries.push(first);
    const requests = total(server.requestCounts(alice.username)) - before;
    for (const issue of first.issues) console.info(`refused: ${issue.kind} "${issue.collection}" ${issue.uid}: ${issue.reason}`);
    expect(first.issues).toEqual([]);
    expect(sum(first, 'items')).toBe(items);
    expect(sum(first, 'copied')).toBe(items);
    expect(target.requestCount).toBe(requests);
    console.info(`Radicale → EWS: ${items} items in ${requests} EWS requests (${(requests / items).toFixed(2)} per item), ${JSON.stringify(server.requestCounts(alice.username))}`);

    const notMapped = notMappedOf(summaries);
    for (const [uid, notes] of notMapped) for (const note of notes) expect(note.reason.trim(), `${uid} ${note.component} ${note.property}`).not.toBe('');
    const kinds = new Map<string, number>();
    for (const notes of notMapped.values()) for (const note of notes) kinds.set(`${note.component} ${note.property ?? '*'}: ${note.reason}`, (kinds.get(`${note.component} ${note.property ?? '*'}: ${note.reason}`) ?? 0) + 1);
    console.info(`not mapped (${notMapped.size} items):\n${[...kinds].map(([k, n]) => `  ${n} × ${k}`).join('\n')}`);

    const verdict = await verifyGroupware(await zimbra(), endpoint(), { notMapped });
    const lines = verdictLines(verdict);
    expect(lines.join('\n')).toMatch(/^PERFECT/);
    expect(verdict.collections.reduce((n, c) => n + c.equal, 0)).toBe(items);
    // A group written before its members got them when they were written: nothing of it is left out.
    const withoutMembers = new Map([...notMapped].map(([uid, notes]) => [uid, notes.filter((n) => n.property !== 'MEMBER')]));
    expect(verdictLines(await verifyGroupware(await zimbra(), endpoint(), { notMapped: withoutMembers })).join('\n')).toMatch(/^PERFECT/);
  }, 120_000);

  it('copies nothing on a rerun, in few requests', async () => {
    const before = total(server.requestCounts(alice.username));
    const target = endpoint();
    const again = await copyGroupware({ source: await zimbra(), target, state });
    const requests = total(server.requestCounts(alice.username)) - before;
    console.info(`EWS rerun: ${requests} requests for ${items} items`);
    expect([sum(again, 'copied'), sum(again, 'updated'), sum(again, 'failed')]).toEqual([0, 0, 0]);
    expect(sum(again, 'skipped')).toBe(items);
    // GetFolder + FindFolder, and a FindItem per folder.
    expect(requests).toBeLessThanOrEqual(2 + 2 * again.collections.length);
    expect(target.requestCount).toBe(requests);
  }, 60_000);

  it('updates a changed source item in place of its copy, never a second one', async () => {
    const calendar = corpus.find((c) => c.kind === 'calendar' && c.items.some((item) => /^ATTENDEE[;:]/m.test(item.data) && /^RRULE:/m.test(item.data)))!;
    const meeting = calendar.items.find((item) => /^ATTENDEE[;:]/m.test(item.data) && /^RRULE:/m.test(item.data))!;
    const changed = meeting.data.replace(/^SUMMARY:.*$/m, 'SUMMARY:Moved to the big room');
    expect(changed).not.toBe(meeting.data);
    const account = await DavAccount.open({ serverUrl: radicale.url, username: 'zed', password: davPassword, fetch: plainFetch });
    await putItems(account, loaded.get(calendar.slug)!, 'calendar', [{ ...meeting, data: changed }]);
    const again = await copyGroupware({ source: await zimbra(), target: endpoint(), state });
    summaries.push(again);
    expect([sum(again, 'copied'), sum(again, 'updated'), sum(again, 'failed')]).toEqual([0, 1, 0]);
    const target = endpoint();
    const folder = (await target.collections()).find((c) => c.displayName === calendar.displayName || (c.isDefault && c.kind === 'calendar' && calendar.slug === 'calendar'))!;
    const texts = await target.read(folder, await target.list(folder));
    const copies = texts.filter((t) => t.data.includes(`UID:${meeting.uid}`));
    expect(copies).toHaveLength(1);
    expect(copies[0]!.data).toMatch(/^SUMMARY:Moved to the big room\r?$/m);
    meeting.data = changed;
    const verdict = await verifyGroupware(await zimbra(), endpoint(), { notMapped: notMappedOf(summaries) });
    expect(verdictLines(verdict).join('\n')).toMatch(/^PERFECT/);
  }, 60_000);

  it('sent no invitation, update or cancellation for anything it wrote, though the corpus has meetings', () => {
    const meetings = corpus.flatMap((c) => c.items).filter((item) => /^ATTENDEE[;:]/m.test(item.data));
    expect(meetings.length).toBeGreaterThan(3);
    expect(server.sentMail(alice.email)).toEqual([]);
  });
});
