import type { Metadata } from 'next';
import { requirePageUser } from '@/server/auth/page-guard';
import { NetworkSettingsForm } from './network-settings-form';

export const metadata: Metadata = { title: 'Settings' };

export default async function AdminSettingsPage() {
  await requirePageUser(['admin']);
  return <NetworkSettingsForm />;
}
