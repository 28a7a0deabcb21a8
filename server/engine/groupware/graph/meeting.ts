import ICAL from 'ical.js';
import type { GraphItemBody } from './graph-types';
import type { JCalProperty } from './times';

/**
 * A meeting written to Microsoft 365 without its attendees. Graph sends a meeting request to
 * every attendee of an event created with attendees, and has no way to keep it from doing so
 * (see test/helpers/microsoft-server/graph.ts, "Invitations"); the organizer is read-only there
 * (Graph makes the mailbox's owner the organizer). So the target writes the event without
 * attendees and keeps them twice:
 *
 * - in the event's text, as a short block a person reads in Outlook (who organizes, who attends
 *   and how each answered);
 * - in MEETING_PROPERTY, a single-value extended property holding the ORGANIZER and ATTENDEE
 *   lines as the source had them, of the series and of each overridden instance, from which the
 *   Microsoft 365 source gives them back (and takes the block out of the text again), so a copy
 *   out of Microsoft 365 carries the meeting as it was.
 */

/** The ORGANIZER and ATTENDEE lines of an event written by the Microsoft 365 target (JSON, see KeptMeeting). */
export const MEETING_PROPERTY = 'String {5c0e5a3e-8a57-4c1d-9f0b-6b4f5e1d2a90} Name SourceAttendees';

/** What MEETING_PROPERTY holds: iCalendar lines, of the series (or single event) and of each overridden instance by its original start (UTC). */
export interface KeptMeeting {
  version: 1;
  lines: string[];
  instances: Record<string, string[]>;
}

const HEAD = 'Meeting details (the attendees were not invited again when this event was copied):';

const partstatWords: Record<string, string> = { ACCEPTED: 'accepted', DECLINED: 'declined', TENTATIVE: 'tentative', 'NEEDS-ACTION': 'no answer yet', DELEGATED: 'delegated' };

/** ORGANIZER and ATTENDEE of one VEVENT as the lines they were written as. */
export function meetingLines(event: ICAL.Component): string[] {
  return [...event.getAllProperties('organizer'), ...event.getAllProperties('attendee')].map((p) => p.toICALString());
}

function person(property: JCalProperty): string {
  const address = String(property[3] ?? '').replace(/^mailto:/i, '');
  const name = typeof property[1].cn === 'string' ? property[1].cn : '';
  return name ? `${name} <${address}>` : address;
}

/** The readable block for the event's text. */
export function meetingBlock(lines: string[]): string {
  const props = lines.map((line) => ICAL.parse.property(line) as JCalProperty);
  const out = [HEAD];
  for (const p of props.filter((p) => p[0] === 'organizer')) out.push(`Organizer: ${person(p)}`);
  for (const p of props.filter((p) => p[0] === 'attendee')) {
    const role = String(p[1].role ?? '').toUpperCase();
    const answer = partstatWords[String(p[1].partstat ?? 'NEEDS-ACTION').toUpperCase()] ?? String(p[1].partstat).toLowerCase();
    out.push(`Attendee: ${person(p)}${role === 'OPT-PARTICIPANT' ? ' (optional)' : role === 'CHAIR' ? ' (chair)' : ''}, ${answer}`);
  }
  return out.join('\n');
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The body with the block at its end. */
export function withMeetingBlock(body: GraphItemBody, lines: string[]): GraphItemBody {
  if (lines.length === 0) return body;
  const block = meetingBlock(lines);
  if (body.contentType === 'html') return { contentType: 'html', content: `${body.content}<div><p>${block.split('\n').map(escapeHtml).join('<br>')}</p></div>` };
  return { contentType: 'text', content: body.content ? `${body.content}\n\n${block}` : block };
}

/** The body without the block the target added (as text or as HTML, however Graph gives it back). */
export function withoutMeetingBlock(body: GraphItemBody): GraphItemBody {
  const content = body.content ?? '';
  if (body.contentType === 'html') {
    const at = content.lastIndexOf(`<div><p>${escapeHtml(HEAD)}`);
    if (at >= 0) return { ...body, content: content.slice(0, at) };
  }
  const at = content.lastIndexOf(HEAD);
  if (at < 0) return body;
  return { ...body, content: content.slice(0, at).replace(/(\r?\n){2}$/, '') };
}

/** The value of MEETING_PROPERTY. */
export function keptMeetingValue(kept: KeptMeeting): string {
  return JSON.stringify(kept);
}

/** MEETING_PROPERTY's value read back; null when it is not one of ours. */
export function parseKeptMeeting(value: string | null): KeptMeeting | null {
  if (!value) return null;
  try {
    const json = JSON.parse(value) as Partial<KeptMeeting>;
    const isLines = (v: unknown): v is string[] => Array.isArray(v) && v.every((l) => typeof l === 'string');
    if (json.version !== 1 || !isLines(json.lines) || !json.instances || typeof json.instances !== 'object') return null;
    const instances: Record<string, string[]> = {};
    for (const [start, lines] of Object.entries(json.instances)) {
      if (!isLines(lines) || Number.isNaN(Date.parse(start))) return null;
      instances[new Date(Date.parse(start)).toISOString()] = lines;
    }
    return { version: 1, lines: json.lines, instances };
  } catch {
    return null;
  }
}

/** The kept lines of the series (originalStart undefined) or of one overridden instance, as jCal properties. */
export function keptProperties(kept: KeptMeeting, originalStart?: string): JCalProperty[] {
  const lines = originalStart === undefined ? kept.lines : (kept.instances[new Date(Date.parse(originalStart)).toISOString()] ?? []);
  return lines.map((line) => ICAL.parse.property(line) as JCalProperty);
}
