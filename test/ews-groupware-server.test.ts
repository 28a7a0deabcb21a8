import { createRequire } from 'node:module';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, startEwsServer, type EwsServer, type EwsUser } from './helpers/ews-server';
import { md4, ntowfV2 } from './helpers/ews-server/ntlm';
import { NS, parseXml } from './helpers/ews-server/xml';

// An NTLM client written by others (the one ews-javascript-api's xhr uses), so the server's
// NTLMv2 check is proven against an independent implementation of [MS-NLMP].
const ntlmClient = createRequire(import.meta.url)('@ewsjs/ntlm-client') as {
  createType1Message(workstation?: string, target?: string): string;
  decodeType2Message(header: string): unknown;
  createType3Message(type2: unknown, username: string, password: string, workstation?: string, target?: string): string;
};

const alice: EwsUser = { email: 'alice@example.test', username: 'CONTOSO\\alice', password: 'Al:ice "pässwörd" 7' };
const bob: EwsUser = { email: 'bob@example.test', username: 'bob', password: 'bob-Secret-8812' };
const SOURCE_UID = { PropertySetId: '5c0e5a3e-8a57-4c1d-9f0b-6b4f5e1d2a90', PropertyName: 'SourceUid', PropertyType: 'String' };

interface Answer {
  status: number;
  text: string;
  headers: Headers;
  doc: Document | undefined;
}

const all = (doc: Document | Element | undefined, name: string, ns: string = NS.types): Element[] => (doc ? Array.from(doc.getElementsByTagNameNS(ns, name)) : []);
const first = (doc: Document | Element | undefined, name: string, ns: string = NS.types) => all(doc, name, ns)[0];
const codes = (answer: Answer) => all(answer.doc, 'ResponseCode', NS.messages).map((element) => element.textContent);
const uriXml = (uri: Record<string, string>) => `<t:ExtendedFieldURI ${Object.entries(uri).map(([k, v]) => `${k}="${v}"`).join(' ')}/>`;

function envelope(body: string, header = '<t:RequestServerVersion Version="Exchange2010_SP1"/>'): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${NS.soap}" xmlns:t="${NS.types}" xmlns:m="${NS.messages}">` +
    `<soap:Header>${header}</soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`
  );
}

