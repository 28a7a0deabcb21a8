import { z } from 'zod';
import { defineJob } from './define';

/** Hourly housekeeping: forgets rate-limit windows that ended long ago. */
export const maintenanceCleanupJob = defineJob('maintenance__cleanup', z.object({}).strict());
