import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError, type FetchLike } from '@/server/accounts/types';
import { copyGroupware } from '@/server/engine/groupware/copy-groupware';
import { DavEndpoint } from '@/server/engine/groupware/dav-endpoint';
import { EwsSource } from '@/server/engine/groupware/ews/ews-endpoint';
import { lineKey, toEws, type NotMapped } from '@/server/engine/groupware/ews/ews-items';
import { itemDifferences, itemUid, normalisedLines } from '@/server/engine/groupware/items';
import type { GroupwareKind, GroupwareSource } from '@/server/engine/groupware/model';
import { MemoryGroupwareStateStore } from '@/server/engine/groupware/state';
import { verdictLines, verifyGroupware } from '@/server/engine/groupware/verify-groupware';
import { generateGroupwareCorpus, type CorpusCollection } from '@/scripts/groupware-corpus/corpus';
import { startEwsServer, type DistinguishedFolder, type EwsServer, type EwsUser } from './helpers/ews-server';
import { startRadicale, type RadicaleServer } from './helpers/radicale';
import { startXandikos, type XandikosServer } from './helpers/xandikos';

const alice: EwsUser = { email: 'alice@example.test', username: 'CONTOSO\\alice', password: 'Al:ice "pässwörd" 7' };
const ntlmOnly: EwsUser = { email: 'nora@example.test', username: 'CONTOSO\\nora', password: 'nora-Secret-4411' };
const davPassword = 'correct horse battery';
const plainFetch = (input: string | URL, init?: RequestInit) => fetch(input, init);

const FOLDER_ELEMENT = { calendar: 'CalendarFolder', contacts: 'ContactsFolder', tasks: 'TasksFolder' } as const;
const DISTINGUISHED: Record<GroupwareKind, DistinguishedFolder> = { calendar: 'calendar', contacts: 'contacts', tasks: 'tasks' };

interface Expected {
  data: string;
  notMapped: NotMapped[];
}

/** The element's children, as the test server's seedOccurrence takes an exception's properties. */
function innerXml(xml: string): string {
  return xml.replace(/^<t:\w+[^>]*>/, '').replace(/<\/t:\w+>$/, '');
}

/**
 * Puts the corpus into alice's mailbox as the mapping writes it (toEws), the way an Exchange
 * holds it after CreateItem: masters with their modified and deleted occurrences, contact
 * photos as attachments, groups as distribution lists of the contacts. The first collection of
 * each kind goes into the distinguished folder; one calendar is a subfolder of the calendar.
 */
function seedCorpus(server: EwsServer, corpus: CorpusCollection[]): { expected: Map<string, Expected>; folders: number; skippedOccurrences: number } {
  const expected = new Map<string, Expected>();
  const contactIds = new Map<string, string>();
  const used = new Set<GroupwareKind>();
  let skippedOccurrences = 0;
  let subfolderMade = false;
  const strip = (xml: string) => xml.replace(/^(<t:\w+) xmlns:t="[^"]*"/, '$1');
  const placed: { collection: CorpusCollection; folder: string }[] = [];
  for (const collection of corpus) {
    let folder: string;
    if (!used.has(collection.kind)) {
      used.add(collection.kind);
      folder = DISTINGUISHED[collection.kind];
    } else {
      const parent = collection.kind === 'calendar' && !subfolderMade ? 'calendar' : 'msgfolderroot';
      if (parent === 'calendar') subfolderMade = true;
      folder = server.seedFolder(alice.email, { parent, displayName: collection.displayName, element: FOLDER_ELEMENT[collection.kind] });
    }
    placed.push({ collection, folder });
  }
  const isGroup = (data: string) => /^(KIND:group|X-ADDRESSBOOKSERVER-KIND:group)\r?$/im.test(data);
  // Contacts before groups: a group's members are the contacts' ItemIds.
  for (const pass of ['items', 'groups'] as const) {
    for (const { collection, folder } of placed) {
      for (const item of collection.items) {
        if ((pass === 'groups') !== (collection.kind === 'contacts' && isGroup(item.data))) continue;
        const written = toEws(item.data, collection.kind, { contactIdOf: (uid) => contactIds.get(uid) ?? null });
        const id = server.seedItem(alice.email, folder, strip(written.xml));
        if (collection.kind === 'contacts') contactIds.set(item.uid, id);
        for (const occurrence of written.occurrences) {
          if (occurrence.instanceIndex === null) {
            skippedOccurrences++;
            continue;
          }
          // Exchange refuses a UID on an occurrence; it is the master's.
          server.seedOccurrence(alice.email, id, occurrence.instanceIndex, { propertiesXml: innerXml(occurrence.xml).replace(/<t:UID>[^<]*<\/t:UID>/, '') });
        }
        for (const deleted of written.deletedOccurrences) if (deleted.instanceIndex !== null) server.seedOccurrence(alice.email, id, deleted.instanceIndex, { deleted: true });
        if (written.item.kind === 'Contact' && written.item.photo) server.seedPhoto(alice.email, id, { contentType: written.item.photo.contentType, content: Buffer.from(written.item.photo.content, 'base64') });
        expected.set(item.uid, { data: item.data, notMapped: written.notMapped });
      }
    }
  }
  return { expected, folders: placed.length, skippedOccurrences };
}

