'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState, type ReactNode } from 'react';
import { ACCOUNT_TYPE_LABELS } from '@/components/account-types';
import { AlertIcon, CheckCircleIcon, DownloadIcon, InfoIcon } from '@/components/icons';
import { ProgressBar, shareOf, StateBadge } from '@/components/migration-state';
import { useTRPC } from '@/components/trpc-provider';
import type { AccountType } from '@/server/accounts/types';
import { describeGap, describeLoss } from '@/server/migrations/lifecycle';
import type { MigrationDetail } from '@/server/migrations/migration-detail';
import { describeGroupwareLoss } from '@/server/migrations/state-sentence';
import { DeletionReceipts } from './deletion-receipts';
import { FolderTable } from './folder-table';
import { formatBytes, formatEta, number } from './format';
import { NotCopiedList } from './not-copied-list';
import { Timeline } from './timeline';

const capitalized = (text: string | null) => (text ? `${text.charAt(0).toUpperCase()}${text.slice(1)}.` : '');
const typeLabel = (type: string) => ACCOUNT_TYPE_LABELS[type as AccountType] ?? type;

/** While a migration is active the page asks again this often; an ended one is not asked again. */
export const LIVE_REFRESH_MS = 2_500;

function Section({ title, count, description, children, testId, aside }: { title: string; count?: number; description?: ReactNode; children: ReactNode; testId?: string; aside?: ReactNode }) {
  return (
    <section data-testid={testId} className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm">
      <div className="flex flex-wrap items-start justify-between gap-x-4 gap-y-2 px-5 pb-3 pt-5 sm:px-6">
        <div className="min-w-0">
          <h2 className="text-base font-semibold text-slate-900">
            {title}
            {count !== undefined ? <span className="ml-2 text-sm font-normal text-slate-500">{number(count)}</span> : null}
          </h2>
          {description ? <p className="mt-1 text-sm text-slate-600">{description}</p> : null}
        </div>
        {aside}
      </div>
      {children}
    </section>
  );
}

function Banner({ tone, title, children, testId }: { tone: 'loss' | 'info' | 'done'; title: string; children?: ReactNode; testId?: string }) {
  const styles = {
    loss: { box: 'border-orange-200 bg-orange-50', title: 'text-orange-900', text: 'text-orange-800', icon: 'text-orange-500', Icon: AlertIcon },
    info: { box: 'border-brand-100 bg-brand-50', title: 'text-brand-900', text: 'text-brand-900/80', icon: 'text-brand-500', Icon: InfoIcon },
    done: { box: 'border-emerald-200 bg-emerald-50', title: 'text-emerald-900', text: 'text-emerald-800', icon: 'text-emerald-500', Icon: CheckCircleIcon },
  }[tone];
  return (
    <div data-testid={testId} role="status" className={`flex items-start gap-3 rounded-xl border px-4 py-3.5 sm:px-5 ${styles.box}`}>
      <styles.Icon className={`mt-0.5 h-5 w-5 shrink-0 ${styles.icon}`} />
      <div className="min-w-0">
        <p className={`text-sm font-semibold ${styles.title}`}>{title}</p>
        {children ? <div className={`mt-0.5 text-sm ${styles.text}`}>{children}</div> : null}
      </div>
    </div>
  );
}

function Account({ label, email, type }: { label: string; email: string; type: string }) {
  return (
    <div className="min-w-0 flex-1 rounded-lg border border-slate-200 bg-slate-50/60 px-4 py-3">
      <p className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</p>
      <p className="mt-0.5 truncate text-sm font-semibold text-slate-900" title={email}>
        {email}
      </p>
      <p className="text-xs text-slate-500">{typeLabel(type)}</p>
    </div>
  );
}

