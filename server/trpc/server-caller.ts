import { headers } from 'next/headers';
import { cache } from 'react';
import { getSessionUser } from '../auth/session';
import { createContext } from './init';
import { createCaller } from './root';
import { clientAddressFrom } from '../auth/client-address';

/** tRPC for server components: the same procedures, called directly, once per request. */
export const getServerCaller = cache(async () => {
  const forwarded = (await headers()).get('x-forwarded-for');
  return createCaller(createContext({ user: await getSessionUser(), ip: clientAddressFrom(forwarded) }));
});
