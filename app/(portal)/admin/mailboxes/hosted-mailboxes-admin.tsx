'use client';

import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Alert, Button } from '@/components/form';
import { InboxIcon } from '@/components/icons';
import { Card, EmptyState, PageHeader } from '@/components/page-header';
import { useTRPC } from '@/components/trpc-provider';
import type { AccountType } from '@/server/accounts/types';
import type { ImportResult } from '@/server/hosted-mailboxes/schemas';
import { ACCOUNT_TYPE_LABELS } from '@/components/account-types';
import { CsvImport } from './csv-import';
import { HostedMailboxForm } from './hosted-mailbox-form';

const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium' });
const number = (n: number) => n.toLocaleString('en-GB');

type Panel = 'add' | 'import' | null;

interface MailboxRow {
  id: string;
  email: string;
  username: string;
  server: string;
  type: AccountType;
  createdAt: Date;
}

function SearchIcon() {
  return (
    <svg viewBox="0 0 20 20" fill="currentColor" className="h-4 w-4" aria-hidden="true">
      <path fillRule="evenodd" d="M9 3.5a5.5 5.5 0 1 0 0 11 5.5 5.5 0 0 0 0-11ZM2 9a7 7 0 1 1 12.452 4.391l3.328 3.329a.75.75 0 1 1-1.06 1.06l-3.329-3.328A7 7 0 0 1 2 9Z" clipRule="evenodd" />
    </svg>
  );
}

function TypeBadge({ type }: { type: AccountType }) {
  return <span className="inline-flex whitespace-nowrap rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-700 ring-1 ring-slate-200">{ACCOUNT_TYPE_LABELS[type]}</span>;
}

function RemoveAction({
  mailbox,
  confirming,
  pending,
  onAsk,
  onConfirm,
  onKeep,
}: {
  mailbox: MailboxRow;
  confirming: boolean;
  pending: boolean;
  onAsk: () => void;
  onConfirm: () => void;
  onKeep: () => void;
}) {
  if (!confirming) {
    return (
      <button
        type="button"
        className="rounded-md px-2.5 py-1 text-sm font-medium text-red-700 transition hover:bg-red-50 hover:text-red-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500"
        aria-label={`Remove ${mailbox.email}`}
        onClick={onAsk}
      >
        Remove
      </button>
    );
  }
  return (
    <span className="inline-flex items-center gap-1">
      <span className="mr-1 text-xs text-slate-600">Remove this mailbox?</span>
      <button
        type="button"
        className="rounded-md bg-red-600 px-2.5 py-1 text-sm font-medium text-white shadow-sm transition hover:bg-red-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500 focus-visible:ring-offset-2 disabled:opacity-60"
        disabled={pending}
        onClick={onConfirm}
      >
        Remove
      </button>
      <button
        type="button"
        className="rounded-md px-2.5 py-1 text-sm font-medium text-slate-600 transition hover:bg-slate-100 hover:text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
        onClick={onKeep}
      >
        Keep
      </button>
    </span>
  );
}