/** "INBOX: 1,204 of 1,204 present", "Sent: 2 missing": per folder, what the target holds of the source. */
function VerificationSection({ verification: v }: { verification: NonNullable<MigrationDetail['verification']> }) {
  const isClean = v.totals.missing === 0 && v.totals.unverifiedFolders === 0;
  return (
    <Section
      title="Verification"
      testId="verification"
      description={
        <>
          {isClean
            ? `All ${number(v.totals.sourceMessages)} messages of the source are on the target.`
            : `${number(v.totals.present)} of ${number(v.totals.sourceMessages)} messages of the source are on the target${v.totals.missing > 0 ? `, ${number(v.totals.missing)} missing` : ''}${v.totals.unverifiedFolders > 0 ? `; ${number(v.totals.unverifiedFolders)} ${v.totals.unverifiedFolders === 1 ? 'folder' : 'folders'} could not be verified` : ''}.`}{' '}
          Checked message by message after the {v.pass === 'resync' ? 'resync' : 'first pass'}, {v.verifiedLocal}.
        </>
      }
    >
      <ul className="divide-y divide-slate-100 border-t border-slate-200">
        {v.folders.map((f) => (
          <li key={f.sourcePath} data-testid="verification-folder" className={`px-5 py-3 text-sm sm:px-6 ${f.missing > 0 || f.unverified ? 'bg-orange-50/40' : ''}`}>
            <div className="flex flex-wrap items-baseline justify-between gap-x-4 gap-y-1">
              <span className="min-w-0 font-medium text-slate-900 [overflow-wrap:anywhere]">{f.sourcePath}</span>
              {f.unverified ? (
                <span className="font-medium text-orange-800">Could not be verified</span>
              ) : f.missing > 0 ? (
                <span className="font-semibold tabular-nums text-orange-800">
                  {number(f.missing)} missing <span className="font-normal text-slate-600">· {number(f.present)} of {number(f.sourceMessages)} present</span>
                </span>
              ) : f.sourceMessages === 0 ? (
                <span className="text-slate-500">Empty on the source</span>
              ) : (
                <span className="inline-flex items-center gap-1 tabular-nums text-emerald-800">
                  <CheckCircleIcon className="h-4 w-4 text-emerald-500" />
                  {number(f.present)} of {number(f.sourceMessages)} present
                </span>
              )}
            </div>
            {f.unverified ? <p className="mt-1 text-xs text-slate-600">{f.unverified}</p> : null}
            {f.missing > 0 ? (
              <details className="mt-1 text-xs text-slate-600">
                <summary className="cursor-pointer font-medium text-brand-700 hover:text-brand-900">
                  {f.missingReported > 0 ? `${number(f.missingReported)} listed under Not copied with the reason; ` : ''}
                  show the {f.missing === 1 ? 'UID' : 'UIDs'} on the source
                </summary>
                <p data-testid="missing-uids" className="mt-1 tabular-nums [overflow-wrap:anywhere]">
                  {f.missingUids.join(', ')}
                  {f.missing > f.missingUids.length ? ` and ${number(f.missing - f.missingUids.length)} more` : ''}
                </p>
              </details>
            ) : null}
          </li>
        ))}
      </ul>
    </Section>
  );
}

const rateOf = (rate: NonNullable<MigrationDetail['rate']>) =>
  `${formatBytes(rate.bytesPerSecond)}/s${rate.messagesPerMinute !== null ? ` · ${number(Math.round(rate.messagesPerMinute))} messages/min` : ''}`;

