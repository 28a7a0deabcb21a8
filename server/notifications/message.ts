import type { MigrationState } from '../generated/prisma/enums';
import { describeGap, describeLoss } from '../migrations/lifecycle';
import type { MigrationDetail } from '../migrations/migration-detail';

/** The timeline events a customer is told about by e-mail. */
export const NOTIFIED_EVENTS = ['finished', 'incomplete', 'failed', 'verification_gap'] as const;
export type NotifiedEvent = (typeof NOTIFIED_EVENTS)[number];
export const isNotifiedEvent = (kind: string): kind is NotifiedEvent => (NOTIFIED_EVENTS as readonly string[]).includes(kind);

/** What the e-mail of one event says: the migration as its detail page shows it, and where to go. */
export interface NotificationFacts {
  event: NotifiedEvent;
  migration: Pick<
    MigrationDetail,
    'id' | 'state' | 'source' | 'target' | 'statusLine' | 'failureReason' | 'messages' | 'loss' | 'finishedLocal' | 'resyncLocal' | 'verification' | 'verificationGap'
  > & { totals: Pick<MigrationDetail['totals'], 'skipped'> };
  /** The server's time zone, which every time in the e-mail is in. */
  zone: string;
  recipientName: string | null;
  detailUrl: string;
  accountUrl: string;
  /**
   * Texts that must not appear (the accounts' server names and logins): removed from the
   * reasons servers gave, the only free text in the e-mail.
   */
  redact?: readonly string[];
}

export interface NotificationMessage {
  subject: string;
  text: string;
  html: string;
}

