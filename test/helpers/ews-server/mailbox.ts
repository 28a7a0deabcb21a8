import { randomUUID } from 'node:crypto';
import { ianaOfWindows, isDayOfWeek, isWeekIndex, localDate, monthIndex, dayIndex, occurrenceStarts, type Pattern, type Range } from './recurrence';
import { children, escapeXml, is, NS, render, tChild, tElement, tText } from './xml';

/**
 * Mailbox state and the groupware operations of the EWS test server, each written from its page
 * under learn.microsoft.com/exchange/client-developer/web-service-reference/ (named beside the
 * code as `ref:<page>`). Where the reference is silent the strictest plausible behaviour is
 * chosen and the comment says "silent".
 *
 * Items are kept as the property elements the client sent (validated against the schema's
 * sequence order of ItemType and CalendarItemType / ContactItemType / DistributionListType /
 * TaskType, as Exchange validates requests against Types.xsd) plus what the server sets itself.
 */

export type DistinguishedFolder = 'calendar' | 'contacts' | 'tasks' | 'inbox' | 'msgfolderroot';
export type ItemKind = 'CalendarItem' | 'Contact' | 'DistributionList' | 'Task';
type FolderElement = 'Folder' | 'CalendarFolder' | 'ContactsFolder' | 'TasksFolder';

export interface FolderRecord {
  id: string;
  changeKey: string;
  parentId?: string;
  displayName: string;
  folderClass: string;
  element: FolderElement;
  distinguished?: DistinguishedFolder;
}

export interface AttachmentRecord {
  id: string;
  name: string;
  contentType: string;
  /** base64 */
  content: string;
  isContactPhoto: boolean;
}

export interface ItemRecord {
  id: string;
  changeKey: string;
  version: number;
  folderId: string;
  kind: ItemKind;
  props: Map<string, Element>;
  extended: Map<string, { uri: Record<string, string>; value: string }>;
  attachments: AttachmentRecord[];
  /** Modified occurrences by original start (epoch ms): the properties that differ from the master. */
  exceptions: Map<number, Map<string, Element>>;
  /** Extended properties set on a modified occurrence (an exception is an item of its own), by original start. */
  exceptionExtended?: Map<number, Map<string, { uri: Record<string, string>; value: string }>>;
  /** Deleted occurrences by original start (epoch ms). */
  deleted: Set<number>;
  /** IANA zone the series is expanded in. */
  zone: string;
  created: number;
}

export interface SentMeetingMessage {
  kind: 'request' | 'update' | 'cancel';
  recipients: string[];
  /** Id of the master (or occurrence) the message is about. */
  itemId: string;
  operation: 'CreateItem' | 'UpdateItem' | 'DeleteItem';
}

export interface Mailbox {
  email: string;
  folders: FolderRecord[];
  items: ItemRecord[];
  sent: SentMeetingMessage[];
  counter: number;
}

