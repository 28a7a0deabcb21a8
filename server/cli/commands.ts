import type { Env } from '../env';

export interface CommandContext {
  env: Env;
  args: string[];
  options: Record<string, string | true>;
  out: (line: string) => void;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(context: CommandContext): Promise<number>;
}

/** Splits `--key value`, `--key=value` and `--flag` from positional arguments. */
export function parseArgs(argv: string[]): { args: string[]; options: Record<string, string | true> } {
  const args: string[] = [];
  const options: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const item = argv[i]!;
    if (item === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (item.startsWith('--')) {
      const [key, inline] = item.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      const next = argv[i + 1];
      if (inline !== undefined) options[key] = inline;
      else if (next !== undefined && !next.startsWith('--') && key !== 'help') {
        options[key] = next;
        i++;
      } else options[key] = true;
    } else if (item === '-h') options.help = true;
    else args.push(item);
  }
  return { args, options };
}

export function helpText(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Mailferry command line',
    '',
    'Usage: npm run ferry -- <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `npm run ferry -- <command> --help` for a command\'s options.',
  ].join('\n');
}
