'use client';

import Link from 'next/link';
import { signOut } from 'next-auth/react';
import { useEffect, useRef, useState } from 'react';

const roleLabel = { admin: 'Administrator', reseller: 'Reseller', customer: 'Customer' } as const;
const itemClass = 'block w-full px-4 py-2 text-left text-sm text-slate-700 outline-none hover:bg-slate-50 focus-visible:bg-slate-100';

export function UserMenu({ name, email, role, organization }: { name: string | null; email: string; role: keyof typeof roleLabel; organization: string | null }) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open) return;
    // Keyboard users land in the menu on its most used item, and Escape brings them back to the button.
    ref.current?.querySelector<HTMLElement>('[data-menu-default]')?.focus();
    const close = (event: MouseEvent | KeyboardEvent) => {
      if (event instanceof KeyboardEvent) {
        if (event.key !== 'Escape') return;
        setOpen(false);
        trigger.current?.focus();
      } else if (!ref.current?.contains(event.target as Node)) {
        setOpen(false);
      }
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);
  const initials = (name ?? email).split(/[\s@.]+/).filter(Boolean).slice(0, 2).map((p) => p[0]!.toUpperCase()).join('');
  return (
    <div className="relative" ref={ref}>
      <button
        ref={trigger}
        type="button"
        onClick={() => setOpen((v) => !v)}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-label="Account menu"
        className="flex items-center gap-3 rounded-full py-1 pl-1 pr-3 text-left transition hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
      >
        <span className="flex h-8 w-8 items-center justify-center rounded-full bg-brand-100 text-xs font-semibold text-brand-700">{initials}</span>
        <span className="hidden sm:block">
          <span className="block text-sm font-medium leading-tight text-slate-800">{name ?? email}</span>
          <span className="block text-xs leading-tight text-slate-500">{organization ?? (name ? email : roleLabel[role])}</span>
        </span>
      </button>
      {open ? (
        <div role="menu" aria-label="Account" className="absolute right-0 z-20 mt-2 w-72 max-w-[calc(100vw-2rem)] rounded-lg border border-slate-200 bg-white py-2 shadow-lg">
          <div className="px-4 pb-2">
            {name ? <p className="text-sm font-medium text-slate-800">{name}</p> : null}
            <p className={`text-sm [overflow-wrap:anywhere] ${name ? 'text-slate-600' : 'font-medium text-slate-800'}`}>{email}</p>
            <p className="mt-1 text-xs text-slate-500">
              {roleLabel[role]}
              {organization ? ` · ${organization}` : ''}
            </p>
          </div>
          <div className="my-1 border-t border-slate-100" />
          <Link href="/account" role="menuitem" onClick={() => setOpen(false)} className={itemClass}>
            Account
          </Link>
          {organization ? (
            <Link href="/organizations" role="menuitem" onClick={() => setOpen(false)} className={itemClass}>
              Organization and users
            </Link>
          ) : null}
          <button
            type="button"
            role="menuitem"
            data-menu-default
            onClick={() => void signOut({ callbackUrl: '/login' })}
            className={itemClass}
          >
            Sign out
          </button>
        </div>
      ) : null}
    </div>
  );
}
