import {
  attendeeEmails, bump, checkExtendedUri, defaultFolderOf, distinguishedFolderId, EwsError, FIND_COUNT_LIMIT, extendedKey, fieldApplies, fieldName, indexedField, isNotInFind, isReadOnly,
  ewsDateTime, kindOrder, occurrencesOf, SchemaError, type DistinguishedFolder, type FolderRecord, type ItemKind, type ItemRecord, type Mailbox, type MailboxStore, type SentMeetingMessage, type Shape,
} from './mailbox';
import { attr, children, escapeXml, is, NS, render, tChild, tElement, tText } from './xml';

/**
 * The EWS operations on groupware folders and items. Each answers like Exchange: one
 * ResponseMessage per requested id, ResponseClass Success or Error with its ResponseCode
 * (ref:responsecode), the whole request failing only on schema errors (thrown SchemaError).
 */

export interface OperationContext {
  store: MailboxStore;
  mailbox: Mailbox;
  /** Windows zone id of the request's TimeZoneContext, if any. */
  timeZoneContext?: string;
  /** Distinguished folders the simulation hides (ErrorFolderNotFound). */
  missingFolders: DistinguishedFolder[];
  /** Other users' addresses: asking for their mailbox is ErrorAccessDenied, an unknown one ErrorNonExistentMailbox. */
  knownAddresses: string[];
}

/** What an occurrence holds for a field of its series deleted on it (DeleteItemField on an OccurrenceItemId). */
export const REMOVED = 'RemovedFromOccurrence';

const DISTINGUISHED: DistinguishedFolder[] = ['calendar', 'contacts', 'tasks', 'inbox', 'msgfolderroot'];

function message(operation: string, body: string): string {
  return `<m:${operation}ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>${body}</m:${operation}ResponseMessage>`;
}

function errorMessage(operation: string, error: EwsError, container = ''): string {
  return `<m:${operation}ResponseMessage ResponseClass="Error"><m:MessageText>${escapeXml(error.message)}</m:MessageText><m:ResponseCode>${error.code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>${container}</m:${operation}ResponseMessage>`;
}

function each(operation: string, elements: Element[], container: string, run: (element: Element) => string): string {
  return elements
    .map((element) => {
      try {
        return message(operation, run(element));
      } catch (error) {
        if (error instanceof EwsError) return errorMessage(operation, error, container ? `<m:${container}/>` : '');
        throw error;
      }
    })
    .join('');
}

function required(parent: Element, localName: string, namespace: string = NS.messages): Element {
  const element = children(parent).find((candidate) => is(candidate, namespace, localName));
  if (!element) throw new SchemaError(`The element '${parent.localName}' has incomplete content. Expected: ${localName}.`);
  return element;
}

function resolveFolder(context: OperationContext, idElement: Element): FolderRecord {
  if (is(idElement, NS.types, 'DistinguishedFolderId')) {
    const name = attr(idElement, 'Id') ?? '';
    if (!DISTINGUISHED.includes(name as DistinguishedFolder)) throw new SchemaError(`The DistinguishedFolderId Id '${name}' is not supported by this test server.`);
    const mailboxElement = tChild(idElement, 'Mailbox');
    const address = mailboxElement ? tText(mailboxElement, 'EmailAddress')?.trim().toLowerCase() : context.mailbox.email;
    if (!address) throw new SchemaError('t:Mailbox requires t:EmailAddress.');
    if (address !== context.mailbox.email) {
      throw context.knownAddresses.includes(address) ? new EwsError('ErrorAccessDenied', 'Access is denied. Check credentials and try again.') : new EwsError('ErrorNonExistentMailbox', 'No mailbox with such guid.');
    }
    if (context.missingFolders.includes(name as DistinguishedFolder)) throw new EwsError('ErrorFolderNotFound', 'The specified folder could not be found in the store.');
    return context.store.folder(context.mailbox, distinguishedFolderId(context.mailbox.email, name as DistinguishedFolder))!;
  }
  if (is(idElement, NS.types, 'FolderId')) {
    const folder = context.store.folder(context.mailbox, attr(idElement, 'Id') ?? '');
    if (!folder) throw new EwsError('ErrorItemNotFound', 'The specified object was not found in the store.');
    if (folder.distinguished && context.missingFolders.includes(folder.distinguished)) throw new EwsError('ErrorFolderNotFound', 'The specified folder could not be found in the store.');
    return folder;
  }
  throw new SchemaError(`Unexpected element ${idElement.localName} in a folder id list.`);
}

function folderShape(operation: Element): { baseShape: string; fields: string[] } {
  const shape = required(operation, 'FolderShape');
  const baseShape = tText(shape, 'BaseShape')?.trim();
  if (!baseShape || !['IdOnly', 'Default', 'AllProperties'].includes(baseShape)) throw new SchemaError(`The element '${operation.localName}' requires m:FolderShape with t:BaseShape IdOnly, Default or AllProperties.`);
  const fields: string[] = [];
  for (const property of children(tChild(shape, 'AdditionalProperties') ?? tElement('X'))) {
    const uri = attr(property, 'FieldURI') ?? '';
    if (!is(property, NS.types, 'FieldURI') || !/^folder:\w+$/.test(uri)) throw new SchemaError(`The AdditionalProperties entry ${property.localName} ${uri} is invalid for ${operation.localName}.`);
    fields.push(uri.slice('folder:'.length));
  }
  return { baseShape, fields };
}

