/**
 * One Exchange mailbox (EWS) as a groupware target as well as a source: folders made by
 * CreateFolder, items written by CreateItem from the mapping (ews-items.ts `toEws`), then their
 * modified occurrences (UpdateItem on OccurrenceItemId), deleted occurrences (DeleteItem), the
 * contact photo (CreateAttachment IsContactPhoto) and a group's members (its contacts found by
 * the source UID).
 *
 * Nobody is told: every CreateItem of a calendar item says SendMeetingInvitations="SendToNone",
 * every UpdateItem SendMeetingInvitationsOrCancellations="SendToNone" and every DeleteItem
 * SendMeetingCancellations="SendToNone" (learn.microsoft.com/exchange/client-developer/
 * web-service-reference/createitem, updateitem, deleteitem). MessageDisposition is left out:
 * the reference says it applies to e-mail messages only, and nothing written here is one
 * (calendar items, contacts, distribution lists and tasks are saved where SavedItemFolderId
 * says).
 *
 * Identity: each item carries the source's UID in an extended property (SOURCE_UID_PROPERTY),
 * which the source side reads back as the item's UID, so the copy finds its own items again.
 * A CreateItem whose answer is lost (network failure, timeout) may have created the item: the
 * item is then looked up by that property (FindItem, IsEqualTo restriction) and, when found,
 * removed before the one retry, so a retry never leaves two.
 *
 * A changed source item replaces its copy: the copy's ChangeKey is compared first (a different
 * one is a conflict: someone changed it on Exchange), then the old item is deleted (HardDelete,
 * nothing sent) and the new one created; the new ItemId is returned. Replacing rather than
 * patching field by field keeps one way of writing an item, occurrences and photo included; a
 * run killed between the two finds no copy and creates it again.
 *
 * Requests per new item: one CreateItem; a recurring event with overridden or left-out
 * occurrences one UpdateItem for all of them, one DeleteItem for all left-out ones and one
 * GetItem for the final ChangeKey; a contact with a photo one CreateAttachment; a group whose
 * members were not written by this endpoint one FindItem for them.
 */
import { ConnectorError } from '../../../accounts/types';
import { escapeXml, NS, parseXml } from '../../../accounts/ews/xml';
import type { GroupwareCollection, GroupwareKind, GroupwareTarget, NotMappedNote, WriteResult } from '../model';
import { attribute, COMPONENTS, DISTINGUISHED, elementChildren, EWS_BATCH_SIZE, EwsSource, firstChild, M, SOURCE_UID_URI, type ResponseMessage } from './ews-endpoint';
import { EwsMappingError, SOURCE_UID_PROPERTY, toEws, type EwsWrite } from './ews-items';

const T = NS.ewsTypes;

const FOLDER_ELEMENT: Record<GroupwareKind, { element: string; folderClass: string }> = {
  calendar: { element: 'CalendarFolder', folderClass: 'IPF.Appointment' },
  contacts: { element: 'ContactsFolder', folderClass: 'IPF.Contact' },
  tasks: { element: 'TasksFolder', folderClass: 'IPF.Task' },
};
const KIND_WORD: Record<GroupwareKind, string> = { calendar: 'calendar item', contacts: 'contact', tasks: 'task' };
/** Names tried for a folder whose name its parent holds already: "Name", "Name (2)", ... */
const MAX_FOLDER_NAMES = 20;
/** Source UIDs per FindItem restriction when members of a group are looked up. */
const FIND_UIDS = 50;
/** The placeholder id of an item not written yet (the real ItemId comes from CreateItem). */
const PLACEHOLDER = 'new:';

/** Item fields of the ItemType base (FieldURI prefix item:); the rest of a calendar item's are calendar:. */
const ITEM_FIELDS = new Set(['Subject', 'Sensitivity', 'Body', 'Categories', 'Importance', 'ReminderDueBy', 'ReminderIsSet', 'ReminderMinutesBeforeStart']);
/** Fields an occurrence cannot take (ref: updateitem-operation-calendar-item): the series' own. */
const SERIES_FIELDS = new Set(['UID', 'Recurrence']);

