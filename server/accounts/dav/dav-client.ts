import { createHash } from 'node:crypto';
import { createAccount, davRequest, getBasicAuthHeaders, type DAVResponse } from 'tsdav';
import { ConnectorError, type FetchLike } from '../types';
import { failure, observingFetch } from './dav-connector';

/**
 * The CalDAV/CardDAV client of the groupware copy: the same discovery as the credential check
 * (RFC 6764 well-known, principal, calendar-home-set, addressbook-home-set, through tsdav), and
 * what a copy needs beyond it: collection properties, item listings, multiget, conditional PUT
 * and collection creation. XML goes through tsdav's request and parser.
 */

export type DavKind = 'calendar' | 'contacts' | 'tasks';

export interface DavCollection {
  /** Absolute URL ending in '/'. */
  url: string;
  kind: DavKind;
  /** VEVENT, VTODO, ... (calendars only). */
  components: string[];
  displayName: string | null;
  color: string | null;
  description: string | null;
  syncToken: string | null;
  /** vCard versions the address book takes (RFC 6352 supported-address-data), empty when not said. */
  vcardVersions: string[];
}

export interface DavResource {
  /** Absolute URL. */
  url: string;
  etag: string | null;
  size: number | null;
}

export interface DavObject {
  url: string;
  etag: string | null;
  data: string;
}

export type PutOutcome =
  | { ok: true; etag: string | null }
  /** 412: the condition failed (the resource exists, or changed since). */
  | { ok: false; isConflict: true; status: number; reason: string }
  | { ok: false; isConflict: false; status: number; reason: string };

export interface DavLogin {
  serverUrl: string;
  username: string;
  password: string;
  fetch: FetchLike;
}

const NS = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav" xmlns:A="http://apple.com/ns/ical/" xmlns:CS="http://calendarserver.org/ns/"';

/** tsdav's parser turns text into numbers and booleans where it can, and leaves CDATA apart. */
function text(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object') {
    const node = value as { _cdata?: unknown; _text?: unknown };
    if (node._cdata !== undefined) return text(node._cdata);
    if (node._text !== undefined) return text(node._text);
  }
  return null;
}

function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The names of the preconditions in a DAV:error body (RFC 4918 16), never the server's prose, which may quote the item. */
export function preconditionNames(body: string): string[] {
  const error = /<([A-Za-z0-9_-]+:)?error\b[^>]*>([\s\S]*?)<\/([A-Za-z0-9_-]+:)?error>/.exec(body);
  if (!error) return [];
  return [...error[2]!.matchAll(/<(?:[A-Za-z0-9_-]+:)?([A-Za-z][A-Za-z0-9-]*)[\s/>]/g)].map((m) => m[1]!).filter((name, i, all) => all.indexOf(name) === i).slice(0, 4);
}

export class DavAccount {
  private constructor(
    private readonly fetch: FetchLike,
    private readonly headers: Record<string, string>,
    /** calendar-home-set, addressbook-home-set (absolute, '/'-terminated), null when the server has none. */
    readonly calendarHome: string | null,
    readonly addressBookHome: string | null,
    readonly principalUrl: string | null,
  ) {}

  /** Discovery as the credential check does it, for both protocols. */
  static async open(login: DavLogin): Promise<DavAccount> {
    const headers = getBasicAuthHeaders({ username: login.username, password: login.password });
    const homes: Record<'caldav' | 'carddav', string | null> = { caldav: null, carddav: null };
    let principal: string | null = null;
    let lastError: ConnectorError | null = null;
    for (const accountType of ['caldav', 'carddav'] as const) {
      const { fetch, seen } = observingFetch(login.fetch);
      try {
        const account = await createAccount({
          account: { serverUrl: login.serverUrl, accountType, credentials: { username: login.username, password: login.password } },
          headers,
          fetch,
        });
        homes[accountType] = account.homeUrl ? new URL(account.homeUrl, login.serverUrl).href : null;
        principal ??= account.principalUrl ? new URL(account.principalUrl, login.serverUrl).href : null;
      } catch (error) {
        lastError = failure(error, seen, accountType);
        if (lastError.reason !== 'groupware_not_found') throw lastError;
      }
    }
    if (!homes.caldav && !homes.carddav) throw lastError ?? new ConnectorError('groupware_not_found', 'no calendar or address book home');
    const slash = (url: string | null) => (url === null ? null : url.endsWith('/') ? url : `${url}/`);
    return new DavAccount(login.fetch, headers, slash(homes.caldav), slash(homes.carddav), principal);
  }

