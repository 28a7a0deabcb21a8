'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Alert, Button } from '@/components/form';
import { OrganizationForm } from '@/components/organization-form';
import { OrganizationTable } from '@/components/organization-table';
import { Card, PageHeader } from '@/components/page-header';
import { useTRPC } from '@/components/trpc-provider';

type Open = 'reseller' | 'customer' | null;

export function OrganizationsAdmin() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState<Open>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const list = useQuery(trpc.admin.listOrganizations.queryOptions());
  const onCreated = (name: string) => {
    setOpen(null);
    setNotice(`${name} was created. Its first user can sign in now.`);
    void queryClient.invalidateQueries({ queryKey: trpc.admin.listOrganizations.queryKey() });
  };
  const createReseller = useMutation(trpc.admin.createReseller.mutationOptions({ onSuccess: (org) => onCreated(org.name) }));
  const createCustomer = useMutation(trpc.admin.createCustomer.mutationOptions({ onSuccess: (org) => onCreated(org.name) }));
  const resellers = (list.data ?? []).filter((o) => o.kind === 'reseller').map((o) => ({ id: o.id, name: o.name }));

  return (
    <>
      <PageHeader
        title="Organizations"
        description="Resellers sell licence keys to their customers; customers run migrations. Each organization only ever sees its own data."
        actions={
          <>
            <Button variant="secondary" onClick={() => { setOpen('reseller'); setNotice(null); createReseller.reset(); }}>
              New reseller
            </Button>
            <Button onClick={() => { setOpen('customer'); setNotice(null); createCustomer.reset(); }}>New customer</Button>
          </>
        }
      />
      {notice ? <div className="mb-4"><Alert tone="success">{notice}</Alert></div> : null}
      {open === 'reseller' ? (
        <Card className="mb-6">
          <OrganizationForm
            title="New reseller"
            submitLabel="Create reseller"
            pending={createReseller.isPending}
            serverError={createReseller.error?.message ?? null}
            onSubmit={(values) => createReseller.mutate({ name: values.name, user: values.user })}
            onCancel={() => setOpen(null)}
          />
        </Card>
      ) : null}
      {open === 'customer' ? (
        <Card className="mb-6">
          <OrganizationForm
            title="New customer"
            submitLabel="Create customer"
            resellers={resellers}
            pending={createCustomer.isPending}
            serverError={createCustomer.error?.message ?? null}
            onSubmit={(values) => createCustomer.mutate(values)}
            onCancel={() => setOpen(null)}
          />
        </Card>
      ) : null}
      <Card className="overflow-hidden">
        {list.isLoading ? (
          <p className="px-6 py-12 text-center text-sm text-slate-500">Loading…</p>
        ) : list.error ? (
          <div className="p-6"><Alert>{list.error.message}</Alert></div>
        ) : (
          <OrganizationTable
            rows={list.data ?? []}
            showKind
            empty={{
              title: 'No organizations yet',
              description: 'Create a reseller to sell migrations through partners, or a customer to run migrations directly.',
            }}
          />
        )}
      </Card>
    </>
  );
}