/** Refusals of one item, in words (without the item's values). */
const REFUSALS: Record<string, string> = {
  ErrorInvalidPropertyValue: 'a value Exchange does not accept',
  ErrorInvalidPropertySet: 'a property Exchange does not accept on this kind of item',
  ErrorMessageSizeExceeded: 'larger than Exchange accepts',
  ErrorQuotaExceeded: 'the mailbox is over its quota',
  ErrorItemSave: 'Exchange could not save it',
  ErrorInvalidRecipients: 'an attendee address Exchange does not accept',
  ErrorCalendarInvalidRecurrence: 'a recurrence Exchange does not accept',
  ErrorCalendarInvalidDayForWeeklyRecurrence: 'a weekly recurrence without a valid day',
  ErrorCalendarInvalidDayForTimeChangePattern: 'a time zone rule Exchange does not accept',
  ErrorCalendarInvalidTimeZone: 'a time zone Exchange does not know',
  ErrorCalendarEndDateIsEarlierThanStartDate: 'it ends before it starts',
  ErrorCalendarDurationIsTooLong: 'longer than Exchange allows',
  ErrorSchemaValidation: 'a field Exchange reads as malformed',
};

function refusal(kind: GroupwareKind, code: string): string {
  return `Exchange refused the ${KIND_WORD[kind]} (${code}): ${REFUSALS[code] ?? 'no further explanation'}`;
}

/** The element's serialisation with the types namespace bound once, for the envelope that binds t: already. */
function inner(xml: string): string {
  return xml.replace(/^(<t:\w+) xmlns:t="[^"]*"/, '$1');
}

function soapFaultCode(error: unknown): string | null {
  if (!(error instanceof ConnectorError)) return null;
  return /answered a SOAP fault: (\w+)/.exec(error.message)?.[1] ?? null;
}

/** Could the request have been carried out although no answer came (network failure, timeout, a broken answer)? */
function mayHaveHappened(error: unknown): boolean {
  if (!(error instanceof ConnectorError)) return true;
  if (soapFaultCode(error)) return false;
  return !['auth_failed', 'rate_limited', 'blocked_host', 'plaintext_refused', 'groupware_not_found'].includes(error.reason);
}

interface Created {
  id: string;
  changeKey: string | null;
}

/** A mailbox's calendars, contacts and tasks over EWS, as the groupware copy reads and writes them. */
export class EwsEndpoint extends EwsSource implements GroupwareTarget {
  /** ItemId of each contact by its source UID, per folder: those written or read by this endpoint. */
  private readonly contactsByUid = new Map<string, Map<string, string>>();
  /** Groups written before some of their members, per folder: each member is added when its contact is written. */
  private readonly pendingMembers = new Map<string, { groupId: string; uids: Set<string> }[]>();
  /** How many read contacts each folder's map has taken over. */
  private readonly mergedContactUids = new Map<string, number>();
  /** Member UIDs (without urn:uuid:) each conversion could not resolve. */
  private readonly unresolved = new WeakMap<EwsWrite, string[]>();

  /** Exchange sends nothing by itself for what this endpoint writes (SendToNone everywhere). */
  isScheduling(_collection: GroupwareCollection): Promise<boolean> {
    return Promise.resolve(false);
  }

  /** The mapping reads vCard 3 and 4 alike. */
  vcardVersions(_collection: GroupwareCollection): Promise<string[]> {
    return Promise.resolve([]);
  }

