import os from 'node:os';
import path from 'node:path';

const dataDir = path.join(os.tmpdir(), 'mailferry-e2e');

/**
 * The one place the browser tests' server settings live: read by playwright.config.ts (base
 * URL), e2e/server.ts (the environment of `npm start`) and the fixtures (admin, database).
 */
export const e2e = {
  port: 3100,
  pgPort: 54339,
  dataDir,
  adminEmail: 'admin@e2e.mailferry.test',
  adminPassword: 'e2e-admin-password-0001',
  /** The zone customers enter dates in; one with daylight-saving time, as most installations have. */
  timeZone: 'Europe/Berlin',
  /** Written by e2e/server.ts: where the run's private Dovecot listens and its passwd-file. */
  mailServerFile: path.join(dataDir, 'dovecot.json'),
} as const;

export interface E2eMailServer {
  host: string;
  port: number;
  usersFile: string;
}

export const baseURL = `http://localhost:${e2e.port}`;
