'use client';

import { useState, type FormEvent } from 'react';
import { Alert, Button, Field, TextInput } from '@/components/form';
import { ACCOUNT_TYPES, type AccountType } from '@/server/accounts/types';
import { hostedMailboxSchema, type HostedMailboxField, type HostedMailboxValues } from '@/server/hosted-mailboxes/schemas';
import { ACCOUNT_TYPE_LABELS } from '@/components/account-types';

type FieldErrors = Partial<Record<HostedMailboxField, string>>;

const selectClass =
  'block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-brand-500 focus:outline-none focus:ring-2 focus:ring-brand-100';

/** One hosted mailbox: the same fields, and the same rules, as one side of the migration form. */
export function HostedMailboxForm({
  pending,
  serverError,
  onSubmit,
  onCancel,
}: {
  pending: boolean;
  serverError: string | null;
  onSubmit: (values: HostedMailboxValues) => void;
  onCancel: () => void;
}) {
  const [email, setEmail] = useState('');
  const [username, setUsername] = useState('');
  // The username follows the email address until the admin types one of its own.
  const [usernameEdited, setUsernameEdited] = useState(false);
  const [server, setServer] = useState('');
  const [type, setType] = useState<AccountType>('imap');
  const [errors, setErrors] = useState<FieldErrors>({});

  function submit(event: FormEvent) {
    event.preventDefault();
    const parsed = hostedMailboxSchema.safeParse({ email, username, server, type });
    if (!parsed.success) {
      const next: FieldErrors = {};
      for (const issue of parsed.error.issues) next[issue.path[0] as HostedMailboxField] ??= issue.message;
      setErrors(next);
      return;
    }
    setErrors({});
    onSubmit(parsed.data);
  }

  return (
    <form onSubmit={submit} noValidate className="space-y-5 p-6" aria-labelledby="add-mailbox-title">
      <div>
        <h2 id="add-mailbox-title" className="text-base font-semibold text-slate-900">
          Add a hosted mailbox
        </h2>
        <p className="mt-1 text-sm text-slate-600">Customers see its email address in the migration form. No password is stored: they type it for every migration.</p>
      </div>
      {serverError ? <Alert>{serverError}</Alert> : null}
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Email address" error={errors.email}>
          <TextInput
            name="email"
            type="email"
            autoComplete="off"
            placeholder="anna@example.com"
            value={email}
            invalid={!!errors.email}
            onChange={(e) => {
              setEmail(e.target.value);
              if (!usernameEdited) setUsername(e.target.value.trim().toLowerCase());
            }}
          />
        </Field>
        <Field label="Username" error={errors.username} hint="Often the email address itself.">
          <TextInput
            name="username"
            autoComplete="off"
            value={username}
            invalid={!!errors.username}
            onChange={(e) => {
              setUsername(e.target.value);
              setUsernameEdited(true);
            }}
          />
        </Field>
        <Field label="Server" error={errors.server} hint="mail.example.com, with :port, imaps://… or imap://…:143 (STARTTLS).">
          <TextInput
            name="server"
            autoComplete="off"
            spellCheck={false}
            placeholder="imaps://mail.example.com:993"
            value={server}
            invalid={!!errors.server}
            onChange={(e) => setServer(e.target.value)}
          />
        </Field>
        <Field label="Account type" error={errors.type}>
          <select name="type" value={type} onChange={(e) => setType(e.target.value as AccountType)} className={selectClass}>
            {ACCOUNT_TYPES.map((t) => (
              <option key={t} value={t}>
                {ACCOUNT_TYPE_LABELS[t]}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <div className="flex justify-end gap-2 border-t border-slate-100 pt-4">
        <Button type="button" variant="ghost" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" disabled={pending}>
          {pending ? 'Adding…' : 'Add mailbox'}
        </Button>
      </div>
    </form>
  );
}
