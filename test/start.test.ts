import { spawnSync } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';

function run(script: string, env: Record<string, string>, args: string[] = []) {
  // `npm run ferry` runs scripts/ferry.mjs with plain node; TypeScript entry points need tsx.
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  return spawnSync(process.execPath, [...loader, script, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, NODE_ENV: 'production', ...env },
    timeout: 30_000,
  });
}

describe('start and command line', () => {
  it('stops the start with the name of a bad variable', () => {
    const result = run('scripts/start.ts', { MAILFERRY_PG_PORT: 'abc', NEXTAUTH_SECRET: 'short' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('MAILFERRY_PG_PORT');
    expect(result.stderr).toContain('NEXTAUTH_SECRET: must be at least 32 characters');
  });

  it('prints the ferry help and fails on an unknown command', () => {
    const help = run('scripts/ferry.mjs', {}, ['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: npm run ferry -- <command>');
    expect(help.stdout).toContain('migrate');
    const unknown = run('scripts/ferry.mjs', {}, ['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "frobnicate"');
  });

  it('runs database commands from the command line bundle (migrations folder and database client found)', () => {
    const env = { DATABASE_URL: inject('databaseUrl') };
    const migrate = run('scripts/ferry.mjs', env, ['migrate']);
    expect(migrate.stderr).toBe('');
    expect(migrate.status).toBe(0);
    const missing = run('scripts/ferry.mjs', env, ['set-password', 'nobody-here@example.test']);
    expect(missing.stdout + missing.stderr).toContain('No user with the email nobody-here@example.test.');
  });
});