  /**
   * A new folder of the kind's class under the mailbox's calendar / contacts / tasks folder, as
   * Outlook's "New Calendar / Contact Folder / Task Folder" places it: it then shows with the
   * mailbox's own under My Calendars / My Contacts / My Tasks in Outlook and Outlook on the web
   * (a folder at the top of the mailbox shows only in the folder list). A mailbox without that
   * folder gets it at the top (msgfolderroot). Exchange refuses a second folder of the same
   * name in one parent (ErrorFolderExists): the name then gets " (2)", " (3)", ...
   */
  async create(spec: Omit<GroupwareCollection, 'id' | 'isDefault'>): Promise<GroupwareCollection> {
    const { element, folderClass } = FOLDER_ELEMENT[spec.kind];
    const base = spec.displayName.trim() || spec.slug || spec.kind;
    let parent = `<t:DistinguishedFolderId Id="${DISTINGUISHED[spec.kind]}"/>`;
    for (let n = 1; n <= MAX_FOLDER_NAMES; ) {
      const name = n === 1 ? base : `${base} (${n})`;
      const [message] = await this.call(
        'CreateFolder',
        `<m:CreateFolder><m:ParentFolderId>${parent}</m:ParentFolderId><m:Folders><t:${element}><t:FolderClass>${folderClass}</t:FolderClass><t:DisplayName>${escapeXml(name)}</t:DisplayName></t:${element}></m:Folders></m:CreateFolder>`,
      );
      if (!message) throw this.serviceError('CreateFolder', 'no answer');
      if (message.isSuccess) {
        const folder = elementChildren(firstChild(message.element, M, 'Folders'))[0];
        const id = attribute(firstChild(folder, T, 'FolderId'), 'Id');
        if (!id) throw this.serviceError('CreateFolder', 'no FolderId');
        return { id, kind: spec.kind, displayName: name, color: null, description: null, isDefault: false, components: COMPONENTS[spec.kind], slug: name };
      }
      if (message.code === 'ErrorFolderNotFound' && parent.includes('DistinguishedFolderId') && !parent.includes('msgfolderroot')) {
        parent = '<t:DistinguishedFolderId Id="msgfolderroot"/>';
        continue;
      }
      if (message.code !== 'ErrorFolderExists') throw this.serviceError('CreateFolder', message.code);
      n++;
    }
    throw new ConnectorError('protocol_error', `EWS CreateFolder: the names "${base}" to "${base} (${MAX_FOLDER_NAMES})" are all taken`);
  }

  itemId(_collection: GroupwareCollection, identity: string): string {
    return `${PLACEHOLDER}${identity}`;
  }

  async write(collection: GroupwareCollection, id: string, data: string, condition: { create: true } | { version: string | null }): Promise<WriteResult> {
    let converted: EwsWrite;
    try {
      converted = await this.convert(collection, data);
    } catch (error) {
      if (error instanceof EwsMappingError) return { ok: false, isConflict: false, reason: error.message };
      throw error;
    }
    if ('version' in condition) {
      if (id.startsWith(PLACEHOLDER)) return { ok: false, isConflict: true, reason: 'the item is not on Exchange yet' };
      const current = await this.changeKeyOf(id);
      if (current === undefined) return { ok: false, isConflict: true, reason: 'the item is gone from Exchange' };
      if (condition.version !== null && current !== condition.version) return { ok: false, isConflict: true, reason: 'the item was changed on Exchange since it was read' };
      await this.deleteItems(collection.kind, [`<t:ItemId Id="${escapeXml(id)}"/>`]);
      this.forgetContact(collection, id);
      const written = await this.createItem(collection, converted);
      // The groups that named the contact by its old ItemId name the new one.
      if (written.ok && written.id && converted.item.kind === 'Contact') await this.relinkMember(collection, id, written.id);
      return written;
    }
    return this.createItem(collection, converted);
  }

