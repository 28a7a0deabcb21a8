/**
 * One Exchange mailbox (EWS) as a groupware source: its calendar, contacts and tasks folders
 * (subfolders too), their items listed by paged FindItem and read by GetItem in batches, and
 * each item turned into iCalendar / vCard text by the mapping (ews-items.ts `fromEws`).
 *
 * Requests are plain SOAP built here and sent through the product's EWS transport
 * (server/accounts/ews/fetch-xhr-api.ts: the pinned fetch, bounded bodies), not through
 * ews-javascript-api's object model: the mapping reads GetItem answers as XML elements
 * (ews-xml.ts `readEwsItem`), with the extended properties as Exchange names them, and the
 * library would first turn them into its own objects and back. Failures are explained by the
 * same code as the login check (server/accounts/ews/ews-errors.ts).
 *
 * Authentication is Basic, or NTLM (server/accounts/ews/ntlm.ts) when asked for
 * (`authentication: 'ntlm'`) or when the server answers Basic with a 401 that offers only
 * NTLM / Negotiate; NTLM's requests go one at a time over one connection (the pinned fetch's
 * `single()`).
 *
 * Requests per item: one FindItem per 100 items listed, one GetItem per 50 items read, and per
 * batch at most one GetItem for the modified occurrences of its recurring masters, one
 * GetAttachment for its contact photos and one GetItem for members of its distribution lists
 * that are contacts not read yet.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { basicAuthorization } from '../../../accounts/ews/autodiscover';
import type { EwsConnectionOptions } from '../../../accounts/ews/ews-client';
import { describeUrl, httpFailure, redactError, serviceErrorReason, soapFault } from '../../../accounts/ews/ews-errors';
import { FetchXhrApi, type RecordedResponse } from '../../../accounts/ews/fetch-xhr-api';
import { childElements, escapeXml, NS, parseXml } from '../../../accounts/ews/xml';
import { ConnectorError } from '../../../accounts/types';
import type { GroupwareCollection, GroupwareKind, GroupwareSource, ItemRef } from '../model';
import { fromEws, SOURCE_UID_PROPERTY, type NotMapped } from './ews-items';
import { readEwsItem, type EwsCalendarItem, type EwsContact, type EwsItem } from './ews-xml';

export const M = 'http://schemas.microsoft.com/exchange/services/2006/messages';
const T = NS.ewsTypes;

/** FindItem / FindFolder page size. */
export const EWS_PAGE_SIZE = 100;
/** Items per GetItem (and attachments per GetAttachment). */
export const EWS_BATCH_SIZE = 50;
/** A longer ErrorServerBusy back-off is not waited for: the source fails with rate_limited. */
export const MAX_BACK_OFF_MS = 120_000;
/** Busy answers to one request waited for before giving up. */
const MAX_BUSY_RETRIES = 10;
/** Back-off when a busy answer names none. */
const DEFAULT_BACK_OFF_MS = 5_000;

/** Folder classes of groupware folders; subclasses (IPF.Contact.RecipientCache, IPF.Appointment.Birthday, ...) are Exchange's own. */
export const FOLDER_KINDS: Record<string, GroupwareKind> = { 'IPF.Appointment': 'calendar', 'IPF.Contact': 'contacts', 'IPF.Task': 'tasks' };
export const DISTINGUISHED: Record<GroupwareKind, string> = { calendar: 'calendar', contacts: 'contacts', tasks: 'tasks' };
export const COMPONENTS: Record<GroupwareKind, string[]> = { calendar: ['VEVENT'], contacts: [], tasks: ['VTODO'] };

/** PidTagSentRepresentingName / -EmailAddress: the organizer of an imported meeting, which the mapping reads. */
const ORGANIZER_TAGS = ['0x0042', '0x0065'];

/** The login check's connection options (url, Basic credentials, anchor mailbox, pinned fetch, signal). */
export interface EwsSourceOptions extends Omit<EwsConnectionOptions, 'version'> {
  /** Told before each ErrorServerBusy back-off is waited for (no secrets in it). */
  onBackOff?: (milliseconds: number) => void;
}

