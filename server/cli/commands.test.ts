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
  it('lists every command in the help', () => {
    const help = helpText(commands);
    for (const command of commands) expect(help).toContain(command.name);
  });
});
