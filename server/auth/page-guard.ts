import { notFound, redirect } from 'next/navigation';
import { cache } from 'react';
import type { Role } from '../generated/prisma/enums';
import { getSessionUser } from './session';
import type { SessionUser } from './session-user';

/** The session user for this request, loaded once however many components ask. */
export const currentUser = cache(getSessionUser);

/** For pages: signed out goes to the login page; another role's page does not exist. */
export async function requirePageUser(roles?: Role[]): Promise<SessionUser> {
  const user = await currentUser();
  if (!user) redirect('/login');
  if (roles && !roles.includes(user.role)) notFound();
  return user;
}
