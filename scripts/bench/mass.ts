/**
 * `npm run bench:mass`: how fast mass migration is, in figures, not in timed tests.
 *   check    the formal check of 5,000 records (the server's function); target under 150 ms
 *   browser  from the "Formal check" click to the grid painted for 5,000 records; target under 1 s
 *   submit   500 records against a private Dovecot, all logins good: records checked per second,
 *            total time, and the database rows each record creates
 * `npm run bench:mass -- check browser` runs only the parts named.
 */
import { parseArgs } from 'node:util';

const PARTS = {
  check: () => import('./mass/check'),
  browser: () => import('./mass/browser'),
  submit: () => import('./mass/submit'),
} as const;
type Part = keyof typeof PARTS;

const USAGE = `Usage: npm run bench:mass -- [check] [browser] [submit]   (default: all three)`;

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const unknown = positionals.filter((name) => !(name in PARTS));
  if (unknown.length) {
    console.error(`Unknown part: ${unknown.join(', ')}\n${USAGE}`);
    return 2;
  }
  const parts = (positionals.length ? positionals : Object.keys(PARTS)) as Part[];
  let failed = 0;
  for (const part of parts) {
    console.log(`\n== ${part}`);
    try {
      const { run } = await PARTS[part]();
      for (const line of await run()) console.log(`  ${line}`);
    } catch (error) {
      failed++;
      console.error(`  ${part} could not run: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
