import { z } from 'zod';
import { defineJob } from '../jobs/define';

const payload = z.object({ migrationId: z.string().uuid() }).strict();

/** The first pass: from the start time until every folder is copied (in time-boxed chunks). */
export const migrationRunJob = defineJob('migration__run', payload);
/** The resync at the resync date: what arrived since, and flag changes. */
export const migrationResyncJob = defineJob('migration__resync', payload);

export const migrationJobKey = (migrationId: string) => `migration:${migrationId}`;
