import ICAL from 'ical.js';
import { ItemFormatError } from '../items';
import type { GraphTodoTask } from './graph-types';
import { importanceOf, noteCalendarProperties, parseCalendar, REMINDER_TEXT } from './events';
import { MappingNotes } from './notes';
import { graphToRrule, isoDate, rruleToGraph } from './recurrence';
import { completeNotes } from './round-trip';
import { graphDateTime, graphInstant, icalTimeProperty, localIn, parseGraphDateTime, toGraphTime, utcString, vtimezones, ZoneBook, type GraphTime, type JCalProperty } from './times';

/**
 * Tasks between iCalendar VTODO and Microsoft To Do's todoTask (Graph). To Do has no subtasks:
 * each VTODO stays a task and RELATED-TO is reported. Checklist items, which iCalendar has no
 * property for, are written as X-CHECKLIST-ITEM (X-CHECKED=TRUE when ticked) and read back from
 * it. Mapping table: mapping-table.ts.
 */

export interface TaskMapping {
  uid: string | null;
  task: GraphTodoTask;
  notMapped: string[];
  rewritten: string[];
}

export const CHECKLIST_PROPERTY = 'x-checklist-item';
// Its value is text (escaped as TEXT is), so ical.js writes it without VALUE=TEXT.
(ICAL.design.icalendar.property as Record<string, unknown>)[CHECKLIST_PROPERTY] = { defaultType: 'text' };

const STATUS: Record<string, GraphTodoTask['status']> = { 'NEEDS-ACTION': 'notStarted', 'IN-PROCESS': 'inProgress', COMPLETED: 'completed', CANCELLED: 'deferred' };
const STATUS_OF: Record<GraphTodoTask['status'], string> = { notStarted: 'NEEDS-ACTION', inProgress: 'IN-PROCESS', completed: 'COMPLETED', waitingOnOthers: 'IN-PROCESS', deferred: 'NEEDS-ACTION' };

export const TASK_PROPERTIES = new Set(['uid', 'dtstamp', 'summary', 'description', 'priority', 'x-microsoft-cdo-importance', 'status', 'percent-complete', 'due', 'dtstart', 'duration', 'completed', 'rrule', 'categories', 'url', CHECKLIST_PROPERTY, 'created', 'last-modified', 'sequence', 'related-to']);

export interface TaskMappingOptions {
  /** IANA zone for floating times and whole days; UTC when not given. */
  floatingTimeZone?: string;
}