/** Messages and bytes with a bar, the rate and the time left (both from the last 30 s of the copy). */
function Progress({ m }: { m: MigrationDetail }) {
  const isCopying = m.state === 'running' || m.state === 'resyncing';
  const share = shareOf(m.messages.copied, m.messages.total, m.state);
  return (
    <section data-testid="progress" className="rounded-xl border border-slate-200 bg-white p-5 shadow-sm sm:p-6">
      <div className="flex flex-wrap items-end justify-between gap-x-6 gap-y-1">
        <h2 className="text-base font-semibold text-slate-900">Progress</h2>
        <p data-testid="detail-percent" className="text-2xl font-semibold tabular-nums tracking-tight text-slate-900">
          {Math.floor(share * 100)}
          <span className="text-base font-medium text-slate-500">%</span>
        </p>
      </div>
      <ProgressBar share={share} state={m.state} className="mt-3 !h-2.5" />
      <dl className="mt-5 grid grid-cols-2 gap-x-6 gap-y-4 lg:grid-cols-4">
        <div>
          <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">Messages</dt>
          <dd className="mt-1 text-sm text-slate-700">
            <span data-testid="detail-messages" className="text-lg font-semibold tabular-nums text-slate-900">
              {number(m.messages.copied)}
            </span>{' '}
            <span className="tabular-nums text-slate-500">of {number(m.messages.total)} copied</span>
          </dd>
        </div>
        <div>
          <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">Data</dt>
          <dd className="mt-1 text-sm text-slate-700">
            <span data-testid="detail-bytes" className="text-lg font-semibold tabular-nums text-slate-900">
              {formatBytes(m.bytes.copied)}
            </span>{' '}
            <span className="tabular-nums text-slate-500">{m.isActive || m.bytes.total > m.bytes.copied ? `of ${formatBytes(Math.max(m.bytes.total, m.bytes.copied))}` : 'copied'}</span>
          </dd>
        </div>
        <div>
          <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">Rate</dt>
          <dd data-testid="detail-rate" className="mt-1 text-sm tabular-nums text-slate-700">
            {m.rate ? rateOf(m.rate) : <span className="text-slate-400">{isCopying ? 'Measuring…' : '—'}</span>}
          </dd>
        </div>
        <div>
          <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{m.isActive ? 'Time left' : 'Ended'}</dt>
          <dd data-testid="detail-eta" className="mt-1 text-sm text-slate-700">
            {m.isActive ? (
              m.etaSeconds !== null ? (
                formatEta(m.etaSeconds)
              ) : m.state === 'scheduled' ? (
                `Starts ${m.startLocal}`
              ) : m.state === 'waiting_resync' ? (
                `Resync ${m.resyncLocal ?? ''}`
              ) : (
                <span className="text-slate-400">Estimating…</span>
              )
            ) : (
              (m.finishedLocal ?? '—')
            )}
          </dd>
        </div>
      </dl>
    </section>
  );
}

/** Calendars, contacts and tasks: why there are none for this pair, or what is moved of them. */
function Groupware({ m }: { m: MigrationDetail }) {
  const rows = m.groupware
    ? ([
        ['Calendars', 'events', m.groupware.calendars],
        ['Address books', 'contacts', m.groupware.contacts],
        ['Task lists', 'tasks', m.groupware.tasks],
      ] as const)
    : [];
  return (
    <section data-testid="groupware" className="rounded-xl border border-slate-200 bg-white p-5 shadow-sm sm:p-6">
      <h2 className="text-base font-semibold text-slate-900">Calendars, contacts and tasks</h2>
      <p data-testid="groupware-line" className="mt-2 text-sm text-slate-600">
        {m.groupwareLine}
      </p>
      {rows.length > 0 ? (
        <dl className="mt-3 divide-y divide-slate-100 text-sm">
          {rows.map(([label, items, c]) => (
            <div key={label} className="flex justify-between gap-3 py-2">
              <dt className="text-slate-600">
                {label} <span className="text-slate-400">({number(c.collections)})</span>
              </dt>
              <dd className="tabular-nums text-slate-900">
                {number(c.copied)} of {number(c.items)} {items}
              </dd>
            </div>
          ))}
        </dl>
      ) : null}
      {m.groupwareCollections.some((c) => c.note) ? (
        <ul className="mt-3 space-y-1.5 border-t border-slate-100 pt-3 text-xs text-slate-600">
          {m.groupwareCollections
            .filter((c) => c.note)
            .map((c) => (
              <li key={`${c.kind}-${c.source}`} data-testid="groupware-renamed" className="flex gap-2">
                <span className="shrink-0 rounded bg-slate-100 px-1.5 py-0.5 font-medium text-slate-600">Renamed</span>
                <span className="min-w-0 [overflow-wrap:anywhere]">{c.note}</span>
              </li>
            ))}
        </ul>
      ) : null}
    </section>
  );
}

const KIND_LABELS: Record<string, string> = { calendar: 'Calendar', contacts: 'Address book', tasks: 'Task list' };

const COMPONENT_LABELS: Record<string, string> = { VEVENT: 'Events', VTODO: 'Tasks', VCARD: 'Contacts', VALARM: 'Reminders', VTIMEZONE: 'Time zones', VCALENDAR: 'Calendar files' };

