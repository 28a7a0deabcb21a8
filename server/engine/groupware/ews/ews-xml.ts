import { childElements, NS, parseXml } from '../../../accounts/ews/xml';
import { EWS_WEEK_INDEXES, type EwsDayOfWeek, type EwsMonth, type EwsPattern, type EwsRange, type EwsRecurrence, type EwsWeekday, type EwsWeekIndex } from './ews-recurrence';

/**
 * EWS items as typed objects, read from the t:CalendarItem / t:Contact / t:DistributionList /
 * t:Task elements of a GetItem (or FindItem) answer and written as the same elements for
 * CreateItem. Parsed with the xmldom that ews-javascript-api ships (server/accounts/ews/xml.ts),
 * written through its DOM, so every value is escaped by the serializer. Children are written in
 * the order of the schema's sequences (Types.xsd: ItemType, then CalendarItemType /
 * ContactItemType / DistributionListType / TaskType): Exchange validates requests against the
 * schema and refuses elements out of order (learn.microsoft.com/archive/blogs/pcreehan/
 * mimecontent-vs-mime-content: "Any deviation from the prescribed sequence results in a schema
 * validation error").
 */

const T = NS.ewsTypes;

export type EwsImportance = 'Low' | 'Normal' | 'High';
export type EwsSensitivity = 'Normal' | 'Personal' | 'Private' | 'Confidential';
export type EwsResponseType = 'Unknown' | 'Organizer' | 'Tentative' | 'Accept' | 'Decline' | 'NoResponseReceived';
export type EwsFreeBusy = 'Free' | 'Tentative' | 'Busy' | 'OOF' | 'WorkingElsewhere' | 'NoData';
export type EwsTaskStatus = 'NotStarted' | 'InProgress' | 'Completed' | 'WaitingOnOthers' | 'Deferred';

export interface EwsMailbox {
  name?: string;
  email: string;
}

export interface EwsAttendee {
  mailbox: EwsMailbox;
  responseType?: EwsResponseType;
}

export interface EwsBody {
  type: 'Text' | 'HTML';
  text: string;
}

/** ExtendedFieldURI: a named property of a property set, or a MAPI property by tag. */
export interface EwsExtendedProperty {
  propertySetId?: string;
  propertyName?: string;
  propertyTag?: string;
  propertyType: string;
  value: string;
}

export interface EwsItemId {
  id: string;
  changeKey?: string;
}

interface EwsItemBase {
  itemId?: EwsItemId;
  subject?: string;
  sensitivity?: EwsSensitivity;
  body?: EwsBody;
  categories: string[];
  importance?: EwsImportance;
  reminderDueBy?: string;
  reminderIsSet?: boolean;
  reminderMinutesBeforeStart?: number;
  extendedProperties: EwsExtendedProperty[];
}

export interface EwsOccurrenceRef {
  itemId?: EwsItemId;
  start: string;
  end: string;
  originalStart: string;
}

export interface EwsCalendarItem extends EwsItemBase {
  kind: 'CalendarItem';
  uid?: string;
  start: string;
  end: string;
  /** An exception's original start (read-only: Exchange sets it). */
  originalStart?: string;
  isAllDayEvent: boolean;
  legacyFreeBusyStatus?: EwsFreeBusy;
  location?: string;
  isCancelled?: boolean;
  calendarItemType?: 'Single' | 'Occurrence' | 'Exception' | 'RecurringMaster';
  organizer?: EwsMailbox;
  requiredAttendees: EwsAttendee[];
  optionalAttendees: EwsAttendee[];
  resources: EwsAttendee[];
  recurrence?: EwsRecurrence;
  modifiedOccurrences: EwsOccurrenceRef[];
  /** Original starts of the deleted occurrences. */
  deletedOccurrences: string[];
  /** Windows zone ids. */
  startTimeZone?: string;
  endTimeZone?: string;
}

export interface EwsPhysicalAddress {
  key: 'Home' | 'Business' | 'Other';
  street?: string;
  city?: string;
  state?: string;
  countryOrRegion?: string;
  postalCode?: string;
}

