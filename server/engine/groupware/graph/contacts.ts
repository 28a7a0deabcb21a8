import ICAL from 'ical.js';
import { convertVcard, ItemFormatError } from '../items';
import type { GraphContact, GraphPhoto, GraphPhysicalAddress } from './graph-types';
import { MappingNotes } from './notes';
import { completeNotes } from './round-trip';
import type { JCalProperty } from './times';

/**
 * Contacts between vCard (3.0 or 4.0, read through ical.js and items.ts's conversion to the
 * vCard 4 model) and Microsoft Graph's contact, whose slots are fixed: 3 e-mail addresses,
 * 2 business and 2 home phones, 1 mobile, one home / business / other address, 3 IM addresses,
 * one web page. What does not fit is listed, never dropped. The photo travels apart
 * (GET/PUT /contacts/{id}/photo/$value). Mapping table: mapping-table.ts.
 */

export const GRAPH_SLOTS = { emailAddresses: 3, businessPhones: 2, homePhones: 2, imAddresses: 3 } as const;

export interface ContactMapping {
  uid: string | null;
  /** Null for what cannot be a Graph contact (a group, KIND:group). */
  contact: GraphContact | null;
  photo: GraphPhoto | null;
  notMapped: string[];
  rewritten: string[];
}

/** vCard properties this mapping reads; any other is reported. */
export const CONTACT_PROPERTIES = new Set(['version', 'prodid', 'uid', 'fn', 'n', 'nickname', 'org', 'title', 'role', 'email', 'tel', 'adr', 'bday', 'note', 'categories', 'impp', 'url', 'related', 'photo', 'kind', 'rev', 'x-ms-manager', 'x-ms-assistant']);

type Params = Record<string, unknown>;

function parseCard(data: string): ICAL.Component {
  try {
    const jcal = ICAL.parse(data) as unknown;
    const first = Array.isArray(jcal) && Array.isArray(jcal[0]) && typeof jcal[0][0] !== 'string' ? (jcal[0] as unknown) : jcal;
    return new ICAL.Component(first as never);
  } catch (error) {
    throw new ItemFormatError(`not valid vCard: ${(error as Error).message.split('\n')[0]}`);
  }
}

function types(params: Params): string[] {
  const list: unknown[] = Array.isArray(params.type) ? params.type : params.type === undefined ? [] : [params.type];
  return list.flatMap((t) => String(t).split(',')).map((t) => t.trim().toLowerCase()).filter((t) => t !== '' && t !== 'pref');
}

function part(value: unknown): string {
  return Array.isArray(value) ? value.map(String).join(',') : String(value ?? '');
}

/** Notes every parameter of a property but those named, and TYPE where it is not what is written back. */
function noteParams(property: JCalProperty, notes: MappingNotes, keep: string[], backTypes: string[] | null, why: string): void {
  const where = `VCARD ${property[0].toUpperCase()}`;
  for (const key of Object.keys(property[1])) {
    if (keep.includes(key) || key === 'type') continue;
    notes.lost(where, key.toUpperCase(), why);
  }
  if (backTypes) {
    const had = [...new Set(types(property[1]))].sort().join(',');
    const back = [...backTypes].sort().join(',');
    if (had !== back) notes.lost(where, 'TYPE', `${had || 'none'}: Microsoft 365 keeps the kind (TYPE) as ${back || 'none'}`);
  }
}

function address(parts: unknown[], notes: MappingNotes): GraphPhysicalAddress {
  const [pobox, extended, street, city, state, postalCode, country] = parts.map(part);
  if (pobox) notes.lost('VCARD ADR', 'post office box', 'Microsoft 365 addresses have no such part');
  if (extended) notes.lost('VCARD ADR', 'extended address', 'Microsoft 365 addresses have no such part');
  if (parts.some((p) => Array.isArray(p) && p.length > 1)) notes.rewrote('VCARD ADR', 'several values', 'joined with commas into one part');
  const out: GraphPhysicalAddress = {};
  if (street) out.street = street;
  if (city) out.city = city;
  if (state) out.state = state;
  if (postalCode) out.postalCode = postalCode;
  if (country) out.countryOrRegion = country;
  return out;
}

