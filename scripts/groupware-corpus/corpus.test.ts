import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { generateGroupwareCorpus, type CorpusCollection } from './corpus';

/** What a full-size corpus holds, counted from the generated iCalendar and vCard text itself. */
function census(corpus: CorpusCollection[]) {
  const counts = {
    events: 0,
    recurringWithExceptions: 0,
    recurringWithOverride: 0,
    allDay: 0,
    floating: 0,
    withAttendees: 0,
    withAlarm: 0,
    withAttachment: 0,
    zonesWithVtimezone: new Set<string>(),
    zoneReferenceWithoutVtimezone: 0,
    contacts: 0,
    withPhoto: 0,
    multipleEmails: 0,
    vcard3: 0,
    vcard4: 0,
    groupsKind: 0,
    groupsApple: 0,
    groupMembers: 0,
    tasks: 0,
    subtasks: 0,
    withDue: 0,
    dueForms: new Set<string>(),
    withPercent: 0,
    completed: 0,
    statuses: new Set<string>(),
    priorities: new Set<number>(),
    uids: new Set<string>(),
    duplicateUids: 0,
  };
  for (const collection of corpus) {
    for (const item of collection.items) {
      if (counts.uids.has(`${collection.slug}\n${item.uid}`)) counts.duplicateUids++;
      counts.uids.add(`${collection.slug}\n${item.uid}`);
      const root = new ICAL.Component(ICAL.parse(item.data) as unknown[]);
      if (collection.kind === 'contacts') {
        expect(root.name).toBe('vcard');
        expect(root.getFirstPropertyValue('uid')).toBe(item.uid);
        const version = root.getFirstPropertyValue('version');
        if (version === '3.0') counts.vcard3++;
        if (version === '4.0') counts.vcard4++;
        const kind = root.getFirstPropertyValue('kind');
        const appleKind = root.getFirstPropertyValue('x-addressbookserver-kind');
        if (kind === 'group') counts.groupsKind++;
        if (String(appleKind) === 'group') counts.groupsApple++;
        if (kind === 'group' || String(appleKind) === 'group') {
          counts.groupMembers += root.getAllProperties('member').length + root.getAllProperties('x-addressbookserver-member').length;
          continue;
        }
        counts.contacts++;
        if (root.hasProperty('photo')) counts.withPhoto++;
        if (root.getAllProperties('email').length > 1) counts.multipleEmails++;
        continue;
      }
      expect(root.name).toBe('vcalendar');
      const zones = new Set(root.getAllSubcomponents('vtimezone').map((z) => String(z.getFirstPropertyValue('tzid'))));
      const referenced = new Set<string>();
      for (const sub of root.getAllSubcomponents()) {
        for (const prop of sub.getAllProperties()) {
          const tzid = prop.getParameter('tzid');
          if (typeof tzid === 'string') referenced.add(tzid);
        }
      }
      for (const tzid of referenced) {
        if (zones.has(tzid)) counts.zonesWithVtimezone.add(tzid);
        else counts.zoneReferenceWithoutVtimezone++;
      }
      const events = root.getAllSubcomponents('vevent');
      const todos = root.getAllSubcomponents('vtodo');
      if (collection.kind === 'calendar') {
        expect(todos).toHaveLength(0);
        const masters = events.filter((e) => !e.hasProperty('recurrence-id'));
        const overrides = events.filter((e) => e.hasProperty('recurrence-id'));
        expect(masters).toHaveLength(1);
        const master = masters[0]!;
        expect(master.getFirstPropertyValue('uid')).toBe(item.uid);
        for (const o of overrides) expect(o.getFirstPropertyValue('uid')).toBe(item.uid);
        counts.events++;
        const start = master.getFirstPropertyValue('dtstart') as ICAL.Time;
        if (start.isDate) counts.allDay++;
        else if (!master.getFirstProperty('dtstart')!.getParameter('tzid') && start.zone?.tzid !== 'UTC') counts.floating++;
        if (master.hasProperty('rrule') && (master.hasProperty('exdate') || overrides.length > 0)) counts.recurringWithExceptions++;
        if (master.hasProperty('rrule') && overrides.length > 0) counts.recurringWithOverride++;
        if (master.hasProperty('attendee') && master.hasProperty('organizer')) counts.withAttendees++;
        if (master.getAllSubcomponents('valarm').length > 0) counts.withAlarm++;
        if (master.hasProperty('attach')) counts.withAttachment++;
      } else {
        expect(events).toHaveLength(0);
        expect(todos).toHaveLength(1);
        const todo = todos[0]!;
        expect(todo.getFirstPropertyValue('uid')).toBe(item.uid);
        counts.tasks++;
        if (todo.hasProperty('related-to')) counts.subtasks++;
        if (todo.hasProperty('due')) {
          counts.withDue++;
          const due = todo.getFirstProperty('due')!;
          const value = due.getFirstValue() as ICAL.Time;
          counts.dueForms.add(value.isDate ? 'date' : due.getParameter('tzid') ? 'zoned' : value.zone?.tzid === 'UTC' ? 'utc' : 'floating');
        }
        if (todo.hasProperty('percent-complete')) counts.withPercent++;
        if (todo.hasProperty('completed')) counts.completed++;
        counts.statuses.add(String(todo.getFirstPropertyValue('status')));
        const priority = todo.getFirstPropertyValue('priority');
        if (typeof priority === 'number') counts.priorities.add(priority);
      }
    }
  }
  return counts;
}

