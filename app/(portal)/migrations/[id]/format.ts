export const number = (n: number) => n.toLocaleString('en-GB');

/** 1,536 → "1.5 KB"; binary units, as mail clients show sizes. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${number(bytes)} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toLocaleString('en-GB', { maximumFractionDigits: value < 10 ? 1 : 0 })} ${units[unit]}`;
}

/** "about 12 minutes", from the copy's recent rate. */
export function formatEta(seconds: number): string {
  if (seconds < 60) return 'less than a minute';
  if (seconds < 90) return 'about a minute';
  if (seconds < 90 * 60) return `about ${Math.round(seconds / 60)} minutes`;
  if (seconds < 36 * 3600) return `about ${Math.round(seconds / 3600)} hours`;
  return `about ${Math.round(seconds / 86_400)} days`;
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** An ISO instant as the portal shows times, in the server's zone: "3 Nov 2026, 09:15". */
export function formatLocal(iso: string, zone: string): string {
  let format = dateFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    dateFormats.set(zone, format);
  }
  return format.format(new Date(iso));
}
