/**
 * `npm test`: type check, lint, unit and integration tests (real PostgreSQL, Dovecot, Cyrus,
 * Courier, Radicale), then the browser tests (real Chromium). Ends with one "N passed, N failed" line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync } from 'node:fs';

const results: { name: string; passed: number; failed: number; skipped: number; ok: boolean }[] = [];

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...env } });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** Debian packages the tests run for real; installed when missing and we are root. */
function ensurePackages(): void {
  const wanted = [
    { pkg: 'dovecot-imapd', binary: '/usr/sbin/dovecot' },
    { pkg: 'radicale', binary: '/usr/bin/radicale' },
    { pkg: 'chromium', binary: '/usr/bin/chromium' },
    { pkg: 'openssl', binary: '/usr/bin/openssl' },
  ].filter((p) => !existsSync(p.binary));
  if (wanted.length > 0) installPackages(wanted);
  // Cyrus and Courier IMAP cannot be apt-installed beside Dovecot; this unpacks them (see
  // test/helpers/imap-packages.ts) and prints the commands to run when that needs root.
  const servers = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/test-servers.ts'], { stdio: 'inherit' });
  if (servers.status !== 0) process.exit(1);
}

function installPackages(wanted: { pkg: string; binary: string }[]): void {
  const names = wanted.map((p) => p.pkg).join(' ');
  if (process.getuid?.() !== 0) {
    console.error(`The tests need these Debian packages: ${names}\nInstall them with: sudo apt-get install -y ${names}`);
    process.exit(1);
  }
  console.log(`Installing ${names} ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = spawnSync('apt-get', ['install', '-y', '-qq', ...wanted.map((p) => p.pkg)], { stdio: 'inherit', env });
  if (install.status !== 0) process.exit(1);
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  ensurePackages();
  mkdirSync('test-results', { recursive: true });

  for (const [name, args] of [
    ['typecheck', ['node_modules/typescript/bin/tsc', '--noEmit']],
    ['lint', ['node_modules/eslint/bin/eslint.js', '--max-warnings', '0', '.']],
  ] as const) {
    console.log(`\n▶ ${name}`);
    const code = await run(process.execPath, [...args]);
    results.push({ name, passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0, ok: code === 0 });
  }

  console.log('\n▶ unit and integration tests');
  const vitestCode = await run(process.execPath, [
    'node_modules/vitest/vitest.mjs',
    'run',
    '--reporter=default',
    '--reporter=json',
    '--outputFile.json=test-results/vitest.json',
  ]);
  const vitest = readJson<{ numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number }>('test-results/vitest.json');
  results.push({
    name: 'unit and integration',
    passed: vitest?.numPassedTests ?? 0,
    failed: vitest ? vitest.numFailedTests : 1,
    skipped: (vitest?.numPendingTests ?? 0) + (vitest?.numTodoTests ?? 0),
    ok: vitestCode === 0,
  });

  console.log('\n▶ browser tests');
  const playwrightCode = await run(process.execPath, ['node_modules/@playwright/test/cli.js', 'test', '--reporter=list,json'], {
    PLAYWRIGHT_JSON_OUTPUT_NAME: 'test-results/playwright.json',
  });
  const playwright = readJson<{ stats: { expected: number; unexpected: number; flaky: number; skipped: number } }>('test-results/playwright.json');
  results.push({
    name: 'browser',
    passed: (playwright?.stats.expected ?? 0) + (playwright?.stats.flaky ?? 0),
    failed: playwright ? playwright.stats.unexpected : 1,
    skipped: playwright?.stats.skipped ?? 0,
    ok: playwrightCode === 0,
  });

  console.log('\nSummary');
  for (const r of results) {
    console.log(`  ${r.ok ? '✓' : '✗'} ${r.name.padEnd(22)} ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`);
  }
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const skipped = results.reduce((n, r) => n + r.skipped, 0);
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}

void main();
