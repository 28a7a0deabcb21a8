/**
 * Groupware check for an Exchange Online mailbox through Microsoft Graph with an app-only
 * token: can the organization's app read this user's calendars, contacts and To Do lists?
 *
 * https://learn.microsoft.com/graph/api/user-list-calendars
 * https://learn.microsoft.com/graph/api/user-list-contactfolders
 * https://learn.microsoft.com/graph/api/todo-list-lists
 */
import { randomUUID } from 'node:crypto';
import { ConnectorError, type Collection, type FetchLike, type ProtocolReport } from '../types';
import { delay, fetchFailure, graphNextLink, httpsBase, odataPage, parseJson, readBody, retryAfterSeconds, scrub } from './http';

export const DEFAULT_GRAPH_BASE_URL = 'https://graph.microsoft.com';

/**
 * Collection id of the default contacts folder. `GET /contactFolders` lists only the folders
 * below it and Graph documents no alias for it; its contacts are at `/users/{user}/contacts`.
 */
export const DEFAULT_CONTACTS_ID = 'contacts';

export interface GraphMailboxCheck {
  /** User principal name or primary SMTP address (or the user's object id). */
  user: string;
  /** App-only token for https://graph.microsoft.com/.default. */
  token: string;
  graphBaseUrl?: string;
  fetch: FetchLike;
  signal?: AbortSignal;
}

// Graph pages these lists by 10 by default; 20 pages is more than any real mailbox has, and a
// server that keeps answering with a nextLink must not keep the check busy.
const MAX_PAGES = 20;
const BODY_LIMIT = 4 * 1024 * 1024;
// A credential check runs inside a time limit of about 20 s: wait for throttling once, briefly.
const MAX_RETRY_WAIT_SECONDS = 5;
const DEFAULT_RETRY_WAIT_SECONDS = 1;

// 404 codes that mean "this user has no mailbox Graph can reach", as opposed to a wrong URL.
const NO_MAILBOX = new Set(['ErrorItemNotFound', 'ResourceNotFound', 'MailboxNotEnabledForRESTAPI', 'MailboxNotSupportedForRESTAPI']);
const NO_USER = new Set(['ErrorInvalidUser', 'Request_ResourceNotFound', 'ErrorNonExistentMailbox']);

interface Area {
  what: string;
  path: string;
  query: string;
  permission: string;
}

const CALENDARS: Area = { what: 'calendars', path: 'calendars', query: '?$select=id,name', permission: 'Calendars.Read or Calendars.ReadWrite' };
const CONTACTS: Area = { what: 'contacts', path: 'contacts', query: '?$top=1&$select=id', permission: 'Contacts.Read or Contacts.ReadWrite' };
const CONTACT_FOLDERS: Area = { what: 'contact folders', path: 'contactFolders', query: '?$select=id,displayName', permission: 'Contacts.Read or Contacts.ReadWrite' };
// todoTaskList documents no OData query options: ask for the plain list.
const TASK_LISTS: Area = { what: 'task lists', path: 'todo/lists', query: '', permission: 'Tasks.Read.All or Tasks.ReadWrite.All' };

interface Session {
  origin: string;
  userUrl: string;
  user: string;
  token: string;
  fetch: FetchLike;
  signal: AbortSignal | undefined;
  retriesLeft: number;
}

interface GraphItem {
  id: string;
  [key: string]: unknown;
}

type Page = { items: GraphItem[]; nextLink: string | undefined };
type Denied = { denied: string };

/**
 * Lists the user's calendars, contact folders (with the default one) and To Do lists. A 403
 * on one of them is collected, so the failure names every permission the app lacks at once.
 */
export async function checkGraphMailbox(input: GraphMailboxCheck): Promise<ProtocolReport> {
  const base = httpsBase(input.graphBaseUrl ?? DEFAULT_GRAPH_BASE_URL, 'Microsoft Graph base URL');
  if (input.user === '' || input.user.length > 320 || /[\s\x00-\x1f\x7f]/.test(input.user)) {
    throw new ConnectorError('groupware_not_found', `${JSON.stringify(input.user.slice(0, 80))} is not a user principal name`);
  }
  const session: Session = {
    origin: new URL(base).origin,
    userUrl: `${base}/v1.0/users/${encodeURIComponent(input.user)}`,
    user: input.user,
    token: input.token,
    fetch: input.fetch,
    signal: input.signal,
    retriesLeft: 1,
  };

  const denied: string[] = [];
  const collect = <T>(result: T | Denied, area: Area): T | null => {
    if (result && typeof result === 'object' && 'denied' in result) {
      denied.push(`${area.what} (${area.permission}; Graph said ${result.denied})`);
      return null;
    }
    return result as T;
  };

  const calendars = collect(await listAll(session, CALENDARS), CALENDARS);
  const contactsProbe = collect(await getPage(session, `${session.userUrl}/${CONTACTS.path}${CONTACTS.query}`, CONTACTS), CONTACTS);
  const folders = contactsProbe ? collect(await listAll(session, CONTACT_FOLDERS), CONTACT_FOLDERS) : null;
  const lists = collect(await listAll(session, TASK_LISTS), TASK_LISTS);

  if (denied.length > 0 || !calendars || !contactsProbe || !folders || !lists) {
    throw new ConnectorError(
      'not_configured',
      `the Microsoft 365 app may not read ${denied.join(', ')} of ${input.user}: grant the application permission with admin consent, or widen the application access policy that excludes this mailbox`,
    );
  }

  const text = (item: GraphItem, field: string) => (typeof item[field] === 'string' && item[field] !== '' ? (item[field] as string) : item.id);
  const collections: Collection[] = [
    ...calendars.items.map((c) => ({ id: c.id, name: text(c, 'name'), kind: 'calendar' as const })),
    { id: DEFAULT_CONTACTS_ID, name: 'Contacts', kind: 'contacts' as const },
    ...folders.items.map((f) => ({ id: f.id, name: text(f, 'displayName'), kind: 'contacts' as const })),
    ...lists.items.map((l) => ({ id: l.id, name: text(l, 'displayName'), kind: 'tasks' as const })),
  ];
  return {
    protocol: 'graph',
    capabilities: [
      count(calendars.items.length, calendars.truncated, 'calendar'),
      count(folders.items.length + 1, folders.truncated, 'contact folder'),
      count(lists.items.length, lists.truncated, 'task list'),
    ],
    collections,
  };
}

