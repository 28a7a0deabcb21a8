'use client';

import { useEffect, useState, useSyncExternalStore } from 'react';
import { UNUSED_FREE_KEY } from '@/components/install-key-form';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

interface Decision {
  show: boolean;
  unusedFree: number;
}

const HIDDEN: Decision = { show: false, unusedFree: 0 };
const decisions = new Map<string, Decision>();
const subscribeToNothing = () => () => {};

/** Whether this licence's welcome is still unseen in this browser; asking marks it seen. */
function decide(licenceId: string): Decision {
  let decision = decisions.get(licenceId);
  if (decision) return decision;
  const seenKey = `mailferry:welcome-seen:${licenceId}`;
  try {
    if (window.localStorage.getItem(seenKey)) {
      decision = HIDDEN;
    } else {
      window.localStorage.setItem(seenKey, new Date().toISOString());
      decision = { show: true, unusedFree: Math.max(0, Math.trunc(Number(window.sessionStorage.getItem(UNUSED_FREE_KEY)) || 0)) };
      window.sessionStorage.removeItem(UNUSED_FREE_KEY);
    }
  } catch {
    // Storage switched off: the notice shows on each visit, and can still be closed.
    decision = { show: true, unusedFree: 0 };
  }
  decisions.set(licenceId, decision);
  return decision;
}

/**
 * Shown once, right after the first licence turned the organization commercial: the browser
 * remembers that it was seen (per licence), so a reload or a later visit of the same address
 * does not show it again; and it can be closed. Rendered only in the browser, so a notice
 * already seen never flashes up.
 */
export function WelcomeNotice({ size, licenceId }: { size: number; licenceId: string }) {
  const decision = useSyncExternalStore(subscribeToNothing, () => decide(licenceId), () => HIDDEN);
  const [isClosed, setIsClosed] = useState(false);
  // Leaving the page ends the one view: coming back to the same address shows nothing.
  useEffect(() => () => void decisions.set(licenceId, HIDDEN), [licenceId]);
  if (!decision.show || isClosed) return null;
  const { unusedFree } = decision;
  return (
    <div role="status" data-testid="welcome-notice" className="mb-6 flex items-start gap-3 rounded-xl border border-emerald-200 bg-emerald-50 px-5 py-4 text-sm text-emerald-900">
      <div className="min-w-0 flex-1">
        <p className="font-semibold">Welcome to commercial mode</p>
        <p className="mt-1 text-emerald-800">
          Your licence for {size} migrations is installed. Migration, Mass migration and the lists of active and finished migrations are now
          available in the tabs above.
        </p>
        {unusedFree > 0 ? (
          <p data-testid="free-carry-over" className="mt-1 text-emerald-800">
            Your {plural(unusedFree, 'unused free migration')} did not carry over: you now have the {size} migrations of your licence. Free
            migrations that were already scheduled or running continue.
          </p>
        ) : null}
      </div>
      <button
        type="button"
        onClick={() => setIsClosed(true)}
        aria-label="Close"
        className="-m-1 flex-none rounded-md p-1 text-emerald-700 transition hover:bg-emerald-100 hover:text-emerald-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-emerald-300"
      >
        <svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true" className="h-5 w-5">
          <path d="M6.28 5.22a.75.75 0 0 0-1.06 1.06L8.94 10l-3.72 3.72a.75.75 0 1 0 1.06 1.06L10 11.06l3.72 3.72a.75.75 0 1 0 1.06-1.06L11.06 10l3.72-3.72a.75.75 0 0 0-1.06-1.06L10 8.94 6.28 5.22Z" />
        </svg>
      </button>
    </div>
  );
}
