import { ACCOUNT_TYPES, type AccountType } from '../../accounts/types';
import { resolveLocalTime, zoneOffsetMinutes } from '../../portal/time-zone';
import { MASS_HEADER, MAX_MASS_BYTES, MAX_MASS_RECORDS } from './types';

/** The name "Download example file" saves under. */
export const MASS_EXAMPLE_FILE_NAME = 'mailferry-mass-migration-example.csv';

const TYPE_MEANINGS: Record<AccountType, string> = {
  imap: 'any IMAP server: mail only',
  zimbra: 'Zimbra: mail over IMAP, calendars, contacts and tasks over CalDAV/CardDAV',
  kolab: 'Kolab (Plesk): mail over IMAP, calendars, contacts and tasks over CalDAV/CardDAV',
  openxchange: 'Open-Xchange: mail over IMAP, calendars, contacts and tasks over CalDAV/CardDAV',
  exchange: 'Exchange (on-premise): mail over IMAP, calendars, contacts and tasks over EWS',
  office365: 'Microsoft 365: mail over IMAP with OAuth2, calendars, contacts and tasks over Microsoft Graph',
};

const pad = (value: number) => String(value).padStart(2, '0');

/** The zone's calendar day `days` after today's, at `hour`:00, in both accepted notations. */
function localTime(now: Date, zone: string, days: number, hour: number): { iso: string; german: string } {
  const local = new Date(now.getTime() + zoneOffsetMinutes(zone, now.getTime()) * 60_000);
  const day = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + days));
  const [y, m, d] = [day.getUTCFullYear(), pad(day.getUTCMonth() + 1), pad(day.getUTCDate())];
  return { iso: `${y}-${m}-${d} ${pad(hour)}:00`, german: `${d}.${m}.${y} ${pad(hour)}:00` };
}

/** In the evening, and an hour later should the clocks skip that hour in this zone on that day. */
function evening(now: Date, zone: string, days: number): { iso: string; german: string } {
  for (let hour = 20; hour < 23; hour++) {
    const time = localTime(now, zone, days, hour);
    if (resolveLocalTime(time.iso, zone).ok) return time;
  }
  return localTime(now, zone, days, 23);
}

/**
 * The example file's text: every field explained in `#` comment lines, the header, and three
 * records that pass the formal check as they are — dates relative to `now` (start tomorrow
 * evening, resync a week later), example.com/.net/.org hosts, one password that needs quoting.
 */
export function massExampleFile(options: { now: Date; zone: string }): string {
  const { now, zone } = options;
  const start1 = evening(now, zone, 1);
  const resync1 = evening(now, zone, 8);
  const start2 = evening(now, zone, 2);
  const start3 = evening(now, zone, 3);
  const resync3 = evening(now, zone, 10);
  const lines = [
    '# Mailferry mass migration: one migration per line, 12 fields separated by ";".',
    '# Lines starting with # and blank lines are ignored; the header line below is optional.',
    '#',
    '# source.type / target.type: the kind of server, one of',
    ...ACCOUNT_TYPES.map((type) => `#   ${type.padEnd(11)} ${TYPE_MEANINGS[type]}`),
    '#   Calendars, contacts and tasks move only when both sides have them.',
    '# source.email / target.email: the mailbox address, e.g. anna@example.com.',
    '# source.username / target.username: the login name; often the address itself.',
    '# source.password / target.password: the login password (never stored after the migration).',
    '#   office365 signs in with the organization’s Microsoft 365 connection: its password may be',
    '#   left empty when the organization has one.',
    '# source.server / target.server: where to connect:',
    '#   mail.example.com          IMAP over TLS on port 993',
    '#   mail.example.com:143      the port to use (143 means STARTTLS)',
    '#   imaps://mail.example.com[:port]   IMAP over TLS (port 993 unless given)',
    '#   imap://mail.example.com[:port]    IMAP with STARTTLS (port 143 unless given), never plain text',
    '#   https://dav.example.com/…         a groupware endpoint (CalDAV/CardDAV, EWS) when it is not found from the host',
    '#   office365 may leave the server empty (outlook.office365.com).',
    '# startdate: when the migration starts, YYYY-MM-DD HH:MM or DD.MM.YYYY HH:MM,',
    `#   in the server’s time zone, ${zone}. A start in the past means now.`,
    '# resyncdate: when to copy what arrived since the start, in the same formats and time zone,',
    '#   after the start; leave it empty for no resync.',
    '#',
    '# Quoting: a field holding ; or " goes in quotation marks, with every " inside written twice:',
    '#   "pa;ss""x" is the password pa;ss"x. A quoted field ends on its own line.',
    `# At most ${MAX_MASS_RECORDS.toLocaleString('en-US')} records and ${MAX_MASS_BYTES / 1_000_000} MB at once.`,
    MASS_HEADER,
    `imap;anna@example.com;anna@example.com;"Winter;2027""!";imaps://mail.example.com;imap;anna@example.net;anna@example.net;Target-Pass-1;mail.example.net;${start1.iso};${resync1.iso}`,
    `zimbra;bob@example.com;bob;Bob-Secret-2;mail.example.com:993;zimbra;bob@example.org;bob@example.org;Bob-New-Secret-2;https://mail.example.org/dav/;${start2.german};`,
    `exchange;carla@example.com;EXAMPLE\\carla;Carla-Pass-3;imap://exchange.example.com;imap;carla@example.net;carla;Carla-New-Pass-3;imaps://imap.example.net:993;${start3.german};${resync3.german}`,
  ];
  return `${lines.join('\n')}\n`;
}
