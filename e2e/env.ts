import os from 'node:os';
import path from 'node:path';

/**
 * The one place the browser tests' server settings live: read by playwright.config.ts (base
 * URL), e2e/server.ts (the environment of `npm start`) and the fixtures (admin, database).
 */
export const e2e = {
  port: 3100,
  pgPort: 54339,
  dataDir: path.join(os.tmpdir(), 'mailferry-e2e'),
  adminEmail: 'admin@e2e.mailferry.test',
  adminPassword: 'e2e-admin-password-0001',
} as const;

export const baseURL = `http://localhost:${e2e.port}`;
