import type { Db } from '../db';
import type { OrganizationKind, Role } from '../generated/prisma/enums';

export interface SessionUser {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  organization: { id: string; name: string; kind: OrganizationKind } | null;
}

/** Session → user → role → organization. A deleted user has no session. */
export async function loadSessionUser(db: Db, userId: string): Promise<SessionUser | null> {
  const user = await db.user.findUnique({
    where: { id: userId },
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
