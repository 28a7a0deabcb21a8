import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { getSessionUser } from '../auth/session';
import { createContext } from './init';
import { appRouter } from './root';
import { clientAddressFrom } from '../auth/client-address';

/**
 * A browser can send a cross-site form post (text/plain, form-encoded) with the user's cookie,
 * but not a cross-site application/json request without a CORS preflight, which we never grant.
 * So every POST (mutations, batched or not) must declare JSON.
 */
export function isCsrfSafe(request: Request): boolean {
  if (request.method !== 'POST') return true;
  const type = request.headers.get('content-type') ?? '';
  return type.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

export function clientIp(request: Request): string | null {
  return clientAddressFrom(request.headers.get('x-forwarded-for'));
}

export async function handleTrpcRequest(request: Request): Promise<Response> {
  if (!isCsrfSafe(request)) {
    return Response.json(
      { error: { message: 'Requests that change data must be sent as application/json.', code: 'UNSUPPORTED_MEDIA_TYPE' } },
      { status: 415 },
    );
  }
  return fetchRequestHandler({
    endpoint: '/api/trpc',
    req: request,
    router: appRouter,
    createContext: async () => createContext({ user: await getSessionUser(), ip: clientIp(request) }),
  });
}