const ITEM_ORDER = [
  'MimeContent', 'ItemId', 'ParentFolderId', 'ItemClass', 'Subject', 'Sensitivity', 'Body', 'Attachments', 'DateTimeReceived', 'Size', 'Categories', 'Importance',
  'InReplyTo', 'IsSubmitted', 'IsDraft', 'IsFromMe', 'IsResend', 'IsUnmodified', 'InternetMessageHeaders', 'DateTimeSent', 'DateTimeCreated', 'ResponseObjects',
  'ReminderDueBy', 'ReminderIsSet', 'ReminderNextTime', 'ReminderMinutesBeforeStart', 'DisplayCc', 'DisplayTo', 'HasAttachments', 'ExtendedProperty', 'Culture',
  'EffectiveRights', 'LastModifiedName', 'LastModifiedTime', 'IsAssociated', 'WebClientReadFormQueryString', 'WebClientEditFormQueryString', 'ConversationId', 'UniqueBody',
];
const KIND_ORDER: Record<ItemKind, string[]> = {
  CalendarItem: [
    'UID', 'RecurrenceId', 'DateTimeStamp', 'Start', 'End', 'OriginalStart', 'IsAllDayEvent', 'LegacyFreeBusyStatus', 'Location', 'When', 'IsMeeting', 'IsCancelled',
    'IsRecurring', 'MeetingRequestWasSent', 'IsResponseRequested', 'CalendarItemType', 'MyResponseType', 'Organizer', 'RequiredAttendees', 'OptionalAttendees', 'Resources',
    'ConflictingMeetingCount', 'AdjacentMeetingCount', 'ConflictingMeetings', 'AdjacentMeetings', 'Duration', 'TimeZone', 'AppointmentReplyTime', 'AppointmentSequenceNumber',
    'AppointmentState', 'Recurrence', 'FirstOccurrence', 'LastOccurrence', 'ModifiedOccurrences', 'DeletedOccurrences', 'MeetingTimeZone', 'StartTimeZone', 'EndTimeZone',
    'ConferenceType', 'AllowNewTimeProposal', 'IsOnlineMeeting', 'MeetingWorkspaceUrl', 'NetShowUrl',
  ],
  Contact: [
    'FileAs', 'FileAsMapping', 'DisplayName', 'GivenName', 'Initials', 'MiddleName', 'Nickname', 'CompleteName', 'CompanyName', 'EmailAddresses', 'PhysicalAddresses',
    'PhoneNumbers', 'AssistantName', 'Birthday', 'BusinessHomePage', 'Children', 'Companies', 'ContactSource', 'Department', 'Generation', 'ImAddresses', 'JobTitle',
    'Manager', 'Mileage', 'OfficeLocation', 'PostalAddressIndex', 'Profession', 'SpouseName', 'Surname', 'WeddingAnniversary', 'HasPicture', 'PhoneticFullName',
    'PhoneticFirstName', 'PhoneticLastName', 'Alias', 'Notes', 'Photo', 'UserSMIMECertificate', 'MSExchangeCertificate', 'DirectoryId', 'ManagerMailbox', 'DirectReports',
  ],
  DistributionList: ['DisplayName', 'FileAs', 'ContactSource', 'Members'],
  Task: [
    'ActualWork', 'AssignedTime', 'BillingInformation', 'ChangeCount', 'Companies', 'CompleteDate', 'Contacts', 'DelegationState', 'Delegator', 'DueDate',
    'IsAssignmentEditable', 'IsComplete', 'IsRecurring', 'IsTeamTask', 'Mileage', 'Owner', 'PercentComplete', 'Recurrence', 'StartDate', 'Status', 'StatusDescription', 'TotalWork',
  ],
};
/** Properties only the server sets: setting them is ErrorInvalidPropertySet ("Set action is invalid for property"). */
const READ_ONLY = new Set([
  'ItemId', 'ParentFolderId', 'DateTimeReceived', 'Size', 'DateTimeSent', 'DateTimeCreated', 'ResponseObjects', 'ReminderNextTime', 'DisplayCc', 'DisplayTo', 'HasAttachments',
  'EffectiveRights', 'LastModifiedName', 'LastModifiedTime', 'ConversationId', 'UniqueBody', 'OriginalStart', 'IsMeeting', 'IsCancelled', 'IsRecurring', 'MeetingRequestWasSent',
  'CalendarItemType', 'MyResponseType', 'Organizer', 'ConflictingMeetingCount', 'AdjacentMeetingCount', 'ConflictingMeetings', 'AdjacentMeetings', 'Duration', 'AppointmentReplyTime',
  'AppointmentSequenceNumber', 'AppointmentState', 'FirstOccurrence', 'LastOccurrence', 'ModifiedOccurrences', 'DeletedOccurrences', 'IsComplete', 'HasPicture', 'CompleteName', 'DateTimeStamp',
]);
/** What a FindItem answer never carries (ref:finditem-operation: "FindItem returns only the first 512 bytes ... and does not return" bodies, recipients, attachments and the occurrence lists); asking for them is ErrorInvalidPropertyRequest. */
const NOT_IN_FIND = new Set(['Body', 'MimeContent', 'Attachments', 'RequiredAttendees', 'OptionalAttendees', 'Resources', 'ModifiedOccurrences', 'DeletedOccurrences', 'Members', 'UniqueBody']);
const FIELD_PREFIX: Record<string, ItemKind[] | 'all'> = { item: 'all', calendar: ['CalendarItem'], contacts: ['Contact', 'DistributionList'], distributionlist: ['DistributionList'], task: ['Task'] };
const ITEM_CLASS: Record<ItemKind, string> = { CalendarItem: 'IPM.Appointment', Contact: 'IPM.Contact', DistributionList: 'IPM.DistList', Task: 'IPM.Task' };
const DEFAULT_FOLDER: Record<ItemKind, DistinguishedFolder> = { CalendarItem: 'calendar', Contact: 'contacts', DistributionList: 'contacts', Task: 'tasks' };
const FOLDER_CLASS: Record<FolderElement, string> = { Folder: 'IPF.Note', CalendarFolder: 'IPF.Appointment', ContactsFolder: 'IPF.Contact', TasksFolder: 'IPF.Task' };
/** The throttling policy's EWSFindCountLimit default: at most 1000 entries per FindItem / FindFolder page (ref: ews-throttling-in-exchange). */
export const FIND_COUNT_LIMIT = 1000;
/** Indexed properties: IndexedFieldURI name → the dictionary element that holds its entries (ref:indexedfielduri). */
const INDEXED: Record<string, { list: string; member?: string }> = {
  'contacts:EmailAddress': { list: 'EmailAddresses' },
  'contacts:PhoneNumber': { list: 'PhoneNumbers' },
  'contacts:ImAddress': { list: 'ImAddresses' },
  'contacts:PhysicalAddress:Street': { list: 'PhysicalAddresses', member: 'Street' },
  'contacts:PhysicalAddress:City': { list: 'PhysicalAddresses', member: 'City' },
  'contacts:PhysicalAddress:State': { list: 'PhysicalAddresses', member: 'State' },
  'contacts:PhysicalAddress:CountryOrRegion': { list: 'PhysicalAddresses', member: 'CountryOrRegion' },
  'contacts:PhysicalAddress:PostalCode': { list: 'PhysicalAddresses', member: 'PostalCode' },
};

