/**
 * The client address the sign-in and check limits and the audit log count by. The web server's
 * process rewrites X-Forwarded-For to the one address it believes before Next.js sees the
 * request (server/runtime/forwarded-for.mjs: the connection's peer, or behind a trusted proxy
 * the hop that proxy saw); the last entry is taken in case anything appended after that.
 */
export function clientAddressFrom(forwardedFor: string | string[] | null | undefined): string | null {
  const value = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  const entries = (value ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  return entries.at(-1) ?? null;
}