  /** Groups of the folder whose members name `oldId`: their member list with `newId` instead (SetItemField). */
  private async relinkMember(collection: GroupwareCollection, oldId: string, newId: string): Promise<void> {
    const groups: string[] = [];
    for (let offset = 0; ; ) {
      const [message] = await this.call(
        'FindItem',
        '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>' +
          `<m:IndexedPageItemView MaxEntriesReturned="100" Offset="${offset}" BasePoint="Beginning"/>` +
          '<m:Restriction><t:IsEqualTo><t:FieldURI FieldURI="item:ItemClass"/><t:FieldURIOrConstant><t:Constant Value="IPM.DistList"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction>' +
          `<m:ParentFolderIds><t:FolderId Id="${escapeXml(collection.id)}"/></m:ParentFolderIds></m:FindItem>`,
      );
      if (!message?.isSuccess) throw this.serviceError('FindItem', message?.code ?? 'no answer');
      const root = firstChild(message.element, M, 'RootFolder');
      for (const item of elementChildren(firstChild(root, T, 'Items'))) {
        const id = attribute(firstChild(item, T, 'ItemId'), 'Id');
        if (id) groups.push(id);
      }
      const next = Number(attribute(root, 'IndexedPagingOffset'));
      if (attribute(root, 'IncludesLastItemInRange') !== 'false' || !Number.isFinite(next) || next <= offset) break;
      offset = next;
    }
    for (let i = 0; i < groups.length; i += EWS_BATCH_SIZE) {
      const batch = groups.slice(i, i + EWS_BATCH_SIZE);
      const messages = await this.getItems(batch, '<m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="distributionlist:Members"/></t:AdditionalProperties></m:ItemShape>');
      const changes: string[] = [];
      for (const message of messages) {
        const list = message.isSuccess ? elementChildren(firstChild(message.element, M, 'Items'))[0] : undefined;
        const members = firstChild(list, T, 'Members');
        const groupId = attribute(firstChild(list, T, 'ItemId'), 'Id');
        if (!members || !groupId) continue;
        const mailboxes = elementChildren(members).map((member) => firstChild(member, T, 'Mailbox'));
        if (!mailboxes.some((mailbox) => attribute(firstChild(mailbox, T, 'ItemId'), 'Id') === oldId)) continue;
        for (const mailbox of mailboxes) {
          const itemId = firstChild(mailbox, T, 'ItemId');
          if (attribute(itemId, 'Id') === oldId) {
            itemId!.setAttribute('Id', newId);
            itemId!.removeAttribute('ChangeKey');
          }
        }
        // What GetItem adds to a member that UpdateItem does not take.
        for (const member of elementChildren(members)) member.removeAttribute('Key');
        changes.push(`<t:ItemChange><t:ItemId Id="${escapeXml(groupId)}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="distributionlist:Members"/><t:DistributionList>${stripNs(members)}</t:DistributionList></t:SetItemField></t:Updates></t:ItemChange>`);
      }
      if (changes.length > 0) await this.call('UpdateItem', `<m:UpdateItem ConflictResolution="AutoResolve"><m:ItemChanges>${changes.join('')}</m:ItemChanges></m:UpdateItem>`);
    }
  }

  /** The mapping, with a group's members resolved to the ItemIds of their contacts in this folder. */
  private async convert(collection: GroupwareCollection, data: string): Promise<EwsWrite> {
    const known = this.contactsOf(collection);
    const lookup = (uid: string) => known.get(uid) ?? known.get(uid.replace(/^urn:uuid:/i, '')) ?? null;
    let converted = toEws(data, collection.kind, { contactIdOf: lookup });
    const unknown = converted.memberUids.filter((uid) => lookup(uid) === null);
    if (unknown.length > 0) {
      await this.findContacts(collection, unknown.flatMap((uid) => [uid, uid.replace(/^urn:uuid:/i, '')]));
      if (unknown.some((uid) => lookup(uid) !== null)) converted = toEws(data, collection.kind, { contactIdOf: lookup });
    }
    // The members this item goes without (as written, whatever is written meanwhile).
    this.unresolved.set(converted, converted.memberUids.filter((uid) => lookup(uid) === null).map(memberKey));
    return converted;
  }