/** A VTODO resource as a Microsoft To Do task. */
export function icalendarToGraphTask(data: string, options: TaskMappingOptions = {}): TaskMapping {
  const root = parseCalendar(data);
  const notes = new MappingNotes();
  const zones = new ZoneBook(root, options.floatingTimeZone ?? 'UTC');
  noteCalendarProperties(root, notes);
  const todos = root.getAllSubcomponents('vtodo');
  const todo = todos.find((t) => !t.getFirstProperty('recurrence-id')) ?? todos[0];
  if (!todo) throw new ItemFormatError('no VTODO in the resource');
  for (const other of root.getAllSubcomponents()) {
    if (other === todo || other.name === 'vtimezone') continue;
    notes.lost(other.name.toUpperCase(), '*', other.name === 'vtodo' ? 'an overridden instance: Microsoft To Do keeps the series only' : 'not a task: a To Do list holds tasks only');
  }
  const where = 'VTODO';
  const uid = String(todo.getFirstPropertyValue('uid') ?? '').trim() || null;
  const text = (name: string) => String(todo.getFirstPropertyValue(name) ?? '');
  for (const name of ['summary', 'description']) {
    for (const property of todo.getAllProperties(name)) {
      for (const key of Object.keys((property.toJSON() as JCalProperty)[1])) notes.lost(`${where} ${name.toUpperCase()}`, key.toUpperCase(), 'Microsoft To Do keeps the text only');
      if (String(property.getFirstValue() ?? '') === '') notes.rewrote(where, name.toUpperCase(), 'empty: not written back');
    }
  }

  const time = (name: string): GraphTime | null => {
    const property = todo.getFirstProperty(name);
    return property ? toGraphTime(property, zones, notes, `${where} ${name.toUpperCase()}`) : null;
  };
  const start = time('dtstart');
  let due = time('due');
  const duration = todo.getFirstPropertyValue('duration') as ICAL.Duration | null;
  if (!due && start && duration) {
    notes.rewrote(where, 'DURATION', 'kept as the due time (DUE)');
    notes.rewrote(where, 'DUE', 'written from DURATION');
    const instant = start.instant + duration.toSeconds();
    due = { ...start, instant, value: { dateTime: graphDateTime(localIn(instant, start.zone.zone), start.isDate), timeZone: start.value.timeZone } };
  }
  const completedProperty = todo.getFirstProperty('completed');
  const completed = completedProperty ? toGraphTime(completedProperty, zones, notes, `${where} COMPLETED`) : null;
  if (completed && completed.value.timeZone !== 'UTC') notes.rewrote(where, 'COMPLETED', 'written back in UTC, as RFC 5545 wants');

  const statusText = text('status').toUpperCase();
  let status: GraphTodoTask['status'] = STATUS[statusText] ?? (completed ? 'completed' : 'notStarted');
  if (!statusText) notes.rewrote(where, 'STATUS', `none: written as ${STATUS_OF[status]}`);
  if (statusText === 'CANCELLED') notes.lost(where, 'STATUS', 'CANCELLED: Microsoft To Do has no cancelled task; kept as deferred');
  const percentValue = todo.getFirstPropertyValue('percent-complete');
  if (percentValue !== null && percentValue !== undefined) {
    const percent = Number(percentValue);
    if ((percent === 100 && status === 'completed') || (percent === 0 && status === 'notStarted')) notes.rewrote(where, 'PERCENT-COMPLETE', `${percent}: what the status says; not written back`);
    else {
      notes.lost(where, 'PERCENT-COMPLETE', `${percent}%: Microsoft To Do has no progress figure, only the status`);
      if (status === 'notStarted' && percent > 0) status = 'inProgress';
    }
  }

  let reminder: string | null = null;
  const alarms = todo.getAllSubcomponents('valarm');
  for (const alarm of alarms) {
    const trigger = alarm.getFirstProperty('trigger');
    const value = trigger?.getFirstValue() as ICAL.Duration | ICAL.Time | undefined;
    let at: number | null = null;
    if (value instanceof ICAL.Time) {
      at = value.toUnixTime();
      if (value.zone !== ICAL.Timezone.utcTimezone) notes.rewrote('VALARM', 'TRIGGER', 'an alarm time without zone, read and written back as UTC');
    }
    else if (value instanceof ICAL.Duration) {
      const related = String(trigger!.getParameter('related') ?? 'START').toUpperCase() === 'END' ? due : (start ?? due);
      if (related) {
        at = related.instant + value.toSeconds();
        notes.rewrote('VALARM', 'TRIGGER', 'a time before the start or due time, kept as the time it falls on');
      } else notes.lost('VALARM', 'TRIGGER', 'an alarm relative to a start or due time the task does not have');
    }
    if (at === null) continue;
    if (reminder) {
      notes.lost('VALARM', '*', 'a second alarm: Microsoft To Do keeps one reminder per task');
      continue;
    }
    reminder = utcString(at);
    if (String(alarm.getFirstPropertyValue('action') ?? '').toUpperCase() !== 'DISPLAY') notes.lost('VALARM', 'ACTION', 'a Microsoft To Do reminder shows on the screen');
    if (String(alarm.getFirstPropertyValue('description') ?? '') !== REMINDER_TEXT) notes.lost('VALARM', 'DESCRIPTION', "the alarm's own text: Microsoft To Do reminders show the task");
    for (const property of alarm.getAllProperties()) {
      if (!['action', 'trigger', 'description'].includes(property.name)) notes.lost('VALARM', property.name.toUpperCase(), 'Microsoft To Do reminders have no such property');
    }
  }
  if (alarms.length > 0 && !reminder) notes.lost('VALARM', '*', 'no alarm Microsoft To Do can hold as a reminder');

  // To Do keeps start, due and completion as days: Graph ignores their time of day.
  const day = (time: GraphTime | null, name: string) => {
    if (!time) return null;
    const local = parseGraphDateTime(time.value.dateTime);
    if (!time.isDate && (local.hour || local.minute || local.second)) notes.lost(`${where} ${name}`, 'time of day', 'Microsoft To Do keeps the day, not the hour');
    return { dateTime: graphDateTime(local, true), timeZone: time.value.timeZone };
  };
  const dueDay = day(due, 'DUE');
  const startDay = day(start, 'DTSTART');
  const completedDay = day(completed, 'COMPLETED');
  const task: GraphTodoTask = {
    title: text('summary'),
    ...(text('description') ? { body: { contentType: 'text' as const, content: text('description') } } : {}),
    importance: importanceOf(todo, notes, where),
    status,
    ...(dueDay ? { dueDateTime: dueDay } : {}),
    ...(startDay ? { startDateTime: startDay } : {}),
    ...(completedDay ? { completedDateTime: completedDay } : {}),
    ...(reminder ? { reminderDateTime: { dateTime: graphDateTime(parseGraphDateTime(reminder)), timeZone: 'UTC' } } : {}),
    isReminderOn: reminder !== null,
    categories: todo.getAllProperties('categories').flatMap((p) => p.getValues().map(String)),
    checklistItems: todo.getAllProperties(CHECKLIST_PROPERTY).map((p) => ({ displayName: String(p.getFirstValue() ?? ''), isChecked: String(p.getParameter('x-checked') ?? '').toUpperCase() === 'TRUE' })),
    linkedResources: todo.getAllProperties('url').map((p) => ({ webUrl: String(p.getFirstValue() ?? '') })),
  };

  const ruleAsWritten = todo.getFirstProperty('rrule')?.toJSON() as JCalProperty | undefined;
  const rule = todo.getFirstPropertyValue('rrule') as ICAL.Recur | null;
  if (rule) {
    const anchor = start ?? due;
    if (!anchor) notes.lost(where, 'RRULE', 'a repeating task without start or due time');
    else {
      if ((ruleAsWritten?.[3] as { interval?: number } | undefined)?.interval === 1) notes.rewrote(where, 'RRULE INTERVAL', '1 is the default; not written back');
      const local = parseGraphDateTime(anchor.value.dateTime);
      const day = new ICAL.Time({ year: local.year, month: local.month, day: local.day, isDate: true }, ICAL.Timezone.localTimezone);
      const mapped = rruleToGraph(rule, { year: local.year, month: local.month, day: local.day, dayOfWeek: day.dayOfWeek() }, anchor.value.timeZone, (until) => {
        notes.rewrote(where, 'RRULE UNTIL', "kept as the last day (Graph's endDate)");
        return isoDate(until.year, until.month, until.day);
      });
      if (mapped.recurrence) task.recurrence = mapped.recurrence;
      else notes.lost(where, 'RRULE', `${mapped.unmappable}; the task is kept without repeating`);
      for (const line of mapped.rewritten) {
        const [what, why] = line.split(': ');
        notes.rewrote(where, what!, why ?? '');
      }
    }
  }
  if (todo.getFirstProperty('related-to')) notes.lost(where, 'RELATED-TO', 'Microsoft To Do has no subtasks: the task is kept on its own');
  if (todo.getAllProperties('url').length > 0) notes.rewrote(where, 'URL', 'kept as a linked resource');
  for (const name of ['created', 'last-modified']) if (todo.getFirstProperty(name)) notes.lost(where, name.toUpperCase(), 'Microsoft To Do sets it when the task is written');
  const sequence = todo.getFirstProperty('sequence');
  if (sequence) {
    if (Number(sequence.getFirstValue()) === 0) notes.rewrote(where, 'SEQUENCE', '0, the first version; not written back');
    else notes.lost(where, 'SEQUENCE', 'Microsoft To Do counts versions itself');
  }
  for (const property of todo.getAllProperties()) {
    if (TASK_PROPERTIES.has(property.name)) continue;
    notes.lost(where, property.name.toUpperCase(), property.name.startsWith('x-') ? "another program's own property; Microsoft To Do has no place for it" : 'Microsoft To Do tasks have no such property');
  }
  const mapping: TaskMapping = { uid, task, notMapped: notes.notMapped, rewritten: notes.rewritten };
  completeNotes(data, graphTaskToICalendar(task, uid), notes);
  return mapping;
}

