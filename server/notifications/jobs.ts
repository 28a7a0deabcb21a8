import { z } from 'zod';
import { defineJob } from '../jobs/define';

/** The e-mail of one timeline event (migration_events.id, as text: it is a bigint). */
export const migrationNotifyJob = defineJob('migration__notify', z.object({ eventId: z.string().regex(/^[1-9][0-9]{0,18}$/) }).strict());

export const notificationJobKey = (eventId: bigint) => `migration-notify:${eventId}`;

/**
 * Attempts before the e-mail is given up as failed. graphile-worker waits e^n seconds after the
 * n-th failure: 10 attempts span about 3.5 hours of an SMTP server being down.
 */
export const NOTIFY_MAX_ATTEMPTS = 10;
