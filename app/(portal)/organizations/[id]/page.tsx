import { TRPCError } from '@trpc/server';
import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { requirePageUser } from '@/server/auth/page-guard';
import { getServerCaller } from '@/server/trpc/server-caller';
import { OrganizationPage } from './organization-page';

export const metadata: Metadata = { title: 'Organization' };

/** One organization and its users, for whoever manages it; anyone else finds no such page. */
export default async function OrganizationDetailPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requirePageUser();
  const { id } = await params;
  try {
    await (await getServerCaller()).manage.organization({ id });
  } catch (error) {
    if (error instanceof TRPCError && (error.code === 'NOT_FOUND' || error.code === 'BAD_REQUEST')) notFound();
    throw error;
  }
  const back =
    user.role === 'admin'
      ? { href: '/admin/organizations', label: 'Organizations' }
      : user.role === 'reseller' && user.organization?.id !== id
        ? { href: '/reseller/customers', label: 'Customers' }
        : null;
  return <OrganizationPage id={id} currentUserId={user.id} back={back} isAdmin={user.role === 'admin'} />;
}
