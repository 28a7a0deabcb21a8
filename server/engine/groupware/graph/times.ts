import ICAL from 'ical.js';
import { canonicalIanaZone, ianaZoneOf, ianaZoneOfTzid, isKnownIanaZone, UTC_ZONE_NAMES, vtimezoneOf, windowsZoneOf } from '../time-zones';
import type { GraphDateTimeTimeZone } from './graph-types';
import type { MappingNotes } from './notes';

/**
 * Times between iCalendar (a local time with a TZID defined by a VTIMEZONE, UTC, floating, or a
 * date) and Graph's dateTimeTimeZone (a local time with a Windows or IANA zone name).
 *
 * To Graph, a zone goes by its Windows name where CLDR has one: every create and update takes
 * those, while Graph takes only some IANA names there. Back from Graph, the Windows name is
 * CLDR's IANA zone for it, written with the tz database's VTIMEZONE (RFC 5545 3.2.19 wants one
 * for every TZID): Microsoft 365 keeps no zone definitions of its own.
 */

export type JCalProperty = [string, Record<string, unknown>, string, ...unknown[]];

export interface LocalFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

export function graphDateTime(t: LocalFields, isDate = false): string {
  const time = isDate ? '00:00:00' : `${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${time}.0000000`;
}

export function parseGraphDateTime(value: string): LocalFields {
  const match = /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d)(?::(\d\d))?)?/.exec(value);
  if (!match) throw new Error(`not a Graph date and time: ${value}`);
  const [, y, mo, d, h, mi, s] = match;
  return { year: Number(y), month: Number(mo), day: Number(d), hour: Number(h ?? 0), minute: Number(mi ?? 0), second: Number(s ?? 0) };
}

/** Graph's name of an IANA zone (the Windows one where CLDR has it); UTC for UTC. */
export function graphZoneName(iana: string): string {
  if (UTC_ZONE_NAMES.has(iana)) return 'UTC';
  return windowsZoneOf(iana) ?? iana;
}

/**
 * The IANA zone of a Graph zone name, or 'UTC'; null for names nobody knows ("Customized Time
 * Zone"). A tz database link is written by its zone's name, which its VTIMEZONE carries.
 */
export function ianaOfGraphZone(name: string): string | null {
  if (UTC_ZONE_NAMES.has(name)) return 'UTC';
  const iana = ianaZoneOf(name) ?? (isKnownIanaZone(name) ? name : null);
  if (!iana || UTC_ZONE_NAMES.has(iana)) return iana && 'UTC';
  return canonicalIanaZone(iana) ?? iana;
}

const TZ_CACHE = new Map<string, ICAL.Timezone | null>();

/** The tz database's definition of an IANA zone, as ical.js computes with it. */
export function databaseZone(iana: string): ICAL.Timezone | null {
  if (UTC_ZONE_NAMES.has(iana)) return ICAL.Timezone.utcTimezone;
  if (!TZ_CACHE.has(iana)) {
    const text = vtimezoneOf(iana);
    TZ_CACHE.set(iana, text ? new ICAL.Timezone(ICAL.Component.fromString(text)) : null);
  }
  return TZ_CACHE.get(iana) ?? null;
}

export function instantOf(fields: LocalFields, zone: ICAL.Timezone): number {
  return new ICAL.Time({ ...fields, isDate: false }, zone).toUnixTime();
}

export function localIn(unixSeconds: number, zone: ICAL.Timezone): ICAL.Time {
  return ICAL.Time.fromJSDate(new Date(unixSeconds * 1000), true).convertToZone(zone);
}

