import { describe, expect, it } from 'vitest';
import { EnvError, parseEnv } from './env';

function problemsOf(source: Record<string, string>): string[] {
  try {
    parseEnv(source);
    return [];
  } catch (error) {
    if (!(error instanceof EnvError)) throw error;
    return error.problems.map((p) => p.name);
  }
}

describe('environment', () => {
  it('has working defaults for a fresh machine', () => {
    const env = parseEnv({});
    expect(env).toMatchObject({ PORT: 3000, MAILFERRY_HOST: '0.0.0.0', MAILFERRY_PG_PORT: 54329, MAILFERRY_WORKER_CONCURRENCY: 4 });
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it('names each bad variable', () => {
    expect(problemsOf({ PORT: 'eighty' })).toEqual(['PORT']);
    expect(problemsOf({ DATABASE_URL: 'mysql://x' })).toEqual(['DATABASE_URL']);
    expect(problemsOf({ NEXTAUTH_SECRET: 'short' })).toEqual(['NEXTAUTH_SECRET']);
    expect(problemsOf({ MAILFERRY_ADMIN_EMAIL: 'admin@example.com' })).toEqual(['MAILFERRY_ADMIN_PASSWORD']);
    expect(problemsOf({ MAILFERRY_ADMIN_EMAIL: 'nope', MAILFERRY_ADMIN_PASSWORD: 'long enough password' })).toEqual(['MAILFERRY_ADMIN_EMAIL']);
    expect(problemsOf({ MAILFERRY_PG_PORT: '70000', MAILFERRY_WORKER_CONCURRENCY: '0' }).sort()).toEqual(['MAILFERRY_PG_PORT', 'MAILFERRY_WORKER_CONCURRENCY']);
    expect(problemsOf({ MAILFERRY_TIMEZONE: 'Mars/Olympus' })).toEqual(['MAILFERRY_TIMEZONE']);
  });

  it('reads numbers, choices and URLs, trimmed', () => {
    const env = parseEnv({ PORT: ' 8080 ', MAILFERRY_LOG_LEVEL: 'debug', NEXTAUTH_URL: 'https://mail.example.com', MAILFERRY_HOST: ' 127.0.0.1 ' });
    expect(env).toMatchObject({ PORT: 8080, MAILFERRY_LOG_LEVEL: 'debug', NEXTAUTH_URL: 'https://mail.example.com', MAILFERRY_HOST: '127.0.0.1' });
    expect(problemsOf({ PORT: '80.5', MAILFERRY_LOG_LEVEL: 'loud', NEXTAUTH_URL: 'localhost:3000', MAILFERRY_JOB_TIME_BUDGET_SECONDS: '5' }).sort()).toEqual([
      'MAILFERRY_JOB_TIME_BUDGET_SECONDS',
      'MAILFERRY_LOG_LEVEL',
      'NEXTAUTH_URL',
      'PORT',
    ]);
  });

  it('treats empty values as unset', () => {
    expect(parseEnv({ PORT: '', MAILFERRY_LOG_LEVEL: ' ' })).toMatchObject({ PORT: 3000, MAILFERRY_LOG_LEVEL: 'info' });
    expect(parseEnv({ DATABASE_URL: '', MAILFERRY_ADMIN_EMAIL: ' ', MAILFERRY_ADMIN_PASSWORD: '' }).DATABASE_URL).toBeUndefined();
  });

  it('reads the SMTP server and sender, and names what is wrong without repeating the password', () => {
    const env = parseEnv({ MAILFERRY_SMTP_URL: 'smtps://mailer%40example.com:p%40ss@smtp.example.com:465', MAILFERRY_MAIL_FROM: 'Mailferry <mailferry@example.com>' });
    expect(env).toMatchObject({ MAILFERRY_SMTP_URL: 'smtps://mailer%40example.com:p%40ss@smtp.example.com:465', MAILFERRY_MAIL_FROM: 'Mailferry <mailferry@example.com>' });
    expect(parseEnv({}).MAILFERRY_SMTP_URL).toBeUndefined();
    const from = { MAILFERRY_MAIL_FROM: 'mailferry@example.com' };
    expect(problemsOf({ ...from, MAILFERRY_SMTP_URL: 'http://smtp.example.com' })).toEqual(['MAILFERRY_SMTP_URL']);
    expect(problemsOf({ ...from, MAILFERRY_SMTP_URL: 'smtp://user@smtp.example.com' })).toEqual(['MAILFERRY_SMTP_URL']);
    expect(problemsOf({ ...from, MAILFERRY_SMTP_URL: 'smtp://user:pw@smtp.example.com/path' })).toEqual(['MAILFERRY_SMTP_URL']);
    expect(problemsOf({ MAILFERRY_SMTP_URL: 'smtp://user:pw@smtp.example.com', MAILFERRY_MAIL_FROM: 'not an address' })).toEqual(['MAILFERRY_MAIL_FROM']);
    // Both or neither.
    expect(problemsOf({ MAILFERRY_SMTP_URL: 'smtp://user:pw@smtp.example.com' })).toEqual(['MAILFERRY_MAIL_FROM']);
    expect(problemsOf(from)).toEqual(['MAILFERRY_SMTP_URL']);
    try {
      parseEnv({ ...from, MAILFERRY_SMTP_URL: 'smtpx://user:Hunter2secret@smtp.example.com' });
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).toContain('MAILFERRY_SMTP_URL: must start with smtp:// or smtps://');
      expect(String((error as Error).message)).not.toContain('Hunter2secret');
    }
  });

  it('beats every 15 seconds unless MAILFERRY_WORKER_HEARTBEAT_SECONDS says otherwise, from 1 to 300', () => {
    expect(parseEnv({}).MAILFERRY_WORKER_HEARTBEAT_SECONDS).toBe(15);
    expect(parseEnv({ MAILFERRY_WORKER_HEARTBEAT_SECONDS: ' 2 ' }).MAILFERRY_WORKER_HEARTBEAT_SECONDS).toBe(2);
    expect(parseEnv({ MAILFERRY_WORKER_HEARTBEAT_SECONDS: '300' }).MAILFERRY_WORKER_HEARTBEAT_SECONDS).toBe(300);
    for (const bad of ['0', '301', '1.5', 'often']) expect(problemsOf({ MAILFERRY_WORKER_HEARTBEAT_SECONDS: bad })).toEqual(['MAILFERRY_WORKER_HEARTBEAT_SECONDS']);
    try {
      parseEnv({ MAILFERRY_WORKER_HEARTBEAT_SECONDS: '0' });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toContain('MAILFERRY_WORKER_HEARTBEAT_SECONDS: must be a whole number from 1 to 300');
    }
  });
});
