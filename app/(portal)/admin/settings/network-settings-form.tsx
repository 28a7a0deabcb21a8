'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Alert, Button, Field } from '@/components/form';
import { Card, PageHeader } from '@/components/page-header';
import { useTRPC } from '@/components/trpc-provider';

const textareaClass =
  'block w-full rounded-md border border-slate-300 bg-white px-3 py-2 font-mono text-sm shadow-sm outline-none placeholder:text-slate-400 focus:border-brand-500 focus:ring-2 focus:ring-brand-100 disabled:bg-slate-50 disabled:text-slate-400';

function EnvironmentNote({ value }: { value: string }) {
  if (!value) return null;
  return (
    <p className="mt-1 text-xs text-slate-500">
      Also in force from the environment: <code className="rounded bg-slate-100 px-1 py-0.5">{value}</code>
    </p>
  );
}

export function NetworkSettingsForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const settings = useQuery(trpc.settings.network.queryOptions());
  const [allowedHosts, setAllowedHosts] = useState('');
  const [insecureHosts, setInsecureHosts] = useState('');
  const [trustedCaPem, setTrustedCaPem] = useState('');
  const [saved, setSaved] = useState(false);
  // The fields start from each newly loaded version of the settings (React's "adjust state
  // when a prop changes" pattern, instead of an effect that renders twice).
  const [loaded, setLoaded] = useState<typeof settings.data>(undefined);
  if (settings.data && settings.data !== loaded) {
    setLoaded(settings.data);
    setAllowedHosts(settings.data.allowedHosts);
    setInsecureHosts(settings.data.insecureHosts);
    setTrustedCaPem(settings.data.trustedCaPem ?? '');
  }
  const update = useMutation(
    trpc.settings.updateNetwork.mutationOptions({
      onSuccess: () => {
        setSaved(true);
        void queryClient.invalidateQueries({ queryKey: trpc.settings.network.queryKey() });
      },
    }),
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    update.mutate({ allowedHosts, insecureHosts, trustedCaPem: trustedCaPem.trim() ? trustedCaPem : null });
  }

  return (
    <>
      <PageHeader
        title="Settings"
        description="Which mail servers Mailferry may connect to. By default only public servers on mail, DAV and HTTPS ports are reachable, over TLS with verified certificates."
      />
      <Card>
        <form onSubmit={submit} className="space-y-6 p-6">
          <h2 className="text-base font-semibold text-slate-900">Network policy for account servers</h2>
          {update.error ? <Alert>{update.error.message}</Alert> : null}
          {saved ? <Alert tone="success">The network policy was saved. It applies to the next check or migration.</Alert> : null}
          <Field label="Allowed private hosts" hint="Private servers Mailferry may reach, one per line: a host name, an IP address or a network (CIDR), each with an optional :port. Example: mail.internal:993 or 10.1.0.0/16">
            <textarea rows={4} disabled={settings.isLoading} value={allowedHosts} onChange={(e) => setAllowedHosts(e.target.value)} className={textareaClass} placeholder={'mail.internal:993\n10.1.0.0/16'} />
          </Field>
          <EnvironmentNote value={settings.data?.fromEnvironment.allowedHosts ?? ''} />
          <Field label="Insecure hosts" hint="Servers where unencrypted connections and unverified certificates are accepted. Use only for test systems on a trusted network.">
            <textarea rows={3} disabled={settings.isLoading} value={insecureHosts} onChange={(e) => setInsecureHosts(e.target.value)} className={textareaClass} placeholder="legacy-mail.internal" />
          </Field>
          <EnvironmentNote value={settings.data?.fromEnvironment.insecureHosts ?? ''} />
          <Field label="Trusted certificate authorities" hint="PEM certificates of private CAs that signed your servers' certificates. Public CAs are always trusted.">
            <textarea rows={6} disabled={settings.isLoading} value={trustedCaPem} onChange={(e) => setTrustedCaPem(e.target.value)} className={textareaClass} placeholder="-----BEGIN CERTIFICATE-----" />
          </Field>
          {settings.data?.fromEnvironment.trustedCaFile ? <EnvironmentNote value={settings.data.fromEnvironment.trustedCaFile} /> : null}
          <div className="flex justify-end">
            <Button type="submit" disabled={update.isPending || settings.isLoading}>
              {update.isPending ? 'Saving…' : 'Save'}
            </Button>
          </div>
        </form>
      </Card>
    </>
  );
}