  private contactsOf(collection: GroupwareCollection): Map<string, string> {
    let map = this.contactsByUid.get(collection.id);
    if (!map) {
      map = new Map();
      this.contactsByUid.set(collection.id, map);
    }
    // Contacts read by the source side of this endpoint (the copy reads the target's items once),
    // taken over when more were read (not on every write: an address book has thousands).
    if (this.mergedContactUids.get(collection.id) !== this.contactUids.size) {
      for (const [contactId, uid] of this.contactUids) if (uid && !map.has(uid)) map.set(uid, contactId);
      this.mergedContactUids.set(collection.id, this.contactUids.size);
    }
    return map;
  }

  /** Adds a contact just written to the groups written before it that name it. */
  private async addPendingMember(collection: GroupwareCollection, uid: string, contactId: string): Promise<void> {
    const key = memberKey(uid);
    for (const pending of this.pendingMembers.get(collection.id) ?? []) {
      if (pending.uids.delete(key)) await this.appendMember(pending.groupId, contactId);
    }
  }

  /** UpdateItem: one member more for the group, by its contact's ItemId. The group's new ChangeKey. */
  private async appendMember(groupId: string, contactId: string): Promise<string | null> {
    const [message] = await this.call(
      'UpdateItem',
      `<m:UpdateItem ConflictResolution="AutoResolve"><m:ItemChanges><t:ItemChange><t:ItemId Id="${escapeXml(groupId)}"/><t:Updates><t:AppendToItemField><t:FieldURI FieldURI="distributionlist:Members"/>` +
        `<t:DistributionList><t:Members><t:Member><t:Mailbox><t:MailboxType>Contact</t:MailboxType><t:ItemId Id="${escapeXml(contactId)}"/></t:Mailbox></t:Member></t:Members></t:DistributionList></t:AppendToItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`,
    );
    if (!message?.isSuccess) return null;
    return attribute(firstChild(elementChildren(firstChild(message.element, M, 'Items'))[0], T, 'ItemId'), 'ChangeKey') ?? null;
  }

  private forgetContact(collection: GroupwareCollection, id: string): void {
    const map = this.contactsByUid.get(collection.id);
    for (const [uid, contactId] of map ?? []) if (contactId === id) map!.delete(uid);
    this.contactUids.delete(id);
  }

  /** Items of the folder whose source-UID property is one of `uids`, by UID (FindItem, IsEqualTo restrictions). */
  private async findBySourceUid(collection: GroupwareCollection, uids: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    const wanted = [...new Set(uids)];
    for (let i = 0; i < wanted.length; i += FIND_UIDS) {
      const batch = wanted.slice(i, i + FIND_UIDS);
      const tests = batch.map((uid) => `<t:IsEqualTo>${SOURCE_UID_URI}<t:FieldURIOrConstant><t:Constant Value="${escapeXml(uid)}"/></t:FieldURIOrConstant></t:IsEqualTo>`);
      const restriction = tests.length === 1 ? tests[0]! : `<t:Or>${tests.join('')}</t:Or>`;
      for (let offset = 0; ; ) {
        const [message] = await this.call(
          'FindItem',
          `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>${SOURCE_UID_URI}</t:AdditionalProperties></m:ItemShape>` +
            `<m:IndexedPageItemView MaxEntriesReturned="100" Offset="${offset}" BasePoint="Beginning"/><m:Restriction>${restriction}</m:Restriction>` +
            `<m:ParentFolderIds><t:FolderId Id="${escapeXml(collection.id)}"/></m:ParentFolderIds></m:FindItem>`,
        );
        if (!message?.isSuccess) throw this.serviceError('FindItem', message?.code ?? 'no answer');
        const root = firstChild(message.element, M, 'RootFolder');
        for (const item of elementChildren(firstChild(root, T, 'Items'))) {
          const id = attribute(firstChild(item, T, 'ItemId'), 'Id');
          const uid = firstChild(firstChild(item, T, 'ExtendedProperty'), T, 'Value')?.textContent ?? undefined;
          if (id && uid !== undefined) out.set(uid, [...(out.get(uid) ?? []), id]);
        }
        const next = Number(attribute(root, 'IndexedPagingOffset'));
        if (attribute(root, 'IncludesLastItemInRange') !== 'false' || !Number.isFinite(next) || next <= offset) break;
        offset = next;
      }
    }
    return out;
  }