export interface EwsPhoto {
  contentType: string;
  /** base64 */
  content: string;
}

export interface EwsContact extends EwsItemBase {
  kind: 'Contact';
  fileAs?: string;
  displayName?: string;
  givenName?: string;
  initials?: string;
  middleName?: string;
  nickname?: string;
  companyName?: string;
  emailAddresses: { key: string; address: string; name?: string }[];
  physicalAddresses: EwsPhysicalAddress[];
  phoneNumbers: { key: string; number: string }[];
  assistantName?: string;
  birthday?: string;
  businessHomePage?: string;
  department?: string;
  generation?: string;
  imAddresses: { key: string; address: string }[];
  jobTitle?: string;
  manager?: string;
  officeLocation?: string;
  profession?: string;
  spouseName?: string;
  surname?: string;
  weddingAnniversary?: string;
  /** The attachment marked IsContactPhoto, with its Content (GetAttachment) where read. */
  photo?: EwsPhoto;
}

/** A member of a distribution list: an address, or a contact of the same mailbox by its ItemId (MailboxType Contact). */
export interface EwsMember {
  name?: string;
  email?: string;
  contactId?: string;
}

export interface EwsDistributionList extends EwsItemBase {
  kind: 'DistributionList';
  displayName?: string;
  fileAs?: string;
  members: EwsMember[];
}

export interface EwsTask extends EwsItemBase {
  kind: 'Task';
  completeDate?: string;
  dueDate?: string;
  isComplete?: boolean;
  percentComplete?: number;
  recurrence?: EwsRecurrence;
  startDate?: string;
  status?: EwsTaskStatus;
}

export type EwsItem = EwsCalendarItem | EwsContact | EwsDistributionList | EwsTask;

const ITEM_ELEMENTS = ['CalendarItem', 'Contact', 'DistributionList', 'Task'] as const;

// ---------------------------------------------------------------------------------------------
// Reading

function child(parent: Element, name: string): Element | undefined {
  return childElements(parent, T, name)[0];
}

function text(parent: Element, name: string): string | undefined {
  // Values as they are (a leading space is the user's); only enumerations and numbers are trimmed by their readers.
  const value = child(parent, name)?.textContent;
  return value === undefined || value === null || value.trim() === '' ? undefined : value;
}

function bool(parent: Element, name: string): boolean | undefined {
  const value = text(parent, name)?.trim();
  return value === undefined ? undefined : value === 'true' || value === '1';
}

function num(parent: Element, name: string): number | undefined {
  const value = text(parent, name);
  return value === undefined ? undefined : Number(value.trim());
}

function readMailbox(element: Element | undefined): EwsMailbox | undefined {
  const mailbox = element ? (child(element, 'Mailbox') ?? element) : undefined;
  const email = mailbox ? text(mailbox, 'EmailAddress') : undefined;
  if (!mailbox || !email) return undefined;
  const name = text(mailbox, 'Name');
  return { email, ...(name ? { name } : {}) };
}

function readMember(mailbox: Element | undefined): EwsMember | undefined {
  if (!mailbox) return undefined;
  const name = text(mailbox, 'Name');
  const email = text(mailbox, 'EmailAddress')?.trim();
  const contactId = text(mailbox, 'MailboxType')?.trim() === 'Contact' ? child(mailbox, 'ItemId')?.getAttribute('Id') || undefined : undefined;
  if (!email && !contactId) return undefined;
  return { ...(name ? { name } : {}), ...(email ? { email } : {}), ...(contactId ? { contactId } : {}) };
}

function readAttendees(parent: Element, name: string): EwsAttendee[] {
  const list = child(parent, name);
  if (!list) return [];
  return childElements(list, T, 'Attendee').flatMap((attendee) => {
    const mailbox = readMailbox(attendee);
    const responseType = text(attendee, 'ResponseType') as EwsResponseType | undefined;
    return mailbox ? [{ mailbox, ...(responseType ? { responseType } : {}) }] : [];
  });
}

