import { defineConfig, devices } from '@playwright/test';
import { baseURL } from './e2e/env';

/**
 * Browser tests against the real start path (`scripts/start.ts` via e2e/server.ts) on a fresh
 * database under the temp folder. Debian's Chromium is used; Playwright never downloads one.
 */
export default defineConfig({
  testDir: './e2e',
  outputDir: './test-results/artifacts',
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  // Two cores: one browser per core, the server shares them.
  workers: 2,
  reporter: [['list']],
  // Whole flows (sign in, create, sign out, sign in again) on two shared cores take 10–30 s.
  timeout: 60_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    // First, on the still empty database, so the admin's table shows only its realistic data.
    { name: 'screenshots', testMatch: 'screenshots.spec.ts', use: { ...devices['Desktop Chrome'] } },
    { name: 'chromium', testIgnore: 'screenshots.spec.ts', dependencies: ['screenshots'], use: { ...devices['Desktop Chrome'] } },
  ],
  webServer: {
    command: 'node --import tsx e2e/server.ts',
    url: `${baseURL}/login`,
    // A first start runs `next build` (about a minute on two cores).
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 },
  },
});