/**
 * Lines of the normal form that differ, leaving out those of properties a conversion listed as
 * not mapped. An overridden instance that lacks a property of its series shows the series'
 * value on Exchange (an exception is the master with changes; the test server, too, keeps no
 * "removed" for an occurrence's field): such lines are counted in `inherited`, not returned.
 */
function unlistedDifferences(original: string, back: string, notMapped: NotMapped[], inherited: { count: number } = { count: 0 }): string[] {
  const listed = (line: string) => {
    const key = lineKey(line);
    return notMapped.some((n) => n.component === key.component && (n.property === null || n.property === key.property));
  };
  const a = normalisedLines(original).filter((l) => !listed(l));
  const rest = normalisedLines(back).filter((l) => !listed(l));
  const missing = a.filter((line) => {
    const at = rest.indexOf(line);
    if (at < 0) return true;
    rest.splice(at, 1);
    return false;
  });
  const series = new Set(normalisedLines(original));
  const added = rest.filter((line) => {
    const inSeries = /^\/VCALENDAR\/VEVENT\[[^\]]*\]\|/.test(line) && series.has(line.replace(/^(\/VCALENDAR\/VEVENT)\[[^\]]*\]/, '$1'));
    if (inSeries) inherited.count++;
    return !inSeries;
  });
  return [...missing.map((l) => `missing: ${l}`), ...added.map((l) => `added: ${l}`)];
}

/** Every item's text by UID, all collections of the endpoint. */
async function textsByUid(endpoint: GroupwareSource): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const collection of await endpoint.collections()) {
    const refs = await endpoint.list(collection);
    for (const object of await endpoint.read(collection, refs)) out.set(itemUid(object.data)!, object.data);
  }
  return out;
}

/**
 * What Radicale 3.1 (vobject) does to a vCard 4 it stores, undone, so the rest can be compared:
 * a PHOTO data: URI is cut at its comma (the image is lost on the target). Counted, so that a
 * test knows how many items it concerns. (A NOTE's semicolons also come back escaped, `\;`,
 * which reads as the same text.)
 */