export class EwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A request the schema refuses: the whole request fails with an ErrorSchemaValidation fault. */
export class SchemaError extends Error {}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const unb64 = (text: string) => Buffer.from(text, 'base64').toString('utf8');
export const distinguishedFolderId = (email: string, folder: DistinguishedFolder) => b64(`AAMkAD:${email.toLowerCase()}:${folder}`);
const occurrenceId = (masterId: string, index: number) => b64(`OCC:${masterId}:${index}`);
const extendedKey = (uri: Record<string, string>) =>
  [uri.DistinguishedPropertySetId ?? '', (uri.PropertySetId ?? '').toLowerCase(), uri.PropertyName ?? '', uri.PropertyId ?? '', (uri.PropertyTag ?? '').toLowerCase(), uri.PropertyType ?? ''].join('|');

export function createMailbox(email: string): Mailbox {
  const folders: FolderRecord[] = [
    { id: distinguishedFolderId(email, 'msgfolderroot'), changeKey: b64('CK:msgfolderroot'), displayName: 'Top of Information Store', folderClass: 'IPF.Note', element: 'Folder', distinguished: 'msgfolderroot' },
  ];
  const root = folders[0]!.id;
  folders.push(
    { id: distinguishedFolderId(email, 'calendar'), changeKey: b64('CK:calendar'), parentId: root, displayName: 'Calendar', folderClass: 'IPF.Appointment', element: 'CalendarFolder', distinguished: 'calendar' },
    { id: distinguishedFolderId(email, 'contacts'), changeKey: b64('CK:contacts'), parentId: root, displayName: 'Contacts', folderClass: 'IPF.Contact', element: 'ContactsFolder', distinguished: 'contacts' },
    { id: distinguishedFolderId(email, 'tasks'), changeKey: b64('CK:tasks'), parentId: root, displayName: 'Tasks', folderClass: 'IPF.Task', element: 'TasksFolder', distinguished: 'tasks' },
    { id: distinguishedFolderId(email, 'inbox'), changeKey: b64('CK:inbox'), parentId: root, displayName: 'Inbox', folderClass: 'IPF.Note', element: 'Folder', distinguished: 'inbox' },
  );
  return { email, folders, items: [], sent: [], counter: 0 };
}

function attrs(element: Element): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < element.attributes.length; i++) {
    const attribute = element.attributes.item(i);
    if (attribute && !attribute.name.startsWith('xmlns')) out[attribute.localName ?? attribute.name] = attribute.value;
  }
  return out;
}

function attendeeEmails(props: Map<string, Element>): string[] {
  const out: string[] = [];
  for (const list of ['RequiredAttendees', 'OptionalAttendees', 'Resources']) {
    for (const attendee of children(props.get(list) ?? tElement('X'))) {
      const address = tText(tChild(attendee, 'Mailbox'), 'EmailAddress')?.trim().toLowerCase();
      if (address) out.push(address);
    }
  }
  return out;
}

const epoch = (text: string | undefined) => (text ? Date.parse(text.trim()) : NaN);
const ewsDateTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface ParsedRecurrence {
  pattern: Pattern;
  range: Range;
  regenerating: boolean;
}