function extendedUri(property: { propertySetId?: string; propertyName?: string; propertyTag?: string; propertyType: string }): string {
  const attributes = [
    property.propertySetId ? `PropertySetId="${property.propertySetId}"` : '',
    property.propertyName ? `PropertyName="${property.propertyName}"` : '',
    property.propertyTag ? `PropertyTag="${property.propertyTag}"` : '',
    `PropertyType="${property.propertyType}"`,
  ].filter(Boolean);
  return `<t:ExtendedFieldURI ${attributes.join(' ')}/>`;
}

export const SOURCE_UID_URI = extendedUri(SOURCE_UID_PROPERTY);
const ORGANIZER_URIS = ORGANIZER_TAGS.map((tag) => extendedUri({ propertyTag: tag, propertyType: 'String' })).join('');

/** What GetItem asks for, per folder kind: the schema's properties plus what AllProperties leaves out. */
function itemShape(kind: GroupwareKind | 'identity'): string {
  if (kind === 'identity') return `<m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>${SOURCE_UID_URI}</t:AdditionalProperties></m:ItemShape>`;
  const calendar = kind === 'calendar' ? `<t:FieldURI FieldURI="calendar:UID"/><t:FieldURI FieldURI="calendar:StartTimeZone"/><t:FieldURI FieldURI="calendar:EndTimeZone"/>${ORGANIZER_URIS}` : '';
  return `<m:ItemShape><t:BaseShape>AllProperties</t:BaseShape><t:BodyType>Text</t:BodyType><t:AdditionalProperties><t:FieldURI FieldURI="item:Body"/>${calendar}${SOURCE_UID_URI}</t:AdditionalProperties></m:ItemShape>`;
}

/** Exchange may write a property tag without its leading zeros (0x42); the mapping names them with four digits. */
function normaliseTags(item: EwsItem): EwsItem {
  for (const property of item.extendedProperties) {
    if (property.propertyTag && /^0x[0-9a-f]+$/i.test(property.propertyTag)) property.propertyTag = `0x${parseInt(property.propertyTag, 16).toString(16).padStart(4, '0')}`;
  }
  return item;
}

export interface ResponseMessage {
  isSuccess: boolean;
  code: string;
  element: Element;
}

export function attribute(element: Element | undefined, name: string): string | undefined {
  return element?.getAttribute(name) || undefined;
}

export function firstChild(parent: Element | undefined, namespace: string, name: string): Element | undefined {
  return parent ? childElements(parent, namespace, name)[0] : undefined;
}

export function elementChildren(parent: Element | undefined): Element[] {
  const out: Element[] = [];
  for (let node = parent?.firstChild; node; node = node.nextSibling) if (node.nodeType === 1) out.push(node as Element);
  return out;
}

/** A contact photo's attachment id, from the Attachments GetItem gives (Content comes only with GetAttachment). */
function photoAttachmentId(element: Element): string | undefined {
  const attachments = firstChild(element, T, 'Attachments');
  for (const file of attachments ? childElements(attachments, T, 'FileAttachment') : []) {
    if (firstChild(file, T, 'IsContactPhoto')?.textContent?.trim() === 'true') return attribute(firstChild(file, T, 'AttachmentId'), 'Id');
  }
  return undefined;
}

/** A mailbox's calendars, contacts and tasks over EWS, as the groupware copy reads them. */
export class EwsSource implements GroupwareSource {
  /** What of each item read the text cannot say, by item id (only items with something to say), with the item's UID. */
  readonly notMapped = new Map<string, { uid: string; notMapped: NotMapped[] }>();
  /** Items Exchange refused to give, by item id: the EWS response code. */
  readonly unreadable = new Map<string, string>();
  /** HTTP requests sent: EWS requests, busy answers and NTLM's handshake legs included. */
  requestCount = 0;

  private readonly xhr: FetchXhrApi;
  protected readonly url: string;
  private readonly authorization: string;
  private readonly secrets: string[];
  /** UID (as the contact's text has it) of each contact read, by ItemId, for the members of distribution lists. */
  protected readonly contactUids = new Map<string, string | null>();

