import type { Quota } from '@/server/licensing/quota';
import { InfoIcon, SparkIcon } from './icons';
import { InstallKeyForm } from './install-key-form';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Free mode's way to commercial mode: install the first licence key. Free migrations are a
 * pool of their own (server/licensing/quota.ts): the unused ones do not carry over, and the
 * card says so before the key is installed.
 */
export function UpgradeCard({ quota }: { quota: Quota }) {
  const unusedFree = quota.mode === 'free' ? quota.remaining : 0;
  return (
    <section aria-labelledby="upgrade-title" className="overflow-hidden rounded-xl border border-brand-100 bg-white shadow-sm">
      <div className="bg-gradient-to-br from-brand-50 to-white px-6 pb-4 pt-6">
        <div className="flex items-center gap-2 text-brand-700">
          <SparkIcon />
          <h2 id="upgrade-title" className="text-base font-semibold text-slate-900">
            Have a licence key?
          </h2>
        </div>
        <p className="mt-2 text-sm text-slate-600">
          Install it to switch to commercial mode: single and mass migrations, lists of active and finished migrations, and as many
          migrations as your licences hold.
        </p>
      </div>
      <div className="border-t border-brand-100/60 px-6 py-5">
        {unusedFree > 0 ? (
          <p data-testid="free-carry-over" className="mb-4 flex gap-2 rounded-md bg-slate-50 px-3 py-2 text-xs text-slate-600 ring-1 ring-slate-200">
            <InfoIcon className="mt-px h-4 w-4 flex-none text-slate-400" />
            <span>
              Your {plural(unusedFree, 'unused free migration')} {unusedFree === 1 ? 'does' : 'do'} not carry over: once a licence is installed, you have the
              migrations of your licences. Free migrations already scheduled or running continue.
            </span>
          </p>
        ) : null}
        <InstallKeyForm unusedFree={unusedFree} />
      </div>
    </section>
  );
}
