import type { Metadata } from 'next';
import { MigrationPage } from '../../[id]/migration-page';

export const metadata: Metadata = { title: 'Finished migration' };

/** An ended migration (commercial mode): what was copied, what was not and why. */
export default async function FinishedMigrationPage({ params }: { params: Promise<{ id: string }> }) {
  return <MigrationPage id={(await params).id} under="finished" />;
}
