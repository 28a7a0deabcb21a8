/** The server's IANA time zone and its current UTC offset, e.g. { name: 'Europe/Berlin', offset: '+01:00' }. */
export function serverTimeZone(at: Date = new Date()): { name: string; offset: string } {
  const name = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const minutes = -at.getTimezoneOffset();
  const sign = minutes >= 0 ? '+' : '-';
  const abs = Math.abs(minutes);
  return { name, offset: `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}` };
}
