import { createAccount, fetchAddressBooks, fetchCalendars, getBasicAuthHeaders, type DAVAccount } from 'tsdav';
import { ConnectorError, type Collection, type FetchLike, type ProtocolReport } from '../types';

export interface DavCheckOptions {
  /** The endpoint the customer gave, or https://<host>/ for RFC 6764 discovery. */
  serverUrl: string;
  username: string;
  password: string;
  fetch: FetchLike;
}

/**
 * tsdav swallows errors of its discovery requests and answers with its own messages. This
 * wrapper remembers what really happened on the wire, so a refused host or a TLS problem is
 * reported as such and a 401 as a wrong password.
 */
export function observingFetch(inner: FetchLike) {
  const seen = { connectorError: null as ConnectorError | null, unauthorized: false, statuses: [] as number[] };
  const wrapped = (async (input: string | URL | Request, init?: RequestInit) => {
    try {
      const response = await inner(input instanceof Request ? input.url : input, init);
      seen.statuses.push(response.status);
      if (response.status === 401) seen.unauthorized = true;
      return response;
    } catch (error) {
      if (error instanceof ConnectorError) seen.connectorError ??= error;
      throw error;
    }
  }) as typeof fetch;
  return { fetch: wrapped, seen };
}

export function failure(error: unknown, seen: ReturnType<typeof observingFetch>['seen'], protocol: string): ConnectorError {
  if (seen.connectorError) return seen.connectorError;
  if (error instanceof ConnectorError) return error;
  if (seen.unauthorized) return new ConnectorError('auth_failed', `${protocol}: the server answered 401`);
  return new ConnectorError('groupware_not_found', `${protocol}: ${(error as Error).message} (statuses ${seen.statuses.join(',') || 'none'})`);
}

async function discover(options: DavCheckOptions, accountType: 'caldav' | 'carddav') {
  const { fetch, seen } = observingFetch(options.fetch);
  const headers = getBasicAuthHeaders({ username: options.username, password: options.password });
  try {
    const account: DAVAccount = await createAccount({
      account: { serverUrl: options.serverUrl, accountType, credentials: { username: options.username, password: options.password } },
      headers,
      fetch,
    });
    const collections: Collection[] =
      accountType === 'caldav'
        ? (await fetchCalendars({ account, headers, fetch })).flatMap((c) => {
            const components = c.components ?? [];
            const name = typeof c.displayName === 'string' ? c.displayName : c.url;
            const out: Collection[] = [];
            if (components.length === 0 || components.includes('VEVENT')) out.push({ id: c.url, name, kind: 'calendar' });
            if (components.includes('VTODO')) out.push({ id: c.url, name, kind: 'tasks' });
            return out;
          })
        : (await fetchAddressBooks({ account, headers, fetch })).map((b) => ({
            id: b.url,
            name: typeof b.displayName === 'string' ? b.displayName : b.url,
            kind: 'contacts' as const,
          }));
    if (seen.unauthorized && collections.length === 0) throw new ConnectorError('auth_failed', `${accountType}: the server answered 401`);
    return collections;
  } catch (error) {
    throw failure(error, seen, accountType);
  }
}

/** CalDAV and CardDAV of one account: discovery (RFC 6764), principal, home sets, collections. */
export async function checkDav(options: DavCheckOptions): Promise<ProtocolReport[]> {
  const calendars = await discover(options, 'caldav');
  const addressBooks = await discover(options, 'carddav');
  const count = (kind: Collection['kind']) => calendars.concat(addressBooks).filter((c) => c.kind === kind).length;
  return [
    { protocol: 'caldav', capabilities: [`${count('calendar')} calendars`, `${count('tasks')} task lists`], collections: calendars },
    { protocol: 'carddav', capabilities: [`${count('contacts')} address books`], collections: addressBooks },
  ];
}
