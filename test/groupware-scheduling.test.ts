import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroupwareCopyReport } from '@/server/cli/groupware-command';
import { DavEndpoint } from '@/server/engine/groupware/dav-endpoint';
import { verdictLines, verifyGroupware } from '@/server/engine/groupware/verify-groupware';
import { startCyrus, type CyrusServer } from './helpers/cyrus';
import { CYRUS_DAV_DOMAIN, type SentMail } from './helpers/cyrus-dav';
import { basicAuth, startRadicale, type RadicaleServer } from './helpers/radicale';
import { runNode } from './helpers/child-process';

/*
 * Issue #14: no attendee receives anything because of a migration. Cyrus IMAP's CalDAV server
 * schedules implicitly (RFC 6638): a PUT by the organizer sends iMIP to external attendees
 * (through sendmail, recorded here) and iTIP into local attendees' scheduling Inbox. The
 * control proves it does so for these very events; the copy must then send nothing.
 */

const password = 'correct horse battery';
const ferryScript = path.resolve('scripts/ferry.mjs');
const EXTERNAL = 'paula.partner@elsewhere.test';
const EXTERNAL_ORGANIZER = 'olga.organizer@elsewhere.test';
const at = (name: string) => `${name}@${CYRUS_DAV_DOMAIN}`;
/** alice moves her calendar to Cyrus; bob is a colleague there; carol and dave are the control. */
const cyrusUsers = ['alice', 'bob', 'carol', 'dave'].map((name) => ({ username: at(name), password }));

let cyrus: CyrusServer;
let radicale: RadicaleServer;
let dir: string;

interface Invitation {
  organizer: string;
  /** The account's local colleague and an outside address. */
  local: string;
  external: string;
}

const stamp = '20261201T090000Z';
const calendar = (body: string) => `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mailferry test//EN\r\n${body}END:VCALENDAR\r\n`;
const people = ({ organizer, local, external }: Invitation, partstat = 'NEEDS-ACTION') =>
  `ORGANIZER;CN=Organizer:mailto:${organizer}\r\n` +
  `ATTENDEE;CN=Colleague;ROLE=REQ-PARTICIPANT;PARTSTAT=${partstat};RSVP=TRUE:mailto:${local}\r\n` +
  `ATTENDEE;CN=Partner;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${external}\r\n`;

/**
 * The events and a task of an organizer, in the shapes that make a scheduling server write to
 * attendees: a meeting, a weekly series with a moved instance, an all-day event, one long past
 * (caldav_historical_age is off in the helper), and an assigned task.
 */
function organizerItems(prefix: string, who: Invitation): { uid: string; data: string }[] {
  const event = (uid: string, lines: string) => ({ uid: `${prefix}-${uid}`, data: calendar(lines.replaceAll('@UID@', `${prefix}-${uid}`)) });
  return [
    event('meeting', `BEGIN:VEVENT\r\nUID:@UID@\r\nDTSTAMP:${stamp}\r\nDTSTART:20270112T100000Z\r\nDTEND:20270112T110000Z\r\nSUMMARY:Quarterly planning\r\n${people(who)}END:VEVENT\r\n`),
    event(
      'weekly',
      `BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n` +
        `BEGIN:VEVENT\r\nUID:@UID@\r\nDTSTAMP:${stamp}\r\nDTSTART;TZID=Europe/Berlin:20270104T090000\r\nDTEND;TZID=Europe/Berlin:20270104T093000\r\nRRULE:FREQ=WEEKLY;COUNT=10\r\nEXDATE;TZID=Europe/Berlin:20270118T090000\r\nSUMMARY:Weekly sync\r\n${people(who)}END:VEVENT\r\n` +
        `BEGIN:VEVENT\r\nUID:@UID@\r\nDTSTAMP:${stamp}\r\nRECURRENCE-ID;TZID=Europe/Berlin:20270111T090000\r\nDTSTART;TZID=Europe/Berlin:20270111T140000\r\nDTEND;TZID=Europe/Berlin:20270111T143000\r\nSUMMARY:Weekly sync (moved)\r\n${people(who)}END:VEVENT\r\n`,
    ),
    event('allday', `BEGIN:VEVENT\r\nUID:@UID@\r\nDTSTAMP:${stamp}\r\nDTSTART;VALUE=DATE:20270201\r\nDTEND;VALUE=DATE:20270202\r\nSUMMARY:Offsite\r\n${people(who)}END:VEVENT\r\n`),
    event('past', `BEGIN:VEVENT\r\nUID:@UID@\r\nDTSTAMP:${stamp}\r\nDTSTART:20250310T080000Z\r\nDTEND:20250310T090000Z\r\nSUMMARY:Kick-off\r\n${people(who)}END:VEVENT\r\n`),
    event('task', `BEGIN:VTODO\r\nUID:@UID@\r\nDTSTAMP:${stamp}\r\nDUE:20270120T170000Z\r\nSUMMARY:Send the figures\r\nSTATUS:NEEDS-ACTION\r\n${people(who)}END:VTODO\r\n`),
  ];
}

