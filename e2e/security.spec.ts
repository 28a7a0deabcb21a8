import type { APIRequestContext, APIResponse } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { admin, expect, test } from './fixtures';

/** A tRPC query URL with a superjson-encoded input. */
const query = (path: string, input?: unknown) =>
  `/api/trpc/${path}${input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`}`;

/** Posts the login form's request to next-auth's credentials endpoint. */
async function postCredentials(request: APIRequestContext, email: string, password: string): Promise<APIResponse> {
  const { csrfToken } = (await (await request.get('/api/auth/csrf')).json()) as { csrfToken: string };
  return request.post('/api/auth/callback/credentials', {
    form: { csrfToken, email, password, callbackUrl: '/', json: 'true' },
  });
}

/** Signs the request context in (its cookie jar keeps the session) and returns the response. */
async function apiSignIn(request: APIRequestContext, email: string, password: string): Promise<APIResponse> {
  const response = await postCredentials(request, email, password);
  const { url } = (await response.json()) as { url: string };
  expect(response.status(), `sign-in of ${email}`).toBe(200);
  expect(new URL(url).searchParams.get('error'), `sign-in of ${email}`).toBeNull();
  return response;
}

/** Anything that could be a password hash or its column. */
const HASH = /\$argon2|password_?hash/i;

test.describe('API security', () => {
  test('a POST that is not application/json is refused with 415 before it reaches any procedure', async ({ request, db }) => {
    // Signed in as admin: a cross-site form post would carry exactly this cookie.
    await apiSignIn(request, admin.email, admin.password);
    const name = `CSRF ${randomUUID().slice(0, 8)}`;
    const body = JSON.stringify({ json: { name, user: { email: `csrf-${randomUUID().slice(0, 8)}@e2e.mailferry.test`, password: 'long-enough-password' } } });

    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const response = await request.post('/api/trpc/admin.createReseller', { headers: { 'content-type': contentType }, data: body });
      expect(response.status(), contentType).toBe(415);
      expect(await response.json()).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    }
    expect(await db.organization.count({ where: { name } })).toBe(0);

    // The same request as JSON goes through, so the 415 above was the guard and nothing else.
    const accepted = await request.post('/api/trpc/admin.createReseller', {
      headers: { 'content-type': 'application/json; charset=utf-8' },
      data: body,
    });
    expect(accepted.status()).toBe(200);
    expect(await db.organization.count({ where: { name } })).toBe(1);
  });

  test('signed out, session.me answers null data', async ({ request }) => {
    const response = await request.get(query('session.me'));
    expect(response.status()).toBe(200);
    expect(await response.json()).toEqual({ result: { data: { json: null } } });
  });

  test('signed out, admin procedures answer 401; another role answers 403', async ({ request, seed }) => {
    const list = await request.get(query('admin.listOrganizations'));
    expect(list.status()).toBe(401);
    expect(await list.json()).toMatchObject({ error: { json: { data: { code: 'UNAUTHORIZED', httpStatus: 401 } } } });
    const create = await request.post('/api/trpc/admin.createReseller', {
      headers: { 'content-type': 'application/json' },
      data: { json: { name: 'Nope', user: { email: 'nope@e2e.mailferry.test', password: 'long-enough-password' } } },
    });
    expect(create.status()).toBe(401);

    const customer = await seed.customer();
    await apiSignIn(request, customer.email, customer.password);
    const forbidden = await request.get(query('admin.listOrganizations'));
    expect(forbidden.status()).toBe(403);
    const error = ((await forbidden.json()) as { error: { json: { message: string; data: { code: string; stack?: unknown } } } }).error.json;
    expect(error.data.code).toBe('FORBIDDEN');
    // Neither a stack trace nor a source path reaches the browser.
    expect(error.data.stack ?? null).toBeNull();
    expect(JSON.stringify(error)).not.toMatch(/\.tsx?:\d+|node_modules|\bat \S+ \(/);
  });

  test('a reseller cannot read another reseller’s customer (404, not 403)', async ({ request, seed }) => {
    const reseller = await seed.reseller();
    const own = await seed.customer({ resellerId: reseller.organization.id });
    const rival = await seed.reseller();
    const rivalCustomer = await seed.customer({ resellerId: rival.organization.id });

    await apiSignIn(request, reseller.email, reseller.password);
    const mine = await request.get(query('reseller.getCustomer', { id: own.organization.id }));
    expect(mine.status()).toBe(200);
    expect(await mine.text()).toContain(own.organization.name);
    const theirs = await request.get(query('reseller.getCustomer', { id: rivalCustomer.organization.id }));
    expect(theirs.status()).toBe(404);
    expect(await theirs.text()).not.toContain(rivalCustomer.organization.name);
  });

  test('no sign-in or session response carries the password hash', async ({ request, seed, db }) => {
    const customer = await seed.customer();
    const stored = await db.user.findUniqueOrThrow({ where: { email: customer.email }, select: { passwordHash: true } });
    expect(stored.passwordHash).toMatch(/^\$argon2id\$/);

    const failed = await postCredentials(request, customer.email, 'wrong-password-123');
    const failedText = await failed.text();
    expect(failedText).toContain('error=');
    expect(failedText).not.toMatch(HASH);

    const login = await apiSignIn(request, customer.email, customer.password);
    const loginText = await login.text();
    expect(loginText).not.toMatch(HASH);
    expect(loginText).not.toContain(customer.password);
    expect(JSON.stringify(login.headers())).not.toMatch(HASH);

    const session = await request.get('/api/auth/session');
    const sessionText = await session.text();
    expect(JSON.parse(sessionText)).toMatchObject({ user: { email: customer.email } });
    expect(sessionText).not.toMatch(HASH);

    const me = await request.get(query('session.me'));
    const meText = await me.text();
    expect(JSON.parse(meText)).toMatchObject({ result: { data: { json: { email: customer.email, role: 'customer' } } } });
    expect(meText).not.toMatch(HASH);

    // Lists of users (admin view) select their columns explicitly too. Signing in again replaces the session.
    await request.post('/api/auth/signout', { form: { csrfToken: ((await (await request.get('/api/auth/csrf')).json()) as { csrfToken: string }).csrfToken, json: 'true' } });
    await apiSignIn(request, admin.email, admin.password);
    const orgs = await request.get(query('admin.listOrganizations'));
    const orgsText = await orgs.text();
    expect(orgsText).toContain(customer.email);
    expect(orgsText).not.toMatch(HASH);
  });
});
