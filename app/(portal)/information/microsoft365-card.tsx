'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Alert, Button, Field, TextInput } from '@/components/form';
import { Card } from '@/components/page-header';
import { useTRPC } from '@/components/trpc-provider';

const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });

/** The organization's Entra app registration, used for Microsoft 365 mailboxes. The secret is write-only. */
export function Microsoft365Card() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const connection = useQuery(trpc.accounts.microsoft365.queryOptions());
  const [editing, setEditing] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.accounts.microsoft365.queryKey() });
  const save = useMutation(trpc.accounts.saveMicrosoft365.mutationOptions({ onSuccess: () => { setEditing(false); void refresh(); } }));
  const remove = useMutation(trpc.accounts.deleteMicrosoft365.mutationOptions({ onSuccess: () => void refresh() }));

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    save.mutate({ tenantId: String(form.get('tenantId') ?? ''), clientId: String(form.get('clientId') ?? ''), clientSecret: String(form.get('clientSecret') ?? '') });
  }

  const current = connection.data;
  const fieldErrors = (save.error?.data as { zodError?: { fieldErrors?: Record<string, string[]> } } | undefined)?.zodError?.fieldErrors ?? {};
  return (
    <Card className="p-6 lg:col-span-3">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <h2 className="text-base font-semibold text-slate-900">Microsoft 365 connection</h2>
          <p className="mt-1 max-w-2xl text-sm text-slate-600">
            Microsoft 365 mailboxes are reached with your organization&apos;s app registration in Microsoft Entra (application permissions for IMAP
            and Microsoft Graph), not with user passwords. The client secret is stored encrypted and never shown again.
          </p>
        </div>
        {current && !editing ? (
          <div className="flex gap-2">
            <Button variant="secondary" onClick={() => setEditing(true)}>Replace</Button>
            <Button variant="ghost" onClick={() => remove.mutate()} disabled={remove.isPending}>Remove</Button>
          </div>
        ) : null}
      </div>
      {connection.isLoading ? null : current && !editing ? (
        <dl className="mt-4 grid gap-3 text-sm sm:grid-cols-3">
          <div><dt className="text-slate-500">Tenant</dt><dd className="font-mono text-slate-800">{current.tenantId}</dd></div>
          <div><dt className="text-slate-500">Application (client) ID</dt><dd className="font-mono text-slate-800">{current.clientId}</dd></div>
          <div><dt className="text-slate-500">Saved</dt><dd className="text-slate-800">{dateFormat.format(current.updatedAt)}</dd></div>
        </dl>
      ) : (
        <form onSubmit={submit} className="mt-4 space-y-4" noValidate>
          {save.error && !Object.keys(fieldErrors).length ? <Alert>{save.error.message}</Alert> : null}
          <div className="grid gap-4 sm:grid-cols-3">
            <Field label="Tenant ID or domain" error={fieldErrors.tenantId?.[0]}>
              <TextInput name="tenantId" defaultValue={current?.tenantId} placeholder="contoso.onmicrosoft.com" invalid={!!fieldErrors.tenantId} />
            </Field>
            <Field label="Application (client) ID" error={fieldErrors.clientId?.[0]}>
              <TextInput name="clientId" defaultValue={current?.clientId} placeholder="00000000-0000-0000-0000-000000000000" invalid={!!fieldErrors.clientId} />
            </Field>
            <Field label="Client secret" error={fieldErrors.clientSecret?.[0]}>
              <TextInput name="clientSecret" type="password" autoComplete="off" invalid={!!fieldErrors.clientSecret} />
            </Field>
          </div>
          <div className="flex justify-end gap-2">
            {editing ? <Button type="button" variant="ghost" onClick={() => setEditing(false)}>Cancel</Button> : null}
            <Button type="submit" disabled={save.isPending}>{save.isPending ? 'Saving…' : 'Save connection'}</Button>
          </div>
        </form>
      )}
    </Card>
  );
}
