import type { Metadata } from 'next';
import { requirePageUser } from '@/server/auth/page-guard';
import { AccountPage } from './account-page';

export const metadata: Metadata = { title: 'Account' };

/** The signed-in user's own name and password, for every role; a customer's migration e-mails too. */
export default async function AccountRoute() {
  await requirePageUser();
  return <AccountPage />;
}