function dataUriPhoto(value: string): GraphPhoto | null {
  const match = /^data:([^;,]*)(;[^,]*)?,(.*)$/is.exec(value.trim());
  if (!match || !/;base64/i.test(match[2] ?? '')) return null;
  return { contentType: (match[1] || 'image/jpeg').toLowerCase(), bytes: Buffer.from(match[3]!, 'base64') };
}

/** A vCard as a Graph contact and its photo, with what Graph has no place for. */
export function vcardToGraphContact(data: string): ContactMapping {
  const original = parseCard(data);
  const card = convertVcard(original, '4.0');
  const notes = new MappingNotes();
  const props = (card.toJSON() as [string, JCalProperty[]])[1];
  const uid = String(card.getFirstPropertyValue('uid') ?? '').trim() || null;
  const kind = String(card.getFirstPropertyValue('kind') ?? 'individual').toLowerCase();
  if (kind === 'group') {
    notes.lost('VCARD', '*', 'a group (KIND:group): Microsoft 365 contact folders hold people, not groups');
    return { uid, contact: null, photo: null, notMapped: notes.notMapped, rewritten: notes.rewritten };
  }
  if (kind !== 'individual') notes.lost('VCARD', 'KIND', `${kind}: a Microsoft 365 contact is a person`);
  else if (card.getFirstProperty('kind')) notes.rewrote('VCARD', 'KIND', 'individual is the default; not written back');

  const contact: GraphContact = { emailAddresses: [], businessPhones: [], homePhones: [], imAddresses: [], categories: [], children: [] };
  let photo: GraphPhoto | null = null;
  const first = (name: string, why: string) => {
    const all = props.filter((p) => p[0] === name);
    if (all.length > 1) notes.lost(`VCARD ${name.toUpperCase()}`, '(more than one)', why);
    return all[0];
  };

  const fn = first('fn', 'Microsoft 365 keeps one display name');
  if (fn) {
    contact.displayName = String(fn[3] ?? '');
    noteParams(fn, notes, [], null, 'Microsoft 365 keeps the name only');
  }
  const n = first('n', 'Microsoft 365 keeps one name');
  if (n) {
    const parts = Array.isArray(n[3]) ? (n[3] as unknown[]) : [n[3]];
    const [surname, givenName, middleName, title, generation] = parts.map(part);
    if (parts.some((p) => Array.isArray(p) && p.length > 1)) notes.rewrote('VCARD N', 'several values', 'joined with commas into one part');
    Object.assign(contact, { ...(surname ? { surname } : {}), ...(givenName ? { givenName } : {}), ...(middleName ? { middleName } : {}), ...(title ? { title } : {}), ...(generation ? { generation } : {}) });
    noteParams(n, notes, [], null, 'Microsoft 365 keeps the name only');
  }
  if (n && (Array.isArray(n[3]) ? (n[3] as unknown[]) : [n[3]]).every((p) => part(p) === '')) notes.rewrote('VCARD', 'N', 'empty: not written back');
  for (const property of props.filter((p) => ['nickname', 'org', 'title', 'role', 'note', 'categories', 'kind', 'uid', 'x-ms-manager', 'x-ms-assistant'].includes(p[0]))) {
    noteParams(property, notes, ['value'], null, 'Microsoft 365 keeps the value only');
    if (property[1].type !== undefined) notes.lost(`VCARD ${property[0].toUpperCase()}`, 'TYPE', 'Microsoft 365 keeps the value only');
  }
  const nicknames = props.filter((p) => p[0] === 'nickname').flatMap((p) => p.slice(3).flatMap((v) => (Array.isArray(v) ? v : [v])).map(String));
  if (nicknames[0]) contact.nickName = nicknames[0];
  if (nicknames.length > 1) notes.lost('VCARD NICKNAME', '(more than one)', 'Microsoft 365 keeps one nickname');
  const org = first('org', 'Microsoft 365 keeps one company');
  if (org) {
    const parts = (Array.isArray(org[3]) ? (org[3] as unknown[]) : org.slice(3)).map(part);
    if (parts[0]) contact.companyName = parts[0];
    if (parts[1]) contact.department = parts[1];
    if (parts.length > 2) notes.lost('VCARD ORG', 'units', 'Microsoft 365 keeps the company and one department');
    if (parts.length === 1 && org.length > 3 && Array.isArray(org[3])) notes.rewrote('VCARD ORG', 'parts', 'written back as text');
  }
  const title = first('title', 'Microsoft 365 keeps one job title');
  if (title) contact.jobTitle = String(title[3] ?? '');
  const role = first('role', 'Microsoft 365 keeps one profession');
  if (role) contact.profession = String(role[3] ?? '');

  for (const email of props.filter((p) => p[0] === 'email')) {
    noteParams(email, notes, [], [], 'Microsoft 365 e-mail addresses have no kind or preference');
    if (contact.emailAddresses!.length < GRAPH_SLOTS.emailAddresses) contact.emailAddresses!.push({ address: String(email[3] ?? '') });
    else notes.lost('VCARD EMAIL', '(more than three)', `Microsoft 365 keeps ${GRAPH_SLOTS.emailAddresses} e-mail addresses`);
  }

  for (const tel of props.filter((p) => p[0] === 'tel')) {
    const kinds = types(tel[1]);
    const number = String(tel[3] ?? '').replace(/^tel:/i, '');
    let slot: 'mobile' | 'home' | 'business' | null;
    if (kinds.includes('cell')) slot = 'mobile';
    else if (kinds.some((k) => ['fax', 'pager', 'textphone', 'video', 'text'].includes(k))) slot = null;
    else if (kinds.includes('home')) slot = 'home';
    else slot = 'business';
    if (slot === null) {
      notes.lost('VCARD TEL', `TYPE=${kinds.join(',')}`, 'Microsoft 365 contacts have business, home and mobile numbers only');
      continue;
    }
    noteParams(tel, notes, [], [slot === 'mobile' ? 'cell' : slot === 'home' ? 'home' : 'work'], 'Microsoft 365 phone numbers have no such detail');
    if (slot === 'mobile') {
      if (contact.mobilePhone) notes.lost('VCARD TEL', '(second mobile)', 'Microsoft 365 keeps one mobile number');
      else contact.mobilePhone = number;
    } else {
      const list = slot === 'home' ? contact.homePhones! : contact.businessPhones!;
      if (list.length < GRAPH_SLOTS.homePhones) list.push(number);
      else notes.lost('VCARD TEL', `(third ${slot} number)`, `Microsoft 365 keeps 2 ${slot} numbers`);
    }
  }

  for (const adr of props.filter((p) => p[0] === 'adr')) {
    const kinds = types(adr[1]);
    const slot = kinds.includes('home') ? 'homeAddress' : kinds.includes('work') ? 'businessAddress' : 'otherAddress';
    if (adr[1].label !== undefined) notes.lost('VCARD', 'LABEL', 'the printed form of an address: Microsoft 365 prints it from the parts');
    noteParams(adr, notes, [], [slot === 'homeAddress' ? 'home' : slot === 'businessAddress' ? 'work' : ''].filter(Boolean), 'Microsoft 365 addresses have no such detail');
    if (contact[slot]) {
      notes.lost('VCARD ADR', `(second ${slot === 'otherAddress' ? 'other' : kinds.join(',')} address)`, 'Microsoft 365 keeps one home, one business and one other address');
      continue;
    }
    contact[slot] = address(Array.isArray(adr[3]) ? (adr[3] as unknown[]) : [adr[3]], notes);
  }

  const bday = first('bday', 'Microsoft 365 keeps one birthday');
  if (bday) {
    const value = String(bday[3] ?? '');
    if (/^\d{4}-\d\d-\d\d$/.test(value)) contact.birthday = `${value}T00:00:00Z`;
    else notes.lost('VCARD BDAY', value.startsWith('--') ? '(without year)' : '(not a whole date)', 'Microsoft 365 keeps a birthday as a whole date');
    noteParams(bday, notes, [], null, 'Microsoft 365 keeps the date only');
  }
  const notesText = props.filter((p) => p[0] === 'note').map((p) => String(p[3] ?? ''));
  if (notesText.length) contact.personalNotes = notesText.join('\n\n');
  if (notesText.length > 1) notes.rewrote('VCARD NOTE', '(more than one)', 'joined into one note');
  contact.categories = props.filter((p) => p[0] === 'categories').flatMap((p) => p.slice(3).flatMap((v) => (Array.isArray(v) ? v : [v])).map(String));
  for (const impp of props.filter((p) => p[0] === 'impp')) {
    noteParams(impp, notes, [], [], 'Microsoft 365 IM addresses have no kind');
    if (contact.imAddresses!.length < GRAPH_SLOTS.imAddresses) contact.imAddresses!.push(String(impp[3] ?? ''));
    else notes.lost('VCARD IMPP', '(more than three)', `Microsoft 365 keeps ${GRAPH_SLOTS.imAddresses} IM addresses`);
  }
  const url = first('url', 'Microsoft 365 keeps one web page');
  if (url) {
    contact.businessHomePage = String(url[3] ?? '');
    noteParams(url, notes, [], [], 'Microsoft 365 keeps the address of the web page only');
  }
  for (const related of props.filter((p) => p[0] === 'related')) {
    const kinds = types(related[1]);
    const value = String(related[3] ?? '');
    if (kinds.includes('spouse') && !contact.spouseName) contact.spouseName = value;
    else if (kinds.includes('child')) contact.children!.push(value);
    else {
      notes.lost('VCARD RELATED', `TYPE=${kinds.join(',') || 'none'}`, 'Microsoft 365 keeps a spouse and children by name only');
      continue;
    }
    if (related[2] !== 'text') notes.rewrote('VCARD RELATED', 'VALUE', 'a link kept as the name it holds');
    noteParams(related, notes, ['value'], [kinds.includes('spouse') ? 'spouse' : 'child'], 'Microsoft 365 keeps the name only');
  }
  const photoProperty = first('photo', 'Microsoft 365 keeps one photo');
  if (photoProperty) {
    photo = dataUriPhoto(String(photoProperty[3] ?? ''));
    if (!photo) notes.lost('VCARD PHOTO', '(by URL)', 'Microsoft 365 keeps the picture itself, not a link to it');
    noteParams(photoProperty, notes, ['mediatype'], null, 'Microsoft 365 keeps the picture only');
  }
  for (const name of ['x-ms-manager', 'x-ms-assistant'] as const) {
    const property = first(name, 'Microsoft 365 keeps one');
    if (property) contact[name === 'x-ms-manager' ? 'manager' : 'assistantName'] = String(property[3] ?? '');
  }
  if (card.getFirstProperty('rev')) notes.lost('VCARD', 'REV', 'Microsoft 365 sets it when the contact is written');
  for (const property of props) {
    if (CONTACT_PROPERTIES.has(property[0])) {
      if (property[1].group !== undefined) notes.lost(`VCARD ${property[0].toUpperCase()}`, 'GROUP', "a property group (item1.): Microsoft 365 has no place for the group's labels");
      continue;
    }
    notes.lost('VCARD', property[0].toUpperCase(), property[0].startsWith('x-') ? "another program's own property; Microsoft 365 has no place for it" : 'Microsoft 365 contacts have no such property');
  }
  for (const key of ['emailAddresses', 'businessPhones', 'homePhones', 'imAddresses', 'categories', 'children'] as const) {
    if ((contact[key] as unknown[]).length === 0) delete contact[key];
  }
  const mapping: ContactMapping = { uid, contact, photo, notMapped: notes.notMapped, rewritten: notes.rewritten };
  completeNotes(data, graphContactToVcard(contact, { uid, photo }), notes);
  return mapping;
}

