/**
 * The Microsoft Graph v1.0 resources the groupware mapping reads and writes: event, contact and
 * To Do todoTask, with the complex types they use, as the Graph reference defines them. Only the
 * properties the mapping uses are typed.
 */

/** dateTimeTimeZone: a local time ("2017-04-15T12:00:00.0000000") and a Windows or IANA zone name. */
export interface GraphDateTimeTimeZone {
  dateTime: string;
  timeZone: string;
}

export type GraphDayOfWeek = 'sunday' | 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday';
export type GraphWeekIndex = 'first' | 'second' | 'third' | 'fourth' | 'last';

export interface GraphRecurrencePattern {
  type: 'daily' | 'weekly' | 'absoluteMonthly' | 'relativeMonthly' | 'absoluteYearly' | 'relativeYearly';
  interval: number;
  month?: number;
  dayOfMonth?: number;
  daysOfWeek?: GraphDayOfWeek[];
  firstDayOfWeek?: GraphDayOfWeek;
  index?: GraphWeekIndex;
}

export interface GraphRecurrenceRange {
  type: 'endDate' | 'noEnd' | 'numbered';
  /** YYYY-MM-DD, the day of the first occurrence. */
  startDate: string;
  endDate?: string;
  numberOfOccurrences?: number;
  recurrenceTimeZone?: string;
}

export interface GraphPatternedRecurrence {
  pattern: GraphRecurrencePattern;
  range: GraphRecurrenceRange;
}

export interface GraphEmailAddress {
  name?: string;
  address: string;
}

export interface GraphAttendee {
  type: 'required' | 'optional' | 'resource';
  emailAddress: GraphEmailAddress;
  status?: { response: 'none' | 'organizer' | 'tentativelyAccepted' | 'accepted' | 'declined' | 'notResponded'; time?: string };
}

export interface GraphItemBody {
  contentType: 'text' | 'html';
  content: string;
}

export interface GraphLocation {
  displayName: string;
  locationUri?: string;
  coordinates?: { latitude?: number; longitude?: number };
}

export interface GraphFileAttachment {
  '@odata.type': '#microsoft.graph.fileAttachment';
  name: string;
  contentType: string;
  /** base64 */
  contentBytes: string;
  isInline?: boolean;
}

/** What the target writes for an event (POST /events, PATCH of an occurrence). */
export interface GraphEventInput {
  subject: string;
  body: GraphItemBody;
  start: GraphDateTimeTimeZone;
  end: GraphDateTimeTimeZone;
  isAllDay: boolean;
  location: GraphLocation;
  locations: GraphLocation[];
  showAs: 'free' | 'tentative' | 'busy' | 'oof' | 'workingElsewhere' | 'unknown';
  sensitivity: 'normal' | 'personal' | 'private' | 'confidential';
  importance: 'low' | 'normal' | 'high';
  categories: string[];
  isReminderOn: boolean;
  reminderMinutesBeforeStart: number;
  attendees: GraphAttendee[];
  /** RSVP=TRUE: the organizer asks for answers. */
  responseRequested?: boolean;
  organizer?: { emailAddress: GraphEmailAddress };
  recurrence: GraphPatternedRecurrence | null;
  attachments: GraphFileAttachment[];
  /** Not writable on create: the target keeps the source UID in an extended property too. */
  iCalUId: string;
}

/** An event as Graph lists it (GET /events, /instances, /exceptionOccurrences). */
export interface GraphEvent extends GraphEventInput {
  id?: string;
  type?: 'singleInstance' | 'occurrence' | 'exception' | 'seriesMaster';
  /** DateTimeOffset (UTC, "2017-10-01T07:00:00Z") of the occurrence an exception replaces. */
  originalStart?: string;
  /** The zones the organizer made the event in; Graph lists start and end in UTC unless asked otherwise. */
  originalStartTimeZone?: string;
  originalEndTimeZone?: string;
  isCancelled?: boolean;
  createdDateTime?: string;
  lastModifiedDateTime?: string;
}

export interface GraphPhysicalAddress {
  street?: string;
  city?: string;
  state?: string;
  postalCode?: string;
  countryOrRegion?: string;
}

export interface GraphContact {
  displayName?: string;
  givenName?: string;
  surname?: string;
  middleName?: string;
  nickName?: string;
  title?: string;
  generation?: string;
  initials?: string;
  companyName?: string;
  department?: string;
  jobTitle?: string;
  profession?: string;
  officeLocation?: string;
  manager?: string;
  assistantName?: string;
  emailAddresses?: GraphEmailAddress[];
  businessPhones?: string[];
  homePhones?: string[];
  mobilePhone?: string | null;
  homeAddress?: GraphPhysicalAddress;
  businessAddress?: GraphPhysicalAddress;
  otherAddress?: GraphPhysicalAddress;
  /** DateTimeOffset, "1974-07-22T00:00:00Z". */
  birthday?: string | null;
  personalNotes?: string;
  categories?: string[];
  imAddresses?: string[];
  businessHomePage?: string | null;
  spouseName?: string;
  children?: string[];
  createdDateTime?: string;
  lastModifiedDateTime?: string;
}

/** A contact's photo: read and written apart from the contact (GET/PUT /contacts/{id}/photo/$value). */
export interface GraphPhoto {
  contentType: string;
  bytes: Buffer;
}

export interface GraphChecklistItem {
  displayName: string;
  isChecked: boolean;
}

export interface GraphLinkedResource {
  webUrl: string;
  displayName?: string;
  applicationName?: string;
}

export interface GraphTodoTask {
  title: string;
  body?: GraphItemBody;
  importance: 'low' | 'normal' | 'high';
  status: 'notStarted' | 'inProgress' | 'completed' | 'waitingOnOthers' | 'deferred';
  dueDateTime?: GraphDateTimeTimeZone | null;
  startDateTime?: GraphDateTimeTimeZone | null;
  completedDateTime?: GraphDateTimeTimeZone | null;
  reminderDateTime?: GraphDateTimeTimeZone | null;
  isReminderOn: boolean;
  recurrence?: GraphPatternedRecurrence | null;
  categories: string[];
  checklistItems: GraphChecklistItem[];
  linkedResources: GraphLinkedResource[];
  createdDateTime?: string;
  lastModifiedDateTime?: string;
}