/** ref:recurrence-recurrencetype and ref:recurrence-taskrecurrencetype: one pattern, one range, each with its required children. */
function parseRecurrence(element: Element, kind: ItemKind): ParsedRecurrence {
  const [patternElement, rangeElement, ...rest] = children(element);
  if (!patternElement || !rangeElement || rest.length) throw new SchemaError('t:Recurrence requires one pattern followed by one range.');
  const type = patternElement.localName;
  const regenerating = /Regeneration$/.test(type);
  const patterns = ['DailyRecurrence', 'WeeklyRecurrence', 'AbsoluteMonthlyRecurrence', 'RelativeMonthlyRecurrence', 'AbsoluteYearlyRecurrence', 'RelativeYearlyRecurrence'];
  const allowed = kind === 'Task' ? [...patterns, 'DailyRegeneration', 'WeeklyRegeneration', 'MonthlyRegeneration', 'YearlyRegeneration'] : patterns;
  if (!allowed.includes(type)) throw new SchemaError(`The element 't:${type}' is not a recurrence pattern of ${kind}.`);
  const text = (name: string) => tText(patternElement, name)?.trim();
  const expected: Record<string, string[]> = {
    DailyRecurrence: ['Interval'],
    WeeklyRecurrence: ['Interval', 'DaysOfWeek', 'FirstDayOfWeek'],
    AbsoluteMonthlyRecurrence: ['Interval', 'DayOfMonth'],
    RelativeMonthlyRecurrence: ['Interval', 'DaysOfWeek', 'DayOfWeekIndex'],
    AbsoluteYearlyRecurrence: ['DayOfMonth', 'Month'],
    RelativeYearlyRecurrence: ['DaysOfWeek', 'DayOfWeekIndex', 'Month'],
  };
  checkOrder(patternElement, expected[type] ?? ['Interval'], (name) => name !== 'FirstDayOfWeek');
  const interval = Number(text('Interval') ?? '1');
  const daysOfWeek = (text('DaysOfWeek') ?? '').split(/\s+/).filter(Boolean);
  if (daysOfWeek.some((day) => !isDayOfWeek(day))) throw new SchemaError(`t:DaysOfWeek '${daysOfWeek.join(' ')}' is not a DaysOfWeekType list.`);
  if (!Number.isInteger(interval) || interval < 1 || interval > 999) throw new EwsError('ErrorCalendarInvalidRecurrence', 'The recurrence pattern is invalid: Interval must be between 1 and 999.');
  const dayOfMonth = text('DayOfMonth') === undefined ? undefined : Number(text('DayOfMonth'));
  if (dayOfMonth !== undefined && !(Number.isInteger(dayOfMonth) && dayOfMonth >= 1 && dayOfMonth <= 31)) throw new EwsError('ErrorCalendarInvalidRecurrence', 'The recurrence pattern is invalid: DayOfMonth must be 1 to 31.');
  const index = text('DayOfWeekIndex');
  if (index !== undefined && !isWeekIndex(index)) throw new SchemaError(`t:DayOfWeekIndex '${index}' is not a DayOfWeekIndexType.`);
  if (/^Relative/.test(type) && daysOfWeek.length !== 1) throw new SchemaError('t:DaysOfWeek of a relative pattern holds exactly one DayOfWeekType.');
  const month = text('Month');
  if (month !== undefined && monthIndex(month) < 1) throw new SchemaError(`t:Month '${month}' is not a MonthNamesType.`);
  const first = text('FirstDayOfWeek');
  const pattern: Pattern = { type, interval, daysOfWeek, ...(dayOfMonth !== undefined ? { dayOfMonth } : {}), ...(index ? { dayOfWeekIndex: index } : {}), ...(month ? { month: monthIndex(month) } : {}), firstDayOfWeek: first ? dayIndex(first) : 0 };

  const rangeType = rangeElement.localName as Range['type'];
  if (!['NoEndRecurrence', 'EndDateRecurrence', 'NumberedRecurrence'].includes(rangeType)) throw new SchemaError(`The element 't:${rangeType}' is not a recurrence range.`);
  checkOrder(rangeElement, rangeType === 'EndDateRecurrence' ? ['StartDate', 'EndDate'] : rangeType === 'NumberedRecurrence' ? ['StartDate', 'NumberOfOccurrences'] : ['StartDate'], () => true);
  const startDate = tText(rangeElement, 'StartDate')?.trim().slice(0, 10) ?? '';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(startDate)) throw new SchemaError('The range requires t:StartDate as xs:date.');
  const range: Range = { type: rangeType, startDate };
  if (rangeType === 'EndDateRecurrence') {
    range.endDate = tText(rangeElement, 'EndDate')?.trim().slice(0, 10);
    if (!range.endDate || range.endDate < startDate) throw new EwsError('ErrorCalendarInvalidRecurrence', 'The recurrence range is invalid: EndDate is before StartDate.');
  }
  if (rangeType === 'NumberedRecurrence') {
    range.numberOfOccurrences = Number(tText(rangeElement, 'NumberOfOccurrences'));
    if (!Number.isInteger(range.numberOfOccurrences) || range.numberOfOccurrences < 1 || range.numberOfOccurrences > 999) throw new EwsError('ErrorCalendarInvalidRecurrence', 'NumberOfOccurrences must be between 1 and 999.');
  }
  return { pattern, range, regenerating };
}

/** Children must be exactly the listed names in that order (all required unless `required` says not). */
function checkOrder(parent: Element, names: string[], required: (name: string) => boolean): void {
  const seen = children(parent).map((element) => element.localName);
  let position = 0;
  for (const name of seen) {
    const at = names.indexOf(name, position);
    if (at < 0) throw new SchemaError(`The element 't:${parent.localName}' has invalid child element '${name}'. List of possible elements expected: ${names.slice(position).join(', ')}.`);
    position = at + 1;
  }
  for (const name of names) if (required(name) && !seen.includes(name)) throw new SchemaError(`The element 't:${parent.localName}' has incomplete content. Expected: ${name}.`);
}

/** Series occurrences of a master, each with its InstanceIndex, original start and current start/end. */
export function occurrencesOf(item: ItemRecord): { index: number; originalStart: number; start: number; end: number; deleted: boolean; modified: boolean }[] {
  const recurrence = item.props.get('Recurrence');
  if (item.kind !== 'CalendarItem' || !recurrence) return [];
  const { pattern, range } = parseRecurrence(recurrence, item.kind);
  const masterStart = epoch(item.props.get('Start')?.textContent ?? undefined);
  const duration = epoch(item.props.get('End')?.textContent ?? undefined) - masterStart;
  return occurrenceStarts(pattern, range, masterStart, item.zone).map((originalStart, i) => {
    const exception = item.exceptions.get(originalStart);
    const start = exception?.get('Start') ? epoch(exception.get('Start')!.textContent ?? undefined) : originalStart;
    const end = exception?.get('End') ? epoch(exception.get('End')!.textContent ?? undefined) : start + duration;
    return { index: i + 1, originalStart, start, end, deleted: item.deleted.has(originalStart), modified: Boolean(exception) };
  });
}

