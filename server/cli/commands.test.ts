import { describe, expect, it } from 'vitest';
import { helpText, parseArgs } from './commands';
import { commands } from './registry';

describe('command line', () => {
  it('separates options from arguments', () => {
    expect(parseArgs(['check', 'imaps://h', '--type', 'zimbra', '--password-file=/tmp/p', '--verbose', '--', '--literal'])).toEqual({
      args: ['check', 'imaps://h', '--literal'],
      options: { type: 'zimbra', 'password-file': '/tmp/p', verbose: true },
    });
    expect(parseArgs(['-h']).options.help).toBe(true);
  });
  it('lists every command in the help', async () => {
    const loaded = await Promise.all(commands.map((c) => c.load()));
    expect(loaded.map((c) => c.name)).toEqual(commands.map((c) => c.name));
    const help = helpText(loaded);
    for (const command of commands) expect(help).toContain(command.name);
  });
});
