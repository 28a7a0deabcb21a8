/**
 * The client address sign-in limits count by: the last X-Forwarded-For entry. Next.js fills the
 * header with the socket's address only when a request carries none, and a reverse proxy
 * (nginx's $proxy_add_x_forwarded_for, most load balancers) appends the address it saw; the
 * entries before the last one are whatever the client sent, so a client could name itself
 * anew with every request if the first were trusted.
 */
export function clientAddressFrom(forwardedFor: string | string[] | null | undefined): string | null {
  const value = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  const entries = (value ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  return entries.at(-1) ?? null;
}
