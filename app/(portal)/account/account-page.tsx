'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { signIn } from 'next-auth/react';
import { useRouter } from 'next/navigation';
import { useId, useState, type FormEvent } from 'react';
import { fieldErrorOf } from '@/components/field-error';
import { Alert, Button, Field, TextInput } from '@/components/form';
import { Card, PageHeader } from '@/components/page-header';
import { useTRPC } from '@/components/trpc-provider';
import { MIN_PASSWORD_LENGTH } from '@/server/organizations/schemas';
import { changeOwnPasswordSchema } from '@/server/users/schemas';

const roleLabel = { admin: 'Administrator', reseller: 'Reseller', customer: 'Customer' } as const;
const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });

export function AccountPage() {
  const trpc = useTRPC();
  const account = useQuery(trpc.account.get.queryOptions());
  if (account.isLoading) return <p className="py-12 text-center text-sm text-slate-500">Loading…</p>;
  if (account.error || !account.data) return <Alert>{account.error?.message ?? 'Your account could not be loaded.'}</Alert>;
  const me = account.data;
  return (
    <>
      <PageHeader
        title="Account"
        description={`Your name and password${me.role === 'customer' ? ', and the e-mails you get about your migrations' : ''}. Only you can change your password here; an administrator can set a new one if you forget it.`}
      />
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="space-y-6 lg:col-span-2">
          <NameForm name={me.name ?? ''} />
          {/* Migration e-mails go to the customer user who created the migration; other roles create none. */}
          {me.role === 'customer' ? <NotificationsCard email={me.email} /> : null}
          <PasswordForm email={me.email} />
        </div>
        <Card className="h-fit p-4 sm:p-6">
          <h2 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Signed in as</h2>
          <p className="mt-2 text-sm font-medium text-slate-900 [overflow-wrap:anywhere]">{me.email}</p>
          <p className="mt-1 text-sm text-slate-600">
            {roleLabel[me.role]}
            {me.organization ? ` · ${me.organization.name}` : ''}
          </p>
          <p className="mt-3 text-xs text-slate-500">{me.lastLoginAt ? `Last sign-in ${dateFormat.format(me.lastLoginAt)}` : null}</p>
        </Card>
      </div>
    </>
  );
}

function NameForm({ name }: { name: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const [value, setValue] = useState(name);
  const [saved, setSaved] = useState(false);
  const update = useMutation(
    trpc.account.updateName.mutationOptions({
      onSuccess: () => {
        setSaved(true);
        void queryClient.invalidateQueries({ queryKey: trpc.account.get.queryKey() });
        // The user menu in the shell shows the name too.
        router.refresh();
      },
    }),
  );
  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    update.mutate({ name: value });
  }
  return (
    <Card>
      <form onSubmit={submit} noValidate className="space-y-4 p-4 sm:p-6" aria-label="Name">
        <h2 className="text-base font-semibold text-slate-900">Name</h2>
        {saved ? <Alert tone="success">Your name was saved.</Alert> : null}
        {update.error && !fieldErrorOf(update.error, 'name') ? <Alert>{update.error.message}</Alert> : null}
        <Field label="Your name" error={fieldErrorOf(update.error, 'name')} hint="Shown in the portal's menu and to the people who manage your organization.">
          <TextInput value={value} onChange={(e) => setValue(e.target.value)} autoComplete="name" />
        </Field>
        <div className="flex justify-end">
          <Button type="submit" disabled={update.isPending || value.trim() === name}>
            {update.isPending ? 'Saving…' : 'Save name'}
          </Button>
        </div>
      </form>
    </Card>
  );
}

