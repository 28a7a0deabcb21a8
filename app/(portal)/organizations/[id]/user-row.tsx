'use client';

import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { fieldErrorOf } from '@/components/field-error';
import { Alert, Button, Field, TextInput } from '@/components/form';
import { useTRPC } from '@/components/trpc-provider';
import { newPasswordSchema } from '@/server/users/schemas';

const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });

export interface ManagedUser {
  id: string;
  email: string;
  name: string | null;
  lastLoginAt: Date | null;
  disabledAt: Date | null;
}

type Panel = 'password' | 'remove' | null;

/** One user with what may be done to it: a new password, disable or enable, remove. */
export function UserRow({ user, isSelf, isOnly, onChanged }: { user: ManagedUser; isSelf: boolean; isOnly: boolean; onChanged: (notice: string | null) => void }) {
  const trpc = useTRPC();
  const [panel, setPanel] = useState<Panel>(null);
  const [generated, setGenerated] = useState<string | null>(null);
  const toggle = useMutation(
    trpc.manage.setUserDisabled.mutationOptions({
      onSuccess: (result) =>
        onChanged(result.disabledAt ? `${user.email} is disabled: it cannot sign in, and its open sessions have ended.` : `${user.email} can sign in again.`),
    }),
  );
  const remove = useMutation(trpc.manage.removeUser.mutationOptions({ onSuccess: () => onChanged(`${user.email} was removed.`) }));
  const error = toggle.error ?? remove.error;
  const label = user.name ?? user.email;

  return (
    <li data-testid="user-row" className="px-4 py-4 sm:px-6">
      <div className="flex flex-wrap items-start justify-between gap-3">
        {/* A line of its own on a phone, so a long address is not squeezed beside the buttons. */}
        <div className="min-w-0 basis-full sm:basis-0 sm:flex-1">
          <p className="flex flex-wrap items-center gap-2 text-sm font-medium text-slate-900">
            <span className="[overflow-wrap:anywhere]">{label}</span>
            {isSelf ? <span className="rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-600">You</span> : null}
            {user.disabledAt ? <span className="rounded-full bg-red-50 px-2 py-0.5 text-xs font-medium text-red-700 ring-1 ring-red-200">Disabled</span> : null}
          </p>
          {user.name ? <p className="text-sm text-slate-600 [overflow-wrap:anywhere]">{user.email}</p> : null}
          <p className="mt-0.5 text-xs text-slate-500">
            {user.disabledAt
              ? `Disabled ${dateFormat.format(user.disabledAt)}`
              : user.lastLoginAt
                ? `Last sign-in ${dateFormat.format(user.lastLoginAt)}`
                : 'Never signed in'}
          </p>
        </div>
        {!isSelf ? (
          <div className="flex flex-wrap gap-2">
            <Button variant="secondary" className="px-3 py-1.5" aria-expanded={panel === 'password'} onClick={() => { setPanel(panel === 'password' ? null : 'password'); setGenerated(null); }}>
              Set password
            </Button>
            <Button
              variant="secondary"
              className="px-3 py-1.5"
              disabled={toggle.isPending}
              onClick={() => toggle.mutate({ userId: user.id, disabled: !user.disabledAt })}
            >
              {user.disabledAt ? 'Enable' : 'Disable'}
            </Button>
            {!isOnly ? (
              <button
                type="button"
                className="inline-flex items-center rounded-md px-3 py-1.5 text-sm font-medium text-red-700 transition hover:bg-red-50 hover:text-red-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500 focus-visible:ring-offset-2"
                aria-expanded={panel === 'remove'}
                onClick={() => setPanel(panel === 'remove' ? null : 'remove')}
              >
                Remove
              </button>
            ) : null}
          </div>
        ) : null}
      </div>
      {error ? (
        <div className="mt-3">
          <Alert>{error.message}</Alert>
        </div>
      ) : null}
      {generated ? (
        <div className="mt-3 rounded-lg border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-900" role="status">
          <p>New password for {user.email}, shown this once. Pass it on over a safe channel; the user’s open sessions have ended.</p>
          <p className="mt-2 break-all font-mono text-base tracking-wide" data-testid="generated-password">
            {generated}
          </p>
          <Button variant="secondary" className="mt-2 px-3 py-1.5" onClick={() => setGenerated(null)}>
            Done
          </Button>
        </div>
      ) : null}
      {panel === 'password' ? (
        <SetPasswordPanel
          user={user}
          onDone={(password) => {
            setPanel(null);
            if (password) {
              setGenerated(password);
              onChanged(null);
            } else {
              onChanged(`${user.email} has a new password; its open sessions have ended.`);
            }
          }}
          onCancel={() => setPanel(null)}
        />
      ) : null}
      {panel === 'remove' ? (
        <div className="mt-3 rounded-lg border border-red-200 bg-red-50/60 p-3">
          <p className="text-sm text-slate-700">
            Remove {user.email}? The user can no longer sign in. Its migrations stay with the organization.
          </p>
          <div className="mt-3 flex flex-wrap gap-2">
            <Button className="bg-red-600 px-3 py-1.5 hover:bg-red-700" disabled={remove.isPending} onClick={() => remove.mutate({ userId: user.id })}>
              {remove.isPending ? 'Removing…' : 'Remove user'}
            </Button>
            <Button variant="ghost" className="px-3 py-1.5" onClick={() => setPanel(null)}>
              Cancel
            </Button>
          </div>
        </div>
      ) : null}
    </li>
  );
}

function SetPasswordPanel({ user, onDone, onCancel }: { user: ManagedUser; onDone: (generated: string | null) => void; onCancel: () => void }) {
  const trpc = useTRPC();
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const set = useMutation(trpc.manage.setUserPassword.mutationOptions({ onSuccess: (result) => onDone(result.generatedPassword) }));

  function submit(event: FormEvent) {
    event.preventDefault();
    if (password) {
      const parsed = newPasswordSchema.safeParse(password);
      if (!parsed.success) {
        setError(parsed.error.issues[0]?.message ?? 'Check the password');
        return;
      }
    }
    setError(null);
    set.mutate({ userId: user.id, password: password || undefined });
  }

  return (
    <form onSubmit={submit} noValidate className="mt-3 space-y-3 rounded-lg border border-slate-200 bg-slate-50/60 p-3" aria-label={`New password for ${user.email}`}>
      <p className="text-sm text-slate-700">A new password for {user.email}. Leave the field empty to have one generated and shown once. The user’s open sessions end.</p>
      {set.error && !fieldErrorOf(set.error, 'password') ? <Alert>{set.error.message}</Alert> : null}
      <Field label="New password" error={error ?? fieldErrorOf(set.error, 'password')} hint="At least 12 characters, or empty.">
        <TextInput type="text" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} invalid={!!error} className="font-mono" />
      </Field>
      <div className="flex flex-wrap gap-2">
        <Button type="submit" className="px-3 py-1.5" disabled={set.isPending}>
          {set.isPending ? 'Saving…' : password ? 'Set this password' : 'Generate password'}
        </Button>
        <Button type="button" variant="ghost" className="px-3 py-1.5" onClick={onCancel}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