describe('EWS test server: groupware (https, plain SOAP)', () => {
  let server: EwsServer;
  let agent: Agent;

  async function soap(body: string, options: { authorization?: string; header?: string; dispatcher?: Agent } = {}): Promise<Answer> {
    const response = await undiciFetch(server.ewsUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', authorization: options.authorization ?? basicAuth(alice) },
      body: envelope(body, options.header),
      dispatcher: options.dispatcher ?? agent,
    });
    const text = await response.text();
    return { status: response.status, text, headers: response.headers as unknown as Headers, doc: parseXml(text) };
  }

  const createItems = (items: string, attributes = 'MessageDisposition="SaveOnly" SendMeetingInvitations="SendToNone"', folder = '<t:DistinguishedFolderId Id="calendar"/>') =>
    soap(`<m:CreateItem ${attributes}><m:SavedItemFolderId>${folder}</m:SavedItemFolderId><m:Items>${items}</m:Items></m:CreateItem>`);

  const getItems = (ids: string, additional = '', shape = 'AllProperties') =>
    soap(`<m:GetItem><m:ItemShape><t:BaseShape>${shape}</t:BaseShape>${additional ? `<t:AdditionalProperties>${additional}</t:AdditionalProperties>` : ''}</m:ItemShape><m:ItemIds>${ids}</m:ItemIds></m:GetItem>`);

  beforeAll(async () => {
    server = await startEwsServer({ users: [alice, bob] });
    agent = new Agent({ connect: { ca: server.caCertPem } });
  });

  afterEach(() => {
    server.simulate({ authentication: 'basic+ntlm', busyRequests: 0 });
  });

  afterAll(async () => {
    await agent.close();
    await server.stop();
  });

  it('finds calendar, contacts and task folders deep and shallow, refuses a duplicate name, and counts items', async () => {
    const created = await soap(
      '<m:CreateFolder><m:ParentFolderId><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderId><m:Folders>' +
        '<t:CalendarFolder><t:DisplayName>Team calendar</t:DisplayName></t:CalendarFolder></m:Folders></m:CreateFolder>',
    );
    expect(codes(created)).toEqual(['NoError']);
    const teamId = first(created.doc, 'FolderId')?.getAttribute('Id') ?? '';
    await soap(
      `<m:CreateFolder><m:ParentFolderId><t:FolderId Id="${teamId}"/></m:ParentFolderId><m:Folders><t:CalendarFolder><t:DisplayName>Ünterkalender 2</t:DisplayName></t:CalendarFolder></m:Folders></m:CreateFolder>`,
    );
    const contactsId = server.seedFolder(alice.email, { parent: 'msgfolderroot', displayName: 'Lieferanten', element: 'ContactsFolder' });
    server.seedFolder(alice.email, { parent: 'tasks', displayName: 'Projekt', element: 'TasksFolder' });

    const duplicate = await soap(
      '<m:CreateFolder><m:ParentFolderId><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderId><m:Folders>' +
        '<t:CalendarFolder><t:DisplayName>TEAM CALENDAR</t:DisplayName></t:CalendarFolder></m:Folders></m:CreateFolder>',
    );
    expect(codes(duplicate)).toEqual(['ErrorFolderExists']);

    const deep = await soap(
      '<m:FindFolder Traversal="Deep"><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>' +
        '<m:ParentFolderIds><t:DistinguishedFolderId Id="msgfolderroot"/></m:ParentFolderIds></m:FindFolder>',
    );
    expect(deep.status).toBe(200);
    const folders = all(deep.doc, 'DisplayName').map((element) => [element.textContent, element.parentNode && (element.parentNode as Element).localName, first(element.parentNode as Element, 'FolderClass')?.textContent]);
    expect(folders).toEqual([
      ['Calendar', 'CalendarFolder', 'IPF.Appointment'],
      ['Team calendar', 'CalendarFolder', 'IPF.Appointment'],
      ['Ünterkalender 2', 'CalendarFolder', 'IPF.Appointment'],
      ['Contacts', 'ContactsFolder', 'IPF.Contact'],
      ['Tasks', 'TasksFolder', 'IPF.Task'],
      ['Projekt', 'TasksFolder', 'IPF.Task'],
      ['Inbox', 'Folder', 'IPF.Note'],
      ['Lieferanten', 'ContactsFolder', 'IPF.Contact'],
    ]);
    expect(first(deep.doc, 'RootFolder', NS.messages)?.getAttribute('TotalItemsInView')).toBe('8');

    const shallow = await soap(
      '<m:FindFolder Traversal="Shallow"><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="folder:DisplayName"/></t:AdditionalProperties></m:FolderShape>' +
        '<m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindFolder>',
    );
    expect(all(shallow.doc, 'DisplayName').map((element) => element.textContent)).toEqual(['Team calendar']);

    server.seedItem(alice.email, contactsId, '<t:Contact><t:DisplayName>Ada</t:DisplayName></t:Contact>');
    server.seedItem(alice.email, contactsId, '<t:Contact><t:DisplayName>Grace</t:DisplayName></t:Contact>');
    const folder = await soap(`<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds><t:FolderId Id="${contactsId}"/></m:FolderIds></m:GetFolder>`);
    expect(first(folder.doc, 'TotalCount')?.textContent).toBe('2');
  });

  it('pages 120 items with IndexedPageItemView, from the beginning and from the end', async () => {
    const folderId = server.seedFolder(alice.email, { parent: 'contacts', displayName: 'Paging', element: 'ContactsFolder' });
    for (let i = 0; i < 120; i++) server.seedItem(alice.email, folderId, `<t:Contact><t:DisplayName>Contact ${i}</t:DisplayName></t:Contact>`);
    const find = (offset: number, basePoint = 'Beginning', max = 50) =>
      soap(
        `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="contacts:DisplayName"/></t:AdditionalProperties></m:ItemShape>` +
          `<m:IndexedPageItemView MaxEntriesReturned="${max}" Offset="${offset}" BasePoint="${basePoint}"/><m:ParentFolderIds><t:FolderId Id="${folderId}"/></m:ParentFolderIds></m:FindItem>`,
      );
    const seen: string[] = [];
    const pages: [string | null | undefined, string | null | undefined, number][] = [];
    for (let offset = 0, last = false; !last; ) {
      const page = await find(offset);
      const root = first(page.doc, 'RootFolder', NS.messages);
      const names = all(page.doc, 'DisplayName').map((element) => element.textContent ?? '');
      seen.push(...names);
      pages.push([root?.getAttribute('IndexedPagingOffset'), root?.getAttribute('IncludesLastItemInRange'), names.length]);
      last = root?.getAttribute('IncludesLastItemInRange') === 'true';
      offset = Number(root?.getAttribute('IndexedPagingOffset'));
      expect(pages.length).toBeLessThan(5);
    }
    expect(pages).toEqual([['50', 'false', 50], ['100', 'false', 50], ['120', 'true', 20]]);
    expect(new Set(seen).size).toBe(120);
    expect(seen[0]).toBe('Contact 0');

    const fromEnd = await find(25, 'End', 10);
    expect(all(fromEnd.doc, 'DisplayName').map((element) => element.textContent)).toEqual(Array.from({ length: 10 }, (_, i) => `Contact ${85 + i}`));
    expect(first(fromEnd.doc, 'RootFolder', NS.messages)?.getAttribute('IndexedPagingOffset')).toBe('36');

    const missingBasePoint = await soap(`<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned="5" Offset="0"/><m:ParentFolderIds><t:FolderId Id="${folderId}"/></m:ParentFolderIds></m:FindItem>`);
    expect(missingBasePoint.status).toBe(500);
    expect(missingBasePoint.text).toContain('ErrorSchemaValidation');
  });

  it('stores an extended property, finds the item by it with IsEqualTo, and returns it only when asked', async () => {
    const contact = (uid: string, name: string) =>
      `<t:Contact><t:Subject>${name}</t:Subject><t:ExtendedProperty>${uriXml(SOURCE_UID)}<t:Value>${uid}</t:Value></t:ExtendedProperty><t:DisplayName>${name}</t:DisplayName><t:GivenName>${name}</t:GivenName></t:Contact>`;
    const created = await createItems(contact('uid-1@example.test', 'Ada') + contact('uid-2@example.test', 'Grace'), 'MessageDisposition="SaveOnly"', '<t:DistinguishedFolderId Id="contacts"/>');
    expect(codes(created)).toEqual(['NoError', 'NoError']);
    const lookup = (value: string) =>
      soap(
        `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>${uriXml(SOURCE_UID)}</t:AdditionalProperties></m:ItemShape>` +
          `<m:IndexedPageItemView MaxEntriesReturned="10" Offset="0" BasePoint="Beginning"/>` +
          `<m:Restriction><t:IsEqualTo>${uriXml(SOURCE_UID)}<t:FieldURIOrConstant><t:Constant Value="${value}"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction>` +
          '<m:ParentFolderIds><t:DistinguishedFolderId Id="contacts"/></m:ParentFolderIds></m:FindItem>',
      );
    const hit = await lookup('uid-2@example.test');
    expect(all(hit.doc, 'Contact').length).toBe(1);
    expect(first(hit.doc, 'ItemId')?.getAttribute('Id')).toBe(all(created.doc, 'ItemId')[1]?.getAttribute('Id'));
    expect(first(hit.doc, 'Value')?.textContent).toBe('uid-2@example.test');
    expect(all((await lookup('uid-3@example.test')).doc, 'Contact')).toEqual([]);

    const id = `<t:ItemId Id="${all(created.doc, 'ItemId')[0]?.getAttribute('Id')}"/>`;
    expect(first((await getItems(id)).doc, 'ExtendedProperty')).toBeUndefined();
    const withProperty = await getItems(id, uriXml(SOURCE_UID), 'IdOnly');
    expect(first(withProperty.doc, 'Value')?.textContent).toBe('uid-1@example.test');
    expect(first(withProperty.doc, 'ExtendedFieldURI')?.getAttribute('PropertySetId')).toBe(SOURCE_UID.PropertySetId);
  });

  it('reads back a recurring meeting with a modified and a deleted occurrence, and sends nothing under SendToNone', async () => {
    const created = await createItems(
      '<t:CalendarItem><t:Subject>Weekly sync</t:Subject><t:Body BodyType="Text">Agenda</t:Body><t:Categories><t:String>Team</t:String></t:Categories>' +
        '<t:ReminderMinutesBeforeStart>15</t:ReminderMinutesBeforeStart>' +
        `<t:ExtendedProperty>${uriXml(SOURCE_UID)}<t:Value>weekly@example.test</t:Value></t:ExtendedProperty>` +
        '<t:UID>weekly@example.test</t:UID><t:Start>2026-03-02T08:00:00Z</t:Start><t:End>2026-03-02T09:00:00Z</t:End><t:IsAllDayEvent>false</t:IsAllDayEvent>' +
        '<t:LegacyFreeBusyStatus>Busy</t:LegacyFreeBusyStatus><t:Location>Room 1</t:Location>' +
        '<t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>carol@example.test</t:EmailAddress></t:Mailbox></t:Attendee></t:RequiredAttendees>' +
        '<t:OptionalAttendees><t:Attendee><t:Mailbox><t:EmailAddress>dave@example.test</t:EmailAddress></t:Mailbox></t:Attendee></t:OptionalAttendees>' +
        '<t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence>' +
        '<t:NumberedRecurrence><t:StartDate>2026-03-02</t:StartDate><t:NumberOfOccurrences>6</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>' +
        '<t:StartTimeZone Id="W. Europe Standard Time"/><t:EndTimeZone Id="W. Europe Standard Time"/></t:CalendarItem>',
    );
    expect(codes(created)).toEqual(['NoError']);
    const masterId = first(created.doc, 'ItemId')?.getAttribute('Id') ?? '';

    const updated = await soap(
      '<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange>' +
        `<t:OccurrenceItemId RecurringMasterId="${masterId}" InstanceIndex="2"/><t:Updates>` +
        '<t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:CalendarItem><t:Subject>Weekly sync (moved)</t:Subject></t:CalendarItem></t:SetItemField>' +
        '<t:SetItemField><t:FieldURI FieldURI="calendar:Start"/><t:CalendarItem><t:Start>2026-03-10T08:00:00Z</t:Start></t:CalendarItem></t:SetItemField>' +
        '<t:SetItemField><t:FieldURI FieldURI="calendar:End"/><t:CalendarItem><t:End>2026-03-10T09:00:00Z</t:End></t:CalendarItem></t:SetItemField>' +
        '</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>',
    );
    expect(codes(updated)).toEqual(['NoError']);
    const deleted = await soap(`<m:DeleteItem DeleteType="HardDelete" SendMeetingCancellations="SendToNone"><m:ItemIds><t:OccurrenceItemId RecurringMasterId="${masterId}" InstanceIndex="4"/></m:ItemIds></m:DeleteItem>`);
    expect(codes(deleted)).toEqual(['NoError']);

    const master = await getItems(`<t:ItemId Id="${masterId}"/>`, '<t:FieldURI FieldURI="calendar:UID"/>');
    const item = first(master.doc, 'CalendarItem');
    expect(first(item, 'CalendarItemType')?.textContent).toBe('RecurringMaster');
    expect(first(item, 'UID')?.textContent).toBe('weekly@example.test');
    const modified = first(item, 'ModifiedOccurrences');
    expect(all(modified, 'Occurrence').map((o) => [first(o, 'Start')?.textContent, first(o, 'OriginalStart')?.textContent])).toEqual([['2026-03-10T08:00:00Z', '2026-03-09T08:00:00Z']]);
    expect(all(first(item, 'DeletedOccurrences'), 'Start').map((s) => s.textContent)).toEqual(['2026-03-23T08:00:00Z']);
    expect(first(first(item, 'FirstOccurrence'), 'Start')?.textContent).toBe('2026-03-02T08:00:00Z');
    // Summer time in Berlin from 29 March: 09:00 local is 07:00Z.
    expect(first(first(item, 'LastOccurrence'), 'Start')?.textContent).toBe('2026-04-06T07:00:00Z');
    expect(first(item, 'Organizer')?.textContent).toContain('alice@example.test');
    expect(all(first(item, 'RequiredAttendees'), 'EmailAddress').map((e) => e.textContent)).toEqual(['carol@example.test']);
    expect(first(item, 'Body')?.textContent).toBe('Agenda');
    // Schema order: Subject before Start, Recurrence before ModifiedOccurrences, StartTimeZone last.
    const order = Array.from(item?.childNodes ?? []).map((node) => (node as Element).localName);
    expect(order.indexOf('Subject')).toBeLessThan(order.indexOf('Start'));
    expect(order.indexOf('Recurrence')).toBeLessThan(order.indexOf('ModifiedOccurrences'));
    expect(order.indexOf('DeletedOccurrences')).toBeLessThan(order.indexOf('StartTimeZone'));

    const occurrence = await getItems(`<t:OccurrenceItemId RecurringMasterId="${masterId}" InstanceIndex="2"/><t:OccurrenceItemId RecurringMasterId="${masterId}" InstanceIndex="4"/><t:OccurrenceItemId RecurringMasterId="${masterId}" InstanceIndex="7"/>`);
    expect(codes(occurrence)).toEqual(['NoError', 'ErrorCalendarOccurrenceIsDeletedFromRecurrence', 'ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange']);
    const exception = first(occurrence.doc, 'CalendarItem');
    expect([first(exception, 'CalendarItemType')?.textContent, first(exception, 'Subject')?.textContent, first(exception, 'Location')?.textContent, first(exception, 'Recurrence')]).toEqual(['Exception', 'Weekly sync (moved)', 'Room 1', undefined]);

    // A field of the series deleted on one occurrence is gone from that occurrence only.
    const cleared = await soap(
      '<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange>' +
        `<t:OccurrenceItemId RecurringMasterId="${masterId}" InstanceIndex="5"/><t:Updates>` +
        '<t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:CalendarItem><t:Subject>Weekly sync (online)</t:Subject></t:CalendarItem></t:SetItemField>' +
        '<t:DeleteItemField><t:FieldURI FieldURI="calendar:Location"/></t:DeleteItemField><t:DeleteItemField><t:FieldURI FieldURI="item:Categories"/></t:DeleteItemField>' +
        '</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>',
    );
    expect(codes(cleared)).toEqual(['NoError']);
    const both = await getItems(`<t:OccurrenceItemId RecurringMasterId="${masterId}" InstanceIndex="5"/><t:OccurrenceItemId RecurringMasterId="${masterId}" InstanceIndex="2"/>`);
    const [fifth, second] = all(both.doc, 'CalendarItem');
    expect([first(fifth, 'Subject')?.textContent, first(fifth, 'Location'), first(fifth, 'Categories'), first(fifth, 'Body')?.textContent]).toEqual(['Weekly sync (online)', undefined, undefined, 'Agenda']);
    expect([first(second, 'Location')?.textContent, first(first(second, 'Categories'), 'String')?.textContent]).toEqual(['Room 1', 'Team']);

    const mime = await soap(`<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:IncludeMimeContent>true</t:IncludeMimeContent></m:ItemShape><m:ItemIds><t:ItemId Id="${masterId}"/></m:ItemIds></m:GetItem>`);
    expect(Buffer.from(first(mime.doc, 'MimeContent')?.textContent ?? '', 'base64').toString()).toContain('UID:weekly@example.test');

    const crossing = await soap(
      '<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange>' +
        `<t:OccurrenceItemId RecurringMasterId="${masterId}" InstanceIndex="3"/><t:Updates>` +
        '<t:SetItemField><t:FieldURI FieldURI="calendar:Start"/><t:CalendarItem><t:Start>2026-03-30T07:00:00Z</t:Start></t:CalendarItem></t:SetItemField>' +
        '<t:SetItemField><t:FieldURI FieldURI="calendar:End"/><t:CalendarItem><t:End>2026-03-30T08:00:00Z</t:End></t:CalendarItem></t:SetItemField>' +
        '</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>',
    );
    expect(codes(crossing)).toEqual(['ErrorOccurrenceCrossingBoundary']);
    expect(server.sentMail(alice.email)).toEqual([]);
  });

  it('records a meeting request for SendOnlyToAll, none for SendToNone, and requires the attribute for calendar items', async () => {
    const meeting = (uid: string) =>
      `<t:CalendarItem><t:Subject>Kick-off</t:Subject><t:UID>${uid}</t:UID><t:Start>2026-05-04T10:00:00Z</t:Start><t:End>2026-05-04T11:00:00Z</t:End>` +
      '<t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>erin@example.test</t:EmailAddress></t:Mailbox></t:Attendee></t:RequiredAttendees>' +
      '<t:Resources><t:Attendee><t:Mailbox><t:EmailAddress>room2@example.test</t:EmailAddress></t:Mailbox></t:Attendee></t:Resources></t:CalendarItem>';
    const before = server.sentMail(bob.email).length;
    const asBob = (items: string, attributes: string) =>
      soap(`<m:CreateItem ${attributes}><m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"/></m:SavedItemFolderId><m:Items>${items}</m:Items></m:CreateItem>`, { authorization: basicAuth(bob) });
    expect(codes(await asBob(meeting('none@example.test'), 'MessageDisposition="SaveOnly" SendMeetingInvitations="SendToNone"'))).toEqual(['NoError']);
    expect(server.sentMail(bob.email).length).toBe(before);
    expect(codes(await asBob(meeting('missing@example.test'), 'MessageDisposition="SaveOnly"'))).toEqual(['ErrorSendMeetingInvitationsRequired']);
    const sent = await asBob(meeting('all@example.test'), 'SendMeetingInvitations="SendOnlyToAll"');
    expect(codes(sent)).toEqual(['NoError']);
    expect(server.sentMail(bob.email).slice(before)).toEqual([
      { kind: 'request', recipients: ['erin@example.test', 'room2@example.test'], itemId: first(sent.doc, 'ItemId')?.getAttribute('Id'), operation: 'CreateItem' },
    ]);
    const cancelled = await soap(`<m:DeleteItem DeleteType="MoveToDeletedItems" SendMeetingCancellations="SendToAllAndSaveCopy"><m:ItemIds><t:ItemId Id="${first(sent.doc, 'ItemId')?.getAttribute('Id')}"/></m:ItemIds></m:DeleteItem>`, { authorization: basicAuth(bob) });
    expect(codes(cancelled)).toEqual(['NoError']);
    expect(server.sentMail(bob.email).at(-1)?.kind).toBe('cancel');
    expect(server.sentMail(alice.email).some((mail) => mail.recipients.includes('erin@example.test'))).toBe(false);
  });

  it('refuses elements out of schema order and read-only properties', async () => {
    const outOfOrder = await createItems('<t:CalendarItem><t:Start>2026-05-04T10:00:00Z</t:Start><t:Subject>Late subject</t:Subject><t:End>2026-05-04T11:00:00Z</t:End></t:CalendarItem>');
    expect(outOfOrder.status).toBe(500);
    expect(outOfOrder.text).toContain('ErrorSchemaValidation');
    const readOnly = await createItems('<t:CalendarItem><t:Subject>x</t:Subject><t:Start>2026-05-04T10:00:00Z</t:Start><t:End>2026-05-04T11:00:00Z</t:End><t:CalendarItemType>Single</t:CalendarItemType></t:CalendarItem>');
    expect(codes(readOnly)).toEqual(['ErrorInvalidPropertySet']);
  });

  it('attaches a contact photo with CreateAttachment and shows it as IsContactPhoto', async () => {
    const contactId = server.seedItem(alice.email, 'contacts', '<t:Contact><t:DisplayName>Photo person</t:DisplayName><t:EmailAddresses><t:Entry Key="EmailAddress1">p@example.test</t:Entry></t:EmailAddresses></t:Contact>');
    const photo = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]).toString('base64');
    const attached = await soap(
      `<m:CreateAttachment><m:ParentItemId Id="${contactId}"/><m:Attachments><t:FileAttachment><t:Name>ContactPicture.jpg</t:Name><t:ContentType>image/jpeg</t:ContentType><t:IsContactPhoto>true</t:IsContactPhoto><t:Content>${photo}</t:Content></t:FileAttachment></m:Attachments></m:CreateAttachment>`,
    );
    expect(codes(attached)).toEqual(['NoError']);
    const contact = await getItems(`<t:ItemId Id="${contactId}"/>`);
    expect([first(contact.doc, 'IsContactPhoto')?.textContent, first(contact.doc, 'HasPicture')?.textContent, first(contact.doc, 'Content')]).toEqual(['true', 'true', undefined]);
    const attachment = await soap(`<m:GetAttachment><m:AttachmentIds><t:AttachmentId Id="${first(attached.doc, 'AttachmentId')?.getAttribute('Id')}"/></m:AttachmentIds></m:GetAttachment>`);
    expect(first(attachment.doc, 'Content')?.textContent).toBe(photo);
  });

  it('keeps a regenerating task recurrence and completion, and a distribution list with its members', async () => {
    const created = await createItems(
      '<t:Task><t:Subject>Water the plants</t:Subject><t:CompleteDate>2026-04-02T00:00:00Z</t:CompleteDate><t:DueDate>2026-04-01T00:00:00Z</t:DueDate><t:PercentComplete>100</t:PercentComplete>' +
        '<t:Recurrence><t:DailyRegeneration><t:Interval>3</t:Interval></t:DailyRegeneration><t:NoEndRecurrence><t:StartDate>2026-03-01</t:StartDate></t:NoEndRecurrence></t:Recurrence>' +
        '<t:StartDate>2026-03-01T00:00:00Z</t:StartDate><t:Status>Completed</t:Status></t:Task>',
      'MessageDisposition="SaveOnly"',
      '<t:DistinguishedFolderId Id="tasks"/>',
    );
    expect(codes(created)).toEqual(['NoError']);
    const task = first((await getItems(`<t:ItemId Id="${first(created.doc, 'ItemId')?.getAttribute('Id')}"/>`)).doc, 'Task');
    expect([first(task, 'IsComplete')?.textContent, first(task, 'IsRecurring')?.textContent, first(first(task, 'DailyRegeneration'), 'Interval')?.textContent, first(task, 'Status')?.textContent]).toEqual(['true', 'true', '3', 'Completed']);
    // A regenerating pattern is for tasks only.
    const regeneratingMeeting = await createItems('<t:CalendarItem><t:Start>2026-05-04T10:00:00Z</t:Start><t:End>2026-05-04T11:00:00Z</t:End><t:Recurrence><t:DailyRegeneration><t:Interval>3</t:Interval></t:DailyRegeneration><t:NoEndRecurrence><t:StartDate>2026-05-04</t:StartDate></t:NoEndRecurrence></t:Recurrence></t:CalendarItem>');
    expect(regeneratingMeeting.text).toContain('ErrorSchemaValidation');

    const contactId = server.seedItem(alice.email, 'contacts', '<t:Contact><t:DisplayName>Member</t:DisplayName><t:EmailAddresses><t:Entry Key="EmailAddress1">m@example.test</t:Entry><t:Entry Key="EmailAddress2">m2@example.test</t:Entry></t:EmailAddresses><t:PhysicalAddresses><t:Entry Key="Home"><t:Street>Hauptstr. 1</t:Street><t:City>Köln</t:City></t:Entry></t:PhysicalAddresses><t:PhoneNumbers><t:Entry Key="MobilePhone">+49 170 1</t:Entry></t:PhoneNumbers></t:Contact>');
    const list = await createItems(
      `<t:DistributionList><t:DisplayName>Team</t:DisplayName><t:Members><t:Member><t:Mailbox><t:Name>Member</t:Name><t:MailboxType>Contact</t:MailboxType><t:ItemId Id="${contactId}"/></t:Mailbox></t:Member>` +
        '<t:Member><t:Mailbox><t:EmailAddress>outside@example.test</t:EmailAddress></t:Mailbox></t:Member></t:Members></t:DistributionList>',
      'MessageDisposition="SaveOnly"',
      '<t:DistinguishedFolderId Id="contacts"/>',
    );
    const read = await getItems(`<t:ItemId Id="${first(list.doc, 'ItemId')?.getAttribute('Id')}"/>`);
    expect(all(read.doc, 'Member').map((member) => first(member, 'ItemId')?.getAttribute('Id') ?? first(member, 'EmailAddress')?.textContent)).toEqual([contactId, 'outside@example.test']);
    const updated = await soap(
      '<m:UpdateItem ConflictResolution="AutoResolve"><m:ItemChanges><t:ItemChange>' +
        `<t:ItemId Id="${contactId}"/><t:Updates><t:SetItemField><t:IndexedFieldURI FieldURI="contacts:PhysicalAddress:PostalCode" FieldIndex="Home"/><t:Contact><t:PhysicalAddresses><t:Entry Key="Home"><t:PostalCode>50667</t:PostalCode></t:Entry></t:PhysicalAddresses></t:Contact></t:SetItemField>` +
        '<t:DeleteItemField><t:IndexedFieldURI FieldURI="contacts:EmailAddress" FieldIndex="EmailAddress2"/></t:DeleteItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>',
    );
    expect(codes(updated)).toEqual(['NoError']);
    const contact = first((await getItems(`<t:ItemId Id="${contactId}"/>`)).doc, 'Contact');
    expect(all(first(contact, 'EmailAddresses'), 'Entry').map((entry) => entry.textContent)).toEqual(['m@example.test']);
    expect(['Street', 'City', 'PostalCode'].map((name) => first(first(contact, 'PhysicalAddresses'), name)?.textContent)).toEqual(['Hauptstr. 1', 'Köln', '50667']);
  });

  it('answers ErrorServerBusy with BackOffMilliseconds for the next N requests and counts requests per user and operation', async () => {
    const before = server.requestCounts(alice.username).GetFolder ?? 0;
    server.simulate({ busyRequests: 2, backOffMilliseconds: 1234 });
    const getFolder = () => soap('<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="tasks"/></m:FolderIds></m:GetFolder>');
    const answers = [await getFolder(), await getFolder(), await getFolder()];
    expect(answers.map((answer) => answer.status)).toEqual([500, 500, 200]);
    expect(answers[0]?.text).toContain('ErrorServerBusy');
    expect(first(answers[1]?.doc, 'Value')?.getAttribute('Name')).toBe('BackOffMilliseconds');
    expect(first(answers[1]?.doc, 'Value')?.textContent).toBe('1234');
    expect(server.requestCounts(alice.username).GetFolder).toBe(before + 3);
  });
});