/** Admin page: the mailboxes customers can pick in the migration form, with search, add, remove and CSV import. */
export function HostedMailboxesAdmin() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [panel, setPanel] = useState<Panel>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [page, setPage] = useState(1);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [importResult, setImportResult] = useState<ImportResult | null>(null);

  // Ask the server once typing pauses, not on every key.
  useEffect(() => {
    const timer = setTimeout(() => {
      setQuery(search.trim());
      setPage(1);
    }, 250);
    return () => clearTimeout(timer);
  }, [search]);

  const list = useQuery({ ...trpc.hostedMailboxes.list.queryOptions({ search: query || undefined, page }), placeholderData: keepPreviousData });
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.hostedMailboxes.list.pathKey() });

  const add = useMutation(
    trpc.hostedMailboxes.add.mutationOptions({
      onSuccess: (mailbox) => {
        setPanel(null);
        setNotice(`${mailbox.email} was added. Customers can now pick it in the migration form.`);
        void refresh();
      },
    }),
  );
  const remove = useMutation(
    trpc.hostedMailboxes.remove.mutationOptions({
      onSuccess: (mailbox) => {
        setConfirming(null);
        setNotice(`${mailbox.email} was removed from the quick selection.`);
        void refresh();
      },
      onError: () => setConfirming(null),
    }),
  );
  const importCsv = useMutation(
    trpc.hostedMailboxes.importCsv.mutationOptions({
      onSuccess: (result) => {
        setImportResult(result);
        void refresh();
      },
    }),
  );

  const open = (next: Panel) => {
    setPanel(next);
    setNotice(null);
    add.reset();
    importCsv.reset();
    setImportResult(null);
  };

  const data = list.data;
  const rows: MailboxRow[] = data?.items ?? [];
  const total = data?.total ?? 0;
  const first = data ? (data.page - 1) * data.pageSize + 1 : 0;
  const last = data ? first + rows.length - 1 : 0;
  const pages = data ? Math.max(1, Math.ceil(total / data.pageSize)) : 1;
  const isEmpty = !!data && total === 0 && !query;

  return (
    <>
      <PageHeader
        title="Hosted mailboxes"
        description="Mailboxes on this installation’s own mail servers. Customers pick one in the migration form to fill in email, username and server; the password is never stored and is typed for every migration."
        actions={
          <>
            <Button variant="secondary" onClick={() => open('import')}>
              Import CSV
            </Button>
            <Button onClick={() => open('add')}>Add mailbox</Button>
          </>
        }
      />
      {notice ? (
        <div className="mb-4">
          <Alert tone="success">{notice}</Alert>
        </div>
      ) : null}
      {remove.error ? (
        <div className="mb-4">
          <Alert>{remove.error.message}</Alert>
        </div>
      ) : null}
      {panel === 'add' ? (
        <Card className="mb-6">
          <HostedMailboxForm
            pending={add.isPending}
            serverError={add.error?.message ?? null}
            onSubmit={(values) => add.mutate(values)}
            onCancel={() => setPanel(null)}
          />
        </Card>
      ) : null}
      {panel === 'import' ? (
        <Card className="mb-6">
          <CsvImport
            pending={importCsv.isPending}
            result={importResult}
            serverError={importCsv.error?.message ?? null}
            onImport={(text) => {
              setImportResult(null);
              importCsv.mutate({ text });
            }}
            onClose={() => setPanel(null)}
          />
        </Card>
      ) : null}

      <Card className="overflow-hidden">
        {isEmpty ? null : (
          <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-200 px-4 py-3 sm:px-6">
            <label className="relative block w-full sm:w-80">
              <span className="sr-only">Search hosted mailboxes</span>
              <span className="pointer-events-none absolute inset-y-0 left-3 flex items-center text-slate-400">
                <SearchIcon />
              </span>
              <input
                type="search"
                value={search}
                onChange={(e) => setSearch(e.target.value)}
                placeholder="Search by email or username"
                className="block w-full rounded-md border border-slate-300 bg-white py-2 pl-9 pr-3 text-sm shadow-sm outline-none placeholder:text-slate-400 focus:border-brand-500 focus:ring-2 focus:ring-brand-100"
              />
            </label>
            <p className="text-sm text-slate-500" data-testid="mailbox-count">
              {data ? (query ? `${number(total)} of the hosted mailboxes match` : `${number(total)} hosted mailbox${total === 1 ? '' : 'es'}`) : '\u00a0'}
            </p>
          </div>
        )}
        {list.isLoading ? (
          <p className="px-6 py-12 text-center text-sm text-slate-500">Loading…</p>
        ) : list.error ? (
          <div className="p-6">
            <Alert>{list.error.message}</Alert>
          </div>
        ) : isEmpty ? (
          <EmptyState title="No hosted mailboxes yet" icon={<InboxIcon />}>
            Add the mailboxes of your own mail servers one by one, or import them from a CSV file. Customers then choose them in the migration form instead of typing
            email, username and server.
            <div className="mt-5 flex flex-wrap justify-center gap-2">
              <Button variant="secondary" onClick={() => open('import')}>
                Import CSV
              </Button>
              <Button onClick={() => open('add')}>Add mailbox</Button>
            </div>
          </EmptyState>
        ) : rows.length === 0 ? (
          <EmptyState title="No mailbox matches" icon={<InboxIcon />}>
            Nothing has an email address or username containing “{query}”.
          </EmptyState>
        ) : (
          // A table from md up; below that each row stacks, so nothing scrolls sideways on a phone.
          <table role="table" className={`block w-full text-left text-sm md:table ${list.isPlaceholderData ? 'opacity-60' : ''}`}>
            <thead role="rowgroup" className="hidden border-b border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500 md:table-header-group">
              <tr role="row">
                <th role="columnheader" scope="col" className="px-6 py-2.5 font-medium">Mailbox</th>
                <th role="columnheader" scope="col" className="px-4 py-2.5 font-medium">Server</th>
                <th role="columnheader" scope="col" className="px-4 py-2.5 font-medium">Type</th>
                <th role="columnheader" scope="col" className="px-4 py-2.5 font-medium">Added</th>
                <th role="columnheader" scope="col" className="px-6 py-2.5 text-right font-medium">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody role="rowgroup" className="block divide-y divide-slate-100 md:table-row-group">
              {rows.map((mailbox) => (
                <tr
                  role="row"
                  key={mailbox.id}
                  data-testid="mailbox-row"
                  className="flex flex-wrap items-center gap-x-3 gap-y-1.5 px-4 py-3.5 transition-colors hover:bg-slate-50/60 md:table-row md:p-0"
                >
                  <td role="cell" className="w-full min-w-0 md:w-auto md:px-6 md:py-3">
                    <div className="font-medium text-slate-900 [overflow-wrap:anywhere] md:[overflow-wrap:break-word]">{mailbox.email}</div>
                    <div className="mt-0.5 text-xs text-slate-500 [overflow-wrap:anywhere] md:[overflow-wrap:break-word]">
                      Username{' '}
                      {mailbox.username === mailbox.email ? (
                        <span>same as the email address</span>
                      ) : (
                        <span className="font-medium text-slate-700">{mailbox.username}</span>
                      )}
                    </div>
                  </td>
                  <td role="cell" className="w-full md:w-auto md:px-4 md:py-3">
                    <code className="font-mono text-[13px] text-slate-700 [overflow-wrap:anywhere] md:[overflow-wrap:break-word]">{mailbox.server || 'outlook.office365.com'}</code>
                  </td>
                  <td role="cell" className="shrink-0 md:px-4 md:py-3">
                    <TypeBadge type={mailbox.type} />
                  </td>
                  {/* Left out on a phone, where the type and the action share the last line. */}
                  <td role="cell" className="hidden whitespace-nowrap px-4 py-3 text-sm text-slate-500 md:table-cell">
                    {dateFormat.format(mailbox.createdAt)}
                  </td>
                  <td role="cell" className="ml-auto shrink-0 whitespace-nowrap text-right md:w-px md:px-6 md:py-3">
                    <RemoveAction
                      mailbox={mailbox}
                      confirming={confirming === mailbox.id}
                      pending={remove.isPending}
                      onAsk={() => {
                        remove.reset();
                        setNotice(null);
                        setConfirming(mailbox.id);
                      }}
                      onConfirm={() => remove.mutate({ id: mailbox.id })}
                      onKeep={() => setConfirming(null)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {data && total > data.pageSize ? (
          <nav aria-label="Pages" className="flex flex-wrap items-center justify-between gap-3 border-t border-slate-200 px-4 py-3 text-sm sm:px-6">
            <p className="tabular-nums text-slate-600">
              {number(first)}–{number(last)} of {number(total)}
            </p>
            <div className="flex items-center gap-2">
              <Button variant="secondary" className="px-3 py-1.5" disabled={page <= 1} onClick={() => setPage((p) => Math.max(1, p - 1))}>
                Previous
              </Button>
              <span className="tabular-nums text-slate-500">
                Page {page} of {number(pages)}
              </span>
              <Button variant="secondary" className="px-3 py-1.5" disabled={page >= pages} onClick={() => setPage((p) => Math.min(pages, p + 1))}>
                Next
              </Button>
            </div>
          </nav>
        ) : null}
      </Card>
    </>
  );
}
