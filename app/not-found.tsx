import type { Metadata } from 'next';
import Link from 'next/link';
import { Logo } from '@/components/logo';

export const metadata: Metadata = { title: 'Page not found' };

/** Addresses that match no page at all (signed in or not). */
export default function NotFound() {
  return (
    <main className="flex min-h-screen flex-col items-center justify-center bg-gradient-to-b from-brand-50 to-slate-50 px-4 text-center">
      <Logo className="mb-10" />
      <p className="text-sm font-semibold text-brand-600">404</p>
      <h1 className="mt-2 text-2xl font-semibold tracking-tight text-slate-900">This page could not be found</h1>
      <p className="mt-2 max-w-sm text-sm text-slate-600">The address may be mistyped, or the page may have moved.</p>
      <Link
        href="/"
        className="mt-8 inline-flex items-center justify-center rounded-md bg-brand-600 px-4 py-2 text-sm font-medium text-white shadow-sm transition hover:bg-brand-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500 focus-visible:ring-offset-2"
      >
        Go to the start page
      </Link>
    </main>
  );
}
