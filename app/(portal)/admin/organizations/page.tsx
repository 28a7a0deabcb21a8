import type { Metadata } from 'next';
import { requirePageUser } from '@/server/auth/page-guard';
import { OrganizationsAdmin } from './organizations-admin';

export const metadata: Metadata = { title: 'Organizations' };

export default async function AdminOrganizationsPage() {
  await requirePageUser(['admin']);
  return <OrganizationsAdmin />;
}