/** What the target had no place for, per property and reason, with how many items it concerns. */
function GroupwareChanged({ groups }: { groups: MigrationDetail['groupwareChanged'] }) {
  return (
    <ul data-testid="groupware-changed-list" className="divide-y divide-slate-100 border-t border-slate-200">
      {groups.map((g) => (
        <li key={`${g.kind}-${g.component}-${g.property}-${g.reason}`} data-testid="groupware-changed-item" className="flex items-start justify-between gap-4 px-5 py-3 text-sm sm:px-6">
          <div className="min-w-0">
            <p className="font-medium text-slate-900">
              {COMPONENT_LABELS[g.component] ?? g.component}
              {g.property ? <span className="ml-1.5 font-mono text-xs font-normal text-slate-500">{g.property}</span> : null}
            </p>
            <p className="mt-0.5 text-slate-700 [overflow-wrap:anywhere]">{g.reason}</p>
          </div>
          <span className="shrink-0 whitespace-nowrap tabular-nums text-slate-600">
            {number(g.items)} {g.items === 1 ? 'item' : 'items'}
          </span>
        </li>
      ))}
    </ul>
  );
}

/** Calendar, contact and task items the target refused: collection, UID, size, reason; never a summary or content. */
function GroupwareNotCopied({ items }: { items: MigrationDetail['groupwareNotCopied'] }) {
  const th = 'px-3 py-2.5 text-left text-xs font-medium uppercase tracking-wide text-slate-500 first:pl-5 last:pr-5 sm:first:pl-6 sm:last:pr-6';
  const td = 'px-3 py-3 align-top first:pl-5 last:pr-5 sm:first:pl-6 sm:last:pr-6';
  return (
    <div data-testid="groupware-not-copied-list">
      <ul className="divide-y divide-slate-100 border-t border-slate-200 sm:hidden">
        {items.map((item, index) => (
          <li key={`${item.collection}-${item.uid ?? index}-${index}`} data-testid="groupware-not-copied-item" className="px-5 py-3 text-sm">
            <p className="font-medium text-slate-900 [overflow-wrap:anywhere]">
              {item.collection} <span className="font-normal text-slate-500">· {KIND_LABELS[item.kind] ?? item.kind}</span>
            </p>
            <p className="font-mono text-xs text-slate-500 [overflow-wrap:anywhere]">
              {item.uid ?? 'no UID'}
              {item.size !== null ? <span className="font-sans tabular-nums"> · {formatBytes(item.size)}</span> : null}
            </p>
            <p className="mt-1 text-slate-700 [overflow-wrap:anywhere]">{item.reason}</p>
          </li>
        ))}
      </ul>
      <div className="hidden overflow-x-auto border-t border-slate-200 sm:block">
      <table className="w-full text-sm">
        <thead className="bg-slate-50">
          <tr>
            <th className={th}>Collection</th>
            <th className={th}>UID</th>
            <th className={`${th} text-right`}>Size</th>
            <th className={th}>Reason</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {items.map((item, index) => (
            <tr key={`${item.collection}-${item.uid ?? index}-${index}`} data-testid="groupware-not-copied-row">
              <td className={`${td} text-slate-900`}>
                <span className="font-medium [overflow-wrap:anywhere]">{item.collection}</span>
                <span className="block text-xs text-slate-500">{KIND_LABELS[item.kind] ?? item.kind}</span>
              </td>
              <td className={`${td} max-w-[16rem] font-mono text-xs text-slate-600 [overflow-wrap:anywhere]`}>{item.uid ?? <span className="font-sans text-slate-400">no UID</span>}</td>
              <td className={`${td} whitespace-nowrap text-right tabular-nums text-slate-600`}>{item.size !== null ? formatBytes(item.size) : '—'}</td>
              <td className={`${td} text-slate-700 [overflow-wrap:anywhere]`}>{item.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </div>
  );
}

/** Cancel with a confirmation in place; the page shows the new state on its next refresh. */
function CancelButton({ m, onCancelled }: { m: MigrationDetail; onCancelled: (message: string) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const [isConfirming, setConfirming] = useState(false);
  const cancel = useMutation(
    trpc.migrations.cancel.mutationOptions({
      onSuccess: (result) => {
        setConfirming(false);
        onCancelled(
          result.isUnitReturned
            ? 'The migration was cancelled before it started; it no longer counts against your migrations.'
            : 'The migration was cancelled. It stops copying at its next checkpoint; its stored passwords were deleted.',
        );
        void queryClient.invalidateQueries({ queryKey: trpc.migrations.pathKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.licensing.pathKey() });
        router.refresh();
      },
    }),
  );
  if (!isConfirming) {
    return (
      <button
        type="button"
        className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 shadow-sm transition hover:border-red-300 hover:bg-red-50 hover:text-red-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500"
        onClick={() => {
          cancel.reset();
          setConfirming(true);
        }}
      >
        Cancel migration
      </button>
    );
  }
  return (
    <div role="group" aria-label="Confirm cancel" className="w-full rounded-lg border border-red-200 bg-red-50 p-3 sm:w-80">
      <p className="text-sm font-medium text-slate-900">Cancel this migration?</p>
      <p className="mt-0.5 text-xs text-slate-600">
        {m.state === 'scheduled'
          ? 'It has not started: it counts again as remaining.'
          : 'It stops at its next checkpoint. What was copied stays on the target; the migration stays used.'}
      </p>
      {cancel.error ? <p className="mt-1 text-xs font-medium text-red-700">{cancel.error.message}</p> : null}
      <div className="mt-2.5 flex gap-2">
        <button
          type="button"
          className="rounded-md bg-red-600 px-3 py-1.5 text-sm font-medium text-white shadow-sm transition hover:bg-red-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500 focus-visible:ring-offset-2 disabled:opacity-60"
          disabled={cancel.isPending}
          onClick={() => cancel.mutate({ id: m.id })}
        >
          {cancel.isPending ? 'Cancelling…' : 'Yes, cancel'}
        </button>
        <button
          type="button"
          className="rounded-md px-3 py-1.5 text-sm font-medium text-slate-600 transition hover:bg-white hover:text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
          onClick={() => setConfirming(false)}
        >
          Keep it running
        </button>
      </div>
    </div>
  );
}

/**
 * One migration for its customer: where it stands in one sentence, a timeline, progress with
 * rate and time left, every folder with its state, calendars and contacts, the verification,
 * what was not copied (a page at a time) and notes. Refreshes itself every few seconds while
 * the migration is active, and stops once it has ended.
 */
export function MigrationDetailView({
  initial,
  fetchedAt,
  zone,
  back,
}: {
  initial: MigrationDetail;
  fetchedAt: number;
  zone: { name: string; offset: string };
  back: { href: string; label: string };
}) {
  const trpc = useTRPC();
  const [notice, setNotice] = useState<string | null>(null);
  const query = useQuery(
    trpc.migrations.detail.queryOptions(
      { id: initial.id },
      { initialData: initial, initialDataUpdatedAt: fetchedAt, refetchInterval: (q) => (q.state.data?.isActive ? LIVE_REFRESH_MS : false) },
    ),
  );
  const m = query.dataUpdatedAt >= fetchedAt ? query.data : initial;
  const hasLoss = m.loss.messages + m.loss.foldersNotCreated + m.loss.foldersNotCopied > 0;
  const groupwareLoss = describeGroupwareLoss(m.groupwareNotCopied.length);
  const isCopying = m.state === 'running' || m.state === 'resyncing';

  return (
    <div className="space-y-5" data-testid="migration-detail" data-live={m.isActive ? 'true' : 'false'} data-updated-at={query.dataUpdatedAt}>
      <Link href={back.href} className="inline-flex items-center gap-1 text-sm font-medium text-brand-700 hover:text-brand-900">
        <span aria-hidden="true">←</span> {back.label}
      </Link>

      <header className="rounded-xl border border-slate-200 bg-white p-5 shadow-sm sm:p-6">
        <div className="flex flex-wrap items-start justify-between gap-x-6 gap-y-3">
          <div className="min-w-0">
            <div className="flex flex-wrap items-center gap-2">
              <StateBadge state={m.state} />
              {m.isActive ? (
                <span className="inline-flex items-center gap-1 text-xs text-slate-500" data-testid="live-indicator">
                  <span aria-hidden="true" className="h-1.5 w-1.5 animate-pulse rounded-full bg-emerald-500" /> Live
                </span>
              ) : null}
            </div>
            <h1 className="mt-2 text-xl font-semibold tracking-tight text-slate-900 [overflow-wrap:anywhere] sm:text-2xl">{m.source.email || m.detailsRemoved?.text}</h1>
            <p data-testid="state-sentence" className="mt-1 text-base text-slate-700">
              {m.sentence}
            </p>
            {m.statusLine ? (
              <p data-testid="migration-status-line" className={`mt-0.5 text-sm ${m.state === 'incomplete' || m.verificationGap ? 'font-medium text-orange-800' : 'text-slate-600'}`}>
                {m.statusLine}
              </p>
            ) : null}
          </div>
          <div className="flex flex-col items-start gap-2 sm:items-end">
            {m.canCancel ? <CancelButton m={m} onCancelled={setNotice} /> : null}
            {m.isActive ? null : <ReportDownloads id={m.id} />}
          </div>
        </div>
        <div className="mt-4 flex flex-col items-stretch gap-2 sm:flex-row sm:items-center">
          <Account label="From" email={m.source.email || '—'} type={m.source.type} />
          <span aria-label="to" className="self-center text-lg text-slate-400 sm:px-1">
            <span className="sm:hidden">↓</span>
            <span className="hidden sm:inline">→</span>
          </span>
          <Account label="To" email={m.target.email || '—'} type={m.target.type} />
        </div>
      </header>

      {notice ? (
        <Banner tone="info" title="Cancelled" testId="cancel-notice">
          {notice}
        </Banner>
      ) : null}
      {m.state === 'failed' && m.failureReason ? (
        <Banner tone="loss" title="The migration failed">
          {m.failureReason}
        </Banner>
      ) : null}
      {hasLoss && m.statusLine ? (
        <Banner tone="loss" title={m.isActive ? 'Some items could not be copied' : 'Not everything was copied'} testId="loss-banner">
          {capitalized(describeLoss(m.loss))}
          {groupwareLoss ? ` ${capitalized(groupwareLoss)}` : ''}{' '}
          {m.isActive ? 'The copy goes on with everything else; each item is listed below with the reason.' : 'Everything else was copied. Each item is listed below with the reason the server gave.'}
        </Banner>
      ) : groupwareLoss ? (
        <Banner tone="loss" title={m.isActive ? 'Some items could not be copied' : 'Not everything was copied'} testId="loss-banner">
          {capitalized(groupwareLoss)} {m.isActive ? 'The copy goes on with everything else; each item is listed below with the reason.' : 'Everything else was copied. Each item is listed below with the reason the server gave.'}
        </Banner>
      ) : m.verificationGap ? (
        <Banner tone="loss" title="Verification found a gap" testId="gap-banner">
          {capitalized(describeGap(m.verificationGap))} The folders below show where, with the UIDs of the missing messages on the source.
        </Banner>
      ) : m.state === 'finished' ? (
        <Banner tone="done" title="Everything was copied">
          {number(m.totals.copied)} messages copied{m.totals.skipped > 0 ? `, ${number(m.totals.skipped)} already on the target` : ''}
          {m.detailsRemoved ? '' : `, in ${number(m.folders.length)} ${m.folders.length === 1 ? 'folder' : 'folders'}`}
          {m.groupware ? `; ${number(m.groupware.calendars.copied + m.groupware.contacts.copied + m.groupware.tasks.copied)} calendar, contact and task items on the target` : ''}.
        </Banner>
      ) : null}
      {m.goneLine ? (
        <Banner tone="info" title={m.goneLine} testId="gone-banner">
          Someone deleted or moved them on the target after an earlier pass had copied them there.
        </Banner>
      ) : null}

      <div className="grid gap-5 lg:grid-cols-3">
        <div className="min-w-0 space-y-5 lg:col-span-2">
          <Progress m={m} />

          <Section
            title="Folders"
            count={m.folders.length}
            testId="folders"
            description={
              m.folders.length === 0
                ? undefined
                : isCopying
                  ? `${number(m.folders.filter((f) => f.state === 'working').length)} being copied, ${number(m.folders.filter((f) => f.state === 'waiting').length)} waiting, ${number(m.folders.filter((f) => f.state === 'done').length)} done.`
                  : 'Copied + already on the target + not copied = total, for every folder.'
            }
          >
            {m.folders.length === 0 ? (
              <p className="border-t border-slate-200 px-5 py-8 text-center text-sm text-slate-500 sm:px-6">
                {m.detailsRemoved
                  ? 'The folder names were removed with the migration’s other details; its counts are kept.'
                  : m.isActive
                    ? 'Folders appear here once the copy has read them.'
                    : 'No folders were copied.'}
              </p>
            ) : (
              <FolderTable folders={m.folders} totals={m.totals} isResync={m.state === 'resyncing'} />
            )}
          </Section>

          {m.verification ? <VerificationSection verification={m.verification} /> : null}

          {m.notCopiedCount > 0 ? (
            <Section title="Not copied" count={m.notCopiedCount} testId="not-copied" description="Each message or folder with the reason the server gave. Never its subject, sender or content.">
              <NotCopiedList id={m.id} count={m.notCopiedCount} zone={zone.name} isActive={m.isActive} />
            </Section>
          ) : null}

          {m.groupwareNotCopied.length > 0 ? (
            <Section
              title="Calendar, contact and task items not copied"
              count={m.groupwareNotCopied.length}
              testId="groupware-not-copied"
              description="Each item with the reason the target server gave. Never its title, description or content."
            >
              <GroupwareNotCopied items={m.groupwareNotCopied} />
            </Section>
          ) : null}

          {m.groupwareChanged.length > 0 ? (
            <Section
              title="Copied with changes"
              count={m.groupwareChangedItems}
              testId="groupware-changed"
              description="These items are on the target, but the target has no place for what is named here. The report lists every item by UID."
            >
              <GroupwareChanged groups={m.groupwareChanged} />
            </Section>
          ) : null}

          {m.renamed.length > 0 || m.notices.length > 0 ? (
            <Section title="Good to know" count={m.renamed.length + m.notices.length} testId="notes">
              <ul className="divide-y divide-slate-100 border-t border-slate-200">
                {m.renamed.map((r) => (
                  <li key={`rename-${r.sourcePath}`} data-testid="renamed-folder" className="flex gap-3 px-5 py-3 text-sm sm:px-6">
                    <span className="mt-0.5 shrink-0 rounded-md bg-slate-100 px-1.5 py-0.5 text-xs font-medium text-slate-600">Renamed</span>
                    <span className="min-w-0 text-slate-700">{r.note}</span>
                  </li>
                ))}
                {m.notices.map((n, index) => (
                  <li key={`notice-${index}`} data-testid="notice" className="flex gap-3 px-5 py-3 text-sm sm:px-6">
                    <span className="mt-0.5 shrink-0 rounded-md bg-brand-50 px-1.5 py-0.5 text-xs font-medium text-brand-700">Note</span>
                    <span className="min-w-0 text-slate-700">{n.text}</span>
                  </li>
                ))}
              </ul>
            </Section>
          ) : null}
        </div>

        <aside className="min-w-0 space-y-5">
          <Timeline items={m.timeline} zone={`${zone.name} (UTC${zone.offset})`} />
          <Groupware m={m} />
          <DeletionReceipts migrationId={m.id} isActive={m.isActive} />
        </aside>
      </div>
    </div>
  );
}

/** The ended migration's report as files: plain links, the route answers with an attachment. */
function ReportDownloads({ id }: { id: string }) {
  const link =
    'inline-flex items-center gap-1.5 rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 shadow-sm transition hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500';
  return (
    <div className="mt-2 flex flex-wrap gap-2" data-testid="report-downloads">
      <a href={`/api/migrations/${id}/report?format=csv`} download className={link}>
        <DownloadIcon /> Download report (CSV)
      </a>
      <a href={`/api/migrations/${id}/report?format=json`} download className={link}>
        <DownloadIcon /> Download report (JSON)
      </a>
    </div>
  );
}
