'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { ACCOUNT_TYPE_LABELS } from '@/components/account-types';
import { AlertIcon, CheckCircleIcon, DownloadIcon, InfoIcon } from '@/components/icons';
import { ProgressBar, shareOf, StateBadge } from '@/components/migration-state';
import { useTRPC } from '@/components/trpc-provider';
import type { AccountType } from '@/server/accounts/types';
import { describeGap, describeLoss } from '@/server/migrations/lifecycle';
import type { MigrationDetail } from '@/server/migrations/migration-detail';

const capitalized = (text: string | null) => (text ? `${text.charAt(0).toUpperCase()}${text.slice(1)}.` : '');
const number = (n: number) => n.toLocaleString('en-GB');
const typeLabel = (type: string) => ACCOUNT_TYPE_LABELS[type as AccountType] ?? type;

/** 1,536 → "1.5 KB"; binary units, as mail clients show sizes. */
function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${number(bytes)} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toLocaleString('en-GB', { maximumFractionDigits: value < 10 ? 1 : 0 })} ${units[unit]}`;
}

function formatEta(seconds: number): string {
  if (seconds < 90) return 'less than 2 minutes';
  if (seconds < 90 * 60) return `about ${Math.round(seconds / 60)} minutes`;
  return `about ${Math.round(seconds / 3600)} hours`;
}

function Section({ title, count, description, children, testId }: { title: string; count?: number; description?: ReactNode; children: ReactNode; testId?: string }) {
  return (
    <section data-testid={testId} className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm">
      <div className="px-5 pb-3 pt-5 sm:px-6">
        <h2 className="text-base font-semibold text-slate-900">
          {title}
          {count !== undefined ? <span className="ml-2 text-sm font-normal text-slate-500">{number(count)}</span> : null}
        </h2>
        {description ? <p className="mt-1 text-sm text-slate-600">{description}</p> : null}
      </div>
      {children}
    </section>
  );
}

function Stat({ label, children, footer }: { label: string; children: ReactNode; footer?: ReactNode }) {
  return (
    <div className="min-w-0 rounded-xl border border-slate-200 bg-white px-5 py-4 shadow-sm">
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
      <dd className="mt-1.5 text-sm text-slate-700">{children}</dd>
      {footer ? <dd className="mt-2">{footer}</dd> : null}
    </div>
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

function FolderName({ folder: f }: { folder: MigrationDetail['folders'][number] }) {
  return (
    <>
      <span className="block font-medium text-slate-900 [overflow-wrap:anywhere]">{f.sourcePath}</span>
      {f.problem ? (
        <span className="mt-0.5 block text-xs font-medium text-orange-800">{f.problem}</span>
      ) : f.targetPath && f.targetPath !== f.sourcePath ? (
        <span className="mt-0.5 block text-xs text-slate-500 [overflow-wrap:anywhere]">→ {f.targetPath} on the target</span>
      ) : null}
      {f.note ? <span className="mt-0.5 block text-xs text-slate-600">{f.note}</span> : null}
      {f.gone > 0 ? <span className="mt-0.5 block text-xs text-brand-900/80">{number(f.gone)} no longer in the target</span> : null}
    </>
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

const th = 'px-3 py-2.5 text-left text-xs font-medium uppercase tracking-wide text-slate-500 first:pl-5 last:pr-5 sm:first:pl-6 sm:last:pr-6';
const td = 'px-3 py-3 align-top first:pl-5 last:pr-5 sm:first:pl-6 sm:last:pr-6';
const num = 'text-right tabular-nums';

/**
 * One migration for its customer: state in words, progress, what was not copied (folder, UID,
 * size, reason), every folder with copied + skipped + not copied = total, renamed folders and
 * notices. Refreshes itself while the migration is active.
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
  const query = useQuery(
    trpc.migrations.detail.queryOptions(
      { id: initial.id },
      { initialData: initial, initialDataUpdatedAt: fetchedAt, refetchInterval: (q) => (q.state.data?.isActive ? 5_000 : false) },
    ),
  );
  const m = query.dataUpdatedAt >= fetchedAt ? query.data : initial;
  const hasLoss = m.loss.messages + m.loss.foldersNotCreated + m.loss.foldersNotCopied > 0;

  return (
    <div className="space-y-5">
      <Link href={back.href} className="inline-flex items-center gap-1 text-sm font-medium text-brand-700 hover:text-brand-900">
        <span aria-hidden="true">←</span> {back.label}
      </Link>

      <header className="flex flex-wrap items-start justify-between gap-x-6 gap-y-3">
        <div className="min-w-0">
          <h1 className="text-xl font-semibold tracking-tight text-slate-900 [overflow-wrap:anywhere] sm:text-2xl">{m.source.email}</h1>
          <p className="mt-1 flex min-w-0 flex-wrap items-center gap-x-2 text-sm text-slate-600">
            <span aria-label="to" className="text-slate-400">
              →
            </span>
            <span className="[overflow-wrap:anywhere]">{m.target.email}</span>
            <span className="text-slate-400">·</span>
            <span>
              {typeLabel(m.source.type)} → {typeLabel(m.target.type)}
            </span>
          </p>
        </div>
        <div className="flex flex-col items-start gap-1 sm:items-end">
          <StateBadge state={m.state} />
          {m.statusLine ? (
            <p data-testid="migration-status-line" className={`text-sm ${m.state === 'incomplete' || m.verificationGap ? 'font-medium text-orange-800' : 'text-slate-600'}`}>
              {m.statusLine}
            </p>
          ) : null}
          {m.isActive ? null : <ReportDownloads id={m.id} />}
        </div>
      </header>

      <dl className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Stat label="Messages" footer={<ProgressBar share={shareOf(m.messages.copied, m.messages.total, m.state)} state={m.state} className="" />}>
          <span data-testid="detail-messages" className="text-lg font-semibold tabular-nums text-slate-900">
            {number(m.messages.copied)}
          </span>{' '}
          <span className="tabular-nums text-slate-500">of {number(m.messages.total)} copied</span>
        </Stat>
        <Stat label="Data">
          <span className="text-lg font-semibold tabular-nums text-slate-900">{formatBytes(m.bytes.copied)}</span>{' '}
          <span className="tabular-nums text-slate-500">{m.isActive ? `of ${formatBytes(Math.max(m.bytes.total, m.bytes.copied))}` : 'copied'}</span>
        </Stat>
        <Stat label="Start / resync">
          <span className="block">{m.startLocal}</span>
          <span className="block text-xs text-slate-500">{m.resyncLocal ? `Resync ${m.resyncLocal}` : 'No resync'}</span>
        </Stat>
        <Stat label={m.isActive ? 'Time left' : 'Ended'}>
          {m.isActive ? (
            <span>{m.etaSeconds !== null ? formatEta(m.etaSeconds) : m.state === 'scheduled' ? 'Not started yet' : m.state === 'waiting_resync' ? `Resync ${m.resyncLocal ?? ''}` : 'Estimating…'}</span>
          ) : (
            <span>{m.finishedLocal ?? '—'}</span>
          )}
          <span className="block text-xs text-slate-500">
            {zone.name} (UTC{zone.offset})
          </span>
        </Stat>
      </dl>

      {m.state === 'failed' && m.failureReason ? (
        <Banner tone="loss" title="The migration failed">
          {m.failureReason}
        </Banner>
      ) : null}
      {hasLoss && m.statusLine ? (
        <Banner tone="loss" title={m.isActive ? 'Some items could not be copied' : 'Not everything was copied'} testId="loss-banner">
          {capitalized(describeLoss(m.loss))}{' '}
          {m.isActive ? 'The copy goes on with everything else; each item is listed below with the reason.' : 'Everything else was copied. Each item is listed below with the reason the server gave.'}
        </Banner>
      ) : m.verificationGap ? (
        <Banner tone="loss" title="Verification found a gap" testId="gap-banner">
          {capitalized(describeGap(m.verificationGap))} The folders below show where, with the UIDs of the missing messages on the source.
        </Banner>
      ) : m.state === 'finished' ? (
        <Banner tone="done" title="Everything was copied">
          {number(m.totals.copied)} messages copied{m.totals.skipped > 0 ? `, ${number(m.totals.skipped)} already on the target` : ''}, in {number(m.folders.length)}{' '}
          {m.folders.length === 1 ? 'folder' : 'folders'}.
        </Banner>
      ) : null}
      {m.goneLine ? (
        <Banner tone="info" title={m.goneLine} testId="gone-banner">
          Someone deleted or moved them on the target after an earlier pass had copied them there.
        </Banner>
      ) : null}

      {m.verification ? <VerificationSection verification={m.verification} /> : null}

      {m.notCopiedCount > 0 ? (
        <Section
          title="Not copied"
          count={m.notCopiedCount}
          testId="not-copied"
          description={m.notCopiedCount > m.notCopied.length ? `The first ${number(m.notCopied.length)} are shown.` : 'Each message or folder with the reason the server gave.'}
        >
          <ul className="divide-y divide-slate-100 border-t border-slate-200 sm:hidden">
            {m.notCopied.map((item, index) => (
              <li key={`${item.folder}-${item.uid ?? 'folder'}-${index}`} className="px-5 py-3 text-sm">
                <p className="font-medium text-slate-900 [overflow-wrap:anywhere]">{item.folder}</p>
                <p className="text-xs tabular-nums text-slate-500">
                  {item.uid !== null ? `UID ${item.uid}` : 'Whole folder'}
                  {item.size !== null ? ` · ${formatBytes(item.size)}` : ''}
                </p>
                <p className="mt-1 text-slate-700">{item.reason}</p>
              </li>
            ))}
          </ul>
          <div className="hidden border-t border-slate-200 sm:block">
            <table className="w-full text-sm">
              <thead className="bg-slate-50">
                <tr>
                  <th className={th}>Folder</th>
                  <th className={`${th} ${num}`}>UID</th>
                  <th className={`${th} ${num}`}>Size</th>
                  <th className={th}>Reason</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {m.notCopied.map((item, index) => (
                  <tr key={`${item.folder}-${item.uid ?? 'folder'}-${index}`} data-testid="not-copied-row">
                    <td className={`${td} font-medium text-slate-900 [overflow-wrap:anywhere]`}>{item.folder}</td>
                    <td className={`${td} ${num} whitespace-nowrap text-slate-600`}>{item.uid ?? <span className="text-slate-400">whole folder</span>}</td>
                    <td className={`${td} ${num} whitespace-nowrap text-slate-600`}>{item.size !== null ? formatBytes(item.size) : '—'}</td>
                    <td className={`${td} text-slate-700`}>{item.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Section>
      ) : null}

      <Section
        title="Folders"
        count={m.folders.length}
        testId="folders"
        description={m.folders.length > 0 ? 'Copied + already on the target + not copied = total, for every folder.' : undefined}
      >
        {m.folders.length === 0 ? (
          <p className="border-t border-slate-200 px-5 py-8 text-center text-sm text-slate-500 sm:px-6">
            {m.isActive ? 'Folders appear here as they are copied.' : 'No folders were copied.'}
          </p>
        ) : (
          <>
            <ul className="divide-y divide-slate-100 border-t border-slate-200 sm:hidden">
              {m.folders.map((f) => (
                <li key={f.sourcePath} className={`px-5 py-3 text-sm ${f.problem ? 'bg-orange-50/40' : ''}`}>
                  <FolderName folder={f} />
                  {f.problem && f.total === 0 ? null : (
                    <p className="mt-1 text-xs tabular-nums text-slate-600">
                      <span className="font-medium text-slate-900">{number(f.copied)}</span> copied · {number(f.skipped)} already there ·{' '}
                      <span className={f.failed > 0 ? 'font-semibold text-orange-800' : ''}>{number(f.failed)} not copied</span> · {number(f.total)} total
                    </p>
                  )}
                </li>
              ))}
              <li className="bg-slate-50 px-5 py-3 text-sm">
                <p className="font-semibold text-slate-900">All folders</p>
                <p className="mt-1 text-xs tabular-nums text-slate-600">
                  <span className="font-semibold text-slate-900">{number(m.totals.copied)}</span> copied · {number(m.totals.skipped)} already there ·{' '}
                  <span className={m.totals.failed > 0 ? 'font-semibold text-orange-800' : ''}>{number(m.totals.failed)} not copied</span> · {number(m.totals.total)} total
                </p>
              </li>
            </ul>
            <div className="hidden border-t border-slate-200 sm:block">
              <table className="w-full text-sm">
                <thead className="bg-slate-50">
                  <tr>
                    <th className={`${th} w-1/2`}>Folder</th>
                    <th className={`${th} ${num}`}>Copied</th>
                    <th className={`${th} ${num}`}>Already there</th>
                    <th className={`${th} ${num}`}>Not copied</th>
                    <th className={`${th} ${num}`}>Total</th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {m.folders.map((f) => (
                    <tr key={f.sourcePath} data-testid="folder-row" className={f.problem ? 'bg-orange-50/40' : undefined}>
                      <td className={`${td} min-w-0`}>
                        <FolderName folder={f} />
                      </td>
                      <td className={`${td} ${num} text-slate-700`}>{f.problem && f.total === 0 ? '—' : number(f.copied)}</td>
                      <td className={`${td} ${num} text-slate-500`}>{f.problem && f.total === 0 ? '—' : number(f.skipped)}</td>
                      <td className={`${td} ${num} ${f.failed > 0 ? 'font-semibold text-orange-800' : 'text-slate-500'}`}>{f.problem && f.total === 0 ? '—' : number(f.failed)}</td>
                      <td className={`${td} ${num} font-medium text-slate-900`}>{f.problem && f.total === 0 ? '—' : number(f.total)}</td>
                    </tr>
                  ))}
                </tbody>
                <tfoot className="border-t border-slate-200 bg-slate-50">
                  <tr data-testid="folder-totals">
                    <td className={`${td} font-semibold text-slate-900`}>All folders</td>
                    <td className={`${td} ${num} font-semibold text-slate-900`}>{number(m.totals.copied)}</td>
                    <td className={`${td} ${num} font-semibold text-slate-700`}>{number(m.totals.skipped)}</td>
                    <td className={`${td} ${num} font-semibold ${m.totals.failed > 0 ? 'text-orange-800' : 'text-slate-700'}`}>{number(m.totals.failed)}</td>
                    <td className={`${td} ${num} font-semibold text-slate-900`}>{number(m.totals.total)}</td>
                  </tr>
                </tfoot>
              </table>
            </div>
          </>
        )}
      </Section>

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