  private async request(url: string, method: string, body: string | null, extra: Record<string, string> = {}): Promise<DAVResponse[]> {
    return davRequest({
      url,
      init: { method: method as 'PROPFIND', headers: { ...this.headers, 'content-type': 'application/xml; charset=utf-8', ...extra }, body },
      convertIncoming: false,
      fetch: this.fetch as typeof fetch,
    });
  }

  /** OPTIONS' DAV header, lower-cased: which features (calendar-auto-schedule, sync-collection) the server offers. */
  async features(url: string): Promise<string[]> {
    const response = await this.fetch(url, { method: 'OPTIONS', headers: this.headers });
    await response.arrayBuffer();
    return (response.headers.get('dav') ?? '').split(',').map((f) => f.trim().toLowerCase()).filter(Boolean);
  }

  /** Every calendar, task list and address book in the two homes. */
  async collections(): Promise<DavCollection[]> {
    const out: DavCollection[] = [];
    // Both homes may be the same folder; it is listed once.
    const homes = [...new Set([this.calendarHome, this.addressBookHome].filter((h): h is string => h !== null))];
    for (const home of homes) {
      const responses = await this.request(home, 'PROPFIND', `<?xml version="1.0" encoding="utf-8"?>
<D:propfind ${NS}><D:prop>
  <D:resourcetype/><D:displayname/><D:sync-token/><A:calendar-color/><C:calendar-description/><CR:addressbook-description/>
  <C:supported-calendar-component-set/><CR:supported-address-data/>
</D:prop></D:propfind>`, { depth: '1' });
      for (const r of responses) {
        if (!r.href || !r.props) continue;
        const url = new URL(r.href, home).href;
        const types = Object.keys((r.props.resourcetype as Record<string, unknown> | undefined) ?? {});
        const comps = asArray((r.props.supportedCalendarComponentSet as { comp?: unknown } | undefined)?.comp as { _attributes?: { name?: string } }[] | undefined)
          .map((c) => c._attributes?.name?.toUpperCase())
          .filter((c): c is string => Boolean(c));
        const vcardVersions = asArray((r.props.supportedAddressData as { addressDataType?: unknown } | undefined)?.addressDataType as { _attributes?: { version?: string } }[] | undefined)
          .map((t) => t._attributes?.version)
          .filter((v): v is string => Boolean(v));
        const common = {
          url: url.endsWith('/') ? url : `${url}/`,
          displayName: text(r.props.displayname),
          color: text(r.props.calendarColor),
          syncToken: text(r.props.syncToken),
        };
        if (types.includes('calendar')) {
          const components = comps.length > 0 ? comps : ['VEVENT', 'VTODO'];
          const kind: DavKind = components.includes('VEVENT') || !components.includes('VTODO') ? 'calendar' : 'tasks';
          out.push({ ...common, kind, components, description: text(r.props.calendarDescription), vcardVersions: [] });
        } else if (types.includes('addressbook')) {
          out.push({ ...common, kind: 'contacts', components: [], description: text(r.props.addressbookDescription), color: null, vcardVersions });
        }
      }
    }
    return out.filter((c, i, all) => all.findIndex((o) => o.url === c.url) === i);
  }

  private schedulingUrls: Promise<{ inbox: string | null; outbox: string | null }> | undefined;

  /** The principal's scheduling inbox and outbox (RFC 6638 2.1, 2.2): a server that has them schedules. */
  schedulingCollections(): Promise<{ inbox: string | null; outbox: string | null }> {
    this.schedulingUrls ??= (async () => {
      if (!this.principalUrl) return { inbox: null, outbox: null };
      const principalUrl = this.principalUrl;
      try {
        const [principal] = await this.request(principalUrl, 'PROPFIND', `<?xml version="1.0" encoding="utf-8"?><D:propfind ${NS}><D:prop><C:schedule-inbox-URL/><C:schedule-outbox-URL/></D:prop></D:propfind>`, { depth: '0' });
        const href = (name: string) => {
          const value = text((principal?.props?.[name] as { href?: unknown } | undefined)?.href);
          return value ? new URL(value, principalUrl).href : null;
        };
        return { inbox: href('scheduleInboxURL'), outbox: href('scheduleOutboxURL') };
      } catch {
        return { inbox: null, outbox: null };
      }
    })();
    return this.schedulingUrls;
  }

