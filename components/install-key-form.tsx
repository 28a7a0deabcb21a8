'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useId, useState, type FormEvent } from 'react';
import { KEY_PLACEHOLDER, parseKey } from '@/server/licensing/key-format';
import { Alert, Button } from './form';
import { useTRPC } from './trpc-provider';

/** Where the form leaves how many free migrations were unused when the first key went in (for the welcome notice). */
export const UNUSED_FREE_KEY = 'mailferry:unused-free';

/**
 * Install key: the key is checked in the browser first (format and check character, so a typo
 * never leaves the page), then validated and registered on the server in one step.
 */
export function InstallKeyForm({ afterFirstLicence = '/licenses', unusedFree = 0 }: { afterFirstLicence?: string; unusedFree?: number }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const id = useId();
  const [key, setKey] = useState('');
  const [localError, setLocalError] = useState<string | null>(null);
  const [installed, setInstalled] = useState<string | null>(null);
  const install = useMutation(
    trpc.licensing.install.mutationOptions({
      onSuccess: (result) => {
        setKey('');
        void queryClient.invalidateQueries({ queryKey: trpc.licensing.pathKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.organization.pathKey() });
        if (result.becameCommercial) {
          // The tabs change with the mode: go where the licence shows.
          // The welcome notice on that page says once more what became of the unused free migrations.
          try {
            window.sessionStorage.setItem(UNUSED_FREE_KEY, String(unusedFree));
          } catch {
            // Storage switched off: the notice just does not repeat it.
          }
          router.push(`${afterFirstLicence}?installed=${result.licence.size}`);
        } else {
          setInstalled(
            `Licence ${result.licence.maskedKey} installed: ${result.licence.size} migrations added. You now have ${result.quota.remaining} / ${result.quota.total} migrations remaining.`,
          );
        }
        router.refresh();
      },
    }),
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    setInstalled(null);
    install.reset();
    const parsed = parseKey(key);
    if (!parsed.ok) {
      setLocalError(parsed.message);
      return;
    }
    setLocalError(null);
    setKey(parsed.key);
    install.mutate({ key: parsed.key });
  }

  const error = localError ?? install.error?.message ?? null;
  return (
    <form onSubmit={submit} noValidate className="space-y-3" aria-label="Install key">
      <label htmlFor={`${id}-key`} className="block text-sm font-medium text-slate-700">
        Licence key
      </label>
      <div className="flex flex-col gap-2">
        <input
          id={`${id}-key`}
          name="key"
          value={key}
          onChange={(e) => {
            setKey(e.target.value);
            setLocalError(null);
          }}
          placeholder={KEY_PLACEHOLDER}
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          aria-invalid={error ? true : undefined}
          aria-describedby={`${id}-hint`}
          className={`block w-full min-w-0 rounded-md border bg-white px-3 py-2 font-mono text-sm uppercase tracking-wider shadow-sm outline-none transition placeholder:normal-case placeholder:tracking-wider placeholder:text-slate-400 focus:ring-2 ${
            error ? 'border-red-400 focus:border-red-500 focus:ring-red-100' : 'border-slate-300 focus:border-brand-500 focus:ring-brand-100'
          }`}
        />
        <Button type="submit" disabled={install.isPending} className="w-full">
          {install.isPending ? 'Installing…' : 'Install key'}
        </Button>
      </div>
      {error ? (
        <div id={`${id}-hint`}>
          <Alert>{error}</Alert>
        </div>
      ) : (
        <p id={`${id}-hint`} className="text-xs text-slate-500">
          Upper or lower case, with or without dashes. Each key can be installed once.
        </p>
      )}
      {installed ? <Alert tone="success">{installed}</Alert> : null}
    </form>
  );
}
