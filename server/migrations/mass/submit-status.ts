import type { FailureReason } from '../../accounts/types';
import type { Db } from '../../db';
import type { MassRecordReport, MassSideVerdict, MassSubmissionStatus } from './submission-types';

/** A stored side verdict (written by check-records.ts); anything else reads as not checked. */
function sideVerdict(value: unknown): MassSideVerdict | null {
  if (!value || typeof value !== 'object') return null;
  const verdict = value as { ok?: unknown; reason?: unknown; message?: unknown };
  if (verdict.ok === true) return { ok: true };
  if (verdict.ok === false && typeof verdict.reason === 'string' && typeof verdict.message === 'string') {
    return { ok: false, reason: verdict.reason as FailureReason, message: verdict.message };
  }
  return null;
}

// Explicit: the sealed passwords of a record never leave the server, not even sealed.
const submissionSelect = {
  id: true,
  state: true,
  createdAt: true,
  finishedAt: true,
  records: true,
  checked: true,
  created: true,
  failed: true,
  lines: {
    orderBy: { line: 'asc' },
    select: { line: true, state: true, sourceEmail: true, targetEmail: true, migrationId: true, failedSide: true, sourceVerdict: true, targetVerdict: true, message: true },
  },
} as const;

type SubmissionRow = NonNullable<Awaited<ReturnType<typeof findSubmission>>>;

function findSubmission(db: Db, where: { id?: string; organizationId: string }) {
  return db.massSubmission.findFirst({ where, orderBy: { createdAt: 'desc' }, select: submissionSelect });
}

function statusOf(row: SubmissionRow): MassSubmissionStatus {
  const lines: MassRecordReport[] = row.lines.map((line) => ({
    line: line.line,
    state: line.state,
    sourceEmail: line.sourceEmail,
    targetEmail: line.targetEmail,
    migrationId: line.migrationId,
    failed: line.failedSide,
    source: sideVerdict(line.sourceVerdict),
    target: sideVerdict(line.targetVerdict),
    message: line.message,
  }));
  return {
    id: row.id,
    state: row.state,
    createdAt: row.createdAt,
    finishedAt: row.finishedAt,
    records: row.records,
    checked: row.checked,
    created: row.created,
    failed: row.failed,
    lines,
  };
}

/** One submission of the organization with every record's state; null for another organization's or an unknown id. */
export async function massSubmissionStatus(db: Db, organizationId: string, id: string): Promise<MassSubmissionStatus | null> {
  const row = await findSubmission(db, { id, organizationId });
  return row ? statusOf(row) : null;
}

/** The organization's newest submission, or null when it never submitted one. */
export async function latestMassSubmission(db: Db, organizationId: string): Promise<MassSubmissionStatus | null> {
  const row = await findSubmission(db, { organizationId });
  return row ? statusOf(row) : null;
}
