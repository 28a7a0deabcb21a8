import { keyRing } from '@/server/crypto/runtime';
import { checkMassRecords } from '@/server/migrations/mass/check-records';
import { massSubmissionCheckJob } from '@/server/migrations/mass/jobs';
import { implementJob } from '../task';
import { jobTimeBudgetMs } from '../time-budget';

export const massSubmissionCheck = implementJob(massSubmissionCheckJob, async ({ submissionId }, { db }) => {
  await checkMassRecords(db, submissionId, { ring: await keyRing(), timeBudgetMs: jobTimeBudgetMs() });
});
