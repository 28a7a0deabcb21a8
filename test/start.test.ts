import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function run(script: string, env: Record<string, string>, args: string[] = []) {
  return spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
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
    const help = run('scripts/ferry.ts', {}, ['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: npm run ferry -- <command>');
    expect(help.stdout).toContain('migrate');
    const unknown = run('scripts/ferry.ts', {}, ['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "frobnicate"');
  });
});
