export function Logo({ className = '' }: { className?: string }) {
  return (
    <span className={`inline-flex items-center gap-2 font-semibold tracking-tight text-slate-900 ${className}`}>
      <svg viewBox="0 0 32 32" className="h-7 w-7" aria-hidden="true">
        <rect width="32" height="32" rx="8" className="fill-brand-600" />
        <path d="M7 11.5 16 17l9-5.5" className="fill-none stroke-white" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" />
        <rect x="7" y="9" width="18" height="12" rx="2" className="fill-none stroke-white" strokeWidth="2" />
        <path d="M5 25c2 0 2-1.5 4-1.5s2 1.5 4 1.5 2-1.5 4-1.5 2 1.5 4 1.5 2-1.5 4-1.5 2 1.5 2 1.5" className="fill-none stroke-brand-100" strokeWidth="1.6" strokeLinecap="round" />
      </svg>
      <span className="text-lg">Mailferry</span>
    </span>
  );
}