const STATE_WORDS: Record<MigrationState, string> = {
  scheduled: 'Scheduled',
  running: 'Copying',
  waiting_resync: 'Waiting for the resync',
  resyncing: 'Resyncing',
  finished: 'Finished',
  incomplete: 'Incomplete',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

// A mailbox with hundreds of folders keeps the e-mail readable: the rest is on the detail page.
export const FOLDERS_LISTED = 25;

const number = (n: number) => n.toLocaleString('en-GB');
const plural = (n: number, one: string, many: string) => `${number(n)} ${n === 1 ? one : many}`;
const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

interface Row {
  label: string;
  value: string;
}

interface Parts {
  subject: string;
  intro: string;
  rows: Row[];
  verification: { heading: string; summary: string; folders: string[]; more: string | null } | null;
}

function redactor(words: readonly string[] = []) {
  const list = words.filter((w) => w.length >= 3).sort((a, b) => b.length - a.length);
  return (text: string) => list.reduce((out, word) => out.split(word).join('[server]'), text);
}

function partsOf(facts: NotificationFacts): Parts {
  const m = facts.migration;
  const clean = redactor(facts.redact);
  const pair = `${m.source.email} → ${m.target.email}`;
  const v = m.verification;
  const isVerifiedClean = v !== null && v.totals.missing === 0 && v.totals.unverifiedFolders === 0;
  const gap = describeGap(m.verificationGap);
  const loss = describeLoss(m.loss);

  let subject: string;
  let intro: string;
  switch (facts.event) {
    case 'finished':
      subject = `Migration finished: ${pair}`;
      intro = `The migration from ${m.source.email} to ${m.target.email} has finished. Everything was copied${isVerifiedClean ? ', and the verification found every message of the source on the target' : ''}.`;
      break;
    case 'incomplete':
      subject = `Migration incomplete: ${pair}`;
      intro = `The migration from ${m.source.email} to ${m.target.email} has ended, but ${
        loss ? `not everything was copied: ${loss}.${gap ? ` The verification also found ${gap}.` : ''}` : gap ? `the verification found ${gap}.` : 'not everything arrived.'
      }`;
      break;
    case 'failed':
      subject = `Migration failed: ${pair}`;
      intro = `The migration from ${m.source.email} to ${m.target.email} has failed and stopped.${m.failureReason ? ` ${clean(m.failureReason)}` : ''}`;
      break;
    case 'verification_gap': {
      subject = `Verification found a gap: ${pair}`;
      const found = gap ? `: ${gap}` : '';
      intro =
        m.state === 'waiting_resync' || m.state === 'resyncing'
          ? `After the first pass of the migration from ${m.source.email} to ${m.target.email}, the verification found a gap${found}.${m.resyncLocal ? ` The resync is scheduled for ${m.resyncLocal} (${facts.zone}).` : ''}`
          : `The migration from ${m.source.email} to ${m.target.email} was verified again, and the verification found a gap${found}.`;
      break;
    }
  }

  const rows: Row[] = [{ label: 'State', value: m.statusLine ? `${STATE_WORDS[m.state]}: ${m.statusLine}` : STATE_WORDS[m.state] }];
  if (m.finishedLocal) rows.push({ label: 'Ended', value: `${m.finishedLocal} (${facts.zone})` });
  else if (m.state === 'waiting_resync' && m.resyncLocal) rows.push({ label: 'Resync', value: `${m.resyncLocal} (${facts.zone})` });
  rows.push({
    label: 'Copied',
    value: `${number(m.messages.copied)} of ${plural(m.messages.total, 'message', 'messages')}${m.totals.skipped > 0 ? ` (${number(m.totals.skipped)} already on the target)` : ''}`,
  });
  rows.push({ label: 'Not copied', value: loss ? `${capitalized(loss)}, each listed with its reason on the detail page` : 'Nothing' });
  if (facts.event === 'failed' && m.failureReason) rows.push({ label: 'Reason', value: clean(m.failureReason) });

  return { subject, intro, rows, verification: v ? verificationParts(v, clean) : null };
}

function verificationParts(v: NonNullable<NotificationFacts['migration']['verification']>, clean: (text: string) => string): NonNullable<Parts['verification']> {
  const summary = [
    `${number(v.totals.present)} of ${plural(v.totals.sourceMessages, 'message', 'messages')} of the source are on the target`,
    v.totals.missing > 0 ? `${number(v.totals.missing)} missing` : null,
    v.totals.unverifiedFolders > 0 ? `${plural(v.totals.unverifiedFolders, 'folder', 'folders')} could not be verified` : null,
  ]
    .filter(Boolean)
    .join(', ');
  // The folders with a gap first, then the others in the page's order; empty ones last.
  const rank = (f: (typeof v.folders)[number]) => (f.missing > 0 || f.unverified ? 0 : f.sourceMessages > 0 ? 1 : 2);
  const ordered = [...v.folders].sort((a, b) => rank(a) - rank(b));
  const lines = ordered.slice(0, FOLDERS_LISTED).map((f) => {
    if (f.unverified) return `${f.sourcePath}: could not be verified (${clean(f.unverified)})`;
    if (f.missing > 0) return `${f.sourcePath}: ${number(f.missing)} missing (${number(f.present)} of ${number(f.sourceMessages)} present)`;
    if (f.sourceMessages === 0) return `${f.sourcePath}: empty on the source`;
    return `${f.sourcePath}: ${number(f.present)} of ${number(f.sourceMessages)} present`;
  });
  const rest = ordered.length - lines.length;
  return {
    heading: `Verification after the ${v.pass === 'resync' ? 'resync' : 'first pass'}, ${v.verifiedLocal}`,
    summary: `${capitalized(summary)}.`,
    folders: lines,
    more: rest > 0 ? `… and ${plural(rest, 'more folder', 'more folders')} on the detail page` : null,
  };
}

/**
 * The e-mail of one event: subject, plain text and a simple HTML part with the same content.
 * Addresses, counts, the verdict and the link; never a password, login or server name.
 */
export function buildNotificationMessage(facts: NotificationFacts): NotificationMessage {
  const parts = partsOf(facts);
  const greeting = facts.recipientName ? `Hello ${facts.recipientName},` : 'Hello,';
  const why = 'You get this e-mail because you created this migration in Mailferry. You can switch these e-mails off on your Account page:';

  const width = Math.max(...parts.rows.map((r) => r.label.length)) + 2;
  const text = [
    greeting,
    '',
    parts.intro,
    '',
    ...parts.rows.map((r) => `${`${r.label}:`.padEnd(width)}${r.value}`),
    ...(parts.verification
      ? ['', `${parts.verification.heading}:`, parts.verification.summary, ...parts.verification.folders.map((f) => `  ${f}`), ...(parts.verification.more ? [`  ${parts.verification.more}`] : [])]
      : []),
    '',
    'Every folder and every item not copied, with its reason:',
    facts.detailUrl,
    '',
    '-- ',
    why,
    facts.accountUrl,
    '',
  ].join('\n');

  const e = escapeHtml;
  const cell = 'padding:4px 16px 4px 0;vertical-align:top;';
  const html = `<!doctype html>
<html><body style="margin:0;padding:24px;background:#f8fafc;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:14px;line-height:1.5;color:#0f172a">
<div style="max-width:600px;margin:0 auto;background:#ffffff;border:1px solid #e2e8f0;border-radius:8px;padding:24px">
<p style="margin:0 0 12px">${e(greeting)}</p>
<p style="margin:0 0 16px">${e(parts.intro)}</p>
<table role="presentation" style="border-collapse:collapse;margin:0 0 16px">
${parts.rows.map((r) => `<tr><td style="${cell}color:#64748b">${e(r.label)}</td><td style="${cell}font-weight:600">${e(r.value)}</td></tr>`).join('\n')}
</table>
${
  parts.verification
    ? `<h2 style="font-size:14px;margin:0 0 4px">${e(parts.verification.heading)}</h2>
<p style="margin:0 0 8px">${e(parts.verification.summary)}</p>
<ul style="margin:0 0 16px;padding-left:20px">
${[...parts.verification.folders, ...(parts.verification.more ? [parts.verification.more] : [])].map((f) => `<li>${e(f)}</li>`).join('\n')}
</ul>`
    : ''
}
<p style="margin:0 0 24px"><a href="${e(facts.detailUrl)}" style="display:inline-block;background:#1d4ed8;color:#ffffff;text-decoration:none;font-weight:600;padding:8px 16px;border-radius:6px">Open the migration</a></p>
<p style="margin:0;color:#64748b;font-size:12px">${e(why)} <a href="${e(facts.accountUrl)}" style="color:#1d4ed8">${e(facts.accountUrl)}</a></p>
</div>
</body></html>
`;
  return { subject: parts.subject, text, html };
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