/** Is a Graph time a whole day? To Do keeps due dates as a day at midnight. */
function isMidnight(time: { dateTime: string }): boolean {
  const t = parseGraphDateTime(time.dateTime);
  return t.hour === 0 && t.minute === 0 && t.second === 0;
}

/**
 * A To Do task as a VTODO resource. Start and due are days in To Do (Graph ignores their time):
 * written as VALUE=DATE; COMPLETED, which RFC 5545 wants as a UTC time, is the start of its day.
 * The reminder is an alarm at its time.
 */
export function graphTaskToICalendar(task: GraphTodoTask, uid: string | null): string {
  const zonesUsed = new Set<string>();
  const props: JCalProperty[] = [];
  if (uid) props.push(['uid', {}, 'text', uid]);
  if (task.title) props.push(['summary', {}, 'text', task.title]);
  if (task.body?.content) props.push(['description', {}, 'text', task.body.content]);
  if (task.importance === 'high') props.push(['priority', {}, 'integer', 1]);
  if (task.importance === 'low') props.push(['priority', {}, 'integer', 9]);
  props.push(['status', {}, 'text', STATUS_OF[task.status]]);
  if (task.startDateTime) props.push(icalTimeProperty('dtstart', task.startDateTime, isMidnight(task.startDateTime), zonesUsed));
  if (task.dueDateTime) props.push(icalTimeProperty('due', task.dueDateTime, isMidnight(task.dueDateTime), zonesUsed));
  // COMPLETED is in UTC (RFC 5545 3.8.2.1).
  if (task.completedDateTime) props.push(['completed', {}, 'date-time', utcString(graphInstant(task.completedDateTime))]);
  if (task.recurrence) {
    const anchor = task.startDateTime ?? task.dueDateTime;
    const isDate = anchor ? isMidnight(anchor) : true;
    const rule = graphToRrule(task.recurrence, (endDate) => {
      const [year, month, day] = endDate.split('-').map(Number) as [number, number, number];
      return isDate ? new ICAL.Time({ year, month, day, isDate: true }, ICAL.Timezone.localTimezone) : ICAL.Time.fromJSDate(new Date(`${endDate}T23:59:59Z`), true);
    });
    props.push(['rrule', {}, 'recur', rule.toJSON()]);
  }
  if (task.categories.length) props.push(['categories', {}, 'text', ...task.categories]);
  for (const item of task.checklistItems ?? []) props.push([CHECKLIST_PROPERTY, item.isChecked ? { 'x-checked': 'TRUE' } : {}, 'text', item.displayName]);
  for (const link of task.linkedResources ?? []) props.push(['url', {}, 'uri', link.webUrl]);
  if (task.createdDateTime) props.push(['created', {}, 'date-time', utcString(Date.parse(task.createdDateTime) / 1000)]);
  if (task.lastModifiedDateTime) props.push(['last-modified', {}, 'date-time', utcString(Date.parse(task.lastModifiedDateTime) / 1000)]);
  const subs: unknown[] = [];
  if (task.isReminderOn && task.reminderDateTime) {
    // TRIGGER;VALUE=DATE-TIME is in UTC (RFC 5545 3.8.6.3).
    const trigger: JCalProperty = ['trigger', {}, 'date-time', utcString(graphInstant(task.reminderDateTime))];
    subs.push(['valarm', [['action', {}, 'text', 'DISPLAY'], ['description', {}, 'text', REMINDER_TEXT], trigger], []]);
  }
  const calendar = new ICAL.Component(['vcalendar', [['version', {}, 'text', '2.0'], ['prodid', {}, 'text', '-//Mailferry//Groupware copy//EN']], []] as never);
  for (const timezone of vtimezones(zonesUsed)) calendar.addSubcomponent(timezone);
  calendar.addSubcomponent(new ICAL.Component(['vtodo', props, subs] as never));
  return calendar.toString();
}
