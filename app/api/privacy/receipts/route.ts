import { getSessionUser } from '@/server/auth/session';
import { db } from '@/server/db';
import { receiptsDocument, receiptsFileName, receiptsOrganizationFor } from '@/server/privacy/receipt-views';
import { DomainError } from '@/server/users/errors';

export const dynamic = 'force-dynamic';

const plain = (status: number, text: string) => new Response(`${text}\n`, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' } });

/** The organization's deletion receipts as a JSON download; admins add ?organizationId=. */
export async function GET(request: Request): Promise<Response> {
  const user = await getSessionUser();
  if (!user) return plain(401, 'Sign in to download the deletion receipts.');
  let organization: { id: string; name: string };
  try {
    organization = await receiptsOrganizationFor(db, user, new URL(request.url).searchParams.get('organizationId'));
  } catch (error) {
    if (error instanceof DomainError) return plain(error.meaning === 'invalid' ? 400 : 404, error.message);
    throw error;
  }
  const now = new Date();
  const document = await receiptsDocument(db, organization, now);
  return new Response(`${JSON.stringify(document, null, 2)}\n`, {
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Disposition': `attachment; filename="${receiptsFileName(organization.id, now)}"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    },
  });
}
