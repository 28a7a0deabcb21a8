import type { FailureReason } from '../../accounts/types';
import type { MassField, MassLineStatus } from './types';

/**
 * What the server answers about a mass submission. Nothing here carries a password or a line
 * as typed: the browser keeps its own text and rebuilds the textarea from the line numbers.
 */

/** A formal-check line as the server reports it: no values, no raw text. */
export interface MassLineVerdict {
  line: number;
  status: MassLineStatus;
  duplicateOf: number | null;
  fields: Partial<Record<MassField, string>>;
  problem: string | null;
  notes: string[];
}

export type MassSubmitResult =
  /** The server's formal check is not clean (or the text is over a limit): nothing was reserved. */
  | { ok: false; reason: 'not_clean'; message: string; records: number; error: string | null; lines: MassLineVerdict[] }
  /** More records than units remain: nothing was reserved and no login was tried. */
  | { ok: false; reason: 'not_enough_units'; message: string; needed: number; remaining: number; total: number }
  /** Units reserved, records stored (credentials sealed), the login check queued. */
  | { ok: true; submissionId: string; records: number };

export type MassRecordState = 'pending' | 'checking' | 'created' | 'failed';

export type MassSideVerdict = { ok: true } | { ok: false; reason: FailureReason; message: string };

export interface MassRecordReport {
  /** The record's line in the submitted text. */
  line: number;
  state: MassRecordState;
  sourceEmail: string;
  targetEmail: string;
  /** Set once created: the new migration. */
  migrationId: string | null;
  /** Set once failed: which side did not work, each side's verdict and one sentence for the line. */
  failed: 'source' | 'target' | 'both' | null;
  source: MassSideVerdict | null;
  target: MassSideVerdict | null;
  message: string | null;
}

export interface MassSubmissionStatus {
  id: string;
  /** checking: logins are being tried; done: every record is created or failed. */
  state: 'checking' | 'done';
  createdAt: Date;
  finishedAt: Date | null;
  records: number;
  checked: number;
  created: number;
  failed: number;
  /** In line order. */
  lines: MassRecordReport[];
}