function renderFolder(context: OperationContext, folder: FolderRecord, shape: { baseShape: string; fields: string[] }): string {
  const values: Record<string, string> = {
    ParentFolderId: '',
    FolderClass: folder.folderClass,
    DisplayName: folder.displayName,
    TotalCount: String(context.mailbox.items.filter((item) => item.folderId === folder.id).length),
    ChildFolderCount: String(context.mailbox.folders.filter((other) => other.parentId === folder.id).length),
    UnreadCount: '0',
  };
  const wanted = new Set(shape.baseShape === 'IdOnly' ? shape.fields : ['FolderClass', 'DisplayName', 'TotalCount', 'ChildFolderCount', 'UnreadCount', ...shape.fields]);
  if (folder.element !== 'Folder') wanted.delete('UnreadCount');
  const parent = folder.parentId ? context.store.folder(context.mailbox, folder.parentId) : undefined;
  // Schema order of FolderType / BaseFolderType.
  const properties = ['ParentFolderId', 'FolderClass', 'DisplayName', 'TotalCount', 'ChildFolderCount', 'UnreadCount']
    .filter((name) => wanted.has(name))
    .map((name) => (name === 'ParentFolderId' ? (parent ? `<t:ParentFolderId Id="${parent.id}" ChangeKey="${parent.changeKey}"/>` : '') : `<t:${name}>${escapeXml(values[name] ?? '')}</t:${name}>`))
    .join('');
  return `<t:${folder.element}><t:FolderId Id="${folder.id}" ChangeKey="${folder.changeKey}"/>${properties}</t:${folder.element}>`;
}

// --- GetFolder (ref:getfolder-operation) -----------------------------------------------------

export function getFolder(context: OperationContext, operation: Element): string {
  const shape = folderShape(operation);
  const ids = children(required(operation, 'FolderIds'));
  if (ids.length === 0) throw new SchemaError("The element 'GetFolder' requires m:FolderIds with at least one folder id.");
  return each('GetFolder', ids, 'Folders', (id) => `<m:Folders>${renderFolder(context, resolveFolder(context, id), shape)}</m:Folders>`);
}

// --- FindFolder (ref:findfolder-operation; Traversal Shallow / Deep; IndexedPageFolderView) ---

function paging(view: Element | undefined, total: number): { start: number; end: number; attributes: string } {
  if (!view) return { start: 0, end: total, attributes: `TotalItemsInView="${total}" IncludesLastItemInRange="true"` };
  // ref:indexedpageitemview: Offset and BasePoint are required, MaxEntriesReturned optional.
  const offsetText = attr(view, 'Offset');
  const basePoint = attr(view, 'BasePoint');
  if (offsetText === null || !/^-?\d+$/.test(offsetText)) throw new SchemaError("The required attribute 'Offset' is missing or not an xs:int.");
  if (basePoint !== 'Beginning' && basePoint !== 'End') throw new SchemaError("The required attribute 'BasePoint' must be Beginning or End.");
  const maxText = attr(view, 'MaxEntriesReturned');
  if (maxText !== null && !/^\d+$/.test(maxText)) throw new SchemaError('MaxEntriesReturned is not an xs:int.');
  const offset = Number(offsetText);
  if (offset < 0) throw new EwsError('ErrorInvalidIndexedPagingParameters', 'Invalid indexed paging parameters.');
  // The throttling policy's EWSFindCountLimit caps a page (ref: ews-throttling-in-exchange).
  const max = Math.min(maxText === null ? Number.MAX_SAFE_INTEGER : Number(maxText), FIND_COUNT_LIMIT);
  if (max < 1) throw new EwsError('ErrorInvalidIndexedPagingParameters', 'MaxEntriesReturned must be at least 1.');
  if (basePoint === 'Beginning') {
    const start = Math.min(offset, total);
    const end = Math.min(start + max, total);
    return { start, end, attributes: `IndexedPagingOffset="${end}" TotalItemsInView="${total}" IncludesLastItemInRange="${end >= total}"` };
  }
  // Seeking from the end moves back from total - Offset by the page size; the next offset is counted from the end (the page's remark: 100 items, Offset 25, 10 returned → items 65-75, next offset 36).
  const end = Math.max(total - offset, 0);
  const start = Math.max(end - max, 0);
  return { start, end, attributes: `IndexedPagingOffset="${total - start + 1}" TotalItemsInView="${total}" IncludesLastItemInRange="${start <= 0}"` };
}

