import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ICAL from 'ical.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putItems } from '@/scripts/groupware-corpus/load';
import type { CorpusItem } from '@/scripts/groupware-corpus/corpus';
import { DavAccount } from '@/server/accounts/dav/dav-client';
import type { GroupwareSource } from './model';
import { startXandikos, type XandikosServer } from '@/test/helpers/xandikos';
import { DavEndpoint } from './dav-endpoint';
import { ItemFormatError, itemUid, prepareForTarget } from './items';
import { isNotedDifference, verdictLines, verifyGroupware, type GroupwareVerdict } from './verify-groupware';

/**
 * The real-world vCards (Google, Apple, Evolution, Thunderbird, ez-vcard's and RFC examples) on
 * a Radicale account; on Xandikos, in address books of their own, the copy's vCard 4 conversion
 * of each and its vCard 3 conversion, as a copy to a server that takes one version only leaves
 * them. The verifier must find every pair equal, and still see a lost e-mail, a changed phone
 * number, cut photo bytes, a dropped group member and a changed name.
 *
 * Xandikos keeps a vCard 4 byte for byte. Radicale does not: it reads vCard 4 by vCard 3's
 * rules, so `PHOTO:data:image/png;base64,...` comes back as `data:image/png\;base64` and
 * `GEO:geo:37.38,-122.08` as `geo:37.38` (which the verifier reports, rightly).
 */

const password = 'correct horse battery';
const CONTACTS = '/work/shared/corpora/dav-real-world/contacts';
const plainFetch = (input: string | URL, init?: RequestInit) => fetch(input, init);

/** An Apple group of two members, as iOS and macOS write it (vCard 3). */
const appleGroup: CorpusItem = {
  uid: 'team-group-1',
  data: [
    'BEGIN:VCARD',
    'VERSION:3.0',
    'PRODID:-//Apple Inc.//Mac OS X 10.15//EN',
    'UID:team-group-1',
    'N:Team;;;;',
    'FN:Team',
    'X-ADDRESSBOOKSERVER-KIND:group',
    'X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:477343c8e6bf375a9bac1f96a5000837',
    'X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:gwacc-97885d8f412b7fc4',
    'END:VCARD',
    '',
  ].join('\r\n'),
};

const originals: CorpusItem[] = [
  ...readdirSync(CONTACTS)
    .sort()
    .map((name) => {
      const data = readFileSync(path.join(CONTACTS, name), 'utf8');
      let uid: string | null = null;
      try {
        uid = itemUid(data);
      } catch (error) {
        expect(error).toBeInstanceOf(ItemFormatError);
      }
      return { uid: uid ?? name.replace(/\.vcf$/, ''), data };
    }),
  appleGroup,
];

/** What the copy writes to an address book that takes only `version`; what ical.js cannot read travels as it is. */
function converted(item: CorpusItem, version: '3.0' | '4.0'): CorpusItem {
  try {
    return { uid: item.uid, data: prepareForTarget(item.data, 'contacts', { isScheduling: false, vcardVersions: [version] }) };
  } catch (error) {
    if (!(error instanceof ItemFormatError)) throw error;
    return item;
  }
}

/** The same vCard with one property changed through ical.js, as a server that lost something would hand it back. */
function mutated(data: string, change: (card: ICAL.Component) => void): string {
  const card = new ICAL.Component(ICAL.parse(data) as unknown as [string, [], []]);
  change(card);
  return card.toString();
}

let xandikos: XandikosServer;
/** Xandikos' address book URL by slug. */
const books = new Map<string, string>();

/**
 * One Xandikos address book as the only collection of an account (Xandikos serves one
 * principal), named as the source's, so that the verifier pairs the two.
 */
async function xandikosBook(slug: string): Promise<GroupwareSource> {
  const endpoint = await DavEndpoint.open({ serverUrl: xandikos.url, username: 'user', password, fetch: plainFetch });
  return {
    collections: async () => (await endpoint.collections()).filter((c) => c.id === books.get(slug)).map((c) => ({ ...c, displayName: 'Contacts', isDefault: false })),
    list: (collection) => endpoint.list(collection),
    read: (collection, refs) => endpoint.read(collection, refs),
  };
}

