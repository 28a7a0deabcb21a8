import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { TRPCReactProvider } from '@/components/trpc-provider';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'Mailferry', template: '%s · Mailferry' },
  description: 'Move email accounts between servers: every message, folder and flag, exactly once.',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen bg-slate-50 font-sans text-slate-900 antialiased">
        <TRPCReactProvider>{children}</TRPCReactProvider>
      </body>
    </html>
  );
}