export interface VcardOptions {
  uid: string | null;
  photo?: GraphPhoto | null;
  /** vCard 4.0 unless the address book takes 3.0 only. */
  version?: '3.0' | '4.0';
}

/** A Graph contact (and its photo) as a vCard, 4.0 by default. */
export function graphContactToVcard(contact: GraphContact, options: VcardOptions): string {
  const props: JCalProperty[] = [['version', {}, 'text', '4.0']];
  if (options.uid) props.push(['uid', {}, 'text', options.uid]);
  const composed = [contact.givenName, contact.middleName, contact.surname].filter(Boolean).join(' ');
  props.push(['fn', {}, 'text', contact.displayName || composed || contact.companyName || contact.emailAddresses?.[0]?.address || '']);
  if (contact.surname || contact.givenName || contact.middleName || contact.title || contact.generation) {
    props.push(['n', {}, 'text', [contact.surname ?? '', contact.givenName ?? '', contact.middleName ?? '', contact.title ?? '', contact.generation ?? '']]);
  }
  if (contact.nickName) props.push(['nickname', {}, 'text', contact.nickName]);
  if (contact.companyName || contact.department) props.push(['org', {}, 'text', contact.department ? [contact.companyName ?? '', contact.department] : (contact.companyName ?? '')]);
  if (contact.jobTitle) props.push(['title', {}, 'text', contact.jobTitle]);
  if (contact.profession) props.push(['role', {}, 'text', contact.profession]);
  for (const email of contact.emailAddresses ?? []) if (email.address) props.push(['email', {}, 'text', email.address]);
  for (const phone of contact.businessPhones ?? []) props.push(['tel', { type: 'work' }, 'uri', phone]);
  for (const phone of contact.homePhones ?? []) props.push(['tel', { type: 'home' }, 'uri', phone]);
  if (contact.mobilePhone) props.push(['tel', { type: 'cell' }, 'uri', contact.mobilePhone]);
  const addresses: [GraphPhysicalAddress | undefined, Params][] = [
    [contact.homeAddress, { type: 'home' }],
    [contact.businessAddress, { type: 'work' }],
    [contact.otherAddress, {}],
  ];
  for (const [a, params] of addresses) {
    if (!a || !(a.street || a.city || a.state || a.postalCode || a.countryOrRegion)) continue;
    props.push(['adr', params, 'text', ['', '', a.street ?? '', a.city ?? '', a.state ?? '', a.postalCode ?? '', a.countryOrRegion ?? '']]);
  }
  if (contact.birthday) props.push(['bday', {}, 'date', contact.birthday.slice(0, 10)]);
  if (contact.personalNotes) props.push(['note', {}, 'text', contact.personalNotes]);
  if (contact.categories?.length) props.push(['categories', {}, 'text', ...contact.categories]);
  for (const im of contact.imAddresses ?? []) props.push(['impp', {}, 'uri', im]);
  if (contact.businessHomePage) props.push(['url', {}, 'uri', contact.businessHomePage]);
  if (contact.spouseName) props.push(['related', { type: 'spouse' }, 'text', contact.spouseName]);
  for (const child of contact.children ?? []) props.push(['related', { type: 'child' }, 'text', child]);
  if (contact.manager) props.push(['x-ms-manager', {}, 'text', contact.manager]);
  if (contact.assistantName) props.push(['x-ms-assistant', {}, 'text', contact.assistantName]);
  if (options.photo) props.push(['photo', {}, 'uri', `data:${options.photo.contentType};base64,${options.photo.bytes.toString('base64')}`]);
  if (contact.lastModifiedDateTime) props.push(['rev', {}, 'timestamp', new Date(contact.lastModifiedDateTime).toISOString().replace(/\.\d{3}Z$/, 'Z')]);
  const card = new ICAL.Component(['vcard', props, []] as never);
  return (options.version === '3.0' ? convertVcard(card, '3.0') : card).toString();
}
