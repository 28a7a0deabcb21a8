import { SparkIcon } from './icons';
import { InstallKeyForm } from './install-key-form';

/** Free mode's way to commercial mode: install the first licence key. */
export function UpgradeCard() {
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
        <InstallKeyForm />
      </div>
    </section>
  );
}
