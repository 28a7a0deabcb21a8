'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useId, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ACCOUNT_TYPE_LABELS } from '@/components/account-types';
import { Button, Field, TextInput } from '@/components/form';
import { AlertIcon, CheckCircleIcon, InfoIcon } from '@/components/icons';
import { useTRPC } from '@/components/trpc-provider';
import { ACCOUNT_TYPES, GROUPWARE_ADDRESS_TYPES, type AccountType } from '@/server/accounts/types';
import { migrationInputSchema } from '@/server/migrations/schemas';
import type { SideCheck } from '@/server/migrations/submit-migration';
import { resolveTiming } from '@/server/migrations/timing';
import { formatOffset, resolveLocalTime, zoneOffsetMinutes } from '@/server/portal/time-zone';
import { QuickSelection, type HostedMailboxChoice } from './quick-selection';

type Side = 'source' | 'target';

interface AccountValues {
  type: AccountType;
  email: string;
  username: string;
  password: string;
  server: string;
  groupwareUrl: string;
}

const emptyAccount: AccountValues = { type: 'imap', email: '', username: '', password: '', server: '', groupwareUrl: '' };

const takesGroupwareAddress = (type: AccountType) => (GROUPWARE_ADDRESS_TYPES as readonly AccountType[]).includes(type);

/** What the form sends for one side: the groupware address only where the type has one. */
const accountInput = ({ groupwareUrl, ...account }: AccountValues) => (takesGroupwareAddress(account.type) && groupwareUrl.trim() ? { ...account, groupwareUrl } : account);

type Errors = Record<string, string>;

interface CheckFailure {
  failed: 'source' | 'target' | 'both';
  source: SideCheck;
  target: SideCheck;
  message: string;
}

/** Now as a wall-clock time in `zone`, in the datetime-local format. */
function localNow(zone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
      .formatToParts(new Date())
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

const readingFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * A datetime-local value as the rest of the portal writes dates ("4 Dec 2026, 19:25"), with the
 * zone and its offset on that day: the browser shows the field in its own locale's format,
 * which is easy to misread (day and month swapped, 12-hour clock).
 */
function portalReading(local: string, zone: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(local)) return undefined;
  const resolved = resolveLocalTime(local, zone);
  if (!resolved.ok) return undefined;
  let format = readingFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: zone });
    readingFormats.set(zone, format);
  }
  return `${format.format(resolved.utc)} · ${zone} (UTC${formatOffset(zoneOffsetMinutes(zone, resolved.utc.getTime()))})`;
}

function ClockIcon() {
  return (
    <svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true" className="h-3.5 w-3.5 flex-none text-slate-400">
      <path fillRule="evenodd" d="M10 18a8 8 0 1 0 0-16 8 8 0 0 0 0 16Zm.75-13a.75.75 0 0 0-1.5 0v5c0 .2.08.39.22.53l3 3a.75.75 0 1 0 1.06-1.06l-2.78-2.78V5Z" clipRule="evenodd" />
    </svg>
  );
}

const selectClass =
  'block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm outline-none transition focus:border-brand-500 focus:ring-2 focus:ring-brand-100';

/** The numbered heading of a section; the fieldset takes its name from the title. */
function SectionHeading({ id, number, title, description, status }: { id: string; number: number; title: string; description: string; status?: ReactNode }) {
  return (
    <div className="flex items-start gap-3">
      <span aria-hidden="true" className="flex h-7 w-7 flex-none items-center justify-center rounded-full bg-brand-600 text-sm font-semibold text-white shadow-sm">
        {number}
      </span>
      <div className="min-w-0 flex-1">
        <h2 id={id} className="text-base font-semibold leading-7 text-slate-900">
          {title}
        </h2>
        <p className="text-sm text-slate-500">{description}</p>
        {status}
      </div>
    </div>
  );
}

/**
 * A labelled control with a button beside it (Show, Now). Field wraps its input in the label,
 * which would make the button's text part of the input's name; here the label points at the input.
 */
function ControlRow({ label, error, hint, children, button }: { label: string; error?: string; hint?: string; children: (props: { id: string; describedBy?: string }) => ReactNode; button: ReactNode }) {
  const id = useId();
  const message = error ?? hint;
  return (
    <div>
      <label htmlFor={`${id}-input`} className="mb-1 block text-sm font-medium text-slate-700">
        {label}
      </label>
      <div className="relative flex gap-2">
        {children({ id: `${id}-input`, describedBy: message ? `${id}-message` : undefined })}
        {button}
      </div>
      {message ? (
        <p id={`${id}-message`} className={error ? 'mt-1 text-sm text-red-600' : 'mt-1 text-xs text-slate-500'}>
          {message}
        </p>
      ) : null}
    </div>
  );
}

