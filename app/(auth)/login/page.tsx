import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { Logo } from '@/components/logo';
import { currentUser } from '@/server/auth/page-guard';
import { LoginForm } from './login-form';

export const metadata: Metadata = { title: 'Sign in' };
export const dynamic = 'force-dynamic';

export default async function LoginPage() {
  if (await currentUser()) redirect('/');
  return (
    <main className="flex min-h-screen flex-col items-center bg-gradient-to-b from-brand-50 to-slate-50 px-4 pb-12 pt-[12vh] sm:pt-[18vh]">
      <div className="w-full max-w-sm">
        <div className="mb-8 flex justify-center">
          <Logo className="scale-125" />
        </div>
        <div className="rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
          <h1 className="text-xl font-semibold text-slate-900">Sign in</h1>
          <p className="mt-1 text-sm text-pretty text-slate-500">Move mailboxes between servers, safely and completely.</p>
          <LoginForm />
        </div>
        <p className="mt-6 text-center text-xs text-balance text-slate-500">Forgot your password? Ask your administrator, or whoever set up your account, to set a new one.</p>
      </div>
    </main>
  );
}
