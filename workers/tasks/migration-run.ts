import { keyRing } from '@/server/crypto/runtime';
import { getDb } from '@/server/db';
import { migrationResyncJob, migrationRunJob } from '@/server/migrations/jobs';
import { runMigrationPhase } from '@/server/migrations/run-migration';
import { implementJob } from '../task';
import { jobTimeBudgetMs } from '../time-budget';

export const migrationRun = implementJob(migrationRunJob, async ({ migrationId }) => {
  await runMigrationPhase(getDb(), migrationId, 'run', { ring: await keyRing(), timeBudgetMs: jobTimeBudgetMs() });
});

export const migrationResync = implementJob(migrationResyncJob, async ({ migrationId }) => {
  await runMigrationPhase(getDb(), migrationId, 'resync', { ring: await keyRing(), timeBudgetMs: jobTimeBudgetMs() });
});
