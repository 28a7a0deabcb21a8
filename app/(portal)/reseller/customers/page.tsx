import type { Metadata } from 'next';
import { requirePageUser } from '@/server/auth/page-guard';
import { ResellerCustomers } from './reseller-customers';

export const metadata: Metadata = { title: 'Customers' };

export default async function ResellerCustomersPage() {
  await requirePageUser(['reseller']);
  return <ResellerCustomers />;
}