export interface Shape {
  baseShape: 'IdOnly' | 'Default' | 'AllProperties';
  fields: string[];
  extended: Record<string, string>[];
  includeMime: boolean;
}

const DEFAULT_PROPS: Record<ItemKind, string[]> = {
  CalendarItem: ['Subject', 'Attachments', 'HasAttachments', 'Start', 'End', 'IsAllDayEvent', 'LegacyFreeBusyStatus', 'Location', 'CalendarItemType', 'Organizer', 'IsRecurring'],
  Contact: ['Subject', 'Attachments', 'HasAttachments', 'FileAs', 'DisplayName', 'GivenName', 'CompanyName', 'EmailAddresses', 'PhysicalAddresses', 'PhoneNumbers', 'Surname'],
  DistributionList: ['Subject', 'Attachments', 'HasAttachments', 'DisplayName', 'FileAs'],
  Task: ['Subject', 'Attachments', 'HasAttachments', 'DueDate', 'PercentComplete', 'StartDate', 'Status'],
};

export class MailboxStore {
  readonly mailboxes = new Map<string, Mailbox>();

  mailbox(email: string): Mailbox {
    const key = email.toLowerCase();
    let mailbox = this.mailboxes.get(key);
    if (!mailbox) {
      mailbox = createMailbox(key);
      this.mailboxes.set(key, mailbox);
    }
    return mailbox;
  }

  nextId(mailbox: Mailbox, prefix: string): string {
    mailbox.counter += 1;
    return b64(`AAMkAD:${mailbox.email}:${prefix}${mailbox.counter}`);
  }

  folder(mailbox: Mailbox, id: string): FolderRecord | undefined {
    return mailbox.folders.find((folder) => folder.id === id);
  }

  createFolder(mailbox: Mailbox, parentId: string, displayName: string, element: FolderElement, folderClass?: string): FolderRecord {
    // ref:createfolder-operation and [MS-OXWSFOLD] 4.2: a folder of the same name under the same parent is refused.
    if (mailbox.folders.some((folder) => folder.parentId === parentId && folder.displayName.toLowerCase() === displayName.toLowerCase())) {
      throw new EwsError('ErrorFolderExists', 'A folder with the specified name already exists.');
    }
    const folder: FolderRecord = { id: this.nextId(mailbox, 'f'), changeKey: b64(`CK:${randomUUID()}`), parentId, displayName, element, folderClass: folderClass ?? FOLDER_CLASS[element] };
    mailbox.folders.push(folder);
    return folder;
  }

  /** Validates an item element of CreateItem and stores it. */
  createItem(mailbox: Mailbox, folderId: string, element: Element, timeZoneContext: string | undefined, options: { allowReadOnly?: boolean } = {}): ItemRecord {
    const kind = element.localName as ItemKind;
    if (element.namespaceURI !== NS.types || !(kind in KIND_ORDER)) throw new SchemaError(`The element 't:${element.localName}' is not an item this server stores (CalendarItem, Contact, DistributionList, Task).`);
    const order = [...ITEM_ORDER, ...KIND_ORDER[kind]];
    const props = new Map<string, Element>();
    const extended = new Map<string, { uri: Record<string, string>; value: string }>();
    let position = -1;
    for (const property of children(element)) {
      const at = order.indexOf(property.localName);
      if (property.namespaceURI !== NS.types || at < 0) throw new SchemaError(`The element 't:${kind}' has invalid child element '${property.localName}'.`);
      // Schema sequence order; ExtendedProperty may repeat.
      if (at < position || (at === position && property.localName !== 'ExtendedProperty')) throw new SchemaError(`The element 't:${kind}' has invalid child element '${property.localName}' (out of schema order).`);
      position = at;
      if (READ_ONLY.has(property.localName) && !options.allowReadOnly) throw new EwsError('ErrorInvalidPropertySet', `Set action is invalid for property: ${property.localName}.`);
      if (property.localName === 'ExtendedProperty') {
        const uri = tChild(property, 'ExtendedFieldURI');
        const value = tText(property, 'Value');
        if (!uri || value === undefined) throw new SchemaError('t:ExtendedProperty requires t:ExtendedFieldURI and t:Value.');
        const uriAttributes = attrs(uri);
        checkExtendedUri(uriAttributes);
        extended.set(extendedKey(uriAttributes), { uri: uriAttributes, value });
        continue;
      }
      props.set(property.localName, property);
    }
    const zoneId = props.get('StartTimeZone')?.getAttribute('Id') || timeZoneContext || 'UTC';
    const zone = ianaOfWindows(zoneId);
    if (!zone) throw new EwsError('ErrorTimeZone', `The time zone '${zoneId}' is not known.`);
    const item: ItemRecord = { id: this.nextId(mailbox, 'i'), changeKey: '', version: 0, folderId, kind, props, extended, attachments: [], exceptions: new Map(), deleted: new Set(), zone, created: mailbox.counter };
    this.validate(item);
    if (kind === 'CalendarItem' && !props.has('UID')) props.set('UID', tElement('UID', randomUUID().replace(/-/g, '').toUpperCase()));
    bump(item);
    mailbox.items.push(item);
    return item;
  }

