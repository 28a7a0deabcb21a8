import Link from 'next/link';
import type { ReactNode } from 'react';
import { Logo } from '@/components/logo';
import { PortalTabs } from '@/components/portal-tabs';
import { UserMenu } from '@/components/user-menu';
import { currentMode, requirePageUser } from '@/server/auth/page-guard';
import { portalTabs } from '@/server/portal/tabs';

export const dynamic = 'force-dynamic';

export default async function PortalLayout({ children }: { children: ReactNode }) {
  const user = await requirePageUser();
  const mode = user.role === 'customer' && user.organization ? await currentMode(user.organization.id) : null;
  const tabs = portalTabs(user, mode);
  return (
    <div className="flex min-h-screen flex-col">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl items-center justify-between gap-4 px-4 py-3 sm:px-6">
          <div className="flex min-w-0 items-center gap-3 sm:gap-4">
            <Link href="/" aria-label="Mailferry home">
              <Logo />
            </Link>
            {mode ? (
              <span className={`rounded-full px-2.5 py-0.5 text-xs font-medium ${mode === 'free' ? 'bg-amber-50 text-amber-800 ring-1 ring-amber-200' : 'bg-emerald-50 text-emerald-800 ring-1 ring-emerald-200'}`}>
                {mode === 'free' ? 'Free mode' : 'Commercial'}
              </span>
            ) : null}
          </div>
          <UserMenu name={user.name} email={user.email} role={user.role} organization={user.organization?.name ?? null} />
        </div>
        <div className="mx-auto max-w-6xl px-2 sm:px-3">
          <PortalTabs tabs={tabs} />
        </div>
      </header>
      <main className="mx-auto w-full max-w-6xl flex-1 px-4 py-6 sm:px-6 sm:py-8">{children}</main>
      <footer className="border-t border-slate-200 bg-white">
        <div className="mx-auto max-w-6xl px-4 py-4 text-xs text-slate-500 sm:px-6">Mailferry · email migration portal</div>
      </footer>
    </div>
  );
}
