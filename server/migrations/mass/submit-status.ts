import type { Db } from '../../db';
import type { MassSubmissionStatus } from './submission-types';

export class MassSubmissionNotFoundError extends Error {
  constructor() {
    super('This mass submission does not exist.');
    this.name = 'MassSubmissionNotFoundError';
  }
}

/** One submission of the organization, with every record's state; another organization's is not found. */
export async function massSubmissionStatus(_db: Db, _organizationId: string, _id: string): Promise<MassSubmissionStatus> {
  throw new MassSubmissionNotFoundError();
}

/** The organization's newest submission, or null when it never submitted one. */
export async function latestMassSubmission(_db: Db, _organizationId: string): Promise<MassSubmissionStatus | null> {
  return null;
}
