import type { Db } from '../db';
import type { OrganizationKind, Role } from '../generated/prisma/enums';

export interface SessionUser {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  organization: { id: string; name: string; kind: OrganizationKind } | null;
}

/**
 * Session → user → role → organization, on every request. A deleted or disabled user has no
 * session, nor has a token issued before the user's session version moved on (password set,
 * disabled): `sessionVersion` is the version the token carries. Without it (callers that are
 * not a browser session, such as tests calling as a user) only the user's state counts.
 */
export async function loadSessionUser(db: Db, userId: string, sessionVersion?: number): Promise<SessionUser | null> {
  const user = await db.user.findFirst({
    where: { id: userId, disabledAt: null, ...(sessionVersion === undefined ? {} : { sessionVersion }) },
    select: {
      id: true,
      email: true,
      name: true,
      role: true,
      organization: { select: { id: true, name: true, kind: true } },
    },
  });
  return user ?? null;
}
