'use client';

import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { ACCOUNT_TYPE_LABELS } from '@/components/account-types';
import { useTRPC } from '@/components/trpc-provider';
import type { AccountType } from '@/server/accounts/types';

export interface HostedMailboxChoice {
  id: string;
  email: string;
  username: string;
  server: string;
  type: AccountType;
}

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

/**
 * A search box over the mailboxes hosted on this installation. Picking one hands it to the
 * form, which fills email, username, server and type; the password is never known here.
 * Hidden when the installation hosts no mailboxes.
 */
export function QuickSelection({ side, onPick }: { side: 'source' | 'target'; onPick: (mailbox: HostedMailboxChoice) => void }) {
  const trpc = useTRPC();
  const id = useId();
  const [search, setSearch] = useState('');
  const [isOpen, setIsOpen] = useState(false);
  const [active, setActive] = useState(0);
  const debounced = useDebounced(search.trim(), 200);
  const wrapper = useRef<HTMLDivElement>(null);
  const any = useQuery(trpc.hostedMailboxes.quickSelection.queryOptions({}, { staleTime: 60_000 }));
  const matches = useQuery(
    trpc.hostedMailboxes.quickSelection.queryOptions(debounced ? { search: debounced } : {}, { enabled: isOpen, placeholderData: keepPreviousData, staleTime: 30_000 }),
  );

  useEffect(() => {
    if (!isOpen) return;
    const close = (event: MouseEvent) => {
      if (!wrapper.current?.contains(event.target as Node)) setIsOpen(false);
    };
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, [isOpen]);

  if (!any.data || any.data.length === 0) return null;
  const options = matches.data ?? any.data;

  const pick = (mailbox: HostedMailboxChoice) => {
    onPick(mailbox);
    setSearch('');
    setIsOpen(false);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      setIsOpen(true);
      setActive((i) => (options.length === 0 ? 0 : (i + (event.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length));
    } else if (event.key === 'Enter' && isOpen) {
      event.preventDefault();
      const chosen = options[active];
      if (chosen) pick(chosen);
    } else if (event.key === 'Escape') {
      setIsOpen(false);
    }
  };

  const listId = `${id}-list`;
  return (
    <div ref={wrapper} className="relative">
      <label htmlFor={`${id}-search`} className="mb-1 block text-sm font-medium text-slate-700">
        Quick selection
      </label>
      <div className="relative">
        <svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true" className="pointer-events-none absolute left-3 top-1/2 h-4 w-4 -translate-y-1/2 text-slate-400">
          <path fillRule="evenodd" d="M9 3.5a5.5 5.5 0 1 0 0 11 5.5 5.5 0 0 0 0-11ZM2 9a7 7 0 1 1 12.45 4.39l3.08 3.08a.75.75 0 1 1-1.06 1.06l-3.08-3.08A7 7 0 0 1 2 9Z" clipRule="evenodd" />
        </svg>
        <input
          id={`${id}-search`}
          type="search"
          role="combobox"
          aria-expanded={isOpen}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={isOpen && options[active] ? `${id}-option-${options[active].id}` : undefined}
          autoComplete="off"
          placeholder={`Search mailboxes hosted here`}
          value={search}
          onChange={(event) => {
            setSearch(event.target.value);
            setActive(0);
            setIsOpen(true);
          }}
          onFocus={() => setIsOpen(true)}
          onKeyDown={onKeyDown}
          data-testid={`${side}-quick-selection`}
          className="block w-full rounded-md border border-dashed border-brand-500/50 bg-brand-50/40 py-2 pl-9 pr-3 text-sm outline-none transition placeholder:text-slate-500 focus:border-brand-500 focus:bg-white focus:ring-2 focus:ring-brand-100"
        />
      </div>
      {isOpen ? (
        <ul
          id={listId}
          role="listbox"
          aria-label={`Hosted mailboxes for the ${side}`}
          className="absolute z-20 mt-1 max-h-64 w-full overflow-auto rounded-lg border border-slate-200 bg-white py-1 text-sm shadow-lg"
        >
          {options.length === 0 ? (
            <li className="px-3 py-2 text-slate-500">No hosted mailbox matches “{search.trim()}”.</li>
          ) : (
            options.map((mailbox, index) => (
              <li
                key={mailbox.id}
                id={`${id}-option-${mailbox.id}`}
                role="option"
                aria-selected={index === active}
                onMouseEnter={() => setActive(index)}
                onMouseDown={(event) => event.preventDefault()}
                onClick={() => pick(mailbox)}
                className={`cursor-pointer px-3 py-2 ${index === active ? 'bg-brand-50' : ''}`}
              >
                <span className="block truncate font-medium text-slate-900">{mailbox.email}</span>
                <span className="block truncate text-xs text-slate-500">
                  {ACCOUNT_TYPE_LABELS[mailbox.type]} · {mailbox.server || 'default server'}
                </span>
              </li>
            ))
          )}
        </ul>
      ) : null}
    </div>
  );
}