  validate(item: ItemRecord): void {
    const { props } = item;
    if (item.kind === 'CalendarItem') {
      const start = epoch(props.get('Start')?.textContent ?? undefined);
      const end = epoch(props.get('End')?.textContent ?? undefined);
      // silent on missing Start/End (Exchange fills in "now"); the strictest reading requires both.
      if (Number.isNaN(start) || Number.isNaN(end)) throw new EwsError('ErrorInvalidPropertyRequest', 'A calendar item requires Start and End as xs:dateTime.');
      if (end < start) throw new EwsError('ErrorCalendarEndDateIsEarlierThanStartDate', 'EndDate is earlier than StartDate');
    }
    const recurrence = props.get('Recurrence');
    if (recurrence) parseRecurrence(recurrence, item.kind);
  }

  item(mailbox: Mailbox, id: string): ItemRecord | undefined {
    return mailbox.items.find((item) => item.id === id);
  }

  /** Resolves an ItemId or OccurrenceItemId / RecurringMasterItemId element (ref:occurrenceitemid). */
  resolve(mailbox: Mailbox, idElement: Element): { item: ItemRecord; occurrence?: ReturnType<typeof occurrencesOf>[number]; changeKey?: string } {
    if (is(idElement, NS.types, 'ItemId')) {
      const id = idElement.getAttribute('Id') ?? '';
      const decoded = unb64(id);
      if (decoded.startsWith('OCC:')) {
        const [, masterId = '', index = '0'] = /^OCC:(.*):(\d+)$/.exec(decoded) ?? [];
        return this.occurrence(mailbox, masterId, Number(index));
      }
      const item = this.item(mailbox, id);
      if (!item) throw new EwsError('ErrorItemNotFound', 'The specified object was not found in the store.');
      return { item, ...(idElement.getAttribute('ChangeKey') ? { changeKey: idElement.getAttribute('ChangeKey')! } : {}) };
    }
    if (is(idElement, NS.types, 'OccurrenceItemId')) {
      const masterId = idElement.getAttribute('RecurringMasterId') ?? '';
      const index = Number(idElement.getAttribute('InstanceIndex'));
      if (!masterId || !Number.isInteger(index)) throw new SchemaError('t:OccurrenceItemId requires RecurringMasterId and InstanceIndex.');
      return this.occurrence(mailbox, masterId, index);
    }
    if (is(idElement, NS.types, 'RecurringMasterItemId')) {
      const decoded = unb64(idElement.getAttribute('OccurrenceId') ?? '');
      const masterId = /^OCC:(.*):\d+$/.exec(decoded)?.[1] ?? idElement.getAttribute('OccurrenceId') ?? '';
      const item = this.item(mailbox, masterId);
      if (!item) throw new EwsError('ErrorItemNotFound', 'The specified object was not found in the store.');
      return { item };
    }
    throw new SchemaError(`Unexpected item id element ${idElement.localName}.`);
  }

  private occurrence(mailbox: Mailbox, masterId: string, index: number) {
    const item = this.item(mailbox, masterId);
    if (!item) throw new EwsError('ErrorItemNotFound', 'The specified object was not found in the store.');
    if (!item.props.has('Recurrence')) throw new EwsError('ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange', 'The occurrence index is out of recurrence range.');
    // ref:occurrenceitemid: InstanceIndex starts at 1.
    if (index < 1) throw new SchemaError('InstanceIndex must be a positive integer.');
    const occurrence = occurrencesOf(item)[index - 1];
    if (!occurrence) throw new EwsError('ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange', 'The occurrence index is out of recurrence range.');
    // ref: handling-deletion-related-errors-in-ews-in-exchange.
    if (occurrence.deleted) throw new EwsError('ErrorCalendarOccurrenceIsDeletedFromRecurrence', 'Occurrence with this index was previously deleted from the recurrence.');
    return { item, occurrence };
  }

