'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Alert, Button } from '@/components/form';
import { OrganizationForm } from '@/components/organization-form';
import { Card, PageHeader } from '@/components/page-header';
import { useTRPC } from '@/components/trpc-provider';
import { CustomerTable } from './customer-table';

export function ResellerCustomers() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const list = useQuery(trpc.reseller.listCustomers.queryOptions());
  const counts = useQuery(trpc.reseller.migrationCounts.queryOptions());
  const create = useMutation(
    trpc.reseller.createCustomer.mutationOptions({
      onSuccess: (org) => {
        setOpen(false);
        setNotice(`${org.name} was created. Its first user can sign in now.`);
        void queryClient.invalidateQueries({ queryKey: trpc.reseller.listCustomers.queryKey() });
      },
    }),
  );
  return (
    <>
      <PageHeader
        title="Customers"
        description="The hosting customers you sell migrations to, with how many of their migrations are active, finished and failed. Each customer signs in with its own users and sees only its own migrations."
        actions={<Button onClick={() => { setOpen(true); setNotice(null); create.reset(); }}>New customer</Button>}
      />
      {notice ? <div className="mb-4"><Alert tone="success">{notice}</Alert></div> : null}
      {open ? (
        <Card className="mb-6">
          <OrganizationForm
            title="New customer"
            submitLabel="Create customer"
            pending={create.isPending}
            serverError={create.error?.message ?? null}
            onSubmit={(values) => create.mutate({ name: values.name, user: values.user })}
            onCancel={() => setOpen(false)}
          />
        </Card>
      ) : null}
      <Card className="overflow-hidden">
        {list.isLoading ? (
          <p className="px-6 py-12 text-center text-sm text-slate-500">Loading…</p>
        ) : list.error ? (
          <div className="p-6"><Alert>{list.error.message}</Alert></div>
        ) : (
          <CustomerTable
            rows={list.data ?? []}
            counts={counts.data}
            empty={{
              title: 'No customers yet',
              description: 'Create your first customer. Its first user signs in with the password you set and can start migrating right away.',
              action: open ? null : <Button onClick={() => { setOpen(true); setNotice(null); create.reset(); }}>New customer</Button>,
            }}
          />
        )}
      </Card>
    </>
  );
}