function readRecurrence(parent: Element): EwsRecurrence | undefined {
  const recurrence = child(parent, 'Recurrence');
  if (!recurrence) return undefined;
  let pattern: EwsPattern | undefined;
  let range: EwsRange | undefined;
  for (let node = recurrence.firstChild; node; node = node.nextSibling) {
    if (node.nodeType !== 1) continue;
    const element = node as Element;
    const interval = num(element, 'Interval') ?? 1;
    const days = text(element, 'DaysOfWeek');
    const index = text(element, 'DayOfWeekIndex') as EwsWeekIndex | undefined;
    const month = text(element, 'Month') as EwsMonth | undefined;
    const dayOfMonth = num(element, 'DayOfMonth') ?? 1;
    const startDate = text(element, 'StartDate')?.slice(0, 10) ?? '';
    switch (element.localName) {
      case 'DailyRecurrence':
        pattern = { type: 'DailyRecurrence', interval };
        break;
      case 'WeeklyRecurrence': {
        const first = text(element, 'FirstDayOfWeek') as EwsWeekday | undefined;
        pattern = { type: 'WeeklyRecurrence', interval, daysOfWeek: (days ?? '').split(/\s+/).filter(Boolean) as EwsDayOfWeek[], ...(first ? { firstDayOfWeek: first } : {}) };
        break;
      }
      case 'AbsoluteMonthlyRecurrence':
        pattern = { type: 'AbsoluteMonthlyRecurrence', interval, dayOfMonth };
        break;
      case 'RelativeMonthlyRecurrence':
        pattern = { type: 'RelativeMonthlyRecurrence', interval, daysOfWeek: days as EwsDayOfWeek, dayOfWeekIndex: index ?? EWS_WEEK_INDEXES[0] };
        break;
      case 'AbsoluteYearlyRecurrence':
        pattern = { type: 'AbsoluteYearlyRecurrence', dayOfMonth, month: month ?? 'January' };
        break;
      case 'RelativeYearlyRecurrence':
        pattern = { type: 'RelativeYearlyRecurrence', daysOfWeek: days as EwsDayOfWeek, dayOfWeekIndex: index ?? EWS_WEEK_INDEXES[0], month: month ?? 'January' };
        break;
      case 'DailyRegeneration':
      case 'WeeklyRegeneration':
      case 'MonthlyRegeneration':
      case 'YearlyRegeneration':
        pattern = { type: element.localName, interval };
        break;
      case 'NoEndRecurrence':
        range = { type: 'NoEndRecurrence', startDate };
        break;
      case 'EndDateRecurrence':
        range = { type: 'EndDateRecurrence', startDate, endDate: text(element, 'EndDate')?.slice(0, 10) ?? startDate };
        break;
      case 'NumberedRecurrence':
        range = { type: 'NumberedRecurrence', startDate, numberOfOccurrences: num(element, 'NumberOfOccurrences') ?? 1 };
        break;
    }
  }
  return pattern && range ? { pattern, range } : undefined;
}

function readBase(element: Element): EwsItemBase {
  const id = child(element, 'ItemId');
  const body = child(element, 'Body');
  const categories = child(element, 'Categories');
  const reminderMinutes = num(element, 'ReminderMinutesBeforeStart');
  const extendedProperties = childElements(element, T, 'ExtendedProperty').flatMap((property): EwsExtendedProperty[] => {
    const uri = child(property, 'ExtendedFieldURI');
    if (!uri) return [];
    const attribute = (name: string) => uri.getAttribute(name) || undefined;
    return [
      {
        ...(attribute('PropertySetId') ? { propertySetId: attribute('PropertySetId') } : {}),
        ...(attribute('PropertyName') ? { propertyName: attribute('PropertyName') } : {}),
        ...(attribute('PropertyTag') ? { propertyTag: attribute('PropertyTag') } : {}),
        propertyType: attribute('PropertyType') ?? 'String',
        value: child(property, 'Value')?.textContent ?? '',
      },
    ];
  });
  return {
    ...(id ? { itemId: { id: id.getAttribute('Id') ?? '', ...(id.getAttribute('ChangeKey') ? { changeKey: id.getAttribute('ChangeKey')! } : {}) } } : {}),
    ...optional('subject', child(element, 'Subject')?.textContent ?? undefined),
    ...optional('sensitivity', text(element, 'Sensitivity') as EwsSensitivity | undefined),
    ...(body ? { body: { type: body.getAttribute('BodyType') === 'HTML' ? 'HTML' : 'Text', text: (body.textContent ?? '').replace(/\r\n?/g, '\n') } } : {}),
    categories: categories ? childElements(categories, T, 'String').map((s) => s.textContent ?? '') : [],
    ...optional('importance', text(element, 'Importance') as EwsImportance | undefined),
    ...optional('reminderDueBy', text(element, 'ReminderDueBy')),
    ...optional('reminderIsSet', bool(element, 'ReminderIsSet')),
    ...(reminderMinutes !== undefined ? { reminderMinutesBeforeStart: reminderMinutes } : {}),
    extendedProperties,
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined || value === '' ? {} : { [key]: value }) as { [P in K]?: V };
}

