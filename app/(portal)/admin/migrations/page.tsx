import type { Metadata } from 'next';
import { requirePageUser } from '@/server/auth/page-guard';
import { serverTimeZone } from '@/server/portal/time-zone';
import { AllMigrations } from './all-migrations';

export const metadata: Metadata = { title: 'All migrations' };

export default async function AdminMigrationsPage() {
  await requirePageUser(['admin']);
  return <AllMigrations zone={serverTimeZone()} />;
}