export function utcString(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Where an iCalendar time is: a zone Graph knows by name, UTC, or floating. */
export interface IcalZone {
  /** Graph's zone name for the time. */
  graphName: string;
  /** For the instant: the item's own VTIMEZONE, else the tz database's. */
  zone: ICAL.Timezone;
  /** The IANA zone Graph's name reads back as, or 'UTC'. */
  readsBackAs: string;
}

/**
 * The zones of one iCalendar resource: its VTIMEZONEs, and for each TZID the IANA zone it is
 * (the TZID itself, a Windows name, the VTIMEZONE's X-LIC-LOCATION, or the IANA name at the end
 * of a vendor TZID like /mozilla.org/20050126_1/Europe/Berlin).
 */
export class ZoneBook {
  private readonly own = new Map<string, ICAL.Timezone>();
  private readonly location = new Map<string, string>();
  readonly floating: IcalZone;

  constructor(root: ICAL.Component, floatingIana: string) {
    for (const component of root.getAllSubcomponents('vtimezone')) {
      const tzid = String(component.getFirstPropertyValue('tzid') ?? '');
      if (!tzid || this.own.has(tzid)) continue;
      this.own.set(tzid, new ICAL.Timezone(component));
      const location = component.getFirstPropertyValue('x-lic-location');
      if (location) this.location.set(tzid, String(location));
    }
    const zone = databaseZone(floatingIana) ?? ICAL.Timezone.utcTimezone;
    this.floating = { graphName: graphZoneName(floatingIana), zone, readsBackAs: ianaOfGraphZone(graphZoneName(floatingIana)) ?? 'UTC' };
  }

  /** The IANA zone a TZID stands for, or null for a zone of the item's own making. */
  ianaOf(tzid: string): string | null {
    return ianaZoneOfTzid(tzid, this.location.get(tzid));
  }

  /** The zone of a TZID; null when the item neither defines it nor names a known zone. */
  zoneOf(tzid: string): IcalZone | null {
    const iana = this.ianaOf(tzid);
    const own = this.own.get(tzid);
    if (iana) {
      const zone = own ?? databaseZone(iana);
      if (!zone) return null;
      const graphName = graphZoneName(iana);
      return { graphName, zone, readsBackAs: ianaOfGraphZone(graphName) ?? iana };
    }
    return own ? { graphName: 'UTC', zone: own, readsBackAs: 'UTC' } : null;
  }
}

export interface GraphTime {
  value: GraphDateTimeTimeZone;
  isDate: boolean;
  /** The instant (unix seconds). */
  instant: number;
  /** The zone the value is in, for instants of EXDATE / RECURRENCE-ID and the recurrence's end. */
  zone: IcalZone;
}

/**
 * An iCalendar DATE / DATE-TIME property as Graph's dateTimeTimeZone, with what does not survive
 * noted under `where` (e.g. "VEVENT DTSTART").
 */
export function toGraphTime(property: ICAL.Property, zones: ZoneBook, notes: MappingNotes, where: string): GraphTime {
  const raw = String((property.toJSON() as JCalProperty)[3] ?? '');
  const value = timeValue(property, notes, where);
  const tzid = property.getParameter('tzid') as string | undefined;
  const fields: LocalFields = { year: value.year, month: value.month, day: value.day, hour: value.hour, minute: value.minute, second: value.second };
  for (const key of Object.keys((property.toJSON() as JCalProperty)[1])) {
    if (key !== 'tzid' && key !== 'value') notes.lost(where, key.toUpperCase(), 'Microsoft 365 keeps the time only');
  }
  if (value.isDate) {
    if (tzid) notes.rewrote(where, 'TZID', 'a day has no zone: not written back');
    return { value: { dateTime: graphDateTime(fields, true), timeZone: zones.floating.graphName }, isDate: true, instant: instantOf(fields, zones.floating.zone), zone: zones.floating };
  }
  if (raw.endsWith('Z') || (tzid && UTC_ZONE_NAMES.has(tzid))) {
    if (tzid) notes.rewrote(where, `TZID=${tzid}`, 'written as UTC');
    const utc: IcalZone = { graphName: 'UTC', zone: ICAL.Timezone.utcTimezone, readsBackAs: 'UTC' };
    return { value: { dateTime: graphDateTime(fields), timeZone: 'UTC' }, isDate: false, instant: instantOf(fields, utc.zone), zone: utc };
  }
  if (tzid) {
    const zone = zones.zoneOf(tzid);
    if (zone && zone.graphName !== 'UTC') {
      if (zone.readsBackAs !== tzid) notes.rewrote(where, `TZID=${tzid}`, `Microsoft 365 knows the zone as "${zone.graphName}", which reads back as ${zone.readsBackAs}`);
      return { value: { dateTime: graphDateTime(fields), timeZone: zone.graphName }, isDate: false, instant: instantOf(fields, zone.zone), zone };
    }
    if (zone) {
      // A zone of the item's own making: its instants are kept, its rules (summer time) are not.
      notes.lost(where, `TZID=${tzid}`, 'a zone defined only in the item, no IANA or Windows zone: the time is kept in UTC');
      const instant = instantOf(fields, zone.zone);
      const utc = localIn(instant, ICAL.Timezone.utcTimezone);
      const utcZone: IcalZone = { graphName: 'UTC', zone: ICAL.Timezone.utcTimezone, readsBackAs: 'UTC' };
      return { value: { dateTime: graphDateTime(utc), timeZone: 'UTC' }, isDate: false, instant, zone: utcZone };
    }
    notes.lost(where, `TZID=${tzid}`, `the zone is neither defined in the item nor known: the time is taken as ${zones.floating.readsBackAs}`);
  } else {
    notes.lost(where, 'floating time', `Microsoft 365 has no time without zone: kept in ${zones.floating.readsBackAs}`);
  }
  return { value: { dateTime: graphDateTime(fields), timeZone: zones.floating.graphName }, isDate: false, instant: instantOf(fields, zones.floating.zone), zone: zones.floating };
}

/**
 * A property's time. A day written without VALUE=DATE (DTSTART;TZID=Europe/Paris:20130903, which
 * some writers make and servers store) is read as the day it is.
 */
export function timeValue(property: ICAL.Property, notes: MappingNotes, where: string): ICAL.Time {
  try {
    return property.getFirstValue() as ICAL.Time;
  } catch (error) {
    const day = /^(\d{4})-?(\d\d)-?(\d\d)(?:T::)?$/.exec(String((property.toJSON() as JCalProperty)[3] ?? ''));
    if (!day) throw error;
    notes.rewrote(where, 'VALUE', 'a day written as a date and time: read as the day, written back with VALUE=DATE');
    return new ICAL.Time({ year: Number(day[1]), month: Number(day[2]), day: Number(day[3]), isDate: true }, ICAL.Timezone.localTimezone);
  }
}

/** The instant of a DATE / DATE-TIME value (EXDATE, RECURRENCE-ID, UNTIL) in the event's zone where it has none of its own. */
export function instantOfValue(value: ICAL.Time, tzid: string | undefined, zones: ZoneBook, eventZone: IcalZone): number {
  const fields: LocalFields = { year: value.year, month: value.month, day: value.day, hour: value.hour, minute: value.minute, second: value.second };
  if (value.zone === ICAL.Timezone.utcTimezone) return instantOf(fields, ICAL.Timezone.utcTimezone);
  if (tzid) {
    const zone = zones.zoneOf(tzid);
    if (zone) return instantOf(fields, zone.zone);
  }
  return instantOf(fields, eventZone.zone);
}

/** An iCalendar property (jCal) for a Graph time; `zonesUsed` collects the TZIDs that need a VTIMEZONE. */
export function icalTimeProperty(name: string, time: GraphDateTimeTimeZone, isDate: boolean, zonesUsed: Set<string>): JCalProperty {
  const fields = parseGraphDateTime(time.dateTime);
  const date = `${pad(fields.year, 4)}-${pad(fields.month)}-${pad(fields.day)}`;
  if (isDate) return [name, {}, 'date', date];
  const clock = `${date}T${pad(fields.hour)}:${pad(fields.minute)}:${pad(fields.second)}`;
  const iana = ianaOfGraphZone(time.timeZone) ?? 'UTC';
  if (iana === 'UTC' || !databaseZone(iana)) return [name, {}, 'date-time', `${clock}Z`];
  zonesUsed.add(iana);
  return [name, { tzid: iana }, 'date-time', clock];
}

/**
 * A UTC instant (Graph's DateTimeOffset: an exception's originalStart) as a property value in the
 * form of `like` (the master's DTSTART); `start` is the master's Graph start, whose zone an
 * all-day event keeps its days in.
 */
export function icalInstantProperty(name: string, instantIso: string, like: JCalProperty, start: GraphDateTimeTimeZone): JCalProperty {
  const seconds = Date.parse(instantIso) / 1000;
  if (like[2] === 'date') {
    const local = localIn(seconds, databaseZone(ianaOfGraphZone(start.timeZone) ?? 'UTC') ?? ICAL.Timezone.utcTimezone);
    return [name, {}, 'date', `${pad(local.year, 4)}-${pad(local.month)}-${pad(local.day)}`];
  }
  const tzid = like[1].tzid as string | undefined;
  const zone = tzid ? databaseZone(tzid) : null;
  if (!zone) return [name, {}, 'date-time', utcString(seconds)];
  const local = localIn(seconds, zone);
  return [name, { tzid }, 'date-time', `${pad(local.year, 4)}-${pad(local.month)}-${pad(local.day)}T${pad(local.hour)}:${pad(local.minute)}:${pad(local.second)}`];
}

/** The VTIMEZONE components for the zones an item uses, from the tz database. */
export function vtimezones(zonesUsed: Set<string>): ICAL.Component[] {
  return [...zonesUsed].sort().flatMap((iana) => {
    const text = vtimezoneOf(iana);
    return text ? [ICAL.Component.fromString(text)] : [];
  });
}

/** The instant (unix seconds) of a Graph time; a zone nobody knows counts as UTC. */
export function graphInstant(time: GraphDateTimeTimeZone): number {
  const zone = databaseZone(ianaOfGraphZone(time.timeZone) ?? 'UTC') ?? ICAL.Timezone.utcTimezone;
  return instantOf(parseGraphDateTime(time.dateTime), zone);
}

/** A Graph time in another zone (the same instant); as it is when either zone is unknown. */
export function inZone(time: GraphDateTimeTimeZone, graphZone: string): GraphDateTimeTimeZone {
  const target = ianaOfGraphZone(graphZone);
  const zone = target ? databaseZone(target) : null;
  if (!zone || ianaOfGraphZone(time.timeZone) === null || ianaOfGraphZone(time.timeZone) === target) return time;
  return { dateTime: graphDateTime(localIn(graphInstant(time), zone)), timeZone: graphZone };
}
