import type { Metadata } from 'next';
import { MigrationPage } from './migration-page';

export const metadata: Metadata = { title: 'Migration' };

/** One migration: progress, every folder, what was not copied and why, renamed folders, notices. */
export default async function ActiveMigrationPage({ params }: { params: Promise<{ id: string }> }) {
  return <MigrationPage id={(await params).id} under="active" />;
}