function readCalendarItem(element: Element): EwsCalendarItem {
  const modified = child(element, 'ModifiedOccurrences');
  const deleted = child(element, 'DeletedOccurrences');
  return {
    kind: 'CalendarItem',
    ...readBase(element),
    ...optional('uid', text(element, 'UID')),
    start: text(element, 'Start') ?? '',
    end: text(element, 'End') ?? '',
    ...optional('originalStart', text(element, 'OriginalStart')),
    isAllDayEvent: bool(element, 'IsAllDayEvent') ?? false,
    ...optional('legacyFreeBusyStatus', text(element, 'LegacyFreeBusyStatus') as EwsFreeBusy | undefined),
    ...optional('location', child(element, 'Location')?.textContent ?? undefined),
    ...optional('isCancelled', bool(element, 'IsCancelled')),
    ...optional('calendarItemType', text(element, 'CalendarItemType') as EwsCalendarItem['calendarItemType']),
    ...optional('organizer', readMailbox(child(element, 'Organizer'))),
    requiredAttendees: readAttendees(element, 'RequiredAttendees'),
    optionalAttendees: readAttendees(element, 'OptionalAttendees'),
    resources: readAttendees(element, 'Resources'),
    ...optional('recurrence', readRecurrence(element)),
    modifiedOccurrences: modified
      ? childElements(modified, T, 'Occurrence').map((o) => {
          const id = child(o, 'ItemId');
          return { ...(id ? { itemId: { id: id.getAttribute('Id') ?? '', ...(id.getAttribute('ChangeKey') ? { changeKey: id.getAttribute('ChangeKey')! } : {}) } } : {}), start: text(o, 'Start') ?? '', end: text(o, 'End') ?? '', originalStart: text(o, 'OriginalStart') ?? '' };
        })
      : [],
    deletedOccurrences: deleted ? childElements(deleted, T, 'DeletedOccurrence').map((d) => text(d, 'Start') ?? '') : [],
    ...optional('startTimeZone', child(element, 'StartTimeZone')?.getAttribute('Id') ?? undefined),
    ...optional('endTimeZone', child(element, 'EndTimeZone')?.getAttribute('Id') ?? undefined),
  };
}

function readEntries<T>(parent: Element, name: string, read: (entry: Element, key: string) => T | undefined): T[] {
  const list = child(parent, name);
  if (!list) return [];
  return childElements(list, T_NS, 'Entry').flatMap((entry) => {
    const value = read(entry, entry.getAttribute('Key') ?? '');
    return value === undefined ? [] : [value];
  });
}
const T_NS = T;

