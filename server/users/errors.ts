/**
 * A refusal from user and organization management, carrying what it means so the API maps it
 * once (server/trpc/domain-errors.ts). The message is the sentence the person reads.
 */
export type DomainMeaning = 'not_found' | 'conflict' | 'precondition' | 'invalid' | 'rate_limited';

export class DomainError extends Error {
  constructor(
    readonly meaning: DomainMeaning,
    message: string,
    /** For `invalid`: the form field the sentence belongs to. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const userNotFound = () => new DomainError('not_found', 'This user does not exist, or you cannot manage it.');