describe('EWS test server: NTLM (http)', () => {
  let server: EwsServer;

  beforeAll(async () => {
    server = await startEwsServer({ users: [alice], tls: false, simulation: { authentication: 'ntlm' } });
  });

  afterAll(async () => {
    await server.stop();
  });

  const body = envelope('<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>');

  /** Negotiate and authenticate on one kept-alive connection, as an NTLM client must. */
  async function ntlmLogin(user: string, domain: string, password: string): Promise<{ challengeStatus: number; status: number; text: string }> {
    const agent = new Agent({ connections: 1 });
    try {
      const post = (authorization: string) => undiciFetch(server.ewsUrl, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', authorization }, body, dispatcher: agent });
      const challenge = await post(ntlmClient.createType1Message('WS01', domain));
      await challenge.text();
      const header = challenge.headers.get('www-authenticate') ?? '';
      const type2 = ntlmClient.decodeType2Message(header);
      const answer = await post(ntlmClient.createType3Message(type2, user, password, 'WS01', domain));
      return { challengeStatus: challenge.status, status: answer.status, text: await answer.text() };
    } finally {
      await agent.close();
    }
  }

  it('computes the NT hash and NTOWFv2 of the [MS-NLMP] 4.2 examples and RFC 1320', () => {
    expect(md4(Buffer.from('abc')).toString('hex')).toBe('a448017aaf21d8525fc10ae87aa6729d');
    expect(md4(Buffer.from('Password', 'utf16le')).toString('hex')).toBe('a4f49c406510bdcab6824ee7c30fd852');
    expect(ntowfV2('Password', 'User', 'Domain').toString('hex')).toBe('0c868a403bfd7a93a3001ef22ef02e3f');
  });

  it('refuses Basic when only NTLM is allowed, and offers no Basic', async () => {
    const response = await undiciFetch(server.ewsUrl, { method: 'POST', headers: { 'content-type': 'text/xml', authorization: basicAuth(alice) }, body });
    await response.text();
    expect(response.status).toBe(401);
    const offered = response.headers.get('www-authenticate') ?? '';
    expect(offered).toContain('NTLM');
    expect(offered).not.toContain('Basic');
  });

  it('logs in with NTLMv2 and the right password, and refuses a wrong one', async () => {
    const good = await ntlmLogin('alice', 'CONTOSO', alice.password);
    expect([good.challengeStatus, good.status]).toEqual([401, 200]);
    expect(good.text).toContain('<m:ResponseCode>NoError</m:ResponseCode>');
    const wrong = await ntlmLogin('alice', 'CONTOSO', 'wrong-Passw0rd-1234');
    expect([wrong.challengeStatus, wrong.status]).toEqual([401, 401]);
    const stranger = await ntlmLogin('mallory', 'CONTOSO', alice.password);
    expect(stranger.status).toBe(401);
    expect(server.requests.filter((request) => request.status === 200).map((request) => request.user)).toEqual([alice.username]);
  });
});
