import type { Metadata } from 'next';
import { LicenceKeysManager } from '@/components/licence-keys-manager';
import { requirePageUser } from '@/server/auth/page-guard';

export const metadata: Metadata = { title: 'Licence keys' };

export default async function AdminKeysPage() {
  await requirePageUser(['admin']);
  return <LicenceKeysManager isAdmin />;
}