  private async findContacts(collection: GroupwareCollection, uids: string[]): Promise<void> {
    const found = await this.findBySourceUid(collection, uids);
    const map = this.contactsOf(collection);
    for (const [uid, ids] of found) if (ids[0]) map.set(uid, ids[0]);
  }

  private async changeKeyOf(id: string): Promise<string | null | undefined> {
    const [message] = await this.getItems([id], '<m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>');
    if (!message?.isSuccess) {
      if (message?.code === 'ErrorItemNotFound') return undefined;
      throw this.serviceError('GetItem', message?.code ?? 'no answer');
    }
    const item = elementChildren(firstChild(message.element, M, 'Items'))[0];
    return attribute(firstChild(item, T, 'ItemId'), 'ChangeKey') ?? null;
  }

  private async deleteItems(kind: GroupwareKind, idXml: string[]): Promise<ResponseMessage[]> {
    const attributes = kind === 'calendar' ? ' SendMeetingCancellations="SendToNone"' : kind === 'tasks' ? ' AffectedTaskOccurrences="AllOccurrences"' : '';
    const messages = await this.call('DeleteItem', `<m:DeleteItem DeleteType="HardDelete"${attributes}><m:ItemIds>${idXml.join('')}</m:ItemIds></m:DeleteItem>`);
    for (const message of messages) if (!message.isSuccess && message.code !== 'ErrorItemNotFound') throw this.serviceError('DeleteItem', message.code);
    return messages;
  }

  private async sendCreate(collection: GroupwareCollection, converted: EwsWrite): Promise<Created | { refused: string }> {
    // MessageDisposition "is only applicable to e-mail messages" (ref: createitem): none here.
    const send = collection.kind === 'calendar' ? ' SendMeetingInvitations="SendToNone"' : '';
    const [message] = await this.call(
      'CreateItem',
      `<m:CreateItem${send}><m:SavedItemFolderId><t:FolderId Id="${escapeXml(collection.id)}"/></m:SavedItemFolderId><m:Items>${inner(converted.xml)}</m:Items></m:CreateItem>`,
    );
    if (!message) throw this.serviceError('CreateItem', 'no answer');
    if (!message.isSuccess) return { refused: message.code };
    const item = elementChildren(firstChild(message.element, M, 'Items'))[0];
    const itemId = firstChild(item, T, 'ItemId');
    const id = attribute(itemId, 'Id');
    if (!id) throw this.serviceError('CreateItem', 'no ItemId');
    return { id, changeKey: attribute(itemId, 'ChangeKey') ?? null };
  }