  /** The calendar the server schedules into by default (RFC 6638 9.2), where it says. */
  async scheduleDefaultCalendar(): Promise<string | null> {
    if (!this.principalUrl) return null;
    try {
      const inboxUrl = (await this.schedulingCollections()).inbox;
      if (!inboxUrl) return null;
      const [answer] = await this.request(inboxUrl, 'PROPFIND', `<?xml version="1.0" encoding="utf-8"?><D:propfind ${NS}><D:prop><C:schedule-default-calendar-URL/></D:prop></D:propfind>`, { depth: '0' });
      const calendar = text((answer?.props?.scheduleDefaultCalendarURL as { href?: unknown } | undefined)?.href);
      return calendar ? new URL(calendar, inboxUrl).href : null;
    } catch {
      return null;
    }
  }

  /** The resources in a collection with their ETags (PROPFIND depth 1). */
  async resources(collectionUrl: string): Promise<DavResource[]> {
    const responses = await this.request(collectionUrl, 'PROPFIND', `<?xml version="1.0" encoding="utf-8"?>
<D:propfind ${NS}><D:prop><D:resourcetype/><D:getetag/><D:getcontentlength/></D:prop></D:propfind>`, { depth: '1' });
    const failed = responses.find((r) => !r.href && !r.ok);
    if (failed) throw new ConnectorError('protocol_error', `PROPFIND ${collectionUrl} answered ${failed.status}`);
    const out: DavResource[] = [];
    for (const r of responses) {
      if (!r.href || !r.props) continue;
      const url = new URL(r.href, collectionUrl).href;
      const types = Object.keys((r.props.resourcetype as Record<string, unknown> | undefined) ?? {});
      if (url === collectionUrl || types.includes('collection')) continue;
      const size = Number(text(r.props.getcontentlength));
      out.push({ url, etag: text(r.props.getetag), size: Number.isFinite(size) && size > 0 ? size : null });
    }
    return out;
  }

  /** calendar-multiget / addressbook-multiget; a resource the answer lacks is fetched alone. */
  async multiget(collectionUrl: string, kind: DavKind, urls: string[]): Promise<DavObject[]> {
    if (urls.length === 0) return [];
    const isCard = kind === 'contacts';
    const hrefs = urls.map((u) => `<D:href>${escapeXml(new URL(u).pathname)}</D:href>`).join('');
    const body = isCard
      ? `<?xml version="1.0" encoding="utf-8"?><CR:addressbook-multiget ${NS}><D:prop><D:getetag/><CR:address-data/></D:prop>${hrefs}</CR:addressbook-multiget>`
      : `<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget ${NS}><D:prop><D:getetag/><C:calendar-data/></D:prop>${hrefs}</C:calendar-multiget>`;
    const responses = await this.request(collectionUrl, 'REPORT', body, { depth: '1' });
    const found = new Map<string, DavObject>();
    for (const r of responses) {
      if (!r.href || !r.props) continue;
      const data = text(isCard ? r.props.addressData : r.props.calendarData);
      if (data === null) continue;
      const url = new URL(r.href, collectionUrl).href;
      found.set(decodeURIComponent(new URL(url).pathname), { url, etag: text(r.props.getetag), data });
    }
    const out: DavObject[] = [];
    for (const url of urls) {
      const hit = found.get(decodeURIComponent(new URL(url).pathname));
      if (hit) out.push({ ...hit, url });
      else {
        const single = await this.get(url);
        if (single) out.push(single);
      }
    }
    return out;
  }

  async get(url: string): Promise<DavObject | null> {
    const response = await this.fetch(url, { method: 'GET', headers: this.headers });
    if (response.status === 404) {
      await response.arrayBuffer();
      return null;
    }
    const data = await response.text();
    if (!response.ok) throw new ConnectorError('protocol_error', `GET ${url} answered ${response.status}`);
    return { url, etag: response.headers.get('etag'), data };
  }

  /**
   * PUT with a condition: `create` (If-None-Match: *) or the ETag the copy last saw. The reason of
   * a refusal names the status and the server's preconditions only, never content.
   */
  async put(url: string, body: string, kind: DavKind, condition: { create: true } | { etag: string | null }): Promise<PutOutcome> {
    const headers: Record<string, string> = {
      ...this.headers,
      'content-type': kind === 'contacts' ? 'text/vcard; charset=utf-8' : 'text/calendar; charset=utf-8',
      // RFC 6638 8.1: no reply to the organizer on the attendee's behalf.
      'schedule-reply': 'F',
    };
    if ('create' in condition) headers['if-none-match'] = '*';
    else if (condition.etag) headers['if-match'] = condition.etag;
    const response = await this.fetch(url, { method: 'PUT', headers, body });
    const answer = await response.text();
    if (response.ok) return { ok: true, etag: response.headers.get('etag') };
    const names = preconditionNames(answer);
    const reason = `the server refused it (HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${names.length ? `: ${names.join(', ')}` : ''})`;
    return { ok: false, isConflict: response.status === 412, status: response.status, reason };
  }

