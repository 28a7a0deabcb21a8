import type { Metadata } from 'next';
import { requirePageUser } from '@/server/auth/page-guard';
import { serverTimeZone } from '@/server/portal/time-zone';
import { AuditLog } from './audit-log';

export const metadata: Metadata = { title: 'Audit log' };

export default async function AdminAuditPage() {
  await requirePageUser(['admin']);
  return <AuditLog zone={serverTimeZone()} />;
}