function count(n: number, truncated: boolean, noun: string): string {
  return `${n}${truncated ? '+' : ''} ${noun}${n === 1 && !truncated ? '' : 's'}`;
}

async function listAll(session: Session, area: Area): Promise<{ items: GraphItem[]; truncated: boolean } | Denied> {
  const items: GraphItem[] = [];
  const seen = new Set<string>();
  let url = `${session.userUrl}/${area.path}${area.query}`;
  for (let page = 0; page < MAX_PAGES; page++) {
    seen.add(url);
    const result = await getPage(session, url, area);
    if ('denied' in result) return result;
    items.push(...result.items);
    if (result.nextLink === undefined) return { items, truncated: false };
    url = graphNextLink(result.nextLink, session.origin, `Graph ${area.what} of ${session.user}`);
    if (seen.has(url)) throw new ConnectorError('protocol_error', `Graph ${area.what} of ${session.user}: @odata.nextLink repeats an earlier page`);
  }
  return { items, truncated: true };
}

async function getPage(session: Session, url: string, area: Area): Promise<Page | Denied> {
  const what = `Graph ${area.what} of ${session.user}`;
  for (;;) {
    const clientRequestId = randomUUID();
    let response: Response;
    let text: string;
    try {
      response = await session.fetch(url, {
        method: 'GET',
        headers: { authorization: `Bearer ${session.token}`, accept: 'application/json', 'client-request-id': clientRequestId },
        // fetch would replay the Authorization header on a same-origin redirect; Graph does not redirect these.
        redirect: 'manual',
        signal: session.signal,
      });
      text = await readBody(response, BODY_LIMIT, what);
    } catch (error) {
      throw fetchFailure(error, what, session.signal);
    }
    const json = parseJson(text);
    if (response.status === 200) return page(json, what);

    const { code, message } = graphError(json, text, session.token);
    const facts = `HTTP ${response.status} ${code}: ${message} (request-id ${response.headers.get('request-id') ?? '-'}, client-request-id ${clientRequestId})`;
    switch (response.status) {
      case 401:
        throw new ConnectorError('not_configured', `Graph rejected the app token for ${area.what} of ${session.user}: ${facts}`);
      case 403:
        return { denied: facts };
      case 404:
        if (NO_USER.has(code)) throw new ConnectorError('groupware_not_found', `${session.user} is not a user of the tenant (${what}: ${facts})`);
        if (NO_MAILBOX.has(code)) throw new ConnectorError('groupware_not_found', `${session.user} has no Exchange Online mailbox Graph can reach (${what}: ${facts})`);
        throw new ConnectorError('protocol_error', `${what}: ${facts}`);
      case 429:
      case 503: {
        const wait = retryAfterSeconds(response.headers.get('retry-after')) ?? DEFAULT_RETRY_WAIT_SECONDS;
        if (session.retriesLeft > 0 && wait <= MAX_RETRY_WAIT_SECONDS) {
          session.retriesLeft--;
          await delay(wait * 1000, session.signal).catch((error: unknown) => {
            throw fetchFailure(error, what, session.signal);
          });
          continue;
        }
        throw new ConnectorError('protocol_error', `${what}: still throttled (${facts}, Retry-After ${wait} s)`);
      }
      default:
        throw new ConnectorError('protocol_error', `${what}: ${facts}`);
    }
  }
}

function page(json: unknown, what: string): Page {
  const { value, nextLink } = odataPage(json, what);
  return { items: value, nextLink };
}

function graphError(json: unknown, text: string, token: string): { code: string; message: string } {
  const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (error && typeof error === 'object') {
    return {
      code: typeof error.code === 'string' ? scrub(error.code, [token], 80) : '-',
      message: typeof error.message === 'string' ? scrub(error.message, [token]) : '',
    };
  }
  return { code: '-', message: scrub(text, [token], 120) };
}
