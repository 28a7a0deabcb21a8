/** `npm run ferry -- <command>`: Mailferry's command line. */
import { helpText, parseArgs } from '@/server/cli/commands';
import { commands } from '@/server/cli/registry';
import { EnvError, parseEnv } from '@/server/env';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const out = (line: string) => console.log(line);
  const help = async () => helpText(await Promise.all(commands.map((c) => c.load())));
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(await help());
    return name ? 0 : 2;
  }
  const spec = commands.find((c) => c.name === name);
  if (!spec) {
    console.error(`Unknown command "${name}".\n`);
    out(await help());
    return 2;
  }
  const command = await spec.load();
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
