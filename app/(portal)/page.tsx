import { redirect } from 'next/navigation';
import { requirePageUser } from '@/server/auth/page-guard';
import { portalTabs } from '@/server/portal/tabs';

export const dynamic = 'force-dynamic';

export default async function PortalHome() {
  const user = await requirePageUser();
  redirect(portalTabs(user, 'free')[0]!.href);
}