export function findFolder(context: OperationContext, operation: Element): string {
  const traversal = attr(operation, 'Traversal');
  if (traversal !== 'Shallow' && traversal !== 'Deep' && traversal !== 'SoftDeleted') throw new SchemaError("The required attribute 'Traversal' must be Shallow, Deep or SoftDeleted.");
  const shape = folderShape(operation);
  const view = children(operation).find((element) => is(element, NS.messages, 'IndexedPageFolderView'));
  const restriction = children(operation).find((element) => is(element, NS.messages, 'Restriction'));
  const parents = children(required(operation, 'ParentFolderIds'));
  return each('FindFolder', parents, 'RootFolder', (id) => {
    const parent = resolveFolder(context, id);
    const found: FolderRecord[] = [];
    const walk = (folderId: string) => {
      for (const folder of context.mailbox.folders.filter((candidate) => candidate.parentId === folderId)) {
        if (folder.distinguished && context.missingFolders.includes(folder.distinguished)) continue;
        found.push(folder);
        if (traversal === 'Deep') walk(folder.id);
      }
    };
    if (traversal !== 'SoftDeleted') walk(parent.id);
    const matching = restriction ? found.filter((folder) => matchesFolder(restriction, folder)) : found;
    const page = paging(view, matching.length);
    return `<m:RootFolder ${page.attributes}><t:Folders>${matching.slice(page.start, page.end).map((folder) => renderFolder(context, folder, shape)).join('')}</t:Folders></m:RootFolder>`;
  });
}

function matchesFolder(restriction: Element, folder: FolderRecord): boolean {
  const values: Record<string, string> = { 'folder:FolderClass': folder.folderClass, 'folder:DisplayName': folder.displayName };
  return evaluate(children(restriction)[0], (uri) => (uri.FieldURI ? values[uri.FieldURI] : undefined));
}

// --- Restrictions (ref:restriction, ref:isequalto, ref:fielduriorconstant) -------------------

function evaluate(expression: Element | undefined, valueOf: (uri: Record<string, string>, element: Element) => string | undefined): boolean {
  if (!expression) throw new SchemaError('m:Restriction requires one search expression.');
  const name = expression.localName;
  if (name === 'And') return children(expression).every((part) => evaluate(part, valueOf));
  if (name === 'Or') return children(expression).some((part) => evaluate(part, valueOf));
  if (name === 'Not') return !evaluate(children(expression)[0], valueOf);
  if (name === 'Exists') {
    const [uri] = children(expression);
    return uri !== undefined && valueOf(uriAttributes(uri), uri) !== undefined;
  }
  const comparisons = ['IsEqualTo', 'IsNotEqualTo', 'IsGreaterThan', 'IsGreaterThanOrEqualTo', 'IsLessThan', 'IsLessThanOrEqualTo'];
  if (!comparisons.includes(name)) throw new SchemaError(`The search expression '${name}' is not supported by this test server.`);
  const [uri, constantHolder, ...rest] = children(expression);
  if (!uri || !constantHolder || rest.length || !is(constantHolder, NS.types, 'FieldURIOrConstant')) throw new SchemaError(`t:${name} requires a property path followed by t:FieldURIOrConstant.`);
  const constant = tChild(constantHolder, 'Constant');
  if (!constant || attr(constant, 'Value') === null) throw new SchemaError('t:FieldURIOrConstant must hold t:Constant with a Value attribute.');
  const actual = valueOf(uriAttributes(uri), uri);
  // A missing property matches no comparison, not even IsNotEqualTo (MAPI restriction semantics).
  if (actual === undefined) return false;
  // silent on case: Exchange compares strings ignoring case; so does this server.
  const left = actual.toLowerCase();
  const right = (attr(constant, 'Value') ?? '').toLowerCase();
  switch (name) {
    case 'IsEqualTo':
      return left === right;
    case 'IsNotEqualTo':
      return left !== right;
    case 'IsGreaterThan':
      return left > right;
    case 'IsGreaterThanOrEqualTo':
      return left >= right;
    case 'IsLessThan':
      return left < right;
    default:
      return left <= right;
  }
}

function uriAttributes(uri: Element): Record<string, string> {
  const out: Record<string, string> = { element: uri.localName };
  for (let i = 0; i < uri.attributes.length; i++) {
    const attribute = uri.attributes.item(i);
    if (attribute && !attribute.name.startsWith('xmlns')) out[attribute.localName ?? attribute.name] = attribute.value;
  }
  return out;
}

function itemValue(item: ItemRecord, uri: Record<string, string>): string | undefined {
  if (uri.element === 'ExtendedFieldURI') {
    const { element: _element, ...rest } = uri;
    checkExtendedUri(rest);
    return item.extended.get(extendedKey(rest))?.value;
  }
  if (uri.element === 'FieldURI' && uri.FieldURI) {
    if (fieldApplies(uri.FieldURI, item.kind) === undefined) throw new SchemaError(`The FieldURI '${uri.FieldURI}' is not valid.`);
    if (!fieldApplies(uri.FieldURI, item.kind)) return undefined;
    const name = fieldName(uri.FieldURI);
    if (name === 'ItemClass') return { CalendarItem: 'IPM.Appointment', Contact: 'IPM.Contact', DistributionList: 'IPM.DistList', Task: 'IPM.Task' }[item.kind];
    return item.props.get(name)?.textContent ?? undefined;
  }
  throw new SchemaError(`Unsupported property path ${uri.element} in a restriction.`);
}

