import type { AccountInput } from '../../accounts/schemas';

/**
 * Mass migration: one record per line, 12 fields separated by `;`. This file and the formal
 * check are imported by the browser as well as the server: keep them free of server-only code.
 */
export const MASS_FIELDS = [
  'source.type',
  'source.email',
  'source.username',
  'source.password',
  'source.server',
  'target.type',
  'target.email',
  'target.username',
  'target.password',
  'target.server',
  'startdate',
  'resyncdate',
] as const;
export type MassField = (typeof MASS_FIELDS)[number];

/** The header line a file may start with; a first line equal to it is not a record. */
export const MASS_HEADER = MASS_FIELDS.join(';');

/** At most this many records (lines that are not blank, comments or the header) per submission. */
export const MAX_MASS_RECORDS = 5_000;
/** At most this many bytes (UTF-8) of text per submission. */
export const MAX_MASS_BYTES = 2_000_000;

export type MassLineStatus = 'ok' | 'invalid' | 'duplicate' | 'ignored';

/** One physical line of the text, as the formal check judged it. */
export interface MassLine {
  /** 1-based line in the text, as an editor counts it. */
  line: number;
  status: MassLineStatus;
  /** The earlier line with the same source and target; null otherwise (also for "already being migrated"). */
  duplicateOf: number | null;
  /** Reason per wrong field, in plain words; only the wrong fields are present. */
  fields: Partial<Record<MassField, string>>;
  /** What is wrong with the line as a whole (field count, quoting, length, duplicate); null when nothing. */
  problem: string | null;
  /** Remarks that do not stop the line (e.g. a time that occurs twice when the clocks go back). */
  notes: string[];
  /** The 12 field values as read (fewer or more when the field count is wrong); empty for ignored lines. */
  values: string[];
  /** The line exactly as typed, without its line break. */
  raw: string;
}

/** A clean record, ready to be submitted. */
export interface MassRecord {
  line: number;
  source: AccountInput;
  target: AccountInput;
  /** Local times in the check's time zone, `YYYY-MM-DDTHH:MM`, as the single form sends them. */
  startAt: string;
  resyncAt: string | null;
  /** Resolved to UTC with the single form's rules (a past start means `now`). */
  startUtc: Date;
  resyncUtc: Date | null;
}

export interface MassCheckResult {
  /** Lines that are records: not blank, not comments, not the header. */
  records: number;
  /** No error, at least one record, and every record `ok`. */
  clean: boolean;
  /** A problem with the whole text (empty, over a limit); then `lines` may be empty. */
  error: string | null;
  /** Every physical line of the text (a final line break does not start another line). */
  lines: MassLine[];
  /** The `ok` records, in line order. */
  accepted: MassRecord[];
}

/** A source/target pair of an active migration of the organization (addresses as stored). */
export interface ActivePair {
  source: string;
  target: string;
}

export interface MassCheckContext {
  /** IANA time zone the dates are in (the server's, MAILFERRY_TIMEZONE). */
  zone: string;
  now: Date;
  /** The organization's active migrations: a record repeating one is a duplicate ("already being migrated"). */
  active: readonly ActivePair[];
  /** Whether the organization has a Microsoft 365 connection (office365 passwords may then be empty). */
  microsoft365: boolean;
  /**
   * What the host policy allows of addresses a customer may type, without DNS: the admin's
   * allow rules (MAILFERRY_ALLOWED_HOSTS and Settings) and the allowed ports.
   */
  hosts: MassHostPolicy;
}

export interface MassHostPolicy {
  /** Allow rules as text, e.g. `10.0.0.0/8`, `mail.internal:993` (the syntax of MAILFERRY_ALLOWED_HOSTS). */
  allow: readonly string[];
  allowedPorts: readonly number[];
}