function NotificationsCard({ email }: { email: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const id = useId();
  const settings = useQuery(trpc.account.notifications.queryOptions());
  const [saved, setSaved] = useState<boolean | null>(null);
  const save = useMutation(
    trpc.account.setNotifications.mutationOptions({
      onSuccess: (next) => {
        queryClient.setQueryData(trpc.account.notifications.queryKey(), next);
        setSaved(next.notifyByEmail);
      },
    }),
  );
  const data = settings.data;
  // While saving, the switch shows the choice just made.
  const isOn = save.isPending && save.variables ? save.variables.notifyByEmail : (data?.notifyByEmail ?? true);
  return (
    <Card>
      <section className="space-y-4 p-4 sm:p-6" aria-labelledby={`${id}-title`}>
        <div>
          <h2 id={`${id}-title`} className="text-base font-semibold text-slate-900">
            E-mail notifications
          </h2>
          <p className="mt-1 text-sm text-slate-600">
            When a migration you created finishes, fails, or its verification finds messages missing on the target, you get an e-mail at{' '}
            <span className="font-medium text-slate-800 [overflow-wrap:anywhere]">{email}</span>: both addresses, what was copied, the verdict per folder and a link to the
            migration. Never a password.
          </p>
        </div>
        {settings.error ? <Alert>{settings.error.message}</Alert> : null}
        {save.error ? <Alert>{save.error.message}</Alert> : null}
        {data && !data.isMailConfigured ? (
          <Alert tone="info">This installation sends no e-mails at the moment: no mail server is set up. Your choice is kept for when one is.</Alert>
        ) : null}
        <label className="flex cursor-pointer items-center justify-between gap-4 rounded-md border border-slate-200 bg-slate-50/60 px-4 py-3">
          <span>
            <span id={`${id}-label`} className="block text-sm font-medium text-slate-800">
              E-mail me about my migrations
            </span>
            <span id={`${id}-state`} className="block text-xs text-slate-500">
              {isOn ? 'On: an e-mail for each migration that ends or has a gap.' : 'Off: no e-mails; the migration lists still show everything.'}
            </span>
          </span>
          <span className="relative inline-flex shrink-0 items-center">
            <input
              type="checkbox"
              role="switch"
              checked={isOn}
              disabled={!data || save.isPending}
              aria-labelledby={`${id}-label`}
              aria-describedby={`${id}-state`}
              onChange={(e) => {
                setSaved(null);
                save.mutate({ notifyByEmail: e.target.checked });
              }}
              className="peer sr-only"
            />
            <span
              aria-hidden="true"
              className="h-6 w-11 rounded-full bg-slate-300 transition peer-checked:bg-brand-600 peer-focus-visible:ring-2 peer-focus-visible:ring-brand-500 peer-focus-visible:ring-offset-2 peer-disabled:opacity-60"
            />
            <span aria-hidden="true" className="pointer-events-none absolute left-0.5 h-5 w-5 rounded-full bg-white shadow transition peer-checked:translate-x-5" />
          </span>
        </label>
        <p aria-live="polite" className="min-h-5 text-sm text-emerald-700">
          {saved === null ? '' : saved ? 'Saved: you get e-mails about your migrations.' : 'Saved: you get no e-mails about your migrations.'}
        </p>
      </section>
    </Card>
  );
}

function PasswordForm({ email }: { email: string }) {
  const trpc = useTRPC();
  const [errors, setErrors] = useState<Partial<Record<'currentPassword' | 'newPassword' | 'repeat', string>>>({});
  const [done, setDone] = useState<string | null>(null);
  const [formKey, setFormKey] = useState(0);
  const change = useMutation(trpc.account.changePassword.mutationOptions());

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setDone(null);
    const form = new FormData(event.currentTarget);
    const input = { currentPassword: String(form.get('currentPassword') ?? ''), newPassword: String(form.get('newPassword') ?? '') };
    const parsed = changeOwnPasswordSchema.safeParse(input);
    const next: typeof errors = {};
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const key = issue.path[0];
        if (key === 'currentPassword' || key === 'newPassword') next[key] ??= issue.message;
      }
    }
    if (input.newPassword !== String(form.get('repeat') ?? '')) next.repeat = 'The two new passwords differ.';
    setErrors(next);
    if (Object.keys(next).length > 0) return;
    try {
      await change.mutateAsync(input);
    } catch {
      return;
    }
    // The change ended every session of this account, this one too: sign in again with the new
    // password at once, so only the other sessions stay ended.
    const again = await signIn('credentials', { redirect: false, email, password: input.newPassword });
    setFormKey((k) => k + 1);
    setDone(
      again && !again.error
        ? 'Your password was changed. You stay signed in here; everywhere else you were signed in, you have been signed out.'
        : 'Your password was changed. Sign in again with the new password.',
    );
  }

  return (
    <Card>
      <form key={formKey} onSubmit={submit} noValidate className="space-y-4 p-4 sm:p-6" aria-label="Password">
        <h2 className="text-base font-semibold text-slate-900">Password</h2>
        {done ? <Alert tone="success">{done}</Alert> : null}
        {change.error && !fieldErrorOf(change.error, 'currentPassword') && !fieldErrorOf(change.error, 'newPassword') ? <Alert>{change.error.message}</Alert> : null}
        {/* Lets password managers tie the new password to this account. */}
        <input type="text" name="username" autoComplete="username" value={email} readOnly hidden />
        <Field label="Current password" error={errors.currentPassword ?? fieldErrorOf(change.error, 'currentPassword')}>
          <TextInput name="currentPassword" type="password" autoComplete="current-password" />
        </Field>
        <div className="grid gap-4 sm:grid-cols-2">
          <Field label="New password" error={errors.newPassword ?? fieldErrorOf(change.error, 'newPassword')} hint={`At least ${MIN_PASSWORD_LENGTH} characters.`}>
            <TextInput name="newPassword" type="password" autoComplete="new-password" />
          </Field>
          <Field label="New password again" error={errors.repeat}>
            <TextInput name="repeat" type="password" autoComplete="new-password" />
          </Field>
        </div>
        <div className="flex justify-end">
          <Button type="submit" disabled={change.isPending}>
            {change.isPending ? 'Changing…' : 'Change password'}
          </Button>
        </div>
      </form>
    </Card>
  );
}
