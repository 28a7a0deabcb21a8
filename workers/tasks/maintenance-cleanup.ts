import { maintenanceCleanupJob } from '@/server/jobs/jobs';
import { runMaintenance } from '@/server/jobs/maintenance';
import { implementJob } from '../task';

export const maintenanceCleanup = implementJob(maintenanceCleanupJob, async (_payload, { db }) => {
  await runMaintenance(db);
});