async function verify(slug: string) {
  return verifyGroupware(await xandikosBook('cards'), await xandikosBook(slug));
}

const versionOf = (data: string) => /^VERSION:\s*(\S+)/m.exec(data)?.[1];

function differentUids(verdict: GroupwareVerdict) {
  return Object.fromEntries(verdict.collections.flatMap((c) => c.different.map((d) => [d.uid, d.differences])));
}

beforeAll(async () => {
  xandikos = await startXandikos();
  const fours = originals.map((item) => converted(item, '4.0'));
  const threes = originals.map((item) => converted(item, '3.0'));
  const byUid = (items: CorpusItem[], uid: string) => items.find((i) => i.uid === uid)!.data;

  // One real loss of each kind in the vCard 4 copies of vCard 3 cards.
  const fourChanged = fours.map((item) => {
    switch (item.uid) {
      case 'gwacc-97885d8f412b7fc4': // Lotus: two e-mails, one lost
        return { ...item, data: mutated(item.data, (card) => card.removeProperty(card.getAllProperties('email')[1]!)) };
      case 'gwacc-c9d1f2a102ca86d0': // Google: one digit of a phone number
        return { ...item, data: mutated(item.data, (card) => card.getAllProperties('tel')[3]!.setValue('5555551194')) };
      case 'gwacc-07644191557cee7a': // iPhone: a JPEG cut short by three bytes
        return { ...item, data: mutated(item.data, (card) => card.getFirstProperty('photo')!.setValue(String(card.getFirstPropertyValue('photo')).slice(0, -4))) };
      case 'team-group-1': // one member dropped from the group
        return { ...item, data: mutated(item.data, (card) => card.removeProperty(card.getAllProperties('member')[1]!)) };
      case 'gwacc-e57b1304a2186dc1': // the family name changed
        return { ...item, data: mutated(item.data, (card) => card.getFirstProperty('n')!.setValue(['Stevens', 'Derik', '', '', ''])) };
      default:
        return item;
    }
  });
  // And in the vCard 3 copies of vCard 4 cards: a group member, an e-mail type, a phone.
  const threeChanged = threes.map((item) => {
    switch (item.uid) {
      case 'gwacc-62959f2efc23b961':
        return { ...item, data: mutated(item.data, (card) => card.removeProperty('x-addressbookserver-member')) };
      case 'gwacc-160a93610c7b3d58':
        return { ...item, data: mutated(item.data, (card) => card.getAllProperties('email')[3]!.setParameter('type', 'work')) };
      case 'gwacc-84c7272d3663c1fb':
        return { ...item, data: mutated(item.data, (card) => card.getAllProperties('tel')[0]!.setValue('+1-418-656-9255;ext=102')) };
      default:
        return item;
    }
  });
  expect(byUid(fourChanged, 'team-group-1')).not.toBe(byUid(fours, 'team-group-1'));

  const account = await DavAccount.open({ serverUrl: xandikos.url, username: 'user', password, fetch: plainFetch });
  for (const [slug, items] of Object.entries({ cards: originals, four: fours, three: threes, fourchanged: fourChanged, threechanged: threeChanged })) {
    const url = await account.createCollection('contacts', slug, { displayName: slug, color: null, description: null, components: [] });
    books.set(slug, url);
    await putItems(account, url, 'contacts', items);
  }
}, 60_000);

afterAll(async () => {
  await xandikos?.stop();
});

