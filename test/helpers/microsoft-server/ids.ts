import { createHash } from 'node:crypto';

/** A GUID derived from a name, so that object ids stay the same between runs. */
export function stableGuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Exchange item ids are long base64 strings; Graph hands them out URL-safe ('/' as '-', '+' as
 * '_'), so they fit in a path segment. This keeps that shape and stays stable.
 */
export function exchangeId(...parts: string[]): string {
  return `AAMkA${createHash('sha256').update(parts.join('\n')).digest('base64').replace(/=+$/, '').replace(/\//g, '-').replace(/\+/g, '_')}AAA=`;
}

/** Outlook's changeKey is an opaque base64 string that changes with every write. */
export function changeKeyOf(id: string, version: number): string {
  return createHash('sha1').update(`${id}\n${version}`).digest('base64').slice(0, 24);
}
