'use client';

import { useState, type FormEvent } from 'react';
import { z } from 'zod';
import { newUserSchema, organizationNameSchema } from '@/server/organizations/schemas';
import { Alert, Button, Field, TextInput } from './form';

export interface OrganizationFormValues {
  name: string;
  resellerId?: string;
  user: { email: string; name?: string; password: string };
}

type FieldErrors = Partial<Record<'name' | 'email' | 'password', string>>;

const formSchema = z.object({ name: organizationNameSchema, user: newUserSchema });

function validate(values: OrganizationFormValues): FieldErrors {
  const result = formSchema.safeParse(values);
  if (result.success) return {};
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const key = issue.path.at(-1);
    if ((key === 'name' && issue.path.length === 1) || key === 'email' || key === 'password') errors[key] ??= issue.message;
  }
  return errors;
}

function randomPassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

/** Creates an organization together with its first user. */
export function OrganizationForm({
  title,
  submitLabel,
  resellers,
  pending,
  serverError,
  onSubmit,
  onCancel,
}: {
  title: string;
  submitLabel: string;
  resellers?: { id: string; name: string }[];
  pending: boolean;
  serverError: string | null;
  onSubmit: (values: OrganizationFormValues) => void;
  onCancel: () => void;
}) {
  const [password, setPassword] = useState('');
  const [showPassword, setShowPassword] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const resellerId = String(form.get('resellerId') ?? '');
    const values: OrganizationFormValues = {
      name: String(form.get('name') ?? ''),
      resellerId: resellerId || undefined,
      user: { email: String(form.get('email') ?? ''), name: String(form.get('userName') ?? '') || undefined, password },
    };
    const errors = validate(values);
    setFieldErrors(errors);
    if (Object.keys(errors).length === 0) onSubmit(values);
  }

  return (
    <form onSubmit={submit} className="space-y-4 p-6" noValidate>
      <h2 className="text-base font-semibold text-slate-900">{title}</h2>
      {serverError ? <Alert>{serverError}</Alert> : null}
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Organization name" error={fieldErrors.name}>
          <TextInput name="name" required invalid={!!fieldErrors.name} placeholder="Example Hosting GmbH" />
        </Field>
        {resellers ? (
          <Field label="Reseller" hint="Optional: the reseller that sells to this customer.">
            <select name="resellerId" className="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-brand-500 focus:outline-none focus:ring-2 focus:ring-brand-100">
              <option value="">No reseller (direct customer)</option>
              {resellers.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name}
                </option>
              ))}
            </select>
          </Field>
        ) : null}
      </div>
      <fieldset className="rounded-lg border border-slate-200 p-4">
        <legend className="px-1 text-sm font-medium text-slate-700">First user</legend>
        <div className="grid gap-4 sm:grid-cols-2">
          <Field label="Email" error={fieldErrors.email}>
            <TextInput name="email" type="email" autoComplete="off" required invalid={!!fieldErrors.email} />
          </Field>
          <Field label="Name (optional)">
            <TextInput name="userName" autoComplete="off" />
          </Field>
          <Field label="Initial password" error={fieldErrors.password} hint="At least 12 characters. Share it with the user over a safe channel.">
            <div className="flex gap-2">
              <TextInput
                name="password"
                type={showPassword ? 'text' : 'password'}
                autoComplete="new-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                invalid={!!fieldErrors.password}
                className={showPassword ? 'font-mono tracking-wide' : ''}
              />
              <Button
                type="button"
                variant="secondary"
                onClick={() => {
                  setPassword(randomPassword());
                  setShowPassword(true);
                }}
              >
                Generate
              </Button>
            </div>
          </Field>
        </div>
      </fieldset>
      <div className="flex justify-end gap-2">
        <Button type="button" variant="ghost" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" disabled={pending}>
          {pending ? 'Creating…' : submitLabel}
        </Button>
      </div>
    </form>
  );
}