// --- Item shapes (ref:itemshape, ref:additionalproperties, ref:extendedfielduri) ---------------

function itemShape(operation: Element, mode: 'get' | 'find'): Shape {
  const shape = required(operation, 'ItemShape');
  const baseShape = tText(shape, 'BaseShape')?.trim() as Shape['baseShape'] | undefined;
  if (!baseShape || !['IdOnly', 'Default', 'AllProperties'].includes(baseShape)) throw new SchemaError('m:ItemShape requires t:BaseShape IdOnly, Default or AllProperties.');
  // ref:includemimecontent: optional, default false.
  const includeMime = tText(shape, 'IncludeMimeContent')?.trim() === 'true';
  if (includeMime && mode === 'find') throw new EwsError('ErrorInvalidPropertyRequest', 'MimeContent cannot be requested in FindItem.');
  const fields: string[] = [];
  const extended: Record<string, string>[] = [];
  for (const property of children(tChild(shape, 'AdditionalProperties') ?? tElement('X'))) {
    if (is(property, NS.types, 'FieldURI')) {
      const uri = attr(property, 'FieldURI') ?? '';
      if (fieldApplies(uri, 'CalendarItem') === undefined) throw new SchemaError(`The FieldURI '${uri}' is not valid.`);
      const name = fieldName(uri);
      if (mode === 'find' && isNotInFind(name)) throw new EwsError('ErrorInvalidPropertyRequest', `The property ${uri} can't be used in FindItem requests.`);
      fields.push(name);
    } else if (is(property, NS.types, 'ExtendedFieldURI')) {
      const { element: _element, ...uri } = uriAttributes(property);
      checkExtendedUri(uri);
      extended.push(uri);
    } else if (is(property, NS.types, 'IndexedFieldURI')) {
      const field = indexedField(attr(property, 'FieldURI') ?? '');
      if (!field) throw new SchemaError(`The IndexedFieldURI '${attr(property, 'FieldURI') ?? ''}' is not valid.`);
      fields.push(field.list);
    } else {
      throw new SchemaError(`Unexpected element ${property.localName} in t:AdditionalProperties.`);
    }
  }
  return { baseShape, fields, extended, includeMime };
}

// --- FindItem (ref:finditem-operation, ref:indexedpageitemview) -------------------------------

export function findItem(context: OperationContext, operation: Element): string {
  const traversal = attr(operation, 'Traversal');
  if (traversal !== 'Shallow' && traversal !== 'Deep' && traversal !== 'SoftDeleted' && traversal !== 'Associated') throw new SchemaError("The required attribute 'Traversal' is missing or invalid.");
  // Deep traversal of items is for search folders only (ref:finditem: "Deep ... only for search folders").
  if (traversal === 'Deep') throw new EwsError('ErrorInvalidRequest', 'Deep traversal is only supported for search folders.');
  const shape = itemShape(operation, 'find');
  const view = children(operation).find((element) => is(element, NS.messages, 'IndexedPageItemView'));
  const calendarView = children(operation).find((element) => is(element, NS.messages, 'CalendarView'));
  if (calendarView) throw new EwsError('ErrorInvalidRequest', 'This test server does not implement CalendarView; page the folder with IndexedPageItemView.');
  const restriction = children(operation).find((element) => is(element, NS.messages, 'Restriction'));
  const parents = children(required(operation, 'ParentFolderIds'));
  return each('FindItem', parents, 'RootFolder', (id) => {
    const folder = resolveFolder(context, id);
    // silent on the default order; creation order keeps paging stable.
    const inFolder = traversal === 'Shallow' ? context.mailbox.items.filter((item) => item.folderId === folder.id) : [];
    const matching = restriction ? inFolder.filter((item) => evaluate(children(restriction)[0], (uri) => itemValue(item, uri))) : inFolder;
    const page = paging(view, matching.length);
    const items = matching.slice(page.start, page.end).map((item) => context.store.renderItem(context.mailbox, item, shape, 'find')).join('');
    return `<m:RootFolder ${page.attributes}><t:Items>${items}</t:Items></m:RootFolder>`;
  });
}

// --- GetItem (ref:getitem-operation, ref:occurrenceitemid) ------------------------------------

export function getItem(context: OperationContext, operation: Element): string {
  const shape = itemShape(operation, 'get');
  const ids = children(required(operation, 'ItemIds'));
  if (ids.length === 0) throw new SchemaError("The element 'ItemIds' has incomplete content.");
  return each('GetItem', ids, 'Items', (id) => {
    const { item, occurrence } = context.store.resolve(context.mailbox, id);
    return `<m:Items>${context.store.renderItem(context.mailbox, item, shape, 'get', occurrence)}</m:Items>`;
  });
}

// --- CreateFolder (ref:createfolder-operation) -------------------------------------------------

