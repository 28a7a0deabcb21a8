import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code (server/**/*.test.ts); integration tests that need real
// servers live in test/. The global setup starts a private PostgreSQL for the whole run.
export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  test: {
    include: ['server/**/*.test.ts', 'scripts/**/*.test.ts', 'workers/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A throw-away sealing key: tests never touch the data folder's key file. Retention off: the
    // maintenance job one file runs must not remove the details other files seed.
    env: { MAILFERRY_LOG_LEVEL: 'warn', MAILFERRY_RETENTION_DAYS: '0', MAILFERRY_SEALING_KEYS: `test:${randomBytes(32).toString('base64')}` },
  },
});
