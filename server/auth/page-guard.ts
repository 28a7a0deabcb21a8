import { notFound, redirect } from 'next/navigation';
import { cache } from 'react';
import { db } from '../db';
import type { Role } from '../generated/prisma/enums';
import { organizationMode, type OrganizationMode } from '../licensing/quota';
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

/** The organization's mode, looked up once per request (the shell and the page both ask). */
export const currentMode = cache((organizationId: string) => organizationMode(db, organizationId));

/**
 * For customer pages. With `mode`, the page belongs to that mode only: in the other mode it
 * does not exist (404), so a tab of the other mode is not reachable by URL either.
 */
export async function requireCustomerPage(mode?: OrganizationMode): Promise<{ user: SessionUser; organizationId: string; mode: OrganizationMode }> {
  const user = await requirePageUser(['customer']);
  const organizationId = user.organization!.id;
  const current = await currentMode(organizationId);
  if (mode && current !== mode) notFound();
  return { user, organizationId, mode: current };
}
