'use client';

import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { fieldErrorOf } from '@/components/field-error';
import { Alert, Button, Field, TextInput } from '@/components/form';
import { useTRPC } from '@/components/trpc-provider';
import { newUserSchema } from '@/server/organizations/schemas';
import { PasswordInput } from './password-input';

/** A further user of the organization, with a typed or generated first password. */
export function AddUserForm({ organizationId, onAdded, onCancel }: { organizationId: string; onAdded: (email: string) => void; onCancel: () => void }) {
  const trpc = useTRPC();
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Partial<Record<'email' | 'password', string>>>({});
  const add = useMutation(trpc.manage.addUser.mutationOptions({ onSuccess: (user) => onAdded(user.email) }));

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const user = { email: String(form.get('email') ?? ''), name: String(form.get('name') ?? ''), password };
    const parsed = newUserSchema.safeParse(user);
    if (!parsed.success) {
      const next: typeof errors = {};
      for (const issue of parsed.error.issues) {
        const key = issue.path[0];
        if (key === 'email' || key === 'password') next[key] ??= issue.message;
      }
      setErrors(next);
      return;
    }
    setErrors({});
    add.mutate({ organizationId, user: parsed.data });
  }

  const serverFieldError = fieldErrorOf(add.error, 'user');
  return (
    <form onSubmit={submit} noValidate className="space-y-4 p-4 sm:p-6" aria-label="Add user">
      <h3 className="text-sm font-semibold text-slate-900">Add user</h3>
      {add.error ? <Alert>{serverFieldError ?? add.error.message}</Alert> : null}
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Email" error={errors.email}>
          <TextInput name="email" type="email" autoComplete="off" invalid={!!errors.email} />
        </Field>
        <Field label="Name (optional)">
          <TextInput name="name" autoComplete="off" />
        </Field>
        <div className="sm:col-span-2">
          <PasswordInput label="First password" value={password} onChange={setPassword} error={errors.password} hint="At least 12 characters. Share it with the user over a safe channel." />
        </div>
      </div>
      <div className="flex flex-wrap justify-end gap-2">
        <Button type="button" variant="ghost" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" disabled={add.isPending}>
          {add.isPending ? 'Adding…' : 'Add user'}
        </Button>
      </div>
    </form>
  );
}
