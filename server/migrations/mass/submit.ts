import { randomUUID } from 'node:crypto';
import type { AccountInput } from '../../accounts/schemas';
import { recordAudit } from '../../audit/audit';
import type { KeyRing } from '../../crypto/keyring';
import { seal } from '../../crypto/seal';
import type { Db } from '../../db';
import { enqueueJob } from '../../jobs/enqueue';
import { quotaOf, refusalMessage, reserveUnits, type Quota } from '../../licensing/quota';
import { inTransaction } from '../../licensing/transaction';
import type { Caller } from '../submit-migration';
import { massCheckContext } from './context';
import { formalCheck } from './formal-check';
import { massSubmissionCheckJob, massSubmissionJobKey } from './jobs';
import type { MassLineVerdict, MassSubmitResult } from './submission-types';
import type { MassCheckResult, MassLine, MassRecord } from './types';

/** Bound to the submission, line and side: a sealed password copied into another row does not open. */
export const massPasswordContext = (submissionId: string, line: number, side: 'source' | 'target') => `mass:${submissionId}:${line}:${side}`;

/** What the browser may see of a checked line: the verdict, never the values or the line as typed. */
export function lineVerdict(line: MassLine): MassLineVerdict {
  return { line: line.line, status: line.status, duplicateOf: line.duplicateOf, fields: line.fields, problem: line.problem, notes: line.notes };
}

function notCleanMessage(result: MassCheckResult): string {
  if (result.error) return result.error;
  if (result.records === 0) return 'There is no record to submit.';
  const wrong = result.lines.filter((l) => l.status === 'invalid' || l.status === 'duplicate').length;
  return wrong === 1 ? '1 line needs correcting before the list can be submitted.' : `${wrong} lines need correcting before the list can be submitted.`;
}

function notEnough(quota: Quota, needed: number): MassSubmitResult {
  return { ok: false, reason: 'not_enough_units', message: refusalMessage(quota, needed), needed, remaining: quota.remaining, total: quota.total };
}

function sealedPassword(ring: KeyRing, submissionId: string, line: number, side: 'source' | 'target', account: AccountInput): string | null {
  // Empty only for office365 with the organization's connection: nothing to seal then.
  return account.password ? seal(ring, account.password, massPasswordContext(submissionId, line, side)) : null;
}

// Rows per INSERT: 20 columns each stay well below PostgreSQL's 65,535 bind parameters.
const INSERT_CHUNK = 1_000;

/**
 * A customer's mass submission. The server's formal check is the truth: a text that is not
 * clean is refused with the verdict of every line (nothing typed goes back). Then, before any
 * login is tried, the records must fit the remaining units; in one transaction one unit per
 * record is reserved (all or nothing, on the organization's locked usage row, so two
 * submissions at once never overspend), the records are stored with their passwords sealed,
 * and the background login check is queued. The logins are tried by that job
 * (check-records.ts), never inside this request.
 */
export async function submitMassMigration(
  db: Db,
  ring: () => Promise<KeyRing>,
  caller: Caller,
  text: string,
  options: { zone: string; now?: Date },
): Promise<MassSubmitResult> {
  const now = options.now ?? new Date();
  const context = await massCheckContext(db, caller.organizationId, { zone: options.zone, now });
  const checked = formalCheck(text, context);
  if (!checked.clean) {
    return { ok: false, reason: 'not_clean', message: notCleanMessage(checked), records: checked.records, error: checked.error, lines: checked.lines.map(lineVerdict) };
  }
  const records: MassRecord[] = checked.accepted;

  // Without enough units no mail server is contacted and nothing is stored.
  const quota = await quotaOf(db, caller.organizationId);
  if (records.length > quota.remaining) return notEnough(quota, records.length);

  const keys = await ring();
  const submissionId = randomUUID();
  return inTransaction(db, async (tx) => {
    // The numbers above may be stale by now: this is the decision, under the usage row's lock.
    const reserved = await reserveUnits(tx, caller.organizationId, records.length);
    if (!reserved.ok) return notEnough(reserved.quota, records.length);
    await tx.massSubmission.create({
      data: { id: submissionId, organizationId: caller.organizationId, createdByUserId: caller.userId, records: records.length },
    });
    const rows = records.map((record, index) => ({
      submissionId,
      line: record.line,
      startAt: record.startUtc,
      resyncAt: record.resyncUtc,
      reservationId: reserved.reservations[index]!.id,
      sourceType: record.source.type,
      sourceEmail: record.source.email,
      sourceUsername: record.source.username,
      sourceServer: record.source.server,
      sourcePasswordSealed: sealedPassword(keys, submissionId, record.line, 'source', record.source),
      targetType: record.target.type,
      targetEmail: record.target.email,
      targetUsername: record.target.username,
      targetServer: record.target.server,
      targetPasswordSealed: sealedPassword(keys, submissionId, record.line, 'target', record.target),
    }));
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) await tx.massRecord.createMany({ data: rows.slice(i, i + INSERT_CHUNK) });
    await recordAudit(tx, {
      action: 'mass.submit',
      actorUserId: caller.userId,
      organizationId: caller.organizationId,
      targetType: 'mass_submission',
      targetId: submissionId,
      details: { records: records.length, pool: reserved.pool },
      ip: caller.ip,
    });
    await enqueueJob(tx, massSubmissionCheckJob, { submissionId }, { jobKey: massSubmissionJobKey(submissionId) });
    return { ok: true, submissionId, records: records.length } as const;
  });
}
