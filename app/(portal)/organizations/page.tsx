import { redirect } from 'next/navigation';
import { requirePageUser } from '@/server/auth/page-guard';

/** "Organization" in the user menu: a reseller's or customer's own organization; admins have the list. */
export default async function OwnOrganizationPage() {
  const user = await requirePageUser();
  redirect(user.organization ? `/organizations/${user.organization.id}` : '/admin/organizations');
}