  constructor(protected readonly options: EwsSourceOptions) {
    let url: URL;
    try {
      url = new URL(options.url.trim());
    } catch {
      throw new ConnectorError('groupware_not_found', 'the EWS URL is not a URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConnectorError('groupware_not_found', 'the EWS URL is not an http(s) URL');
    if (url.username || url.password) throw new ConnectorError('groupware_not_found', 'the EWS URL must not contain credentials');
    if (!options.username || !options.password) throw new ConnectorError('auth_failed', 'username or password is empty');
    this.url = url.href;
    this.authorization = basicAuthorization(options.username, options.password);
    this.secrets = [options.password, this.authorization.slice('Basic '.length)];
    this.xhr = new FetchXhrApi({
      fetch: options.fetch,
      signal: options.signal,
      credentials: { username: options.username, password: options.password },
      ...(options.authentication ? { authentication: options.authentication } : {}),
      onRequest: () => this.requestCount++,
    });
  }

  async collections(): Promise<GroupwareCollection[]> {
    // The distinguished folders' ids, to know the defaults (a mailbox may lack one).
    const defaults = new Map<string, GroupwareKind>();
    const ids = Object.values(DISTINGUISHED).map((name) => `<t:DistinguishedFolderId Id="${name}"/>`).join('');
    const got = await this.call('GetFolder', `<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds>${ids}</m:FolderIds></m:GetFolder>`);
    const kinds = Object.keys(DISTINGUISHED) as GroupwareKind[];
    got.forEach((message, index) => {
      if (!message.isSuccess) {
        if (message.code !== 'ErrorFolderNotFound') throw this.serviceError('GetFolder', message.code);
        return;
      }
      const folder = elementChildren(firstChild(message.element, M, 'Folders'))[0];
      const id = attribute(firstChild(folder, T, 'FolderId'), 'Id');
      if (id) defaults.set(id, kinds[index]!);
    });

    const out: GroupwareCollection[] = [];
    for (let offset = 0; ; ) {
      const [message] = await this.call(
        'FindFolder',
        '<m:FindFolder Traversal="Deep"><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="folder:DisplayName"/><t:FieldURI FieldURI="folder:FolderClass"/></t:AdditionalProperties></m:FolderShape>' +
          `<m:IndexedPageFolderView MaxEntriesReturned="${EWS_PAGE_SIZE}" Offset="${offset}" BasePoint="Beginning"/>` +
          '<m:ParentFolderIds><t:DistinguishedFolderId Id="msgfolderroot"/></m:ParentFolderIds></m:FindFolder>',
      );
      if (!message?.isSuccess) throw this.serviceError('FindFolder', message?.code ?? 'no answer');
      const root = firstChild(message.element, M, 'RootFolder');
      for (const folder of elementChildren(firstChild(root, T, 'Folders'))) {
        const id = attribute(firstChild(folder, T, 'FolderId'), 'Id');
        const kind = FOLDER_KINDS[firstChild(folder, T, 'FolderClass')?.textContent?.trim() ?? ''];
        if (!id || !kind) continue;
        const displayName = firstChild(folder, T, 'DisplayName')?.textContent ?? '';
        const isDefault = defaults.get(id) === kind;
        out.push({ id, kind, displayName, color: null, description: null, isDefault, components: COMPONENTS[kind], slug: isDefault ? DISTINGUISHED[kind] : displayName });
      }
      const next = Number(attribute(root, 'IndexedPagingOffset'));
      if (attribute(root, 'IncludesLastItemInRange') !== 'false' || !Number.isFinite(next) || next <= offset) break;
      offset = next;
    }
    return out;
  }

  /** Every item of the folder by ItemId, its ChangeKey as version; a calendar's series once, as its master. */
  async list(collection: GroupwareCollection): Promise<ItemRef[]> {
    const refs: ItemRef[] = [];
    const calendarType = collection.kind === 'calendar' ? '<t:FieldURI FieldURI="calendar:CalendarItemType"/>' : '';
    for (let offset = 0; ; ) {
      const [message] = await this.call(
        'FindItem',
        `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Size"/>${calendarType}</t:AdditionalProperties></m:ItemShape>` +
          `<m:IndexedPageItemView MaxEntriesReturned="${EWS_PAGE_SIZE}" Offset="${offset}" BasePoint="Beginning"/>` +
          `<m:ParentFolderIds><t:FolderId Id="${escapeXml(collection.id)}"/></m:ParentFolderIds></m:FindItem>`,
      );
      if (!message?.isSuccess) throw this.serviceError('FindItem', message?.code ?? 'no answer');
      const root = firstChild(message.element, M, 'RootFolder');
      for (const item of elementChildren(firstChild(root, T, 'Items'))) {
        // Without CalendarView a folder lists singles and masters; an occurrence or exception is read with its master.
        const type = firstChild(item, T, 'CalendarItemType')?.textContent?.trim();
        if (type === 'Occurrence' || type === 'Exception') continue;
        const id = firstChild(item, T, 'ItemId');
        if (!attribute(id, 'Id')) continue;
        const size = Number(firstChild(item, T, 'Size')?.textContent);
        refs.push({ id: attribute(id, 'Id')!, version: attribute(id, 'ChangeKey') ?? null, size: Number.isFinite(size) && size > 0 ? size : null });
      }
      const next = Number(attribute(root, 'IndexedPagingOffset'));
      if (attribute(root, 'IncludesLastItemInRange') !== 'false' || !Number.isFinite(next) || next <= offset) break;
      offset = next;
    }
    return refs;
  }

  /**
   * The items' text. Items Exchange no longer has are left out (the copy reports them gone);
   * one it refuses to give is left out too, with its response code in `unreadable`.
   */
  async read(collection: GroupwareCollection, refs: ItemRef[]): Promise<{ id: string; version: string | null; data: string }[]> {
    const out: { id: string; version: string | null; data: string }[] = [];
    for (let i = 0; i < refs.length; i += EWS_BATCH_SIZE) out.push(...(await this.readBatch(collection, refs.slice(i, i + EWS_BATCH_SIZE))));
    return out;
  }

  private async readBatch(collection: GroupwareCollection, refs: ItemRef[]): Promise<{ id: string; version: string | null; data: string }[]> {
    const messages = await this.getItems(refs.map((r) => r.id), itemShape(collection.kind));
    const items: { item: EwsItem; photoId?: string }[] = [];
    messages.forEach((message, index) => {
      const id = refs[index]!.id;
      if (!message.isSuccess) {
        if (message.code !== 'ErrorItemNotFound') this.unreadable.set(id, message.code);
        return;
      }
      const element = elementChildren(firstChild(message.element, M, 'Items'))[0];
      if (!element || !['CalendarItem', 'Contact', 'DistributionList', 'Task'].includes(element.localName)) {
        this.unreadable.set(id, `not a groupware item (${element?.localName ?? 'empty'})`);
        return;
      }
      const item = normaliseTags(readEwsItem(element));
      // The id asked for, whatever spelling the answer uses.
      item.itemId = { id, ...(item.itemId?.changeKey ? { changeKey: item.itemId.changeKey } : {}) };
      items.push({ item, ...(item.kind === 'Contact' ? { photoId: photoAttachmentId(element) } : {}) });
    });

    const exceptions = await this.readExceptions(items.map((entry) => entry.item).filter((item): item is EwsCalendarItem => item.kind === 'CalendarItem'));
    await this.readPhotos(items.flatMap((entry) => (entry.item.kind === 'Contact' && entry.photoId ? [{ contact: entry.item, attachmentId: entry.photoId }] : [])));

    const result = new Map<string, { id: string; version: string | null; data: string }>();
    const convert = (item: EwsItem, extra: EwsCalendarItem[] = []) => {
      const id = item.itemId!.id;
      const read = fromEws(item, extra, { contactUidOf: (contactId) => this.contactUids.get(contactId) ?? null });
      if (read.notMapped.length) this.notMapped.set(id, { uid: read.uid, notMapped: read.notMapped });
      else this.notMapped.delete(id);
      if (item.kind === 'Contact') this.contactUids.set(id, read.uid);
      result.set(id, { id, version: item.itemId?.changeKey ?? refs.find((r) => r.id === id)?.version ?? null, data: read.data });
    };
    // Contacts first: a distribution list of the same batch names them by ItemId.
    for (const { item } of items) if (item.kind !== 'DistributionList') convert(item, item.kind === 'CalendarItem' ? (exceptions.get(item.itemId!.id) ?? []) : []);
    const lists = items.map((entry) => entry.item).filter((item) => item.kind === 'DistributionList');
    const unknownMembers = [...new Set(lists.flatMap((list) => list.members.flatMap((member) => (member.contactId && !this.contactUids.has(member.contactId) ? [member.contactId] : []))))];
    await this.readContactUids(unknownMembers);
    for (const list of lists) convert(list);
    return refs.flatMap((ref) => result.get(ref.id) ?? []);
  }

  /** The exceptions of each recurring master, by master id: GetItem on the ids ModifiedOccurrences gives. */
  private async readExceptions(masters: EwsCalendarItem[]): Promise<Map<string, EwsCalendarItem[]>> {
    const wanted = masters.flatMap((master) => master.modifiedOccurrences.flatMap((occurrence) => (occurrence.itemId ? [{ master: master.itemId!.id, id: occurrence.itemId.id }] : [])));
    const out = new Map<string, EwsCalendarItem[]>();
    for (let i = 0; i < wanted.length; i += EWS_BATCH_SIZE) {
      const batch = wanted.slice(i, i + EWS_BATCH_SIZE);
      const messages = await this.getItems(batch.map((w) => w.id), itemShape('calendar'));
      messages.forEach((message, index) => {
        // An occurrence deleted or moved since the master was read: the master's text goes without it.
        if (!message.isSuccess) return;
        const element = elementChildren(firstChild(message.element, M, 'Items'))[0];
        if (element?.localName !== 'CalendarItem') return;
        const exception = normaliseTags(readEwsItem(element)) as EwsCalendarItem;
        const master = batch[index]!.master;
        out.set(master, [...(out.get(master) ?? []), exception]);
      });
    }
    return out;
  }

  /** Each contact's photo: GetAttachment of its IsContactPhoto attachment. */
  private async readPhotos(photos: { contact: EwsContact; attachmentId: string }[]): Promise<void> {
    for (let i = 0; i < photos.length; i += EWS_BATCH_SIZE) {
      const batch = photos.slice(i, i + EWS_BATCH_SIZE);
      const ids = batch.map((p) => `<t:AttachmentId Id="${escapeXml(p.attachmentId)}"/>`).join('');
      const messages = await this.call('GetAttachment', `<m:GetAttachment><m:AttachmentIds>${ids}</m:AttachmentIds></m:GetAttachment>`);
      messages.forEach((message, index) => {
        if (!message.isSuccess) return;
        const file = firstChild(firstChild(message.element, M, 'Attachments'), T, 'FileAttachment');
        const content = firstChild(file, T, 'Content')?.textContent?.replace(/\s+/g, '');
        if (content) batch[index]!.contact.photo = { contentType: firstChild(file, T, 'ContentType')?.textContent?.trim() || 'image/jpeg', content };
      });
    }
  }

  /** The UIDs of contacts a distribution list names that were not read yet (another batch, another folder). */
  private async readContactUids(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += EWS_BATCH_SIZE) {
      const batch = ids.slice(i, i + EWS_BATCH_SIZE);
      const messages = await this.getItems(batch, itemShape('identity'));
      messages.forEach((message, index) => {
        const id = batch[index]!;
        const element = message.isSuccess ? elementChildren(firstChild(message.element, M, 'Items'))[0] : undefined;
        if (element?.localName !== 'Contact') {
          // Gone, or no contact: the list's text names it by address where it has one.
          this.contactUids.set(id, null);
          return;
        }
        const item = readEwsItem(element);
        item.itemId = { id };
        this.contactUids.set(id, fromEws(item).uid);
      });
    }
  }

  protected getItems(ids: string[], shape: string): Promise<ResponseMessage[]> {
    const idXml = ids.map((id) => `<t:ItemId Id="${escapeXml(id)}"/>`).join('');
    return this.call('GetItem', `<m:GetItem>${shape}<m:ItemIds>${idXml}</m:ItemIds></m:GetItem>`);
  }

  protected serviceError(operation: string, code: string): ConnectorError {
    return new ConnectorError(serviceErrorReason(code), `EWS ${operation} ${describeUrl(this.url)}: ${code}`);
  }

  /** One EWS request: its response messages, in the order of what it asked for. ErrorServerBusy is waited for. */
  protected async call(operation: string, body: string): Promise<ResponseMessage[]> {
    try {
      for (let attempt = 0; ; attempt++) {
        const answer = await this.send(operation, body);
        if ('messages' in answer) return answer.messages;
        const wait = answer.backOff;
        if (wait > MAX_BACK_OFF_MS) throw new ConnectorError('rate_limited', `EWS ${operation} ${describeUrl(this.url)}: ErrorServerBusy, back off ${Math.round(wait / 1000)} s (more than ${MAX_BACK_OFF_MS / 1000} s)`);
        if (attempt >= MAX_BUSY_RETRIES) throw new ConnectorError('rate_limited', `EWS ${operation} ${describeUrl(this.url)}: ErrorServerBusy ${attempt + 1} times in a row`);
        this.options.onBackOff?.(wait);
        try {
          await sleep(wait, undefined, { signal: this.options.signal });
        } catch {
          throw new ConnectorError('timed_out', `EWS ${operation} ${describeUrl(this.url)}: aborted while backing off`);
        }
      }
    } catch (error) {
      const failure = error instanceof ConnectorError ? error : new ConnectorError('protocol_error', `EWS ${operation} ${describeUrl(this.url)}: unexpected failure`);
      throw redactError(failure, this.secrets);
    }
  }

  private async send(operation: string, body: string): Promise<{ messages: ResponseMessage[] } | { backOff: number }> {
    const envelope =
      `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${NS.soap}" xmlns:t="${T}" xmlns:m="${M}">` +
      // Times in UTC (task days travel as UTC midnights, as the mapping expects).
      '<soap:Header><t:RequestServerVersion Version="Exchange2010_SP1"/><t:TimeZoneContext><t:TimeZoneDefinition Id="UTC"/></t:TimeZoneContext></soap:Header>' +
      `<soap:Body>${body}</soap:Body></soap:Envelope>`;
    const headers: Record<string, string> = { 'Content-Type': 'text/xml; charset=utf-8', Accept: 'text/xml', Authorization: this.authorization };
    if (this.options.email) headers['X-AnchorMailbox'] = this.options.email;
    let text: string;
    try {
      const xhr = await this.xhr.xhr({ url: this.url, type: 'POST', headers, data: envelope });
      text = xhr.responseText;
    } catch (rejection) {
      const failed = rejection as { cause?: unknown; status?: number; responseText?: string; headers?: Record<string, string> };
      if (failed.cause instanceof ConnectorError) throw failed.cause;
      const response: RecordedResponse = { url: this.url, status: failed.status ?? 0, headers: new Headers(failed.headers ?? {}), body: failed.responseText ?? '' };
      const fault = soapFault(response.body);
      if (fault?.code === 'ErrorServerBusy') return { backOff: backOffOf(response.body) ?? DEFAULT_BACK_OFF_MS };
      throw httpFailure(response, `EWS ${operation}`);
    }
    const document = parseXml(text);
    const bodyElement = document ? document.getElementsByTagNameNS(NS.soap, 'Body')[0] : undefined;
    const responseElement = bodyElement ? elementChildren(bodyElement)[0] : undefined;
    const list = firstChild(responseElement, M, 'ResponseMessages');
    if (!list) throw new ConnectorError('protocol_error', `EWS ${operation} ${describeUrl(this.url)} answered without response messages`);
    const messages = elementChildren(list).map((element) => ({
      isSuccess: attribute(element, 'ResponseClass') !== 'Error',
      code: firstChild(element, M, 'ResponseCode')?.textContent?.trim() ?? 'NoError',
      element,
    }));
    // Throttled per message (Exchange 2013+ answers a busy mailbox so): the whole request is sent again.
    const busy = messages.find((message) => message.code === 'ErrorServerBusy');
    if (busy) return { backOff: backOffOf(busy.element) ?? DEFAULT_BACK_OFF_MS };
    return { messages };
  }
}

/** The BackOffMilliseconds an ErrorServerBusy answer carries in MessageXml. */
function backOffOf(source: string | Element): number | null {
  const root = typeof source === 'string' ? parseXml(source)?.documentElement : source;
  if (!root) return null;
  for (const value of Array.from(root.getElementsByTagNameNS(T, 'Value'))) {
    if (value.getAttribute('Name') === 'BackOffMilliseconds') {
      const ms = Number(value.textContent?.trim());
      if (Number.isFinite(ms) && ms >= 0) return ms;
    }
  }
  return null;
}