function knownTargetDefects(sourceText: string, targetText: string): { text: string; photo: number } {
  let photo = 0;
  const unfold = (text: string) => text.replace(/\r?\n[ \t]/g, '');
  const sourcePhoto = /^PHOTO[;:].*$/m.exec(unfold(sourceText))?.[0];
  const text = unfold(targetText).replace(/^PHOTO[;:].*$/m, (line) => {
    if (!sourcePhoto || line === sourcePhoto) return line;
    const cut = sourcePhoto.slice(0, sourcePhoto.indexOf(',')).replace(/;base64$/, '\\;base64');
    if (line !== cut) return line;
    photo++;
    return sourcePhoto;
  });
  return photo ? { text, photo } : { text: targetText, photo };
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((n, c) => n + c, 0);

describe('Exchange (EWS) as a groupware source', () => {
  let server: EwsServer;
  let radicale: RadicaleServer;
  let xandikos: XandikosServer;
  let agent: Agent;
  let fetchTls: FetchLike;
  let seeded: ReturnType<typeof seedCorpus>;
  let items = 0;
  const state = new MemoryGroupwareStateStore();
  const source = (overrides: Partial<ConstructorParameters<typeof EwsSource>[0]> = {}) =>
    new EwsSource({ url: server.ewsUrl, username: alice.username, password: alice.password, email: alice.email, fetch: fetchTls, ...overrides });
  const target = () => DavEndpoint.open({ serverUrl: radicale.url, username: 'bob', password: davPassword, fetch: plainFetch });

  beforeAll(async () => {
    [server, radicale, xandikos] = await Promise.all([startEwsServer({ users: [alice, ntlmOnly] }), startRadicale({ users: [{ username: 'bob', password: davPassword }] }), startXandikos()]);
    agent = new Agent({ connect: { ca: server.caCertPem } });
    fetchTls = (input, init) => undiciFetch(input, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent }) as unknown as Promise<Response>;
    const corpus = generateGroupwareCorpus({ seed: 'ews-source', scale: 0.1 });
    items = corpus.reduce((n, c) => n + c.items.length, 0);
    seeded = seedCorpus(server, corpus);
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    await Promise.all([server?.stop(), radicale?.stop(), xandikos?.stop()]);
  });

  it('finds every calendar, contacts and tasks folder, subfolders too, the distinguished ones as defaults', async () => {
    const collections = await source().collections();
    expect(collections).toHaveLength(seeded.folders);
    expect(collections.filter((c) => c.isDefault).map((c) => [c.kind, c.displayName, c.slug])).toEqual([
      ['calendar', 'Calendar', 'calendar'],
      ['contacts', 'Contacts', 'contacts'],
      ['tasks', 'Tasks', 'tasks'],
    ]);
    // The inbox is no groupware folder.
    expect(collections.map((c) => c.displayName)).not.toContain('Inbox');
  });

  it('copies the corpus into Radicale: every item once, equal but for what Radicale changes (named, counted) and what the mapping lists; a rerun copies nothing', async () => {
    const beforeCounts = server.requestCounts(alice.username);
    const before = total(beforeCounts);
    const ews = source();
    const first = await copyGroupware({ source: ews, target: await target(), state });
    const afterCounts = server.requestCounts(alice.username);
    const copyRequests = total(afterCounts) - before;
    const byOperation = Object.fromEntries(Object.entries(afterCounts).map(([operation, n]) => [operation, n - (beforeCounts[operation] ?? 0)]));
    expect(first.issues).toEqual([]);
    expect(first.collections.reduce((n, c) => n + c.items, 0)).toBe(items);
    expect(first.collections.reduce((n, c) => n + c.copied, 0)).toBe(items);
    expect(ews.unreadable.size).toBe(0);

    // The verifier's verdict, and the texts it compared, read again to name each difference's cause.
    const verdict = await verifyGroupware(source(), await target());
    const sourceTexts = await textsByUid(source());
    const targetTexts = await textsByUid(await target());
    const repaired = { photo: 0 };
    const repairedUids = new Set<string>();
    for (const [uid, text] of targetTexts) {
      const fixed = knownTargetDefects(sourceTexts.get(uid) ?? '', text);
      if (fixed.text === text) continue;
      repaired.photo += fixed.photo;
      repairedUids.add(uid);
      targetTexts.set(uid, fixed.text);
      expect(itemDifferences(sourceTexts.get(uid)!, fixed.text), uid).toEqual([]);
    }
    // Differences only where Radicale changed a contact as named above; nothing missing or twice.
    for (const collection of verdict.collections) {
      expect([collection.target === null, collection.missing, collection.duplicates], collection.source).toEqual([false, [], []]);
      for (const different of collection.different) expect(repairedUids.has(different.uid), verdictLines(verdict).join('\n')).toBe(true);
    }
    expect(repaired.photo).toBe([...sourceTexts.values()].filter((text) => /^PHOTO[;:]/m.test(text)).length);
    expect(repaired.photo).toBeGreaterThan(0);

    // Against the corpus itself: every difference is one the mapping names, on writing (toEws) or reading (fromEws).
    const readNotes = new Map([...ews.notMapped.values()].map((entry) => [entry.uid, entry.notMapped]));
    const unlisted: string[] = [];
    const inherited = { count: 0 };
    for (const [uid, text] of targetTexts) {
      const original = seeded.expected.get(uid);
      if (!original) {
        unlisted.push(`${uid}: not in the corpus`);
        continue;
      }
      const rest = unlistedDifferences(original.data, text, [...original.notMapped, ...(readNotes.get(uid) ?? [])], inherited);
      if (rest.length) unlisted.push(`${uid}: ${rest.slice(0, 3).join(' | ')}`);
    }
    const compared = targetTexts.size;
    expect(unlisted).toEqual([]);
    expect(compared).toBe(items);
    expect(seeded.skippedOccurrences).toBe(0);

    console.info(`EWS source: ${repaired.photo} photos cut by Radicale; ${inherited.count} properties of overridden instances shown from their series`);

    // Requests per item: the figure that matters against Exchange's throttling.
    const perItem = copyRequests / items;
    console.info(`EWS source: ${items} items in ${copyRequests} requests (${perItem.toFixed(3)} per item), ${JSON.stringify(byOperation)}`);
    expect(ews.requestCount).toBe(copyRequests);
    // At most: GetFolder + FindFolder, then per folder its FindItem pages and per batch of 50 one
    // GetItem, one for exceptions, one GetAttachment for photos and one for members read elsewhere.
    const bound = 2 + first.collections.reduce((n, c) => n + Math.max(1, Math.ceil(c.items / 100)) + 4 * Math.ceil(c.items / 50), 0);
    expect(copyRequests).toBeLessThanOrEqual(bound);
    expect(perItem).toBeLessThan(0.15);

    const again = await copyGroupware({ source: source(), target: await target(), state });
    expect(again.collections.map((c) => [c.copied, c.updated])).toEqual(again.collections.map(() => [0, 0]));
    expect(again.collections.reduce((n, c) => n + c.skipped, 0)).toBe(items);
  }, 120_000);

  it('copies the corpus into Xandikos, which keeps the text as sent: PERFECT as it is, attendees kept from being told', async () => {
    const xandikosTarget = () => DavEndpoint.open({ serverUrl: xandikos.url, username: 'gina', password: davPassword, fetch: plainFetch });
    const copied = await copyGroupware({ source: source(), target: await xandikosTarget(), state: new MemoryGroupwareStateStore() });
    expect(copied.issues).toEqual([]);
    expect(copied.collections.reduce((n, c) => n + c.copied, 0)).toBe(items);
    const verdict = await verifyGroupware(source(), await xandikosTarget());
    expect(verdictLines(verdict).join('\n')).toMatch(/^PERFECT/);
    // Xandikos schedules implicitly: every organizer and attendee went with SCHEDULE-AGENT=CLIENT.
    const participants = [...(await textsByUid(await xandikosTarget())).values()].flatMap((text) => text.replace(/\r\n[ \t]/g, '').split(/\r?\n/)).filter((line) => /^(ATTENDEE|ORGANIZER)[;:]/.test(line));
    expect(participants.length).toBeGreaterThan(5);
    for (const line of participants) expect(line).toMatch(/;SCHEDULE-AGENT=(CLIENT|"CLIENT")[;:]/);
  }, 60_000);

  it('pages a folder of 230 items 100 at a time, and reads a distribution list alone with its members by UID', async () => {
    const folder = server.seedFolder(alice.email, { parent: 'tasks', displayName: 'Paged', element: 'TasksFolder' });
    for (let i = 0; i < 230; i++) server.seedItem(alice.email, folder, `<t:Task><t:Subject>Task ${i}</t:Subject><t:Status>NotStarted</t:Status></t:Task>`);
    const ews = source();
    const paged = (await ews.collections()).find((c) => c.id === folder)!;
    expect(paged).toMatchObject({ kind: 'tasks', displayName: 'Paged', isDefault: false, components: ['VTODO'] });
    const before = server.requestCounts(alice.username).FindItem ?? 0;
    const refs = await ews.list(paged);
    expect(server.requestCounts(alice.username).FindItem! - before).toBe(3);
    expect(new Set(refs.map((r) => r.id)).size).toBe(230);
    expect(refs.every((r) => r.version)).toBe(true);
    const texts = await ews.read(paged, refs.slice(0, 120));
    expect(texts.map((t) => /SUMMARY:(.*)\r/.exec(t.data)?.[1])).toEqual(Array.from({ length: 120 }, (_, i) => `Task ${i}`));

    // A group read before any of its contacts: their UIDs are asked for by ItemId.
    const fresh = source();
    const contacts = (await fresh.collections()).find((c) => c.kind === 'contacts' && c.isDefault)!;
    const all = await fresh.list(contacts);
    const lists = (await fresh.read(contacts, all)).filter((t) => /^KIND:group\r?$/m.test(t.data));
    expect(lists.length).toBeGreaterThan(0);
    const alone = source();
    const [group] = await alone.read(contacts, [all.find((r) => r.id === lists[0]!.id)!]);
    expect(group!.data).toBe(lists[0]!.data);
    expect(group!.data).toMatch(/^MEMBER:urn:uuid:card-/m);
  });

  it('waits for ErrorServerBusy as long as it says, and fails with rate_limited when that is too long', async () => {
    server.simulate({ busyRequests: 2, backOffMilliseconds: 400 });
    const waits: number[] = [];
    const started = Date.now();
    const collections = await source({ onBackOff: (ms) => waits.push(ms) }).collections();
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    expect(waits).toEqual([400, 400]);
    expect(collections.length).toBeGreaterThanOrEqual(seeded.folders);

    server.simulate({ busyRequests: 1, backOffMilliseconds: 200_000 });
    const quick = Date.now();
    const error = await source().collections().then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    server.simulate({ busyRequests: 0 });
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).reason).toBe('rate_limited');
    expect(Date.now() - quick).toBeLessThan(5_000);
    expect((error as ConnectorError).message).not.toContain(alice.password);

    // A copy stopped while it waits stops at once.
    server.simulate({ busyRequests: 1, backOffMilliseconds: 60_000 });
    const controller = new AbortController();
    const stopped = source({ signal: controller.signal, onBackOff: () => setTimeout(() => controller.abort(), 50) }).collections().then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    const aborted = await stopped;
    server.simulate({ busyRequests: 0 });
    expect((aborted as ConnectorError).reason).toBe('timed_out');
  });

  it('names a wrong password auth_failed without the password; reads a server that allows only NTLM with NTLM', async () => {
    const wrong = await source({ password: 'wrong-Passw0rd' }).collections().then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(wrong).toBeInstanceOf(ConnectorError);
    expect((wrong as ConnectorError).reason).toBe('auth_failed');
    server.simulate({ authentication: 'ntlm' });
    // NTLM authenticates a connection: one connection, as the pinned fetch's single() gives.
    const single = new Agent({ connect: { ca: server.caCertPem }, connections: 1 });
    const singleFetch: FetchLike = (input, init) => undiciFetch(input, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: single }) as unknown as Promise<Response>;
    try {
      const collections = await source({ username: ntlmOnly.username, password: ntlmOnly.password, email: ntlmOnly.email, fetch: singleFetch }).collections();
      expect(collections.filter((c) => c.isDefault).map((c) => c.kind).sort()).toEqual(['calendar', 'contacts', 'tasks']);
      const refused = await source({ username: ntlmOnly.username, password: 'wrong-Passw0rd', email: ntlmOnly.email, fetch: singleFetch }).collections().then(
        () => undefined,
        (rejection: unknown) => rejection,
      );
      expect((refused as ConnectorError).reason).toBe('auth_failed');
      expect((refused as ConnectorError).message).not.toContain('wrong-Passw0rd');
    } finally {
      server.simulate({ authentication: 'basic+ntlm' });
      await single.close();
    }
  });
});
