import type { MigrationState } from '../generated/prisma/enums';
import type { TimingField } from './timing';

/** Not there, or another organization's: both answer the same, so ids reveal nothing. */
export class MigrationNotFoundError extends Error {
  constructor() {
    super('This migration does not exist.');
    this.name = 'MigrationNotFoundError';
  }
}

const ENDED: Partial<Record<MigrationState, string>> = {
  finished: 'This migration has already finished; there is nothing left to cancel.',
  incomplete: 'This migration has already finished; there is nothing left to cancel.',
  failed: 'This migration has already failed; there is nothing left to cancel.',
  cancelled: 'This migration is already cancelled.',
};

export class MigrationNotCancellableError extends Error {
  constructor(readonly state: MigrationState) {
    super(ENDED[state] ?? 'This migration cannot be cancelled now.');
    this.name = 'MigrationNotCancellableError';
  }
}

/** A value that passed the schema but not the server's rules (a local time the clocks skip). */
export class MigrationFieldError extends Error {
  constructor(readonly fields: Partial<Record<TimingField, string>>) {
    super(Object.values(fields)[0] ?? 'Check the dates.');
    this.name = 'MigrationFieldError';
  }
}
