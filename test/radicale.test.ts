import { stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, startRadicale, type RadicaleServer, type RadicaleUser } from './helpers/radicale';

const DAV = 'DAV:';
const CALDAV = 'urn:ietf:params:xml:ns:caldav';
const CARDDAV = 'urn:ietf:params:xml:ns:carddav';

const alice: RadicaleUser = { username: 'alice', password: 'a:lice "secret" ü' };
const bob: RadicaleUser = { username: 'bob', password: 'bob-secret' };

const PROPFIND_BODY = `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:displayname/></D:prop></D:propfind>`;

interface DavEntry {
  href: string;
  /** Expanded names, `namespace|local`, e.g. `urn:ietf:params:xml:ns:caldav|calendar`. */
  resourcetype: string[];
  displayname: string | null;
}

function propfind(server: RadicaleServer, path: string, user: RadicaleUser) {
  return fetch(new URL(path, server.url), {
    method: 'PROPFIND',
    headers: { authorization: basicAuth(user), depth: '1', 'content-type': 'application/xml; charset=utf-8' },
    body: PROPFIND_BODY,
  });
}

/**
 * Just enough of a multistatus reader for these assertions: prefixes are resolved from the
 * declarations on the root element, which is where Radicale puts all of them.
 */
function parseMultistatus(body: string): DavEntry[] {
  const namespaces = new Map<string, string>();
  for (const [, prefix, uri] of body.matchAll(/xmlns(?::([\w-]+))?="([^"]*)"/g)) namespaces.set(prefix ?? '', uri ?? '');
  const expand = (qname: string) => {
    const [prefix, local] = qname.includes(':') ? qname.split(':', 2) : ['', qname];
    return `${namespaces.get(prefix ?? '') ?? '?'}|${local}`;
  };
  const element = (name: string) => `<(?:[\\w-]+:)?${name}\\b[^>]*>([\\s\\S]*?)</(?:[\\w-]+:)?${name}>`;

  return [...body.matchAll(new RegExp(element('response'), 'g'))].map(([, inner = '']) => {
    const href = new RegExp(element('href')).exec(inner)?.[1] ?? '';
    const typeXml = new RegExp(element('resourcetype')).exec(inner)?.[1] ?? '';
    const rawName = new RegExp(element('displayname')).exec(inner)?.[1];
    const displayname = rawName === undefined ? null : decodeXmlText(rawName);
    const resourcetype = [...typeXml.matchAll(/<([\w-]+(?::[\w-]+)?)\s*\/>/g)].map(([, qname = '']) => expand(qname));
    return { href: decodeURIComponent(href), resourcetype: resourcetype.sort(), displayname };
  });
}

function decodeXmlText(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (entity, code: string) =>
    code.startsWith('#x') || code.startsWith('#X')
      ? String.fromCodePoint(parseInt(code.slice(2), 16))
      : code.startsWith('#')
        ? String.fromCodePoint(Number(code.slice(1)))
        : (named[code] ?? entity),
  );
}

describe('private Radicale server', () => {
  let server: RadicaleServer;

  beforeAll(async () => {
    server = await startRadicale({ users: [alice, bob] });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('lists created calendars and address books in the principal home', async () => {
    const created = await server.createCollections('alice', {
      calendars: [{ slug: 'work', displayName: 'Work & Meetings', components: ['VEVENT'] }, 'tasks'],
      addressBooks: [{ slug: 'contacts', displayName: 'Contacts' }],
    });
    expect(created.calendars).toEqual([`${server.url}alice/work/`, `${server.url}alice/tasks/`]);
    expect(created.addressBooks).toEqual([`${server.url}alice/contacts/`]);

    const response = await propfind(server, '/alice/', alice);
    expect(response.status).toBe(207);
    const entries = parseMultistatus(await response.text());
    const byHref = new Map(entries.map((entry) => [entry.href, entry]));

    expect([...byHref.keys()].sort()).toEqual(['/alice/', '/alice/contacts/', '/alice/tasks/', '/alice/work/']);
    expect(byHref.get('/alice/')?.resourcetype).toEqual([`${DAV}|collection`, `${DAV}|principal`]);
    expect(byHref.get('/alice/work/')?.resourcetype).toEqual([`${DAV}|collection`, `${CALDAV}|calendar`]);
    expect(byHref.get('/alice/work/')?.displayname).toBe('Work & Meetings');
    expect(byHref.get('/alice/tasks/')?.resourcetype).toEqual([`${DAV}|collection`, `${CALDAV}|calendar`]);
    expect(byHref.get('/alice/contacts/')?.resourcetype).toEqual([`${DAV}|collection`, `${CARDDAV}|addressbook`]);
    expect(byHref.get('/alice/contacts/')?.displayname).toBe('Contacts');
  });

  it('answers 401 to a wrong password', async () => {
    const response = await propfind(server, '/alice/', { username: 'alice', password: 'wrong' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
    await response.body?.cancel();
  });

  it("keeps one user out of another user's home", async () => {
    const response = await propfind(server, '/alice/', bob);
    expect(response.status).toBe(403);
    await response.body?.cancel();

    const own = await propfind(server, '/bob/', bob);
    expect(own.status).toBe(207);
    expect(parseMultistatus(await own.text()).map((entry) => entry.href)).toEqual(['/bob/']);
  });

  it('accepts a user added while running', async () => {
    const carol = { username: 'carol', password: 'carol-secret' };
    const before = await propfind(server, '/carol/', carol);
    expect(before.status).toBe(401);
    await before.body?.cancel();

    await server.addUser(carol);
    await server.createCollections('carol', { addressBooks: ['friends'] });
    const after = await propfind(server, '/carol/', carol);
    expect(after.status).toBe(207);
    const friends = parseMultistatus(await after.text()).find((entry) => entry.href === '/carol/friends/');
    expect(friends?.resourcetype).toContain(`${CARDDAV}|addressbook`);
  });
});

describe('Radicale helper', () => {
  it('runs instances side by side and removes everything on stop()', async () => {
    const user = { username: 'dave', password: 'dave-secret' };
    const [first, second] = await Promise.all([startRadicale({ users: [user] }), startRadicale({ users: [user] })]);
    try {
      expect(first.port).not.toBe(second.port);
      await first.createCollections('dave', { calendars: ['only-on-first'] });
      const onSecond = await propfind(second, '/dave/', user);
      expect(parseMultistatus(await onSecond.text()).map((entry) => entry.href)).toEqual(['/dave/']);

      await first.stop();
      await expect(fetch(first.url, { method: 'OPTIONS' })).rejects.toThrow();
      await expect(stat(first.rootDir)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});
