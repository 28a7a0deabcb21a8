import { getSessionUser } from '@/server/auth/session';
import { db } from '@/server/db';
import { finishedExportResponse } from '@/server/migrations/finished-export';
import { serverTimeZoneName } from '@/server/portal/time-zone';

export const dynamic = 'force-dynamic';

export async function GET(request: Request) {
  return finishedExportResponse(db, await getSessionUser(), new URL(request.url), serverTimeZoneName());
}