export function createFolder(context: OperationContext, operation: Element): string {
  const parentHolder = required(operation, 'ParentFolderId');
  const [parentId] = children(parentHolder);
  if (!parentId) throw new SchemaError('m:ParentFolderId requires a folder id.');
  const folders = children(required(operation, 'Folders'));
  let parent: FolderRecord;
  try {
    parent = resolveFolder(context, parentId);
  } catch (error) {
    if (error instanceof EwsError) return folders.map(() => errorMessage('CreateFolder', error, '<m:Folders/>')).join('');
    throw error;
  }
  return each('CreateFolder', folders, 'Folders', (element) => {
    if (!['Folder', 'CalendarFolder', 'ContactsFolder', 'TasksFolder'].includes(element.localName) || element.namespaceURI !== NS.types) throw new SchemaError(`Unexpected element ${element.localName} in m:Folders.`);
    const displayName = tText(element, 'DisplayName');
    if (!displayName?.trim()) throw new EwsError('ErrorInvalidFolderId', 'A folder requires a DisplayName.');
    const folderClass = tText(element, 'FolderClass')?.trim();
    const folder = context.store.createFolder(context.mailbox, parent.id, displayName, element.localName as FolderRecord['element'], folderClass);
    return `<m:Folders><t:${folder.element}><t:FolderId Id="${folder.id}" ChangeKey="${folder.changeKey}"/></t:${folder.element}></m:Folders>`;
  });
}

// --- Meeting messages (ref:createitem-operation-calendar-item, ref:updateitem, ref:deleteitem) --

function record(context: OperationContext, sent: SentMeetingMessage): void {
  if (sent.recipients.length) context.mailbox.sent.push(sent);
}

// --- CreateItem (ref:createitem; SendMeetingInvitations "is required for calendar items") -------

export function createItem(context: OperationContext, operation: Element): string {
  const sendInvitations = attr(operation, 'SendMeetingInvitations');
  const disposition = attr(operation, 'MessageDisposition');
  if (disposition !== null && !['SaveOnly', 'SendOnly', 'SendAndSaveCopy'].includes(disposition)) throw new SchemaError(`MessageDisposition '${disposition}' is invalid.`);
  if (sendInvitations !== null && !['SendToNone', 'SendOnlyToAll', 'SendToAllAndSaveCopy'].includes(sendInvitations)) throw new SchemaError(`SendMeetingInvitations '${sendInvitations}' is invalid.`);
  const savedHolder = children(operation).find((element) => is(element, NS.messages, 'SavedItemFolderId'));
  const items = children(required(operation, 'Items'));
  return each('CreateItem', items, 'Items', (element) => {
    const kind = element.localName as ItemKind;
    if (kind === 'CalendarItem' && sendInvitations === null) throw new EwsError('ErrorSendMeetingInvitationsRequired', 'SendMeetingInvitations attribute is required for calendar items.');
    const folder = savedHolder ? resolveFolder(context, children(savedHolder)[0] ?? tElement('None')) : context.store.folder(context.mailbox, distinguishedFolderId(context.mailbox.email, defaultFolderOf(kind)));
    if (!folder) throw new EwsError('ErrorFolderNotFound', 'The specified folder could not be found in the store.');
    const item = context.store.createItem(context.mailbox, folder.id, element, context.timeZoneContext);
    if (kind === 'CalendarItem' && sendInvitations !== 'SendToNone') {
      record(context, { kind: 'request', recipients: attendeeEmails(item.props), itemId: item.id, operation: 'CreateItem' });
    }
    return `<m:Items><t:${kind}><t:ItemId Id="${item.id}" ChangeKey="${item.changeKey}"/></t:${kind}></m:Items>`;
  });
}

// --- UpdateItem (ref:updateitem, ref:setitemfield, ref:deleteitemfield, ref:conflictresolution) --

