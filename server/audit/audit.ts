import type { Db } from '../db';
import type { Prisma } from '../generated/prisma/client';

export interface AuditInput {
  action: string;
  actorUserId?: string | null;
  organizationId?: string | null;
  targetType?: string;
  targetId?: string;
  /** Never a secret: this is shown to admins. */
  details?: Prisma.InputJsonValue;
  ip?: string | null;
}

type AuditClient = Pick<Db, 'auditEvent'>;

export async function recordAudit(db: AuditClient, input: AuditInput): Promise<void> {
  await db.auditEvent.create({
    data: {
      action: input.action,
      actorUserId: input.actorUserId ?? null,
      organizationId: input.organizationId ?? null,
      targetType: input.targetType,
      targetId: input.targetId,
      details: input.details,
      ip: input.ip ?? null,
    },
  });
}