  /** The item element as GetItem / FindItem answer it, in schema order. */
  renderItem(mailbox: Mailbox, item: ItemRecord, shape: Shape, mode: 'get' | 'find', occurrence?: ReturnType<typeof occurrencesOf>[number]): string {
    const props = new Map<string, string>();
    const put = (name: string, xml: string | undefined) => {
      if (xml !== undefined) props.set(name, xml);
    };
    const source = new Map(item.props);
    if (occurrence) {
      // A field deleted on the occurrence (operations.ts REMOVED) is not shown from the series.
      for (const [name, element] of item.exceptions.get(occurrence.originalStart) ?? []) {
        if (element.localName === 'RemovedFromOccurrence') source.delete(name);
        else source.set(name, element);
      }
    }
    for (const [name, element] of source) put(name, render(element));
    put('ItemClass', `<t:ItemClass>${ITEM_CLASS[item.kind]}</t:ItemClass>`);
    put('ParentFolderId', `<t:ParentFolderId Id="${item.folderId}" ChangeKey="${this.folder(mailbox, item.folderId)?.changeKey ?? ''}"/>`);
    put('DateTimeCreated', `<t:DateTimeCreated>${ewsDateTime(Date.UTC(2026, 0, 1) + item.created * 1000)}</t:DateTimeCreated>`);
    put('HasAttachments', `<t:HasAttachments>${item.attachments.length > 0}</t:HasAttachments>`);
    if (item.attachments.length) {
      // ref:attachments-ex15websvcsotherref; the Content comes with GetAttachment only.
      put('Attachments', `<t:Attachments>${item.attachments.map((a) => `<t:FileAttachment><t:AttachmentId Id="${a.id}" RootItemId="${item.id}" RootItemChangeKey="${item.changeKey}"/><t:Name>${escapeXml(a.name)}</t:Name><t:ContentType>${escapeXml(a.contentType)}</t:ContentType><t:Size>${Buffer.from(a.content, 'base64').length}</t:Size><t:IsInline>false</t:IsInline>${item.kind === 'Contact' ? `<t:IsContactPhoto>${a.isContactPhoto}</t:IsContactPhoto>` : ''}</t:FileAttachment>`).join('')}</t:Attachments>`);
    }
    if (item.kind === 'Contact') put('HasPicture', `<t:HasPicture>${item.attachments.some((a) => a.isContactPhoto)}</t:HasPicture>`);
    if (item.kind === 'Task') {
      const status = source.get('Status')?.textContent?.trim();
      put('IsComplete', `<t:IsComplete>${status === 'Completed'}</t:IsComplete>`);
      put('IsRecurring', `<t:IsRecurring>${source.has('Recurrence')}</t:IsRecurring>`);
      if (status === 'Completed') {
        if (!source.has('PercentComplete')) put('PercentComplete', '<t:PercentComplete>100</t:PercentComplete>');
      }
    }
    if (item.kind === 'CalendarItem') {
      const attendees = attendeeEmails(source);
      put('IsMeeting', `<t:IsMeeting>${attendees.length > 0}</t:IsMeeting>`);
      put('IsCancelled', '<t:IsCancelled>false</t:IsCancelled>');
      put('Organizer', `<t:Organizer><t:Mailbox><t:Name>${escapeXml(mailbox.email)}</t:Name><t:EmailAddress>${escapeXml(mailbox.email)}</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType><t:MailboxType>Mailbox</t:MailboxType></t:Mailbox></t:Organizer>`);
      put('MyResponseType', '<t:MyResponseType>Organizer</t:MyResponseType>');
      if (occurrence) {
        props.delete('Recurrence');
        put('Start', `<t:Start>${ewsDateTime(occurrence.start)}</t:Start>`);
        put('End', `<t:End>${ewsDateTime(occurrence.end)}</t:End>`);
        put('OriginalStart', `<t:OriginalStart>${ewsDateTime(occurrence.originalStart)}</t:OriginalStart>`);
        put('CalendarItemType', `<t:CalendarItemType>${occurrence.modified ? 'Exception' : 'Occurrence'}</t:CalendarItemType>`);
        put('IsRecurring', '<t:IsRecurring>true</t:IsRecurring>');
      } else if (item.props.has('Recurrence')) {
        const all = occurrencesOf(item);
        const live = all.filter((o) => !o.deleted);
        const ref = (o: (typeof all)[number]) => `<t:ItemId Id="${occurrenceId(item.id, o.index)}" ChangeKey="${item.changeKey}"/><t:Start>${ewsDateTime(o.start)}</t:Start><t:End>${ewsDateTime(o.end)}</t:End><t:OriginalStart>${ewsDateTime(o.originalStart)}</t:OriginalStart>`;
        put('CalendarItemType', '<t:CalendarItemType>RecurringMaster</t:CalendarItemType>');
        put('IsRecurring', '<t:IsRecurring>true</t:IsRecurring>');
        if (live[0]) put('FirstOccurrence', `<t:FirstOccurrence>${ref(live[0])}</t:FirstOccurrence>`);
        // A series without end has no last occurrence to name.
        const range = children(item.props.get('Recurrence')!)[1]?.localName;
        if (live.at(-1) && range !== 'NoEndRecurrence') put('LastOccurrence', `<t:LastOccurrence>${ref(live.at(-1)!)}</t:LastOccurrence>`);
        const modified = all.filter((o) => o.modified && !o.deleted);
        if (modified.length) put('ModifiedOccurrences', `<t:ModifiedOccurrences>${modified.map((o) => `<t:Occurrence>${ref(o)}</t:Occurrence>`).join('')}</t:ModifiedOccurrences>`);
        const deleted = all.filter((o) => o.deleted);
        // ref:deletedoccurrence: the Start of a deleted occurrence is its original start.
        if (deleted.length) put('DeletedOccurrences', `<t:DeletedOccurrences>${deleted.map((o) => `<t:DeletedOccurrence><t:Start>${ewsDateTime(o.originalStart)}</t:Start></t:DeletedOccurrence>`).join('')}</t:DeletedOccurrences>`);
      } else {
        put('CalendarItemType', '<t:CalendarItemType>Single</t:CalendarItemType>');
        put('IsRecurring', '<t:IsRecurring>false</t:IsRecurring>');
      }
    }
    if (shape.includeMime && mode === 'get') put('MimeContent', mimeContent(item, source));

    const order = [...ITEM_ORDER, ...KIND_ORDER[item.kind]];
    const wanted = new Set<string>(shape.baseShape === 'AllProperties' ? [...props.keys()].filter((name) => name !== 'MimeContent') : shape.baseShape === 'Default' ? DEFAULT_PROPS[item.kind] : []);
    for (const field of shape.fields) wanted.add(field);
    if (shape.includeMime) wanted.add('MimeContent');
    if (mode === 'find') for (const name of NOT_IN_FIND) wanted.delete(name);
    const extended = shape.extended
      .map((uri) => (occurrence ? item.exceptionExtended?.get(occurrence.originalStart)?.get(extendedKey(uri)) : undefined) ?? item.extended.get(extendedKey(uri)))
      .filter((entry): entry is NonNullable<typeof entry> => Boolean(entry))
      .map((entry) => `<t:ExtendedProperty><t:ExtendedFieldURI${Object.entries(entry.uri).map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join('')}/><t:Value>${escapeXml(entry.value)}</t:Value></t:ExtendedProperty>`)
      .join('');
    const id = occurrence ? occurrenceId(item.id, occurrence.index) : item.id;
    let body = `<t:ItemId Id="${id}" ChangeKey="${item.changeKey}"/>`;
    for (const name of order) {
      if (name === 'ItemId') continue;
      if (name === 'ExtendedProperty') {
        body += extended;
        continue;
      }
      if (wanted.has(name) && props.has(name)) body = name === 'MimeContent' ? props.get(name)! + body : body + props.get(name)!;
    }
    return `<t:${item.kind}>${body}</t:${item.kind}>`;
  }
}