export function updateItem(context: OperationContext, operation: Element): string {
  const conflict = attr(operation, 'ConflictResolution');
  if (!conflict || !['NeverOverwrite', 'AutoResolve', 'AlwaysOverwrite'].includes(conflict)) throw new SchemaError("The required attribute 'ConflictResolution' is missing or invalid.");
  const send = attr(operation, 'SendMeetingInvitationsOrCancellations');
  if (send !== null && !['SendToNone', 'SendOnlyToAll', 'SendOnlyToChanged', 'SendToAllAndSaveCopy', 'SendToChangedAndSaveCopy'].includes(send)) throw new SchemaError(`SendMeetingInvitationsOrCancellations '${send}' is invalid.`);
  const changes = children(required(operation, 'ItemChanges'));
  return each('UpdateItem', changes, 'Items', (change) => {
    const [idElement, updates] = children(change);
    if (!idElement || !updates || !is(updates, NS.types, 'Updates')) throw new SchemaError('t:ItemChange requires an item id and t:Updates.');
    const { item, occurrence, changeKey } = context.store.resolve(context.mailbox, idElement);
    if (item.kind === 'CalendarItem' && send === null) throw new EwsError('ErrorSendMeetingInvitationsRequired', 'SendMeetingInvitationsOrCancellations attribute is required for calendar items.');
    // A stale ChangeKey: NeverOverwrite refuses, AutoResolve and AlwaysOverwrite apply (ref:conflictresolution).
    if (changeKey && changeKey !== item.changeKey && conflict === 'NeverOverwrite') throw new EwsError('ErrorIrresolvableConflict', 'The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.');
    const before = attendeeEmails(item.props);
    const target = occurrence ? (item.exceptions.get(occurrence.originalStart) ?? new Map<string, Element>()) : new Map(item.props);
    // An occurrence's extended properties are its own; the series' show where it has none.
    const extended = new Map(occurrence ? (item.exceptionExtended?.get(occurrence.originalStart) ?? []) : item.extended);
    for (const update of children(updates)) applyUpdate(update, item.kind, target, extended, Boolean(occurrence));
    if (occurrence) {
      checkCrossing(item, occurrence, target);
      // The occurrence's own times, then what the change sets, without the series' pattern.
      const times = new Map<string, Element>([['Start', tElement('Start', ewsDateTime(occurrence.start))], ['End', tElement('End', ewsDateTime(occurrence.end))]]);
      const props = new Map([...[...item.props].filter(([name]) => name !== 'Recurrence'), ...times, ...target]);
      for (const [name, element] of target) if (element.localName === REMOVED) props.delete(name);
      context.store.validate({ ...item, props });
      item.exceptions.set(occurrence.originalStart, target);
    } else {
      context.store.validate({ ...item, props: target });
      item.props.clear();
      for (const [name, element] of target) item.props.set(name, element);
      // A changed pattern drops the series' exceptions, as Outlook and Exchange do.
      if (target.get('Recurrence') !== undefined && render(target.get('Recurrence')!) !== '' && item.exceptions.size && !occurrence && changedRecurrence(updates)) {
        item.exceptions.clear();
        item.exceptionExtended?.clear();
        item.deleted.clear();
      }
    }
    if (occurrence) {
      item.exceptionExtended ??= new Map();
      item.exceptionExtended.set(occurrence.originalStart, extended);
    } else {
      item.extended = extended;
    }
    bump(item);
    if (item.kind === 'CalendarItem' && send !== 'SendToNone') {
      const after = attendeeEmails(item.props);
      const toChanged = send === 'SendOnlyToChanged' || send === 'SendToChangedAndSaveCopy';
      const added = after.filter((address) => !before.includes(address));
      const removed = before.filter((address) => !after.includes(address));
      record(context, { kind: 'update', recipients: toChanged ? added : after, itemId: item.id, operation: 'UpdateItem' });
      record(context, { kind: 'cancel', recipients: removed, itemId: item.id, operation: 'UpdateItem' });
    }
    const id = occurrence ? Buffer.from(`OCC:${item.id}:${occurrence.index}`).toString('base64') : item.id;
    return `<m:Items><t:${item.kind}><t:ItemId Id="${id}" ChangeKey="${item.changeKey}"/></t:${item.kind}></m:Items><m:ConflictResults><t:Count>0</t:Count></m:ConflictResults>`;
  });
}

function changedRecurrence(updates: Element): boolean {
  return children(updates).some((update) => children(update)[0]?.getAttribute('FieldURI') === 'calendar:Recurrence');
}

/** ErrorOccurrenceCrossingBoundary: a modified occurrence may not move onto or past the day of a neighbouring occurrence. */
function checkCrossing(item: ItemRecord, occurrence: { index: number; originalStart: number }, target: Map<string, Element>): void {
  const start = target.get('Start')?.textContent;
  if (!start) return;
  const all = occurrenceStartsOf(item);
  const day = (ms: number) => Math.floor(ms / 86_400_000);
  const newDay = day(Date.parse(start));
  const previous = all[occurrence.index - 2];
  const next = all[occurrence.index];
  if ((previous !== undefined && newDay <= day(previous)) || (next !== undefined && newDay >= day(next))) {
    throw new EwsError('ErrorOccurrenceCrossingBoundary', 'An occurrence cannot be moved onto or past the day of a neighbouring occurrence.');
  }
}

/** Current starts of the series' occurrences (a modified one at its new time). */
function occurrenceStartsOf(item: ItemRecord): number[] {
  return occurrencesOf(item).map((o) => o.start);
}