function readContact(element: Element): EwsContact {
  const photo = child(element, 'Attachments');
  const photoAttachment = photo ? childElements(photo, T, 'FileAttachment').find((a) => bool(a, 'IsContactPhoto')) : undefined;
  const content = photoAttachment ? text(photoAttachment, 'Content') : undefined;
  const s = (name: string) => text(element, name);
  return {
    kind: 'Contact',
    ...readBase(element),
    ...optional('fileAs', s('FileAs')),
    ...optional('displayName', s('DisplayName')),
    ...optional('givenName', s('GivenName')),
    ...optional('initials', s('Initials')),
    ...optional('middleName', s('MiddleName')),
    ...optional('nickname', s('Nickname')),
    ...optional('companyName', s('CompanyName')),
    emailAddresses: readEntries(element, 'EmailAddresses', (entry, key) => {
      const address = entry.textContent?.trim();
      const name = entry.getAttribute('Name');
      return address ? { key, address, ...(name ? { name } : {}) } : undefined;
    }),
    physicalAddresses: readEntries(element, 'PhysicalAddresses', (entry, key) => ({
      key: key as EwsPhysicalAddress['key'],
      ...optional('street', child(entry, 'Street')?.textContent?.replace(/\r\n?/g, '\n') ?? undefined),
      ...optional('city', text(entry, 'City')),
      ...optional('state', text(entry, 'State')),
      ...optional('countryOrRegion', text(entry, 'CountryOrRegion')),
      ...optional('postalCode', text(entry, 'PostalCode')),
    })),
    phoneNumbers: readEntries(element, 'PhoneNumbers', (entry, key) => {
      const number = entry.textContent?.trim();
      return number ? { key, number } : undefined;
    }),
    ...optional('assistantName', s('AssistantName')),
    ...optional('birthday', s('Birthday')),
    ...optional('businessHomePage', s('BusinessHomePage')),
    ...optional('department', s('Department')),
    ...optional('generation', s('Generation')),
    imAddresses: readEntries(element, 'ImAddresses', (entry, key) => {
      const address = entry.textContent?.trim();
      return address ? { key, address } : undefined;
    }),
    ...optional('jobTitle', s('JobTitle')),
    ...optional('manager', s('Manager')),
    ...optional('officeLocation', s('OfficeLocation')),
    ...optional('profession', s('Profession')),
    ...optional('spouseName', s('SpouseName')),
    ...optional('surname', s('Surname')),
    ...optional('weddingAnniversary', s('WeddingAnniversary')),
    ...(photoAttachment && content ? { photo: { contentType: text(photoAttachment, 'ContentType') ?? 'image/jpeg', content } } : {}),
  };
}

function readDistributionList(element: Element): EwsDistributionList {
  const members = child(element, 'Members');
  return {
    kind: 'DistributionList',
    ...readBase(element),
    ...optional('displayName', text(element, 'DisplayName')),
    ...optional('fileAs', text(element, 'FileAs')),
    members: members ? childElements(members, T, 'Member').flatMap((m) => readMember(child(m, 'Mailbox')) ?? []) : [],
  };
}

function readTask(element: Element): EwsTask {
  return {
    kind: 'Task',
    ...readBase(element),
    ...optional('completeDate', text(element, 'CompleteDate')),
    ...optional('dueDate', text(element, 'DueDate')),
    ...optional('isComplete', bool(element, 'IsComplete')),
    ...optional('percentComplete', num(element, 'PercentComplete')),
    ...optional('recurrence', readRecurrence(element)),
    ...optional('startDate', text(element, 'StartDate')),
    ...optional('status', text(element, 'Status') as EwsTaskStatus | undefined),
  };
}

export function readEwsItem(element: Element): EwsItem {
  switch (element.localName) {
    case 'CalendarItem':
      return readCalendarItem(element);
    case 'Contact':
      return readContact(element);
    case 'DistributionList':
      return readDistributionList(element);
    case 'Task':
      return readTask(element);
    default:
      throw new Error(`not a groupware item: ${element.localName}`);
  }
}

