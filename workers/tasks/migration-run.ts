import { keyRing } from '@/server/crypto/runtime';
import { migrationResyncJob, migrationRunJob } from '@/server/migrations/jobs';
import { runMigrationPhase } from '@/server/migrations/run-migration';
import { implementJob } from '../task';
import { jobTimeBudgetMs } from '../time-budget';

export const migrationRun = implementJob(migrationRunJob, async ({ migrationId }, { db }) => {
  await runMigrationPhase(db, migrationId, 'run', { ring: await keyRing(), timeBudgetMs: jobTimeBudgetMs() });
});

export const migrationResync = implementJob(migrationResyncJob, async ({ migrationId }, { db }) => {
  await runMigrationPhase(db, migrationId, 'resync', { ring: await keyRing(), timeBudgetMs: jobTimeBudgetMs() });
});