function applyUpdate(update: Element, kind: ItemKind, target: Map<string, Element>, extended: ItemRecord['extended'], isOccurrence: boolean): void {
  const [path, value] = children(update);
  if (!path) throw new SchemaError(`t:${update.localName} requires a property path.`);
  const action = update.localName;
  if (!['SetItemField', 'AppendToItemField', 'DeleteItemField'].includes(action)) throw new SchemaError(`Unexpected element ${action} in t:Updates.`);
  if (is(path, NS.types, 'ExtendedFieldURI')) {
    const { element: _element, ...uri } = uriAttributes(path);
    checkExtendedUri(uri);
    if (action === 'DeleteItemField') {
      extended.delete(extendedKey(uri));
      return;
    }
    const property = value && tChild(value, 'ExtendedProperty');
    const text = property ? tText(property, 'Value') : undefined;
    if (text === undefined) throw new SchemaError('SetItemField of an extended property requires the item with t:ExtendedProperty/t:Value.');
    extended.set(extendedKey(uri), { uri, value: text });
    return;
  }
  const uri = attr(path, 'FieldURI') ?? '';
  if (is(path, NS.types, 'IndexedFieldURI')) {
    const field = indexedField(uri);
    const key = attr(path, 'FieldIndex') ?? '';
    if (!field || !key) throw new SchemaError(`The IndexedFieldURI '${uri}' is not valid.`);
    if (kind !== 'Contact') throw new EwsError('ErrorInvalidPropertySet', `The property ${uri} is not valid for ${kind}.`);
    const list = target.get(field.list) ?? tElement(field.list);
    const entries = children(list).filter((entry) => attr(entry, 'Key') !== key);
    const existing = children(list).find((entry) => attr(entry, 'Key') === key);
    let replacement: string | undefined;
    if (action === 'DeleteItemField') {
      if (field.member && existing) {
        const kept = children(existing).filter((member) => member.localName !== field.member);
        if (kept.length) replacement = `<t:Entry Key="${escapeXml(key)}">${kept.map(render).join('')}</t:Entry>`;
      }
    } else {
      const newList = value && tChild(value, field.list);
      const newEntry = newList && children(newList).find((entry) => attr(entry, 'Key') === key);
      if (!newEntry) throw new SchemaError(`SetItemField of ${uri} requires the item with its t:${field.list}/t:Entry Key="${key}".`);
      if (field.member && existing) {
        const members = new Map(children(existing).map((member) => [member.localName, render(member)]));
        for (const member of children(newEntry)) members.set(member.localName, render(member));
        const order = ['Street', 'City', 'State', 'CountryOrRegion', 'PostalCode'];
        replacement = `<t:Entry Key="${escapeXml(key)}">${order.filter((name) => members.has(name)).map((name) => members.get(name)).join('')}</t:Entry>`;
      } else {
        replacement = render(newEntry);
      }
    }
    const inner = [...entries.map(render), ...(replacement ? [replacement] : [])].join('');
    if (inner) target.set(field.list, tElement(field.list, undefined, {}, inner));
    else target.delete(field.list);
    return;
  }
  if (!is(path, NS.types, 'FieldURI')) throw new SchemaError(`Unexpected property path ${path.localName}.`);
  const applies = fieldApplies(uri, kind);
  if (applies === undefined) throw new SchemaError(`The FieldURI '${uri}' is not valid.`);
  const name = fieldName(uri);
  if (!applies || !kindOrder(kind).includes(name)) throw new EwsError('ErrorInvalidPropertySet', `The property ${uri} is not valid for ${kind}.`);
  if (isReadOnly(name)) throw new EwsError('ErrorInvalidPropertySet', `Set action is invalid for property: ${name}.`);
  // An occurrence takes no recurrence of its own (ref:updateitem-operation-calendar-item).
  if (isOccurrence && (name === 'Recurrence' || name === 'UID')) throw new EwsError('ErrorInvalidPropertySet', `Set action is invalid for property ${name} on an occurrence.`);
  if (action === 'DeleteItemField') {
    // An occurrence's field deleted is gone from that occurrence, not shown from its series (an exception is an item of its own).
    if (isOccurrence) target.set(name, tElement(REMOVED));
    else target.delete(name);
    return;
  }
  if (!value || value.namespaceURI !== NS.types || value.localName !== kind) throw new SchemaError(`t:${action} of ${uri} requires a t:${kind} holding the property.`);
  const properties = children(value);
  const property = properties.find((element) => element.localName === name);
  // ref:setitemfield: the item element holds exactly the one property the path names.
  if (!property || properties.length !== 1) throw new EwsError('ErrorIncorrectUpdatePropertyCount', 'An object within a change description must contain one and only one property to modify.');
  if (action === 'AppendToItemField') {
    const current = target.get(name);
    if (!current || !['Body', 'Categories', 'RequiredAttendees', 'OptionalAttendees', 'Resources', 'Members'].includes(name)) {
      if (!current) {
        target.set(name, property);
        return;
      }
      throw new EwsError('ErrorInvalidPropertyAppend', `The property ${name} does not support append.`);
    }
    target.set(name, tElement(name, undefined, {}, [...children(current), ...children(property)].map(render).join('')));
    return;
  }
  target.set(name, property);
}

// --- DeleteItem (ref:deleteitem; SendMeetingCancellations "required for calendar items") -------