export function checkExtendedUri(uri: Record<string, string>): void {
  // ref:extendedfielduri: PropertyType is required; a named property needs a property set and a name or id; a tag stands alone.
  if (!uri.PropertyType) throw new SchemaError("The required attribute 'PropertyType' is missing on t:ExtendedFieldURI.");
  const named = (uri.PropertySetId || uri.DistinguishedPropertySetId) && (uri.PropertyName || uri.PropertyId);
  if (!named && !uri.PropertyTag) throw new SchemaError('t:ExtendedFieldURI needs PropertyTag, or a property set with PropertyName or PropertyId.');
  if (uri.PropertyTag && (uri.PropertySetId || uri.PropertyName)) throw new EwsError('ErrorInvalidExtendedProperty', 'The extended property attribute combination is invalid.');
  if (uri.PropertySetId && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uri.PropertySetId)) throw new SchemaError(`PropertySetId '${uri.PropertySetId}' is not a GUID.`);
}

export { extendedKey };

export function bump(item: ItemRecord): void {
  item.version += 1;
  item.changeKey = b64(`CK:${item.id}:${item.version}`);
}

/** [MS-OXCICAL] / [MS-OXVCARD] conversions, reduced to the identifying properties: Exchange gives iCalendar for calendar items and vCard for contacts, nothing for tasks. */
function mimeContent(item: ItemRecord, props: Map<string, Element>): string | undefined {
  const text = (name: string) => props.get(name)?.textContent ?? '';
  const fold = (value: string) => value.replace(/[\\;,]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');
  const stamp = (value: string) => new Date(Date.parse(value)).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  let mime: string | undefined;
  if (item.kind === 'CalendarItem') {
    mime = ['BEGIN:VCALENDAR', 'METHOD:PUBLISH', 'PRODID:Microsoft Exchange Server 2016', 'VERSION:2.0', 'BEGIN:VEVENT', `UID:${text('UID')}`, `SUMMARY:${fold(text('Subject'))}`, `DTSTART:${stamp(text('Start'))}`, `DTEND:${stamp(text('End'))}`, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
  } else if (item.kind === 'Contact') {
    mime = ['BEGIN:VCARD', 'VERSION:3.0', `N:${fold(text('Surname'))};${fold(text('GivenName'))};;;`, `FN:${fold(text('DisplayName'))}`, 'END:VCARD', ''].join('\r\n');
  }
  return mime === undefined ? undefined : `<t:MimeContent CharacterSet="UTF-8">${Buffer.from(mime).toString('base64')}</t:MimeContent>`;
}

/** Which item kinds a FieldURI prefix applies to (ref:fielduri); undefined for an unknown prefix. */
export function fieldApplies(uri: string, kind: ItemKind): boolean | undefined {
  const [prefix] = uri.split(':');
  const kinds = FIELD_PREFIX[prefix ?? ''];
  if (!kinds) return undefined;
  return kinds === 'all' || kinds.includes(kind);
}

export const fieldName = (uri: string) => uri.slice(uri.indexOf(':') + 1);
export const isNotInFind = (name: string) => NOT_IN_FIND.has(name);
export const indexedField = (uri: string) => INDEXED[uri];
export const defaultFolderOf = (kind: ItemKind) => DEFAULT_FOLDER[kind];
export const isReadOnly = (name: string) => READ_ONLY.has(name);
export const kindOrder = (kind: ItemKind) => [...ITEM_ORDER, ...KIND_ORDER[kind]];
export { attendeeEmails, epoch, ewsDateTime, localDate, parseRecurrence };
