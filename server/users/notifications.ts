import { z } from 'zod';
import { recordAudit } from '../audit/audit';
import type { Db } from '../db';
import { isMailConfigured } from '../notifications/config';
import type { Actor } from '../organizations/organizations';

export const setNotificationsSchema = z.object({ notifyByEmail: z.boolean() }).strict();
export type SetNotificationsInput = z.infer<typeof setNotificationsSchema>;

export interface NotificationSettings {
  /** The user's own choice (on unless switched off). */
  notifyByEmail: boolean;
  /** Migration e-mails go to the customer user who created the migration: only customers get them. */
  isRecipient: boolean;
  /** Whether this installation sends e-mails at all (MAILFERRY_SMTP_URL). */
  isMailConfigured: boolean;
}

/** The signed-in user's e-mail settings, for the Account page. */
export async function notificationSettingsOf(db: Db, userId: string): Promise<NotificationSettings> {
  const user = await db.user.findUniqueOrThrow({ where: { id: userId }, select: { notifyByEmail: true, role: true } });
  return { notifyByEmail: user.notifyByEmail, isRecipient: user.role === 'customer', isMailConfigured: isMailConfigured() };
}

/** Switches the signed-in user's migration e-mails on or off; e-mails already queued ask again when they are sent. */
export async function setOwnNotifications(db: Db, actor: Actor, input: SetNotificationsInput): Promise<NotificationSettings> {
  await db.$transaction(async (tx) => {
    const user = await tx.user.update({ where: { id: actor.userId }, data: { notifyByEmail: input.notifyByEmail }, select: { id: true, organizationId: true } });
    await recordAudit(tx, {
      action: 'user.update_own_notifications',
      actorUserId: actor.userId,
      organizationId: user.organizationId,
      targetType: 'user',
      targetId: user.id,
      details: { notifyByEmail: input.notifyByEmail },
      ip: actor.ip,
    });
  });
  return notificationSettingsOf(db, actor.userId);
}
