import type { Metadata } from 'next';
import { requirePageUser } from '@/server/auth/page-guard';
import { HostedMailboxesAdmin } from './hosted-mailboxes-admin';

export const metadata: Metadata = { title: 'Hosted mailboxes' };

export default async function AdminHostedMailboxesPage() {
  await requirePageUser(['admin']);
  return <HostedMailboxesAdmin />;
}