describe('verifyGroupware on vCard 3 and vCard 4 copies of the real-world contacts (Xandikos)', () => {
  it('the conversions really changed the version: every readable vCard 3 is 4.0 on one copy, every vCard 4 is 3.0 on the other', () => {
    const readable = originals.filter((item) => converted(item, '4.0') !== item && converted(item, '3.0') !== item);
    expect(readable.length).toBeGreaterThanOrEqual(27);
    expect(readable.filter((item) => versionOf(item.data) === '3.0').length).toBeGreaterThanOrEqual(20);
    expect(readable.filter((item) => versionOf(item.data) === '4.0').length).toBeGreaterThanOrEqual(5);
    for (const item of readable) {
      expect(versionOf(converted(item, '4.0').data), item.uid).toBe('4.0');
      expect(versionOf(converted(item, '3.0').data), item.uid).toBe('3.0');
    }
  });

  it('finds every vCard 3 and its vCard 4 copy equal, and every vCard 4 and its vCard 3 copy', async () => {
    for (const target of ['four', 'three']) {
      const verdict = await verify(target);
      expect(verdictLines(verdict).join('\n'), target).toMatch(/^PERFECT/);
      expect(verdict.collections).toHaveLength(1);
      expect(verdict.collections[0]).toMatchObject({ sourceItems: originals.length, targetItems: originals.length, equal: originals.length });
    }
  });

  it('reports a lost e-mail, a changed phone digit, cut photo bytes, a dropped group member and a changed name in the vCard 4 copies, each by its UID and property', async () => {
    const verdict = await verify('fourchanged');
    expect(verdict.isPerfect).toBe(false);
    const different = differentUids(verdict);
    expect(Object.keys(different).sort()).toEqual(['gwacc-07644191557cee7a', 'gwacc-97885d8f412b7fc4', 'gwacc-c9d1f2a102ca86d0', 'gwacc-e57b1304a2186dc1', 'team-group-1']);
    expect(different['gwacc-97885d8f412b7fc4']).toEqual(['missing on the target: /VCARD|email;type=["internet"]']);
    expect(different['gwacc-c9d1f2a102ca86d0']).toEqual(['missing on the target: /VCARD|tel', 'only on the target: /VCARD|tel']);
    expect(different['gwacc-07644191557cee7a']).toEqual(['missing on the target: /VCARD|photo', 'only on the target: /VCARD|photo']);
    expect(different['team-group-1']).toEqual(['missing on the target: /VCARD|member']);
    expect(different['gwacc-e57b1304a2186dc1']).toEqual(['missing on the target: /VCARD|n', 'only on the target: /VCARD|n']);
    expect(verdict.collections[0]!.equal).toBe(originals.length - 5);
  });

  it('reports a dropped member, a changed e-mail type and a changed phone in the vCard 3 copies of vCard 4 cards', async () => {
    const different = differentUids(await verify('threechanged'));
    expect(Object.keys(different).sort()).toEqual(['gwacc-160a93610c7b3d58', 'gwacc-62959f2efc23b961', 'gwacc-84c7272d3663c1fb']);
    expect(different['gwacc-62959f2efc23b961']).toEqual(['missing on the target: /VCARD|member']);
    expect(different['gwacc-160a93610c7b3d58']).toEqual(['missing on the target: /VCARD|email;type=["other"]', 'only on the target: /VCARD|email;type=["work"]']);
    expect(different['gwacc-84c7272d3663c1fb']).toEqual(['missing on the target: /VCARD|tel;pref="1";type=["voice","work"]', 'only on the target: /VCARD|tel;pref="1";type=["voice","work"]']);
  });
});

describe('isNotedDifference', () => {
  it('matches a reported property, or a whole component, and nothing else', () => {
    const attendee = 'missing on the target: /VCALENDAR/VEVENT|attendee;cn;partstat';
    expect(isNotedDifference(attendee, { component: 'VEVENT', property: 'ATTENDEE', reason: 'x' })).toBe(true);
    expect(isNotedDifference(attendee, { component: 'VEVENT', property: 'ORGANIZER', reason: 'x' })).toBe(false);
    expect(isNotedDifference(attendee, { component: 'VTODO', property: 'ATTENDEE', reason: 'x' })).toBe(false);
    const alarm = 'only on the target: /VCALENDAR/VEVENT[2026-01-05T10:00:00]/VALARM|trigger';
    expect(isNotedDifference(alarm, { component: 'VALARM', property: null, reason: 'x' })).toBe(true);
    expect(isNotedDifference(alarm, { component: 'VEVENT', property: 'TRIGGER', reason: 'x' })).toBe(false);
    expect(isNotedDifference('only on the target: /VCARD|tel;type="fax"', { component: 'VCARD', property: 'TEL', reason: 'x' })).toBe(true);
  });
});