export function deleteItem(context: OperationContext, operation: Element): string {
  const deleteType = attr(operation, 'DeleteType');
  if (!deleteType || !['HardDelete', 'SoftDelete', 'MoveToDeletedItems'].includes(deleteType)) throw new SchemaError("The required attribute 'DeleteType' is missing or invalid.");
  const cancellations = attr(operation, 'SendMeetingCancellations');
  if (cancellations !== null && !['SendToNone', 'SendOnlyToAll', 'SendToAllAndSaveCopy'].includes(cancellations)) throw new SchemaError(`SendMeetingCancellations '${cancellations}' is invalid.`);
  const affected = attr(operation, 'AffectedTaskOccurrences');
  const ids = children(required(operation, 'ItemIds'));
  return each('DeleteItem', ids, '', (idElement) => {
    const { item, occurrence } = context.store.resolve(context.mailbox, idElement);
    if (item.kind === 'CalendarItem' && cancellations === null) throw new EwsError('ErrorSendMeetingCancellationsRequired', 'SendMeetingCancellations attribute is required for calendar items.');
    // ref: handling-deletion-related-errors-in-ews-in-exchange (ErrorAffectedTaskOccurrencesRequired).
    if (item.kind === 'Task' && item.props.has('Recurrence') && affected === null) throw new EwsError('ErrorAffectedTaskOccurrencesRequired', 'AffectedTaskOccurrences is required for recurring tasks.');
    const recipients = attendeeEmails(occurrence ? new Map([...item.props, ...(item.exceptions.get(occurrence.originalStart) ?? [])]) : item.props);
    if (occurrence) {
      item.exceptions.delete(occurrence.originalStart);
      item.deleted.add(occurrence.originalStart);
      bump(item);
    } else {
      context.mailbox.items.splice(context.mailbox.items.indexOf(item), 1);
    }
    if (item.kind === 'CalendarItem' && cancellations !== 'SendToNone') record(context, { kind: 'cancel', recipients, itemId: item.id, operation: 'DeleteItem' });
    return '';
  });
}

// --- CreateAttachment / GetAttachment (ref:createattachment, ref:getattachment) ---------------

export function createAttachment(context: OperationContext, operation: Element): string {
  const parentId = required(operation, 'ParentItemId');
  const attachments = children(required(operation, 'Attachments'));
  return each('CreateAttachment', attachments, 'Attachments', (element) => {
    const { item } = context.store.resolve(context.mailbox, tElement('ItemId', undefined, { Id: attr(parentId, 'Id') ?? '' }));
    if (!is(element, NS.types, 'FileAttachment')) throw new EwsError('ErrorInvalidAttachmentType', 'Only file attachments are supported by this test server.');
    const name = tText(element, 'Name') ?? '';
    const content = (tText(element, 'Content') ?? '').replace(/\s+/g, '');
    if (!content || !/^[A-Za-z0-9+/]*={0,2}$/.test(content)) throw new SchemaError('t:FileAttachment requires t:Content as xs:base64Binary.');
    const isContactPhoto = tText(element, 'IsContactPhoto')?.trim() === 'true';
    // IsContactPhoto is for contacts only; a contact has one photo, a new one replaces it.
    if (isContactPhoto && item.kind !== 'Contact') throw new EwsError('ErrorInvalidPropertySet', 'IsContactPhoto is valid on contact attachments only.');
    if (isContactPhoto) item.attachments = item.attachments.filter((attachment) => !attachment.isContactPhoto);
    const id = context.store.nextId(context.mailbox, 'a');
    item.attachments.push({ id, name, contentType: tText(element, 'ContentType') ?? 'application/octet-stream', content, isContactPhoto });
    bump(item);
    return `<m:Attachments><t:FileAttachment><t:AttachmentId Id="${id}" RootItemId="${item.id}" RootItemChangeKey="${item.changeKey}"/></t:FileAttachment></m:Attachments>`;
  });
}

export function getAttachment(context: OperationContext, operation: Element): string {
  const ids = children(required(operation, 'AttachmentIds'));
  return each('GetAttachment', ids, 'Attachments', (element) => {
    const id = attr(element, 'Id') ?? '';
    for (const item of context.mailbox.items) {
      const attachment = item.attachments.find((candidate) => candidate.id === id);
      if (attachment) {
        return `<m:Attachments><t:FileAttachment><t:AttachmentId Id="${id}" RootItemId="${item.id}" RootItemChangeKey="${item.changeKey}"/><t:Name>${escapeXml(attachment.name)}</t:Name><t:ContentType>${escapeXml(attachment.contentType)}</t:ContentType><t:Size>${Buffer.from(attachment.content, 'base64').length}</t:Size>${item.kind === 'Contact' ? `<t:IsContactPhoto>${attachment.isContactPhoto}</t:IsContactPhoto>` : ''}<t:Content>${attachment.content}</t:Content></t:FileAttachment></m:Attachments>`;
      }
    }
    throw new EwsError('ErrorInvalidAttachmentId', 'The attachment ID is invalid.');
  });
}

export const OPERATIONS: Record<string, (context: OperationContext, operation: Element) => string> = {
  GetFolder: getFolder,
  FindFolder: findFolder,
  CreateFolder: createFolder,
  FindItem: findItem,
  GetItem: getItem,
  CreateItem: createItem,
  UpdateItem: updateItem,
  DeleteItem: deleteItem,
  CreateAttachment: createAttachment,
  GetAttachment: getAttachment,
};
