import { getSessionUser } from '@/server/auth/session';
import { db } from '@/server/db';
import { reportResponse } from '@/server/migrations/report';
import { serverTimeZoneName } from '@/server/portal/time-zone';

export const dynamic = 'force-dynamic';

/** A migration's report as a download: ?format=csv (default) or json. */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await params;
  const format = new URL(request.url).searchParams.get('format');
  return reportResponse(db, await getSessionUser(), id, format, serverTimeZoneName());
}
