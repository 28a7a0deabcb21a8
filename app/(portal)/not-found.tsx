import Link from 'next/link';
import { Card } from '@/components/page-header';

/**
 * A page of another role, or an address inside the portal that does not exist. Shown inside
 * the signed-in shell, so the tabs lead on; it does not say whether the page exists for others.
 */
export default function PortalNotFound() {
  return (
    <Card>
      <div className="flex flex-col items-center px-6 py-16 text-center">
        <p className="text-sm font-semibold text-brand-600">404</p>
        <h1 className="mt-2 text-xl font-semibold tracking-tight text-slate-900">This page could not be found</h1>
        <p className="mt-2 max-w-md text-sm text-slate-600">
          It does not exist, or it is not part of your account. Use the tabs above to continue.
        </p>
        <Link
          href="/"
          className="mt-6 inline-flex items-center justify-center rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-medium text-slate-700 shadow-sm transition hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500 focus-visible:ring-offset-2"
        >
          Back to your start page
        </Link>
      </div>
    </Card>
  );
}