/** Every calendar item, contact, distribution list and task of a GetItem or FindItem answer, in document order. */
export function readEwsItems(xml: string): EwsItem[] {
  const document = parseXml(xml);
  if (!document) throw new Error('the EWS answer is not XML');
  const out: EwsItem[] = [];
  const walk = (element: Element) => {
    if (element.namespaceURI === T && (ITEM_ELEMENTS as readonly string[]).includes(element.localName)) {
      out.push(readEwsItem(element));
      return;
    }
    for (let node = element.firstChild; node; node = node.nextSibling) if (node.nodeType === 1) walk(node as Element);
  };
  walk(document.documentElement);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing

// XML 1.0 cannot carry these at all (not even as character references): Exchange refuses the request.
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

/** Text as XML can hold it. */
export function xmlSafe(value: string): string {
  return value.replace(NOT_XML, '');
}

class Writer {
  private readonly document = parseXml('<w/>')!;

  element(parent: Element | null, name: string, value?: string | number | boolean, attributes: Record<string, string | undefined> = {}): Element {
    const element = this.document.createElementNS(T, `t:${name}`);
    for (const [key, attribute] of Object.entries(attributes)) if (attribute !== undefined) element.setAttribute(key, xmlSafe(attribute));
    if (value !== undefined) element.appendChild(this.document.createTextNode(xmlSafe(String(value))));
    parent?.appendChild(element);
    return element;
  }

  optional(parent: Element, name: string, value: string | number | boolean | undefined): void {
    if (value !== undefined && value !== '') this.element(parent, name, value);
  }
}

function writeBase(w: Writer, root: Element, item: EwsItemBase): void {
  w.optional(root, 'Subject', item.subject);
  w.optional(root, 'Sensitivity', item.sensitivity);
  if (item.body) w.element(root, 'Body', item.body.text, { BodyType: item.body.type });
  if (item.categories.length) {
    const categories = w.element(root, 'Categories');
    for (const category of item.categories) w.element(categories, 'String', category);
  }
  w.optional(root, 'Importance', item.importance);
  w.optional(root, 'ReminderDueBy', item.reminderDueBy);
  w.optional(root, 'ReminderIsSet', item.reminderIsSet);
  w.optional(root, 'ReminderMinutesBeforeStart', item.reminderMinutesBeforeStart);
  for (const property of item.extendedProperties) {
    const extended = w.element(root, 'ExtendedProperty');
    w.element(extended, 'ExtendedFieldURI', undefined, { PropertySetId: property.propertySetId, PropertyName: property.propertyName, PropertyTag: property.propertyTag, PropertyType: property.propertyType });
    w.element(extended, 'Value', property.value);
  }
}

function writeMailbox(w: Writer, parent: Element, mailbox: EwsMailbox): void {
  const element = w.element(parent, 'Mailbox');
  w.optional(element, 'Name', mailbox.name);
  w.element(element, 'EmailAddress', mailbox.email);
}

function writeAttendees(w: Writer, root: Element, name: string, attendees: EwsAttendee[]): void {
  if (!attendees.length) return;
  const list = w.element(root, name);
  for (const attendee of attendees) {
    const element = w.element(list, 'Attendee');
    writeMailbox(w, element, attendee.mailbox);
    w.optional(element, 'ResponseType', attendee.responseType);
  }
}

function writeRecurrence(w: Writer, root: Element, recurrence: EwsRecurrence | undefined): void {
  if (!recurrence) return;
  const element = w.element(root, 'Recurrence');
  const { pattern, range } = recurrence;
  const p = w.element(element, pattern.type);
  // Each pattern's children in its schema order.
  if ('interval' in pattern) w.element(p, 'Interval', pattern.interval);
  switch (pattern.type) {
    case 'WeeklyRecurrence':
      w.element(p, 'DaysOfWeek', pattern.daysOfWeek.join(' '));
      w.optional(p, 'FirstDayOfWeek', pattern.firstDayOfWeek);
      break;
    case 'AbsoluteMonthlyRecurrence':
      w.element(p, 'DayOfMonth', pattern.dayOfMonth);
      break;
    case 'RelativeMonthlyRecurrence':
      w.element(p, 'DaysOfWeek', pattern.daysOfWeek);
      w.element(p, 'DayOfWeekIndex', pattern.dayOfWeekIndex);
      break;
    case 'AbsoluteYearlyRecurrence':
      w.element(p, 'DayOfMonth', pattern.dayOfMonth);
      w.element(p, 'Month', pattern.month);
      break;
    case 'RelativeYearlyRecurrence':
      w.element(p, 'DaysOfWeek', pattern.daysOfWeek);
      w.element(p, 'DayOfWeekIndex', pattern.dayOfWeekIndex);
      w.element(p, 'Month', pattern.month);
      break;
    default:
      break;
  }
  const r = w.element(element, range.type);
  w.element(r, 'StartDate', range.startDate);
  if (range.type === 'EndDateRecurrence') w.element(r, 'EndDate', range.endDate);
  if (range.type === 'NumberedRecurrence') w.element(r, 'NumberOfOccurrences', range.numberOfOccurrences);
}

/**
 * The element for CreateItem's Items (or, for an occurrence, the fields an UpdateItem sets):
 * only what a client may write. Read-only fields a GetItem answer carries (ItemId,
 * OriginalStart, ModifiedOccurrences, DeletedOccurrences, CalendarItemType, Organizer) are
 * written only with `asServer`, which renders an item as Exchange answers it (for tests and
 * the test server).
 */
export function writeEwsItem(item: EwsItem, options: { asServer?: boolean } = {}): string {
  const w = new Writer();
  const root = w.element(null, item.kind);
  if (options.asServer && item.itemId) w.element(root, 'ItemId', undefined, { Id: item.itemId.id, ChangeKey: item.itemId.changeKey });
  writeBase(w, root, item);
  if (options.asServer && item.kind === 'Contact' && item.photo) {
    // Attachments sit between Body and Categories in ItemType; the photo's Content as GetAttachment gives it.
    const attachments = w.element(null, 'Attachments');
    const file = w.element(attachments, 'FileAttachment');
    w.element(file, 'Name', 'ContactPicture.jpg');
    w.element(file, 'ContentType', item.photo.contentType);
    w.element(file, 'IsContactPhoto', true);
    w.element(file, 'Content', item.photo.content);
    const after = childElements(root, T, 'Categories')[0] ?? childElements(root, T, 'Importance')[0] ?? root.firstChild;
    root.insertBefore(attachments, after ?? null);
  }
  switch (item.kind) {
    case 'CalendarItem':
      w.optional(root, 'UID', item.uid);
      w.element(root, 'Start', item.start);
      w.element(root, 'End', item.end);
      if (options.asServer) w.optional(root, 'OriginalStart', item.originalStart);
      w.element(root, 'IsAllDayEvent', item.isAllDayEvent);
      w.optional(root, 'LegacyFreeBusyStatus', item.legacyFreeBusyStatus);
      w.optional(root, 'Location', item.location);
      if (options.asServer) {
        w.optional(root, 'IsCancelled', item.isCancelled);
        w.optional(root, 'CalendarItemType', item.calendarItemType);
        if (item.organizer) writeMailbox(w, w.element(root, 'Organizer'), item.organizer);
      }
      writeAttendees(w, root, 'RequiredAttendees', item.requiredAttendees);
      writeAttendees(w, root, 'OptionalAttendees', item.optionalAttendees);
      writeAttendees(w, root, 'Resources', item.resources);
      writeRecurrence(w, root, item.recurrence);
      if (options.asServer && item.modifiedOccurrences.length) {
        const list = w.element(root, 'ModifiedOccurrences');
        for (const occurrence of item.modifiedOccurrences) {
          const element = w.element(list, 'Occurrence');
          if (occurrence.itemId) w.element(element, 'ItemId', undefined, { Id: occurrence.itemId.id, ChangeKey: occurrence.itemId.changeKey });
          w.element(element, 'Start', occurrence.start);
          w.element(element, 'End', occurrence.end);
          w.element(element, 'OriginalStart', occurrence.originalStart);
        }
      }
      if (options.asServer && item.deletedOccurrences.length) {
        const list = w.element(root, 'DeletedOccurrences');
        for (const start of item.deletedOccurrences) w.element(w.element(list, 'DeletedOccurrence'), 'Start', start);
      }
      if (item.startTimeZone) w.element(root, 'StartTimeZone', undefined, { Id: item.startTimeZone });
      if (item.endTimeZone) w.element(root, 'EndTimeZone', undefined, { Id: item.endTimeZone });
      break;
    case 'Contact':
      w.optional(root, 'FileAs', item.fileAs);
      w.optional(root, 'DisplayName', item.displayName);
      w.optional(root, 'GivenName', item.givenName);
      w.optional(root, 'Initials', item.initials);
      w.optional(root, 'MiddleName', item.middleName);
      w.optional(root, 'Nickname', item.nickname);
      w.optional(root, 'CompanyName', item.companyName);
      if (item.emailAddresses.length) {
        const list = w.element(root, 'EmailAddresses');
        for (const entry of item.emailAddresses) w.element(list, 'Entry', entry.address, { Key: entry.key, Name: entry.name });
      }
      if (item.physicalAddresses.length) {
        const list = w.element(root, 'PhysicalAddresses');
        for (const address of item.physicalAddresses) {
          const entry = w.element(list, 'Entry', undefined, { Key: address.key });
          w.optional(entry, 'Street', address.street);
          w.optional(entry, 'City', address.city);
          w.optional(entry, 'State', address.state);
          w.optional(entry, 'CountryOrRegion', address.countryOrRegion);
          w.optional(entry, 'PostalCode', address.postalCode);
        }
      }
      if (item.phoneNumbers.length) {
        const list = w.element(root, 'PhoneNumbers');
        for (const entry of item.phoneNumbers) w.element(list, 'Entry', entry.number, { Key: entry.key });
      }
      w.optional(root, 'AssistantName', item.assistantName);
      w.optional(root, 'Birthday', item.birthday);
      w.optional(root, 'BusinessHomePage', item.businessHomePage);
      w.optional(root, 'Department', item.department);
      w.optional(root, 'Generation', item.generation);
      if (item.imAddresses.length) {
        const list = w.element(root, 'ImAddresses');
        for (const entry of item.imAddresses) w.element(list, 'Entry', entry.address, { Key: entry.key });
      }
      w.optional(root, 'JobTitle', item.jobTitle);
      w.optional(root, 'Manager', item.manager);
      w.optional(root, 'OfficeLocation', item.officeLocation);
      w.optional(root, 'Profession', item.profession);
      w.optional(root, 'SpouseName', item.spouseName);
      w.optional(root, 'Surname', item.surname);
      w.optional(root, 'WeddingAnniversary', item.weddingAnniversary);
      break;
    case 'DistributionList':
      w.optional(root, 'DisplayName', item.displayName);
      w.optional(root, 'FileAs', item.fileAs);
      if (item.members.length) {
        const list = w.element(root, 'Members');
        for (const member of item.members) {
          // EmailAddressType's sequence: Name, EmailAddress, RoutingType, MailboxType, ItemId.
          const mailbox = w.element(w.element(list, 'Member'), 'Mailbox');
          w.optional(mailbox, 'Name', member.name);
          w.optional(mailbox, 'EmailAddress', member.email);
          if (member.contactId) {
            w.element(mailbox, 'MailboxType', 'Contact');
            w.element(mailbox, 'ItemId', undefined, { Id: member.contactId });
          }
        }
      }
      break;
    case 'Task':
      w.optional(root, 'CompleteDate', item.completeDate);
      w.optional(root, 'DueDate', item.dueDate);
      if (options.asServer) w.optional(root, 'IsComplete', item.isComplete);
      w.optional(root, 'PercentComplete', item.percentComplete);
      writeRecurrence(w, root, item.recurrence);
      w.optional(root, 'StartDate', item.startDate);
      w.optional(root, 'Status', item.status);
      break;
  }
  return String(root);
}

/** A contact photo as CreateAttachment takes it (t:FileAttachment with IsContactPhoto), after the contact exists. */
export function writeContactPhoto(photo: EwsPhoto): string {
  const w = new Writer();
  const file = w.element(null, 'FileAttachment');
  w.element(file, 'Name', 'ContactPicture.jpg');
  w.element(file, 'ContentType', photo.contentType);
  w.element(file, 'IsContactPhoto', true);
  w.element(file, 'Content', photo.content);
  return String(file);
}
