/** `npm run ferry -- <command>`: Mailferry's command line. */
import { helpText, parseArgs } from '@/server/cli/commands';
import { commands } from '@/server/cli/registry';
import { EnvError, parseEnv } from '@/server/env';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const out = (line: string) => console.log(line);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(helpText(commands));
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`Unknown command "${name}".\n`);
    out(helpText(commands));
    return 2;
  }
  const { args, options } = parseArgs(rest);
  if (options.help) {
    out(`${command.summary}\n\nUsage: ${command.usage}`);
    return 0;
  }
  return command.run({ env: parseEnv(), args, options, out });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error instanceof EnvError ? error.message : `ferry: ${error.message}`);
    process.exit(1);
  },
);