  /**
   * CreateItem, once more after a failure that may have created the item (found by its source
   * UID and removed first); then occurrences, photo and the final ChangeKey.
   */
  private async createItem(collection: GroupwareCollection, converted: EwsWrite): Promise<WriteResult> {
    const uid = converted.item.extendedProperties.find((p) => p.propertyName === SOURCE_UID_PROPERTY.propertyName)?.value;
    let created: Created | { refused: string };
    try {
      created = await this.sendCreate(collection, converted);
    } catch (error) {
      const fault = soapFaultCode(error);
      if (fault) return { ok: false, isConflict: false, reason: refusal(collection.kind, fault) };
      if (!mayHaveHappened(error) || !uid) throw error;
      const there = (await this.findBySourceUid(collection, [uid])).get(uid) ?? [];
      if (there.length > 0) await this.deleteItems(collection.kind, there.map((id) => `<t:ItemId Id="${escapeXml(id)}"/>`));
      created = await this.sendCreate(collection, converted);
    }
    if ('refused' in created) return { ok: false, isConflict: false, reason: refusal(collection.kind, created.refused) };

    const notMapped: NotMappedNote[] = [...converted.notMapped];
    let changeKey = created.changeKey;
    let isStale = false;
    const placed = converted.occurrences.filter((o) => o.instanceIndex !== null);
    if (placed.length < converted.occurrences.length) notMapped.push({ component: 'VEVENT', property: 'RECURRENCE-ID', reason: 'an overridden instance that is no occurrence of the series as Exchange repeats it: not kept' });
    if (placed.length > 0) {
      const changes = placed.map((o) => {
        const { updates, notMapped: lost } = occurrenceUpdates(converted.xml, o.xml);
        for (const note of lost) if (!notMapped.some((n) => n.property === note.property && n.reason === note.reason)) notMapped.push(note);
        return `<t:ItemChange><t:OccurrenceItemId RecurringMasterId="${escapeXml(created.id)}" InstanceIndex="${o.instanceIndex}"/><t:Updates>${updates}</t:Updates></t:ItemChange>`;
      });
      const messages = await this.call('UpdateItem', `<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges>${changes.join('')}</m:ItemChanges></m:UpdateItem>`);
      messages.forEach((message) => {
        if (!message.isSuccess) notMapped.push({ component: 'VEVENT', property: 'RECURRENCE-ID', reason: `an overridden instance Exchange refused (${message.code}): shown as the series has it` });
      });
      isStale = true;
    }
    const deleted = converted.deletedOccurrences.filter((d) => d.instanceIndex !== null);
    if (deleted.length < converted.deletedOccurrences.length) notMapped.push({ component: 'VEVENT', property: 'EXDATE', reason: 'a left-out date that is no occurrence of the series as Exchange repeats it' });
    if (deleted.length > 0) {
      const ids = deleted.map((d) => `<t:OccurrenceItemId RecurringMasterId="${escapeXml(created.id)}" InstanceIndex="${d.instanceIndex}"/>`);
      const messages = await this.call('DeleteItem', `<m:DeleteItem DeleteType="HardDelete" SendMeetingCancellations="SendToNone"><m:ItemIds>${ids.join('')}</m:ItemIds></m:DeleteItem>`);
      messages.forEach((message) => {
        // Deleted already: the request was sent again after a busy answer to another of its ids.
        if (!message.isSuccess && message.code !== 'ErrorCalendarOccurrenceIsDeletedFromRecurrence') {
          notMapped.push({ component: 'VEVENT', property: 'EXDATE', reason: `a left-out occurrence Exchange refused to delete (${message.code})` });
        }
      });
      isStale = true;
    }
    if (converted.photoXml) {
      const [message] = await this.call('CreateAttachment', `<m:CreateAttachment><m:ParentItemId Id="${escapeXml(created.id)}"/><m:Attachments>${inner(converted.photoXml)}</m:Attachments></m:CreateAttachment>`);
      const attachmentId = message?.isSuccess ? firstChild(firstChild(firstChild(message.element, M, 'Attachments'), T, 'FileAttachment'), T, 'AttachmentId') : undefined;
      if (!message?.isSuccess) notMapped.push({ component: 'VCARD', property: 'PHOTO', reason: `Exchange refused the photo (${message?.code ?? 'no answer'})` });
      else if (attribute(attachmentId, 'RootItemChangeKey')) changeKey = attribute(attachmentId, 'RootItemChangeKey')!;
      else isStale = true;
    }
    // An occurrence's answer carries the occurrence's ChangeKey, not the master's.
    if (isStale) changeKey = (await this.changeKeyOf(created.id)) ?? changeKey;
    if (collection.kind === 'contacts' && uid && converted.item.kind === 'Contact') {
      this.contactsOf(collection).set(uid, created.id);
      this.contactUids.set(created.id, uid);
      // Taken over already.
      this.mergedContactUids.set(collection.id, this.contactUids.size);
      await this.addPendingMember(collection, uid, created.id);
    }
    if (converted.item.kind === 'DistributionList') {
      const known = this.contactsOf(collection);
      const missing = this.unresolved.get(converted) ?? [];
      if (missing.length > 0) {
        const pending = { groupId: created.id, uids: new Set(missing) };
        this.pendingMembers.set(collection.id, [...(this.pendingMembers.get(collection.id) ?? []), pending]);
        const lost = notMapped.findIndex((n) => n.property === 'MEMBER');
        if (lost >= 0) notMapped[lost] = { component: 'VCARD', property: 'MEMBER', reason: 'a member by UID whose contact was not on Exchange when the group was written: added to the group when the contact is copied, else left out' };
        // A member written while the group was being written.
        for (const key of missing) {
          const contactId = known.get(key) ?? known.get(`urn:uuid:${key}`);
          if (contactId && pending.uids.delete(key)) changeKey = (await this.appendMember(created.id, contactId)) ?? changeKey;
        }
      }
    }
    return { ok: true, id: created.id, version: changeKey, ...(notMapped.length > 0 ? { notMapped } : {}) };
  }
}

