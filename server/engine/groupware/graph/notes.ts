/**
 * What a mapping to Microsoft Graph could not keep, and what it keeps in another spelling, as
 * short lines "<COMPONENT> <PROPERTY>: <why>" (COMPONENT is VEVENT, VTODO, VALARM, VTIMEZONE,
 * VCALENDAR or VCARD). The copy reports `notMapped` with the item; `rewritten` is the same
 * meaning written differently (DURATION as DTEND), kept for the record, not a loss.
 */
export class MappingNotes {
  readonly notMapped: string[] = [];
  readonly rewritten: string[] = [];

  lost(where: string, what: string, why: string): void {
    const line = `${where} ${what}: ${why}`;
    if (!this.notMapped.includes(line)) this.notMapped.push(line);
  }

  rewrote(where: string, what: string, why: string): void {
    const line = `${where} ${what}: ${why}`;
    if (!this.rewritten.includes(line)) this.rewritten.push(line);
  }
}