function PasswordField({ value, onChange, error, hint, name }: { value: string; onChange: (value: string) => void; error?: string; hint?: string; name: string }) {
  const [isVisible, setIsVisible] = useState(false);
  return (
    <ControlRow
      label="Password"
      error={error}
      hint={hint}
      button={
        <button
        type="button"
          onClick={() => setIsVisible((v) => !v)}
          className="absolute inset-y-0 right-0 my-1 mr-1 rounded px-2 text-xs font-medium text-slate-500 transition hover:bg-slate-100 hover:text-slate-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
          aria-label={isVisible ? 'Hide password' : 'Show password'}
        >
          {isVisible ? 'Hide' : 'Show'}
        </button>
      }
    >
      {({ id, describedBy }) => (
        <TextInput
          id={id}
          aria-describedby={describedBy}
          name={name}
          type={isVisible ? 'text' : 'password'}
          autoComplete="new-password"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          invalid={!!error}
          className="pr-16"
        />
      )}
    </ControlRow>
  );
}

function AccountSection({
  side,
  number,
  values,
  errors,
  check,
  onChange,
}: {
  side: Side;
  number: number;
  values: AccountValues;
  errors: Errors;
  check: SideCheck | null;
  onChange: (patch: Partial<AccountValues>) => void;
}) {
  const id = useId();
  const [filledFrom, setFilledFrom] = useState<string | null>(null);
  const passwordField = useRef<HTMLDivElement>(null);
  const title = side === 'source' ? 'Source' : 'Target';
  const error = (field: keyof AccountValues) => errors[`${side}.${field}`];
  const isOffice365 = values.type === 'office365';
  const pick = (mailbox: HostedMailboxChoice) => {
    onChange({ type: mailbox.type, email: mailbox.email, username: mailbox.username, server: mailbox.server, password: '', groupwareUrl: '' });
    setFilledFrom(mailbox.email);
    // The password is the one thing left to type.
    setTimeout(() => passwordField.current?.querySelector('input')?.focus(), 0);
  };
  const failed = check && !check.ok ? check : null;
  return (
    <fieldset
      data-testid={`${side}-section`}
      aria-labelledby={`${id}-title`}
      aria-describedby={failed ? `${id}-failed` : undefined}
      className={`min-w-0 space-y-4 rounded-xl border p-4 transition sm:p-5 ${failed ? 'border-red-300 bg-red-50/40' : check?.ok ? 'border-emerald-200' : 'border-slate-200'}`}
    >
      <SectionHeading
        id={`${id}-title`}
        number={number}
        title={title}
        description={side === 'source' ? 'The mailbox to copy from.' : 'The mailbox to copy into.'}
        status={
          failed ? (
            <p id={`${id}-failed`} className="mt-2 flex items-start gap-1.5 text-sm font-medium text-red-700">
              <AlertIcon className="mt-0.5 h-4 w-4 flex-none" />
              <span>Login failed: {failed.message}</span>
            </p>
          ) : check?.ok ? (
            <p className="mt-2 flex items-center gap-1.5 text-sm font-medium text-emerald-700">
              <CheckCircleIcon className="h-4 w-4 flex-none" />
              Login works
            </p>
          ) : null
        }
      />
      <QuickSelection side={side} onPick={pick} />
      {filledFrom && filledFrom === values.email ? (
        <p className="-mt-2 text-xs text-slate-500">
          Filled from the hosted mailbox {filledFrom}. {isOffice365 ? '' : 'Type its password below.'}
        </p>
      ) : null}
      {/* Two columns while the sections are stacked; one when they stand side by side. */}
      <div className="grid gap-4 sm:grid-cols-2 xl:grid-cols-1">
        <Field label="Type">
          <select name={`${side}.type`} value={values.type} onChange={(e) => onChange({ type: e.target.value as AccountType })} className={selectClass}>
            {ACCOUNT_TYPES.map((type) => (
              <option key={type} value={type}>
                {ACCOUNT_TYPE_LABELS[type]}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Email address" error={error('email')}>
          <TextInput
            name={`${side}.email`}
            type="email"
            autoComplete="off"
            spellCheck={false}
            placeholder={side === 'source' ? 'anna@old-provider.example' : 'anna@new-provider.example'}
            value={values.email}
            invalid={!!error('email')}
            onChange={(e) => {
              const email = e.target.value;
              // The username is usually the address: follow it until someone types one.
              onChange(values.username === '' || values.username === values.email ? { email, username: email } : { email });
            }}
          />
        </Field>
        <Field label="Username" error={error('username')}>
          <TextInput
            name={`${side}.username`}
            autoComplete="off"
            spellCheck={false}
            value={values.username}
            invalid={!!error('username')}
            onChange={(e) => onChange({ username: e.target.value })}
          />
        </Field>
        <div ref={passwordField}>
          <PasswordField
            name={`${side}.password`}
            value={values.password}
            onChange={(password) => onChange({ password })}
            error={error('password')}
            hint={isOffice365 ? "Not needed: Microsoft 365 signs in with your organization's connection (see Information)." : undefined}
          />
        </div>
        <div className="sm:col-span-2 xl:col-span-1">
          <Field
            label={isOffice365 ? 'Server (optional)' : 'Server'}
            error={error('server')}
            hint={isOffice365 ? 'Leave empty for outlook.office365.com.' : 'mail.example.com, mail.example.com:993, imaps://… or imap://… (STARTTLS)'}
          >
            <TextInput
              name={`${side}.server`}
              autoComplete="off"
              spellCheck={false}
              placeholder={isOffice365 ? 'outlook.office365.com' : 'imap.example.com'}
              value={values.server}
              invalid={!!error('server')}
              onChange={(e) => onChange({ server: e.target.value })}
            />
          </Field>
        </div>
        {takesGroupwareAddress(values.type) ? (
          <div className="sm:col-span-2 xl:col-span-1">
            <Field
              label="Groupware address (optional)"
              error={error('groupwareUrl')}
              hint={
                values.type === 'exchange'
                  ? 'Only if Exchange Web Services are not found from the server above: the EWS address.'
                  : 'Only if calendars, contacts and tasks are not on the server above: its CalDAV/CardDAV address.'
              }
            >
              <TextInput
                name={`${side}.groupwareUrl`}
                type="url"
                autoComplete="off"
                spellCheck={false}
                placeholder={values.type === 'exchange' ? 'https://mail.example.com/EWS/Exchange.asmx' : 'https://dav.example.com/'}
                value={values.groupwareUrl}
                invalid={!!error('groupwareUrl')}
                onChange={(e) => onChange({ groupwareUrl: e.target.value })}
              />
            </Field>
          </div>
        ) : null}
      </div>
    </fieldset>
  );
}

/**
 * The migration form: source, target and timing. Validated in the browser with the schema the
 * server uses; the server then checks both logins. Nothing typed is lost when a login fails.
 */
export function MigrationForm({ zone }: { zone: { name: string; offset: string } }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [source, setSource] = useState<AccountValues>(emptyAccount);
  const [target, setTarget] = useState<AccountValues>(emptyAccount);
  const [startAt, setStartAt] = useState('');
  const [resyncAt, setResyncAt] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [failure, setFailure] = useState<CheckFailure | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const formId = useId();

  const create = useMutation(
    trpc.migrations.create.mutationOptions({
      onSuccess: (result) => {
        if (!result.ok) {
          setFailure(result);
          return;
        }
        void queryClient.invalidateQueries({ queryKey: trpc.migrations.pathKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.licensing.pathKey() });
        router.push(`/migrations?created=${result.migration.id}`);
        router.refresh();
      },
      onError: (error) => {
        const fields = (error.data as { zodError?: { fieldErrors?: Record<string, string[] | undefined> } } | undefined)?.zodError?.fieldErrors ?? {};
        const found = Object.fromEntries(Object.entries(fields).flatMap(([key, messages]) => (messages?.[0] ? [[key, messages[0]]] : [])));
        if (Object.keys(found).length > 0 && (found.startAt || found.resyncAt)) setErrors(found);
        else setProblem(error.message);
      },
    }),
  );

  // The same conversion as on the server, so a skipped or repeated hour shows while typing.
  const timing = useMemo(() => (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(startAt) ? resolveTiming({ startAt, resyncAt: resyncAt || null }, zone.name) : null), [startAt, resyncAt, zone.name]);
  const timingErrors = timing && !timing.ok ? timing.errors : {};

  const update = (side: Side) => (patch: Partial<AccountValues>) => {
    (side === 'source' ? setSource : setTarget)((values) => ({ ...values, ...patch }));
    setFailure(null);
    setProblem(null);
    const changed = new Set(Object.keys(patch).map((field) => `${side}.${field}`));
    setErrors((current) => Object.fromEntries(Object.entries(current).filter(([key]) => !changed.has(key))));
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    setFailure(null);
    setProblem(null);
    const parsed = migrationInputSchema.safeParse({ source: accountInput(source), target: accountInput(target), startAt, resyncAt });
    const found: Errors = {};
    if (!parsed.success) for (const issue of parsed.error.issues) found[issue.path.join('.')] ??= issue.message;
    if (timing && !timing.ok) Object.assign(found, Object.fromEntries(Object.entries(timing.errors).filter(([key]) => !found[key])));
    setErrors(found);
    if (!parsed.success || Object.keys(found).length > 0) return;
    create.mutate(parsed.data);
  }

  const checkOf = (side: Side) => (failure ? failure[side] : null);
  const startError = errors.startAt ?? timingErrors.startAt;
  const resyncError = errors.resyncAt ?? timingErrors.resyncAt;
  const zoneHint = `Dates and times are in the server's time zone: ${zone.name} (now UTC${zone.offset})`;

  return (
    <form onSubmit={submit} noValidate aria-label="New migration" className="space-y-5 p-3 sm:space-y-6 sm:p-6">
      <div className="grid gap-6 xl:grid-cols-2">
        <AccountSection side="source" number={1} values={source} errors={errors} check={checkOf('source')} onChange={update('source')} />
        <AccountSection side="target" number={2} values={target} errors={errors} check={checkOf('target')} onChange={update('target')} />
      </div>

      <fieldset data-testid="timing-section" aria-labelledby={`${formId}-timing`} className="min-w-0 space-y-4 rounded-xl border border-slate-200 p-4 sm:p-5">
        <SectionHeading id={`${formId}-timing`} number={3} title="Timing" description="When to copy, and optionally when to copy again what arrived since (the resync)." />
        <div className="grid gap-4 sm:grid-cols-2">
          <ControlRow
            label="Start"
            error={startError}
            hint={portalReading(startAt, zone.name)}
            button={
              <Button type="button" variant="secondary" onClick={() => setStartAt(localNow(zone.name))}>
                Now
              </Button>
            }
          >
            {({ id, describedBy }) => (
              <TextInput
                id={id}
                aria-describedby={describedBy}
                name="startAt"
                type="datetime-local"
                value={startAt}
                invalid={!!startError}
                className="min-w-0 flex-1"
                onChange={(e) => {
                  setStartAt(e.target.value);
                  setErrors(({ startAt: _start, ...rest }) => rest);
                }}
              />
            )}
          </ControlRow>
          <div>
            <Field label="Resync (optional)" error={resyncError} hint={portalReading(resyncAt, zone.name)}>
              <TextInput
                name="resyncAt"
                type="datetime-local"
                value={resyncAt}
                invalid={!!resyncError}
                className="min-w-0"
                onChange={(e) => {
                  setResyncAt(e.target.value);
                  setErrors(({ resyncAt: _resync, ...rest }) => rest);
                }}
              />
            </Field>
          </div>
        </div>
        <p className="flex items-center gap-1.5 text-xs text-slate-500" data-testid="time-zone">
          <ClockIcon />
          {zoneHint}
        </p>
        {timing?.ok && (timing.startsNow || timing.notes.length > 0) ? (
          <ul className="space-y-1 rounded-md bg-brand-50 px-3 py-2 text-sm text-brand-900">
            {timing.startsNow ? (
              <li className="flex gap-2">
                <InfoIcon className="mt-0.5 h-4 w-4 flex-none opacity-70" />
                The start is not in the future: the migration starts as soon as it is accepted.
              </li>
            ) : null}
            {timing.notes.map((note) => (
              <li key={note} className="flex gap-2">
                <InfoIcon className="mt-0.5 h-4 w-4 flex-none opacity-70" />
                {note}
              </li>
            ))}
          </ul>
        ) : null}
      </fieldset>

      {failure || problem ? (
        <div role="alert" className="flex gap-3 rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
          <AlertIcon className="mt-0.5 h-5 w-5 flex-none text-red-500" />
          {failure ? (
            <div className="min-w-0">
              <p className="font-semibold text-red-900">
                Login check failed: {failure.failed === 'both' ? 'source and target' : failure.failed}
              </p>
              <ul className="mt-1 space-y-0.5">
                {(['source', 'target'] as const).map((side) => {
                  const check = failure[side];
                  return check.ok ? null : (
                    <li key={side}>
                      <span className="font-medium">{side === 'source' ? 'Source' : 'Target'}:</span> {check.message}
                    </li>
                  );
                })}
              </ul>
              <p className="mt-1 text-red-700">Nothing was saved and no migration was used. Correct the {failure.failed === 'both' ? 'accounts' : `${failure.failed} account`} and submit again.</p>
            </div>
          ) : (
            <p className="min-w-0">{problem}</p>
          )}
        </div>
      ) : null}

      <div className="flex flex-col-reverse items-stretch gap-3 border-t border-slate-100 pt-5 sm:flex-row sm:items-center sm:justify-between">
        <p className="text-xs text-slate-500">Both logins are checked before the migration is accepted. Passwords are stored encrypted and deleted when the migration ends.</p>
        <Button type="submit" disabled={create.isPending} className="sm:flex-none">
          {create.isPending ? 'Checking logins…' : 'Check logins and schedule'}
        </Button>
      </div>
    </form>
  );
}