  /**
   * A new calendar (MKCALENDAR) or address book (extended MKCOL, RFC 5689) under the home, with
   * its name, colour and description. Servers that refuse one of the properties get the
   * collection with its name only, then each property on its own (PROPPATCH).
   */
  async createCollection(kind: DavKind, slug: string, props: { displayName: string; color: string | null; description: string | null; components: string[] }): Promise<string> {
    const home = kind === 'contacts' ? this.addressBookHome : this.calendarHome;
    if (!home) throw new ConnectorError('groupware_not_found', `the target has no ${kind === 'contacts' ? 'address book' : 'calendar'} home`);
    const url = new URL(`${encodeURIComponent(slug)}/`, home).href;
    const extras = (withAll: boolean) =>
      withAll
        ? [
            props.color && kind !== 'contacts' ? `<A:calendar-color>${escapeXml(props.color)}</A:calendar-color>` : '',
            props.description ? (kind === 'contacts' ? `<CR:addressbook-description>${escapeXml(props.description)}</CR:addressbook-description>` : `<C:calendar-description>${escapeXml(props.description)}</C:calendar-description>`) : '',
          ].join('')
        : '';
    const make = async (withAll: boolean) => {
      const name = `<D:displayname>${escapeXml(props.displayName)}</D:displayname>`;
      const body =
        kind === 'contacts'
          ? `<?xml version="1.0" encoding="utf-8"?><D:mkcol ${NS}><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>${name}${extras(withAll)}</D:prop></D:set></D:mkcol>`
          : `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar ${NS}><D:set><D:prop>${name}${extras(withAll)}<C:supported-calendar-component-set>${props.components.map((c) => `<C:comp name="${escapeXml(c)}"/>`).join('')}</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`;
      const response = await this.fetch(url, { method: kind === 'contacts' ? 'MKCOL' : 'MKCALENDAR', headers: { ...this.headers, 'content-type': 'application/xml; charset=utf-8' }, body });
      const answer = await response.text();
      return { status: response.status, names: preconditionNames(answer) };
    };
    let result = await make(true);
    if (result.status !== 201 && (props.color || props.description)) {
      result = await make(false);
      if (result.status === 201) {
        for (const extra of [props.color && kind !== 'contacts' ? `<A:calendar-color>${escapeXml(props.color)}</A:calendar-color>` : '', extras(true).replace(/<A:calendar-color>.*?<\/A:calendar-color>/, '')]) {
          if (extra) await this.request(url, 'PROPPATCH', `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate ${NS}><D:set><D:prop>${extra}</D:prop></D:set></D:propertyupdate>`).catch(() => undefined);
        }
      }
    }
    if (result.status !== 201) {
      throw new ConnectorError('protocol_error', `${kind === 'contacts' ? 'MKCOL' : 'MKCALENDAR'} ${url} answered ${result.status}${result.names.length ? ` (${result.names.join(', ')})` : ''}`);
    }
    return url;
  }

  /** The display name a collection has now (the server may have changed what it was given). */
  async displayName(url: string): Promise<string | null> {
    const [r] = await this.request(url, 'PROPFIND', `<?xml version="1.0" encoding="utf-8"?><D:propfind ${NS}><D:prop><D:displayname/></D:prop></D:propfind>`, { depth: '0' });
    return text(r?.props?.displayname);
  }
}

/**
 * Where an item lands in the target collection: named after its UID, so a re-run, a resume or
 * a second process writes to the same resource and a UID can never be added twice. UIDs that
 * are not plain path characters are hashed.
 */
export function resourceName(identity: string, kind: DavKind): string {
  const extension = kind === 'contacts' ? 'vcf' : 'ics';
  const plain = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,120}$/.test(identity) && !identity.endsWith(`.${extension}`);
  const name = plain ? identity : createHash('sha256').update(identity).digest('hex').slice(0, 40);
  return `${name}.${extension}`;
}
