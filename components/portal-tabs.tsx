'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import type { PortalTab } from '@/server/portal/tabs';

/** The longest tab href that prefixes the path is the active one (so /migrations/new ≠ /migrations). */
function activeHref(tabs: PortalTab[], pathname: string): string | undefined {
  return tabs
    .filter((tab) => pathname === tab.href || pathname.startsWith(`${tab.href}/`))
    .sort((a, b) => b.href.length - a.href.length)[0]?.href;
}

export function PortalTabs({ tabs }: { tabs: PortalTab[] }) {
  const pathname = usePathname();
  const active = activeHref(tabs, pathname);
  return (
    <nav aria-label="Sections" className="-mb-px flex gap-0.5 overflow-x-auto sm:gap-1">
      {tabs.map((tab) => {
        const isActive = tab.href === active;
        return (
          <Link
            key={tab.href}
            href={tab.href}
            aria-current={isActive ? 'page' : undefined}
            className={`whitespace-nowrap border-b-2 px-2 py-3 text-sm font-medium transition focus:outline-none focus-visible:bg-slate-100 sm:px-3 ${
              isActive ? 'border-brand-600 text-brand-700' : 'border-transparent text-slate-500 hover:border-slate-300 hover:text-slate-800'
            }`}
          >
            {tab.label}
          </Link>
        );
      })}
    </nav>
  );
}