/** A member URI and a contact's UID alike: urn:uuid:X names the contact X. */
const memberKey = (uid: string) => uid.replace(/^urn:uuid:/i, '');

const stripNs = (node: Element) => String(node).replace(/ xmlns:t="[^"]*"/g, '');

/** Fields of a calendar item element by name (the extended properties by their tag or name). */
function fieldsOf(xml: string): Map<string, Element> {
  const root = parseXml(xml)?.documentElement;
  if (!root) throw new EwsMappingError('the mapping wrote broken XML');
  const out = new Map<string, Element>();
  for (const field of elementChildren(root)) {
    const uri = field.localName === 'ExtendedProperty' ? firstChild(field, T, 'ExtendedFieldURI') : undefined;
    out.set(uri ? `ExtendedProperty:${attribute(uri, 'PropertyTag') ?? attribute(uri, 'PropertyName') ?? ''}` : field.localName, field);
  }
  return out;
}

/** Fields that always come with an occurrence, or that it cannot have of its own. */
const KEPT_BY_OCCURRENCE = new Set(['UID', 'Recurrence', 'Start', 'End', 'StartTimeZone', 'EndTimeZone', 'IsAllDayEvent']);

/**
 * An occurrence's fields as UpdateItem sets them: one SetItemField per field the override has,
 * one DeleteItemField per field of the series it lacks (else it would show the series' value).
 * The organizer (extended properties of the sender) is the series': an override with another
 * one is reported.
 */
function occurrenceUpdates(masterXml: string, xml: string): { updates: string; notMapped: NotMappedNote[] } {
  const master = fieldsOf(masterXml);
  const own = fieldsOf(xml);
  const updates: string[] = [];
  const notMapped: NotMappedNote[] = [];
  const uriOf = (name: string) => `<t:FieldURI FieldURI="${ITEM_FIELDS.has(name) ? 'item' : 'calendar'}:${name}"/>`;
  for (const [key, field] of own) {
    if (SERIES_FIELDS.has(key) || key.startsWith('ExtendedProperty:')) continue;
    updates.push(`<t:SetItemField>${uriOf(key)}<t:CalendarItem>${stripNs(field)}</t:CalendarItem></t:SetItemField>`);
  }
  for (const key of master.keys()) {
    if (own.has(key) || KEPT_BY_OCCURRENCE.has(key) || key.startsWith('ExtendedProperty:')) continue;
    updates.push(`<t:DeleteItemField>${uriOf(key)}</t:DeleteItemField>`);
  }
  const sender = (fields: Map<string, Element>) => [...fields].filter(([key]) => key.startsWith('ExtendedProperty:') && key !== `ExtendedProperty:${SOURCE_UID_PROPERTY.propertyName}`).map(([, field]) => stripNs(field)).sort().join('');
  if (sender(master) !== sender(own)) notMapped.push({ component: 'VEVENT', property: 'ORGANIZER', reason: 'an overridden instance has the organizer of its series: Exchange keeps one per series' });
  return { updates: updates.join(''), notMapped };
}