/** An invitation the account accepted: a scheduling server would reply to the organizer. */
function acceptedItem(prefix: string, account: string, local: string) {
  const uid = `${prefix}-accepted`;
  return {
    uid,
    data: calendar(
      `BEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:${stamp}\r\nDTSTART:20270115T150000Z\r\nDTEND:20270115T160000Z\r\nSUMMARY:Partner review\r\n` +
        `ORGANIZER;CN=Olga:mailto:${EXTERNAL_ORGANIZER}\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:${account}\r\nATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${local}\r\nEND:VEVENT\r\n`,
    ),
  };
}

const cyrusCalendars = (user: string) => `${cyrus.dav!.url}dav/calendars/user/${encodeURIComponent(user)}/`;

async function put(url: string, user: string, data: string): Promise<number> {
  const response = await fetch(url, { method: 'PUT', headers: { authorization: basicAuth({ username: user, password }), 'content-type': 'text/calendar; charset=utf-8' }, body: data });
  const text = await response.text();
  expect(response.status, `PUT ${url}: ${text}`).toBeLessThan(300);
  return response.status;
}

/** The iTIP messages in a Cyrus user's scheduling Inbox (RFC 6638 2.2), as text. */
async function inbox(user: string): Promise<string[]> {
  const url = `${cyrusCalendars(user)}Inbox/`;
  const authorization = basicAuth({ username: user, password });
  const response = await fetch(url, { method: 'PROPFIND', headers: { authorization, depth: '1', 'content-type': 'application/xml' }, body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>' });
  const xml = await response.text();
  expect(response.status, xml).toBe(207);
  const hrefs = [...xml.matchAll(/<D:href>([^<]+\.ics)<\/D:href>/g)].map((m) => m[1]!);
  return Promise.all(hrefs.map(async (href) => (await fetch(new URL(href, url), { headers: { authorization } })).text()));
}

/** Every UID on a Cyrus user's calendars, with the stored text (calendar-query would do; PROPFIND + GET is plain). */
async function cyrusItems(user: string): Promise<Map<string, string>> {
  const authorization = basicAuth({ username: user, password });
  const home = cyrusCalendars(user);
  const list = async (url: string, depth: string) => {
    const response = await fetch(url, { method: 'PROPFIND', headers: { authorization, depth } });
    return [...(await response.text()).matchAll(/<D:href>([^<]+)<\/D:href>/g)].map((m) => m[1]!);
  };
  const items = new Map<string, string>();
  for (const collection of (await list(home, '1')).filter((href) => href.endsWith('/') && !/\/(Inbox|Outbox|Attachments)\/$/.test(href))) {
    for (const href of (await list(new URL(collection, home).href, '1')).filter((h) => h.endsWith('.ics'))) {
      const text = await (await fetch(new URL(href, home), { headers: { authorization } })).text();
      const uid = /^UID:(.*)$/m.exec(text.replaceAll('\r\n ', ''))?.[1]?.trim();
      if (uid) items.set(uid, text);
    }
  }
  return items;
}

async function radicaleCalendar(slug: string, components?: ('VEVENT' | 'VTODO')[]): Promise<string> {
  return (await radicale.createCollections('alice', { calendars: [{ slug, displayName: slug, components }] })).calendars[0]!;
}

/** Mail since `before`, as "to: METHOD" lines, so a failure shows what went out. */
const described = (mail: SentMail[]) => mail.map((m) => `${m.to.join(',')}: ${/^METHOD:(.*)$/m.exec(m.raw)?.[1] ?? '?'} ${/^Subject: (.*)$/m.exec(m.raw)?.[1] ?? ''}`);

interface FerryRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function ferry(state: string): Promise<FerryRun> {
  const from = `http://alice@127.0.0.1:${radicale.port}/`;
  const to = `http://${encodeURIComponent(at('alice'))}@127.0.0.1:${cyrus.dav!.port}/`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    HOME: path.join(dir, 'home'),
    MAILFERRY_FROM_PASSWORD: password,
    MAILFERRY_TO_PASSWORD: password,
    MAILFERRY_ALLOWED_HOSTS: [radicale.port, cyrus.dav!.port].map((p) => `127.0.0.1/32:${p}`).join(','),
    MAILFERRY_INSECURE_HOSTS: '127.0.0.1',
  };
  return runNode([ferryScript, 'groupware', 'copy', '--from', from, '--to', to, '--state', state, '--json'], { env });
}

function report(run: FerryRun): GroupwareCopyReport {
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout.trim()) as GroupwareCopyReport;
}

