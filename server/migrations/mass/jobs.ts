import { z } from 'zod';
import { defineJob } from '../../jobs/define';

/** Tries the logins of a submission's records and creates their migrations; ids only, never a secret. */
export const massSubmissionCheckJob = defineJob('mass_submission__check', z.object({ submissionId: z.string().uuid() }).strict());

export const massSubmissionJobKey = (submissionId: string) => `mass-submission:${submissionId}`;
