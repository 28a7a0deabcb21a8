import { getServerSession } from 'next-auth';
import { db } from '../db';
import { authOptions } from './options';
import { loadSessionUser, type SessionUser } from './session-user';

/** The signed-in user of the current request, read fresh from the database, or null. */
export async function getSessionUser(): Promise<SessionUser | null> {
  const session = await getServerSession(authOptions);
  const user = session?.user as { id?: string; sv?: number } | undefined;
  return user?.id ? loadSessionUser(db, user.id, user.sv ?? 0) : null;
}
