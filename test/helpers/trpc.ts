import { TRPCError } from '@trpc/server';
import { loadSessionUser } from '@/server/auth/session-user';
import type { Db } from '@/server/db';
import { createContext } from '@/server/trpc/init';
import { createCaller } from '@/server/trpc/root';

/** The API as the given user (or nobody) would call it, without HTTP. */
export async function callerFor(db: Db, userId: string | null) {
  const user = userId ? await loadSessionUser(db, userId) : null;
  return createCaller(createContext({ db, user, ip: '127.0.0.1' }));
}

/** The tRPC error code a call ends with, or 'OK'. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
}
