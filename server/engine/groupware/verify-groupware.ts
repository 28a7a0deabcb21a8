import { ItemFormatError, itemDifferences, itemUid, rawForm } from './items';
import { holdsKind, type GroupwareCollection, type GroupwareSource, type NotMappedNote } from './model';

export interface CollectionVerdict {
  kind: GroupwareCollection['kind'];
  source: string;
  target: string | null;
  sourceItems: number;
  targetItems: number;
  /** Source UIDs with an equal item on the target. */
  equal: number;
  missing: string[];
  /** UID and what differs (property names, never values). */
  different: { uid: string; differences: string[] }[];
  /** UIDs the target holds more than once. */
  duplicates: string[];
}

export interface GroupwareVerdict {
  isPerfect: boolean;
  collections: CollectionVerdict[];
}

/**
 * Which target collection a source collection was copied to, the way the copy chooses: the
 * default to the default, else the same path segment, else the same name.
 */
function matchCollection(source: GroupwareCollection, targets: GroupwareCollection[], used: Set<string>): GroupwareCollection | undefined {
  const free = targets.filter((t) => holdsKind(t, source.kind) && !used.has(t.id));
  return (source.isDefault ? free.find((t) => t.kind === source.kind && t.isDefault) : undefined) ?? free.find((t) => t.slug === source.slug) ?? free.find((t) => !t.isDefault && t.displayName === source.displayName);
}

async function readAll(endpoint: GroupwareSource, collection: GroupwareCollection) {
  const refs = await endpoint.list(collection);
  const out: { id: string; data: string }[] = [];
  for (let i = 0; i < refs.length; i += 100) out.push(...(await endpoint.read(collection, refs.slice(i, i + 100))));
  return out;
}

/**
 * Compares source and target collection by collection, item by item by UID and by normalised
 * content (PRODID, DTSTAMP, scheduling parameters and X- properties only the target has are
 * not differences; a vCard 3 and its vCard 4 copy, converted by the copy or by the server, are
 * compared in the vCard 4 model): every source item present and equal once, nothing duplicated.
 * `skip` lists UIDs known not to have been copied (recorded as refused), per source collection name.
 * `notMapped` lists, by UID, what the copy reported the target has no place for (an Exchange or
 * Microsoft 365 target): differences in those components and properties are not counted.
 */
export async function verifyGroupware(
  source: GroupwareSource,
  target: GroupwareSource,
  options: { skip?: Map<string, Set<string>>; notMapped?: Map<string, NotMappedNote[]> } = {},
): Promise<GroupwareVerdict> {
  const targets = await target.collections();
  const used = new Set<string>();
  const verdicts: CollectionVerdict[] = [];
  const sources = [...(await source.collections())].sort((a, b) => Number(b.isDefault) - Number(a.isDefault));
  for (const collection of sources) {
    const match = matchCollection(collection, targets, used);
    const sourceItems = await readAll(source, collection);
    const skip = options.skip?.get(collection.displayName) ?? new Set<string>();
    const verdict: CollectionVerdict = { kind: collection.kind, source: collection.displayName, target: match?.displayName ?? null, sourceItems: sourceItems.length, targetItems: 0, equal: 0, missing: [], different: [], duplicates: [] };
    if (match) used.add(match.id);
    const targetItems = match ? await readAll(target, match) : [];
    // A target calendar that takes only events: the copy put the calendar's tasks into a task list.
    if (match && collection.kind === 'calendar' && match.components.length > 0 && !match.components.includes('VTODO')) {
      const lists = targets.filter((t) => t.kind === 'tasks');
      const taskList = (collection.isDefault ? lists.find((t) => t.isDefault) : undefined) ?? lists.find((t) => t.displayName === collection.displayName);
      if (taskList) targetItems.push(...(await readAll(target, taskList)));
    }
    verdict.targetItems = targetItems.length;
    const byUid = new Map<string, string>();
    const raw = new Map<string, number>();
    for (const item of targetItems) {
      const uid = safeUid(item.data);
      const form = rawForm(item.data);
      raw.set(form, (raw.get(form) ?? 0) + 1);
      if (uid === null) continue;
      if (byUid.has(uid)) verdict.duplicates.push(uid);
      byUid.set(uid, item.data);
    }
    for (const item of sourceItems) {
      const uid = safeUid(item.data);
      if (uid !== null && skip.has(uid)) continue;
      if (uid === null) {
        // Items ical.js cannot read, or without UID: the same text once.
        const name = `(no readable UID) ${item.id.split('/').pop()}`;
        const copies = raw.get(rawForm(item.data)) ?? 0;
        if (copies === 0) verdict.missing.push(name);
        else if (copies > 1) verdict.duplicates.push(name);
        else verdict.equal++;
        continue;
      }
      const there = byUid.get(uid);
      if (there === undefined) verdict.missing.push(uid);
      else {
        const notes = options.notMapped?.get(uid) ?? [];
        const differences = safeDifferences(item.data, there).filter((difference) => !notes.some((note) => isNotedDifference(difference, note)));
        if (differences.length === 0) verdict.equal++;
        else verdict.different.push({ uid, differences });
      }
    }
    verdicts.push(verdict);
  }
  return { isPerfect: verdicts.every((v) => v.target !== null && v.missing.length === 0 && v.different.length === 0 && v.duplicates.length === 0), collections: verdicts };
}

/**
 * Does a reported note speak of this difference ("missing on the target: /VCALENDAR/VEVENT|summary",
 * "only on the target: /VCARD|tel;type=..."): the same component and property, or the whole
 * component (property null; VALARM and VTIMEZONE are named as whole components).
 */
export function isNotedDifference(difference: string, note: NotMappedNote): boolean {
  const label = difference.replace(/^(missing on the target|only on the target): /, '');
  const bar = label.indexOf('|');
  if (bar < 0) return false;
  const components = label
    .slice(0, bar)
    .split('/')
    .filter(Boolean)
    .map((c) => c.replace(/\[.*$/, '').toUpperCase());
  const property = (/^[^;:]+/.exec(label.slice(bar + 1))?.[0] ?? '').toUpperCase();
  if (note.property === null) return components.includes(note.component.toUpperCase());
  return components[components.length - 1] === note.component.toUpperCase() && property === note.property.toUpperCase();
}

function safeDifferences(source: string, target: string): string[] {
  try {
    return itemDifferences(source, target);
  } catch (error) {
    if (!(error instanceof ItemFormatError)) throw error;
    return rawForm(source) === rawForm(target) ? [] : ['the target cannot be read'];
  }
}

function safeUid(data: string): string | null {
  try {
    return itemUid(data);
  } catch {
    return null;
  }
}

/** PERFECT, or one line per difference. */
export function verdictLines(verdict: GroupwareVerdict): string[] {
  if (verdict.isPerfect) return ['PERFECT', ...verdict.collections.map((c) => `  ${c.kind} "${c.source}" → "${c.target}": ${c.equal} of ${c.sourceItems} equal`)];
  return verdict.collections.flatMap((c) => [
    ...(c.target === null ? [`${c.kind} "${c.source}": no collection on the target`] : []),
    ...c.missing.map((uid) => `${c.kind} "${c.source}": ${uid} missing on the target`),
    ...c.different.map((d) => `${c.kind} "${c.source}": ${d.uid} differs (${d.differences.slice(0, 5).join('; ')})`),
    ...c.duplicates.map((uid) => `${c.kind} "${c.source}": ${uid} is on the target more than once`),
  ]);
}