const sum = (r: GroupwareCopyReport, key: 'items' | 'copied' | 'updated' | 'skipped' | 'failed') => r.collections.reduce((n, c) => n + c[key], 0);

async function expectPerfect(): Promise<void> {
  const plainFetch = (input: string | URL, init?: RequestInit) => fetch(input, init);
  const [from, to] = await Promise.all([
    DavEndpoint.open({ serverUrl: radicale.url, username: 'alice', password, fetch: plainFetch }),
    DavEndpoint.open({ serverUrl: cyrus.dav!.url, username: at('alice'), password, fetch: plainFetch }),
  ]);
  expect(verdictLines(await verifyGroupware(from, to)).join('\n')).toMatch(/^PERFECT/);
}

/** Scheduling happens inside Cyrus's PUT; a moment more covers any later delivery. */
const settle = () => sleep(1_000);

describe('groupware copy to a server that schedules (Cyrus CalDAV, RFC 6638)', () => {
  beforeAll(async () => {
    [cyrus, radicale] = await Promise.all([
      startCyrus({ users: cyrusUsers, precreate: false, dav: true }),
      startRadicale({ users: [{ username: 'alice', password }] }),
    ]);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mailferry-scheduling-'));
  }, 90_000);
  afterAll(async () => {
    await Promise.all([cyrus?.stop(), radicale?.stop()]);
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('control: the same items PUT without SCHEDULE-AGENT make Cyrus invite the external attendee by e-mail and the local one in their Inbox', async () => {
    const features = (await fetch(cyrusCalendars(at('carol')), { method: 'OPTIONS', headers: { authorization: basicAuth({ username: at('carol'), password }) } })).headers.get('dav') ?? '';
    expect(features.split(/,\s*/)).toContain('calendar-auto-schedule');

    const who = { organizer: at('carol'), local: at('dave'), external: EXTERNAL };
    const items = organizerItems('control', who);
    for (const item of items) await put(`${cyrusCalendars(at('carol'))}Default/${item.uid}.ics`, at('carol'), item.data);
    await settle();

    const mail = await cyrus.dav!.sentMail();
    // One invitation per item to the outside attendee, from the organizer, as iMIP REQUEST.
    for (const item of items) {
      const sent = mail.filter((m) => m.raw.includes(`UID:${item.uid}`));
      expect(sent.length, `${item.uid}: ${described(mail).join('\n')}`).toBeGreaterThanOrEqual(1);
      expect(sent.every((m) => m.to.includes(EXTERNAL) && m.from === at('carol') && /^METHOD:REQUEST$/m.test(m.raw))).toBe(true);
    }
    // And the local colleague's scheduling Inbox holds a REQUEST for every item.
    const requests = await inbox(at('dave'));
    for (const item of items) expect(requests.some((r) => r.includes(`UID:${item.uid}`) && /^METHOD:REQUEST\r?$/m.test(r)), item.uid).toBe(true);

    // An update by the organizer is sent out as well.
    const before = mail.length;
    const meeting = items[0]!;
    await put(`${cyrusCalendars(at('carol'))}Default/${meeting.uid}.ics`, at('carol'), meeting.data.replace('SUMMARY:Quarterly planning', 'SUMMARY:Quarterly planning (new room)').replace('DTSTART:20270112T100000Z', 'DTSTART:20270112T120000Z').replace('DTEND:20270112T110000Z', 'DTEND:20270112T130000Z'));
    await settle();
    expect((await cyrus.dav!.sentMail()).slice(before).some((m) => m.raw.includes(`UID:${meeting.uid}`))).toBe(true);
  }, 60_000);

  it('copies Radicale → Cyrus with SCHEDULE-AGENT=CLIENT: every item there, PERFECT, and nobody gets an invitation, update or reply', async () => {
    const who = { organizer: at('alice'), local: at('bob'), external: EXTERNAL };
    const events = [...organizerItems('moved', who), acceptedItem('moved', at('alice'), at('bob'))];
    // SERVER written out (it is RFC 6638's default) and a forced send: still nothing may go out.
    events.push({
      uid: 'explicit-server',
      data: events[0]!.data.replaceAll('moved-meeting', 'explicit-server').replace('ATTENDEE;CN=Partner;', 'ATTENDEE;CN=Partner;SCHEDULE-AGENT=SERVER;SCHEDULE-FORCE-SEND=REQUEST;'),
    });
    const tasks = organizerItems('moved-tasks', who).filter((item) => item.uid.endsWith('-task'));
    const [calendarUrl, tasksUrl] = [await radicaleCalendar('calendar'), await radicaleCalendar('tasks', ['VTODO'])];
    for (const item of events) await put(`${calendarUrl}${item.uid}.ics`, 'alice', item.data);
    for (const item of tasks) await put(`${tasksUrl}${item.uid}.ics`, 'alice', item.data);

    const mailBefore = (await cyrus.dav!.sentMail()).length;
    const bobBefore = await inbox(at('bob'));
    expect(bobBefore).toEqual([]);
    const state = path.join(dir, 'alice.json');

    const first = report(await ferry(state));
    expect(sum(first, 'copied')).toBe(events.length + tasks.length);
    expect(sum(first, 'failed')).toBe(0);
    await settle();
    const onCyrus = await cyrusItems(at('alice'));
    for (const item of [...events, ...tasks]) {
      expect(onCyrus.has(item.uid), item.uid).toBe(true);
      // Every organizer and attendee stored as the client's business (RFC 6638 7.1).
      const unfolded = onCyrus.get(item.uid)!.replaceAll('\r\n ', '');
      for (const line of unfolded.split(/\r?\n/).filter((l) => /^(ORGANIZER|ATTENDEE)[;:]/.test(l))) expect(line, item.uid).toMatch(/SCHEDULE-AGENT=CLIENT/);
    }
    await expectPerfect();
    expect(described((await cyrus.dav!.sentMail()).slice(mailBefore))).toEqual([]);
    expect(await inbox(at('bob'))).toEqual([]);

    // The resync: the meeting moves and gains an attendee, one instance of the series is
    // cancelled, the task is done, the accepted invitation is declined. Each would be an
    // update, cancellation or reply from a scheduling client.
    const change = (uid: string, edit: (data: string) => string) => {
      const item = [...events, ...tasks].find((i) => i.uid === uid)!;
      const data = edit(item.data).replace(`DTSTAMP:${stamp}`, 'DTSTAMP:20261205T090000Z');
      expect(data).not.toBe(item.data);
      return { ...item, data };
    };
    const changed = [
      change('moved-meeting', (d) => d.replace('DTSTART:20270112T100000Z', 'DTSTART:20270112T130000Z').replace('DTEND:20270112T110000Z', 'DTEND:20270112T140000Z').replace('SUMMARY:Quarterly planning', 'SUMMARY:Quarterly planning (moved)\r\nSEQUENCE:1\r\nATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:late.comer@elsewhere.test')),
      change('moved-weekly', (d) => d.replace('EXDATE;TZID=Europe/Berlin:20270118T090000', 'EXDATE;TZID=Europe/Berlin:20270118T090000,20270125T090000\r\nSEQUENCE:1')),
      change('moved-accepted', (d) => d.replace(`ATTENDEE;PARTSTAT=ACCEPTED:mailto:${at('alice')}`, `ATTENDEE;PARTSTAT=DECLINED:mailto:${at('alice')}`)),
    ];
    const doneTask = change('moved-tasks-task', (d) => d.replace('STATUS:NEEDS-ACTION', 'STATUS:COMPLETED\r\nCOMPLETED:20261204T100000Z\r\nPERCENT-COMPLETE:100'));
    for (const item of changed) await put(`${calendarUrl}${item.uid}.ics`, 'alice', item.data);
    await put(`${tasksUrl}${doneTask.uid}.ics`, 'alice', doneTask.data);

    const resync = report(await ferry(state));
    expect([sum(resync, 'copied'), sum(resync, 'updated'), sum(resync, 'failed')]).toEqual([0, changed.length + 1, 0]);
    await settle();
    await expectPerfect();
    const after = await cyrusItems(at('alice'));
    expect(after.get('moved-meeting')).toContain('late.comer@elsewhere.test');
    expect(after.get('moved-tasks-task')).toContain('STATUS:COMPLETED');

    // A rerun with nothing new writes nothing.
    const again = report(await ferry(state));
    expect([sum(again, 'copied'), sum(again, 'updated')]).toEqual([0, 0]);
    await settle();

    expect(described((await cyrus.dav!.sentMail()).slice(mailBefore))).toEqual([]);
    expect(await inbox(at('bob'))).toEqual([]);
  }, 120_000);
});
