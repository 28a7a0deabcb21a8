'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { PortalTab } from '@/server/portal/tabs';

/** The longest tab href that prefixes the path is the active one (so /migrations/new ≠ /migrations). */
function activeHref(tabs: PortalTab[], pathname: string): string | undefined {
  return tabs
    .filter((tab) => pathname === tab.href || pathname.startsWith(`${tab.href}/`))
    .sort((a, b) => b.href.length - a.href.length)[0]?.href;
}

/** Width of the fading edge (w-12) plus a little air. */
const EDGE_WIDTH = 56;

// useLayoutEffect warns during server rendering; the scroll position only exists in the browser.
const useBrowserLayoutEffect = typeof window === 'undefined' ? useEffect : useLayoutEffect;

function Chevron({ direction }: { direction: 'left' | 'right' }) {
  return (
    <svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true" className="h-4 w-4">
      <path
        fillRule="evenodd"
        clipRule="evenodd"
        d={
          direction === 'right'
            ? 'M7.2 14.8a.75.75 0 0 1 0-1.06L10.94 10 7.2 6.27a.75.75 0 1 1 1.06-1.06l4.27 4.26a.75.75 0 0 1 0 1.06l-4.27 4.27a.75.75 0 0 1-1.06 0Z'
            : 'M12.8 5.2a.75.75 0 0 1 0 1.06L9.06 10l3.74 3.73a.75.75 0 1 1-1.06 1.06L7.47 10.53a.75.75 0 0 1 0-1.06l4.27-4.27a.75.75 0 0 1 1.06 0Z'
        }
      />
    </svg>
  );
}

/**
 * The section tabs. On a phone they do not all fit: the bar scrolls sideways, the active tab is
 * scrolled into view, and an edge with an arrow on each side that hides tabs says there are more
 * (a tap on it scrolls there).
 */
export function PortalTabs({ tabs }: { tabs: PortalTab[] }) {
  const pathname = usePathname();
  const active = activeHref(tabs, pathname);
  const navRef = useRef<HTMLElement>(null);
  const [hidden, setHidden] = useState({ left: false, right: false });

  const measure = useCallback(() => {
    const nav = navRef.current;
    if (!nav) return;
    // One pixel of slack: scroll positions are fractional on zoomed or high-density screens.
    setHidden({ left: nav.scrollLeft > 1, right: nav.scrollLeft + nav.clientWidth < nav.scrollWidth - 1 });
  }, []);

  useBrowserLayoutEffect(() => {
    const nav = navRef.current;
    const current = nav?.querySelector<HTMLElement>('[aria-current="page"]');
    if (nav && current) {
      // Only the bar scrolls (scrollIntoView would move the page too), and far enough that the
      // active tab is clear of the fading edge; the browser clamps at either end.
      const left = current.offsetLeft - nav.offsetLeft;
      const right = left + current.offsetWidth;
      if (left < nav.scrollLeft + EDGE_WIDTH) nav.scrollLeft = left - EDGE_WIDTH;
      else if (right > nav.scrollLeft + nav.clientWidth - EDGE_WIDTH) nav.scrollLeft = right - nav.clientWidth + EDGE_WIDTH;
    }
    measure();
  }, [active, measure]);

  useEffect(() => {
    const nav = navRef.current;
    if (!nav) return;
    const observer = new ResizeObserver(measure);
    observer.observe(nav);
    return () => observer.disconnect();
  }, [measure]);

  const scrollBy = (direction: -1 | 1) => {
    const nav = navRef.current;
    nav?.scrollBy({ left: direction * Math.max(120, nav.clientWidth * 0.6), behavior: 'smooth' });
  };

  return (
    <div className="relative">
      <nav ref={navRef} aria-label="Sections" onScroll={measure} className="-mb-px flex gap-0.5 overflow-x-auto [scrollbar-width:none] sm:gap-1 [&::-webkit-scrollbar]:hidden">
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
      {(['left', 'right'] as const).map((side) =>
        hidden[side] ? (
          <button
            key={side}
            type="button"
            tabIndex={-1}
            data-testid={`tabs-more-${side}`}
            aria-label={side === 'left' ? 'Earlier sections' : 'More sections'}
            onClick={() => scrollBy(side === 'left' ? -1 : 1)}
            className={`absolute inset-y-0 ${side === 'left' ? 'left-0 justify-start bg-gradient-to-r pl-0.5' : 'right-0 justify-end bg-gradient-to-l pr-0.5'} flex w-12 items-center from-white via-white/90 to-transparent text-slate-500`}
          >
            <Chevron direction={side} />
          </button>
        ) : null,
      )}
    </div>
  );
}