describe('generateGroupwareCorpus at scale 1', () => {
  const corpus = generateGroupwareCorpus({ seed: 'census' });
  const counts = census(corpus);

  it('holds at least 500 events: recurring with exceptions, all-day, floating, several time zones, attendees', () => {
    expect(counts.events).toBeGreaterThanOrEqual(500);
    expect(counts.recurringWithExceptions).toBeGreaterThanOrEqual(50);
    // Overridden instances live in the same resource as their series.
    expect(counts.recurringWithOverride).toBeGreaterThanOrEqual(50);
    expect(counts.allDay).toBeGreaterThanOrEqual(20);
    expect(counts.floating).toBeGreaterThanOrEqual(10);
    expect(counts.withAttendees).toBeGreaterThanOrEqual(50);
    expect(counts.withAlarm).toBeGreaterThanOrEqual(50);
    expect(counts.withAttachment).toBeGreaterThanOrEqual(10);
    expect(counts.zonesWithVtimezone.size).toBeGreaterThanOrEqual(3);
    // Every TZID an item names comes with its VTIMEZONE.
    expect(counts.zoneReferenceWithoutVtimezone).toBe(0);
  });

  it('holds at least 1,000 contacts: 100 with a photo, several e-mails, groups in both forms', () => {
    expect(counts.contacts).toBeGreaterThanOrEqual(1000);
    expect(counts.withPhoto).toBeGreaterThanOrEqual(100);
    expect(counts.multipleEmails).toBeGreaterThanOrEqual(100);
    expect(counts.vcard3).toBeGreaterThan(0);
    expect(counts.vcard4).toBeGreaterThan(0);
    expect(counts.groupsKind).toBeGreaterThanOrEqual(1);
    expect(counts.groupsApple).toBeGreaterThanOrEqual(1);
    expect(counts.groupMembers).toBeGreaterThanOrEqual(2 * (counts.groupsKind + counts.groupsApple));
  });

  it('holds at least 200 tasks with subtasks, due dates, every status, priorities and percent', () => {
    expect(counts.tasks).toBeGreaterThanOrEqual(200);
    expect(counts.subtasks).toBeGreaterThanOrEqual(20);
    expect(counts.withDue).toBeGreaterThanOrEqual(50);
    expect([...counts.dueForms].sort()).toEqual(['date', 'floating', 'utc', 'zoned']);
    expect(counts.withPercent).toBeGreaterThanOrEqual(20);
    expect(counts.completed).toBeGreaterThanOrEqual(10);
    expect([...counts.statuses].sort()).toEqual(['CANCELLED', 'COMPLETED', 'IN-PROCESS', 'NEEDS-ACTION']);
    expect(counts.priorities.size).toBeGreaterThanOrEqual(5);
  });

  it('writes vCard 4 photos as data: URIs without escaping their comma, vCard 3 photos as base64', () => {
    const [v4, v3] = (['geschaeftskontakte', 'addressbook'] as const).map((slug) => corpus.find((c) => c.slug === slug)!.items.filter((i) => /^PHOTO/m.test(i.data)));
    expect(v4!.length).toBeGreaterThan(0);
    for (const item of v4!) expect(item.data).toMatch(/^PHOTO:data:image\/jpeg;base64,\/9j\//m);
    for (const item of v3!) expect(item.data).toMatch(/^PHOTO;ENCODING=b;TYPE=JPEG:\/9j\//m);
  });

  it('points every subtask at a task of the same list', () => {
    for (const list of corpus.filter((c) => c.kind === 'tasks')) {
      const uids = new Set(list.items.map((i) => i.uid));
      for (const item of list.items) {
        const todo = new ICAL.Component(ICAL.parse(item.data) as unknown[]).getFirstSubcomponent('vtodo')!;
        const related = todo.getFirstProperty('related-to');
        if (!related) continue;
        expect(related.getParameter('reltype')).toBe('PARENT');
        expect(uids.has(String(related.getFirstValue())), `${item.uid} → ${String(related.getFirstValue())}`).toBe(true);
      }
    }
  });

  it('spreads them over several collections, named with spaces and non-ASCII letters', () => {
    const byKind = (kind: CorpusCollection['kind']) => corpus.filter((c) => c.kind === kind);
    expect(byKind('calendar').length).toBeGreaterThanOrEqual(2);
    expect(byKind('contacts').length).toBeGreaterThanOrEqual(2);
    // A task list besides the default one: created on the target with its own name.
    expect(byKind('tasks').length).toBeGreaterThanOrEqual(2);
    const names = corpus.map((c) => c.displayName);
    expect(names.some((n) => / /.test(n))).toBe(true);
    expect(names.some((n) => /[^\x00-\x7f]/.test(n))).toBe(true);
    expect(new Set(corpus.map((c) => c.slug)).size).toBe(corpus.length);
    expect(counts.duplicateUids).toBe(0);
  });

  it('is the same corpus for the same seed, another for another seed', () => {
    const again = generateGroupwareCorpus({ seed: 'census' });
    expect(JSON.stringify(again)).toBe(JSON.stringify(corpus));
    const other = generateGroupwareCorpus({ seed: 'other' });
    expect(other[0]!.items[0]!.data).not.toBe(corpus[0]!.items[0]!.data);
  });

  it('shrinks with the scale for tests and keeps every kind of item', () => {
    const small = census(generateGroupwareCorpus({ seed: 'census', scale: 0.06 }));
    expect(small.events).toBeLessThan(100);
    expect(small.recurringWithOverride).toBeGreaterThan(0);
    expect(small.withPhoto).toBeGreaterThan(0);
    expect(small.groupsKind + small.groupsApple).toBeGreaterThan(0);
    expect(small.subtasks).toBeGreaterThan(0);
  });
});
